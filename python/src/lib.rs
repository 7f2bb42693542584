//! `trialsim._trialsim`: the native half of the Python package. Each function takes a
//! scenario's text and the command's options, runs the library's `embed` function on a worker
//! thread without the GIL, and meanwhile, on the calling thread, reports progress and checks
//! for Ctrl-C (which sets the cancel flag: the simulation stops at its next chunk and nothing is
//! returned or written). The Python half (`trialsim/__init__.py`) turns the files into results
//! and data frames.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use trialsim::embed::{self, Control, Counts, Source};
use trialsim::scenario::overrides::Override;

pyo3::create_exception!(
    _trialsim,
    ScenarioError,
    PyValueError,
    "A bad scenario or argument: the message the command line prints (file or <string>, line, column, key, what was expected)."
);

/// An `embed` error as a Python exception: `ScenarioError` for bad input, with `file`, `line`,
/// `column` and `key` attributes when the scenario locates it.
fn to_py(py: Python<'_>, e: embed::Error) -> PyErr {
    match e {
        embed::Error::Scenario(s) => {
            let err = ScenarioError::new_err(s.to_string());
            let value = err.value(py);
            let (line, column) = s.line_column().unzip();
            let attrs: [(&str, Py<PyAny>); 4] = [
                (
                    "file",
                    s.path()
                        .display()
                        .to_string()
                        .into_pyobject(py)
                        .map(|v| v.into_any().unbind())
                        .unwrap_or_else(|_| py.None()),
                ),
                ("line", line.into_pyobject(py).map(|v| v.into_any().unbind()).unwrap_or_else(|_| py.None())),
                (
                    "column",
                    column.into_pyobject(py).map(|v| v.into_any().unbind()).unwrap_or_else(|_| py.None()),
                ),
                (
                    "key",
                    s.key().into_pyobject(py).map(|v| v.into_any().unbind()).unwrap_or_else(|_| py.None()),
                ),
            ];
            for (name, v) in attrs {
                let _ = value.setattr(name, v);
            }
            err
        }
        embed::Error::Argument(m) => ScenarioError::new_err(m),
        embed::Error::Cancelled => PyKeyboardInterrupt::new_err("cancelled"),
        embed::Error::Failure(m) => PyRuntimeError::new_err(m),
    }
}

/// A count from Python (any integer) as the library's: negative values are refused with the
/// command line's message rather than an OverflowError.
fn count<T: TryFrom<i64>>(name: &str, v: Option<i64>, what: &str) -> Result<Option<T>, embed::Error> {
    match v {
        None => Ok(None),
        Some(x) => T::try_from(x)
            .map(Some)
            .map_err(|_| embed::Error::Argument(format!("{name}: expected {what}, found {x}"))),
    }
}

fn counts(reps: Option<i64>, seed: Option<i64>, threads: Option<i64>) -> Result<Counts, embed::Error> {
    Ok(Counts {
        replicates: count("reps", reps, "a positive number of replicates")?,
        seed: count("seed", seed, "a non-negative integer")?,
        threads: count("threads", threads, "a positive number of threads")?,
    })
}

/// Runs `work` on a worker thread without the GIL. Every 50 ms the calling thread takes the GIL
/// to check signals (Ctrl-C sets the cancel flag, waits for the worker to stop, and raises
/// KeyboardInterrupt) and to call `progress(done, total)`; an exception from `progress` cancels
/// too. A panic in the worker becomes a RuntimeError, never an abort of the interpreter.
fn supervised<T: Send>(
    py: Python<'_>,
    threads: Option<i64>,
    progress: Option<Bound<'_, PyAny>>,
    work: impl FnOnce(&Control) -> Result<T, embed::Error> + Send,
) -> PyResult<T> {
    let threads: Option<usize> =
        count("threads", threads, "a positive number of threads").map_err(|e| to_py(py, e))?;
    let cancel = AtomicBool::new(false);
    let (done, total) = (AtomicU64::new(0), AtomicU64::new(0));
    let report = |d: u64, t: u64| {
        done.store(d, Ordering::Relaxed);
        total.store(t, Ordering::Relaxed);
    };
    let outcome = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let control = Control { threads, progress: &report, cancel: &cancel };
            work(&control)
        });
        let mut stop: Option<PyErr> = None;
        let mut shown = (u64::MAX, u64::MAX);
        while !worker.is_finished() {
            py.detach(|| {
                for _ in 0..10 {
                    if worker.is_finished() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
            if stop.is_some() {
                continue;
            }
            if let Err(e) = py.check_signals() {
                cancel.store(true, Ordering::Relaxed);
                stop = Some(e);
                continue;
            }
            let now = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
            if let Some(cb) = &progress
                && now != shown
            {
                shown = now;
                if let Err(e) = cb.call1(now) {
                    cancel.store(true, Ordering::Relaxed);
                    stop = Some(e);
                }
            }
        }
        let joined = py.detach(|| worker.join());
        (joined, stop)
    });
    match outcome {
        (_, Some(interrupt)) => Err(interrupt),
        (Ok(result), None) => {
            let now = (done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
            if let Some(cb) = &progress {
                cb.call1(now)?;
            }
            result.map_err(|e| to_py(py, e))
        }
        (Err(panic), None) => Err(to_py(py, embed::panic_error(&*panic))),
    }
}

fn source(text: &str, origin: &str) -> Source {
    Source::text(text, origin)
}

fn overrides(list: Vec<(String, f64)>) -> Vec<Override> {
    list.into_iter().map(|(key, value)| Override { key, value }).collect()
}

/// Files as (relative path, bytes), as Python receives them.
type PyFiles<'py> = Vec<(String, Bound<'py, PyBytes>)>;

/// Files as a list of (relative path, bytes).
fn files_out<'py>(py: Python<'py>, files: Vec<embed::File>) -> PyFiles<'py> {
    files.into_iter().map(|(p, b)| (p.to_string_lossy().into_owned(), PyBytes::new(py, &b))).collect()
}

/// A scenario file's text, read as the command line reads it (a missing or oversized file is a
/// ScenarioError naming it).
#[pyfunction]
fn read_scenario(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    Source::file(&path).map(|s| s.text).map_err(|e| to_py(py, e))
}

/// A scenario given as a dict (JSON text of it, made by the Python half) as TOML text.
#[pyfunction]
fn toml_of_json(json: &str) -> PyResult<String> {
    let value: toml::Value = serde_json::from_str(json)
        .map_err(|e| ScenarioError::new_err(format!("<dict>: cannot be a scenario: {e}")))?;
    if !value.is_table() {
        return Err(ScenarioError::new_err("<dict>: expected a table of scenario keys"));
    }
    toml::to_string(&value).map_err(|e| ScenarioError::new_err(format!("<dict>: cannot be a scenario: {e}")))
}

#[pyfunction]
#[pyo3(signature = (text, origin, overrides, reps, seed, threads, replicates, progress))]
#[allow(clippy::too_many_arguments)]
fn run<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
    overrides: Vec<(String, f64)>,
    reps: Option<i64>,
    seed: Option<i64>,
    threads: Option<i64>,
    replicates: bool,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<(PyFiles<'py>, Option<Bound<'py, PyBytes>>)> {
    let src = source(text, origin);
    let o = self::overrides(overrides);
    let c = counts(reps, seed, threads).map_err(|e| to_py(py, e))?;
    let out = supervised(py, threads, progress, |control| embed::run(&src, &o, c, replicates, control))?;
    Ok((files_out(py, out.files), out.replicates_csv.map(|b| PyBytes::new(py, &b))))
}

#[pyfunction]
fn truth(py: Python<'_>, text: &str, origin: &str, overrides: Vec<(String, f64)>) -> PyResult<String> {
    embed::truth(&source(text, origin), &self::overrides(overrides)).map_err(|e| to_py(py, e))
}

#[pyfunction]
#[pyo3(signature = (text, origin, set, zip, reps, seed, threads, out, progress))]
#[allow(clippy::too_many_arguments)]
fn sweep<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
    set: Vec<String>,
    zip: bool,
    reps: Option<i64>,
    seed: Option<i64>,
    threads: Option<i64>,
    out: PathBuf,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = source(text, origin);
    let c = counts(reps, seed, threads).map_err(|e| to_py(py, e))?;
    let o = supervised(py, threads, progress, |control| embed::sweep(&src, &set, zip, c, &out, control))?;
    let d = PyDict::new(py);
    d.set_item("out", o.out.display().to_string())?;
    d.set_item("points", o.points)?;
    d.set_item("reused", o.reused)?;
    d.set_item("computed", o.computed)?;
    d.set_item("complete", o.complete)?;
    Ok(d)
}

#[pyfunction]
#[pyo3(signature = (text, origin, vary, target, tests, range, set, zip, never_better_limit, reps, seed, threads, progress))]
#[allow(clippy::too_many_arguments)]
fn plan<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
    vary: String,
    target: f64,
    tests: Vec<String>,
    range: Option<(f64, f64)>,
    set: Vec<String>,
    zip: bool,
    never_better_limit: Option<f64>,
    reps: Option<i64>,
    seed: Option<i64>,
    threads: Option<i64>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<PyFiles<'py>> {
    let src = source(text, origin);
    let c = counts(reps, seed, threads).map_err(|e| to_py(py, e))?;
    if let Some((lo, hi)) = range
        && lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
    {
        return Err(ScenarioError::new_err(format!("range: expected LOW < HIGH, found {lo}:{hi}")));
    }
    let req = embed::PlanRequest { vary, target, tests, range, set, zip, never_better_limit };
    let files = supervised(py, threads, progress, |control| embed::plan(&src, &req, c, control))?;
    Ok(files_out(py, files))
}

#[pyfunction]
#[pyo3(signature = (text, origin, draws, reps, seed, threads, progress))]
#[allow(clippy::too_many_arguments)]
fn assurance<'py>(
    py: Python<'py>,
    text: &str,
    origin: &str,
    draws: Option<PathBuf>,
    reps: Option<i64>,
    seed: Option<i64>,
    threads: Option<i64>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<PyFiles<'py>> {
    let src = source(text, origin);
    let c = counts(reps, seed, threads).map_err(|e| to_py(py, e))?;
    let draws = match draws {
        Some(p) => Some(trialsim::assurance::read_draws(&p).map_err(|e| to_py(py, e.into()))?),
        None => None,
    };
    let files = supervised(py, threads, progress, |control| embed::assurance(&src, draws, c, control))?;
    Ok(files_out(py, files))
}

/// Writes a result's (relative path, bytes) files below `dir` as the command line does
/// (`embed::write_result`: the directory's lock, the old `main` removed first, `main` last).
#[pyfunction]
fn write_files(py: Python<'_>, dir: PathBuf, files: Vec<(String, Vec<u8>)>, main: &str) -> PyResult<()> {
    for (name, _) in &files {
        let p = Path::new(name);
        if name.is_empty()
            || p.is_absolute()
            || p.components().any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(PyValueError::new_err(format!("{name:?}: not a file name below the directory")));
        }
    }
    let files: Vec<embed::File> = files.into_iter().map(|(n, b)| (PathBuf::from(n), b)).collect();
    py.detach(|| embed::write_result(&dir, &files, main)).map_err(|e| to_py(py, e))
}

#[pymodule]
fn _trialsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("ENGINE", trialsim::engine::ENGINE_VERSION)?;
    m.add_function(wrap_pyfunction!(read_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(toml_of_json, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(truth, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(assurance, m)?)?;
    m.add_function(wrap_pyfunction!(write_files, m)?)?;
    Ok(())
}
