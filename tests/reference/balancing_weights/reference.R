# Balancing weights, written here in plain R from the published definitions, because
# WeightIt, ebal and CBPS are not installable on this machine (no Debian package; CRAN is
# not reachable). Each is an independent formulation of the same estimator, not a port of
# the Python code:
#
# 1. entropy balancing (Hainmueller 2012): Newton's method with step halving on the dual
#    log(sum(exp(C %*% lambda))), C = covariates of the reweighted arm minus the target
#    means, on the covariates' own scale; weights exp(C lambda), scaled to mean 1 in the arm.
#    ATT: controls to the treated means; ATC: treated to the control means; ATE: each arm to
#    the overall means. moments = 2 adds the squares of x1 and x2 (x3 is binary).
# 2. just-identified CBPS (Imai & Ratkovic 2014, WeightIt method = "cbps", over = FALSE):
#    Newton's method on the balance moment conditions themselves (their analytic Jacobian),
#    started at the glm() fit.
#    ATE: mean(d * (z / e - (1 - z) / (1 - e))) = 0; ATT: mean(d * (z - (1 - z) e / (1 - e))) = 0.
# 3. matching weights (Li & Greene 2013; WeightIt estimand = "ATM") from the glm() score.
# Effects are coef(lm(y ~ treated, weights = w))[2], the weighted difference in means.
source("../_common.R")
d <- read_data()
X <- as.matrix(d[, c("x1", "x2", "x3")])
z <- d$treated
fit_effect <- function(w) unname(coef(lm(d$y ~ z, weights = w))[2])
wmeans <- function(Xm, w) rbind(colSums(Xm[z == 0, ] * w[z == 0]) / sum(w[z == 0]),
                                colSums(Xm[z == 1, ] * w[z == 1]) / sum(w[z == 1]))

lse <- function(v) { m <- max(v); m + log(sum(exp(v - m))) }
ebal_arm <- function(Xa, target) {
  C <- sweep(Xa, 2, target)
  lam <- rep(0, ncol(C))
  for (it in 1:200) {
    eta <- as.vector(C %*% lam)
    p <- exp(eta - lse(eta))
    g <- colSums(p * C)
    if (max(abs(g)) < 1e-12) break
    H <- crossprod(C * sqrt(p)) - tcrossprod(g)
    step <- solve(H, g)
    f0 <- lse(eta); s <- 1
    while (lse(as.vector(C %*% (lam - s * step))) > f0 - 1e-4 * s * sum(g * step) && s > 1e-8)
      s <- s / 2
    lam <- lam - s * step
  }
  stopifnot(max(abs(g)) < 1e-10)
  w <- exp(as.vector(C %*% lam) - max(C %*% lam))
  w / mean(w)
}
ebal <- function(Xm, estimand) {
  w <- rep(1, nrow(Xm))
  if (estimand == "ATT") w[z == 0] <- ebal_arm(Xm[z == 0, ], colMeans(Xm[z == 1, ]))
  if (estimand == "ATC") w[z == 1] <- ebal_arm(Xm[z == 1, ], colMeans(Xm[z == 0, ]))
  if (estimand == "ATE") for (a in 0:1) w[z == a] <- ebal_arm(Xm[z == a, ], colMeans(Xm))
  list(weights = w, weighted_means = wmeans(Xm, w), effect = fit_effect(w))
}

cbps <- function(estimand) {
  D <- cbind(1, X)
  beta <- coef(glm(z ~ X, family = binomial))
  gbar <- function(b) {
    e <- plogis(as.vector(D %*% b))
    m <- if (estimand == "ATE") z / e - (1 - z) / (1 - e) else z - (1 - z) * e / (1 - e)
    dm <- if (estimand == "ATE") -z * (1 - e) / e - (1 - z) * e / (1 - e) else -(1 - z) * e / (1 - e)
    list(g = colMeans(D * m), J = crossprod(D, D * dm) / nrow(D))
  }
  for (it in 1:100) {
    s <- gbar(beta)
    if (max(abs(s$g)) < 1e-13) break
    step <- solve(s$J, s$g); a <- 1
    while (max(abs(gbar(beta - a * step)$g)) >= max(abs(s$g)) && a > 1e-8) a <- a / 2
    beta <- beta - a * step
  }
  stopifnot(max(abs(gbar(beta)$g)) < 1e-11)
  e <- plogis(as.vector(D %*% beta))
  w <- if (estimand == "ATE") ifelse(z == 1, 1 / e, 1 / (1 - e)) else ifelse(z == 1, 1, e / (1 - e))
  list(coef = unname(beta), ps = e, weights = w, weighted_means = wmeans(X, w),
       effect = fit_effect(w))
}

ps <- unname(fitted(glm(z ~ X, family = binomial)))
atm <- pmin(ps, 1 - ps) / ifelse(z == 1, ps, 1 - ps)
X2 <- cbind(X, X[, 1]^2, X[, 2]^2)

write_expected(list(
  ebal = list(ATT = ebal(X, "ATT"), ATC = ebal(X, "ATC"), ATE = ebal(X, "ATE"),
              ATT_moments2 = ebal(X2, "ATT"), ATE_moments2 = ebal(X2, "ATE")),
  cbps = list(ATE = cbps("ATE"), ATT = cbps("ATT")),
  matching = list(ps = ps, weights = atm, effect = fit_effect(atm))
))
