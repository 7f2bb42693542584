# trialsim from R: the Rust engine of the `trialsim` command line, as functions. Each returns a
# list of data.frames and the command's JSON file as a nested list (`summary`); `write()` writes
# the command line's files. A bad scenario or argument signals a condition of class
# `trialsim_scenario_error` (also an `error`) whose message is the command line's (file or
# <string>, line, column, key, what was expected), with `file`, `line`, `column` and `key`
# fields; an interrupt (Ctrl-C, Esc) stops the simulation at its next chunk, returns nothing and
# writes nothing, and signals `trialsim_interrupted` (also an `interrupt`).

# ---------------------------------------------------------------------------------------------
# Errors

.signal <- function(r, call) {
  if (isTRUE(r$ok)) {
    return(r)
  }
  class <- switch(r$kind,
    scenario = c("trialsim_scenario_error", "error", "condition"),
    argument = c("trialsim_scenario_error", "error", "condition"),
    interrupt = c("trialsim_interrupted", "interrupt", "error", "condition"),
    c("trialsim_error", "error", "condition")
  )
  num <- function(x) if (is.na(x)) NA_integer_ else as.integer(x)
  cond <- structure(
    list(
      message = r$message, call = call, file = r$file, line = num(r$line),
      column = num(r$column), key = r$key
    ),
    class = class
  )
  stop(cond)
}

.bad <- function(message, call) {
  .signal(list(ok = FALSE, kind = "argument", message = message, file = NA_character_,
               line = NA_character_, column = NA_character_, key = NA_character_), call)
}

# ---------------------------------------------------------------------------------------------
# Input

# (TOML text, the name errors give it) of a path, TOML text or a named list of tables.
.source <- function(scenario, call) {
  if (is.list(scenario)) {
    if (is.null(names(scenario)) || any(names(scenario) == "")) {
      .bad("scenario: expected a named list of scenario tables", call)
    }
    json <- jsonlite::toJSON(scenario, auto_unbox = TRUE, digits = NA, null = "null", na = "null")
    return(list(text = .signal(tr_toml_of_json(as.character(json)), call)$text, origin = "<list>"))
  }
  if (!is.character(scenario) || length(scenario) != 1L || is.na(scenario)) {
    .bad("scenario: expected a path, TOML text or a named list", call)
  }
  # A path is one line naming a file (or ending in .toml: then a missing file is said so);
  # anything else is TOML text.
  if (!grepl("\n", scenario, fixed = TRUE) && (grepl("\\.toml$", scenario) || file.exists(scenario))) {
    path <- path.expand(scenario)
    return(list(text = .signal(tr_read_scenario(path), call)$text, origin = path))
  }
  list(text = scenario, origin = "<string>")
}

# A count as a double for the native half (empty: not given); its range is checked there.
.count <- function(name, x, call) {
  if (is.null(x)) {
    return(double())
  }
  if (!is.numeric(x) || length(x) != 1L || is.na(x)) {
    .bad(sprintf("%s: expected a whole number, found %s", name, deparse(x)[1]), call)
  }
  as.double(x)
}

.overrides <- function(overrides, call) {
  if (is.null(overrides) || length(overrides) == 0L) {
    return(list(keys = character(), values = double()))
  }
  keys <- names(overrides)
  if (is.null(keys) || any(keys == "")) {
    .bad("overrides: expected a named list, e.g. list(design.n = 200)", call)
  }
  values <- vapply(seq_along(overrides), function(i) {
    v <- overrides[[i]]
    if (!is.numeric(v) || length(v) != 1L || !is.finite(v)) {
      .bad(sprintf("overrides: `%s`: expected a finite number, found %s", keys[i], deparse(v)[1]), call)
    }
    as.double(v)
  }, double(1))
  list(keys = keys, values = values)
}

# `KEY=VALUES` items, as on the command line, from a named list (values a vector or a
# "LOW:HIGH:STEP" string) or a character vector of such items.
.axes <- function(set, call) {
  if (is.null(set)) {
    return(character())
  }
  if (is.character(set) && is.null(names(set))) {
    return(set)
  }
  if (!is.list(set) || is.null(names(set)) || any(names(set) == "")) {
    .bad("set: expected a named list of values per key, e.g. list(design.n = c(100, 200)), or KEY=VALUES strings", call)
  }
  vapply(names(set), function(k) {
    v <- set[[k]]
    if (is.character(v)) paste0(k, "=", v) else paste0(k, "=", paste(format(v, digits = 17, trim = TRUE), collapse = ","))
  }, character(1), USE.NAMES = FALSE)
}

# ---------------------------------------------------------------------------------------------
# Output

.json <- function(raw) jsonlite::fromJSON(rawToChar(raw), simplifyVector = FALSE)

.rows <- function(rows) {
  if (length(rows) == 0L) {
    return(data.frame())
  }
  cols <- unique(unlist(lapply(rows, names)))
  out <- lapply(cols, function(c) {
    vals <- lapply(rows, function(r) if (is.null(r[[c]])) NA else r[[c]])
    if (all(vapply(vals, function(v) is.numeric(v) || (length(v) == 1L && is.na(v)), logical(1)))) {
      as.numeric(unlist(vals))
    } else if (all(vapply(vals, function(v) is.logical(v), logical(1)))) {
      as.logical(unlist(vals))
    } else {
      vapply(vals, function(v) if (length(v) == 1L && is.na(v)) NA_character_ else paste(format(v), collapse = ", "), character(1))
    }
  })
  names(out) <- cols
  as.data.frame(out, stringsAsFactors = FALSE, check.names = FALSE)
}

.flatten <- function(x, prefix = "") {
  out <- list()
  for (k in names(x)) {
    v <- x[[k]]
    name <- if (prefix == "") k else paste0(prefix, ".", k)
    if (is.list(v) && !is.null(names(v))) {
      out <- c(out, .flatten(v, name))
    } else if (is.list(v) && length(v) == 2L && all(vapply(v, function(e) is.numeric(e) || is.null(e), logical(1)))) {
      out[[paste0(name, "_low")]] <- if (is.null(v[[1]])) NA else v[[1]]
      out[[paste0(name, "_high")]] <- if (is.null(v[[2]])) NA else v[[2]]
    } else if (!is.list(v)) {
      out[[name]] <- if (is.null(v)) NA else v
    }
  }
  out
}

.num <- function(h) if (h == round(h)) format(h, scientific = FALSE) else format(h, digits = 17)

.run_tables <- function(s) {
  tests <- .rows(lapply(names(s$tests), function(n) c(list(test = n), .flatten(s$tests[[n]]))))
  est <- s$estimates
  estimates <- .rows(lapply(names(est), function(n) c(list(estimate = n), lapply(est[[n]], function(v) if (is.null(v)) NA else v))))
  truth <- s$truth
  horizons <- unlist(truth$horizons)
  survival <- list()
  for (e in truth$endpoints) {
    for (arm in e$survival) {
      for (i in seq_along(horizons)) {
        h <- horizons[i]
        row <- list(endpoint = e$endpoint, arm = arm$arm, time = h, truth = arm$values[[i]])
        if (e$endpoint == truth$endpoint) {
          km <- est[[sprintf("km.%s.%s", arm$arm, .num(h))]]
          se <- est[[sprintf("km.%s.%s.se", arm$arm, .num(h))]]
          row$km_mean <- if (is.null(km$mean)) NA else km$mean
          row$km_sd <- if (is.null(km$sd)) NA else km$sd
          row$km_se_mean <- if (is.null(se$mean)) NA else se$mean
        }
        survival[[length(survival) + 1L]] <- row
      }
    }
  }
  list(tests = tests, survival = .rows(survival), estimates = estimates)
}

.result <- function(files, main, class) {
  structure(list(summary = .json(files[[main]]), files = files, main = main), class = c(class, "trialsim_result"))
}

# ---------------------------------------------------------------------------------------------
# Commands

#' Simulate a scenario as `trialsim run` does
#'
#' @param scenario a path, TOML text, or a named list of the same tables.
#' @param reps,seed replicates and seed (default: the scenario's `[simulation]`).
#' @param threads worker threads (default: all cores); results do not depend on it.
#' @param overrides a named list of numeric keys, e.g. `list(design.n = 200)`.
#' @param replicates keep replicates.csv (one row per simulated trial) as `$replicates`.
#' @return a `trialsim_run`: `$summary` (summary.json as a nested list), `$tests`,
#'   `$survival`, `$estimates` (data.frames), `$replicates`, `$files`.
#' @export
run <- function(scenario, reps = NULL, seed = NULL, threads = NULL, overrides = NULL, replicates = FALSE) {
  call <- match.call()
  src <- .source(scenario, call)
  o <- .overrides(overrides, call)
  r <- .signal(tr_run(src$text, src$origin, o$keys, o$values, .count("reps", reps, call),
                      .count("seed", seed, call), .count("threads", threads, call),
                      isTRUE(replicates)), call)
  files <- r$files
  if (!is.null(r$replicates)) {
    files <- append(files, list(replicates.csv = r$replicates), after = length(files) - 1L)
  }
  out <- .result(files, "summary.json", "trialsim_run")
  out <- c(out, .run_tables(out$summary))
  if (!is.null(r$replicates)) {
    out$replicates <- utils::read.csv(text = rawToChar(r$replicates), check.names = FALSE)
  }
  structure(out, class = c("trialsim_run", "trialsim_result"))
}

#' The model's true values without simulation (summary.json's `truth`)
#' @inheritParams run
#' @export
truth <- function(scenario, overrides = NULL) {
  call <- match.call()
  src <- .source(scenario, call)
  o <- .overrides(overrides, call)
  jsonlite::fromJSON(.signal(tr_truth(src$text, src$origin, o$keys, o$values), call)$json, simplifyVector = FALSE)
}

#' A grid of overrides, resumably, as `trialsim sweep` runs it
#'
#' @inheritParams run
#' @param set a named list of values per key (`list(design.n = c(100, 200))`, or
#'   `"100:400:50"`), or `KEY=VALUES` strings; `NULL`: the scenario's `[sweep]` table.
#' @param out the sweep's directory (default: a new temporary one); an interrupted sweep keeps
#'   its finished points there, its condition names the directory, and the same call with that
#'   `out` resumes.
#' @param zip vary the keys together rather than over their product.
#' @param ... `scenario`, `set`, `out`, `zip`, `reps`, `seed`, `threads` as named; or, when the
#'   first argument is an array or data.frame, `base::sweep`'s arguments (the package masks it).
#' @return a `trialsim_sweep`: `$table` (sweep.csv), `$summary` (sweep.json), `$out`.
#' @export
sweep <- function(...) {
  # base::sweep(x, MARGIN, STATS, FUN, ...) on an array or data.frame stays what it was with
  # the package attached: every argument passed on as given.
  first <- if (...length() > 0L) ..1 else NULL
  if (is.array(first) || is.data.frame(first) || "x" %in% ...names()) {
    return(base::sweep(...))
  }
  .sweep(...)
}

.sweep <- function(scenario, set = NULL, out = NULL, zip = FALSE, reps = NULL, seed = NULL, threads = NULL) {
  call <- sys.call(-1L)
  src <- .source(scenario, call)
  if (is.null(out)) out <- tempfile("trialsim-sweep-")
  r <- tr_sweep(src$text, src$origin, .axes(set, call), isTRUE(zip), .count("reps", reps, call),
                        .count("seed", seed, call), .count("threads", threads, call),
                        path.expand(out))
  if (identical(r$kind, "interrupt")) {
    # Say where the finished points are: with the default `out` the caller never saw it.
    r$message <- sprintf("sweep interrupted: its finished points are kept in %s; the same call with out = \"%s\" resumes", out, out)
  }
  r <- .signal(r, call)
  structure(list(
    out = r$out, complete = r$complete, points = as.integer(r$points),
    reused = as.integer(r$reused), computed = as.integer(r$computed),
    summary = jsonlite::fromJSON(file.path(r$out, "sweep.json"), simplifyVector = FALSE),
    table = if (r$complete) utils::read.csv(file.path(r$out, "sweep.csv"), check.names = FALSE) else NULL
  ), class = c("trialsim_sweep", "trialsim_result"))
}

#' The smallest value of a key reaching a target power, as `trialsim plan` finds it
#'
#' @inheritParams sweep
#' @param vary the key to vary, e.g. `"design.n"`.
#' @param target the power to reach, in (0, 1).
#' @param tests test names (default: the scenario's first).
#' @param range `c(LOW, HIGH)` to search.
#' @param never_better_limit mark a test not acceptable whose never-better rate exceeds it.
#' @return a `trialsim_plan`: `$answers` (a data.frame), `$summary` (plan.json), `$files`.
#' @export
plan <- function(scenario, vary, target, tests = NULL, range = NULL, set = NULL, zip = FALSE,
                 never_better_limit = NULL, reps = NULL, seed = NULL, threads = NULL) {
  call <- match.call()
  if (!is.character(vary) || length(vary) != 1L || is.na(vary)) {
    .bad("vary: expected one key, e.g. \"design.n\"", call)
  }
  if (!is.numeric(target) || length(target) != 1L || is.na(target)) {
    .bad(sprintf("target: expected one power in (0, 1), found %s", deparse(target)[1]), call)
  }
  src <- .source(scenario, call)
  r <- .signal(tr_plan(src$text, src$origin, as.character(vary), as.double(target),
                       as.character(tests %||% character()), as.double(range %||% double()),
                       .axes(set, call), isTRUE(zip), as.double(never_better_limit %||% double()),
                       .count("reps", reps, call), .count("seed", seed, call),
                       .count("threads", threads, call)), call)
  out <- .result(r$files, "plan.json", "trialsim_plan")
  s <- out$summary
  points <- if (is.null(names(s))) s else list(s)
  rows <- list()
  for (p in points) {
    for (a in p$tests) {
      a$curve <- NULL
      row <- c(list(key = p$key, target = p$target), .flatten(a))
      for (o in p$overrides) row[[paste0("set.", o[[1]])]] <- o[[2]]
      rows[[length(rows) + 1L]] <- row
    }
  }
  out$answers <- .rows(rows)
  out
}

#' Assurance: the probability of success averaged over parameter draws
#'
#' @inheritParams run
#' @param draws a CSV of draws (e.g. a calibration's draws.csv); `NULL`: the scenario's
#'   `[uncertainty]` table.
#' @return a `trialsim_assurance`: `$tests` (a data.frame), `$summary` (assurance.json).
#' @export
assurance <- function(scenario, draws = NULL, reps = NULL, seed = NULL, threads = NULL) {
  call <- match.call()
  src <- .source(scenario, call)
  r <- .signal(tr_assurance(src$text, src$origin, if (is.null(draws)) "" else path.expand(draws),
                            .count("reps", reps, call), .count("seed", seed, call),
                            .count("threads", threads, call)), call)
  out <- .result(r$files, "assurance.json", "trialsim_assurance")
  out$tests <- .rows(lapply(out$summary$tests, function(t) lapply(t, function(v) if (is.null(v)) NA else v)))
  out
}

#' Write a result's files as the command line writes them
#'
#' As the command line writes them: the directory locked against other trialsim commands, the
#' old JSON file removed first, each file atomically, the JSON file last (present means the set
#' is whole). For anything that is not a trialsim result, `base::write(x, ...)` unchanged.
#' @param x a result of `run()`, `plan()`, `assurance()` or `sweep()`.
#' @param ... `dir`, the directory; for other objects, `base::write`'s arguments.
#' @export
write <- function(x, ...) {
  if (!inherits(x, "trialsim_result")) {
    return(base::write(x, ...))
  }
  .write(x, ...)
}

.write <- function(x, dir) {
  call <- sys.call(-1L)
  if (!is.character(dir) || length(dir) != 1L || is.na(dir)) {
    .bad("dir: expected one directory", call)
  }
  if (inherits(x, "trialsim_sweep")) {
    names <- list.files(x$out, recursive = TRUE, all.files = FALSE)
    files <- stats::setNames(lapply(names, function(n) readBin(file.path(x$out, n), "raw", file.size(file.path(x$out, n)))), names)
    main <- "sweep.json"
  } else {
    files <- x$files
    main <- x$main
  }
  .signal(tr_write_files(path.expand(dir), files, main), call)
  invisible(dir)
}

#' @export
print.trialsim_run <- function(x, ...) {
  s <- x$summary
  cat(sprintf("<trialsim run %s: %d replicates>\n", s$scenario, s$replicates))
  print(x$tests[, intersect(c("test", "power", "power_se", "type_i_error"), names(x$tests))], row.names = FALSE)
  invisible(x)
}

#' @export
print.trialsim_result <- function(x, ...) {
  cat(sprintf("<%s>\n", class(x)[1]))
  invisible(x)
}

`%||%` <- function(a, b) if (is.null(a)) b else a
