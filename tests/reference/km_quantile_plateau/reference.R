# Kaplan-Meier quantiles where S equals 1 - p exactly on a plateau: quantile.survfit
# (findq) against print.survfit's median (survmean's minmin). P: events at 1..5 of 20
# (S = 0.75 from 5 to the end); Q: events at 1..10 of 20 (S = 0.5 from 10 to the end);
# R: 10 events at 1..10 (S = 0.5 at 5, 0.3 at 7, then lower).
source("../_common.R")
library(survival)
d <- read_data()
probs <- c(0.2, 0.25, 0.5, 0.7, 0.75)
out <- list(probs = probs)
for (s in unique(d$dataset)) {
  fit <- survfit(Surv(time, event) ~ 1, data = d[d$dataset == s, ], conf.type = "log-log")
  q <- quantile(fit, probs)
  tab <- summary(fit)$table
  out[[s]] <- list(quantile = unname(q$quantile), lower = unname(q$lower),
                   upper = unname(q$upper), median = unname(tab["median"]),
                   median_lcl = unname(tab["0.95LCL"]), median_ucl = unname(tab["0.95UCL"]))
}
write_expected(out)
