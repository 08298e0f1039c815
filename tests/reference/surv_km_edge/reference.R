# Edge cases of survfit's median / log-log CI / restricted mean (see make_data.py).
source("../_common.R")
source("../_survival.R")
d <- read_data()
out <- list()
for (g in unique(d$group)) {
  fit <- survfit(Surv(time, event) ~ 1, data = d[d$group == g, ], conf.type = "log-log")
  tab7 <- summary(fit, rmean = 7)$table
  tab20 <- summary(fit, rmean = 20)$table  # beyond the last time: R carries S flat
  out[[g]] <- list(time = fit$time, surv = fit$surv, std_err = fit$std.err,
                   lower = fit$lower, upper = fit$upper,
                   median = unname(tab7["median"]), median_lcl = unname(tab7["0.95LCL"]),
                   median_ucl = unname(tab7["0.95UCL"]),
                   rmean7 = unname(tab7["rmean"]), rmean7_se = unname(tab7["se(rmean)"]),
                   rmean20 = unname(tab20["rmean"]), rmean20_se = unname(tab20["se(rmean)"]))
}
write_expected(out)
