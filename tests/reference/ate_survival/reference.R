# Marginal risks of death by 6, 12 and 24 months under each treatment, their difference
# (treated - control) and ratio (treated / control), with influence-function SEs:
#   riskRegression::ate(event = Surv(time, event) ~ treated + size + afp400 + cp_b,
#                       treatment = treated ~ size + afp400 + cp_b,
#                       censor = Surv(time, event == 0) ~ <censoring covariates>,
#                       estimator = c("GFORMULA", "IPTW", "AIPTW"), times = c(6, 12, 24))
# (Cox outcome model, Breslow baseline, survival exp(-cumulative hazard); logistic
# treatment model; Cox censoring model, or ~ 1 for marginal censoring.)
source("../_common.R")
suppressPackageStartupMessages({library(survival); library(riskRegression)})
d <- read_data()
d$treated <- factor(d$treated)
horizons <- c(6, 12, 24)

collect <- function(res, estimators) {
  ci <- confint(res)
  out <- list()
  for (est in estimators) {
    m <- ci$meanRisk[ci$meanRisk$estimator == est]
    dr <- ci$diffRisk[ci$diffRisk$estimator == est]
    rr <- ci$ratioRisk[ci$ratioRisk$estimator == est]
    out[[tolower(est)]] <- list(
      risk_control = m[treatment == "0"]$estimate, se_control = m[treatment == "0"]$se,
      risk_treated = m[treatment == "1"]$estimate, se_treated = m[treatment == "1"]$se,
      difference = dr$estimate, se_difference = dr$se,
      ratio = rr$estimate, se_ratio = rr$se)
  }
  out
}
all3 <- c("GFORMULA", "IPTW", "AIPTW")
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 50)
outcome_cox <- function(f, ties = "efron") coxph(f, data = d, ties = ties, x = TRUE, y = TRUE, control = ctl)
ps_glm <- glm(treated ~ size + afp400 + cp_b, family = binomial, data = d,
              control = glm.control(epsilon = 1e-14, maxit = 100))

out <- list(horizons = horizons, n = nrow(d), n_events = sum(d$event))

# 1. Cox censoring model on treatment and the three covariates (untied times)
ev <- outcome_cox(Surv(time, event) ~ treated + size + afp400 + cp_b)
ce <- outcome_cox(Surv(time, event == 0) ~ treated + size + afp400 + cp_b)
res <- ate(event = ev, treatment = ps_glm, censor = ce, data = d, times = horizons,
           estimator = all3, se = TRUE, verbose = FALSE)
out$cox_censoring <- collect(res, all3)
out$cox_censoring$outcome_coef <- unname(coef(ev))
out$cox_censoring$censoring_coef <- unname(coef(ce))
out$treatment_coef <- unname(coef(ps_glm))

# 2. marginal censoring (censoring model without covariates)
ce0 <- outcome_cox(Surv(time, event == 0) ~ 1)
res <- ate(event = ev, treatment = ps_glm, censor = ce0, data = d, times = horizons,
           estimator = all3, se = TRUE, verbose = FALSE)
out$marginal_censoring <- collect(res, all3)

# 2b. restricted mean survival time to each horizon, from ate's risk curves and their IFs
#     at every event time before the last horizon: every estimator's risk is a step
#     function jumping only at event times, so
#     RMST_a(tau) = sum_k (1 - F_a(u_k)) (min(u_{k+1}, tau) - u_k)^+ with u_0 = 0, F_a(0) = 0,
#     and its IF is minus the same sum over the IFs of F_a(u_k)
grid <- sort(unique(d$time[d$event == 1 & d$time < max(horizons)]))
res <- ate(event = ev, treatment = ps_glm, censor = ce, data = d, times = grid,
           estimator = all3, se = TRUE, iid = TRUE, verbose = FALSE)
u <- c(0, grid)
out$rmst <- list(n_grid = length(grid))
for (est in all3) {
  risk <- function(a) c(0, res$meanRisk[estimator == est & treatment == a]$estimate)
  iid <- function(a) cbind(0, res$iid[[est]][[a]])
  r <- list()
  for (a in c("0", "1")) {
    wid <- sapply(horizons, function(tau) pmax(pmin(c(u[-1], Inf), tau) - u, 0))  # (K+1, H)
    r[[a]] <- list(rmst = colSums((1 - risk(a)) * wid), iid = -iid(a) %*% wid)
  }
  out$rmst[[tolower(est)]] <- list(
    rmst_control = r[["0"]]$rmst, se_control = sqrt(colSums(r[["0"]]$iid^2)),
    rmst_treated = r[["1"]]$rmst, se_treated = sqrt(colSums(r[["1"]]$iid^2)),
    difference = r[["1"]]$rmst - r[["0"]]$rmst,
    se_difference = sqrt(colSums((r[["1"]]$iid - r[["0"]]$iid)^2)))
}

# 3. tied times (whole months), Breslow for both Cox models: g-formula and IPTW only
#    (riskRegression 2022.11.28 counts a censoring time shared by k subjects k times in the
#    AIPTW augmentation term, so AIPTW is checked on untied data only)
evt <- outcome_cox(Surv(time_tied, event) ~ treated + size + afp400 + cp_b, ties = "breslow")
cet <- outcome_cox(Surv(time_tied, event == 0) ~ treated + size + afp400 + cp_b, ties = "breslow")
res <- ate(event = evt, treatment = ps_glm, censor = cet, data = d, times = horizons,
           estimator = c("GFORMULA", "IPTW"), se = TRUE, verbose = FALSE)
out$tied_breslow <- collect(res, c("GFORMULA", "IPTW"))
out$tied_breslow$outcome_coef <- unname(coef(evt))
# with tied event times the two packages' IFs of the Cox coefficients differ: survival's
# score residuals (the Lin-Wei robust SE) and riskRegression's iidCox
evr <- coxph(Surv(time_tied, event) ~ treated + size + afp400 + cp_b, data = d,
             ties = "breslow", robust = TRUE, control = ctl)
out$tied_breslow$outcome_se_robust <- unname(sqrt(diag(vcov(evr))))
out$tied_breslow$outcome_se_iidcox <- unname(sqrt(colSums(iidCox(evt, return.object = FALSE)$IFbeta^2)))

# the known trap, recorded to show it: AIPTW on the tied data (point estimates only)
res <- ate(event = evt, treatment = ps_glm, censor = cet, data = d, times = horizons,
           estimator = "AIPTW", se = FALSE, verbose = FALSE)
out$tied_breslow$aiptw_duplicated_censoring <- list(
  risk_control = res$meanRisk[treatment == "0"]$estimate,
  risk_treated = res$meanRisk[treatment == "1"]$estimate,
  n_tied_censoring = sum(duplicated(d$time_tied[d$event == 0])))

write_expected(out)
