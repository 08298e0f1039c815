# Pearson chi-square and Fisher's exact test on 2 x 2, 2 x k and k x 2 tables.
#   chisq.test(tab, correct = FALSE)$p.value     Pearson chi-square, no continuity correction
#   chisq.test(tab, correct = TRUE)$p.value      with Yates' correction (2 x 2 only; R applies
#                                                it to 2 x 2 tables and ignores it otherwise)
#   fisher.test(tab, simulate.p.value = FALSE)$p.value
#                                                exact: Fisher's test for 2 x 2, the
#                                                Freeman-Halton network algorithm for r x c
# Columns (or rows) empty in both arms are dropped first, as the audit does: R's chisq.test
# would return NaN on a zero expected count.
source("../_common.R")
d <- read_data()
out <- list()
for (name in unique(d$table)) {
  s <- d[d$table == name, ]
  tab <- matrix(0, max(s$row), max(s$col))
  tab[cbind(s$row, s$col)] <- s$count
  tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  c0 <- suppressWarnings(chisq.test(tab, correct = FALSE))
  c1 <- suppressWarnings(chisq.test(tab, correct = TRUE))
  f <- fisher.test(tab, simulate.p.value = FALSE, workspace = 2e7)
  out[[name]] <- list(dim = dim(tab), p_chisq = c0$p.value, p_chisq_correct = c1$p.value,
                      statistic = unname(c0$statistic), df = unname(c0$parameter),
                      p_fisher = f$p.value)
}
write_expected(out)
