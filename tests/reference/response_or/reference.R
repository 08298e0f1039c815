# Odds ratios of response for treated vs control.
#   glm(y ~ treated [+ x1 + x2], family = binomial)                      model SE, Wald z
#   survey::svyglm(y ~ treated [+ x1 + x2], design = svydesign(ids = ~1, weights = ~w),
#                  family = quasibinomial(), control = ctl)                             sandwich SE, t on df.residual
#   (all fits with control = glm.control(epsilon = 1e-14, maxit = 100): R's default 1e-8 leaves
#   the SE, computed from the last IRLS weights, off by ~1e-7 relative)
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
des <- svydesign(ids = ~1, weights = ~w, data = d)
ones <- svydesign(ids = ~1, weights = ~1, data = d)
write_expected(list(
  glm_crude = glm_row(glm(y ~ treated, family = binomial, data = d, control = ctl)),
  glm_adj = glm_row(glm(y ~ treated + x1 + x2, family = binomial, data = d, control = ctl)),
  svy_crude = svy_row(svyglm(y ~ treated, design = des, family = quasibinomial(), control = ctl)),
  svy_adj = svy_row(svyglm(y ~ treated + x1 + x2, design = des, family = quasibinomial(), control = ctl)),
  svy_unweighted = svy_row(svyglm(y ~ treated, design = ones, family = quasibinomial(), control = ctl))
))
