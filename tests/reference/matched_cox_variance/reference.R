# The matched Cox model of benchmarks.methods.matching (logit-PS nearest-neighbour matching,
# caliper 0.2 pooled SDs, visiting order of the data) in R's survival::coxph.
#
# 1. Matching with replacement (1:1 and 1:2): one row per patient per matched set (MatchIt's
#    get_matches() layout: a control used by several treated patients has one row in each
#    of their sets), and the variance the MatchIt "Estimating Effects" vignette gives for a
#    marginal HR after matching with replacement, from the appendix of Austin & Cafri (2020,
#    Stat Med 39:1623): clustered on both the matched set and the patient,
#      V = ks/(ks-1) V_set + ki/(ki-1) V_patient - kc/(kc-1) V_row,
#    each V a coxph robust variance (cluster = set, cluster = patient, each row its own),
#    k the number of clusters. The set-only variance (what the code before used) and the
#    patient-only variance are written too.
# 2. 1:k matching without replacement with incomplete sets: the Cox model weighted by the
#    matching weights (treated 1, a control 1/(controls in its set), the controls' weights
#    rescaled to sum to the number of control rows: MatchIt's match.data() weights), SE
#    clustered on the matched set. The unweighted fit (the code before) is written too.
source("../_common.R")
suppressPackageStartupMessages(library(survival))
d <- read_data()
z <- d$treated
lp <- predict(glm(treated ~ x1 + x2, family = binomial, data = d))
caliper <- 0.2 * sqrt((var(lp[z == 1]) + var(lp[z == 0])) / 2)

greedy <- function(ratio, replace) {
  t <- which(z == 1); c0 <- which(z == 0)
  used <- rep(FALSE, length(z))
  mm <- matrix(0L, length(t), ratio)
  for (r in seq_len(ratio)) for (s in seq_along(t)) {
    if (r > 1 && mm[s, 1] == 0) next
    cand <- setdiff(c0[!used[c0]], mm[s, ])
    dd <- abs(lp[cand] - lp[t[s]])
    cand <- cand[dd <= caliper]; dd <- dd[dd <= caliper]
    if (length(cand) == 0) next
    j <- cand[which.min(dd)]
    mm[s, r] <- j
    if (!replace) used[j] <- TRUE
  }
  # one row per patient per set, the treated patient first; row weights as described above
  stack <- do.call(rbind, lapply(seq_along(t), function(s) {
    cs <- mm[s, mm[s, ] > 0]
    if (length(cs) == 0) return(NULL)
    data.frame(id = c(t[s], cs), set = s, w = c(1, rep(1 / length(cs), length(cs))))
  }))
  ctl <- z[stack$id] == 0
  stack$w[ctl] <- stack$w[ctl] * sum(ctl) / sum(stack$w[ctl])
  cbind(d[stack$id, ], stack)
}

ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-15)
fit_var <- function(md, f, weighted, cluster = NULL) {
  # (coxph looks `weights` up in the data first: the column is set here)
  md$fw <- if (weighted) md$w else 1
  if (is.null(cluster)) {
    fit <- coxph(f, data = md, weights = fw, robust = TRUE, control = ctl)
  } else {
    md$cl <- cluster
    fit <- coxph(f, data = md, weights = fw, cluster = cl, control = ctl)
  }
  fit
}

twoway <- function(md, f, weighted) {
  fs <- fit_var(md, f, weighted, md$set); ks <- length(unique(md$set))
  fi <- fit_var(md, f, weighted, md$id); ki <- length(unique(md$id))
  fc <- fit_var(md, f, weighted); kc <- nrow(md)
  V <- (ks / (ks - 1)) * fs$var + (ki / (ki - 1)) * fi$var - (kc / (kc - 1)) * fc$var
  list(coef = unname(coef(fc)[1]), se = sqrt(V[1, 1]), se_set = sqrt(fs$var[1, 1]),
       se_patient = sqrt(fi$var[1, 1]), rows = nrow(md), sets = ks,
       patients = ki, reused_controls = sum(table(md$id[md$treated == 0]) > 1))
}

clustered <- function(md, f, weighted) {
  fit <- fit_var(md, f, weighted, md$set)
  list(coef = unname(coef(fit)[1]), se = sqrt(fit$var[1, 1]), rows = nrow(md),
       sets = length(unique(md$set)),
       incomplete_sets = sum(table(md$set[md$treated == 0]) < max(table(md$set)) - 1))
}

crude <- Surv(os_time, os_event) ~ treated
adjusted <- Surv(os_time, os_event) ~ treated + x1
r1 <- greedy(1, TRUE); r2 <- greedy(2, TRUE); n2 <- greedy(2, FALSE)
write_expected(list(
  caliper = caliper,
  replace_1to1 = twoway(r1, crude, FALSE),
  replace_1to1_adjusted = twoway(r1, adjusted, FALSE),
  replace_1to2 = twoway(r2, crude, TRUE),
  ratio2_weighted = clustered(n2, crude, TRUE),
  ratio2_unweighted = clustered(n2, crude, FALSE),
  call = paste("coxph(Surv(os_time, os_event) ~ treated, data = matched, weights = w,",
               "cluster = set | id | none, robust = TRUE)")
))
