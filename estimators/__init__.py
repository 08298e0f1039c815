"""Estimators used by TACE observational studies, in numpy/scipy, verified against R."""
