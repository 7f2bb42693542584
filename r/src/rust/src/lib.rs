//! The native half of the R package: each function takes a scenario's text and the command's
//! options, runs the library's `embed` function on a worker thread, and meanwhile, on R's
//! thread, checks for an interrupt every 10 ms (`R_CheckUserInterrupt` inside
//! `R_ToplevelExec`, so R's longjmp never crosses Rust frames); an interrupt sets the cancel
//! flag, the simulation stops at its next chunk, and nothing is returned or written. Every
//! function returns a list: `ok = TRUE` with its results, or `ok = FALSE` with the error's
//! `kind`, `message` and, for a located scenario error, `file`, `line`, `column`, `key`; the R
//! half (`R/trialsim.R`) turns that into a condition of class `trialsim_scenario_error`.

use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use savvy::{
    ListSexp, OwnedListSexp, OwnedLogicalSexp, OwnedRawSexp, OwnedStringSexp, RealSexp, StringSexp, savvy,
};

use trialsim::embed::{self, Control, Counts, Source};
use trialsim::scenario::overrides::Override;

unsafe extern "C" {
    fn R_ToplevelExec(fun: Option<unsafe extern "C" fn(*mut c_void)>, data: *mut c_void) -> i32;
    fn R_CheckUserInterrupt();
}

unsafe extern "C" fn check_interrupt(_: *mut c_void) {
    // SAFETY: called by R_ToplevelExec on R's thread, which catches the longjmp of an interrupt.
    unsafe { R_CheckUserInterrupt() }
}

/// Whether the user has interrupted (Ctrl-C, Esc): R_CheckUserInterrupt run in a top-level
/// context, which returns FALSE instead of jumping out of Rust.
fn interrupted() -> bool {
    // SAFETY: R's thread (every savvy function runs there); no R object is held across it.
    unsafe { R_ToplevelExec(Some(check_interrupt), std::ptr::null_mut()) == 0 }
}

/// Runs `work` on a worker thread while R's thread checks for interrupts. A panic in the worker
/// becomes a `failure`, never an abort of R.
fn supervised<T: Send>(
    threads: Option<usize>,
    work: impl FnOnce(&Control) -> Result<T, embed::Error> + Send,
) -> Result<T, embed::Error> {
    let cancel = AtomicBool::new(false);
    let quiet = |_: u64, _: u64| {};
    // savvy's panic hook prints through R's API, which only R's thread may call: while the
    // engine runs on other threads, a panic there is reported by the error returned instead.
    let savvy_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (joined, stopped) = std::thread::scope(|scope| {
        let worker = scope.spawn(|| work(&Control { threads, progress: &quiet, cancel: &cancel }));
        let mut stopped = false;
        while !worker.is_finished() {
            std::thread::sleep(Duration::from_millis(10));
            if !stopped && interrupted() {
                cancel.store(true, Ordering::Relaxed);
                stopped = true;
            }
        }
        (worker.join(), stopped)
    });
    std::panic::set_hook(savvy_hook);
    match joined {
        _ if stopped => Err(embed::Error::Cancelled),
        Ok(result) => result,
        Err(panic) => Err(embed::panic_error(&*panic)),
    }
}

/// A count from R (a numeric vector: empty when not given) as the library's.
fn count<T: TryFrom<i64>>(name: &str, v: &RealSexp, what: &str) -> Result<Option<T>, embed::Error> {
    let v = match v.as_slice() {
        [] => return Ok(None),
        &[v] => v,
        more => {
            return Err(embed::Error::Argument(format!("{name}: expected one number, found {}", more.len())));
        }
    };
    let bad = || embed::Error::Argument(format!("{name}: expected {what}, found {v}"));
    if !v.is_finite() || v.fract() != 0.0 || v.abs() > 9.0e18 {
        return Err(bad());
    }
    T::try_from(v as i64).map(Some).map_err(|_| bad())
}

fn counts(reps: RealSexp, seed: RealSexp, threads: RealSexp) -> Result<Counts, embed::Error> {
    Ok(Counts {
        replicates: count("reps", &reps, "a positive whole number of replicates")?,
        seed: count("seed", &seed, "a non-negative whole number")?,
        threads: count("threads", &threads, "a positive whole number of threads")?,
    })
}

fn overrides(keys: StringSexp, values: RealSexp) -> Vec<Override> {
    keys.iter().zip(values.iter()).map(|(k, &v)| Override { key: k.to_string(), value: v }).collect()
}

fn strings(x: StringSexp) -> Vec<String> {
    x.iter().map(str::to_string).collect()
}

/// A result list: `ok = TRUE` and the named values.
fn ok(values: Vec<(&str, savvy::Sexp)>) -> savvy::Result<savvy::Sexp> {
    let mut out = OwnedListSexp::new(values.len() + 1, true)?;
    out.set_name_and_value(0, "ok", OwnedLogicalSexp::try_from_scalar(true)?)?;
    for (i, (name, v)) in values.into_iter().enumerate() {
        out.set_name_and_value(i + 1, name, v)?;
    }
    out.into()
}

fn string(s: &str) -> savvy::Result<savvy::Sexp> {
    OwnedStringSexp::try_from_scalar(s)?.into()
}

/// An error list: `ok = FALSE`, `kind` (scenario, argument, interrupt, failure), `message`, and
/// for a located scenario error `file`, `line`, `column`, `key` (absent parts are NA).
fn error(e: embed::Error) -> savvy::Result<savvy::Sexp> {
    let (kind, message) = match &e {
        embed::Error::Scenario(s) => ("scenario", s.to_string()),
        embed::Error::Argument(m) => ("argument", m.clone()),
        embed::Error::Cancelled => ("interrupt", "interrupted".to_string()),
        embed::Error::Failure(m) => ("failure", m.clone()),
    };
    let mut out = OwnedListSexp::new(7, true)?;
    out.set_name_and_value(0, "ok", OwnedLogicalSexp::try_from_scalar(false)?)?;
    out.set_name_and_value(1, "kind", OwnedStringSexp::try_from_scalar(kind)?)?;
    out.set_name_and_value(2, "message", OwnedStringSexp::try_from_scalar(&message)?)?;
    let na = || -> savvy::Result<OwnedStringSexp> {
        let mut s = OwnedStringSexp::new(1)?;
        s.set_na(0)?;
        Ok(s)
    };
    let located = match &e {
        embed::Error::Scenario(s) => Some(s),
        _ => None,
    };
    let file = located.map(|s| s.path().display().to_string());
    let (line, column) = located.and_then(|s| s.line_column()).unzip();
    let key = located.and_then(|s| s.key().map(str::to_string));
    let text = |v: Option<String>| -> savvy::Result<OwnedStringSexp> {
        match v {
            Some(v) => OwnedStringSexp::try_from_scalar(v.as_str()),
            None => na(),
        }
    };
    out.set_name_and_value(3, "file", text(file)?)?;
    out.set_name_and_value(4, "line", text(line.map(|l| l.to_string()))?)?;
    out.set_name_and_value(5, "column", text(column.map(|c| c.to_string()))?)?;
    out.set_name_and_value(6, "key", text(key)?)?;
    out.into()
}

/// Files as a named list of raw vectors, in the order they are written.
fn files(files: Vec<embed::File>) -> savvy::Result<savvy::Sexp> {
    let mut out = OwnedListSexp::new(files.len(), true)?;
    for (i, (name, bytes)) in files.into_iter().enumerate() {
        out.set_name_and_value(i, &name.to_string_lossy(), OwnedRawSexp::try_from_slice(&bytes)?)?;
    }
    out.into()
}

fn answer(r: Result<Vec<(&str, savvy::Sexp)>, embed::Error>) -> savvy::Result<savvy::Sexp> {
    match r {
        Ok(values) => ok(values),
        Err(e) => error(e),
    }
}

/// A scenario file's text, read as the command line reads it.
#[savvy]
fn tr_read_scenario(path: &str) -> savvy::Result<savvy::Sexp> {
    match Source::file(Path::new(path)) {
        Ok(s) => ok(vec![("text", string(&s.text)?)]),
        Err(e) => error(e),
    }
}

/// A scenario given as a list (its JSON, made by the R half) as TOML text.
#[savvy]
fn tr_toml_of_json(json: &str) -> savvy::Result<savvy::Sexp> {
    let bad = |m: String| error(embed::Error::Argument(format!("<list>: cannot be a scenario: {m}")));
    let value: toml::Value = match serde_json::from_str(json) {
        Ok(v) => v,
        Err(e) => return bad(e.to_string()),
    };
    if !value.is_table() {
        return bad("expected a named list of scenario tables".into());
    }
    match toml::to_string(&value) {
        Ok(text) => ok(vec![("text", string(&text)?)]),
        Err(e) => bad(e.to_string()),
    }
}

#[savvy]
#[allow(clippy::too_many_arguments)]
fn tr_run(
    text: &str,
    origin: &str,
    keys: StringSexp,
    values: RealSexp,
    reps: RealSexp,
    seed: RealSexp,
    threads: RealSexp,
    replicates: bool,
) -> savvy::Result<savvy::Sexp> {
    let src = Source::text(text, origin);
    let o = overrides(keys, values);
    let run = counts(reps, seed, threads)
        .and_then(|c| supervised(c.threads, |control| embed::run(&src, &o, c, replicates, control)));
    match run {
        Ok(out) => {
            let csv: savvy::Sexp = match out.replicates_csv {
                Some(b) => OwnedRawSexp::try_from_slice(&b)?.into(),
                None => savvy::NullSexp.into(),
            };
            ok(vec![("files", files(out.files)?), ("replicates", csv)])
        }
        Err(e) => error(e),
    }
}

#[savvy]
fn tr_truth(text: &str, origin: &str, keys: StringSexp, values: RealSexp) -> savvy::Result<savvy::Sexp> {
    let truth = embed::truth(&Source::text(text, origin), &overrides(keys, values));
    match truth {
        Ok(json) => ok(vec![("json", string(&json)?)]),
        Err(e) => error(e),
    }
}

#[savvy]
#[allow(clippy::too_many_arguments)]
fn tr_sweep(
    text: &str,
    origin: &str,
    set: StringSexp,
    zip: bool,
    reps: RealSexp,
    seed: RealSexp,
    threads: RealSexp,
    out: &str,
) -> savvy::Result<savvy::Sexp> {
    let src = Source::text(text, origin);
    let set = strings(set);
    let out = PathBuf::from(out);
    let r = counts(reps, seed, threads)
        .and_then(|c| supervised(c.threads, |control| embed::sweep(&src, &set, zip, c, &out, control)));
    match r {
        Ok(o) => ok(vec![
            ("out", string(&o.out.display().to_string())?),
            ("complete", OwnedLogicalSexp::try_from_scalar(o.complete)?.into()),
            ("points", string(&o.points.to_string())?),
            ("reused", string(&o.reused.to_string())?),
            ("computed", string(&o.computed.to_string())?),
        ]),
        Err(e) => error(e),
    }
}

#[savvy]
#[allow(clippy::too_many_arguments)]
fn tr_plan(
    text: &str,
    origin: &str,
    vary: &str,
    target: f64,
    tests: StringSexp,
    range: RealSexp,
    set: StringSexp,
    zip: bool,
    never_better_limit: RealSexp,
    reps: RealSexp,
    seed: RealSexp,
    threads: RealSexp,
) -> savvy::Result<savvy::Sexp> {
    let src = Source::text(text, origin);
    let range = match range.as_slice() {
        [] => None,
        &[lo, hi] if lo < hi => Some((lo, hi)),
        other => {
            return error(embed::Error::Argument(format!(
                "range: expected c(LOW, HIGH) with LOW < HIGH, found {other:?}"
            )));
        }
    };
    let req = embed::PlanRequest {
        vary: vary.to_string(),
        target,
        tests: strings(tests),
        range,
        set: strings(set),
        zip,
        never_better_limit: never_better_limit.as_slice().first().copied(),
    };
    let r = counts(reps, seed, threads)
        .and_then(|c| supervised(c.threads, |control| embed::plan(&src, &req, c, control)));
    answer(
        r.and_then(|f| {
            files(f).map(|f| vec![("files", f)]).map_err(|e| embed::Error::Failure(e.to_string()))
        }),
    )
}

#[savvy]
fn tr_assurance(
    text: &str,
    origin: &str,
    draws: &str,
    reps: RealSexp,
    seed: RealSexp,
    threads: RealSexp,
) -> savvy::Result<savvy::Sexp> {
    let src = Source::text(text, origin);
    let draws = if draws.is_empty() {
        None
    } else {
        match trialsim::assurance::read_draws(Path::new(draws)) {
            Ok(d) => Some(d),
            Err(e) => return error(e.into()),
        }
    };
    let r = counts(reps, seed, threads)
        .and_then(|c| supervised(c.threads, |control| embed::assurance(&src, draws, c, control)));
    answer(
        r.and_then(|f| {
            files(f).map(|f| vec![("files", f)]).map_err(|e| embed::Error::Failure(e.to_string()))
        }),
    )
}

/// Writes a result's files (named raw vectors) below `dir` as the command line does
/// (`embed::write_result`: the directory's lock, the old `main` removed first, `main` last).
#[savvy]
fn tr_write_files(dir: &str, contents: ListSexp, main: &str) -> savvy::Result<savvy::Sexp> {
    let mut list: Vec<embed::File> = Vec::new();
    for (name, value) in contents.iter() {
        let p = Path::new(name);
        if name.is_empty()
            || p.is_absolute()
            || p.components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return error(embed::Error::Argument(format!("{name:?}: not a file name below the directory")));
        }
        let bytes = match value.into_typed() {
            savvy::TypedSexp::Raw(r) => r.as_slice().to_vec(),
            _ => return error(embed::Error::Argument(format!("{name}: expected a raw vector"))),
        };
        list.push((PathBuf::from(name), bytes));
    }
    match embed::write_result(Path::new(dir), &list, main) {
        Ok(()) => ok(vec![]),
        Err(e) => error(e),
    }
}
