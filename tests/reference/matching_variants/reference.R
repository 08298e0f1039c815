# Matching variants: Matching::Match (estimates, Abadie-Imbens SEs, matched pairs), MatchIt
# nearest with replacement and ratio 2 (distance passed as a matrix), MatchIt nearest on its
# own Mahalanobis distance, and optimal pair matching as a linear assignment problem solved
# by clue::solve_LSAP (optmatch, which MatchIt's method = "optimal" needs, is not
# installable here; solve_LSAP is an independent Hungarian-method solver of the same
# problem: minimum total distance). The Mahalanobis distances with the pooled within-arm
# covariance are MatchIt's own (mahalanobis_dist(), matchit(distance = "mahalanobis")),
# not a formula written out here.
#
# Every Match call sets distance.tolerance = 0 and ties explicitly: Match's default
# tolerance (1e-5) treats near-ties as ties and would change the matched sets.
source("../_common.R")
suppressPackageStartupMessages({library(Matching); library(MatchIt); library(clue)})
d <- read_data()
z <- d$treated
Xc <- as.matrix(d[, c("x1", "x2", "x3", "x4")])

m <- function(X, ...) {
  r <- Match(Y = d$y, Tr = z, X = X, distance.tolerance = 0, ...)
  list(est = unname(r$est[1, 1]), se = unname(r$se), se_cond = unname(r$se.cond),
       index_treated = r$index.treated, index_control = r$index.control,
       weights = unname(r$weights), ndrops = r$ndrops)
}
match_calls <- list(
  ps_att_ties = m(d$ps, estimand = "ATT", M = 1, replace = TRUE, ties = TRUE),
  ps_att_noties = m(d$ps, estimand = "ATT", M = 1, replace = TRUE, ties = FALSE),
  ps_ate_ties = m(d$ps, estimand = "ATE", M = 1, replace = TRUE, ties = TRUE),
  ps_att_noreplace = m(d$ps, estimand = "ATT", M = 1, replace = FALSE, ties = FALSE),
  ps_att_caliper = m(d$ps, estimand = "ATT", M = 1, replace = TRUE, ties = TRUE, caliper = 0.1),
  invvar_att = m(Xc, estimand = "ATT", M = 1, Weight = 1, replace = TRUE, ties = TRUE),
  mahal_att = m(Xc, estimand = "ATT", M = 1, Weight = 2, replace = TRUE, ties = TRUE),
  mahal_att_m2 = m(Xc, estimand = "ATT", M = 2, Weight = 2, replace = TRUE, ties = TRUE),
  mahal_ate = m(Xc, estimand = "ATE", M = 1, Weight = 2, replace = TRUE, ties = TRUE),
  mahal_atc = m(Xc, estimand = "ATC", M = 1, Weight = 2, replace = TRUE, ties = TRUE),
  mahal_att_caliper = m(Xc, estimand = "ATT", M = 1, Weight = 2, replace = TRUE, ties = TRUE,
                        caliper = c(0.2, 0.2, 0.5, 10)),
  mahal_att_noreplace = m(Xc, estimand = "ATT", M = 1, Weight = 2, replace = FALSE,
                          ties = FALSE),
  mahal_att_noreplace_caliper = m(Xc, estimand = "ATT", M = 1, Weight = 2, replace = FALSE,
                                  ties = FALSE, caliper = c(0.2, 0.2, 0.5, 10))
)

# MatchIt nearest, with replacement, ratio 2, no caliper. The distance is passed as the
# n1 x n0 matrix |ps_i - ps_j|: MatchIt 4.5.1's numeric-distance code with replacement
# compares distances through an integer abs() and picks the control below each treated
# score; its distance-matrix code is correct.
t_rows <- which(z == 1); c_rows <- which(z == 0)
D <- abs(outer(d$ps[t_rows], d$ps[c_rows], "-"))
dimnames(D) <- list(rownames(d)[t_rows], rownames(d)[c_rows])
mi <- matchit(treated ~ x1, data = d, method = "nearest", distance = D, replace = TRUE,
              ratio = 2, m.order = "data")
mm <- matrix(as.integer(mi$match.matrix), nrow = nrow(mi$match.matrix))
matchit_replace_ratio2 <- list(
  call = "matchit(treated ~ x1, d, method = 'nearest', distance = <n1 x n0 |ps_i - ps_j|>, replace = TRUE, ratio = 2, m.order = 'data')",
  match_matrix = lapply(seq_len(nrow(mm)), function(i) I(mm[i, ])), weights = unname(mi$weights))

# MatchIt nearest on its Mahalanobis distance (pooled within-arm covariance, MatchIt's
# pooled_cov), without replacement, treated units in data order; ratio 1 and 2.
matchit_mahal <- function(ratio) {
  mi <- matchit(treated ~ x1 + x2 + x3 + x4, data = d, method = "nearest",
                distance = "mahalanobis", ratio = ratio, m.order = "data")
  mm <- matrix(as.integer(mi$match.matrix), nrow = nrow(mi$match.matrix))
  list(call = sprintf("matchit(treated ~ x1 + x2 + x3 + x4, d, method = 'nearest', distance = 'mahalanobis', ratio = %d, m.order = 'data')", ratio),
       match_matrix = lapply(seq_len(nrow(mm)), function(i) I(mm[i, ])),
       weights = unname(mi$weights))
}
matchit_mahalanobis <- list(ratio1 = matchit_mahal(1), ratio2 = matchit_mahal(2))

# Optimal 1:1 pair matching: solve_LSAP on the n1 x n0 distance matrix (rows = treated).
lsap <- function(D) {
  a <- as.integer(solve_LSAP(D))
  list(control = c_rows[a], total = sum(D[cbind(seq_len(nrow(D)), a)]))
}
lps <- qlogis(d$ps)
D_mahal <- unname(mahalanobis_dist(treated ~ x1 + x2 + x3 + x4, data = d))
optimal <- list(
  logit = lsap(abs(outer(lps[t_rows], lps[c_rows], "-"))),
  ps = lsap(abs(outer(d$ps[t_rows], d$ps[c_rows], "-"))),
  mahalanobis_pooled = c(lsap(D_mahal),
                         call = "solve_LSAP(mahalanobis_dist(treated ~ x1 + x2 + x3 + x4, d))"),
  treated = t_rows
)

write_expected(list(match = match_calls, matchit_replace_ratio2 = matchit_replace_ratio2,
                    matchit_mahalanobis = matchit_mahalanobis, optimal = optimal))
