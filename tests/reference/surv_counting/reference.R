# Reference values for Cox on counting-process (start, stop] data: time-varying x, delayed
# entry, per-subject weights, robust variance clustered on subject (see make_data.py).
source("../_common.R")
source("../_survival.R")
d <- read_data()
f <- Surv(start, stop, event) ~ x + z + male
# one row per subject: left truncation only (entry = first start, exit = last stop)
first <- d[!duplicated(d$id), ]
last <- d[!duplicated(d$id, fromLast = TRUE), ]
subj <- data.frame(id = first$id, entry = first$start, stop = last$stop, event = last$event,
                   z = first$z, male = first$male, w = first$w)
cox <- list(
  efron_w_cluster = cox_out(coxph(f, data = d, weights = w, cluster = id, ties = "efron",
                                  control = tight), resid = TRUE),
  breslow_w_cluster = cox_out(coxph(f, data = d, weights = w, cluster = id, ties = "breslow",
                                    control = tight), resid = TRUE),
  efron_cluster = cox_out(coxph(f, data = d, cluster = id, ties = "efron", control = tight)),
  efron_model = cox_out(coxph(f, data = d, ties = "efron", control = tight)),
  truncation_w_robust = cox_out(coxph(Surv(entry, stop, event) ~ z + male, data = subj,
                                      weights = w, cluster = id, ties = "efron",
                                      control = tight))
)
write_expected(list(cox = cox))
