# The R package against the command line: the same files byte for byte, bad input as
# trialsim_scenario_error, interrupts. Run by .ci/r (R CMD INSTALL, then testthat) from the
# repository root's release build: TRIALSIM_ROOT names the repository.

root <- Sys.getenv("TRIALSIM_ROOT", normalizePath(file.path(getwd(), "..", "..", "..")))
cli_bin <- Sys.getenv("TRIALSIM", file.path(root, "target", "release", "trialsim"))
astis <- file.path(root, "scenarios", "astis.toml")

cli <- function(..., out) {
  status <- system2(cli_bin, c(..., "--out", out, "--quiet"))
  stopifnot(status == 0)
}

files_of <- function(dir) {
  names <- sort(list.files(dir, recursive = TRUE))
  stats::setNames(lapply(names, function(n) readBin(file.path(dir, n), "raw", file.size(file.path(dir, n)))), names)
}

test_that("run writes the command line's files byte for byte at any thread count", {
  cli_dir <- tempfile()
  cli("run", astis, "--reps", "1500", "--seed", "7", out = cli_dir)
  theirs <- files_of(cli_dir)
  for (threads in list(1, 2, NULL)) {
    r <- trialsim::run(astis, reps = 1500, seed = 7, threads = threads)
    dir <- tempfile()
    trialsim::write(r, dir)
    mine <- files_of(dir)
    expect_identical(names(mine), names(theirs))
    for (n in names(theirs)) expect_identical(mine[[n]], theirs[[n]], label = n)
    expect_equal(r$summary$tests$logrank$power, jsonlite::fromJSON(file.path(cli_dir, "summary.json"))$tests$logrank$power)
  }
})

test_that("a monitored scenario with the committee's prior matches the command line", {
  scenario <- file.path(root, "scenarios", "hsct_monitoring.toml")
  cli_dir <- tempfile()
  cli("run", scenario, "--reps", "300", "--seed", "3", out = cli_dir)
  r <- trialsim::run(scenario, reps = 300, seed = 3, threads = 2)
  expect_identical(r$files[["summary.json"]], files_of(cli_dir)[["summary.json"]])
})

test_that("text and a named list run as the file does", {
  by_file <- trialsim::run(astis, reps = 400, seed = 1)
  text <- paste(readLines(astis), collapse = "\n")
  by_text <- trialsim::run(text, reps = 400, seed = 1)
  expect_identical(by_text$files[["summary.json"]], by_file$files[["summary.json"]])
  as_list <- list(name = "tiny", time_unit = "years",
                  design = list(n = 100L, control = "control", allocation = list(control = 1L, experimental = 1L),
                                accrual = list(duration = 2), cut = list(calendar = 5)),
                  arms = list(control = list(label = "Control", causes = list(death = list(exponential = 0.1))),
                              experimental = list(label = "Experimental", causes = list(death = list(exponential = 0.07)))),
                  endpoints = list(os = list("death")),
                  analysis = list(endpoint = "os", tests = list("logrank")))
  as_text <- paste(
    'name = "tiny"', 'time_unit = "years"',
    "[design]", "n = 100", 'control = "control"', "allocation = { control = 1, experimental = 1 }",
    "accrual = { duration = 2 }", "cut = { calendar = 5 }",
    "[arms.control]", 'label = "Control"', "causes = { death = { exponential = 0.1 } }",
    "[arms.experimental]", 'label = "Experimental"', "causes = { death = { exponential = 0.07 } }",
    "[endpoints]", 'os = ["death"]', "[analysis]", 'endpoint = "os"', 'tests = ["logrank"]',
    sep = "\n")
  r <- trialsim::run(as_list, reps = 200, seed = 1)
  expect_identical(r$files[["summary.json"]], trialsim::run(as_text, reps = 200, seed = 1)$files[["summary.json"]])
  expect_equal(r$summary$design$n, 100)
})

test_that("tables are the summary's", {
  r <- trialsim::run(astis, reps = 300, seed = 5, replicates = TRUE)
  expect_identical(r$tests$test, names(r$summary$tests))
  expect_equal(r$tests$power[1], r$summary$tests$logrank$power)
  km <- r$survival[r$survival$endpoint == "efs" & r$survival$arm == "cyc" & r$survival$time == 1, "km_mean"]
  expect_equal(km, r$summary$estimates[["km.cyc.1"]]$mean)
  expect_setequal(r$estimates$estimate, names(r$summary$estimates))
  expect_equal(nrow(r$replicates), 300)
  expect_equal(r$replicates$replicate, 0:299)
})

test_that("bad input signals trialsim_scenario_error with the located message", {
  expect_bad <- function(expr, ...) {
    e <- tryCatch(expr, trialsim_scenario_error = function(e) e)
    expect_s3_class(e, "trialsim_scenario_error")
    for (w in c(...)) expect_match(conditionMessage(e), w, fixed = TRUE)
    invisible(e)
  }
  expect_bad(trialsim::run("/nonexistent/astis.toml"), "/nonexistent/astis.toml", "cannot read")
  e <- expect_bad(trialsim::run(list(name = "x", design = list(n = 10, nn = 3))), "<list>", "unknown field `nn`")
  expect_identical(e$key, "design.nn")
  text <- sub("alpha = 0.025", "alpha = 0.7", paste(readLines(astis), collapse = "\n"), fixed = TRUE)
  line <- grep("^alpha = 0.7", strsplit(text, "\n")[[1]])
  e <- expect_bad(trialsim::truth(text), sprintf("<string>:%d:9", line), "analysis.alpha", "(0, 0.5]")
  expect_identical(list(e$file, e$line, e$column, e$key), list("<string>", line, 9L, "analysis.alpha"))
  expect_bad(trialsim::run(sub("n = 156", "n = 'many'", paste(readLines(astis), collapse = "\n"))), "design.n")
  expect_bad(trialsim::run(astis, reps = -1), "reps: expected a positive whole number of replicates, found -1")
  expect_bad(trialsim::run(astis, reps = 0), "reps: expected at least 1 replicate, found 0")
  expect_bad(trialsim::run(astis, reps = 2.5), "reps: expected a positive whole number")
  expect_bad(trialsim::run(astis, seed = "x"), "seed: expected a whole number")
  expect_bad(trialsim::run(astis, threads = 0), "threads: expected at least 1 thread")
  expect_bad(trialsim::run(astis, overrides = list(design.nn = 3)), "unknown field `nn`")
  expect_bad(trialsim::run(astis, overrides = list(design.n = NaN)), "finite")
  expect_bad(trialsim::run(42), "expected a path, TOML text or a named list")
  expect_bad(trialsim::plan(astis, vary = c("a", "b"), target = 0.5), "vary: expected one key")
  expect_bad(trialsim::sweep(astis, set = list(1, 2)), "set: expected a named list")
})

# Runs `code` in an Rscript and sends it SIGINT `seconds` after `ready()` holds; returns what
# the script said ("interrupted: <message>" or "finished") and how long the answer took.
interrupted_after <- function(code, seconds, ready = function() TRUE) {
  script <- tempfile(fileext = ".R")
  out <- tempfile()
  pid_file <- tempfile()
  writeLines(c(
    sprintf(".libPaths(c(%s, .libPaths()))", deparse(.libPaths()[1])),
    sprintf("writeLines(as.character(Sys.getpid()), %s)", deparse(pid_file)),
    "r <- tryCatch({", code, "; 'finished'}, interrupt = function(e) paste('interrupted:', conditionMessage(e)))",
    sprintf("writeLines(r, %s)", deparse(out))
  ), script)
  system2("Rscript", script, wait = FALSE, stdout = FALSE, stderr = FALSE)
  started <- Sys.time()
  while ((!file.exists(pid_file) || !ready()) && Sys.time() - started < 60) Sys.sleep(0.02)
  Sys.sleep(seconds)
  sent <- Sys.time()
  tools::pskill(as.integer(readLines(pid_file)), tools::SIGINT)
  while (!file.exists(out) && Sys.time() - sent < 60) Sys.sleep(0.05)
  list(result = if (file.exists(out)) readLines(out) else "no answer", waited = as.numeric(Sys.time() - sent, units = "secs"))
}

test_that("an interrupt stops a run within seconds, which returns nothing", {
  code <- sprintf("r <- trialsim::run(%s, reps = 1e7, threads = 2)", deparse(astis))
  got <- interrupted_after(code, 3)
  expect_match(got$result, "^interrupted")
  expect_lt(got$waited, 5)
})

test_that("an interrupted sweep keeps its finished points, names its directory, and resumes", {
  dir <- tempfile()
  points <- file.path(dir, "points")
  set <- "list(design.n = c(100, 120, 140, 160, 180, 200, 220, 240))"
  code <- sprintf("s <- trialsim::sweep(%s, set = %s, reps = 20000, threads = 2, out = %s)", deparse(astis), set, deparse(dir))
  # Interrupted as soon as the first point is in, so that some are and some are not.
  got <- interrupted_after(code, 0, ready = function() length(list.files(points, "\\.json$")) > 0)
  expect_match(got$result, "^interrupted: sweep interrupted")
  expect_match(got$result, dir, fixed = TRUE)
  expect_lt(got$waited, 10)
  records <- list.files(points, "\\.json$", full.names = TRUE)
  expect_gt(length(records), 0)
  expect_lt(length(records), 8)
  for (r in records) jsonlite::fromJSON(r) # every record whole
  expect_false(file.exists(file.path(dir, "sweep.csv")))
  s <- trialsim::sweep(astis, set = list(design.n = c(100, 120, 140, 160, 180, 200, 220, 240)), reps = 20000, threads = 2, out = dir)
  expect_true(s$complete)
  expect_equal(s$reused, length(records))
  expect_equal(s$computed, 8L - length(records))
})

test_that("sweep, plan and assurance write the command line's files", {
  cli_dir <- tempfile()
  cli("sweep", astis, "--reps", "300", "--seed", "4", "--set", "design.n=100,200", out = cli_dir)
  s <- trialsim::sweep(astis, set = list(design.n = c(100, 200)), reps = 300, seed = 4)
  dir <- tempfile()
  trialsim::write(s, dir)
  expect_identical(files_of(dir), files_of(cli_dir)[names(files_of(dir))])
  expect_setequal(names(files_of(dir)), names(files_of(cli_dir)))
  expect_true(all(c("point", "metric", "value") %in% names(s$table)))

  cli_dir <- tempfile()
  cli("plan", astis, "--vary", "design.n", "--target", "0.5", "--test", "logrank", "--reps", "300", "--seed", "4", out = cli_dir)
  p <- trialsim::plan(astis, vary = "design.n", target = 0.5, tests = "logrank", reps = 300, seed = 4)
  dir <- tempfile()
  trialsim::write(p, dir)
  expect_identical(files_of(dir), files_of(cli_dir))
  expect_identical(p$answers$test, "logrank")

  scenario <- file.path(root, "scenarios", "plan_next_trial.toml")
  cli_dir <- tempfile()
  cli("assurance", scenario, "--reps", "200", "--seed", "4", out = cli_dir)
  a <- trialsim::assurance(scenario, reps = 200, seed = 4)
  dir <- tempfile()
  trialsim::write(a, dir)
  expect_identical(files_of(dir), files_of(cli_dir))
})

test_that("base::sweep and base::write still work with the package attached", {
  m <- matrix(1:4, 2)
  expect_identical(trialsim::sweep(m, 2, colMeans(m)), base::sweep(m, 2, colMeans(m)))
  expect_identical(trialsim::sweep(m, 2, colMeans(m), "/"), base::sweep(m, 2, colMeans(m), "/"))
  expect_identical(trialsim::sweep(x = m, MARGIN = 1, STATS = 1:2, FUN = "*"), base::sweep(m, 1, 1:2, "*"))
  expect_identical(trialsim::sweep(as.data.frame(m), 2, 1:2), base::sweep(as.data.frame(m), 2, 1:2))
  f <- tempfile()
  trialsim::write("x", f)
  expect_identical(readLines(f), "x")
  trialsim::write(c("a", "b"), file = f, ncolumns = 2)
  expect_identical(readLines(f), "a b")
})

test_that("write replaces a result as the command line does", {
  dir <- tempfile()
  trialsim::write(trialsim::run(astis, reps = 200, seed = 1, replicates = TRUE), dir)
  expect_true(file.exists(file.path(dir, "replicates.csv")))
  trialsim::write(trialsim::run(astis, reps = 300, seed = 2), dir)
  expect_false(file.exists(file.path(dir, "replicates.csv")))
  expect_equal(jsonlite::fromJSON(file.path(dir, "summary.json"))$replicates, 300)
})

test_that("truth is summary.json's truth", {
  r <- trialsim::run(astis, reps = 100, seed = 1)
  expect_identical(trialsim::truth(astis), r$summary$truth)
})
