# Reference values for KM, log-rank and Cox on tied, IPTW-weighted data (see make_data.py).
source("../_common.R")
source("../_survival.R")
d <- read_data()
d$lsize <- log(d$size)

# ---- Kaplan-Meier -------------------------------------------------------------------
km_out <- function(fit, tau = 24, times = c(0.5, 3, 6, 12, 24, 30)) {
  tab <- summary(fit, rmean = tau)$table
  s <- summary(fit, times = times, extend = FALSE)
  list(time = fit$time, surv = fit$surv, std_err = fit$std.err, lower = fit$lower,
       upper = fit$upper, n_risk = fit$n.risk, n_event = fit$n.event,
       median = unname(tab["median"]), median_lcl = unname(tab["0.95LCL"]),
       median_ucl = unname(tab["0.95UCL"]), rmean = unname(tab["rmean"]),
       rmean_se = unname(tab["se(rmean)"]), tau = tau,
       at_times = s$time, at_surv = s$surv, at_se = s$std.err, at_lower = s$lower,
       at_upper = s$upper)
}
# Xie & Liu (2005) variance of log S, written out from the formula (an independent check):
# sum_{t_j <= t} dw_j / (M_j (Yw_j - dw_j)),  M_j = Yw_j^2 / sum_{i at risk} w_i^2
xie_liu_se <- function(time, event, w) {
  ut <- sort(unique(time))
  v <- numeric(length(ut)); acc <- 0
  for (j in seq_along(ut)) {
    risk <- time >= ut[j]
    yw <- sum(w[risk]); dw <- sum(w[time == ut[j] & event == 1])
    m <- yw^2 / sum(w[risk]^2)
    if (dw > 0) acc <- acc + dw / (m * (yw - dw))
    v[j] <- acc
  }
  list(time = ut, std_err = sqrt(v))
}
km <- list()
for (a in 0:1) {
  s <- d[d$treated == a, ]
  km[[paste0("arm", a, "_unweighted")]] <- km_out(
    survfit(Surv(time, event) ~ 1, data = s, conf.type = "log-log"))
  km[[paste0("arm", a, "_weighted_naive")]] <- km_out(
    survfit(Surv(time, event) ~ 1, data = s, weights = w, conf.type = "log-log", robust = FALSE))
  km[[paste0("arm", a, "_weighted_ij")]] <- km_out(
    survfit(Surv(time, event) ~ 1, data = s, weights = w, conf.type = "log-log", robust = TRUE))
  km[[paste0("arm", a, "_xie_liu")]] <- xie_liu_se(s$time, s$event, s$w)
}

# ---- log-rank -----------------------------------------------------------------------
sd2 <- survdiff(Surv(time, event) ~ treated, data = d)
sd3 <- survdiff(Surv(time, event) ~ stage, data = d)
# Xie & Liu (2005) IPTW log-rank, written out per event time from the formula:
# U = sum Y0 Y1 / Y (h1 - h0), h_k = dw_k / Yw_k;
# V = sum d (Y - d) / (Y (Y - 1)) (Y0 Y1 / Y)^2 (1/M0 + 1/M1), M_k = Yw_k^2 / sum w^2
xie_liu_logrank <- function(time, event, g, w) {
  U <- 0; V <- 0
  for (t in sort(unique(time[event == 1]))) {
    r <- time >= t
    y <- c(sum(r & g == 0), sum(r & g == 1)); Y <- sum(y)
    dd <- sum(time == t & event == 1)
    yw <- c(sum(w[r & g == 0]), sum(w[r & g == 1]))
    dw <- c(sum(w[time == t & event == 1 & g == 0]), sum(w[time == t & event == 1 & g == 1]))
    h <- ifelse(yw > 0, dw / yw, 0)
    invm <- c(ifelse(yw[1] > 0, sum(w[r & g == 0]^2) / yw[1]^2, 0),
              ifelse(yw[2] > 0, sum(w[r & g == 1]^2) / yw[2]^2, 0))
    a <- y[1] * y[2] / Y
    U <- U + a * (h[2] - h[1])
    if (Y > 1) V <- V + dd * (Y - dd) / (Y * (Y - 1)) * a^2 * sum(invm)
  }
  list(z = U / sqrt(V), u = U, var = V)
}
logrank <- list(
  two = list(chisq = sd2$chisq, obs = sd2$obs, exp = sd2$exp, var = sd2$var),
  three = list(chisq = sd3$chisq, obs = sd3$obs, exp = sd3$exp, var = sd3$var),
  iptw = xie_liu_logrank(d$time, d$event, d$treated, d$w),
  iptw_unit = xie_liu_logrank(d$time, d$event, d$treated, rep(1, nrow(d)))
)

# ---- Cox ----------------------------------------------------------------------------
f <- Surv(time, event) ~ treated + age + male + lsize
cox <- list(
  efron = cox_out(coxph(f, data = d, ties = "efron", control = tight), resid = TRUE),
  breslow = cox_out(coxph(f, data = d, ties = "breslow", control = tight)),
  efron_w_robust = cox_out(coxph(f, data = d, weights = w, robust = TRUE, ties = "efron",
                                 control = tight), resid = TRUE),
  breslow_w_robust = cox_out(coxph(f, data = d, weights = w, robust = TRUE, ties = "breslow",
                                   control = tight), resid = TRUE),
  efron_w_cluster = cox_out(coxph(f, data = d, weights = w, cluster = centre, ties = "efron",
                                  control = tight)),
  breslow_w_cluster = cox_out(coxph(f, data = d, weights = w, cluster = centre,
                                    ties = "breslow", control = tight)),
  iptw_efron = cox_out(coxph(Surv(time, event) ~ treated, data = d, weights = w,
                             robust = TRUE, ties = "efron", control = tight)),
  iptw_breslow = cox_out(coxph(Surv(time, event) ~ treated, data = d, weights = w,
                               robust = TRUE, ties = "breslow", control = tight))
)

write_expected(list(km = km, logrank = logrank, cox = cox))
