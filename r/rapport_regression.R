# Reference values for the RAPPORT study's adjusted regression (rheumetrics report rapport),
# computed with base R (stats::lm) straight from the bundled source file, not from rheumetrics.
#
# Run from the repository root:  Rscript r/rapport_regression.R
# Writes tests/study/data/rapport_regression_r.csv; the Python tests read it and never need R.
#
# The model of src/rheumetrics/studies/rapport.toml: change in HAQ-DI (month 12 minus month 0) on
# the change in DAS28, sex (reference female), age, years since diagnosis (one numeric slope)
# and HAQ-DI at month 0, complete cases.

src <- read.csv("src/rheumetrics/data/mdhglm_ra_data_RAPPORT.csv", stringsAsFactors = FALSE)
at <- function(item, month) {
  s <- src[src$outno == item & src$time == month & !is.na(src$outcome), c("id", "outcome")]
  setNames(s, c("id", paste0("v", item, "_", month)))
}
patients <- unique(src[, c("id", "sex", "age", "yearsRA")])
d <- Reduce(function(a, b) merge(a, b, by = "id", all.x = TRUE),
            list(patients, at(1, 0), at(1, 12), at(2, 0), at(2, 12)))
d$d_haq <- round(d$v1_12 - d$v1_0, 10)
d$d_das <- round(d$v2_12 - d$v2_0, 10)
d$sex <- factor(ifelse(d$sex == "V", "female", "male"), levels = c("female", "male"))
fit <- lm(d_haq ~ d_das + sex + age + yearsRA + v1_0, data = d)
s <- summary(fit)$coefficients
ci <- confint(fit)
out <- data.frame(
  term = c("Intercept", "change:das28", "group: male vs female", "age_at_baseline",
           "years_since_diagnosis", "haq_di@M0"),
  estimate = s[, 1], se = s[, 2], p = s[, 4], ci_low = ci[, 1], ci_high = ci[, 2],
  n = nobs(fit), r2 = summary(fit)$r.squared
)
write.csv(out, "tests/study/data/rapport_regression_r.csv", row.names = FALSE)
print(out, digits = 10)

# Table 2 of the report: age and years since diagnosis, women against men (one row per patient),
# by R's wilcox.test defaults (normal approximation with continuity correction when tied).
w <- lapply(c("age", "yearsRA"), function(v) wilcox.test(patients[[v]][patients$sex == "V"],
                                                         patients[[v]][patients$sex == "M"]))
tests <- data.frame(variable = c("age_at_baseline", "years_since_diagnosis"),
                    W = sapply(w, function(x) unname(x$statistic)),
                    p = sapply(w, function(x) x$p.value))
write.csv(tests, "tests/study/data/rapport_wilcox_r.csv", row.names = FALSE)
print(tests, digits = 10)
