"""Synthetic cohorts matching published baseline tables, with known true effects."""
