# Confidence intervals for a proportion and tests on 2x2 / r x c tables.
#   binom.test(x, n)$conf.int                       Clopper-Pearson ("exact")
#   prop.test(x, n, correct = FALSE)$conf.int       Wilson score
#   prop.test(x, n, correct = TRUE)$conf.int        Wilson with continuity correction
#   chisq.test(tab, correct = TRUE / FALSE)         Pearson chi-square (Yates for 2x2)
#   fisher.test(tab)                                p, conditional MLE odds ratio and its CI
# The first 2x2 tables are seed 000's Table 2 (ORR 48/282 vs 30/116; DCR 138/282 vs 67/116).
#   fisher_tight: the same fisher.test code with uniroot(tol = 1e-14): fisher.test's own
#   estimate and interval come from uniroot's default tol (~1.2e-4), so they are only
#   accurate to ~1e-4 relative.
source("../_common.R")
fisher_tight <- stats::fisher.test
tight_env <- new.env(parent = environment(fisher_tight))
tight_env$uniroot <- function(f, interval, ...) stats::uniroot(f, interval, ..., tol = 1e-14)
environment(fisher_tight) <- tight_env
props <- list(c(48, 282), c(30, 116), c(0, 25), c(25, 25), c(1, 10), c(9, 10), c(138, 282),
              c(3, 7), c(5, 5000))
prop_out <- lapply(props, function(p) {
  x <- p[1]; n <- p[2]
  list(x = x, n = n,
       exact = as.numeric(binom.test(x, n)$conf.int),
       exact90 = as.numeric(binom.test(x, n, conf.level = 0.9)$conf.int),
       wilson = as.numeric(prop.test(x, n, correct = FALSE)$conf.int),
       wilson_cc = as.numeric(prop.test(x, n, correct = TRUE)$conf.int))
})
# rows: control, treated; columns: no response, response  (table(treated, y))
tabs <- list(
  orr = matrix(c(282 - 48, 116 - 30, 48, 30), 2),
  dcr = matrix(c(282 - 138, 116 - 67, 138, 67), 2),
  small = matrix(c(3, 1, 1, 3), 2),
  zero_cell = matrix(c(10, 7, 0, 4), 2),
  near = matrix(c(20, 21, 20, 19), 2),
  three_by_two = matrix(c(20, 15, 30, 10, 25, 12), 3)
)
tab_out <- lapply(tabs, function(tb) {
  c1 <- suppressWarnings(chisq.test(tb, correct = TRUE))
  c0 <- suppressWarnings(chisq.test(tb, correct = FALSE))
  out <- list(table = lapply(seq_len(nrow(tb)), function(i) tb[i, ]),
              chisq_yates = unname(c1$statistic), p_yates = c1$p.value,
              chisq = unname(c0$statistic), p = c0$p.value, df = unname(c0$parameter),
              expected = lapply(seq_len(nrow(tb)), function(i) unname(c0$expected[i, ])))
  if (all(dim(tb) == 2)) {
    f <- fisher.test(tb)
    out$fisher_p <- f$p.value; out$fisher_or <- unname(f$estimate)
    out$fisher_ci <- as.numeric(f$conf.int)
    ft <- fisher_tight(tb)
    out$fisher_tight_or <- unname(ft$estimate); out$fisher_tight_ci <- as.numeric(ft$conf.int)
    out$fisher_tight_p <- ft$p.value
  }
  out
})
write_expected(list(proportions = prop_out, tables = tab_out))
