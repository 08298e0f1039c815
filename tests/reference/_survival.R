# Shared by the survival cases: source("../_survival.R") after source("../_common.R").
suppressPackageStartupMessages(library(survival))
# converge to the exact MLE, so that comparisons are not limited by R's stopping rule
tight <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)
cox_out <- function(fit, resid = FALSE) {
  out <- list(coef = unname(coef(fit)), var = unname(fit$var),
              naive_var = if (is.null(fit$naive.var)) NULL else unname(fit$naive.var),
              loglik = fit$loglik, call = paste(deparse(fit$call), collapse = " "))
  if (resid) out$score_resid <- unname(residuals(fit, type = "score"))
  out
}
