//! `trialsim followup`: the scenario's trials analysed at several calendar cuts → followup.md,
//! followup.csv, followup.json, followup.svg.

use crate::cli::Simulate;
use crate::report::followup as render;
use crate::time::Time;

use super::{Error, File, Settings, check_simulate, write_files};

pub fn command(sim: &Simulate, cuts: Option<Vec<Time>>) -> Result<(), Error> {
    check_simulate(sim)?;
    let loaded = super::load(&sim.scenario)?;
    super::refuse_prior_rule(&loaded.scenario, &sim.scenario, "followup")?;
    let sc = loaded.scenario;
    if sc.comparison.is_none() {
        return Err(Error::Argument(format!(
            "{}: `followup` compares the tests of two arms; this is a single-arm study (use `run`)",
            sim.scenario.display()
        )));
    }
    let cuts = cuts.unwrap_or_else(|| loaded.followup_cuts.clone());
    let increasing = cuts.windows(2).all(|w| w[0] < w[1]);
    if cuts.is_empty() || !increasing || cuts.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(Error::Argument(format!(
            "{}: expected increasing positive cuts (`[followup] cuts` or --cuts), found {cuts:?}",
            sim.scenario.display()
        )));
    }
    let settings = Settings::resolve(sim, &sc.simulation, &sc.name);
    let _out = settings.prepare_out()?;
    let replicates = settings.replicates;
    let bar = settings.progress(cuts.len() as u64 * replicates);
    bar.set_message(format!("{} follow-up", sc.name));
    let study = settings
        .in_pool(|| crate::followup::run(&sc, &cuts, replicates, settings.seed, |_| bar.inc(replicates)))?;
    bar.finish_and_clear();
    let rendered = render::files(&study, &sc.time_unit)
        .map_err(|e| Error::failure(anyhow::Error::new(e).context("writing a report")))?;
    let out = &settings.out;
    let cut_list: Vec<String> = cuts.iter().map(|c| c.to_string()).collect();
    let about =
        settings.about("followup", &sim.scenario, &loaded.text, &["--cuts".into(), cut_list.join(",")]);
    let mut files: Vec<File> = rendered.into_iter().map(|(name, bytes)| (out.join(name), bytes)).collect();
    super::with_report(&mut files, &out.join("followup.md"), &about);
    write_files(&files).map_err(|e| e.context(format!("running {}", sim.scenario.display())))?;
    settings.done();
    Ok(())
}
