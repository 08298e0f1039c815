# The median of a Table 1 covariate, unweighted and weighted:
#   median(x)                                                  (no weights)
#   median(rep(x, w))                                          (integer frequency weights)
#   svyquantile(~x, svydesign(ids = ~1, weights = ~w), 0.5, qrule = "math")   (other weights)
source("../_common.R")
suppressPackageStartupMessages(library(survey))
d <- read_data()
out <- list()
for (case in unique(d$case)) {
  s <- d[d$case == case, ]
  kind <- s$kind[1]
  if (kind == "none") {
    m <- median(s$x)
  } else if (kind == "frequency") {
    m <- median(rep(s$x, s$w))
  } else {
    des <- svydesign(ids = ~1, weights = ~w, data = s)
    m <- unname(coef(svyquantile(~x, des, 0.5, qrule = "math", ci = FALSE)))
  }
  out[[case]] <- list(median = m)
}
write_expected(out)
