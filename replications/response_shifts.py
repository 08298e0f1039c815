"""Response shifts the generator makes ~0 by construction: labelled, not judged.

Without ``response.effects`` in cohort.toml, simulated tumour response is independent of
every covariate given the arm (simulate's ``OutcomePlan.response_dependence``), so no
covariate adjustment moves a response odds ratio or rate: the simulated crude -> adjusted
shift is ~0 whatever the paper did, and "not reproduced" would be a property of the
generator, not a finding about the paper. Such a shift is :data:`UNINFORMATIVE`; the
summaries count it apart from the judged shifts.
"""
from __future__ import annotations

from dataclasses import replace

__all__ = ["UNINFORMATIVE", "UNINFORMATIVE_REASON", "label_uninformative"]

UNINFORMATIVE = "uninformative"
UNINFORMATIVE_REASON = "response independent of covariates by assumption"


def _covariate_free_response(study, s, cohort_of: dict, dependence: dict) -> bool:
    """Both ends of ``s`` are response quantities (odds ratio, rate, count of a response
    endpoint of ``[response]``) on response columns that depend on no covariate."""
    spec = {t.id: t for t in study.targets.targets}
    for end in (s.from_, s.to):
        t = spec.get(end)
        ep = study.plan.response.get((t.endpoint or "").split(":")[0]) if t is not None else None
        if ep is None or dependence.get(cohort_of.get(t.analysis), {}).get(ep.column, True):
            return False
    return True


def label_uninformative(study, shifts: list, dependence: dict | None) -> list:
    """``shifts`` (summaries' ShiftResult) with the covariate-free response ones labelled.

    Parameters
    ----------
    study : replications.study.Study
        The study (its targets, and the response endpoints of its analysis plan).
    shifts : list of ShiftResult
        The judged shifts.
    dependence : dict or None
        Cohort name -> {response column: depends on covariates}; ``None`` (a generator
        that does not say) labels nothing.

    Returns
    -------
    list of ShiftResult
        The same shifts; the uninformative ones with verdict :data:`UNINFORMATIVE`, the
        reason, no borderline flag, and their simulated numbers kept for the record.
    """
    if dependence is None:
        return shifts
    cohort_of = {a.name: a.cohort for a in study.plan.analyses}
    return [replace(s, verdict=UNINFORMATIVE, borderline=False, reason=UNINFORMATIVE_REASON)
            if _covariate_free_response(study, s, cohort_of, dependence) else s for s in shifts]
