# Odds ratios of response for treated vs control.
#   glm(y ~ treated [+ x1 + x2], family = binomial)                      model SE, Wald z
#   survey::svyglm(y ~ treated [+ x1 + x2], design = svydesign(ids = ~1, weights = ~w),
#                  family = quasibinomial(), control = ctl)                             sandwich SE, t on df.residual
#   (all fits with control = glm.control(epsilon = 1e-14, maxit = 100): R's default 1e-8 leaves
#   the SE, computed from the last IRLS weights, off by ~1e-7 relative)
#   confint(glm) (profile likelihood, MASS) and an exact profile by uniroot, see profile_ci
#   confint(glm, method Wald) = confint.default; confint(svyglm) (Wald, t quantile on df.residual)
source("../_common.R")
suppressPackageStartupMessages(library(survey))
d <- read_data()
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
glm_row <- function(f) {
  s <- summary(f)$coefficients; ci <- confint.default(f)
  list(coef = unname(s[, 1]), se = unname(s[, 2]), stat = unname(s[, 3]), p = unname(s[, 4]),
       lower = unname(ci[, 1]), upper = unname(ci[, 2]), terms = rownames(s))
}
svy_row <- function(f) {
  s <- summary(f)$coefficients; ci <- confint(f)
  list(coef = unname(s[, 1]), se = unname(s[, 2]), stat = unname(s[, 3]), p = unname(s[, 4]),
       lower = unname(ci[, 1]), upper = unname(ci[, 2]), df = f$df.residual, terms = rownames(s))
}
# profile-likelihood intervals of the treated coefficient: MASS's confint(glm) (grid + spline)
# and an exact version, uniroot on 2 (l_hat - l_p(b)) = qchisq(.95, 1) with the other
# coefficients refitted by glm(offset = b * treated)
profile_ci <- function(rhs) {
  f <- glm(as.formula(paste("y ~ treated", rhs)), family = binomial, data = d, control = ctl)
  b <- coef(f)[["treated"]]; se <- sqrt(vcov(f)["treated", "treated"]); l_hat <- as.numeric(logLik(f))
  gap <- function(v) {
    g <- glm(as.formula(paste("y ~ 1", rhs)), family = binomial, data = d, offset = v * d$treated, control = ctl)
    2 * (l_hat - as.numeric(logLik(g))) - qchisq(0.95, 1)
  }
  exact <- c(uniroot(gap, c(b - 5 * se, b), tol = 1e-13)$root, uniroot(gap, c(b, b + 5 * se), tol = 1e-13)$root)
  list(mass = unname(suppressMessages(confint(f))["treated", ]), exact = exact)
}
des <- svydesign(ids = ~1, weights = ~w, data = d)
ones <- svydesign(ids = ~1, weights = ~1, data = d)
write_expected(list(
  glm_crude = glm_row(glm(y ~ treated, family = binomial, data = d, control = ctl)),
  glm_adj = glm_row(glm(y ~ treated + x1 + x2, family = binomial, data = d, control = ctl)),
  profile_crude = profile_ci(""), profile_adj = profile_ci("+ x1 + x2"),
  svy_crude = svy_row(svyglm(y ~ treated, design = des, family = quasibinomial(), control = ctl)),
  svy_adj = svy_row(svyglm(y ~ treated + x1 + x2, design = des, family = quasibinomial(), control = ctl)),
  svy_unweighted = svy_row(svyglm(y ~ treated, design = ones, family = quasibinomial(), control = ctl))
))
