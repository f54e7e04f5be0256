# Second reading session of MRI scans of the bundled synthetic IL-6 cohort, and the reference
# intraclass correlations between the two sessions, for the test of reliability analyses of two
# different outcomes in one study (tests/study/test_named_runs.py).
#
# Run from the repository root:  Rscript r/il6_rereads.R
# Writes tests/study/data/il6_rereads.csv (session 2 re-reads) and
# tests/study/data/il6_reliability_r.csv (psych::ICC per outcome); the Python tests read them
# and never need R.
#
# The re-reads are invented: reader R1 scores the scans of the first 12 patients (both
# timepoints) again, every RAMRIS erosion and synovitis site, each grade moved by a fixed
# pattern of -1, 0, +1 (no random numbers) within the grade range of its feature (erosion 0-10,
# synovitis 0-3; OMERACT RAMRIS, Ostergaard et al. J Rheumatol 2003;30:1385-6).
library(psych)

reads <- read.csv("src/rheumetrics/studies/il6_prediction/imaging.csv", stringsAsFactors = FALSE,
                  colClasses = c(session = "character", version = "character"))
patients <- sort(unique(reads$patient_id))[1:12]
again <- reads[reads$system == "ramris" & reads$patient_id %in% patients, ]
again <- again[order(again$patient_id, again$timepoint, again$feature, again$site), ]
shift <- c(0, 0, 1, 0, 0, 0, -1, 0, 0, 0, 0)
top <- ifelse(again$feature == "erosion", 10, 3)
again$grade <- pmin(pmax(again$grade + shift[(seq_len(nrow(again)) - 1) %% length(shift) + 1], 0), top)
again$session <- "2"
write.csv(again, "tests/study/data/il6_rereads.csv", row.names = FALSE, quote = FALSE)

both <- rbind(reads[reads$system == "ramris" & reads$patient_id %in% patients, ], again)
totals <- aggregate(grade ~ patient_id + timepoint + session + feature, data = both, FUN = sum)
forms <- c("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
out <- do.call(rbind, lapply(c(mri_erosion = "erosion", mri_synovitis = "synovitis"), function(f) {
  t <- totals[totals$feature == f, ]
  wide <- reshape(t[, c("patient_id", "timepoint", "session", "grade")], direction = "wide",
                  idvar = c("patient_id", "timepoint"), timevar = "session")
  fit <- psych::ICC(wide[, c("grade.1", "grade.2")], lmer = FALSE)
  data.frame(feature = f, form = forms, icc = fit$results$ICC,
             ci_low = fit$results$`lower bound`, ci_high = fit$results$`upper bound`,
             n = nrow(wide), k = 2)
}))
out$outcome <- rownames(out)
out$outcome <- sub("\\.[0-9]+$", "", out$outcome)
write.csv(out, "tests/study/data/il6_reliability_r.csv", row.names = FALSE)
print(out, digits = 10)
