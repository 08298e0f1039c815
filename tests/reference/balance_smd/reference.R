# SMDs and variance ratios computed by hand in base R (cobalt is not packaged for this
# machine's R), following Austin (2009) / cobalt::col_w_smd(s.d.denom = "pooled"):
#   weighted variance   stats::cov.wt(cbind(x), wt = w, method = "unbiased")$cov
#                       = sum w (x - m)^2 / (1 - sum w^2)   with w normalised to sum 1
#   binary variance     p (1 - p)
#   SMD                 (m1 - m0) / sqrt((s1^2 + s0^2) / 2)
#   categorical         Yang & Dalton (2012): sqrt(t(d) %*% solve(S) %*% d) over levels 2..K
source("../_common.R")
d <- read_data()
tr <- d$treated == 1

wmean <- function(x, w) sum(w * x) / sum(w)
wvar <- function(x, w) cov.wt(cbind(x), wt = w / sum(w), method = "unbiased")$cov[1, 1]
arm <- function(x, w, binary) {
  m1 <- wmean(x[tr], w[tr]); m0 <- wmean(x[!tr], w[!tr])
  if (binary) { v1 <- m1 * (1 - m1); v0 <- m0 * (1 - m0) }
  else { v1 <- wvar(x[tr], w[tr]); v0 <- wvar(x[!tr], w[!tr]) }
  list(m1 = m1, m0 = m0, v1 = v1, v0 = v0)
}
one <- rep(1, nrow(d))
smd_set <- function(x, binary) {
  u <- arm(x, one, binary)
  out <- list(mean_t = u$m1, mean_c = u$m0, sd_t = sqrt(u$v1), sd_c = sqrt(u$v0),
              smd = (u$m1 - u$m0) / sqrt((u$v1 + u$v0) / 2),
              smd_treated_denom = (u$m1 - u$m0) / sqrt(u$v1),
              vr = if (binary) NA else u$v1 / u$v0)
  all_var <- if (binary) mean(x) * (1 - mean(x)) else var(x)
  out$smd_all_denom <- (u$m1 - u$m0) / sqrt(all_var)
  for (wn in c("w", "mw")) {
    a <- arm(x, d[[wn]], binary)
    out[[wn]] <- list(mean_t = a$m1, mean_c = a$m0, sd_t = sqrt(a$v1), sd_c = sqrt(a$v0),
                      smd = (a$m1 - a$m0) / sqrt((u$v1 + u$v0) / 2),          # unadjusted denominator
                      smd_weighted_denom = (a$m1 - a$m0) / sqrt((a$v1 + a$v0) / 2),
                      vr = if (binary) NA else a$v1 / a$v0,
                      sum_w_t = sum(d[[wn]][tr]), sum_w_c = sum(d[[wn]][!tr]))
  }
  out
}
yang_dalton <- function(p1, p0, s1, s0) {
  k <- length(p1); dd <- (p1 - p0)[-1]; a <- s1[-1]; b <- s0[-1]
  S <- -(outer(a, a) + outer(b, b)) / 2
  diag(S) <- (a * (1 - a) + b * (1 - b)) / 2
  sqrt(drop(t(dd) %*% solve(S) %*% dd))
}
levs <- c("A5", "A6", "B7")
cat_set <- function() {
  per <- lapply(levs, function(l) smd_set(as.numeric(d$child_pugh == l), TRUE))
  names(per) <- levs
  pt <- sapply(per, `[[`, "mean_t"); pc <- sapply(per, `[[`, "mean_c")
  res <- list(levels = per, yd = yang_dalton(pt, pc, pt, pc))
  for (wn in c("w", "mw")) {
    wt <- sapply(per, function(p) p[[wn]]$mean_t); wc <- sapply(per, function(p) p[[wn]]$mean_c)
    res[[paste0("yd_", wn)]] <- yang_dalton(wt, wc, pt, pc)
    res[[paste0("yd_", wn, "_weighted_denom")]] <- yang_dalton(wt, wc, wt, wc)
  }
  # permutation of the dropped level leaves the statistic unchanged
  o <- c(3, 1, 2)
  res$yd_reordered <- yang_dalton(pt[o], pc[o], pt[o], pc[o])
  res
}
write_expected(list(age = smd_set(d$age, FALSE), afp = smd_set(d$afp, FALSE),
                    male = smd_set(d$male, TRUE), child_pugh = cat_set()))
