"""The problems of an ADEMP study file, collected and raised at once
(:func:`benchmarks.study.study_from_dict`, :func:`benchmarks.dgm.check_scenarios`)."""
from __future__ import annotations


class Problems:
    """Every problem of a study, each as ``where: what`` and each once, raised at once
    (:func:`benchmarks.study.study_from_dict` for the file, :func:`benchmarks.dgm.check_scenarios` for what
    its generators need)."""

    def __init__(self, source: str) -> None:
        self.source, self.items = source, []

    def add(self, where: str, msg: str) -> None:
        self.line(f"{where}: {msg}")

    def line(self, text: str) -> None:
        if text not in self.items:  # (a grid repeats its dgm's problems)
            self.items.append(text)

    def unknown(self, table: dict, allowed: tuple[str, ...], where: str) -> None:
        extra = sorted(k for k in table if k not in allowed)
        if extra:
            self.add(where, f"unknown key(s) {extra}; the keys are {list(allowed)}")

    def table(self, parent: dict, key: str, where: str) -> dict:
        """``parent[key]`` as a table ({} with a problem when missing or not a table)."""
        val = parent.get(key)
        if not isinstance(val, dict):
            self.add(where, f"missing table [{key}]" if val is None
                     else f"[{key}] must be a table; got {val!r}")
            return {}
        return val

    def entries(self, raw: dict, key: str):
        """``(name, table, where)`` of each ``[key.<name>]`` that is a table."""
        for name, table in self.table(raw, key, "top level").items():
            where = f"[{key}.{name}]"
            if isinstance(table, dict):
                yield name, table, where
            else:
                self.add(where, f"must be a table; got {table!r}")

    def check(self) -> None:
        if self.items:
            n = len(self.items)
            raise ValueError(f"study {self.source}: {n} problem{'s' * (n > 1)}:\n  "
                             + "\n  ".join(self.items))


def required_text(table: dict, key: str, where: str, problems: Problems) -> str | None:
    """``table[key]`` if present and a string; else None, with the problem recorded."""
    if key not in table:
        problems.add(where, f"missing required key {key!r}")
        return None
    val = table[key]
    if not isinstance(val, str):
        problems.add(where, f"{key} must be a string; got {val!r}")
        return None
    return val
