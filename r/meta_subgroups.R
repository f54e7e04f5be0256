# Reference values for meta-analysis prediction intervals and subgroup-difference tests
# (tests/stats/test_meta_subgroups.py, tests/study/test_evidence_meta.py), from R metafor
# (Viechtbauer 2010, J Stat Softw 36(3), doi:10.18637/jss.v036.i03).
#
# Run from the repository root:  Rscript r/meta_subgroups.R
# Writes tests/stats/data/meta_subgroups_r.json; the Python tests read it and never need R.
#
# For every data set, model (REML, DL) and test (z, Knapp-Hartung):
#   * overall and per-subgroup rma(): estimate, SE, CI, tau2 and two prediction intervals,
#     predict.rma's default (crit of the CI: z, or t(k - 1) under Knapp-Hartung) and
#     pi.type = "riley" (t(k - 2), Higgins, Thompson & Spiegelhalter 2009);
#   * the test for subgroup differences as RevMan computes it: Cochran's Q of the subgroup
#     estimates pooled by fixed effect (each subgroup with its own tau2);
#   * metafor's moderator test: rma(yi, vi, mods = ~ factor(subgroup)), QM on the subgroup
#     coefficients (a mixed-effects meta-regression with one common tau2).
# REML is iterated to convergence (threshold 1e-12 instead of metafor's 1e-5 default), so that the
# stored values are the converged ones that rheumetrics computes; at the default threshold
# metafor's intervals differ from them by a few units in the 6th significant digit.

suppressMessages({
  library(jsonlite)
  library(metafor)
  library(metadat)
})

axspa <- read.csv("src/rheumetrics/studies/axspa_mri_meta_synthetic.csv")
axspa <- escalc(measure = "MD", m1i = mean_t, sd1i = sd_t, n1i = n_t, m2i = mean_c, sd2i = sd_c,
                n2i = n_c, data = axspa)
bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets <- list(
  axspa = data.frame(study = axspa$study, yi = as.numeric(axspa$yi), vi = as.numeric(axspa$vi),
                     subgroup = axspa$subgroup),
  bcg = data.frame(study = paste(dat.bcg$author, dat.bcg$year), yi = as.numeric(bcg$yi),
                   vi = as.numeric(bcg$vi), subgroup = dat.bcg$alloc)
)

tight <- list(threshold = 1e-12, maxiter = 1000)

pooled <- function(yi, vi, method, test) {
  if (length(yi) == 1) {
    return(list(k = 1, estimate = yi, se = sqrt(vi)))
  }
  fit <- rma(yi, vi, method = method, test = test, control = tight)
  p_default <- predict(fit)
  p_riley <- predict(fit, pi.type = "riley")
  list(
    k = length(yi), estimate = as.numeric(fit$b), se = fit$se, ci_low = fit$ci.lb,
    ci_high = fit$ci.ub, tau2 = fit$tau2,
    pi_metafor = c(p_default$pi.lb, p_default$pi.ub),
    pi_higgins = if (length(yi) > 2) c(p_riley$pi.lb, p_riley$pi.ub) else c(NA, NA)
  )
}

out <- list(r_version = R.version.string, metafor = as.character(packageVersion("metafor")))
for (name in names(sets)) {
  d <- sets[[name]]
  levels <- unique(d$subgroup)
  res <- list(study = d$study, yi = d$yi, vi = d$vi, subgroup = d$subgroup, models = list())
  for (method in c("REML", "DL")) {
    for (test in c("z", "knha")) {
      overall <- pooled(d$yi, d$vi, method, test)
      within <- lapply(levels, function(g) pooled(d$yi[d$subgroup == g], d$vi[d$subgroup == g],
                                                  method, test))
      names(within) <- levels
      est <- sapply(within, function(w) w$estimate)
      se <- sapply(within, function(w) w$se)
      between <- rma(est, sei = se, method = "FE")
      mods <- rma(d$yi, d$vi, mods = ~ factor(subgroup, levels = levels), data = d,
                  method = method, test = test, control = tight)
      res$models[[paste(method, test, sep = "_")]] <- list(
        method = method, knapp_hartung = test == "knha", overall = overall, subgroups = within,
        q_between = list(stat = between$QE, df = length(levels) - 1, p = between$QEp),
        moderator = list(stat = mods$QM, df = mods$QMdf[1], df2 = mods$QMdf[2], p = mods$QMp,
                         tau2 = mods$tau2)
      )
    }
  }
  out[[name]] <- res
}
write_json(out, "tests/stats/data/meta_subgroups_r.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote tests/stats/data/meta_subgroups_r.json\n")
