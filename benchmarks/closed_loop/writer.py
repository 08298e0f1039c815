"""Write a :class:`~.paper.Paper` as a study folder, the way a user transcribes a paper.

``paper.txt`` is the paper's text (Methods, Table 1, results, Cox tables, response table);
``cohort.toml`` is built from the printed Table 1 and printed calibration numbers only
(per-arm n, means and SDs, counts, the crude medians, the number of deaths, the
multivariable HRs as covariate effects, the response table, the design of the Methods);
``targets.toml`` holds every printed number with its role as the shipped studies use them
(crude medians and deaths: calibration; everything else simulated: predicted) and a
verbatim quote of ``paper.txt``; ``analysis.toml`` the analyses of the Methods.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from . import toml_out as T
from .paper import TERMS, Number, Paper
from .world import OS_KNOTS, PFS_KNOTS, RESPONSE_LEVELS

__all__ = ["LABELS", "render", "write_study", "sentences"]

#: covariate -> its Table 1 / Cox table label
LABELS = {"age": "Age, years", "male": "Male", "tumor_size": "Tumor size, cm",
          "multiple": "Multiple tumors", "child_pugh": "Child-Pugh class B", "pvtt": "PVTT"}
_PER = {"age": "Age, per year", "tumor_size": "Tumor size, per cm"}


def _ci(n: Number) -> str:
    return f"{n.text(n.ci[0])}-{n.text(n.ci[1])}"


def _cell(n: Number) -> str:
    return f"{n.text()} ({_ci(n)})"


def _pct(n: Number) -> str:
    return f"{n.text()}%" + (f" ({n.count}/{n.denominator})" if n.count is not None else "")


def sentences(paper: Paper) -> dict[str, str]:
    """Number id -> the sentence or table row of ``paper.txt`` that prints it."""
    c, t = paper.arms
    num = {n.id: n for n in paper.numbers}
    out: dict[str, str] = {}
    for ep, name in (("os", "overall survival"), ("pfs", "progression-free survival")):
        m0, m1, hr = num[f"{ep}_median_tace_crude"], num[f"{ep}_median_tace_s_crude"], \
            num[f"{ep}_hr_crude"]
        s = (f"Median {name} was {m0.text()} months with {c} and {m1.text()} months with {t} "
             f"(HR {_cell(hr).replace(' (', ', 95% CI ').rstrip(')')}).")
        out |= {m0.id: s, m1.id: s, hr.id: s}
    for at in (12, 24):
        ids = [i for i in (f"os_rate{at}m_tace_crude", f"os_rate{at}m_tace_s_crude") if i in num]
        if ids:
            s = (f"The {at}-month overall survival rates were "
                 + " and ".join(f"{_pct(num[i])} with {num[i].arm}" for i in ids) + ".")
            out |= {i: s for i in ids}
    out["os_count_crude"] = f"During follow-up, {paper.deaths} patients died."
    for n in paper.numbers:
        if n.analysis == "univariable":
            var = n.id[len("os_hr_"):-len("_univariable")]
            out[n.id] = f"Univariable\t{_PER.get(var, LABELS[var])}\t{_cell(n)}"
        elif n.analysis == "multivariable":
            var = n.id[len("os_hr_"):-len("_multivariable")]
            label = f"Treatment ({t} vs {c})" if n.contrast else _PER.get(var, LABELS[var])
            out[n.id] = f"Multivariable\t{label}\t{_cell(n)}"
    iptw = [i for i in ("os_median_tace_iptw", "os_median_tace_s_iptw") if i in num]
    s = (f"After stabilized IPTW the weighted group sizes were {num['n_tace_iptw'].text()} and "
         f"{num['n_tace_s_iptw'].text()}"
         + ("" if not iptw else ", the weighted median overall survival was "
            + " and ".join(f"{num[i].text()} months with {num[i].arm}" for i in iptw))
         + f", and the HR was {num['os_hr_iptw'].text()} (95% CI {_ci(num['os_hr_iptw'])}).")
    out |= {i: s for i in ("n_tace_iptw", "n_tace_s_iptw", "os_hr_iptw", *iptw)}
    o = num["orr_or_imaging"]
    s = (f"Among patients with a response assessment, the objective response rate was "
         f"{_pct(num['orr_tace_imaging'])} with {c} and {_pct(num['orr_tace_s_imaging'])} with "
         f"{t} (OR {o.text()}, 95% CI {_ci(o)}).")
    out |= {i: s for i in ("orr_tace_imaging", "orr_tace_s_imaging", o.id)}
    s = (f"The disease control rate was {_pct(num['dcr_tace_imaging'])} with {c} and "
         f"{_pct(num['dcr_tace_s_imaging'])} with {t}.")
    out |= {"dcr_tace_imaging": s, "dcr_tace_s_imaging": s}
    return out


def _table1_lines(paper: Paper) -> dict[str, str]:
    lines = {}
    for row in paper.table1:
        if row.kind == "mean_sd":
            cells = [f"{m:.1f} ± {s:.1f}" for m, s in row.cells]
            lines[row.variable] = f"{LABELS[row.variable]}, mean ± SD\t" + "\t".join(cells)
        else:
            cells = [f"{k} ({p:.1f})" for k, p in row.cells]
            lines[row.variable] = f"{LABELS[row.variable]}, n (%)\t" + "\t".join(cells)
    return lines


def _response_lines(paper: Paper) -> list[str]:
    return [f"{lev}\t{a}\t{b}" for lev, a, b in zip(RESPONSE_LEVELS, *paper.response_counts)]


def _methods(paper: Paper) -> str:
    return (f"Methods. Patients were enrolled over {paper.accrual:g} months and followed for at "
            f"least {paper.follow_up:g} months after the last enrolment. Tumour response was "
            "assessed by mRECIST at 3 months. Factors with univariable p < 0.05 entered the "
            "multivariable Cox model. Stabilized inverse probability of treatment weights "
            "(ATE) came from a logistic model of age, sex, tumor size, multiple tumors, "
            "Child-Pugh class and PVTT.")


def render(paper: Paper, study_id: str) -> str:
    """``paper.txt``: the text every ``source`` quotes."""
    c, t = paper.arms
    said = sentences(paper)
    results = list(dict.fromkeys(s for i, s in said.items()
                                 if "\t" not in s))
    cox = list(dict.fromkeys(s for s in said.values() if "\t" in s))
    return "\n".join([
        f"{study_id}: a synthetic paper generated by the tacebench closed loop (not a real study).",
        "", _methods(paper), "",
        f"Table 1. Baseline characteristics\nCharacteristic\t{c} (n = {paper.n[0]})\t"
        f"{t} (n = {paper.n[1]})", *_table1_lines(paper).values(), "",
        "Results.", *results, "",
        "Table 2. Cox regression of overall survival (HR, 95% CI)", *cox, "",
        f"Table 3. Best response (mRECIST)\tResponse\t{c}\t{t}", *_response_lines(paper), "",
    ])


def _target(n: Number, source: str, role: str) -> dict:
    d = {"id": n.id, "analysis": n.analysis, "quantity": n.quantity, "endpoint": n.endpoint,
         "arm": n.arm, "term": n.term, "time": n.time}
    if n.contrast:
        d["contrast"] = ["TACE-S", "TACE"]
    d["percent" if n.percent else "value"] = n.value
    if n.quantity == "weighted_group_size" or n.quantity == "count":
        d["value"] = n.value if n.quantity != "count" else int(n.value)
    if n.ci is not None:
        d["ci"] = list(n.ci)
    if n.count is not None:
        d |= {"count": n.count, "denominator": n.denominator}
    d |= {"role": role, "where": "table 2" if "\t" in source else "text", "source": source}
    return d


#: The printed numbers the transcribed cohort.toml is fitted to: the crude medians, the
#: deaths, and the response rates among the assessed and their unadjusted odds ratio
#: (their counts are the response table cohort.toml transcribes: fitted by construction,
#: not predicted; ``tacebench check`` refuses them as predicted,
#: replications.response_inputs). The multivariable covariate HRs are inputs too
#: (:func:`_role`).
CALIBRATION = ("os_median_tace_crude", "os_median_tace_s_crude", "pfs_median_tace_crude",
               "pfs_median_tace_s_crude", "os_count_crude", "orr_tace_imaging",
               "orr_tace_s_imaging", "dcr_tace_imaging", "dcr_tace_s_imaging",
               "orr_or_imaging")


def _role(n: Number) -> str:
    """``calibration`` for a number cohort.toml is given: :data:`CALIBRATION` and the
    multivariable covariate HRs, transcribed as the covariates' effects (``tacebench
    check`` refuses them as predicted, replications.effect_inputs); else ``predicted``."""
    given = n.id in CALIBRATION or (n.analysis == "multivariable" and n.term is not None)
    return "calibration" if given else "predicted"


def targets_toml(paper: Paper, study_id: str) -> str:
    said = sentences(paper)
    deaths = Number("os_count_crude", "crude", "count", float(paper.deaths), 0, endpoint="os")
    parts = [T.table("study", {"id": study_id, "title": f"closed-loop paper {study_id}"})]
    for n in (*paper.numbers, deaths):
        parts.append(T.array_of_tables("targets", _target(n, said[n.id], _role(n))))
    for to in ("iptw", "multivariable"):
        parts.append(T.array_of_tables("shifts", {"id": f"os_hr_crude_to_{to}",
                                                  "from": "os_hr_crude", "to": f"os_hr_{to}",
                                                  "scale": "log"}))
    return "\n".join(parts)


def analysis_toml(paper: Paper) -> str:
    terms = list(TERMS.values())
    mv = ({"method": "multivariable", "covariates": [TERMS[s] for s in paper.selected]}
          if paper.selected else {"method": "none"})
    rows = [
        {"name": "crude", "description": "Unadjusted Kaplan-Meier and Cox, whole cohort",
         "adjustment": {"method": "none"}, "estimates": ["km_median", "km_rate", "hr", "events"]},
        {"name": "univariable", "description": "Univariable Cox model of each covariate",
         "adjustment": {"method": "none"}, "estimates": ["hr"]},
        {"name": "multivariable", "description": "Cox model of treatment and the factors "
         "with univariable p < 0.05", "adjustment": mv, "estimates": ["hr"]},
        {"name": "iptw", "description": "Stabilized IPTW (ATE) on the six covariates",
         "adjustment": {"method": "iptw", "estimand": "ATE", "stabilized": True,
                        "covariates": terms},
         "estimates": ["km_median", "hr", "weighted_group_size"]},
        {"name": "imaging", "description": "Patients with a response assessment",
         "population": "response_assessed", "adjustment": {"method": "none"},
         "estimates": ["response_rate", "odds_ratio"]},
    ]
    return "\n".join(T.array_of_tables("analyses", r) for r in rows)


def _variable(row, arms, n, source) -> dict:
    name = row.variable
    if row.kind == "mean_sd":
        return {"name": name, "type": "continuous", "distribution": "normal",
                "lower": 18 if name == "age" else 1.0, "source": source,
                "arms": {a: {"mean": m, "sd": s} for a, (m, s) in zip(arms, row.cells)}}
    if name == "child_pugh":
        return {"name": name, "type": "categorical", "levels": ["A", "B"], "source": source,
                "arms": {a: {"counts": [k_n - k, k]}
                         for a, (k, _), k_n in zip(arms, row.cells, n)}}
    return {"name": name, "type": "binary", "source": source,
            "arms": {a: {"count": k} for a, (k, _) in zip(arms, row.cells)}}


def cohort_toml(paper: Paper, study_id: str) -> str:
    said, rows = sentences(paper), _table1_lines(paper)
    c, t = paper.arms
    num = {n.id: n for n in paper.numbers}
    parts = [T.table("study", {"id": study_id, "title": f"closed-loop paper {study_id}",
                               "source": "paper.txt"}),
             T.table("cohorts.main", {"assignment": "arm_marginals"})]
    parts += [T.array_of_tables("cohorts.main.arms", {"label": a, "n": k, "treated": tr})
              for a, k, tr in zip(paper.arms, paper.n, (False, True))]
    parts += [T.array_of_tables("cohorts.main.variables",
                                _variable(r, paper.arms, paper.n, rows[r.variable]))
              for r in paper.table1]
    parts.append(T.table("cohorts.main.correlation", {"default": "independent"}))
    effects = []
    for s in paper.selected:
        hr = num[f"os_hr_{s}_multivariable"].value
        effects.append({"variable": s, "hr": [hr] if s == "child_pugh" else hr})

    def cal(ep):
        return [{"arm": a, "kind": "median", "value": num[f"{ep}_median_{sl}_crude"].value,
                 "target": f"{ep}_median_{sl}_crude", "source": said[f"{ep}_median_{sl}_crude"]}
                for a, sl in ((c, "tace"), (t, "tace_s"))]
    parts.append(T.table("cohorts.main.outcomes.os", {
        "knots": OS_KNOTS, "treatment_hr": "calibrate", "effects": effects,
        "calibrate": cal("os")}))
    parts.append(T.table("cohorts.main.outcomes.pfs", {
        "knots": PFS_KNOTS, "treatment_hr": "calibrate", "calibrate": cal("pfs")}))
    parts.append(T.table("cohorts.main.censoring", {
        "accrual": float(paper.accrual), "follow_up": float(paper.follow_up),
        "loss_rate": "calibrate", "events": {"endpoint": "os", "value": paper.deaths,
                                             "target": "os_count_crude",
                                             "source": said["os_count_crude"]}}))
    parts.append(T.table("cohorts.main.response", {
        "levels": RESPONSE_LEVELS, "missing_mechanism": "early_death", "assessment_time": 3.0,
        "source": "\n".join(_response_lines(paper)),
        "arms": {a: {"counts": list(k)} for a, k in zip(paper.arms, paper.response_counts)}}))
    return "\n".join(parts)


def write_study(paper: Paper, folder: Path | str, study_id: str) -> Path:
    """Write ``paper.txt``, ``cohort.toml``, ``targets.toml`` and ``analysis.toml``.

    Parameters
    ----------
    paper : Paper
        A paper that is not ``skipped``.
    folder : path
        Created if needed; the four files are overwritten.
    study_id : str
        The study id of both TOML files (snake_case).

    Returns
    -------
    Path
        The folder.
    """
    if paper.skipped:
        raise ValueError(f"paper: cannot be written ({paper.skipped})")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paper.txt").write_text(render(paper, study_id), encoding="utf-8")
    (folder / "cohort.toml").write_text(cohort_toml(paper, study_id), encoding="utf-8")
    (folder / "targets.toml").write_text(targets_toml(paper, study_id), encoding="utf-8")
    (folder / "analysis.toml").write_text(analysis_toml(paper), encoding="utf-8")
    return folder


def with_value(paper: Paper, id: str, value: float) -> Paper:
    """``paper`` with number ``id`` printed as ``value`` (a planted slip); its CI moves with
    it on the log scale for a ratio."""
    n = paper.number(id)
    ci = None if n.ci is None else tuple(round(x * value / n.value, n.digits) for x in n.ci)
    new = replace(n, value=value, ci=ci)
    return replace(paper, numbers=tuple(new if m.id == id else m for m in paper.numbers))
