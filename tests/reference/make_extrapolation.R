# make_extrapolation.R -- reference values for each arm's extrapolation model (issue 25).
#
# What it computes, per dataset and arm (arm 0 = control, 1 = experimental), written to
# tests/fixtures/extrapolation.json:
#   weibull    survival::survreg(Surv(time, event) ~ 1, dist = "weibull",
#              control = survreg.control(rel.tolerance = 1e-12, maxiter = 200)): the intercept
#              mu, log(scale), vcov() of (intercept, Log(scale)) and the log-likelihood; null
#              when the arm has no event or survreg warns that it did not converge.
#   rmst       for tau in `taus`: the Weibull RMST of S(t) = exp(-(t / exp(mu))^(1 / scale)) in
#              closed form by gamma() and pgamma(), and its delta-method variance g' V g, g the
#              gradient in (mu, log scale) by Richardson-extrapolated central differences.
#   piecewise  with the dataset's `cuts`: events d_j and time at risk E_j per piece (0, c1],
#              (c1, c2], ..., from survSplit; the hazard d_j / E_j. Pieces after the last one with
#              time at risk are dropped; null when a kept piece has no event.
#   pe_rmst    for tau in `taus`: the piecewise-exponential RMST, integrate() of its S, and its
#              variance sum_j (dRMST/dlog lambda_j)^2 / d_j, the derivatives by integrate() too.
#
# Datasets: the 27 of tests/fixtures/survival.json (its `time`, `event`, `arm`), and three
# larger ones drawn here with set.seed(2026): Weibull arms (n = 200 each, shapes 0.7 and 1.6),
# early harm then benefit (piecewise hazards, n = 150 each) and heavy censoring (n = 100 each).
#
# Versions used to produce the committed fixture: R 4.2.2, survival 3.5-3, jsonlite 1.8.4
# (Debian bookworm r-base-core r-cran-survival r-cran-jsonlite); also written into the JSON.
#
# Regenerate (from the repository root; a few seconds):
#   Rscript tests/reference/make_extrapolation.R

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

src <- fromJSON(file.path("tests", "fixtures", "survival.json"), simplifyVector = FALSE)
num <- function(x) as.numeric(unlist(x))

datasets <- lapply(src$datasets, function(d) {
  list(name = d$name, time = num(d$time), event = num(d$event), arm = num(d$arm))
})

set.seed(2026)
rweib <- function(n, shape, scale) scale * (-log(runif(n)))^(1 / shape)
# Weibull arms with uniform censoring.
t0 <- rweib(200, 0.7, 5); t1 <- rweib(200, 1.6, 6); c <- runif(400, 1, 12)
tt <- c(t0, t1)
datasets[[length(datasets) + 1]] <- list(name = "weibull_arms_200", time = round(pmin(tt, c), 6),
  event = as.numeric(tt <= c), arm = rep(0:1, each = 200))
# Early harm then benefit: control hazard 0.15; experimental 0.6 in (0, 0.25], then 0.05.
pe <- function(n, rates, cuts) {
  sapply(seq_len(n), function(i) {
    e <- rexp(1); start <- 0; edges <- c(0, cuts, Inf)
    for (j in seq_along(rates)) {
      len <- edges[j + 1] - edges[j]
      if (e <= rates[j] * len) return(edges[j] + e / rates[j])
      e <- e - rates[j] * len
    }
  })
}
t0 <- rexp(150, 0.15); t1 <- pe(150, c(0.6, 0.05), 0.25); c <- runif(300, 2, 10)
tt <- c(t0, t1)
datasets[[length(datasets) + 1]] <- list(name = "harm_then_benefit_150", time = round(pmin(tt, c), 6),
  event = as.numeric(tt <= c), arm = rep(0:1, each = 150))
t0 <- rweib(100, 1.2, 4); t1 <- rweib(100, 1.2, 6); c <- runif(200, 0.2, 3)
tt <- c(t0, t1)
datasets[[length(datasets) + 1]] <- list(name = "heavy_censoring_100", time = round(pmin(tt, c), 6),
  event = as.numeric(tt <= c), arm = rep(0:1, each = 100))

# Integrands are 0 where they underflow (S = 0 times an overflowing factor is 0, not NaN).
integ <- function(f, a, b) {
  g <- function(t) { v <- f(t); v[!is.finite(v)] <- 0; v }
  integrate(g, a, b, rel.tol = 1e-12, abs.tol = 0, subdivisions = 1000L)$value
}

weibull <- function(time, event) {
  if (sum(event) == 0) return(NULL)
  warned <- FALSE
  fit <- withCallingHandlers(
    tryCatch(survreg(Surv(time, event) ~ 1, dist = "weibull",
                     control = survreg.control(rel.tolerance = 1e-12, maxiter = 200)),
             error = function(e) NULL),
    warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
  if (is.null(fit) || warned || !all(is.finite(c(coef(fit), log(fit$scale), vcov(fit)))) ||
      any(diag(vcov(fit)) <= 0)) return(NULL)
  list(mu = unname(coef(fit)[1]), log_scale = log(fit$scale), vcov = unname(vcov(fit)),
       loglik = fit$loglik[1])
}

# The closed form lambda Gamma(1 + 1/k) P(1/k, (tau/lambda)^k) by R's gamma and pgamma (an
# implementation independent of the one under test); the gradient in (mu, log scale) by central
# differences with Richardson extrapolation (error of order h^4).
weibull_rmst <- function(w, tau) {
  f <- function(mu, s) {
    k <- exp(-s)
    exp(mu) * gamma(1 + 1 / k) * pgamma(exp((log(tau) - mu) * k), shape = 1 / k)
  }
  d <- function(g, h) (8 * (g(h) - g(-h)) - (g(2 * h) - g(-2 * h))) / (12 * h)
  g <- c(d(function(h) f(w$mu + h, w$log_scale), 1e-4), d(function(h) f(w$mu, w$log_scale + h), 1e-4))
  list(tau = tau, rmst = f(w$mu, w$log_scale), var = as.numeric(t(g) %*% w$vcov %*% g))
}

piecewise <- function(time, event, cuts) {
  df <- data.frame(time = time, event = event, id = seq_along(time))
  sp <- survSplit(Surv(time, event) ~ ., data = df, cut = cuts, episode = "piece", start = "tstart")
  k <- length(cuts) + 1
  d <- tapply(sp$event, factor(sp$piece, levels = 1:k), sum); d[is.na(d)] <- 0
  E <- tapply(sp$time - sp$tstart, factor(sp$piece, levels = 1:k), sum); E[is.na(E)] <- 0
  used <- max(which(E > 0))
  d <- as.numeric(d[1:used]); E <- as.numeric(E[1:used])
  if (any(d == 0)) return(NULL)
  list(starts = c(0, cuts)[1:used], events = d, exposure = E, rates = d / E)
}

pe_rmst <- function(p, tau) {
  starts <- p$starts; rates <- p$rates
  H <- function(t) {
    ends <- c(starts[-1], Inf)
    sapply(t, function(u) sum(rates * pmax(0, pmin(u, ends) - starts)))
  }
  knots <- c(starts[starts < tau], tau)
  piecewise_integral <- function(f) sum(sapply(seq_len(length(knots) - 1), function(i) integ(f, knots[i], knots[i + 1])))
  r <- piecewise_integral(function(t) exp(-H(t)))
  # d/dlog lambda_j of S(t) = -S(t) lambda_j (time in piece j up to t).
  ends <- c(starts[-1], Inf)
  g <- sapply(seq_along(rates), function(j) piecewise_integral(function(t)
    -exp(-H(t)) * rates[j] * pmax(0, pmin(t, ends[j]) - starts[j])))
  list(tau = tau, rmst = r, var = sum(g^2 / p$events))
}

cuts_of <- function(time) {
  m <- max(time)
  c(m / 4, m / 2)
}

out <- lapply(datasets, function(d) {
  cuts <- cuts_of(d$time)
  taus <- c(max(d$time), 2 * max(d$time), 5 * max(d$time))
  arms <- lapply(0:1, function(a) {
    time <- d$time[d$arm == a]; event <- d$event[d$arm == a]
    if (length(time) == 0) return(list(arm = a, weibull = NULL, piecewise = NULL))
    w <- weibull(time, event)
    p <- piecewise(time, event, cuts)
    list(arm = a,
         weibull = w,
         rmst = if (is.null(w)) NULL else lapply(taus, function(tau) weibull_rmst(w, tau)),
         piecewise = p,
         pe_rmst = if (is.null(p)) NULL else lapply(taus, function(tau) pe_rmst(p, tau)))
  })
  list(name = d$name, time = d$time, event = d$event, arm = d$arm, cuts = cuts, taus = taus, arms = arms)
})

json <- toJSON(list(
  generated_by = "tests/reference/make_extrapolation.R",
  regenerate = "Rscript tests/reference/make_extrapolation.R",
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  datasets = out), auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = FALSE)
writeLines(json, file.path("tests", "fixtures", "extrapolation.json"))
cat("wrote tests/fixtures/extrapolation.json:", length(out), "datasets\n")
