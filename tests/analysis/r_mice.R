# Multiple imputation reference from mice for tests/analysis/test_multiple_imputation.py.
# Usage: Rscript r_mice.R OUTDIR
# Data: survival::pbc, randomized participants; outcome albumin >= 3.5 g/dL, made missing in
# histologic stage 4 or where cholesterol is missing (123 of 312; sicker participants are
# missing more often, which bilirubin in the imputation model partly captures);
# imputation model: logistic regression on arm, age and log bilirubin (mice method "logreg":
# coefficients drawn from N(beta, V), outcomes drawn as Bernoulli), the same model hepatrial's
# binary.impute_logistic uses. Writes OUTDIR/mi.csv, OUTDIR/reference.json.
suppressPackageStartupMessages({library(survival); library(mice); library(jsonlite)})
out <- commandArgs(trailingOnly = TRUE)[1]
m <- 1000L

pbc1 <- subset(survival::pbc, !is.na(trt))
d <- data.frame(y = ifelse(pbc1$albumin >= 3.5, 1L, 0L), treated = as.integer(pbc1$trt == 2),
                age = pbc1$age, logbili = log(pbc1$bili))
d$y[is.na(pbc1$chol) | pbc1$stage %in% 4] <- NA
write.csv(d, file.path(out, "mi.csv"), row.names = FALSE, na = "")

d$y <- factor(d$y)
imp <- mice(d, m = m, method = c("logreg", "", "", ""), maxit = 1, seed = 20240301,
            printFlag = FALSE)
q <- u <- numeric(m)
for (i in seq_len(m)) {
  filled <- complete(imp, i)
  y <- as.integer(as.character(filled$y))
  n1 <- sum(filled$treated == 1); n0 <- sum(filled$treated == 0)
  p1 <- mean(y[filled$treated == 1]); p0 <- mean(y[filled$treated == 0])
  q[i] <- p1 - p0
  u[i] <- p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0
}
pooled <- pool.scalar(q, u, n = Inf)
half <- qt(0.975, pooled$df) * sqrt(pooled$t)
ref <- list(m = m, q = q, u = u, qbar = pooled$qbar, ubar = pooled$ubar, b = pooled$b,
            t = pooled$t, df = pooled$df, lower = pooled$qbar - half, upper = pooled$qbar + half,
            n_missing = sum(is.na(d$y)), mice = as.character(packageVersion("mice")),
            r = R.version.string)
write_json(ref, file.path(out, "reference.json"), digits = NA, auto_unbox = TRUE)
