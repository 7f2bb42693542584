# make_mw.R -- reference values for the modestly weighted log-rank test (MW) and robust MW.
#
# What it computes: for each dataset of tests/fixtures/survival.json (arm 1 = experimental) and
# each cap below, written to tests/fixtures/mw.json:
#   mw        U = sum_j w_j (d1_j - d_j n1_j / n_j), V = sum_j w_j^2 d_j (n1_j/n_j)(1 - n1_j/n_j)
#             (n_j - d_j)/(n_j - 1), z = U / sqrt(V), with w_j = 1 / max(S(t_j-), s*) and S the
#             pooled Kaplan-Meier estimate from survival::survfit (Magirr & Burman 2019, Stat Med
#             38:3782); a cap t* uses s* = S(t*).
#   robust    z_lr, z_mw, r = sum_j w_j v_j / sqrt(V_lr V_mw); one-sided z = min(z_lr, z_mw),
#             p = 1 - P(Z1 > z, Z2 > z); two-sided z2 = the z of larger |z|,
#             p2 = 1 - P(|Z1| < |z2|, |Z2| < |z2|), Z ~ N(0, [[1, r], [r, 1]]), by
#             mvtnorm::pmvnorm with the deterministic Miwa algorithm (Magirr & Ohrn 2024,
#             arXiv:2412.14942).
# Caps: s* = 0.5 (the default), s* = 0.8, s* = 1 (every weight 1: the log-rank test), and t* at
# the dataset's `milestone` input.
#
# Cross-checks (the script stops if one fails, tolerance 1e-10): MW with s* = 1 equals
# survdiff's log-rank U and V (taken from survival.json, which survdiff made); a t* cap equals
# the s* cap of S(t*); the Miwa probabilities equal TVPACK's (a second, independent
# deterministic algorithm).
#
# Versions used to produce the committed fixture: R 4.2.2, survival 3.5-3, mvtnorm 1.1-3,
# jsonlite 1.8.4 (Debian bookworm r-base-core r-cran-survival r-cran-mvtnorm r-cran-jsonlite);
# they are also written into the JSON.
#
# Regenerate (from the repository root; a few seconds):
#   Rscript tests/reference/make_mw.R
# Deterministic: no random numbers (Miwa and TVPACK are deterministic). Non-finite values
# (V = 0) are written as null.

suppressPackageStartupMessages({
  library(survival)
  library(mvtnorm)
  library(jsonlite)
})

TOL <- 1e-10
chk <- function(ok, what) if (!isTRUE(ok)) stop("cross-check failed: ", what, call. = FALSE)
close_enough <- function(a, b) is.finite(a) && is.finite(b) && abs(a - b) <= TOL * max(1, abs(a), abs(b))

src <- fromJSON(file.path("tests", "fixtures", "survival.json"), simplifyVector = FALSE)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# Pooled KM just before each distinct event time, and the per-time counts.
event_table <- function(time, event, arm) {
  et <- sort(unique(time[event == 1]))
  fit <- survfit(Surv(time, event) ~ 1, timefix = FALSE)
  # S(t-) = the KM at the largest survfit time strictly before t (1 before the first).
  s_minus <- vapply(et, function(t) {
    before <- fit$time < t
    if (any(before)) fit$surv[max(which(before))] else 1
  }, numeric(1))
  n0 <- vapply(et, function(t) sum(time >= t & arm == 0), numeric(1))
  n1 <- vapply(et, function(t) sum(time >= t & arm == 1), numeric(1))
  d0 <- vapply(et, function(t) sum(time == t & event == 1 & arm == 0), numeric(1))
  d1 <- vapply(et, function(t) sum(time == t & event == 1 & arm == 1), numeric(1))
  n <- n0 + n1
  d <- d0 + d1
  v <- ifelse(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0)
  list(t = et, s_minus = s_minus, o_e = d1 - d * n1 / n, v = v, fit = fit)
}

km_at <- function(fit, t) {
  at <- fit$time <= t
  if (any(at)) fit$surv[max(which(at))] else 1
}

weighted <- function(et, w) {
  u <- sum(w * et$o_e)
  v <- sum(w^2 * et$v)
  list(u = u, v = v, z = if (v > 0) u / sqrt(v) else NA_real_)
}

mvn_p <- function(lower, upper, r, algorithm) {
  if (abs(r) > 1 - 1e-14) {
    # Perfectly correlated components: one normal (mvtnorm refuses a singular 2x2 with Miwa).
    return(1 - (pnorm(upper[1]) - pnorm(lower[1])))
  }
  1 - as.numeric(pmvnorm(lower = lower, upper = upper, corr = matrix(c(1, r, r, 1), 2),
                         algorithm = algorithm))
}

robust <- function(lr, mw, cov) {
  if (!(lr$v > 0 && mw$v > 0)) return(NULL)
  r <- cov / sqrt(lr$v * mw$v)
  z <- min(lr$z, mw$z)
  z2 <- if (abs(mw$z) > abs(lr$z)) mw$z else lr$z
  p <- mvn_p(c(z, z), c(Inf, Inf), r, Miwa(steps = 4097))
  p2 <- mvn_p(c(-abs(z2), -abs(z2)), c(abs(z2), abs(z2)), r, Miwa(steps = 4097))
  p_tv <- mvn_p(c(z, z), c(Inf, Inf), r, TVPACK(abseps = 1e-14))
  # TVPACK integrates orthants only: the box by inclusion-exclusion of four lower orthants.
  m <- abs(z2)
  orthant <- function(a, b) {
    if (abs(r) > 1 - 1e-14) return(pnorm(min(a, b)))
    as.numeric(pmvnorm(lower = c(-Inf, -Inf), upper = c(a, b), corr = matrix(c(1, r, r, 1), 2),
                       algorithm = TVPACK(abseps = 1e-14)))
  }
  p2_tv <- 1 - (orthant(m, m) - orthant(-m, m) - orthant(m, -m) + orthant(-m, -m))
  chk(abs(p - p_tv) < 1e-10, sprintf("robust p: Miwa %.15g vs TVPACK %.15g", p, p_tv))
  chk(abs(p2 - p2_tv) < 1e-10, sprintf("robust p2: Miwa %.15g vs TVPACK %.15g", p2, p2_tv))
  list(corr = r, z = z, p = p, z2 = z2, p2 = p2)
}

caps <- list(list(s_star = 0.5), list(s_star = 0.8), list(s_star = 1), list(t_star = "milestone"))

out <- list()
for (d in src$datasets) {
  time <- num(unlist(d$time))
  event <- num(unlist(d$event))
  arm <- num(unlist(d$arm))
  et <- event_table(time, event, arm)
  lr <- weighted(et, rep(1, length(et$t)))
  if (lr$v > 0) {
    chk(close_enough(lr$u, num(d$logrank$u)) && close_enough(lr$v, num(d$logrank$v)),
        paste(d$name, "log-rank vs survdiff (survival.json)"))
  }
  results <- list()
  for (cap in caps) {
    if (!is.null(cap$s_star)) {
      s_star <- cap$s_star
      label <- list(s_star = s_star)
    } else {
      t_star <- num(d$milestone)
      s_star <- km_at(et$fit, t_star)
      label <- list(t_star = t_star)
    }
    w <- 1 / pmax(et$s_minus, s_star)
    mw <- weighted(et, w)
    if (!is.null(cap$t_star) && length(et$t) > 0) {
      # The same weights written the other way: 1/S(t-) up to t*, then 1/S(t*).
      w2 <- ifelse(et$t <= t_star, 1 / et$s_minus, 1 / s_star)
      chk(isTRUE(all.equal(w, w2, tolerance = TOL)), paste(d$name, "t* cap"))
    }
    if (identical(cap$s_star, 1)) {
      chk(all(w == 1), paste(d$name, "s* = 1 weights"))
    }
    rb <- robust(lr, mw, sum(w * et$v))
    results[[length(results) + 1]] <- c(label, list(
      mw = list(u = mw$u, v = mw$v, z = mw$z),
      robust = rb))
  }
  out[[length(out) + 1]] <- list(name = d$name, caps = results)
}

doc <- list(
  generated_by = "tests/reference/make_mw.R",
  regenerate = "Rscript tests/reference/make_mw.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  mvtnorm_version = as.character(packageVersion("mvtnorm")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  datasets = out)
# Every number as %.17g (an exact round trip; jsonlite's own digits stop at 15), non-finite
# ones as null.
exact <- function(v) {
  if (is.list(v)) return(lapply(v, exact))
  if (is.numeric(v) && length(v) == 1) {
    return(if (is.finite(v)) structure(sprintf("%.17g", v), class = "json") else NA)
  }
  v
}
json <- toJSON(exact(doc), auto_unbox = TRUE, json_verbatim = TRUE, na = "null", null = "null",
               pretty = TRUE)
writeLines(json, file.path("tests", "fixtures", "mw.json"))
cat(sprintf("wrote tests/fixtures/mw.json: %d datasets x %d caps\n", length(out), length(caps)))
