# Paired tests of matched pairs (x = treated member, y = its control):
#   mcnemar.test(factor(x, 0:1), factor(y, 0:1))          (correct = TRUE)
#   t.test(x, y, paired = TRUE)
#   wilcox.test(x, y, paired = TRUE)                        (exact = NULL, correct = TRUE)
source("../_common.R")
d <- read_data()
out <- list()
for (case in unique(d$case)) {
  s <- d[d$case == case, ]
  if (startsWith(case, "bin")) {
    m <- suppressWarnings(mcnemar.test(factor(s$x, levels = 0:1), factor(s$y, levels = 0:1)))
    out[[case]] <- list(statistic = unname(m$statistic), p = unname(m$p.value),
                        method = m$method)
  } else {
    t <- t.test(s$x, s$y, paired = TRUE)
    w <- suppressWarnings(wilcox.test(s$x, s$y, paired = TRUE))
    out[[case]] <- list(t = unname(t$statistic), t_df = unname(t$parameter), t_p = t$p.value,
                        v = unname(w$statistic), w_p = w$p.value, w_method = w$method)
  }
}
write_expected(out)
