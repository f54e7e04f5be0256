# Reference values for rheumetrics.stats.median_test(..., variant = "permutation", ties = "mean"):
# the SAS NPAR1WAY MEDIAN test, whose median scores are averaged over tied values.
#
# Run from the repository root:  Rscript r/median_scores.R
# Writes tests/stats/data/median_scores_r.json; the Python tests read it and never need R.
#
# Median scores (SAS/STAT User's Guide, PROC NPAR1WAY, "Median Scores" and "Tied Values"): with
# the observations sorted and given positions 1..n as if there were no ties, the ordinary score
# is 1 above (n + 1) / 2 and 0 otherwise; tied observations get the average of their scores.
# The statistic is coin's independence_test of those scores (quadratic form, permutation
# variance: the chi-square of SAS's one-way analysis of scores) with its asymptotic p.

suppressMessages({
  library(jsonlite)
  library(coin)
})
set.seed(20261130)

sas_median_scores <- function(x) {
  n <- length(x)
  ordinary <- as.numeric(seq_len(n) > (n + 1) / 2)
  sorted <- sort(x)
  block <- ave(ordinary, sorted, FUN = mean)   # average over each run of ties
  block[rank(x, ties.method = "first")]   # each observation's sorted position
}

cases <- list()
for (i in 1:40) {
  k <- if (i %% 4 == 0) 3 else 2
  sizes <- sample(5:60, k, replace = TRUE)
  hi <- sample(c(3, 6, 12, 40), 1)   # few distinct values: many ties, often at the median
  x <- unlist(lapply(seq_len(k), function(j) sample(0:hi, sizes[j], replace = TRUE) + (j == 2) * sample(0:1, 1)))
  if (i %% 5 == 0) x <- round(x / 8, 3)   # eighths, as a HAQ
  g <- factor(rep(LETTERS[seq_len(k)], sizes))
  s <- sas_median_scores(x)
  it <- independence_test(x ~ g, ytrafo = function(data) trafo(data, numeric_trafo = sas_median_scores),
                          teststat = "quadratic")
  cases[[i]] <- list(x = x, g = as.character(g), stat = unname(statistic(it)),
                     p = unname(pvalue(it)), score_sums = unname(tapply(s, g, sum)))
}
out <- list(r_version = R.version.string, coin = as.character(packageVersion("coin")), cases = cases)
dir.create("tests/stats/data", showWarnings = FALSE, recursive = TRUE)
write(toJSON(out, digits = NA, auto_unbox = TRUE), "tests/stats/data/median_scores_r.json")
cat("wrote tests/stats/data/median_scores_r.json\n")
