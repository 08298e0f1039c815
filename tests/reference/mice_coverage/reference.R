# R mice on 100 MAR data sets, one by one:
#   imp <- mice(d, m = 10, maxit = 5, seed = rep + 1)      (pmm for x1, logreg x2, polyreg x3)
#   p <- pool.scalar(Q = mean(x1) per imputation, U = var(x1) / n, n = n)
# The tests compare their own pooled estimates and variances with these, data set by data
# set (a paired comparison), and both coverages of the true mean 0.
source("../_common.R")
suppressPackageStartupMessages(library(mice))
all <- read_data()
reps <- sort(unique(all$rep))
res <- lapply(reps, function(r) {
  d <- all[all$rep == r, c("y", "x1", "x2", "x3")]
  d$x2 <- factor(d$x2, levels = c(0, 1)); d$x3 <- factor(d$x3, levels = c("A", "B", "C"))
  imp <- mice(d, m = 10, maxit = 5, seed = r + 1, printFlag = FALSE)
  q <- sapply(1:10, function(k) mean(complete(imp, k)$x1))
  u <- sapply(1:10, function(k) var(complete(imp, k)$x1) / nrow(d))
  p <- pool.scalar(q, u, n = nrow(d))
  hw <- qt(0.975, p$df) * sqrt(p$t)
  c(p$qbar, p$t, p$df, as.numeric(abs(p$qbar) <= hw))
})
res <- do.call(rbind, res)
write_expected(list(qbar = res[, 1], t = res[, 2], df = res[, 3], covered = res[, 4],
                    coverage = mean(res[, 4]), bias = mean(res[, 1])))
