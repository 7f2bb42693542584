# make_strata.R -- reference values for the stratified tests (issue 28).
#
# What it computes, for each dataset below (arm 1 = experimental, stratum s = 0, 1, ...), written
# to tests/fixtures/strata.json:
#   survdiff   survival::survdiff(Surv(time, event) ~ arm + strata(s), rho = rho) for rho = 0,
#              0.5, 1: U = observed - expected events of arm 1 summed over strata, V = var[2, 2].
#   fh         the stratified FH(rho, gamma) test by the script's own implementation: in each
#              stratum, the pooled Kaplan-Meier S_s from survfit on that stratum alone, weights
#              w = S_s(t-)^rho (1 - S_s(t-))^gamma, U_s = sum w (d1 - d n1/n), V_s = sum w^2 d
#              (n1/n)(1 - n1/n)(n - d)/(n - 1); U = sum_s U_s, V = sum_s V_s, z = U/sqrt(V).
#   mw         the same with MW's weights 1/max(S_s(t-), s*) (s* = 0.5, 0.8), and with a time cap
#              t* (s* = S_s(t*) in each stratum).
#   cox        coxph(Surv(time, event) ~ arm + strata(s), ties = "efron" / "breslow"), converged
#              to eps = 1e-12: coefficient, SE, Wald z; null when the partial likelihood is
#              monotone (no arm-0 event at a time with arm 1 at risk in any stratum, or no arm-1
#              event at a time with arm 0 at risk).
#
# Cross-checks (the script stops if one fails, tolerance 1e-10): the own FH(rho, 0) equals
# survdiff(rho) -- which confirms survdiff weights each stratum by its own KM; FH(0, 0) and MW
# with s* = 1 equal the stratified log-rank; with one stratum everything equals the unstratified
# statistic.
#
# Versions used to produce the committed fixture: R 4.2.2, survival 3.5-3, jsonlite 1.8.4
# (Debian bookworm r-base-core r-cran-survival r-cran-jsonlite); also written into the JSON.
#
# Regenerate (from the repository root; a few seconds):
#   Rscript tests/reference/make_strata.R
# Deterministic: the datasets come from set.seed(2028) and are written into the JSON.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

TOL <- 1e-10
chk <- function(ok, what) if (!isTRUE(ok)) stop("cross-check failed: ", what, call. = FALSE)
close_enough <- function(a, b) {
  (is.na(a) && is.na(b)) || (is.finite(a) && is.finite(b) && abs(a - b) <= TOL * max(1, abs(a), abs(b)))
}

# One stratum's event table: per distinct event time the pooled KM just before it, the arm's
# observed minus expected, and the hypergeometric variance.
event_table <- function(time, event, arm) {
  et <- sort(unique(time[event == 1]))
  if (length(et) == 0) return(NULL)
  fit <- survfit(Surv(time, event) ~ 1, timefix = FALSE)
  s_minus <- vapply(et, function(t) {
    before <- fit$time < t
    if (any(before)) fit$surv[max(which(before))] else 1
  }, numeric(1))
  n0 <- vapply(et, function(t) sum(time >= t & arm == 0), numeric(1))
  n1 <- vapply(et, function(t) sum(time >= t & arm == 1), numeric(1))
  d <- vapply(et, function(t) sum(time == t & event == 1), numeric(1))
  d1 <- vapply(et, function(t) sum(time == t & event == 1 & arm == 1), numeric(1))
  n <- n0 + n1
  v <- ifelse(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0)
  list(t = et, s_minus = s_minus, o_e = d1 - d * n1 / n, v = v, fit = fit)
}

km_at <- function(fit, t) {
  at <- fit$time <= t
  if (any(at)) fit$surv[max(which(at))] else 1
}

# Sums over strata of a weighted statistic; `weight(table)` gives a stratum's weights.
stratified <- function(d, weight) {
  u <- 0
  v <- 0
  for (s in sort(unique(d$stratum))) {
    k <- d$stratum == s
    et <- event_table(d$time[k], d$event[k], d$arm[k])
    if (is.null(et)) next
    w <- weight(et)
    u <- u + sum(w * et$o_e)
    v <- v + sum(w^2 * et$v)
  }
  list(u = u, v = v, z = if (v > 0) u / sqrt(v) else NA_real_)
}

fh_weight <- function(rho, gamma) function(et) {
  p <- function(x, e) if (e == 0) rep(1, length(x)) else x^e
  p(et$s_minus, rho) * p(1 - et$s_minus, gamma)
}
mw_weight <- function(s_star) function(et) 1 / pmax(et$s_minus, s_star)
mw_time_weight <- function(t_star) function(et) 1 / pmax(et$s_minus, km_at(et$fit, t_star))

survdiff_sums <- function(d, rho) {
  f <- tryCatch(survdiff(Surv(time, event) ~ arm + strata(stratum), data = d, rho = rho),
                error = function(e) NULL)
  if (is.null(f)) return(NULL)
  # With strata, obs and exp are group x stratum matrices.
  row2 <- function(x) if (is.matrix(x)) sum(x[2, ]) else x[2]
  u <- row2(f$obs) - row2(f$exp)
  v <- f$var[2, 2]
  list(u = u, v = v, z = if (v > 0) u / sqrt(v) else NA_real_)
}

monotone <- function(d) {
  plus_inf <- TRUE
  minus_inf <- TRUE
  for (s in unique(d$stratum)) {
    k <- d$stratum == s
    time <- d$time[k]; event <- d$event[k]; arm <- d$arm[k]
    for (t in unique(time[event == 1])) {
      n0 <- sum(time >= t & arm == 0); n1 <- sum(time >= t & arm == 1)
      d0 <- sum(time == t & event == 1 & arm == 0); d1 <- sum(time == t & event == 1 & arm == 1)
      if (n1 > 0 && d0 > 0) plus_inf <- FALSE
      if (n0 > 0 && d1 > 0) minus_inf <- FALSE
    }
  }
  sum(d$event) == 0 || plus_inf || minus_inf
}

cox_fit <- function(d, ties) {
  if (monotone(d)) return(list(log_hr = NA_real_, se = NA_real_, z = NA_real_))
  f <- coxph(Surv(time, event) ~ arm + strata(stratum), data = d, ties = ties, timefix = FALSE,
             control = coxph.control(eps = 1e-12, iter.max = 200, toler.chol = 1e-15))
  b <- unname(coef(f)); se <- unname(sqrt(vcov(f)[1, 1]))
  list(log_hr = b, se = se, z = b / se)
}

# Datasets: strata with very different baselines, ties (times rounded), small and empty strata.
set.seed(2028)
make <- function(name, sizes, rates, hr, censor, digits = 3) {
  rows <- lapply(seq_along(sizes), function(s) {
    n <- sizes[s]
    arm <- rep(c(0, 1), length.out = n)
    t <- rexp(n, rates[s] * ifelse(arm == 1, hr, 1))
    c <- runif(n, 0, censor)
    data.frame(time = round(pmax(pmin(t, c), 10^-digits), digits), event = as.integer(t <= c),
               arm = arm, stratum = s - 1)
  })
  d <- do.call(rbind, rows)
  list(name = name, data = d)
}
datasets <- list(
  make("two strata, fivefold baseline", c(60, 60), c(0.1, 0.5), 0.7, 8),
  make("two strata, unequal sizes", c(25, 90), c(0.3, 0.06), 1.2, 10),
  make("three strata with ties", c(40, 30, 50), c(0.2, 0.8, 0.05), 0.6, 6, digits = 1),
  make("four small strata", c(8, 10, 12, 9), c(0.5, 0.2, 1, 0.1), 0.8, 5, digits = 2),
  make("one stratum", c(80), c(0.25), 0.75, 7),
  make("heavy ties", c(50, 50), c(0.4, 0.1), 0.5, 4, digits = 0),
  make("no difference", c(70, 70, 70), c(0.05, 0.3, 1.5), 1, 5)
)
# A stratum with one arm only, and a stratum without events.
one_arm <- make("a stratum with one arm", c(40, 12), c(0.3, 0.6), 0.7, 6)
one_arm$data$arm[one_arm$data$stratum == 1] <- 1
datasets[[length(datasets) + 1]] <- one_arm
no_events <- make("a stratum without events", c(40, 15), c(0.3, 0.6), 0.7, 6)
no_events$data$event[no_events$data$stratum == 1] <- 0
datasets[[length(datasets) + 1]] <- no_events

fh_pairs <- list(c(0, 0), c(1, 0), c(0, 1), c(1, 1), c(0.5, 0.5), c(0.5, 0))
out <- lapply(datasets, function(ds) {
  d <- ds$data
  t_star <- as.numeric(quantile(d$time, 0.4, names = FALSE))
  sd <- lapply(c(0, 0.5, 1), function(rho) {
    s <- survdiff_sums(d, rho)
    own <- stratified(d, fh_weight(rho, 0))
    if (!is.null(s)) {
      chk(close_enough(s$u, own$u) && close_enough(s$v, own$v),
          sprintf("%s: own FH(%g, 0) vs survdiff rho = %g: U %.17g vs %.17g, V %.17g vs %.17g",
                  ds$name, rho, rho, own$u, s$u, own$v, s$v))
    }
    c(list(rho = rho), if (is.null(s)) own else s)
  })
  fh <- lapply(fh_pairs, function(p) c(list(rho = p[1], gamma = p[2]), stratified(d, fh_weight(p[1], p[2]))))
  mw <- list(
    c(list(s_star = 0.5), stratified(d, mw_weight(0.5))),
    c(list(s_star = 0.8), stratified(d, mw_weight(0.8))),
    c(list(t_star = t_star), stratified(d, mw_time_weight(t_star)))
  )
  lr <- stratified(d, fh_weight(0, 0))
  one <- stratified(d, mw_weight(1))
  chk(close_enough(lr$u, one$u) && close_enough(lr$v, one$v), paste(ds$name, ": MW s* = 1 vs log-rank"))
  if (length(unique(d$stratum)) == 1) {
    plain <- survdiff(Surv(time, event) ~ arm, data = d)
    chk(close_enough(plain$obs[2] - plain$exp[2], lr$u), paste(ds$name, ": one stratum vs survdiff"))
  }
  list(
    name = ds$name,
    time = d$time, event = d$event, arm = d$arm, stratum = d$stratum,
    survdiff = sd, fh = fh, mw = mw,
    cox = list(efron = cox_fit(d, "efron"), breslow = cox_fit(d, "breslow"))
  )
})

fixture <- list(
  regenerate = "Rscript tests/reference/make_strata.R",
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  datasets = out
)
writeLines(toJSON(fixture, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           file.path("tests", "fixtures", "strata.json"))
cat("wrote tests/fixtures/strata.json:", length(out), "datasets\n")
