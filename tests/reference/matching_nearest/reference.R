# Greedy nearest-neighbour matching references.
#
# 1. `greedy`: an independent brute-force greedy matcher written here (for each treated unit
#    in the visiting order, the closest still-available control with |d_i - d_j| <= caliper;
#    k rounds for ratio k). This is the reference for correct matched sets.
# 2. MatchIt 4.5.1 (the version Debian bookworm ships here) for the same calls. Its C++
#    nearest-neighbour code applies the caliper and the left/right choice through an integer
#    abs() (kosukeimai/MatchIt#163, fixed in later releases), so its matched sets are not
#    nearest-neighbour ones; the tests reproduce them exactly by emulating that integer
#    abs, which shows the algorithm (sort, visiting order, rounds, ties, weights) is
#    MatchIt's.
source("../_common.R")
suppressPackageStartupMessages(library(MatchIt))
d <- read_data()
d$lps <- qlogis(d$ps)
z <- d$treated

greedy <- function(dist, ord = "data", caliper = NULL, ratio = 1, replace = FALSE) {
  t <- which(z == 1); c0 <- which(z == 0)
  visit <- switch(ord, data = t,
                  largest = t[order(dist[t], decreasing = TRUE)],
                  smallest = t[order(dist[t])])
  used <- rep(FALSE, length(z))
  mm <- matrix(0L, length(t), ratio)
  row_of <- setNames(seq_along(t), t)
  for (r in seq_len(ratio)) for (i in visit) {
    cand <- c0[!used[c0]]
    cand <- setdiff(cand, mm[row_of[as.character(i)], ])
    dd <- abs(dist[cand] - dist[i])
    if (!is.null(caliper)) { cand <- cand[dd <= caliper]; dd <- dd[dd <= caliper] }
    if (length(cand) == 0) next
    j <- cand[which.min(dd)]
    mm[row_of[as.character(i)], r] <- j
    if (!replace) used[j] <- TRUE
  }
  # MatchIt-style weights: treated 1, control sum of 1/(controls in set), rescaled to the
  # number of distinct matched controls
  w <- numeric(length(z))
  for (s in seq_len(nrow(mm))) if (mm[s, 1] > 0) {
    cs <- mm[s, mm[s, ] > 0]; w[t[s]] <- 1; w[cs] <- w[cs] + 1 / length(cs)
  }
  ctl <- unique(mm[mm > 0]); w[ctl] <- w[ctl] * length(ctl) / sum(w[ctl])
  list(match_matrix = lapply(seq_len(nrow(mm)), function(i) I(mm[i, ])), weights = w,
       caliper = if (is.null(caliper)) NA else caliper)
}
sd_overall <- function(x) sd(x)
sd_pooled <- function(x) sqrt((var(x[z == 1]) + var(x[z == 0])) / 2)

matchit451 <- function(distance, caliper = 0.2, m.order = "data", ratio = 1, replace = FALSE,
                       std.caliper = TRUE) {
  m <- suppressWarnings(matchit(treated ~ x, data = d, method = "nearest", distance = distance,
               caliper = caliper, std.caliper = std.caliper, m.order = m.order,
               ratio = ratio, replace = replace))
  idx <- matrix(as.integer(m$match.matrix), nrow = nrow(m$match.matrix))  # 1-based rows
  idx[is.na(idx)] <- 0L
  list(match_matrix = lapply(seq_len(nrow(idx)), function(i) I(idx[i, ])),
       weights = unname(m$weights),
       caliper = if (is.null(m$caliper)) NA else unname(m$caliper[1]))
}

cl <- 0.2 * sd_overall(d$lps); cp <- 0.2 * sd_pooled(d$lps); cps <- 0.2 * sd_overall(d$ps)

# Matched-pair Cox with robust SE clustered on the matched set (Austin 2013), on the greedy
# 1:2 sets and on the greedy 1:1 pairs (logit PS, caliper 0.2 SD): stack each set's treated
# unit and controls. Sets of unequal size (1:2 sets the caliper left with one control) are
# weighted by MatchIt's match.data() weights (treated 1, a control 1/(controls in its set),
# the controls' weights rescaled to sum to the number of control rows); the unweighted fit
# of the same 1:2 sets is written too (matched_cox_unweighted).
suppressPackageStartupMessages(library(survival))
t_rows <- which(z == 1)
clustered_cox <- function(g, weighted = TRUE) {
  stack <- do.call(rbind, lapply(seq_along(t_rows), function(s) {
    cs <- g$match_matrix[[s]]; cs <- cs[cs > 0]
    if (length(cs) == 0) return(NULL)
    data.frame(row = c(t_rows[s], cs), pair = s, w = c(1, rep(1 / length(cs), length(cs))))
  }))
  ctl <- z[stack$row] == 0
  stack$w[ctl] <- stack$w[ctl] * sum(ctl) / sum(stack$w[ctl])
  md <- cbind(d[stack$row, ], pair = stack$pair, fw = 1)
  sizes <- table(stack$pair)
  if (weighted && min(sizes) < max(sizes)) md$fw <- stack$w
  fits <- lapply(c(efron = "efron", breslow = "breslow"), function(ties) {
    f <- coxph(Surv(time, event) ~ treated, data = md, weights = fw, cluster = pair,
               ties = ties, control = coxph.control(eps = 1e-12, toler.chol = 1e-15))
    list(coef = unname(coef(f)), se_robust = unname(sqrt(vcov(f)[1, 1])),
         se_naive = unname(sqrt(f$naive.var[1, 1])), n = f$n)
  })
  fits$call <- paste0("coxph(Surv(time, event) ~ treated, data = matched, ",
                       if (weighted) "weights = w (sets of unequal size), " else "",
                       "cluster = pair, ties = ties)")
  fits$incomplete_sets <- sum(sizes < max(sizes))
  fits
}
matched_cox <- clustered_cox(greedy(d$lps, "data", cl, ratio = 2))
matched_cox_unweighted <- clustered_cox(greedy(d$lps, "data", cl, ratio = 2), weighted = FALSE)
matched_cox_pairs <- clustered_cox(greedy(d$lps, "data", cl))

write_expected(list(
  matched_cox = matched_cox,
  matched_cox_unweighted = matched_cox_unweighted,
  matched_cox_pairs = matched_cox_pairs,
  greedy = list(
    logit_data = greedy(d$lps, "data", cl),
    logit_largest = greedy(d$lps, "largest", cl),
    logit_smallest = greedy(d$lps, "smallest", cl),
    logit_data_pooled = greedy(d$lps, "data", cp),
    logit_data_ratio2 = greedy(d$lps, "data", cl, ratio = 2),
    logit_largest_ratio3 = greedy(d$lps, "largest", cl, ratio = 3),
    logit_replace = greedy(d$lps, "data", cl, replace = TRUE),
    ps_data = greedy(d$ps, "data", cps),
    ps_raw_005 = greedy(d$ps, "largest", 0.05),
    logit_nocal_largest = greedy(d$lps, "largest", NULL)
  ),
  matchit_4_5_1 = list(
    call = "matchit(treated ~ x, data, method = 'nearest', distance = qlogis(ps), caliper = 0.2, std.caliper = TRUE, m.order = ...)",
    logit_data = matchit451(d$lps, m.order = "data"),
    logit_largest = matchit451(d$lps, m.order = "largest"),
    logit_smallest = matchit451(d$lps, m.order = "smallest"),
    logit_data_ratio2 = matchit451(d$lps, m.order = "data", ratio = 2),
    logit_largest_ratio3 = matchit451(d$lps, m.order = "largest", ratio = 3),
    logit_replace = matchit451(d$lps, m.order = "data", replace = TRUE),
    ps_data = matchit451(d$ps, m.order = "data"),
    ps_raw_005 = matchit451(d$ps, caliper = 0.05, std.caliper = FALSE, m.order = "largest"),
    logit_nocal_largest = matchit451(d$lps, caliper = NULL, m.order = "largest")
  )
))
