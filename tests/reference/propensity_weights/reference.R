# Propensity model (glm, binomial) and IPTW weights computed by hand from their definitions
# (WeightIt is not installable here; the formulas are WeightIt::get_w_from_ps's).
source("../_common.R")
d <- read_data()
d$child_pugh <- factor(d$child_pugh, levels = c("A5", "A6", "B7"))
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
f <- treated ~ size + number + age60 + child_pugh + afp400
m <- glm(f, family = binomial, data = d, control = ctl)
s <- summary(m)$coefficients
# non-integer case weights: binomial glm warns "non-integer #successes" but fits the same MLE
mw <- suppressWarnings(glm(f, family = binomial, data = d, weights = cw, control = ctl))
sw <- summary(mw)$coefficients
ps <- unname(fitted(m)); z <- d$treated
p1 <- mean(z)
w_ate <- ifelse(z == 1, 1 / ps, 1 / (1 - ps))
w_sate <- w_ate * ifelse(z == 1, p1, 1 - p1)
w_att <- ifelse(z == 1, 1, ps / (1 - ps))
w_ato <- ifelse(z == 1, 1 - ps, ps)
trunc <- function(w, type, sel = rep(TRUE, length(w))) {
  q <- quantile(w[sel], c(0.01, 0.99), type = type, names = FALSE)
  w[sel] <- pmin(pmax(w[sel], q[1]), q[2]); w
}
kish <- function(w) sum(w)^2 / sum(w^2)
write_expected(list(
  call = "glm(treated ~ size + number + age60 + child_pugh + afp400, binomial, epsilon = 1e-14)",
  names = rownames(s),
  coef = unname(s[, 1]), se = unname(s[, 2]), loglik = as.numeric(logLik(m)),
  coef_weighted = unname(sw[, 1]), se_weighted = unname(sw[, 2]),
  ps = ps,
  w_ate = w_ate, w_sate = w_sate, w_att = w_att, w_ato = w_ato,
  w_ate_trunc7 = trunc(w_ate, 7), w_ate_trunc3 = trunc(w_ate, 3),
  w_sate_trunc7 = trunc(w_sate, 7),
  w_att_trunc7 = trunc(w_att, 7, z == 0),
  sum_sate = c(sum(w_sate[z == 0]), sum(w_sate[z == 1])),
  ess_ate = c(kish(w_ate[z == 0]), kish(w_ate[z == 1])),
  ess_all = kish(w_ate)
))
