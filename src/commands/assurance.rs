//! `trialsim assurance`: the probability of success averaged over parameter draws (a draws CSV,
//! or the scenario's `[uncertainty]` priors) beside the power at the point estimate →
//! assurance.json, assurance.md.

use std::path::PathBuf;

use crate::assurance::{assurance, prior_draws, read_draws};
use crate::cli::Simulate;
use crate::report::assurance::markdown;
use crate::scenario::overrides::Template;

use super::{Error, File, Settings, check_simulate, write_files};

pub fn command(sim: &Simulate, draws: Option<PathBuf>) -> Result<(), Error> {
    check_simulate(sim)?;
    let loaded = super::load(&sim.scenario)?;
    super::refuse_prior_rule(&loaded.scenario, &sim.scenario, "assurance")?;
    let loaded_text = loaded.text.clone();
    let draws_file = draws.clone();
    let base = loaded.scenario;
    let template = Template::from_path(&sim.scenario)?;
    let settings = Settings::resolve(sim, &base.simulation, &format!("{}_assurance", base.name));
    let draws = match (&draws, &loaded.uncertainty) {
        (Some(f), _) => read_draws(f)?,
        (None, Some(u)) => prior_draws(u, settings.seed),
        (None, None) => {
            return Err(Error::Argument(format!(
                "{}: no parameter uncertainty: give --draws FILE or an [uncertainty] table",
                sim.scenario.display()
            )));
        }
    };
    crate::assurance::check_draws(&template, &draws)?;
    let _out = settings.prepare_out()?;
    let bar = settings.progress(draws.rows.len() as u64);
    let result = settings.in_pool(|| {
        assurance(&template, &draws, settings.replicates, settings.seed, |d, _| bar.set_position(d as u64))
    })??;
    bar.finish_and_clear();
    let md = markdown(&result);
    let out = &settings.out;
    let extra = match &draws_file {
        Some(f) => vec!["--draws".to_string(), crate::report::html::file_name(&f.to_string_lossy())],
        None => Vec::new(),
    };
    let about = settings.about("assurance", &sim.scenario, &loaded_text, &extra);
    let mut files: Vec<File> = crate::report::assurance::files(&result)
        .into_iter()
        .map(|(name, bytes)| (out.join(name), bytes))
        .collect();
    super::with_report(&mut files, &out.join("assurance.md"), &about);
    write_files(&files)?;
    if !settings.quiet {
        eprint!("{md}");
    }
    settings.done();
    Ok(())
}
