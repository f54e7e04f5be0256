# Reference values for tests/stats, computed with R and its packages.
#
# Run from the repository root:  Rscript r/stats_reference.R
# Writes tests/stats/data/r_reference.json; the Python tests read that file and never need R.
# Packages: stats (R core), coin, pROC, metafor, metadat, psych, jsonlite.

suppressMessages({
  library(jsonlite)
  library(coin)
  library(pROC)
  library(metafor)
  library(metadat)
})

out <- list(
  r_version = R.version.string,
  packages = list(
    coin = as.character(packageVersion("coin")),
    pROC = as.character(packageVersion("pROC")),
    metafor = as.character(packageVersion("metafor")),
    psych = as.character(packageVersion("psych"))
  )
)

# ---- k-sample median test, exact (Conover 1999, corn yields by four methods) ---------------
corn <- list(
  c(83, 91, 94, 89, 89, 96, 91, 92, 90),
  c(91, 90, 81, 83, 84, 83, 88, 91, 89, 84),
  c(101, 100, 91, 93, 96, 95, 94),
  c(78, 82, 81, 77, 79, 81, 80, 81)
)
all_corn <- unlist(corn)
grand <- median(all_corn)
above <- sapply(corn, function(g) sum(g > grand))
sizes <- sapply(corn, length)
tab <- rbind(above, sizes - above)
# probability ordering: Fisher-Freeman-Halton on the 2 x k table
p_prob <- fisher.test(tab)$p.value
# chi-square ordering: full enumeration of the first row with the observed margins
grid <- expand.grid(lapply(sizes, function(n) 0:n))
grid <- grid[rowSums(grid) == sum(above), ]
chisq_of <- function(a) {
  t <- rbind(a, sizes - a)
  e <- outer(rowSums(t), colSums(t)) / sum(t)
  sum((t - e)^2 / e)
}
prob_of <- function(a) exp(sum(lchoose(sizes, a)) - lchoose(sum(sizes), sum(above)))
stat <- apply(grid, 1, chisq_of)
prob <- apply(grid, 1, prob_of)
obs <- chisq_of(above)
p_chisq <- sum(prob[stat >= obs - 1e-7])
out$median_corn <- list(
  groups = corn, stat = obs, p_probability = p_prob, p_chisq = p_chisq,
  grand_median = grand
)

# two-sample exact median test: coin (scores 0/1 below/above the median, exact distribution)
set.seed(14)
mt <- list()
for (i in 1:4) {
  x <- round(rnorm(7 + i, 0.6), 1)
  y <- round(rnorm(9, 0), 1)
  d <- data.frame(v = c(x, y), g = factor(rep(c("x", "y"), c(length(x), length(y)))))
  res <- median_test(v ~ g, data = d, distribution = "exact")
  mt[[i]] <- list(x = x, y = y, p = pvalue(res))
}
out$median_two_sample_coin <- mt

# ---- Fisher's exact test for r x c tables (R fisher.test, network algorithm) -----------------
job <- matrix(c(1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11), 4, 4)
set.seed(2024)
fisher_cases <- list(list(table = unname(lapply(1:4, function(i) job[i, ])), p = fisher.test(job)$p.value))
for (dims in list(c(3, 3), c(2, 5), c(3, 4), c(4, 3), c(2, 3))) {
  m <- matrix(rpois(prod(dims), 4), dims[1], dims[2])
  m[m == 0] <- 1
  fisher_cases[[length(fisher_cases) + 1]] <- list(
    table = unname(lapply(seq_len(nrow(m)), function(i) m[i, ])),
    p = fisher.test(m)$p.value
  )
}
out$fisher_rxc <- fisher_cases

# larger r x c tables: the 4 x 5 table (n = 126) of a review, and random tables up to 4 x 6
# (p to full double precision; R's FEXACT takes about 2 s for the 4 x 5 table)
as_rows <- function(m) unname(lapply(seq_len(nrow(m)), function(i) m[i, ]))
review <- matrix(c(4, 9, 6, 7, 10, 7, 3, 6, 7, 2, 7, 3, 4, 6, 4, 9, 9, 8, 6, 9), 4, 5, byrow = TRUE)
large <- list(list(table = as_rows(review), p = fisher.test(review, workspace = 2e8)$p.value))
set.seed(126)
for (i in 1:24) {
  dims <- c(sample(2:4, 1), sample(3:6, 1))
  m <- matrix(rpois(prod(dims), runif(1, 1, 4)), dims[1], dims[2])
  m[sample(length(m), 1)] <- m[sample(length(m), 1)] + 1
  m <- m[rowSums(m) > 0, colSums(m) > 0, drop = FALSE]
  if (min(dim(m)) < 2) next
  large[[length(large) + 1]] <- list(table = as_rows(m), p = fisher.test(m, workspace = 2e8)$p.value)
}
out$fisher_rxc_large <- large

# ---- Cochran-Mantel-Haenszel (R mantelhaen.test) ----------------------------------------------
as_nested <- function(a) {
  # a[i, j, k] -> list over i of list over j of vectors over k
  lapply(seq_len(dim(a)[1]), function(i) lapply(seq_len(dim(a)[2]), function(j) a[i, j, ]))
}
rabbits <- array(c(0, 0, 6, 5, 3, 0, 3, 6, 6, 2, 0, 4, 5, 6, 1, 0, 2, 5, 0, 0), dim = c(2, 2, 5))
small_delta <- array(c(1, 1, 1, 2, 1, 1, 1, 2), dim = c(2, 2, 2))  # |sum(a - E)| = 0.4 < 0.5
set.seed(7)
rand <- array(rpois(2 * 2 * 4, 5), dim = c(2, 2, 4))
cmh <- list()
for (nm in c("rabbits", "small_delta", "random")) {
  a <- switch(nm, rabbits = rabbits, small_delta = small_delta, random = rand)
  asy <- mantelhaen.test(a)
  ex <- mantelhaen.test(a, exact = TRUE)
  exl <- mantelhaen.test(a, exact = TRUE, alternative = "less")
  exg <- mantelhaen.test(a, exact = TRUE, alternative = "greater")
  cmh[[nm]] <- list(
    table = as_nested(a),
    stat = unname(asy$statistic), p = asy$p.value,
    stat_uncorrected = unname(mantelhaen.test(a, correct = FALSE)$statistic),
    mh_or = unname(asy$estimate), mh_ci = unname(asy$conf.int),
    exact_p = ex$p.value, exact_or = unname(ex$estimate), exact_ci = unname(ex$conf.int),
    exact_p_less = exl$p.value, exact_p_greater = exg$p.value,
    exact_ci_less = unname(exl$conf.int), exact_ci_greater = unname(exg$conf.int)
  )
}
out$cmh <- cmh

# 2 x 2 x K tables with zero cells: an infinite MH odds ratio (CI NaN), and strata whose every
# row or column total has a zero (statistic NaN)
zero_cells <- list(
  infinite_or = array(c(3, 0, 0, 3, 2, 0, 0, 4), dim = c(2, 2, 2)),
  no_information = array(c(2, 3, 0, 0, 0, 0, 4, 5), dim = c(2, 2, 2))
)
out$cmh_zero_cells <- lapply(zero_cells, function(a) {
  r <- mantelhaen.test(a)
  list(table = as_nested(a), stat = unname(r$statistic), p = r$p.value,
       mh_or = unname(r$estimate), mh_ci = unname(r$conf.int))
})

# ---- McNemar (R mcnemar.test, binom.test) -------------------------------------------------------
mc <- list()
for (m in list(matrix(c(794, 86, 150, 570), 2), matrix(c(10, 5, 12, 30), 2),
               matrix(c(20, 3, 3, 15), 2), matrix(c(5, 1, 7, 9), 2),
               matrix(c(10, 2, 3, 4, 12, 1, 6, 2, 9), 3))) {
  r <- mcnemar.test(m)
  r0 <- mcnemar.test(m, correct = FALSE)
  item <- list(
    table = unname(lapply(seq_len(nrow(m)), function(i) m[i, ])),
    stat = unname(r$statistic), df = unname(r$parameter), p = r$p.value,
    stat_uncorrected = unname(r0$statistic), p_uncorrected = r0$p.value
  )
  if (nrow(m) == 2) {
    b <- m[1, 2]
    cc <- m[2, 1]
    bt <- binom.test(b, b + cc, 0.5)
    item$exact_p <- bt$p.value
    item$exact_or_ci <- unname(bt$conf.int / (1 - bt$conf.int))
  }
  mc[[length(mc) + 1]] <- item
}
out$mcnemar <- mc

# ---- Spearman, R cor.test default (exact n <= 9, Edgeworth series n < 1290 without ties) ---------
set.seed(99)
sp <- list()
for (n in c(10, 12, 15, 20, 30, 50, 100)) {
  x <- sample(n)
  y <- round(0.3 * x + rnorm(n, sd = n / 3), 6)
  item <- list(x = x, y = y)
  for (alt in c("two.sided", "greater", "less")) {
    r <- cor.test(x, y, method = "spearman", alternative = alt)
    item[[paste0("p_", alt)]] <- r$p.value
    item$S <- unname(r$statistic)
    item$rho <- unname(r$estimate)
  }
  sp[[length(sp) + 1]] <- item
}
out$spearman_edgeworth <- sp

# ---- paired DeLong test with identical rankings (pROC) -------------------------------------------
truth <- c(0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1)
s1 <- c(0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.7, 0.5, 0.65, 0.3, 0.15, 0.55)
s2 <- 2 * s1 + 1
r1 <- roc(truth, s1, direction = "<", quiet = TRUE)
r2 <- roc(truth, s2, direction = "<", quiet = TRUE)
dt <- roc.test(r1, r2, method = "delong", paired = TRUE)
s3 <- c(0.2, 0.3, 0.45, 0.6, 0.25, 0.7, 0.9, 0.4, 0.5, 0.35, 0.1, 0.8)
r3 <- roc(truth, s3, direction = "<", quiet = TRUE)
dt3 <- roc.test(r1, r3, method = "delong", paired = TRUE)
out$delong <- list(
  truth = truth, s1 = s1, s2 = s2, s3 = s3,
  identical = list(z = unname(dt$statistic), p = dt$p.value),
  different = list(z = unname(dt3$statistic), p = dt3$p.value,
                   auc1 = as.numeric(auc(r1)), auc3 = as.numeric(auc(r3)))
)

# ---- logistic regression (R glm, binomial) with Wald CIs --------------------------------------
set.seed(31)
n <- 120
d <- data.frame(
  age = round(rnorm(n, 55, 12)),
  sex = sample(c("female", "male"), n, replace = TRUE),
  group = sample(c("A", "B", "C"), n, replace = TRUE),
  il6 = round(rexp(n, 1 / 8), 1)
)
lp <- -4 + 0.05 * d$age + 0.6 * (d$sex == "male") + 0.8 * (d$group == "C") + 0.04 * d$il6
d$progression <- rbinom(n, 1, plogis(lp))
fit <- glm(progression ~ il6 + age + sex + group, family = binomial, data = d)
co <- summary(fit)$coefficients
ci <- confint.default(fit)
out$logistic <- list(
  data = d,
  terms = rownames(co), estimate = unname(co[, 1]), se = unname(co[, 2]),
  z = unname(co[, 3]), p = unname(co[, 4]),
  or = unname(exp(co[, 1])), or_ci_low = unname(exp(ci[, 1])), or_ci_high = unname(exp(ci[, 2])),
  loglik = as.numeric(logLik(fit))
)

# ---- Wilcoxon signed-rank, Pratt zeros, exact (coin) -----------------------------------------
set.seed(5)
wp <- list()
for (i in 1:5) {
  m <- 8 + 2 * i
  x <- round(rnorm(m, 4, 2))
  y <- x + sample(c(-2, -1, 0, 0, 1, 2, 3), m, replace = TRUE)
  res <- wilcoxsign_test(x ~ y, zero.method = "Pratt", distribution = "exact")
  resg <- wilcoxsign_test(x ~ y, zero.method = "Pratt", distribution = "exact",
                          alternative = "greater")
  wp[[i]] <- list(x = x, y = y, p = pvalue(res), p_greater = pvalue(resg))
}
out$wilcoxon_pratt <- wp

# ---- meta-analysis: pooled correlations (Fisher z) and unpooled mean differences --------------
dat <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
res <- rma(yi, vi, data = dat, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
pr <- predict(res, transf = transf.ztor)
out$meta_zcor <- list(
  ri = dat.molloy2014$ri, ni = dat.molloy2014$ni, yi = as.numeric(dat$yi), vi = as.numeric(dat$vi),
  estimate = as.numeric(res$b), se = res$se, tau2 = res$tau2, i2 = res$I2,
  pooled = pr$pred, pooled_ci = c(pr$ci.lb, pr$ci.ub), pooled_pi = c(pr$pi.lb, pr$pi.ub)
)
md <- data.frame(
  m1 = c(-3.7, -2.1, -4.0, -1.2, -2.9), sd1 = c(3.1, 2.4, 4.2, 1.9, 2.8), n1 = c(25, 40, 18, 60, 33),
  m2 = c(-0.8, -1.0, -1.5, -0.9, -1.1), sd2 = c(3.5, 2.0, 3.9, 2.2, 3.0), n2 = c(24, 38, 20, 58, 30)
)
emd <- escalc(measure = "MD", m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2, n2i = n2, data = md)
rmd <- rma(yi, vi, data = emd, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
out$meta_md <- list(
  data = md, yi = as.numeric(emd$yi), vi = as.numeric(emd$vi),
  estimate = as.numeric(rmd$b), se = rmd$se, tau2 = rmd$tau2
)
# the variance types of escalc(measure = "MD"): "LS" (default) and "UB" do not assume equal
# variances (sd1^2/n1 + sd2^2/n2); "HO" pools them (homoscedastic)
vt <- function(v) {
  as.numeric(escalc(measure = "MD", m1i = m1, sd1i = sd1, n1i = n1, m2i = m2, sd2i = sd2,
                    n2i = n2, data = md, vtype = v)$vi)
}
out$meta_md$vi_ls <- vt("LS")
out$meta_md$vi_ub <- vt("UB")
out$meta_md$vi_ho <- vt("HO")

# a study-level table in which two studies report a median with IQR (S2) or range (S1): the mean
# and SD are estimated by Wan et al. (2014), then MD (vtype "LS") pooled by REML, as a study file
# would do it (tests/study)
xi_w <- function(n) 2 * qnorm((n - 0.375) / (n + 0.25))
eta_w <- function(n) 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))
mixed <- data.frame(
  study = c("S1", "S2", "S3", "S4", "S5"),
  mean_t = c(-3.7, -2.1, NA, -1.2, NA), sd_t = c(3.1, 2.4, NA, 1.9, NA),
  median_t = c(NA, NA, -3.5, NA, -2.0), q1_t = c(NA, NA, -6.0, NA, NA),
  q3_t = c(NA, NA, -1.0, NA, NA), min_t = c(NA, NA, NA, NA, -9.0), max_t = c(NA, NA, NA, NA, 4.0),
  n_t = c(25, 40, 18, 60, 33),
  mean_c = c(-0.8, -1.0, NA, -0.9, NA), sd_c = c(3.5, 2.0, NA, 2.2, NA),
  median_c = c(NA, NA, -1.0, NA, -0.5), q1_c = c(NA, NA, -3.0, NA, NA),
  q3_c = c(NA, NA, 1.5, NA, NA), min_c = c(NA, NA, NA, NA, -7.0), max_c = c(NA, NA, NA, NA, 6.0),
  n_c = c(24, 38, 20, 58, 30)
)
filled <- within(mixed, {
  s2 <- !is.na(q1_t)
  s1 <- !is.na(min_t)
  mean_t[s2] <- ((q1_t + median_t + q3_t) / 3)[s2]
  sd_t[s2] <- ((q3_t - q1_t) / eta_w(n_t))[s2]
  mean_c[s2] <- ((q1_c + median_c + q3_c) / 3)[s2]
  sd_c[s2] <- ((q3_c - q1_c) / eta_w(n_c))[s2]
  mean_t[s1] <- ((min_t + 2 * median_t + max_t) / 4)[s1]
  sd_t[s1] <- ((max_t - min_t) / xi_w(n_t))[s1]
  mean_c[s1] <- ((min_c + 2 * median_c + max_c) / 4)[s1]
  sd_c[s1] <- ((max_c - min_c) / xi_w(n_c))[s1]
})
emx <- escalc(measure = "MD", m1i = mean_t, sd1i = sd_t, n1i = n_t, m2i = mean_c, sd2i = sd_c,
              n2i = n_c, data = filled)
rmx <- rma(yi, vi, data = emx, method = "REML", control = list(threshold = 1e-12, maxiter = 1000))
out$meta_md_converted <- list(
  data = mixed, yi = as.numeric(emx$yi), vi = as.numeric(emx$vi),
  estimate = as.numeric(rmx$b), se = rmx$se, tau2 = rmx$tau2,
  ci = c(rmx$ci.lb, rmx$ci.ub), p = rmx$pval
)

# ---- Hodges-Lehmann shift and CI (wilcox.test conf.int, exact) --------------------------------
set.seed(11)
hl <- list()
for (i in 1:5) {
  x <- round(rnorm(6 + i, 1), 3)
  y <- round(rnorm(5 + 2 * i, 0), 3)
  w <- wilcox.test(x, y, conf.int = TRUE, exact = TRUE)
  w90 <- wilcox.test(x, y, conf.int = TRUE, exact = TRUE, conf.level = 0.9)
  hl[[i]] <- list(x = x, y = y, estimate = unname(w$estimate), ci = unname(w$conf.int),
                  ci90 = unname(w90$conf.int), p = w$p.value, W = unname(w$statistic))
}
out$hodges_lehmann <- hl

# ---- Mann-Whitney, normal approximation with ties and continuity (wilcox.test) -----------------
set.seed(12)
mw <- list()
for (i in 1:4) {
  x <- sample(0:6, 30 + 10 * i, replace = TRUE)
  y <- sample(1:7, 25 + 5 * i, replace = TRUE)
  item <- list(x = x, y = y)
  for (alt in c("two.sided", "greater", "less")) {
    w <- suppressWarnings(wilcox.test(x, y, alternative = alt, exact = FALSE, correct = TRUE))
    item[[paste0("p_", alt)]] <- w$p.value
    item$W <- unname(w$statistic)
  }
  mw[[i]] <- item
}
out$mann_whitney_ties <- mw

# ---- median / IQR / range to mean / SD (formulas of the papers, written out in R) -------------
xi <- function(n) 2 * qnorm((n - 0.375) / (n + 0.25))
eta <- function(n) 2 * qnorm((0.75 * n - 0.125) / (n + 0.25))
conv <- data.frame(
  min = c(2, 0.5, 10, 1), q1 = c(5, 1.2, 18, 3), median = c(7, 2.0, 22, 4),
  q3 = c(10, 3.1, 27, 6), max = c(15, 6.0, 40, 12), n = c(20, 45, 120, 12)
)
with(conv, {
  out$conversion <<- list(
    data = conv,
    hozo_mean = (min + 2 * median + max) / 4 + (min - 2 * median + max) / (4 * n),
    hozo_sd = sqrt(((min - 2 * median + max)^2 / 4 + (max - min)^2) / 12),
    wan_s1_mean = (min + 2 * median + max) / 4, wan_s1_sd = (max - min) / xi(n),
    wan_s2_mean = (q1 + median + q3) / 3, wan_s2_sd = (q3 - q1) / eta(n),
    wan_s3_mean = (min + 2 * q1 + 2 * median + 2 * q3 + max) / 8,
    wan_s3_sd = (max - min) / (2 * xi(n)) + (q3 - q1) / (2 * eta(n)),
    luo_s1_mean = {
      w <- 4 / (4 + n^0.75)
      w * (min + max) / 2 + (1 - w) * median
    },
    luo_s2_mean = {
      w <- 0.7 + 0.39 / n
      w * (q1 + q3) / 2 + (1 - w) * median
    },
    luo_s3_mean = {
      w1 <- 2.2 / (2.2 + n^0.75)
      w2 <- 0.7 - 0.72 / n^0.55
      w1 * (min + max) / 2 + w2 * (q1 + q3) / 2 + (1 - w1 - w2) * median
    }
  )
})

# ---- ICC, SDC and SRM of two readers scoring six patients (psych::ICC and base R) ----------
# The SRM reads the mean of the two readers per patient as a change score.
reader_a <- c(2, 0, 5, 1, 3, 0)
reader_b <- c(1, 0, 4, 2, 5, 1)
icc_fit <- psych::ICC(cbind(reader_a, reader_b), lmer = FALSE)
aov_tab <- icc_fit$summary[[1]]
diff_ab <- reader_a - reader_b
reader_mean <- (reader_a + reader_b) / 2
z <- 1.96 # the SDC and limits-of-agreement multiplier as published (Bruynesteyn et al. 2005)
out$two_readers <- list(
  icc = setNames(
    as.list(icc_fit$results$ICC),
    c("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
  ),
  ms = list(
    BMS = aov_tab[["Mean Sq"]][1],
    JMS = aov_tab[["Mean Sq"]][2],
    EMS = aov_tab[["Mean Sq"]][3],
    WMS = (aov_tab[["Sum Sq"]][2] + aov_tab[["Sum Sq"]][3]) / (aov_tab[["Df"]][2] + aov_tab[["Df"]][3])
  ),
  sd_diff = sd(diff_ab),
  sdc_k1 = z * sd(diff_ab) / sqrt(2),
  sdc_k2 = z * sd(diff_ab) / (sqrt(2) * sqrt(2)),
  loa_half_width = z * sd(diff_ab),
  srm_mean = mean(reader_mean),
  srm_sd = sd(reader_mean),
  srm = mean(reader_mean) / sd(reader_mean)
)

# ---- Spearman CI variants: Fisher z with the SE of Fisher (1/(n-3)), Fieller, Hartley & -----
# Pearson 1957 (1.06/(n-3)) and Bonett & Wright 2000 ((1 + r^2/2)/(n-3)); tuna data
tuna_x <- c(44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1)
tuna_y <- c(2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8)
rho_tuna <- unname(cor.test(tuna_x, tuna_y, method = "spearman")$estimate)
n_tuna <- length(tuna_x)
se_tuna <- list(
  fisher_z = sqrt(1 / (n_tuna - 3)),
  fieller = sqrt(1.06 / (n_tuna - 3)),
  bonett_wright = sqrt((1 + rho_tuna^2 / 2) / (n_tuna - 3))
)
out$spearman_ci <- lapply(se_tuna, function(se) {
  tanh(atanh(rho_tuna) + c(-1, 1) * qnorm(0.975) * se)
})

dir.create("tests/stats/data", showWarnings = FALSE, recursive = TRUE)
write_json(out, "tests/stats/data/r_reference.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote tests/stats/data/r_reference.json\n")
