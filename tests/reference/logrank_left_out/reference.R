# survdiff when a group has nobody at risk at any event time (expected count 0): R leaves
# it out (etmp > 0), the df counts the groups left, and with fewer than two left it reports
# chisq 0 (pchisq(0, 0, lower.tail = FALSE) = 1).
source("../_common.R")
library(survival)
d <- read_data()
out <- list()
for (s in unique(d$dataset)) {
  fit <- survdiff(Surv(time, event) ~ group, data = d[d$dataset == s, ])
  df <- sum(fit$exp > 0) - 1
  out[[s]] <- list(chisq = fit$chisq, df = df, p = fit$pvalue, obs = fit$obs,
                   exp = fit$exp, var = as.vector(fit$var))
}
write_expected(out)
