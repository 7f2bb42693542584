//! `trialsim plan`: the smallest value of a key whose power reaches a target → plan.json,
//! plan.md, plan.svg; with a grid of other keys, one plan per grid point → plan.json, plan.md,
//! plan.csv and (two or more keys) plan_heatmap.svg.

use crate::cli::Simulate;
use crate::plan::{PlanOptions, plan};
use crate::report::plan as render;
use crate::scenario::overrides::Template;
use crate::sweep::{Axis, parse_values, points};

use super::{Error, File, Settings, check_simulate, write_files};

/// What the command line asked.
pub struct PlanArgs {
    pub vary: String,
    pub target: f64,
    pub tests: Vec<String>,
    pub range: Option<String>,
    pub set: Vec<String>,
    pub zip: bool,
    pub never_better_limit: Option<f64>,
}

/// `LOW:HIGH` with LOW < HIGH.
fn parse_range(r: &str) -> Result<(f64, f64), Error> {
    let v = parse_values(&r.replace(':', ",")).map_err(|m| Error::Argument(format!("--range: {m}")))?;
    match v[..] {
        [lo, hi] if lo < hi => Ok((lo, hi)),
        _ => Err(Error::Argument(format!("--range: expected LOW:HIGH with LOW < HIGH, found {r:?}"))),
    }
}

pub fn command(sim: &Simulate, req: PlanArgs) -> Result<(), Error> {
    check_simulate(sim)?;
    let range = req.range.as_deref().map(parse_range).transpose()?;
    let (req_range, req_set, req_zip) = (req.range.clone(), req.set.clone(), req.zip);
    let loaded = super::load(&sim.scenario)?;
    super::refuse_prior_rule(&loaded.scenario, &sim.scenario, "plan")?;
    let text = loaded.text;
    let template = Template::from_path(&sim.scenario)?;
    let axes = req.set.iter().map(|s| Axis::parse(s)).collect::<Result<Vec<_>, _>>().map_err(Error::Grid)?;
    let (base, _) = template.apply(&[])?;
    let settings = Settings::resolve(sim, &base.simulation, &format!("{}_plan", base.name));
    let opts = PlanOptions {
        key: req.vary,
        target: req.target,
        tests: req.tests,
        replicates: settings.replicates,
        seed: settings.seed,
        range,
        fixed: Vec::new(),
        never_better_limit: req.never_better_limit,
    };
    let grid =
        if axes.is_empty() { vec![Vec::new()] } else { points(&axes, req.zip).map_err(Error::Grid)? };
    // Every grid point must be a valid scenario, and a valid search, before anything runs.
    for fixed in &grid {
        template.apply(fixed)?;
        crate::plan::check(&template, &PlanOptions { fixed: fixed.clone(), ..opts.clone() })?;
    }
    let _out = settings.prepare_out()?;
    let bar = settings.progress(grid.len() as u64);
    bar.set_message(format!("{} plan", base.name));
    let mut rows = Vec::new();
    for fixed in &grid {
        let o = PlanOptions { fixed: fixed.clone(), ..opts.clone() };
        let answers = settings.in_pool(|| plan(&template, &o))??;
        rows.push(render::GridAnswer {
            overrides: fixed.iter().map(|x| (x.key.clone(), x.value)).collect(),
            answers,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (rendered, summary) = render::files(&base.name, &opts.key, opts.target, &axes, &rows)
        .map_err(|e| Error::failure(anyhow::Error::new(e).context("writing a report")))
        .map_err(|e| e.context(format!("planning {}", sim.scenario.display())))?;
    let mut files: Vec<File> =
        rendered.into_iter().map(|(name, bytes)| (settings.out.join(name), bytes)).collect();
    let mut extra =
        vec!["--vary".to_string(), opts.key.clone(), "--target".to_string(), opts.target.to_string()];
    for t in &opts.tests {
        extra.extend(["--test".to_string(), t.clone()]);
    }
    if let Some(r) = &req_range {
        extra.extend(["--range".to_string(), r.clone()]);
    }
    for s in &req_set {
        extra.extend(["--set".to_string(), s.clone()]);
    }
    if req_zip {
        extra.push("--zip".to_string());
    }
    let about = settings.about("plan", &sim.scenario, &text, &extra);
    super::with_report(&mut files, &settings.out.join("plan.md"), &about);
    write_files(&files).map_err(|e| e.context(format!("planning {}", sim.scenario.display())))?;
    if !settings.quiet {
        eprint!("{summary}");
    }
    settings.done();
    Ok(())
}
