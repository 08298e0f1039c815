# R mice on MAR data: mice(d, m = 100, maxit = 10, seed = 1) with its default methods
# (pmm for x1, logreg for the factor x2, polyreg for the factor x3). Imputations are random,
# so the tests compare pooled estimates within Monte Carlo error, not exactly:
#   mean(x1), mean(x2 == 1), mean(x3 == "C")   pooled with pool.scalar(Q, U, n = nrow(d))
#   lm(y ~ x1 + x2 + x3)                       pooled with pool()
source("../_common.R")
suppressPackageStartupMessages(library(mice))
d <- read_data()
d$x2 <- factor(d$x2, levels = c(0, 1))
d$x3 <- factor(d$x3, levels = c("A", "B", "C"))
m <- 100
imp <- mice(d, m = m, maxit = 10, seed = 1, printFlag = FALSE)
comp <- lapply(seq_len(m), function(i) complete(imp, i))
scalar <- function(f) {
  q <- sapply(comp, function(x) f(x)[1]); u <- sapply(comp, function(x) f(x)[2])
  p <- pool.scalar(q, u, n = nrow(d))
  list(qbar = p$qbar, b = p$b, ubar = p$ubar, t = p$t)
}
mean_of <- function(v) function(x) { z <- v(x); c(mean(z), var(z) / length(z)) }
fit <- with(imp, lm(y ~ x1 + x2 + x3))
pl <- pool(fit)$pooled
# complete-case and full-data reference points for orientation
write_expected(list(
  m = m, method = as.list(imp$method),
  x1_mean = scalar(mean_of(function(x) x$x1)),
  x2_prop = scalar(mean_of(function(x) as.numeric(x$x2 == "1"))),
  x3_c_prop = scalar(mean_of(function(x) as.numeric(x$x3 == "C"))),
  lm = list(terms = as.character(pl$term), qbar = pl$estimate, b = pl$b, ubar = pl$ubar, t = pl$t)
))
