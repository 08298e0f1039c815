# Two-sample t-tests of two arms, two-sided:
#   t.test(x ~ arm, var.equal = TRUE)$p.value    Student's t, pooled variance, n1 + n2 - 2 df
#   t.test(x ~ arm, var.equal = FALSE)$p.value   Welch's t, Welch-Satterthwaite df
# with each arm's mean, SD (n - 1 denominator) and size, from which the audit recomputes them.
source("../_common.R")
d <- read_data()
out <- list()
for (name in unique(d$sample)) {
  s <- d[d$sample == name, ]
  a <- s$x[s$arm == "a"]
  b <- s$x[s$arm == "b"]
  st <- t.test(a, b, var.equal = TRUE)
  we <- t.test(a, b, var.equal = FALSE)
  out[[name]] <- list(mean_a = mean(a), sd_a = sd(a), n_a = length(a),
                      mean_b = mean(b), sd_b = sd(b), n_b = length(b),
                      p_student = st$p.value, p_welch = we$p.value,
                      df_welch = unname(we$parameter))
}
write_expected(out)
