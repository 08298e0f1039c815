# Shared helpers for the reference cases; each case's reference.R does source("../_common.R").
suppressPackageStartupMessages(library(jsonlite))

write_expected <- function(x, path = "expected.json") {
  pkgs <- setdiff(loadedNamespaces(), c("base", "stats", "graphics", "grDevices", "utils",
                                        "datasets", "methods", "compiler", "tools"))
  pkgs <- sort(pkgs)
  x[["_meta"]] <- list(
    R = R.version.string,
    packages = setNames(lapply(pkgs, function(p) as.character(packageVersion(p))), pkgs)
  )  # no date: a rerun that reproduces the values must leave the file unchanged
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, pretty = TRUE,
                    na = "string", null = "null"), path)
  invisible(path)
}

read_data <- function(path = "data.csv") read.csv(path, stringsAsFactors = FALSE)
