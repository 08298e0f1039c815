# Performance measures of Morris, White & Crowther (2019, Stat Med 38:2074), Table 6,
# transcribed in base R independently of the Python code (rsimsum is not installable here).
# Replicates used: converged with finite estimate and SE; truth 0.5; Wald 95% intervals.
source("../_common.R")
d <- read_data()
theta <- 0.5
z <- qnorm(0.975)
out <- list()
for (m in c("A", "B")) {
  all <- d[d$method == m, ]
  ok <- all$converged == 1 & is.finite(all$estimate) & is.finite(all$se)
  x <- all$estimate[ok]; s <- all$se[ok]; n <- length(x)
  xbar <- mean(x)
  empse <- sd(x)
  bias <- xbar - theta
  mse <- mean((x - theta)^2)
  modse <- sqrt(mean(s^2))
  vv <- var(s^2)
  lo <- x - z * s; hi <- x + z * s
  cover <- mean(lo <= theta & theta <= hi)
  becover <- mean(lo <= xbar & xbar <= hi)
  p <- 2 * pnorm(-abs(x / s))
  power <- mean(p <= 0.05)
  conv <- mean(ok)
  out[[m]] <- list(
    n = n,
    bias = bias, bias_mcse = sqrt(sum((x - xbar)^2) / (n * (n - 1))),
    relative_bias = bias / theta, relative_bias_mcse = sqrt(sum((x - xbar)^2) / (n * (n - 1))) / theta,
    empse = empse, empse_mcse = empse / sqrt(2 * (n - 1)),
    mse = mse, mse_mcse = sqrt(sum(((x - theta)^2 - mse)^2) / (n * (n - 1))),
    # RMSE: not in Table 6; MCSE by the delta method, MCSE(MSE) / (2 RMSE)
    rmse = sqrt(mse), rmse_mcse = sqrt(sum(((x - theta)^2 - mse)^2) / (n * (n - 1))) / (2 * sqrt(mse)),
    modse = modse, modse_mcse = sqrt(vv / (4 * n * modse^2)),
    relerr_modse = 100 * (modse / empse - 1),
    relerr_modse_mcse = 100 * (modse / empse) * sqrt(vv / (4 * n * modse^4) + 1 / (2 * (n - 1))),
    coverage = cover, coverage_mcse = sqrt(cover * (1 - cover) / n),
    becoverage = becover, becoverage_mcse = sqrt(becover * (1 - becover) / n),
    power = power, power_mcse = sqrt(power * (1 - power) / n),
    convergence = conv, convergence_mcse = sqrt(conv * (1 - conv) / nrow(all))
  )
}
# relative % increase in precision of B vs A on replicates where both are usable
a <- d[d$method == "A", ]; b <- d[d$method == "B", ]
both <- is.finite(a$estimate) & is.finite(b$estimate)
r2 <- var(a$estimate[both]) / var(b$estimate[both])
rho <- cor(a$estimate[both], b$estimate[both])
out[["relative_precision"]] <- list(value = 100 * (r2 - 1),
                                    mcse = 200 * r2 * sqrt((1 - rho^2) / (sum(both) - 1)))
write_expected(out)
