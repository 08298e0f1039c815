"""Speed benchmarks (pytest-benchmark): our replicate pipelines and kernels side by side with
the lifelines / statsmodels equivalents, scaling with n, n_jobs throughput, peak memory.

Not part of the default test run. Run (from the repository root)::

    python -m pytest benchmarks/speed --benchmark-only --benchmark-json=speed.json
    python -m tacebench.benchmarks.speed.report speed.json > docs/speed.md

See ``docs/speed.md`` for the latest figures.
"""
