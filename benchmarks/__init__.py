"""Monte Carlo estimator comparisons (ADEMP) and speed benchmarks."""
