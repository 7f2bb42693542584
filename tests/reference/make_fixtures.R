# make_fixtures.R -- reference values for trialsim's survival statistics.
#
# What it computes: for each of the fixed two-arm datasets defined below
# (arm 1 = experimental, arm 0 = control) it writes to tests/fixtures/survival.json
#   logrank      U = O1 - E1, V = hypergeometric variance, z = U / sqrt(V)   (survdiff)
#   fh           Fleming-Harrington G(rho, gamma) for (0,0) (0,1) (1,0) (1,1) (0.5,2),
#                own implementation from pooled survfit output, checked against
#                survdiff(rho = .) for gamma = 0
#   km           Kaplan-Meier S and Greenwood SE of S per arm at `horizons`, plus KM
#                steps at every distinct time of the dataset                (survfit)
#   rmst         restricted mean survival time to `tau` per arm and difference
#                                                        (survival:::survmean)
#   milestone    S1(m) - S0(m) with Greenwood SEs
#   cox_efron / cox_breslow   coxph(Surv(time, event) ~ arm)
#   cox_periods  one log HR per period from survSplit + coxph(Surv(tstart, time, event) ~ x_k)
#   maxcombo     max-combo of FH (0,0) (0,1) (1,0) (1,1) with mvtnorm::pmvnorm on the full
#                (singular, rank <= 3) 4x4 correlation; also p_quad (deterministic
#                quadrature, ~1e-11) and `reduced` (dependent components dropped in the
#                listed order -- NOT equal to p, kept for diagnosis)
# Every number is cross-checked by an independent R computation (stopifnot-style `chk`).
# Additions to the original key list: milestone_stats (the `milestone` key is the input
# time), maxcombo.{p_error, p2_error, p_quad, p2_quad, rank, reduced, corr, rho_gamma},
# and a per-dataset `notes` array recording R's warnings/NA/Inf and what was written.
#
# Versions used to produce the committed fixture:
#   R 4.2.2 Patched (2022-11-10 r83330), survival 3.5-3, mvtnorm 1.1-3 (Debian bookworm
#   packages r-base-core r-cran-survival r-cran-mvtnorm). The versions are also written
#   into the JSON (r_version, survival_version, mvtnorm_version).
#
# Regenerate (from the repository root):
#   Rscript tests/reference/make_fixtures.R
# Output is deterministic: all random data come from fixed set.seed() calls and every
# pmvnorm call is preceded by set.seed(1). No package other than survival and mvtnorm is
# needed (JSON is written by hand). Conventions: see tests/reference/README.md.

suppressPackageStartupMessages({
  library(survival)
  library(mvtnorm)
})

out_path <- file.path("tests", "fixtures", "survival.json")
if (!dir.exists(dirname(out_path))) dir.create(dirname(out_path), recursive = TRUE)

TOL <- 1e-10
close_enough <- function(a, b, tol = TOL) {
  length(a) == length(b) && all((is.na(a) & is.na(b)) |
    (!is.na(a) & !is.na(b) & abs(a - b) <= tol * pmax(1, abs(a), abs(b))))
}
chk <- function(ok, what) if (!isTRUE(ok)) stop("cross-check failed: ", what, call. = FALSE)
fin <- function(x) if (is.null(x) || length(x) == 0 || !is.finite(x)) NA_real_ else x

# ---------------------------------------------------------------------------------------
# JSON writer (hand written: full control over scalars vs arrays and number formatting)
# ---------------------------------------------------------------------------------------
# Statistics are written with sprintf("%.17g") (exact round trip). Inputs (time, tau, ...)
# are written with the shortest %.Ng (N <= 17) that parses back to the same double, so that
# 0.1 reads as 0.1 rather than 0.10000000000000001. Non-finite values (NA, NaN, Inf) -> null.
sc <- function(x) structure(x, jkind = "scalar")      # a statistic, written as a scalar
vv <- function(x) structure(x, jkind = "array")       # a statistic vector, always an array
inp <- function(x) structure(x, jkind = "input")      # an input vector, always an array
inps <- function(x) structure(x, jkind = "inputscalar")

fmt_num <- function(x, shortest = FALSE) {
  vapply(x, function(v) {
    if (is.na(v) || !is.finite(v)) return("null")
    if (is.integer(v)) return(sprintf("%d", v))
    if (shortest) {
      for (d in 1:17) {
        s <- sprintf("%.*g", d, v)
        if (as.numeric(s) == v) return(s)
      }
    }
    sprintf("%.17g", v)
  }, character(1))
}

to_json <- function(x, ind = "") {
  ind2 <- paste0(ind, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- vapply(seq_along(x), function(i)
        paste0(ind2, "\"", names(x)[i], "\": ", to_json(x[[i]], ind2)), character(1))
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", ind, "}"))
    }
    # unnamed list: short scalar-ish lists inline, otherwise one element per line
    items <- vapply(x, to_json, character(1), ind = ind2)
    if (all(!grepl("\n", items)) && sum(nchar(items)) < 100)
      return(paste0("[", paste(items, collapse = ", "), "]"))
    return(paste0("[\n", paste0(ind2, items, collapse = ",\n"), "\n", ind, "]"))
  }
  kind <- attr(x, "jkind")
  if (is.null(kind)) stop("to_json: untagged atomic value")
  if (length(x) == 0 && kind == "array") return("[]")
  if (is.character(x)) {
    s <- paste0("\"", gsub("\"", "\\\\\"", x), "\"")
  } else if (is.logical(x)) {
    s <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    s <- fmt_num(x, shortest = kind %in% c("input", "inputscalar"))
  }
  if (kind %in% c("scalar", "inputscalar")) {
    if (length(x) != 1) stop("to_json: scalar of length ", length(x))
    return(s)
  }
  paste0("[", paste(s, collapse = ", "), "]")
}

# ---------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------
datasets <- list()
add <- function(name, time, event, arm, tau, milestone, horizons, periods, note = NULL) {
  time <- as.numeric(time); event <- as.integer(event); arm <- as.integer(arm)
  stopifnot(length(time) == length(event), length(time) == length(arm), all(time > 0),
            all(event %in% 0:1), all(arm %in% 0:1), all(0:1 %in% arm),
            !is.unsorted(horizons, strictly = TRUE), !is.unsorted(periods, strictly = TRUE),
            all(abs(time * 1000 - round(time * 1000)) < 1e-6))   # <= 3 decimals
  datasets[[length(datasets) + 1]] <<- list(name = name, time = time, event = event,
    arm = arm, tau = tau, milestone = milestone, horizons = horizons, periods = periods,
    note = note)
}
# rows given as c(time, event, arm) triples
tri <- function(...) { m <- matrix(c(...), ncol = 3, byrow = TRUE); list(t = m[, 1], e = m[, 2], a = m[, 3]) }
addt <- function(name, d, ...) add(name, d$t, d$e, d$a, ...)

# piecewise-exponential survival times by inversion of the cumulative hazard
rpexp <- function(n, rates, breaks) {       # breaks: start of each piece, breaks[1] = 0
  e <- rexp(n)
  vapply(e, function(ei) {
    H <- 0
    for (k in seq_along(rates)) {
      end <- if (k < length(rates)) breaks[k + 1] else Inf
      h <- rates[k] * (end - breaks[k])
      if (ei <= H + h) return(breaks[k] + (ei - H) / rates[k])
      H <- H + h
    }
  }, numeric(1))
}
# crossing hazards: arm 1 has early excess hazard and later benefit
sim_trial <- function(n, seed, rates0 = 0.5, breaks0 = 0, rates1 = c(1.2, 0.25),
                      breaks1 = c(0, 0.5), admin = c(2, 4), dropout = 0.05) {
  set.seed(seed)
  arm <- rep(0:1, length.out = n)[sample.int(n)]
  t_ev <- numeric(n)
  t_ev[arm == 0] <- rpexp(sum(arm == 0), rates0, breaks0)
  t_ev[arm == 1] <- rpexp(sum(arm == 1), rates1, breaks1)
  cens <- pmin(runif(n, admin[1], admin[2]), rexp(n, dropout))
  time <- pmin(t_ev, cens)
  event <- as.integer(t_ev <= cens)
  time <- pmax(round(time, 3), 0.001)
  list(t = time, e = event, a = arm)
}

# 1. small, hand-checkable, distinct times
addt("hand_distinct_6",
     tri(1, 1, 0,  3, 0, 0,  4, 1, 0,  6, 1, 0,
         2, 1, 1,  5, 0, 1),
     tau = 4.5, milestone = 3.5, horizons = c(2, 4, 5.5, 7), periods = 3)
# 2. small, an arm-1 event exactly on the period break 1.5
addt("hand_distinct_10",
     tri(0.5, 1, 0,  1.2, 1, 0,  2.0, 0, 0,  2.7, 1, 0,  3.1, 1, 0,
         0.8, 0, 1,  1.5, 1, 1,  2.2, 1, 1,  3.3, 0, 1,  4.0, 1, 1),
     tau = 3, milestone = 2, horizons = c(1, 2.5, 3.5), periods = 1.5)
# 3. heavy ties: integer times 1..6 (explicit, hand-checkable)
addt("ties_integer_30",
     tri(1, 1, 0,  1, 1, 0,  1, 0, 0,  2, 1, 0,  2, 1, 0,  2, 1, 0,  3, 0, 0,  3, 1, 0,
         4, 1, 0,  4, 1, 0,  5, 0, 0,  5, 1, 0,  6, 0, 0,  6, 1, 0,  6, 0, 0,
         1, 1, 1,  1, 1, 1,  1, 1, 1,  1, 1, 1,  2, 0, 1,  2, 1, 1,  3, 1, 1,  3, 0, 1,
         4, 0, 1,  4, 0, 1,  5, 1, 1,  5, 0, 1,  6, 0, 1,  6, 0, 1,  6, 0, 1),
     tau = 5, milestone = 3, horizons = c(1, 2, 4, 6), periods = c(2, 4))
# 4. events and censorings at the same time, within and across arms
addt("ties_event_censor",
     tri(2, 1, 0,  2, 0, 0,  3, 0, 0,  5, 1, 0,  5, 0, 0,  7, 1, 0,  8, 0, 0,
         2, 0, 1,  3, 1, 1,  3, 0, 1,  5, 1, 1,  5, 1, 1,  5, 0, 1,  6, 0, 1),
     tau = 6, milestone = 5, horizons = c(2, 3, 5, 7), periods = 3)
# 5. an arm with no events (arm 1)
addt("arm1_no_events",
     tri(1, 1, 0,  2, 1, 0,  3, 0, 0,  4, 1, 0,
         1.5, 0, 1,  2.5, 0, 1,  3.5, 0, 1,  4.5, 0, 1),
     tau = 4, milestone = 2, horizons = c(1, 3, 4.2), periods = 2)
# 6. an arm with no events (arm 0)
addt("arm0_no_events",
     tri(1.1, 0, 0,  2.1, 0, 0,  3.1, 0, 0,
         0.7, 1, 1,  1.4, 1, 1,  2.8, 1, 1,  3.6, 0, 1),
     tau = 3, milestone = 2, horizons = c(1, 3, 3.5), periods = 1)
# 7. a single event overall
addt("single_event",
     tri(1, 0, 0,  2, 0, 0,  3, 0, 0,
         1.5, 1, 1,  2.5, 0, 1,  3.5, 0, 1),
     tau = 3, milestone = 2, horizons = c(1, 2, 3.2), periods = 1)
# 8. all censored
addt("all_censored",
     tri(1, 0, 0,  2, 0, 0,  3, 0, 0,  1.5, 0, 1,  2.5, 0, 1),
     tau = 2, milestone = 1.5, horizons = c(1, 2.5, 3), periods = 2)
# 9. arm 1 consists of one patient (an event)
addt("arm1_one_patient",
     tri(0.5, 1, 0,  1.0, 1, 0,  1.5, 0, 0,  2.0, 1, 0,  2.5, 1, 0,  3.0, 0, 0,
         1.7, 1, 1),
     tau = 1.7, milestone = 1, horizons = c(1, 1.7, 2), periods = 1)
# 10. arm 0 consists of one patient (censored)
addt("arm0_one_patient",
     tri(2.2, 0, 0,
         0.4, 1, 1,  0.9, 1, 1,  1.3, 0, 1,  1.8, 1, 1,  2.6, 1, 1),
     tau = 2, milestone = 1, horizons = c(0.5, 2, 2.4), periods = 1)
# 11. n = 2, both events
addt("n2_both_events", tri(1, 1, 0,  2, 1, 1),
     tau = 1, milestone = 0.5, horizons = c(0.5, 1, 1.5), periods = 1)
# 12. n = 2: arm 0 censored first, arm 1 event alone at risk (V = 0)
addt("n2_censor_then_event", tri(1, 0, 0,  2, 1, 1),
     tau = 1, milestone = 1, horizons = c(1, 2), periods = 1.5)
# 13. n = 2, both die at the same time (n_j = d_j = 2)
addt("n2_same_time", tri(1, 1, 0,  1, 1, 1),
     tau = 1, milestone = 1, horizons = c(0.5, 1, 2), periods = 0.5)
# 14. n = 3
addt("n3", tri(2, 1, 0,  1, 1, 1,  3, 0, 1),
     tau = 2, milestone = 1.5, horizons = c(1, 2, 2.5), periods = 1.5)
# 15. everyone at risk dies at the last time (pooled and in each arm)
addt("all_die_last",
     tri(1, 1, 0,  2, 0, 0,  3, 1, 0,  4, 1, 0,  4, 1, 0,
         1.5, 1, 1,  2.5, 0, 1,  4, 1, 1,  4, 1, 1),
     tau = 4, milestone = 4, horizons = c(2, 3.5, 4, 5), periods = c(1, 3))
# 16. arm 1's KM reaches 0 at its last time (2), arm 0 continues; tau = 2 = a data time
addt("arm1_km_zero_early",
     tri(0.6, 1, 0,  1.4, 0, 0,  2.0, 1, 0,  2.9, 1, 0,  3.8, 0, 0,  5.0, 1, 0,
         0.3, 1, 1,  1.0, 0, 1,  1.2, 1, 1,  2.0, 1, 1,  2.0, 1, 1),
     tau = 2, milestone = 2, horizons = c(1, 2, 3), periods = 1)
# 17. events exactly at the period breaks 1 and 2 (both arms)
addt("events_on_breaks",
     tri(0.5, 1, 0,  1, 1, 0,  1, 0, 0,  2, 1, 0,  2.5, 1, 0,  3, 0, 0,
         0.7, 1, 1,  1, 1, 1,  1.5, 0, 1,  2, 1, 1,  2, 1, 1,  3.5, 1, 1,  4, 0, 1),
     tau = 3, milestone = 2, horizons = c(1, 2, 3.2), periods = c(1, 2))
# 18. monotone likelihood with events in both arms: arm-0 events only while arm 1 is at
#     risk, arm-1 events only after arm 0 has left -> Cox log HR is -Inf
addt("monotone_likelihood",
     tri(1, 1, 0,  2, 1, 0,  3, 0, 0,
         1.5, 0, 1,  4, 0, 1,  5, 1, 1,  6, 1, 1,  7, 0, 1),
     tau = 3, milestone = 2.5, horizons = c(1, 2.5, 3, 6.5), periods = 3.5)
# 19. a period without arm-1 events: periods (0,1], (1,3], (3,inf)
addt("period_without_events",
     tri(0.5, 1, 0,  1.5, 1, 0,  2.5, 1, 0,  3.5, 1, 0,  4.5, 0, 0,
         0.8, 1, 1,  1.2, 0, 1,  2.2, 0, 1,  3.2, 1, 1,  4.2, 1, 1,  5.0, 0, 1),
     tau = 4, milestone = 3, horizons = c(1, 3, 4.6), periods = c(1, 3))
# 20. all events at one time, one patient censored later (single event time)
addt("single_event_time",
     tri(2, 1, 0,  2, 1, 0,  2, 1, 0,  3, 0, 0,  2, 1, 1,  2, 1, 1),
     tau = 2, milestone = 2, horizons = c(1, 2, 2.5), periods = 1)
# 21. small random set; tau exactly equal to an event time in the data
local({
  d <- sim_trial(20, seed = 2021)
  ev1 <- d$t[d$e == 1 & d$a == 1]
  tau <- ev1[which.min(abs(ev1 - 1.5))]       # an arm-1 event time near 1.5
  add("tau_equals_event_time", d$t, d$e, d$a, tau = tau, milestone = 1,
      horizons = sort(c(0.5, tau, 2.5)), periods = 1)
})
# 22-24. larger random sets with crossing survival (rounded to 3 decimals)
local({
  d <- sim_trial(50, seed = 50)
  add("random_50", d$t, d$e, d$a, tau = 2, milestone = 1,
      horizons = c(0.5, 1.5, 2, 4.5), periods = 1)
})
local({
  d <- sim_trial(200, seed = 200)
  add("random_200", d$t, d$e, d$a, tau = 3, milestone = 1.5,
      horizons = c(0.5, 1, 2.5, 4.5), periods = c(1, 2))
})
local({
  d <- sim_trial(400, seed = 400, rates0 = c(0.4, 0.6), breaks0 = c(0, 1.5),
                 rates1 = c(1.5, 0.6, 0.2), breaks1 = c(0, 0.3, 1))
  add("random_400", d$t, d$e, d$a, tau = 3.5, milestone = 2,
      horizons = c(0.25, 1, 3, 5), periods = c(0.5, 1.5))
})
# 25. random, some event times moved exactly onto the breaks 1 and 2
local({
  d <- sim_trial(200, seed = 7)
  snap <- which(d$e == 1 & (abs(d$t - 1) < 0.05 | abs(d$t - 2) < 0.05))
  d$t[snap] <- round(d$t[snap])
  add("random_200_events_on_breaks", d$t, d$e, d$a, tau = 2, milestone = 2,
      horizons = c(1, 2, 3, 4.5), periods = c(1, 2))
})
# 26. random with integer times (heavy ties), n = 100
local({
  d <- sim_trial(100, seed = 100, admin = c(3, 6), rates0 = 0.3, rates1 = c(0.8, 0.15),
                 breaks1 = c(0, 1))
  add("random_integer_100", ceiling(d$t), d$e, d$a, tau = 4, milestone = 3,
      horizons = c(1, 2, 5, 7), periods = 2)
})
# 27. random, arm 1 followed shorter than arm 0: tau beyond arm 1's last observed time
local({
  d <- sim_trial(50, seed = 51)
  long <- d$a == 1 & d$t > 2.2
  d$t[long] <- 2.2; d$e[long] <- 0L      # administrative censoring of arm 1 at 2.2
  add("random_50_tau_beyond_arm1", d$t, d$e, d$a, tau = 3, milestone = 2,
      horizons = c(1, 2.2, 2.5, 3), periods = 1)
})

# ---------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------
FH_LIST <- list(c(0, 0), c(0, 1), c(1, 0), c(1, 1), c(0.5, 2))

# pooled risk-set table at the distinct event times, from survfit (pooled KM)
event_table <- function(d) {
  fit <- survfit(Surv(time, event) ~ 1, data = d, timefix = FALSE)
  keep <- fit$n.event > 0
  tj <- fit$time[keep]
  s_after <- fit$surv[keep]
  s_before <- c(1, head(fit$surv, -1))[keep]        # S(t_j-): pooled KM just before t_j
  n <- fit$n.risk[keep]; dd <- fit$n.event[keep]
  n1 <- vapply(tj, function(t) sum(d$arm == 1 & d$time >= t), numeric(1))
  d1 <- vapply(tj, function(t) sum(d$arm == 1 & d$time == t & d$event == 1), numeric(1))
  # independent count check of survfit's risk sets (censored at t_j are at risk at t_j)
  chk(all(n == vapply(tj, function(t) sum(d$time >= t), numeric(1))), "n.risk")
  chk(all(dd == vapply(tj, function(t) sum(d$time == t & d$event == 1), numeric(1))), "n.event")
  p <- n1 / n
  v <- ifelse(n > 1, dd * p * (1 - p) * (n - dd) / pmax(n - 1, 1), 0)
  data.frame(t = tj, n = n, d = dd, n1 = n1, d1 = d1, S = s_before, Safter = s_after,
             e1 = dd * p, v = v)
}

fh_stat <- function(et, rho, gamma) {
  if (nrow(et) == 0) return(list(w = numeric(0), u = 0, v = 0, z = NA_real_))
  w <- et$S^rho * (1 - et$S)^gamma        # R: 0^0 = 1
  u <- sum(w * (et$d1 - et$e1))
  v <- sum(w^2 * et$v)
  list(w = w, u = u, v = v, z = if (v > 0) u / sqrt(v) else NA_real_)
}

# survdiff (never given timefix: survival 3.5-3 errors with "variable lengths differ").
# Returns NULL when survdiff itself fails (it solves var for the chi-square and stops with
# "system is exactly singular" when var = 0 but some expected count is > 0).
survdiff_uv <- function(d, rho) {
  sd <- fit_with_warnings(survdiff(Surv(time, event) ~ factor(arm, levels = c(0, 1)),
                                   data = d, rho = rho))$value
  if (inherits(sd, "error")) return(structure(list(), msg = conditionMessage(sd)))
  chk(identical(sub(".*=", "", names(sd$n)), c("0", "1")), "survdiff arm order")
  list(u = sd$obs[2] - sd$exp[2], v = sd$var[2, 2])
}

# per-arm KM via survfit; Greenwood SE of S; values beyond the arm's last time -> NA
km_arm <- function(d, a, times) {
  da <- d[d$arm == a, ]
  fit <- survfit(Surv(time, event) ~ 1, data = da, timefix = FALSE)
  chk(isTRUE(fit$logse), "survfit logse")   # fit$std.err is the SE of -log S (cumhaz)
  s <- summary(fit, times = times, extend = TRUE)
  chk(all(s$time == times), "summary times")
  # summary.survfit multiplies std.err by surv when logse = TRUE: s$std.err is SE(S)
  surv <- s$surv; se <- s$std.err
  # independent Greenwood: S(t)^2 * sum_{t_j <= t} d_j / (n_j (n_j - d_j))
  own <- t(vapply(times, function(t) {
    keep <- fit$time <= t & fit$n.event > 0
    S <- prod(1 - fit$n.event[keep] / fit$n.risk[keep])
    g <- sum(fit$n.event[keep] / (fit$n.risk[keep] * (fit$n.risk[keep] - fit$n.event[keep])))
    c(S, S * sqrt(g))                     # 0 * Inf = NaN when some n_j = d_j
  }, numeric(2)))
  chk(close_enough(surv, own[, 1]), "KM surv")
  chk(close_enough(ifelse(is.finite(se), se, NA), ifelse(is.finite(own[, 2]), own[, 2], NA)),
      "Greenwood SE")
  last <- max(da$time)
  beyond <- times > last
  surv[beyond] <- NA; se[beyond] <- NA
  se[!is.finite(se)] <- NA
  list(fit = fit, surv = surv, se = se, last = last)
}

rmst_arm <- function(fit, tau, last) {
  m <- survival:::survmean(fit, rmean = tau)$matrix
  r <- unname(m["rmean"]); se <- unname(m["se(rmean)"])
  # independent: integral of the KM step function; Var = sum A_j^2 d_j / (n_j (n_j - d_j))
  # over event times t_j <= tau, A_j = int_{t_j}^{tau} S; a term with n_j = d_j has A_j = 0
  ev <- fit$n.event > 0 & fit$time <= tau
  tj <- fit$time[ev]; sj <- fit$surv[ev]
  grid <- c(0, tj, tau); sv <- c(1, sj)
  own <- sum(diff(grid) * sv)
  A <- vapply(seq_along(tj), function(k) {
    g <- c(tj[k:length(tj)], tau); sum(diff(g) * sj[k:length(tj)])
  }, numeric(1))
  n <- fit$n.risk[ev]; dd <- fit$n.event[ev]
  h <- ifelse(n > dd, dd / (n * (n - dd)), 0)
  own_se <- sqrt(sum(A^2 * h))
  chk(close_enough(r, own), "rmst"); chk(close_enough(se, own_se), "rmst se")
  if (tau > last) return(list(rmst = NA_real_, se = NA_real_))
  list(rmst = r, se = se)
}

# One-covariate Cox partial likelihood score and information (Efron or Breslow) from
# counts at event times: independent check of coxph's estimate and SE.
cox_score_info <- function(beta, n0, n1, d0, d1, ties) {
  U <- 0; I <- 0
  for (j in seq_along(n0)) {
    d <- d0[j] + d1[j]
    if (d == 0) next
    e <- exp(beta)
    if (ties == "breslow") {
      p <- n1[j] * e / (n0[j] + n1[j] * e)
      U <- U + d1[j] - d * p; I <- I + d * p * (1 - p)
    } else {
      for (l in 0:(d - 1)) {
        num <- (n1[j] - l / d * d1[j]) * e
        den <- num + (n0[j] - l / d * d0[j])
        p <- num / den
        U <- U + d1[j] / d - p; I <- I + p * (1 - p)
      }
    }
  }
  c(U = U, I = I)
}

# counts per event time in a subset of event times (e.g. a period)
risk_counts <- function(d, tj) {
  list(n0 = vapply(tj, function(t) sum(d$arm == 0 & d$time >= t), numeric(1)),
       n1 = vapply(tj, function(t) sum(d$arm == 1 & d$time >= t), numeric(1)),
       d0 = vapply(tj, function(t) sum(d$arm == 0 & d$time == t & d$event == 1), numeric(1)),
       d1 = vapply(tj, function(t) sum(d$arm == 1 & d$time == t & d$event == 1), numeric(1)))
}
# finite MLE of a binary-covariate Cox model <=> some arm-0 event while arm 1 is at risk
# and some arm-1 event while arm 0 is at risk (otherwise the likelihood is monotone)
cox_estimable <- function(rc) any(rc$d0 > 0 & rc$n1 > 0) && any(rc$d1 > 0 & rc$n0 > 0)

fit_with_warnings <- function(expr) {
  warns <- character(0)
  val <- withCallingHandlers(tryCatch(expr, error = function(e) e),
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(value = val, warnings = warns)
}

# coxph.control warns "For numerical accuracy, tolerance should be < eps" because the
# default toler.chol (eps^0.75 = 1.8e-12) exceeds eps = 1e-12; harmless here (no model with
# a singular information matrix is fitted), so the warning is silenced.
CTRL <- suppressWarnings(coxph.control(eps = 1e-12, iter.max = 100))

cox_overall <- function(d, ties, notes) {
  tj <- sort(unique(d$time[d$event == 1]))
  rc <- risk_counts(d, tj)
  r <- fit_with_warnings(coxph(Surv(time, event) ~ arm, data = d, ties = ties,
                               timefix = FALSE, control = CTRL))
  est <- length(tj) > 0 && cox_estimable(rc)
  if (!est) {
    msg <- if (inherits(r$value, "error")) conditionMessage(r$value) else
      sprintf("coef %s", format(coef(r$value), digits = 6))
    notes$add(sprintf("cox_%s: not estimable (monotone likelihood or no events) -> null; R gave %s%s",
      ties, msg, if (length(r$warnings)) paste0(", warning: ", paste(unique(r$warnings), collapse = "; ")) else ""))
    return(list(log_hr = NA_real_, se = NA_real_, z = NA_real_))
  }
  chk(!inherits(r$value, "error") && length(r$warnings) == 0, paste("coxph clean fit", ties))
  b <- unname(coef(r$value)); se <- sqrt(unname(vcov(r$value)[1, 1]))
  si <- cox_score_info(b, rc$n0, rc$n1, rc$d0, rc$d1, ties)
  chk(abs(si["U"]) < 1e-8, "Cox score at MLE"); chk(close_enough(se, 1 / sqrt(si[["I"]]), 1e-8), "Cox SE")
  list(log_hr = b, se = se, z = b / se)
}

cox_periods <- function(d, periods, notes) {
  K <- length(periods) + 1
  sp <- survSplit(Surv(time, event) ~ ., data = d, cut = periods, episode = "period")
  for (k in 1:K) sp[[paste0("x_", k)]] <- sp$arm * (sp$period == k)
  edges <- c(0, periods, Inf)
  tj_all <- sort(unique(d$time[d$event == 1]))
  est <- logical(K)
  for (k in 1:K) {
    tj <- tj_all[tj_all > edges[k] & tj_all <= edges[k + 1]]    # right-closed periods
    est[k] <- length(tj) > 0 && cox_estimable(risk_counts(d, tj))
  }
  lhr <- rep(NA_real_, K); se <- rep(NA_real_, K)
  # the full model, as specified, for the record (warnings for non-estimable periods)
  full <- fit_with_warnings(coxph(as.formula(paste("Surv(tstart, time, event) ~",
    paste0("x_", 1:K, collapse = " + "))), data = sp, ties = "efron", timefix = FALSE,
    control = CTRL))
  if (any(!est)) {
    fv <- if (inherits(full$value, "error")) conditionMessage(full$value) else
      paste(format(coef(full$value), digits = 6), collapse = ", ")
    notes$add(sprintf("cox_periods: period(s) %s not estimable -> null; full %d-covariate fit gave coef (%s)%s; estimable periods refitted without them",
      paste(which(!est), collapse = ","), K, fv,
      if (length(full$warnings)) paste0(", warning: ", paste(unique(full$warnings), collapse = "; ")) else ""))
  }
  if (any(est)) {
    ks <- which(est)
    r <- fit_with_warnings(coxph(as.formula(paste("Surv(tstart, time, event) ~",
      paste0("x_", ks, collapse = " + "))), data = sp, ties = "efron", timefix = FALSE,
      control = CTRL))
    chk(!inherits(r$value, "error") && length(r$warnings) == 0, "coxph periods clean fit")
    lhr[ks] <- unname(coef(r$value)); se[ks] <- sqrt(unname(diag(vcov(r$value))))
    if (all(est)) chk(close_enough(lhr, unname(coef(full$value)), 1e-9), "periods full fit")
    # the partial likelihood separates by period: each coefficient equals a one-period fit
    for (k in ks) {
      tj <- tj_all[tj_all > edges[k] & tj_all <= edges[k + 1]]
      rc <- risk_counts(d, tj)
      si <- cox_score_info(lhr[k], rc$n0, rc$n1, rc$d0, rc$d1, "efron")
      chk(abs(si["U"]) < 1e-8, "period score"); chk(close_enough(se[k], 1 / sqrt(si[["I"]]), 1e-8), "period SE")
    }
  }
  list(log_hr = lhr, se = se)
}

# ---- multivariate normal probabilities -------------------------------------------------
gl_nodes <- function(m) {               # Gauss-Legendre on [-1, 1] (Golub-Welsch)
  b <- seq_len(m - 1) / sqrt(4 * seq_len(m - 1)^2 - 1)
  J <- matrix(0, m, m); J[cbind(1:(m - 1), 2:m)] <- b; J[cbind(2:m, 1:(m - 1))] <- b
  e <- eigen(J, symmetric = TRUE)
  o <- order(e$values)
  list(x = e$values[o], w = 2 * e$vectors[1, o]^2)
}
GL <- gl_nodes(20)
BOX <- 9                                 # |w| > 9 carries < 1e-18 of N(0,1) mass
composite <- function(breaks) {          # nodes/weights on [-BOX, BOX], pieces <= 0.25
  b <- sort(unique(c(seq(-BOX, BOX, by = 0.25), breaks[is.finite(breaks) & abs(breaks) < BOX])))
  a <- head(b, -1); h <- diff(b)
  list(x = as.vector(outer(GL$x, h / 2) + rep(a + h / 2, each = length(GL$x))),
       w = as.vector(outer(GL$w, h / 2)))
}
# Deterministic quadrature of P(lower <= Z <= upper), Z = L W, W ~ N(0, I_r), r <= 3:
# the last coordinate is integrated in closed form (Phi), the others by composite
# Gauss-Legendre split at every kink of the integrand. Independent of mvtnorm.
mvn_quad <- function(Sigma, lower, upper, r) {
  e <- eigen(Sigma, symmetric = TRUE)
  L <- e$vectors[, 1:r, drop = FALSE] %*% diag(sqrt(e$values[1:r]), r)
  if (r > 1) {
    # rotate W so that the last coordinate has a large coefficient in every row (the
    # bounds on W_r then vary slowly with the other coordinates): pick the unit direction
    # u maximising min_i |L_i . u| / |L_i| over a fixed grid of directions
    if (r == 2) {
      a <- seq(0, pi, length.out = 3601)[-3601]; U <- rbind(cos(a), sin(a))
    } else {
      k <- 0:19999; zc <- 1 - (k + 0.5) / 20000            # Fibonacci half-sphere
      ph <- k * pi * (3 - sqrt(5)); rr <- sqrt(1 - zc^2)
      U <- rbind(rr * cos(ph), rr * sin(ph), zc)
    }
    score <- apply(abs(L %*% U) / sqrt(rowSums(L^2)), 2, min)
    u <- U[, which.max(score)]
    Q <- qr.Q(qr(cbind(u, diag(r))))    # orthonormal, first column +-u
    L <- L %*% Q[, c(2:r, 1)]
  }
  cc <- L[, r]
  stopifnot(all(abs(cc) / sqrt(rowSums(L^2)) > 0.1))
  # bounds on W_r: planes W_r = (bound - L[i, -r] . w) / cc_i
  planes <- list(); kinds <- character(0)
  for (i in seq_len(nrow(L))) for (side in c("lo", "hi")) {
    b <- if (side == "lo") lower[i] else upper[i]
    if (!is.finite(b)) next
    kind <- if ((side == "lo") == (cc[i] > 0)) "lo" else "hi"
    planes[[length(planes) + 1]] <- c(b, -L[i, -r]) / cc[i]  # intercept, slopes
    kinds <- c(kinds, kind)
  }
  P <- do.call(rbind, planes)
  inner_prob <- function(Wfix) {         # Wfix: matrix (points x (r-1)); Phi(hi) - Phi(lo)
    val <- P[, 1] + P[, -1, drop = FALSE] %*% t(Wfix)      # planes x points
    rows <- function(k) lapply(which(kinds == k), function(i) val[i, ])
    lo <- if (any(kinds == "lo")) Reduce(pmax, rows("lo")) else rep(-Inf, nrow(Wfix))
    hi <- if (any(kinds == "hi")) Reduce(pmin, rows("hi")) else rep(Inf, nrow(Wfix))
    pr <- ifelse(lo > 0, pnorm(lo, lower.tail = FALSE) - pnorm(hi, lower.tail = FALSE),
                 pnorm(hi) - pnorm(lo))
    pmax(pr, 0)
  }
  if (r == 1) return(inner_prob(matrix(0, 1, 0)))
  np <- nrow(P)
  pairs <- if (np > 1) combn(np, 2) else matrix(0, 2, 0)
  if (r == 2) {
    br <- apply(pairs, 2, function(ij) { s <- P[ij[1], 2] - P[ij[2], 2]
      if (abs(s) < 1e-14) NA else -(P[ij[1], 1] - P[ij[2], 1]) / s })
    g <- composite(br)
    return(sum(g$w * dnorm(g$x) * inner_prob(matrix(g$x, ncol = 1))))
  }
  # r == 3: kink lines in (w1, w2): (P_i - P_j) . (1, w1, w2) = 0
  lines <- t(apply(pairs, 2, function(ij) P[ij[1], ] - P[ij[2], ]))
  lines <- lines[rowSums(abs(lines[, 2:3, drop = FALSE])) > 1e-14, , drop = FALSE]
  br1 <- numeric(0)                      # outer kinks: w1 where two kink lines cross
  if (nrow(lines) > 1) for (a in 1:(nrow(lines) - 1)) for (b in (a + 1):nrow(lines)) {
    dt <- lines[a, 2] * lines[b, 3] - lines[b, 2] * lines[a, 3]   # parallel: Inf/NaN, dropped
    br1 <- c(br1, (lines[b, 1] * lines[a, 3] - lines[a, 1] * lines[b, 3]) / dt)
  }
  g1 <- composite(br1)
  outer_vals <- vapply(g1$x, function(w1) {
    br2 <- ifelse(abs(lines[, 3]) > 1e-14, -(lines[, 1] + lines[, 2] * w1) / lines[, 3], NA)
    g2 <- composite(br2)
    sum(g2$w * dnorm(g2$x) * inner_prob(cbind(w1, g2$x)))
  }, numeric(1))
  sum(g1$w * dnorm(g1$x) * outer_vals)
}

GB <- GenzBretz(maxpts = 1e7, abseps = 1e-9, releps = 0)
pmv <- function(lower, upper, corr, algorithm = GB) {
  set.seed(1)
  p <- pmvnorm(lower = lower, upper = upper, corr = corr, algorithm = algorithm)
  list(p = as.numeric(p), err = attr(p, "error"), msg = attr(p, "msg"))
}

maxcombo <- function(et, fh, notes) {
  idx <- 1:4                             # (0,0) (0,1) (1,0) (1,1)
  V <- vapply(fh[idx], `[[`, numeric(1), "v")
  if (nrow(et) == 0 || any(V <= 0)) return(NULL)
  z <- vapply(fh[idx], `[[`, numeric(1), "z")
  W <- sapply(fh[idx], `[[`, "w")
  if (!is.matrix(W)) W <- matrix(W, nrow = 1)
  C <- t(W) %*% (W * et$v)
  R <- C / sqrt(outer(V, V))
  diag(R) <- 1
  # rank: the weights span {1, S, S^2}, so rank = min(3, #event times with v_j > 0)
  r <- min(3, sum(et$v > 0))
  ev <- eigen(R, symmetric = TRUE, only.values = TRUE)$values
  chk(all(ev[seq_len(r)] > 1e-12) && all(abs(ev[-seq_len(r)]) < 1e-12), "rank of R")
  # maximal independent subset in listed order (pivoted Cholesky, no reordering)
  kept <- integer(0)
  for (k in idx) {
    cand <- c(kept, k)
    res <- if (length(kept) == 0) 1 else
      1 - R[k, kept] %*% solve(R[kept, kept, drop = FALSE], R[kept, k])
    if (res > 1e-9) kept <- cand
  }
  chk(length(kept) == r, "independent subset size")
  zmin <- min(z); zmax <- max(abs(z))
  if (r == 3) {
    # self-test of the quadrature on this R: for a bound c >= 0, Z01 > c and Z10 > c imply
    # Z00 > c (sqrt(V00) Z00 = sqrt(V01) Z01 + sqrt(V10) Z10, sqrt V01 + sqrt V10 >= sqrt V00),
    # so the singular 4-d orthant equals the non-singular 3-d one of (01, 10, 11): Miwa
    for (c0 in c(0.3, 1.7)) {
      q4 <- mvn_quad(R, rep(c0, 4), rep(Inf, 4), 3)
      m3 <- pmv(rep(c0, 3), rep(Inf, 3), R[2:4, 2:4], Miwa(steps = 4096))$p
      chk(abs(q4 - m3) < 1e-10, sprintf("quadrature self-test %.15g vs %.15g", q4, m3))
    }
  }
  one <- pmv(rep(zmin, 4), rep(Inf, 4), R)
  two <- pmv(rep(-zmax, 4), rep(zmax, 4), R)
  one_q <- mvn_quad(R, rep(zmin, 4), rep(Inf, 4), r)
  two_q <- mvn_quad(R, rep(-zmax, 4), rep(zmax, 4), r)
  # full singular problem: GenzBretz vs the independent quadrature. With maxpts = 1e7 the
  # quasi-Monte Carlo error of GenzBretz on these singular 4-d problems is up to a few 1e-7
  # (its own error estimate, attr "error", says so), so the tolerance follows that estimate.
  gtol <- function(g) 1e-7 + 3 * g$err
  chk(abs(one$p - one_q) < gtol(one), sprintf("maxcombo p: Genz %.10g (err %.2g) vs quad %.10g", one$p, one$err, one_q))
  chk(abs(two$p - two_q) < gtol(two), sprintf("maxcombo p2: Genz %.10g (err %.2g) vs quad %.10g", two$p, two$err, two_q))
  # reduced problem (dependent components dropped), as in the original specification:
  # GenzBretz, checked against Miwa (2-d, 3-d) and the quadrature; Miwa vs quadrature 1e-10
  Rk <- R[kept, kept, drop = FALSE]; nk <- length(kept)
  one_r <- pmv(rep(zmin, nk), rep(Inf, nk), Rk)
  two_r <- pmv(rep(-zmax, nk), rep(zmax, nk), Rk)
  one_rq <- mvn_quad(Rk, rep(zmin, nk), rep(Inf, nk), nk)
  two_rq <- mvn_quad(Rk, rep(-zmax, nk), rep(zmax, nk), nk)
  if (nk >= 2) {
    m1 <- pmv(rep(zmin, nk), rep(Inf, nk), Rk, Miwa(steps = 4096))
    m2 <- pmv(rep(-zmax, nk), rep(zmax, nk), Rk, Miwa(steps = 4096))
    chk(abs(one_r$p - m1$p) < gtol(one_r), sprintf("reduced p: Genz %.12g vs Miwa %.12g", one_r$p, m1$p))
    chk(abs(two_r$p - m2$p) < gtol(two_r), sprintf("reduced p2: Genz %.12g (err %.3g) vs Miwa %.12g", two_r$p, two_r$err, m2$p))
    chk(abs(one_rq - m1$p) < 1e-10 && abs(two_rq - m2$p) < 1e-10, "reduced: quadrature vs Miwa")
  }
  chk(abs(one_r$p - one_rq) < gtol(one_r) && abs(two_r$p - two_rq) < gtol(two_r), "reduced: Genz vs quadrature")
  list(z = z, corr = R, z_min = zmin, p = 1 - one$p, p2 = 1 - two$p,
       p_error = one$err, p2_error = two$err, p_quad = 1 - one_q, p2_quad = 1 - two_q,
       rank = r, kept = kept, p_reduced = 1 - one_r$p, p2_reduced = 1 - two_r$p)
}

# ---------------------------------------------------------------------------------------
# Main loop
# ---------------------------------------------------------------------------------------
lab <- function(k) { g <- FH_LIST[[k]]; vv(g) }
results <- list()
summary_rows <- list()
for (ds in datasets) {
  cat(sprintf("%-30s n=%3d events=%3d\n", ds$name, length(ds$time), sum(ds$event)))
  d <- data.frame(time = ds$time, event = ds$event, arm = ds$arm)
  notes_env <- new.env(); notes_env$v <- character(0)
  notes <- list(add = function(s) notes_env$v <- c(notes_env$v, s))

  et <- event_table(d)
  # log-rank from survdiff
  lr <- survdiff_uv(d, 0)
  if (length(lr) == 0) {
    notes$add(sprintf("logrank: survdiff fails (%s); U and V from the own implementation", attr(lr, "msg")))
    lr <- list(u = fh_stat(et, 0, 0)$u, v = fh_stat(et, 0, 0)$v)
  }
  # FH, own implementation, checked against survdiff(rho) for gamma = 0
  fh <- lapply(FH_LIST, function(g) fh_stat(et, g[1], g[2]))
  for (k in seq_along(FH_LIST)) if (FH_LIST[[k]][2] == 0) {
    sdr <- survdiff_uv(d, FH_LIST[[k]][1])
    if (length(sdr) == 0) next
    chk(close_enough(fh[[k]]$u, unname(sdr$u)) && close_enough(fh[[k]]$v, unname(sdr$v)),
        sprintf("FH(%g,0) vs survdiff", FH_LIST[[k]][1]))
  }
  chk(close_enough(fh[[1]]$u, unname(lr$u)) && close_enough(fh[[1]]$v, unname(lr$v)), "logrank")

  # KM per arm
  alltimes <- sort(unique(d$time))
  km <- lapply(0:1, function(a) {
    h <- km_arm(d, a, ds$horizons)
    st <- km_arm(d, a, alltimes)
    list(h = h, steps = st)
  })
  ms <- lapply(0:1, function(a) km_arm(d, a, ds$milestone))
  rm <- lapply(0:1, function(a) rmst_arm(km[[a + 1]]$h$fit, ds$tau, km[[a + 1]]$h$last))
  for (a in 0:1) {
    if (any(km[[a + 1]]$h$surv == 0, na.rm = TRUE))
      notes$add(sprintf("km arm %d: S = 0 at a horizon (n_j = d_j); R's Greenwood SE there is NaN (0 * Inf) -> null", a))
    if (ds$tau > km[[a + 1]]$h$last)
      notes$add(sprintf("rmst arm %d: tau %g > last observed time %g -> null", a, ds$tau, km[[a + 1]]$h$last))
  }
  rd <- rm[[2]]$rmst - rm[[1]]$rmst
  rse <- sqrt(rm[[2]]$se^2 + rm[[1]]$se^2)
  md <- ms[[2]]$surv - ms[[1]]$surv
  mse <- sqrt(ms[[2]]$se^2 + ms[[1]]$se^2)

  ce <- cox_overall(d, "efron", notes)
  cb <- cox_overall(d, "breslow", notes)
  cp <- cox_periods(d, ds$periods, notes)
  mc <- maxcombo(et, fh, notes)
  if (is.null(mc)) notes$add("maxcombo: some FH variance is 0 -> null")

  zz <- function(u, v) if (is.finite(v) && v > 0) u / sqrt(v) else NA_real_
  res <- list(
    name = structure(ds$name, jkind = "scalar"),
    time = inp(ds$time), event = vv(ds$event), arm = vv(ds$arm),
    tau = inps(ds$tau), milestone = inps(ds$milestone),
    horizons = inp(ds$horizons), periods = inp(ds$periods),
    logrank = list(u = sc(unname(lr$u)), v = sc(unname(lr$v)), z = sc(zz(lr$u, lr$v))),
    fh = lapply(seq_along(FH_LIST), function(k) list(
      rho = inps(FH_LIST[[k]][1]), gamma = inps(FH_LIST[[k]][2]),
      u = sc(fh[[k]]$u), v = sc(fh[[k]]$v), z = sc(fh[[k]]$z))),
    km = lapply(0:1, function(a) list(
      arm = structure(as.integer(a), jkind = "scalar"),
      surv = vv(km[[a + 1]]$h$surv), se = vv(km[[a + 1]]$h$se),
      last_time = inps(km[[a + 1]]$h$last),
      steps = list(time = inp(alltimes), surv = vv(km[[a + 1]]$steps$surv)))),
    rmst = lapply(0:1, function(a) list(arm = structure(as.integer(a), jkind = "scalar"),
      rmst = sc(rm[[a + 1]]$rmst), se = sc(rm[[a + 1]]$se))),
    rmst_diff = list(diff = sc(rd), se = sc(rse), z = sc(if (isTRUE(rse > 0)) -rd / rse else NA_real_)),
    milestone_stats = NULL,
    cox_efron = list(log_hr = sc(ce$log_hr), se = sc(ce$se), z = sc(ce$z)),
    cox_breslow = list(log_hr = sc(cb$log_hr), se = sc(cb$se), z = sc(cb$z)),
    cox_periods = list(log_hr = vv(cp$log_hr), se = vv(cp$se)),
    maxcombo = if (is.null(mc)) NULL else list(
      rho_gamma = lapply(1:4, lab),
      z = vv(mc$z), corr = lapply(1:4, function(i) vv(mc$corr[i, ])),
      z_min = sc(mc$z_min), p = sc(mc$p), p2 = sc(mc$p2),
      p_error = sc(mc$p_error), p2_error = sc(mc$p2_error),
      p_quad = sc(mc$p_quad), p2_quad = sc(mc$p2_quad),
      rank = structure(as.integer(mc$rank), jkind = "scalar"),
      reduced = list(kept = lapply(mc$kept, lab), dropped = lapply(setdiff(1:4, mc$kept), lab),
                     p = sc(mc$p_reduced), p2 = sc(mc$p2_reduced))),
    notes = structure(if (length(notes_env$v)) notes_env$v else character(0), jkind = "array")
  )
  # the key is "milestone" in the spec, but the dataset already has a scalar "milestone"
  # (the time); the statistic is stored under "milestone_stats" -- see README
  res$milestone_stats <- list(diff = sc(md), se = sc(mse),
                              z = sc(if (isTRUE(mse > 0)) -md / mse else NA_real_))
  results[[length(results) + 1]] <- res
  if (!is.null(mc)) summary_rows[[length(summary_rows) + 1]] <- data.frame(name = ds$name,
    p = mc$p, p_quad = mc$p_quad, p_red = mc$p_reduced, p2 = mc$p2, p2_quad = mc$p2_quad,
    p2_red = mc$p2_reduced, err = mc$p_error, err2 = mc$p2_error)
}

top <- list(
  generated_by = structure("tests/reference/make_fixtures.R", jkind = "scalar"),
  r_version = structure(sub("^R version ", "", R.version.string), jkind = "scalar"),
  survival_version = structure(packageDescription("survival")$Version, jkind = "scalar"),
  mvtnorm_version = structure(packageDescription("mvtnorm")$Version, jkind = "scalar"),
  regenerate = structure("Rscript tests/reference/make_fixtures.R", jkind = "scalar"),
  datasets = results)
writeLines(to_json(top), out_path)
cat("\nmaxcombo: full singular (GenzBretz, quadrature) vs reduced (dependent dropped):\n")
print(do.call(rbind, summary_rows), digits = 10)
cat(sprintf("wrote %s (%d datasets)\n", out_path, length(results)))
