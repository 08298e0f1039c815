# R reference for the speed suite's Cox kernels (benchmarks/speed/bench_kernels.py):
# IPTW-weighted Cox of treatment with the robust (Lin-Wei) variance, Efron and Breslow,
# on untied and whole-month (tied) times. Run in this folder: Rscript --vanilla reference.R
suppressPackageStartupMessages({library(survival); library(jsonlite)})
d <- read.csv("data.csv")
tight <- coxph.control(eps = 1e-12, toler.chol = 1e-14, iter.max = 100)
fit <- function(f, ties) {
  m <- coxph(f, data = d, weights = w, robust = TRUE, ties = ties, control = tight)
  list(coef = unname(coef(m)), robust_se = unname(sqrt(diag(m$var))),
       se = unname(sqrt(diag(m$naive.var))), loglik = m$loglik,
       call = paste(deparse(m$call), collapse = " "))
}
out <- list(
  untied_efron = fit(Surv(time, event) ~ treated, "efron"),
  untied_breslow = fit(Surv(time, event) ~ treated, "breslow"),
  tied_efron = fit(Surv(time_month, event) ~ treated, "efron"),
  tied_breslow = fit(Surv(time_month, event) ~ treated, "breslow"),
  n_tied_deaths = sum(duplicated(d$time_month[d$event == 1])),
  `_meta` = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                 generated = format(Sys.Date()))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "expected.json")
