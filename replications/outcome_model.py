"""The hazard model of each simulated endpoint, as the study folder declares it.

``results.json`` carries it per study (``outcome_models``: one ``{"cohort", "endpoint",
"hazards"}`` per time-to-event endpoint, ``hazards`` as ``cohort.toml`` spells it), so
the HTML report, which renders from a results folder alone, states the assumption each
study's verdicts rest on instead of one sentence for every study.
"""
from __future__ import annotations

__all__ = ["outcome_models", "outcome_model_sentence"]

_LABEL = {"os": "OS", "pfs": "PFS", "ttp": "TTP"}
_WORDS = {
    "proportional": "proportional hazards (one treatment HR at all times) with a "
                    "piecewise-exponential baseline",
    "arm_specific": "arm-specific hazards (each arm its own piecewise-exponential hazard, so "
                    "the treatment HR changes between the knot intervals: not proportional)",
}
_EFFECTS = ("covariate effects are those the study folder declares (cohort.toml), with their "
            "stated reasons.")


def outcome_models(spec) -> list[dict]:
    """One ``{"cohort", "endpoint", "hazards"}`` per simulated time-to-event endpoint of a
    :class:`~simulate.study.StudySpec`; TTP is the progression time of the PFS model, so it
    has PFS's hazards."""
    out = []
    for name, c in spec.cohorts.items():
        for key, ep in (("os", c.os), ("pfs", c.pfs),
                        ("ttp", c.pfs if c.ttp is not None else None)):
            if ep is not None:
                out.append({"cohort": name, "endpoint": key, "hazards": ep.hazards})
    return out


def outcome_model_sentence(models) -> str:
    """The assumption sentence of a study's outcome model (``outcome_models`` of its JSON
    form): one wording when every endpoint shares its hazards, else one per group of
    endpoints. Without the entry (a results folder written before it existed) the
    sentence points to cohort.toml instead of naming a model."""
    if not models:
        return ("Outcomes follow the hazard model the study folder declares (cohort.toml: "
                "proportional or arm-specific, each with a piecewise-exponential baseline); "
                + _EFFECTS)
    kinds = list(dict.fromkeys(m["hazards"] for m in models))
    if len(kinds) == 1:
        return f"Outcomes follow {_WORDS.get(kinds[0], kinds[0])}; {_EFFECTS}"
    several = len({m["cohort"] for m in models}) > 1

    def label(m):
        name = _LABEL.get(m["endpoint"], m["endpoint"])
        return f"{name} ({m['cohort']})" if several else name
    parts = []
    for k in kinds:
        names = [label(m) for m in models if m["hazards"] == k]
        verb = "follows" if len(names) == 1 else "follow"
        parts.append(f"{', '.join(names)} {verb} {_WORDS.get(k, k)}")
    return "; ".join(parts) + "; " + _EFFECTS
