# ARR at t between the arms' Kaplan-Meier curves, from R's survival estimates and SEs:
#   s <- summary(survfit(Surv(time, event) ~ 1, data = arm), times = t)      (Greenwood)
#   s <- summary(survfit(Surv(time, event) ~ 1, data = arm, weights = w, robust = TRUE), times = t)
#   ARR = s_T$surv - s_C$surv; SE = sqrt(s_T$std.err^2 + s_C$std.err^2); Wald CI; NNT = 1/ARR
source("../_common.R")
suppressPackageStartupMessages(library(survival))
d <- read_data()
one <- function(weighted, t) {
  at <- lapply(c(1, 0), function(a) {
    sub <- d[d$treated == a, ]
    f <- if (weighted) survfit(Surv(time, event) ~ 1, data = sub, weights = w, robust = TRUE)
         else survfit(Surv(time, event) ~ 1, data = sub)
    s <- summary(f, times = t)
    c(s$surv, s$std.err)
  })
  arr <- at[[1]][1] - at[[2]][1]; se <- sqrt(at[[1]][2]^2 + at[[2]][2]^2)
  z <- qnorm(0.975)
  list(t = t, s_t = at[[1]][1], se_t = at[[1]][2], s_c = at[[2]][1], se_c = at[[2]][2],
       arr = arr, se = se, lower = arr - z * se, upper = arr + z * se,
       p = 2 * pnorm(-abs(arr / se)), nnt = 1 / arr,
       nnt_lower_limit = 1 / (arr - z * se), nnt_upper_limit = 1 / (arr + z * se))
}
write_expected(list(greenwood_12 = one(FALSE, 12), greenwood_6 = one(FALSE, 6),
                    ij_12 = one(TRUE, 12), ij_24 = one(TRUE, 24)))
