//! `trialsim calibrate`: fit study files' free parameters to their published figures (several
//! files: a joint fit) → calibration.json, calibration.md, calibration.svg, and per study
//! fitted.toml and draws.csv.

use std::path::{Path, PathBuf};

use crate::calibrate::{Calibration, Options, Problem, Study, calibrate};
use crate::report::calibration as render;
use crate::report::html::{self, About};

use super::{Error, File, check_counts, in_pool, write_files};

/// What the command line asked.
pub struct CalibrateArgs {
    pub reps: Option<u64>,
    pub seed: Option<u64>,
    pub bootstrap: usize,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
}

pub fn command(studies: &[PathBuf], req: CalibrateArgs) -> Result<(), Error> {
    check_counts(req.reps, req.threads)?;
    super::check_seed(req.seed)?;
    if req.bootstrap == 1 {
        return Err(Error::Argument("--bootstrap: expected 0 or at least 2 draws, found 1".into()));
    }
    let mut about = About::default();
    for p in studies {
        let text = super::load(p)?.text;
        about.scenarios.push((html::file_name(&p.to_string_lossy()), text));
    }
    let loaded = studies.iter().map(|p| Study::load(p)).collect::<Result<Vec<_>, _>>()?;
    let problem = Problem::new(loaded)?;
    let out = req.out.unwrap_or_else(|| {
        let name = if problem.studies.len() > 1 {
            "joint".to_string()
        } else {
            problem.studies[0].name().to_string()
        };
        Path::new("results").join("calibration").join(name)
    });
    let quiet = req.quiet;
    let progress = |message: &str| {
        if !quiet {
            eprintln!("calibrate: {message}");
        }
    };
    let opts = Options {
        // The predictive check's copies: --reps, else the first file's `simulation.replicates`.
        replicates: req.reps.unwrap_or(problem.studies[0].scenario.simulation.replicates),
        seed: req.seed,
        bootstrap: req.bootstrap,
        progress: &progress,
    };
    let mut words = vec!["trialsim".to_string(), "calibrate".to_string()];
    words.extend(about.scenarios.iter().map(|(name, _)| html::shell_word(name)));
    words.extend(["--reps".to_string(), opts.replicates.to_string()]);
    if let Some(s) = req.seed {
        words.extend(["--seed".to_string(), s.to_string()]);
    }
    if req.bootstrap > 0 {
        words.extend(["--bootstrap".to_string(), req.bootstrap.to_string()]);
    }
    about.command = words.join(" ");
    crate::calibrate::check(&problem, &opts)?;
    let _out = super::prepare_out(&out)?;
    let c = in_pool(req.threads, || calibrate(problem, &opts))??;
    write(&c, &out, &about)?;
    if !quiet {
        eprint!("{}", render::markdown(&c));
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Every file is rendered before any is written, and each is written atomically. Without a
/// bootstrap an old draws.csv is removed, so that it never sits beside a fit it does not belong
/// to.
fn write(c: &Calibration, out: &Path, about: &About) -> Result<(), Error> {
    let rendered =
        render::files(c).map_err(|e| Error::failure(anyhow::Error::new(e).context("writing a report")))?;
    let mut files: Vec<File> = rendered.into_iter().map(|(path, bytes)| (out.join(path), bytes)).collect();
    super::with_report(&mut files, &out.join("calibration.md"), about);
    write_files(&files)?;
    if c.draws.is_empty() {
        for s in 0..c.problem.studies.len() {
            let path = out.join(render::study_path(&c.problem, s)).join("draws.csv");
            if path.exists() {
                std::fs::remove_file(&path).map_err(|e| {
                    Error::failure(
                        anyhow::Error::new(e).context(format!("removing the old {}", path.display())),
                    )
                })?;
            }
        }
    }
    Ok(())
}
