# Rubin's rules as R mice pools them.
#   mice::pool.scalar(Q, U, n = dfcom + 1, k = 1)            per scenario in data.csv
#   mice::pool(with(mice(nhanes, m = 5, seed = 1), lm(chl ~ age + bmi)))   full pipeline
source("../_common.R")
suppressPackageStartupMessages(library(mice))
d <- read_data()
scen <- list()
for (s in unique(d$scenario)) {
  x <- d[d$scenario == s, ]
  dfcom <- as.numeric(x$dfcom[1])
  p <- pool.scalar(x$q, x$u, n = dfcom + 1, k = 1)
  tq <- qt(0.975, p$df)
  scen[[s]] <- list(qbar = p$qbar, ubar = p$ubar, b = p$b, t = p$t, df = p$df, r = p$r,
                    fmi = p$fmi, lower = p$qbar - tq * sqrt(p$t), upper = p$qbar + tq * sqrt(p$t),
                    p_value = 2 * pt(-abs(p$qbar / sqrt(p$t)), p$df))
}

imp <- mice(nhanes, m = 5, seed = 1, printFlag = FALSE)
fit <- with(imp, lm(chl ~ age + bmi))
pooled <- summary(pool(fit), conf.int = TRUE)
per_imp <- lapply(fit$analyses, function(f) summary(f)$coefficients)
pl <- pool(fit)$pooled
nh <- list(
  terms = as.character(pooled$term),
  estimates = lapply(seq_len(nrow(pooled)), function(i) sapply(per_imp, function(cf) cf[i, 1])),
  se = lapply(seq_len(nrow(pooled)), function(i) sapply(per_imp, function(cf) cf[i, 2])),
  dfcom = pl$dfcom[1],
  estimate = pooled$estimate, std_error = pooled$std.error, df = pooled$df,
  p_value = pooled$p.value, lower = pooled[["2.5 %"]], upper = pooled[["97.5 %"]],
  ubar = pl$ubar, b = pl$b, t = pl$t, riv = pl$riv, lambda = pl$lambda, fmi = pl$fmi
)
write_expected(list(scenarios = scen, nhanes_lm = nh))
