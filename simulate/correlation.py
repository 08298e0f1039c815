"""Latent (Gaussian-copula) correlation: clinical defaults, explicit pairs, PD checks.

The correlation acts on the standard-normal latents of the variables (for a binary or
categorical variable a higher latent means a later level). ``default = "clinical"``
fills unlisted pairs from :data:`CLINICAL_PAIRS` by matching variable names to clinical
concepts (:data:`CONCEPTS`); ``"independent"`` leaves them 0. Pairs given in the spec
override the default.

In the ``arm_marginals`` assignment the exact propensity score needs the discrete
variables (binary, categorical, count) to be conditionally independent given the
continuous latents; their mutual correlations are then *implied*,
``R_DD = R_DC R_CC^-1 R_CD`` off the diagonal, and explicit pairs between two discrete
variables are rejected (link them through a continuous variable, or use
``assignment = "logistic"``, which takes any matrix).

A matrix that is not positive definite is an error, never silently repaired; the
message shows the pairs of :func:`nearest_pd` (Higham 2002) to paste into the spec.
"""
from __future__ import annotations

import re

import numpy as np

from .spec import SpecError

#: clinical concept -> regular expression on snake_case variable names
CONCEPTS: dict[str, str] = {
    "albi": r"albi",
    "albumin": r"(^|_)alb(umin)?($|_)",
    "bilirubin": r"bili|tbil",
    "inr": r"(^|_)inr($|_)|prothrombin",
    "platelets": r"platelet|(^|_)plt($|_)",
    "ast": r"(^|_)ast($|_)|aspartate",
    "alt": r"(^|_)alt($|_)|alanine",
    "afp": r"afp|fetoprotein",
    "tumor_size": r"size|diameter|largest",
    "tumor_number": r"nodule|tumou?r_number|multiple|n_tumou?rs",
    "vascular": r"pvtt|mvi|macrovascular|vascular|portal_vein",
    "metastasis": r"ehs|extrahepatic|metasta",
    "child_pugh": r"child",
    "ascites": r"ascites",
    "cirrhosis": r"cirrho",
    "portal_hypertension": r"portal_hyper|hypertension_portal",
    "ecog": r"ecog|performance",
    "hbv": r"hbv|hbsag|hepatitis_b",
    "hcv": r"hcv|hepatitis_c",
    "smoking": r"smok",
    "drinking": r"drink|alcohol",
    "male": r"(^|_)male($|_)|(^|_)sex($|_)|gender",
    "age": r"(^|_)age($|_)",
    "hemoglobin": r"hgb|hemoglobin|haemoglobin",
}

#: latent correlations between clinical concepts (moderate, sign as in HCC cohorts)
CLINICAL_PAIRS: tuple[tuple[str, str, float], ...] = (
    ("tumor_size", "tumor_number", 0.2), ("tumor_size", "afp", 0.3), ("tumor_size", "vascular", 0.3),
    ("afp", "vascular", 0.3), ("tumor_number", "vascular", 0.15), ("tumor_size", "ast", 0.3),
    ("ast", "alt", 0.6), ("afp", "ast", 0.2), ("vascular", "metastasis", 0.15),
    ("albumin", "bilirubin", -0.3), ("albumin", "inr", -0.3), ("bilirubin", "inr", 0.3),
    ("albumin", "platelets", 0.15), ("bilirubin", "ast", 0.2), ("albumin", "hemoglobin", 0.3),
    ("albumin", "child_pugh", -0.5), ("bilirubin", "child_pugh", 0.5), ("inr", "child_pugh", 0.3),
    ("albumin", "albi", -0.6), ("bilirubin", "albi", 0.5), ("albi", "child_pugh", 0.5),
    ("albumin", "ascites", -0.4), ("ascites", "child_pugh", 0.5), ("ascites", "albi", 0.4),
    ("cirrhosis", "portal_hypertension", 0.5), ("cirrhosis", "platelets", -0.3),
    ("portal_hypertension", "platelets", -0.4), ("cirrhosis", "child_pugh", 0.3),
    ("ecog", "tumor_size", 0.15), ("ecog", "vascular", 0.15), ("ecog", "age", 0.1),
    ("hbv", "hcv", -0.3), ("smoking", "drinking", 0.4), ("male", "smoking", 0.3),
    ("male", "drinking", 0.3), ("hbv", "age", -0.2), ("afp", "hbv", 0.1),
)


def concept_of(name: str) -> str | None:
    for concept, pattern in CONCEPTS.items():
        if re.search(pattern, name):
            return concept
    return None


def clinical_default(names: list[str]) -> dict[tuple[int, int], float]:
    """Default latent correlations between the named variables (index pairs)."""
    concepts = [concept_of(n) for n in names]
    table = {}
    for a, b, r in CLINICAL_PAIRS:
        table[(a, b)] = table[(b, a)] = r
    out = {}
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = table.get((concepts[i], concepts[j]))
            if r is not None and concepts[i] != concepts[j]:
                out[(i, j)] = r
    return out


def nearest_pd(matrix: np.ndarray, *, min_eig: float = 1e-6, max_iter: int = 200) -> np.ndarray:
    """Nearest correlation matrix with eigenvalues >= ``min_eig`` (Higham 2002).

    Alternating projections with Dykstra's correction onto the positive semidefinite
    cone and the unit-diagonal set, then an eigenvalue floor.
    """
    a = np.asarray(matrix, float)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix: must be square, got shape {a.shape}")
    y = (a + a.T) / 2
    ds = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(r)
        x = (v * np.maximum(w, min_eig)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.linalg.norm(y_new - y) < 1e-12:
            y = y_new
            break
        y = y_new
    w, v = np.linalg.eigh(y)
    y = (v * np.maximum(w, min_eig)) @ v.T
    d = np.sqrt(np.diag(y))
    y = y / np.outer(d, d)
    return (y + y.T) / 2


def is_pd(matrix: np.ndarray, tol: float = 1e-8) -> bool:
    return bool(np.linalg.eigvalsh(matrix).min() > tol)


def _pd_error(r: np.ndarray, names: list[str], key: str) -> SpecError:
    fixed = nearest_pd(r)
    changes = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(fixed[i, j] - r[i, j]) > 0.005:
                changes.append(f'["{names[i]}", "{names[j]}", {fixed[i, j]:.3f}]')
    eig = float(np.linalg.eigvalsh(r).min())
    return SpecError(key, f"the latent correlation matrix is not positive definite (smallest eigenvalue "
                     f"{eig:.3g}); simulate.nearest_pd gives the nearest valid matrix, i.e. the pairs "
                     f"{', '.join(changes[:12]) or '(tiny changes only)'}; put them in correlation.pairs "
                     f"to accept them")


def build_correlation(names: list[str], discrete: list[bool], default: str,
                      pairs: tuple[tuple[str, str, float], ...], *, conditional_discrete: bool,
                      key: str = "correlation") -> np.ndarray:
    """The latent correlation matrix for ``names`` (validated, never repaired).

    ``conditional_discrete`` imposes conditional independence of the discrete
    variables given the continuous ones (``arm_marginals`` assignment).
    """
    p = len(names)
    r = np.eye(p)
    index = {n: i for i, n in enumerate(names)}
    if default == "clinical":
        for (i, j), v in clinical_default(names).items():
            if conditional_discrete and discrete[i] and discrete[j]:
                continue
            r[i, j] = r[j, i] = v
    for k, (a, b, v) in enumerate(pairs):
        i, j = index[a], index[b]
        if conditional_discrete and discrete[i] and discrete[j]:
            raise SpecError(f"{key}.pairs[{k}]", f"[{a!r}, {b!r}, {v}] links two discrete variables; with "
                            "assignment = 'arm_marginals' discrete variables are associated only through "
                            "continuous ones (exact propensity); link them via a continuous variable or use "
                            "assignment = 'logistic'")
        r[i, j] = r[j, i] = v
    if not conditional_discrete:
        if not is_pd(r):
            raise _pd_error(r, names, key)
        return r
    c = [i for i in range(p) if not discrete[i]]
    d = [i for i in range(p) if discrete[i]]
    if c and d:
        rcc = r[np.ix_(c, c)]
        if not is_pd(rcc):
            raise _pd_error(r, names, key)
        b = r[np.ix_(d, c)] @ np.linalg.inv(rcc)
        implied = b @ r[np.ix_(c, d)]
        rdd = implied.copy()
        np.fill_diagonal(rdd, 1.0)
        r[np.ix_(d, d)] = rdd
    if not is_pd(r):
        raise _pd_error(r, names, key)
    return r
