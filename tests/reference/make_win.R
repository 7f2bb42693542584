# make_win.R -- brute-force reference values for the win statistics of hierarchical composite
# endpoints (issue 29), written to tests/fixtures/win.json.
#
# Each dataset: patients with a group (1 experimental, 0 control) and, per layer, either a
# (time, event) pair (a time-to-event layer, later is better) or a value (a continuous layer,
# higher is better, NA = not assessed, with a margin). Every ordered pair (i, j) is compared by
# walking the layers in order, with Finkelstein & Schoenfeld's (1999) rule:
#   time to event: i is better when j's event is seen first -- event_j and (t_j < t_i, or
#                  t_j == t_i and i is censored) -- and worse in the mirror case; else undecided.
#   continuous:    i better when x_i - x_j > margin, worse when x_j - x_i > margin; NA: undecided.
# The first layer that decides, decides the pair; undecided on every layer is a tie.
#
# From the n1 x n0 matrix of experimental-versus-control results and the N x N matrix of the pooled
# sample, computed here by explicit double loops (nothing sorted, nothing shared with the Rust):
#   wins, losses, ties; per layer the wins and losses it decided;
#   win ratio W/L (Pocock et al. 2012), win odds (W + T/2)/(L + T/2), net benefit (W - L)/(n1 n0),
#   shares W/(n1 n0) and W/(W + L);
#   Finkelstein-Schoenfeld: u_k = row sums of the pooled score matrix, U = sum over the
#   experimental u_k, V = n1 n0 / (N (N - 1)) sum u_k^2, z = -U / sqrt(V) (z < 0 favours the
#   experimental arm). The script also checks U == W - L and, on the small datasets, that V is the
#   exact permutation variance of U (every relabelling of the groups enumerated);
#   log WR SE: the two-sample U-statistic variance of (theta_w, theta_l) (Bebu & Lachin 2016) from
#   DeLong et al.'s (1988) structural components -- for the experimental patient i the row means
#   of the win and loss indicator matrices, for the control patient j the column means -- with
#   sample covariances (divisor n - 1), and the delta method for log(theta_w / theta_l).
#
# Versions used to produce the committed fixture: R 4.2.2 and jsonlite 1.8.4 (Debian bookworm
# r-base-core r-cran-jsonlite), also written into the JSON.
#
# Regenerate (from the repository root; a few seconds):
#   Rscript tests/reference/make_win.R
# Deterministic: the datasets come from set.seed(2029) and are written into the JSON.

suppressPackageStartupMessages(library(jsonlite))
set.seed(2029)

compare_pair <- function(d, i, j) {
  for (l in seq_along(d$layers)) {
    ly <- d$layers[[l]]
    if (ly$kind == "event") {
      ti <- d$value[[l]][i]; tj <- d$value[[l]][j]
      ei <- d$event[[l]][i]; ej <- d$event[[l]][j]
      if (ej && (tj < ti || (tj == ti && !ei))) return(c(1, l))
      if (ei && (ti < tj || (ti == tj && !ej))) return(c(-1, l))
    } else {
      xi <- d$value[[l]][i]; xj <- d$value[[l]][j]
      if (!is.na(xi) && !is.na(xj)) {
        if (xi - xj > ly$margin) return(c(1, l))
        if (xj - xi > ly$margin) return(c(-1, l))
      }
    }
  }
  c(0, 0)
}

statistics <- function(d) {
  g <- d$group
  N <- length(g); exp_idx <- which(g == 1); ctl_idx <- which(g == 0)
  n1 <- length(exp_idx); n0 <- length(ctl_idx)
  L <- length(d$layers)
  S <- matrix(0, N, N); decided_at <- matrix(0, N, N)
  for (i in 1:N) for (j in 1:N) if (i != j) {
    r <- compare_pair(d, i, j)
    S[i, j] <- r[1]; decided_at[i, j] <- r[2]
  }
  stopifnot(all(S == -t(S)))
  Wm <- (S[exp_idx, ctl_idx, drop = FALSE] == 1) * 1
  Lm <- (S[exp_idx, ctl_idx, drop = FALSE] == -1) * 1
  W <- sum(Wm); Lo <- sum(Lm); Ti <- n1 * n0 - W - Lo
  Dm <- decided_at[exp_idx, ctl_idx, drop = FALSE]
  layer_wins <- sapply(1:L, function(l) sum(Wm[Dm == l]))
  layer_losses <- sapply(1:L, function(l) sum(Lm[Dm == l]))
  u <- rowSums(S)
  U <- sum(u[exp_idx])
  stopifnot(U == W - Lo)
  V <- n1 * n0 / (N * (N - 1)) * sum(u^2)
  if (N <= 9) {
    # The exact permutation variance of U over every relabelling with n1 experimental patients.
    combos <- combn(N, n1)
    Us <- apply(combos, 2, function(e) sum(u[e]))
    v_exact <- mean(Us^2) - mean(Us)^2
    stopifnot(abs(v_exact - V) < 1e-9 * max(1, V))
  }
  nan <- NA_real_
  wr <- if (W > 0 && Lo > 0) W / Lo else nan
  se <- nan
  if (W > 0 && Lo > 0 && n1 > 1 && n0 > 1) {
    tw <- W / (n1 * n0); tl <- Lo / (n1 * n0)
    wi <- rowMeans(Wm); li <- rowMeans(Lm)   # experimental patients: against all controls
    wj <- colMeans(Wm); lj <- colMeans(Lm)   # control patients: against all experimental
    v10 <- cov(cbind(wi, li)); v01 <- cov(cbind(wj, lj))
    V2 <- v10 / n1 + v01 / n0
    var_log <- V2[1, 1] / tw^2 + V2[2, 2] / tl^2 - 2 * V2[1, 2] / (tw * tl)
    if (var_log > 0) se <- sqrt(var_log)
  }
  list(
    wins = W, losses = Lo, ties = Ti,
    layer_wins = I(layer_wins), layer_losses = I(layer_losses),
    win_ratio = wr,
    win_odds = if (Lo + Ti / 2 > 0) (W + Ti / 2) / (Lo + Ti / 2) else nan,
    net_benefit = (W - Lo) / (n1 * n0),
    share_all = W / (n1 * n0),
    share_decided = if (W + Lo > 0) W / (W + Lo) else nan,
    z = if (V > 0) -U / sqrt(V) else nan,
    log_wr_se = se
  )
}

# A dataset: n1 experimental and n0 control patients on the layers given by `kinds` ("event" or a
# margin for a continuous layer). Event times on a coarse grid (ties), censoring before and at an
# horizon, missing values with probability p_missing.
dataset <- function(name, n1, n0, kinds, grid = 0.5, horizon = 4.5, censor = 0.3, p_missing = 0.2) {
  N <- n1 + n0
  group <- c(rep(1, n1), rep(0, n0))
  layers <- list(); value <- list(); event <- list()
  for (k in seq_along(kinds)) {
    if (identical(kinds[[k]], "event")) {
      t <- round(rexp(N, 0.25 + 0.1 * (group == 0)) / grid) * grid
      c <- if (censor > 0) round(runif(N, 0, 2 * horizon / (1 + censor)) / grid) * grid else rep(Inf, N)
      obs <- pmin(t, c, horizon)
      ev <- (t <= c) & (t <= horizon)
      obs[!ev] <- pmin(c[!ev], horizon)
      layers[[k]] <- list(kind = "event")
      value[[k]] <- obs; event[[k]] <- ev
    } else {
      x <- round(rnorm(N, 0.3 * group, 1), 1)
      x[runif(N) < p_missing] <- NA
      layers[[k]] <- list(kind = "continuous", margin = kinds[[k]])
      value[[k]] <- x; event[[k]] <- rep(FALSE, N)
    }
  }
  d <- list(name = name, group = group, layers = layers, value = value, event = event)
  d$expected <- statistics(d)
  d
}

datasets <- list(
  dataset("tiny two layers", 4, 5, list("event", 0)),
  dataset("tiny death only", 4, 4, list("event"), censor = 0),
  dataset("five layers, SCOT-like", 18, 20, list("event", "event", 0, 0.1, 0.5)),
  dataset("five layers, heavy censoring and missing", 25, 22, list("event", "event", 0, 0, 0.2),
          censor = 1.5, p_missing = 0.5),
  dataset("continuous only with margin", 15, 12, list(0.5, 0)),
  dataset("many ties on a coarse grid", 30, 30, list("event", 0), grid = 1.5),
  dataset("uncensored deaths, larger", 40, 35, list("event"), censor = 0, horizon = Inf),
  dataset("unbalanced", 7, 26, list("event", 0.2, 0))
)
# One dataset where the experimental arm never loses: WR and its SE not estimable.
never <- list(name = "no losses", group = c(1, 1, 0, 0),
              layers = list(list(kind = "continuous", margin = 0)),
              value = list(c(3, 2, 1, 0)), event = list(rep(FALSE, 4)))
never$expected <- statistics(never)
datasets[[length(datasets) + 1]] <- never

fixture <- list(
  regenerate = "Rscript tests/reference/make_win.R",
  r_version = R.version.string,
  jsonlite_version = as.character(packageVersion("jsonlite")),
  datasets = lapply(datasets, function(d) {
    d$value <- lapply(d$value, function(v) ifelse(is.infinite(v), 1e300, v))
    d
  })
)
writeLines(toJSON(fixture, auto_unbox = TRUE, digits = NA, na = "null", pretty = FALSE),
           "tests/fixtures/win.json")
cat("wrote tests/fixtures/win.json:", length(datasets), "datasets\n")
