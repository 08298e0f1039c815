# Wall-clock time of riskRegression::ate on the ate_survival fixture (n = 300, horizons
# 6/12/24, Cox outcome and censoring models, logistic treatment model, se = TRUE), each
# estimator alone and all three together; the models are fitted inside each call, as
# tacebench's survival_ate fits its own. Rounds: 3 untimed, then 25 timed; writes
# timing.json with median, quartiles and min in seconds (benchmarks/speed/report.py reads
# it for docs/speed.md). Run from this folder: Rscript --vanilla timing.R
suppressPackageStartupMessages({library(survival); library(riskRegression); library(jsonlite)})
d <- read.csv("../../../../tests/reference/ate_survival/data.csv")
d$treated <- factor(d$treated)
run <- function(estimator) {
  ate(event = Surv(time, event) ~ treated + size + afp400 + cp_b,
      treatment = treated ~ size + afp400 + cp_b,
      censor = Surv(time, event == 0) ~ treated + size + afp400 + cp_b,
      data = d, times = c(6, 12, 24), estimator = estimator, se = TRUE, verbose = FALSE)
}
cases <- list(all = c("GFORMULA", "IPTW", "AIPTW"), gformula = "GFORMULA", iptw = "IPTW",
              aiptw = "AIPTW")
out <- list()
for (nm in names(cases)) {
  for (i in 1:3) run(cases[[nm]])
  tt <- sapply(1:25, function(i) system.time(run(cases[[nm]]))[["elapsed"]])
  q <- quantile(tt, c(0.25, 0.5, 0.75), type = 7, names = FALSE)
  out[[nm]] <- list(median = q[2], q1 = q[1], q3 = q[3], min = min(tt), rounds = length(tt))
}
out[["_meta"]] <- list(R = R.version.string,
                       riskRegression = as.character(packageVersion("riskRegression")),
                       date = format(Sys.time(), "%Y-%m-%dT%H:%M:%S%z"),
                       load_average = tryCatch(readLines("/proc/loadavg"), error = function(e) NA))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "timing.json")
