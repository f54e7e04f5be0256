# Reference values for rheumetrics.stats.adjusted_means, computed with base R (stats::lm).
#
# Run from the repository root:  Rscript r/adjusted_means.R
# Writes tests/stats/data/adjusted_means_r.json (the simulated data sets and R's results); the
# Python tests read that file and never need R.
#
# Adjusted (least-squares) means as SAS LSMEANS and R emmeans compute them (emmeans is not
# used here): the prediction of the fitted lm for each group on a reference grid whose numeric
# covariates are at their means and whose other factors are averaged over their levels, with
# equal weights ("equal") or with their observed shares ("proportional"). The equal-weight
# mean is the average of predict() over the factor levels, its variance L V L' with
# L = the average row of model.matrix() for the grid; the proportional mean is
# predict(lm, newdata, interval = "confidence") on a numeric 0/1 coding of the factor at its mean.

suppressMessages(library(jsonlite))
set.seed(20261130)

make_data <- function(n, k_groups, k_factor, missing_share) {
  g <- factor(sample(LETTERS[1:k_groups], n, replace = TRUE), levels = LETTERS[1:k_groups])
  f <- factor(sample(c("female", "male", "other")[1:k_factor], n, replace = TRUE,
                     prob = c(0.6, 0.3, 0.1)[1:k_factor] / sum(c(0.6, 0.3, 0.1)[1:k_factor])))
  x1 <- round(rnorm(n, 0, 1.2), 2)
  x2 <- round(rexp(n, 1 / 40))
  y <- round(1.5 * x1 - 0.05 * x2 + 2 * (as.integer(g) - 1) + 0.8 * (as.integer(f) - 1) +
             rnorm(n, 0, 4), 2)
  y[runif(n) < missing_share] <- NA
  data.frame(y = y, g = as.character(g), f = as.character(f), x1 = x1, x2 = x2,
             stringsAsFactors = FALSE)
}

adjusted <- function(d, conf = 0.95) {
  d <- d[complete.cases(d), ]
  d$g <- factor(d$g)
  d$f <- factor(d$f)
  fit <- lm(y ~ g + x1 + x2 + f, data = d)
  V <- vcov(fit)
  b <- coef(fit)
  dfr <- fit$df.residual
  q <- qt(1 - (1 - conf) / 2, dfr)
  means <- list()
  for (w in c("equal", "proportional")) {
    rows <- list()
    for (lev in levels(d$g)) {
      if (w == "equal") {
        grid <- data.frame(g = factor(lev, levels = levels(d$g)), x1 = mean(d$x1),
                           x2 = mean(d$x2), f = factor(levels(d$f), levels = levels(d$f)))
        X <- model.matrix(delete.response(terms(fit)), grid)
        L <- colMeans(X)
        est <- mean(predict(fit, grid))
      } else {
        dummies <- model.matrix(~ f, d)[, -1, drop = FALSE]
        d2 <- cbind(d[, c("y", "g", "x1", "x2")], dummies)
        fit2 <- lm(as.formula(paste("y ~ g + x1 + x2 +", paste0("`", colnames(dummies), "`", collapse = " + "))), d2)
        nd <- data.frame(g = factor(lev, levels = levels(d$g)), x1 = mean(d$x1), x2 = mean(d$x2))
        for (cn in colnames(dummies)) nd[[cn]] <- mean(d2[[cn]])
        pr <- predict(fit2, nd, interval = "confidence", level = conf, se.fit = TRUE)
        L <- NULL
        est <- unname(pr$fit[1, "fit"])
      }
      se <- if (is.null(L)) unname(pr$se.fit[1]) else sqrt(drop(t(L) %*% V %*% L))
      rows[[lev]] <- list(level = lev, estimate = est, se = se, ci_low = est - q * se,
                          ci_high = est + q * se, n = sum(d$g == lev))
    }
    means[[w]] <- unname(rows)
  }
  cf <- summary(fit)$coefficients
  diffs <- lapply(levels(d$g)[-1], function(lev) {
    term <- paste0("g", lev)
    list(level = paste(lev, "-", levels(d$g)[1]), estimate = cf[term, 1], se = cf[term, 2],
         stat = cf[term, 3], p = cf[term, 4],
         ci_low = confint(fit, term, level = conf)[1], ci_high = confint(fit, term, level = conf)[2])
  })
  list(df = dfr, means = means, differences = diffs)
}

cases <- list()
specs <- list(list(n = 66, k = 2, kf = 2, miss = 0.0), list(n = 120, k = 3, kf = 3, miss = 0.1),
              list(n = 30, k = 2, kf = 3, miss = 0.05), list(n = 400, k = 4, kf = 2, miss = 0.0))
for (i in seq_along(specs)) {
  s <- specs[[i]]
  d <- make_data(s$n, s$k, s$kf, s$miss)
  cases[[i]] <- list(data = d, conf = 0.95, result = adjusted(d, 0.95))
}
d <- cases[[1]]$data
cases[[length(cases) + 1]] <- list(data = d, conf = 0.9, result = adjusted(d, 0.9))

out <- list(r_version = R.version.string, cases = cases)
dir.create("tests/stats/data", showWarnings = FALSE, recursive = TRUE)
write(toJSON(out, digits = NA, auto_unbox = TRUE, na = "null"), "tests/stats/data/adjusted_means_r.json")
cat("wrote tests/stats/data/adjusted_means_r.json\n")
