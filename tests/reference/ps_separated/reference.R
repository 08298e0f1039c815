# Separated propensity model fitted as R fits it, and the weighted Cox model on its weights:
#   ps <- fitted(glm(treated ~ g + x + b, family = binomial))     # glm.control defaults
#   coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE)
#   svycoxph(Surv(time, event) ~ treated, svydesign(ids = ~1, weights = ~w, data = d))
# plus Firth's penalized model: brglm2 (type = "AS_mean", Firth's for the logit link) and
# the same fit written out by hand (modified score with hat values), which logistf computes.
# And a monotone Cox likelihood, whose coefficient R prints wherever its iterations stop.
source("../_common.R")
suppressPackageStartupMessages({library(survival); library(survey); library(brglm2)})
d <- read_data()
f <- treated ~ g + x + b
warns <- character()
m <- withCallingHandlers(glm(f, family = binomial, data = d), warning = function(w) {
  warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning")
})
ps <- unname(fitted(m)); z <- d$treated; p1 <- mean(z)
w_ate <- ifelse(z == 1, 1 / ps, 1 / (1 - ps))
w_stab <- ifelse(z == 1, p1 / ps, (1 - p1) / (1 - ps))
# the fitted probabilities converge while the coefficient of g diverges: same fit run longer
m_long <- suppressWarnings(glm(f, family = binomial, data = d,
                               control = glm.control(epsilon = 1e-14, maxit = 100)))
ps_long <- unname(fitted(m_long))
w_stab_long <- ifelse(z == 1, p1 / ps_long, (1 - p1) / (1 - ps_long))
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 50)
cox <- function(w) {
  fit <- coxph(Surv(time, event) ~ treated, data = d, weights = w, robust = TRUE, control = ctl)
  d$w <- w
  des <- svydesign(ids = ~1, weights = ~w, data = d)
  sfit <- svycoxph(Surv(time, event) ~ treated, design = des, control = ctl)
  list(coef = unname(coef(fit)), se_robust = unname(sqrt(diag(vcov(fit)))),
       svy_coef = unname(coef(sfit)), svy_se = unname(sqrt(diag(vcov(sfit)))))
}
# Firth by hand: Newton on U*(b) = X'(y - p + h (1/2 - p)) with the Fisher information
X <- model.matrix(f, d); y <- z
beta <- rep(0, ncol(X))
for (it in 1:200) {
  p <- plogis(drop(X %*% beta)); W <- p * (1 - p)
  I <- crossprod(X * W, X); Iinv <- solve(I)
  h <- W * rowSums((X %*% Iinv) * X)
  U <- crossprod(X, y - p + h * (0.5 - p))
  step <- drop(Iinv %*% U)
  beta <- beta + step
  if (max(abs(step)) < 1e-13) break
}
# R's other warnings: complete separation, and an aliased column (nb = 1 - b gets NA)
fit_warned <- function(formula, data) {
  w <- character()
  fit <- withCallingHandlers(glm(formula, family = binomial, data = data), warning = function(x) {
    w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning")
  })
  list(coef = unname(coef(fit)), iter = fit$iter, converged = fit$converged, warnings = w,
       fitted = unname(fitted(fit)))
}
complete <- data.frame(x = d$x[1:30], treated = as.integer(d$x[1:30] > 0.2))
d$nb <- 1 - d$b
# what stays not estimable: a monotone Cox likelihood (no event among treated patients).
# coxph warns and returns its last iterate, which is set by the iteration controls
mono <- d; mono$event[mono$treated == 1] <- 0
cox_mono <- function(it, eps = 1e-9) {   # coxph.control defaults: eps 1e-9, iter.max 20
  w <- character()
  fit <- withCallingHandlers(
    coxph(Surv(time, event) ~ treated, data = mono,
          control = coxph.control(eps = eps, toler.chol = min(eps, 1e-9) / 1000,
                                  iter.max = it)),
    warning = function(x) { w <<- c(w, conditionMessage(x)); invokeRestart("muffleWarning") })
  list(iter_max = it, eps = eps, coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))), warnings = w)
}
bf <- glm(f, family = binomial, data = d, method = "brglmFit", type = "AS_mean",
          epsilon = 1e-12, maxit = 500)
write_expected(list(
  call = "glm(treated ~ g + x + b, family = binomial) with glm.control defaults",
  names = names(coef(m)),
  coef = unname(coef(m)), iter = m$iter, converged = m$converged, warnings = warns,
  ps = ps, w_ate = w_ate, w_stab = w_stab,
  coef_long = unname(coef(m_long)),
  max_abs_diff_w_stab_long = max(abs(w_stab - w_stab_long)),
  cox_ate = cox(w_ate), cox_stab = cox(w_stab),
  firth_brglm2 = unname(coef(bf)), firth_by_hand = beta, firth_by_hand_iter = it,
  firth_ps = unname(fitted(bf)),
  complete_x = complete$x, complete = fit_warned(treated ~ x, complete),
  aliased = fit_warned(treated ~ g + x + b + nb, d),
  cox_monotone = c(lapply(c(10, 20, 50), cox_mono), list(cox_mono(50, 1e-12)))
))
