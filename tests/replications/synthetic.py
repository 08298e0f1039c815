"""A tiny cohort generator with known truth, for testing the analysis engine without simulate.

Covariates are drawn per arm from the ``cohort.toml`` summaries in the crudest way (normal
for continuous, Bernoulli for binary, multinomial for categorical); survival is exponential
with hazard ``rate * exp(beta' x + gamma * treated)``, censoring uniform. It is not a model of
any paper: it only has to give the engine realistic columns whose truth the test knows.
"""
from __future__ import annotations

import numpy as np


def make_generator(raw: dict, *, os_rate: float = 0.05, pfs_rate: float = 0.1,
                   beta: dict | None = None, gamma: float = 0.0, follow_up: float = 48.0,
                   response_probs=(0.05, 0.3, 0.4, 0.25)):
    beta = beta or {}

    def generate(cohort: str, seed):
        rng = np.random.default_rng(seed)
        c = raw["cohorts"][cohort]
        arms = c["arms"]
        sizes = [a["n"] for a in arms]
        arm = np.repeat(np.arange(len(arms)), sizes).astype(np.int8)
        treated = np.repeat([1 if a.get("treated") else 0 for a in arms], sizes).astype(np.int8)
        n = arm.size
        cols = {"arm": arm, "treated": treated}
        levels = {}
        for v in c.get("variables", []):
            x = np.empty(n)
            for k, a in enumerate(arms):
                s = v["arms"][a["label"]]
                m = arm == k
                if v["type"] == "continuous":
                    x[m] = rng.normal(s["mean"], s["sd"], m.sum())
                elif v["type"] == "binary":
                    x[m] = rng.random(m.sum()) < s["count"] / a["n"]
                else:
                    p = np.asarray(s["counts"], float)
                    x[m] = rng.choice(p.size, m.sum(), p=p / p.sum())
            if v["type"] == "categorical":
                levels[v["name"]] = tuple(v["levels"])
            cols[v["name"]] = x
        lin = gamma * treated.astype(float)
        for name, b in beta.items():
            lin = lin + b * cols[name]
        for ep, rate in (("os", os_rate), ("pfs", pfs_rate)):
            if ep not in c.get("outcomes", {}):
                continue
            t = rng.exponential(1.0 / (rate * np.exp(lin)))
            cens = rng.uniform(0.5, follow_up, n)
            cols[f"{ep}_time"] = np.minimum(t, cens)
            cols[f"{ep}_event"] = (t <= cens).astype(np.int8)
        if c.get("response"):
            r = rng.choice(4, n, p=np.asarray(response_probs) / sum(response_probs))
            r[rng.random(n) < 0.05] = -1
            cols["response"] = r.astype(np.int8)
            levels["response"] = ("CR", "PR", "SD", "PD")
        cols["true_ps"] = np.full(n, treated.mean())
        return cols, levels
    return generate
