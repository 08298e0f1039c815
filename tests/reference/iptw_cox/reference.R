# IPTW Cox: glm propensity score, weights by formula, then
#   coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE, ties = ...)
# (the papers' analysis; robust = Lin-Wei sandwich, ignores PS estimation).
source("../_common.R")
suppressPackageStartupMessages(library(survival))
d <- read_data()
m <- glm(treated ~ size + afp400 + cp_b, family = binomial, data = d,
         control = glm.control(epsilon = 1e-14, maxit = 100))
ps <- unname(fitted(m)); z <- d$treated; p1 <- mean(z)
trunc7 <- function(w) { q <- quantile(w, c(.01, .99), type = 7, names = FALSE); pmin(pmax(w, q[1]), q[2]) }
W <- list(
  ate = ifelse(z == 1, 1 / ps, 1 / (1 - ps)),
  ate_trunc = trunc7(ifelse(z == 1, 1 / ps, 1 / (1 - ps))),
  ate_stab = ifelse(z == 1, p1 / ps, (1 - p1) / (1 - ps)),
  att = ifelse(z == 1, 1, ps / (1 - ps)),
  ato = ifelse(z == 1, 1 - ps, ps)
)
fit <- function(w, ties) {
  f <- coxph(Surv(time, event) ~ treated, data = d, weights = w, robust = TRUE, ties = ties,
             control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 50))
  list(coef = unname(coef(f)), se_naive = unname(sqrt(diag(f$naive.var))),
       se_robust = unname(sqrt(diag(vcov(f)))))
}
out <- list(call = "coxph(Surv(time, event) ~ treated, weights = w, robust = TRUE, ties = ties)",
            n_ties = sum(duplicated(d$time[d$event == 1])))
for (nm in names(W)) for (ties in c("efron", "breslow")) out[[paste(nm, ties, sep = "_")]] <- fit(W[[nm]], ties)
# doubly adjusted: IPTW + covariates in the outcome model
f2 <- coxph(Surv(time, event) ~ treated + size + afp400 + cp_b, data = d, weights = W$ate,
            robust = TRUE, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-15, iter.max = 50))
out$ate_efron_adjusted <- list(coef = unname(coef(f2)), se_robust = unname(sqrt(diag(vcov(f2)))))
write_expected(out)
