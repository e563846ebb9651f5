# Reference values from R for tests/analysis/test_against_r.py.
# Usage: Rscript r_reference.R OUTDIR
# Writes OUTDIR/pbc.csv, OUTDIR/pbcseq.csv (survival::pbc, survival::pbcseq: the Mayo Clinic
# primary biliary cholangitis trial, D-penicillamine vs placebo, randomized participants only)
# and OUTDIR/reference.json with every value the Python side is compared with.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(nlme)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]

pbc1 <- subset(survival::pbc, !is.na(trt))
pbc1$arm <- factor(pbc1$trt)                     # 1 D-penicillamine (reference), 2 placebo
pbc1$dead <- as.integer(pbc1$status == 2)
write.csv(pbc1[, c("id", "time", "status", "trt", "sex", "hepato", "edema", "stage")],
          file.path(out, "pbc.csv"), row.names = FALSE)
seq1 <- survival::pbcseq
seq1$trt <- pbc1$trt[match(seq1$id, pbc1$id)]          # pbcseq codes trt 0/1; use pbc 1/2
write.csv(seq1[, c("id", "trt", "sex", "day", "bili", "albumin", "protime", "alk.phos", "ast")],
          file.path(out, "pbcseq.csv"), row.names = FALSE)

ref <- list()
times <- c(1000, 2000, 3000)

# ---- Kaplan-Meier (log CI, R's default), median, log-rank, Cox (Efron)
km <- survfit(Surv(time, dead) ~ arm, data = pbc1, conf.type = "log")
s <- summary(km, times = times)
ref$km <- list(strata = as.character(s$strata), time = s$time, surv = s$surv,
               lower = s$lower, upper = s$upper, std_err = s$std.err)
tab <- summary(km)$table
ref$km_median <- list(median = unname(tab[, "median"]), lower = unname(tab[, "0.95LCL"]),
                      upper = unname(tab[, "0.95UCL"]))
km_all <- survfit(Surv(time, status > 0) ~ 1, data = pbc1)
ref$km_tfs_median <- list(median = unname(summary(km_all)$table["median"]),
                          lower = unname(summary(km_all)$table["0.95LCL"]),
                          upper = unname(summary(km_all)$table["0.95UCL"]))
sd <- survdiff(Surv(time, dead) ~ arm, data = pbc1)
ref$logrank <- list(chisq = sd$chisq, obs = sd$obs, exp = sd$exp)
sd3 <- survdiff(Surv(time, dead) ~ stage, data = pbc1)
ref$logrank_stage <- list(chisq = sd3$chisq, df = length(sd3$n) - 1)
cx <- coxph(Surv(time, dead) ~ arm, data = pbc1, ties = "efron")
ref$cox <- list(coef = unname(coef(cx)), se = unname(sqrt(diag(vcov(cx)))),
                lower = unname(exp(confint(cx))[1]), upper = unname(exp(confint(cx))[2]),
                p = unname(summary(cx)$coefficients[, "Pr(>|z|)"]))
cx2 <- coxph(Surv(time, dead) ~ arm + sex, data = pbc1, ties = "efron")
ref$cox_adjusted <- list(coef = unname(coef(cx2)[1]), se = unname(sqrt(vcov(cx2)[1, 1])))
# the whole fit: arm + sex + age-free covariates from pbc (edema numeric, stage as factor)
pbc1$stage_f <- factor(pbc1$stage)
whole <- function(fit) {
  s <- summary(fit)
  list(names = rownames(s$coefficients), coef = unname(coef(fit)),
       se = unname(sqrt(diag(vcov(fit)))), z = unname(s$coefficients[, "z"]),
       p = unname(s$coefficients[, "Pr(>|z|)"]),
       lower = unname(s$conf.int[, "lower .95"]), upper = unname(s$conf.int[, "upper .95"]),
       loglik = unname(fit$loglik),                    # summary() rounds its tests: unrounded
       lrt = c(2 * diff(fit$loglik), s$logtest[["df"]], s$logtest[["pvalue"]]),
       score = c(fit$score, s$sctest[["df"]], s$sctest[["pvalue"]]),
       wald = c(fit$wald.test, s$waldtest[["df"]], s$waldtest[["pvalue"]]), concordance = unname(fit$concordance["concordance"]),
       n = fit$n, events = fit$nevent)
}
cx3 <- coxph(Surv(time, dead) ~ arm + sex + edema + stage_f, data = pbc1, ties = "efron")
ref$cox_whole <- whole(cx3)
cx4 <- coxph(Surv(time, dead) ~ arm + edema + strata(sex), data = pbc1, ties = "efron")
ref$cox_stratified <- whole(cx4)
cx5 <- coxph(Surv(ceiling(time / 365.25), dead) ~ arm + sex, data = pbc1, ties = "efron")
ref$cox_heavy_ties <- whole(cx5)

# ---- competing risks: cause 1 transplant, cause 2 death (pbc status coding)
ci <- cuminc(pbc1$time, pbc1$status, pbc1$trt, cencode = 0)
tp <- timepoints(ci, times)
z <- qnorm(0.975)                                    # Pintilie / tidycmprsk log(-log) CI
ref$cuminc <- list(rows = rownames(tp$est), est = unname(tp$est), var = unname(tp$var),
                   tests = unname(ci$Tests),
                   lower = unname(tp$est^exp(-z * sqrt(tp$var) / (tp$est * log(tp$est)))),
                   upper = unname(tp$est^exp(z * sqrt(tp$var) / (tp$est * log(tp$est)))))
ci_strat <- cuminc(pbc1$time, pbc1$status, pbc1$trt, strata = pbc1$sex, cencode = 0)
ref$cuminc_strat_tests <- unname(ci_strat$Tests)
months <- ceiling(pbc1$time / 30.4375)              # coarse times: many ties
ci_ties <- cuminc(months, pbc1$status, pbc1$stage, cencode = 0)
tp_ties <- timepoints(ci_ties, c(24, 60, 100))
ref$cuminc_ties <- list(rows = rownames(tp_ties$est), est = unname(tp_ties$est),
                        var = unname(tp_ties$var), tests = unname(ci_ties$Tests))
ci_rho <- cuminc(pbc1$time, pbc1$status, pbc1$trt, cencode = 0, rho = 1)
ref$cuminc_rho1_tests <- unname(ci_rho$Tests)

# ---- binary: hepatomegaly by arm
x <- tapply(pbc1$hepato, pbc1$arm, sum)
n <- tapply(pbc1$hepato, pbc1$arm, length)
w1 <- prop.test(x[1], n[1], correct = FALSE)$conf.int
w2 <- prop.test(x[2], n[2], correct = FALSE)$conf.int
p1 <- x[2] / n[2]; p0 <- x[1] / n[1]
d <- p1 - p0                                         # placebo minus D-penicillamine
newcombe <- c(d - sqrt((p1 - w2[1])^2 + (w1[2] - p0)^2), d + sqrt((w2[2] - p1)^2 + (p0 - w1[1])^2))
ref$binary <- list(x = unname(x), n = unname(n), wilson_ref = as.numeric(w1),
                   wilson_trt = as.numeric(w2), newcombe = unname(newcombe),
                   fisher_p = fisher.test(table(pbc1$arm, pbc1$hepato))$p.value,
                   clopper_ref = as.numeric(binom.test(x[1], n[1])$conf.int),
                   wilson_zero = as.numeric(prop.test(0, 20, correct = FALSE)$conf.int),
                   clopper_zero = as.numeric(binom.test(0, 20)$conf.int))
g <- glm(hepato ~ arm + sex, family = binomial, data = pbc1)
ref$glm <- list(coef = unname(coef(g)[2]), se = unname(sqrt(vcov(g)[2, 2])),
                p = unname(summary(g)$coefficients[2, 4]),
                lower = unname(exp(confint.default(g)[2, 1])),
                upper = unname(exp(confint.default(g)[2, 2])))

# ---- continuous: visit windows, ANCOVA at 365 days, mixed model over visits
targets <- c(182, 365, 730); halfwidth <- c(60, 60, 90)
pick <- function(d) {
  rows <- list()
  base <- d[d$day <= 0, ]
  base <- base[order(base$day), ]
  if (nrow(base) == 0) return(NULL)
  b <- base[nrow(base), ]
  for (k in seq_along(targets)) {
    c <- d[abs(d$day - targets[k]) <= halfwidth[k], ]
    if (nrow(c) == 0) next
    c <- c[order(abs(c$day - targets[k]), c$day), ][1, ]
    rows[[length(rows) + 1]] <- data.frame(id = c$id, visit = targets[k], day = c$day,
      trt = c$trt, sex = c$sex, bili = c$bili, bili_base = b$bili,
      albumin = c$albumin, albumin_base = b$albumin)
  }
  do.call(rbind, rows)
}
long <- do.call(rbind, lapply(split(seq1, seq1$id), pick))
long$treated <- as.integer(long$trt == 2)
long$female <- as.integer(long$sex == "f")
ref$windows <- list(id = long$id, visit = long$visit, day = long$day)
w365 <- subset(long, visit == 365)

fit_log <- lm(I(log(bili) - log(bili_base)) ~ treated + log(bili_base) + female, data = w365)
fit_lin <- lm(I(albumin - albumin_base) ~ treated + albumin_base + female, data = w365)
for (nm in c("log", "lin")) {
  f <- if (nm == "log") fit_log else fit_lin
  ref[[paste0("ancova_", nm)]] <- list(coef = unname(coef(f)["treated"]),
    se = unname(summary(f)$coefficients["treated", 2]),
    p = unname(summary(f)$coefficients["treated", 4]),
    lower = unname(confint(f)["treated", 1]), upper = unname(confint(f)["treated", 2]),
    df = f$df.residual, n = nrow(w365))
}
for (v in targets) {
  long[[paste0("v", v)]] <- as.integer(long$visit == v)
  long[[paste0("tv", v)]] <- as.integer(long$visit == v) * long$treated
}
long$y <- long$albumin - long$albumin_base
mm <- lme(y ~ 0 + v182 + v365 + v730 + tv182 + tv365 + tv730 + albumin_base + female,
          random = ~ 1 | id, data = long, method = "REML")
ref$lme <- list(coef = unname(fixef(mm)["tv365"]),
                se = unname(sqrt(vcov(mm)["tv365", "tv365"])), n = nrow(long),
                df = unname(summary(mm)$tTable["tv365", "DF"]),
                p = unname(summary(mm)$tTable["tv365", "p-value"]),
                lower = unname(intervals(mm, which = "fixed")$fixed["tv365", "lower"]),
                upper = unname(intervals(mm, which = "fixed")$fixed["tv365", "upper"]))
long$ylog <- log(long$bili) - log(long$bili_base)
long$lbase <- log(long$bili_base)
mm2 <- lme(ylog ~ 0 + v182 + v365 + v730 + tv182 + tv365 + tv730 + lbase + female,
           random = ~ 1 | id, data = long, method = "REML")
ref$lme_log <- list(coef = unname(fixef(mm2)["tv365"]),
                    se = unname(sqrt(vcov(mm2)["tv365", "tv365"])),
                    df = unname(summary(mm2)$tTable["tv365", "DF"]),
                    p = unname(summary(mm2)$tTable["tv365", "p-value"]),
                    lower = unname(intervals(mm2, which = "fixed")$fixed["tv365", "lower"]),
                    upper = unname(intervals(mm2, which = "fixed")$fixed["tv365", "upper"]))
# ---- composite responder at 1 year: albumin >= 3.5 g/dL; death or transplant by day 365 and
# a missing value count as not responding (what run_analysis does with the plan in the test)
alb365 <- subset(long, visit == 365)
value <- alb365$albumin[match(pbc1$id, alb365$id)]
ice <- pbc1$status > 0 & pbc1$time <= 365
resp <- ifelse(ice, 0, ifelse(is.na(value), 0, as.integer(value >= 3.5)))
xr <- tapply(resp, pbc1$arm, sum); nr <- tapply(resp, pbc1$arm, length)
q0 <- xr[1] / nr[1]; q1 <- xr[2] / nr[2]
v0 <- prop.test(xr[1], nr[1], correct = FALSE)$conf.int
v1 <- prop.test(xr[2], nr[2], correct = FALSE)$conf.int
ref$composite <- list(x = unname(xr), n = unname(nr),
  newcombe = unname(c(q1 - q0 - sqrt((q1 - v1[1])^2 + (v0[2] - q0)^2),
                      q1 - q0 + sqrt((v1[2] - q1)^2 + (q0 - v0[1])^2))),
  fisher_p = fisher.test(table(pbc1$arm, resp))$p.value)
ref$r_version <- R.version.string
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, na = "null"), file.path(out, "reference.json"))
