//! What the explorer computes, without HTTP: a scenario's text → its validated run → the numbers,
//! plots and report the page shows; and a curve of power against one key. Each request is checked
//! whole (the scenario as the CLI checks it, the replicates against the caps) before any work.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde_json::{Value, json};

use crate::engine::Layout;
use crate::monitoring::analyses_per_trial;
use crate::report::RenderError;
use crate::report::Results;
use crate::report::chart::{DrawError, LineChart, Series};
use crate::report::html::{self, About};
use crate::report::run::{self, markdown, plain};
use crate::run::{SimulateOptions, null_replicates, simulate_scenario};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Document, Scenario, ScenarioError};
use crate::summary::{Proportion, Summary};
use crate::sweep::simulate_point;
use crate::truth::never_better::Boundary;

use super::controls::controls;

/// Why a computation failed after its request was accepted (the request itself was checked whole
/// before any work): the page shows the message.
#[derive(Debug, thiserror::Error)]
pub enum ComputeError {
    /// A curve's point whose overridden scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Draw(#[from] DrawError),
    /// summary.json as rendered did not parse back (a defect, reported rather than panicking).
    #[error("summary.json: {0}")]
    Summary(#[from] serde_json::Error),
}

/// Replicates of the quick pass shown while the slider moves (no identical-arms copy).
pub const QUICK_REPLICATES: u64 = 2_000;
/// The most replicates one request may simulate (the refined pass's are the scenario's own).
pub const MAX_REPLICATES: u64 = 200_000;
/// The most points of a curve, and the replicates its points share.
pub const MAX_CURVE_POINTS: usize = 25;
pub const CURVE_REPLICATES: u64 = 100_000;
/// The most work one request may ask for, in patients analysed: n × replicates (the
/// identical-arms copy and every curve point counted) × the analyses of each trial
/// ([`analyses_per_trial`]: 1 without monitoring). About half a minute on two cores at the
/// shipped scenarios' speed, and within [`super::REQUEST_BUDGET`] for the worst case the caps
/// allow (benches/worst_case.rs). A quick pass at n = 10⁷ once took 2.7 GB and minutes.
pub const MAX_PATIENTS: u64 = 400_000_000;

/// Refuses work of more than [`MAX_PATIENTS`] patients analysed.
fn within_patients(patients: u64, what: &str) -> Result<(), Refusal> {
    if patients > MAX_PATIENTS {
        return Err(Refusal::invalid(format!(
            "{what} would analyse {patients} patients (n × replicates × analyses per trial, plus n²/8 a trial for each composite's pairs); the explorer \
             analyses at most {MAX_PATIENTS} per request: lower n, the replicates or the looks here, or run \
             the command line on the downloaded file"
        )));
    }
    Ok(())
}

/// The patients analysed by `replicates` trials of `sc`. A composite's test (`win(NAME)`)
/// compares every pair of the pooled sample, n²/2 pairs at about a quarter of a patient's
/// analysis each (benches: 0.85 s for 10⁴ trials of 156 against 0.05 s without it), so it counts
/// n²/8 more per trial and composite: growing as n², it would otherwise escape the cap. Each
/// patient's continuous outcomes (outcomes × assessments normal draws, mixed) count a quarter of
/// an analysis per value.
fn work(sc: &Scenario, replicates: u64) -> u64 {
    let n = sc.design.n as u64;
    let composites =
        sc.analysis.tests.iter().filter(|t| matches!(t.kind, crate::scenario::TestKind::Win { .. })).count()
            as u64;
    let values = sc.assessments.as_ref().map_or(0, |a| (sc.outcomes.len() * a.at.len()) as u64);
    let per_trial = n
        .saturating_mul(analyses_per_trial(sc))
        .saturating_add(composites.saturating_mul(n.saturating_mul(n) / 8))
        .saturating_add(n.saturating_mul(values) / 4);
    replicates.saturating_mul(per_trial)
}

/// A request refused before any work: the HTTP status and what to tell the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn invalid(message: impl Into<String>) -> Refusal {
        Refusal { status: 422, message: message.into() }
    }
}

/// The two passes of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// [`QUICK_REPLICATES`], no identical-arms copy: while the slider moves.
    Quick,
    /// The scenario's replicates with its identical-arms copy: exactly `trialsim run`.
    Refined,
}

/// The scenario text validated as the CLI validates a file named `file` (every command's table),
/// with the located message the CLI prints when it is not valid.
fn validated(file: &str, text: &str) -> Result<(Document, crate::scenario_file::Loaded), Refusal> {
    let doc = Document::parse(text, Path::new(file)).map_err(|e| Refusal::invalid(e.to_string()))?;
    let loaded = crate::scenario_file::validate_point(&doc).map_err(|e| Refusal::invalid(e.to_string()))?;
    if let Some(f) = loaded.scenario.monitoring.as_ref().and_then(|m| m.futility.as_ref())
        && f.needs_prior()
    {
        return Err(Refusal::invalid(format!(
            "{file}: `monitoring.futility.rule = \"predictive_probability\"` needs a prior's draws, which `trialsim run` takes (`--draws FILE` or an `[uncertainty]` table); the explorer cannot simulate it"
        )));
    }
    Ok((doc, loaded))
}

/// A simulation request, checked.
pub struct ScenarioRun {
    pub file: String,
    pub text: String,
    pub scenario: Scenario,
    /// The never-better boundary, simulated in the refined pass as `trialsim run` does.
    pub never_better: Option<Boundary>,
    pub stage: Stage,
    pub replicates: u64,
    pub seed: u64,
}

impl ScenarioRun {
    pub fn prepare(file: &str, text: &str, stage: Stage) -> Result<ScenarioRun, Refusal> {
        let (_, loaded) = validated(file, text)?;
        let (scenario, never_better) = (loaded.scenario, loaded.never_better);
        let wanted = scenario.simulation.replicates;
        let replicates = match stage {
            Stage::Quick => wanted.min(QUICK_REPLICATES),
            Stage::Refined => wanted,
        };
        if replicates > MAX_REPLICATES {
            return Err(Refusal::invalid(format!(
                "`simulation.replicates` = {wanted}: the explorer simulates at most {MAX_REPLICATES} replicates \
                 per change; lower it here, or run `trialsim run` on the downloaded file"
            )));
        }
        let seed = scenario.simulation.seed;
        let (file, text) = (file.to_string(), text.to_string());
        let run = ScenarioRun { file, text, scenario, never_better, stage, replicates, seed };
        within_patients(work(&run.scenario, run.total()), "this pass")?;
        Ok(run)
    }

    fn request<'a>(
        &'a self,
        progress: &'a (dyn Fn(u64) + Sync),
        cancel: &'a AtomicBool,
    ) -> SimulateOptions<'a> {
        SimulateOptions {
            replicates: self.replicates,
            seed: self.seed,
            null_copy: self.stage == Stage::Refined,
            never_better: self.never_better.as_ref().filter(|_| self.stage == Stage::Refined),
            progress,
            cancel: Some(cancel),
            prior: None,
        }
    }

    /// Replicates to simulate, the identical-arms copy's included (for the progress bar).
    pub fn total(&self) -> u64 {
        let refined = self.stage == Stage::Refined;
        let boundary = if refined && self.never_better.is_some() { self.replicates } else { 0 };
        self.replicates + null_replicates(&self.scenario, self.replicates, refined) + boundary
    }

    /// What `trialsim run` of this text with its seed and replicates gives, as the page shows it:
    /// the power of every test as summary.md prints it, summary.json, the plots, report.html and
    /// the controls. `None` when cancelled.
    pub fn simulate(
        &self,
        progress: &(dyn Fn(u64) + Sync),
        cancel: &AtomicBool,
    ) -> Option<Result<Value, ComputeError>> {
        let sim = simulate_scenario(&self.scenario, &self.request(progress, cancel), None)?;
        let r = Results::of(&sim, &self.scenario, self.seed);
        let about = About {
            command: html::command("run", &self.file, self.seed, self.replicates, &[]),
            scenarios: vec![(self.file.clone(), self.text.clone())],
        };
        Some(self.result(&r, &about))
    }

    fn result(&self, r: &Results, about: &About) -> Result<Value, ComputeError> {
        let files = run::files(r, about)?;
        let get = |name: &str| files.iter().find(|(n, _)| *n == name).map(|(_, t)| t.as_str());
        let summary: Value = serde_json::from_str(get("summary.json").unwrap_or("null"))?;
        let reps = r.summary.replicates;
        let power: Vec<Value> = r
            .layout
            .tests
            .iter()
            .enumerate()
            .map(|(i, (name, kind))| {
                let p = Proportion::new(r.summary.tests[i].benefit, reps);
                // A monitored test's headline is the monitored design's power; the fixed
                // design's (one analysis at the cut) stands beside it.
                let monitored =
                    r.layout.monitor.as_ref().zip(r.summary.monitoring.as_ref()).and_then(|(m, t)| {
                        let j = m.tests.iter().position(|mt| mt.test == i)?;
                        let q = Proportion::new(t.tests[j].rejected, reps);
                        Some(
                            json!({ "power": markdown::pct(q), "value": q.estimate, "looks": m.looks.len() }),
                        )
                    });
                let never_better = r.never_better.map(|(_, nb)| {
                    let q = Proportion::new(nb.tests[i].benefit, nb.replicates);
                    json!({ "rate": markdown::pct(q), "value": q.estimate })
                });
                json!({
                    "test": name,
                    "words": plain::test_phrase(r.scenario, name, kind),
                    "power": markdown::power_cell(r, i),
                    "value": p.estimate,
                    "monitored": monitored,
                    "never_better": never_better,
                    "type_i_error": markdown::type_i_cell(r, i),
                })
            })
            .collect();
        let glossary: Vec<Value> =
            plain::glossary(r).into_iter().map(|(w, m)| json!({ "word": w, "meaning": m })).collect();
        let figures: serde_json::Map<String, Value> = files
            .iter()
            .filter(|(n, _)| n.ends_with(".svg"))
            .map(|(n, t)| (n.to_string(), json!(t)))
            .collect();
        Ok(json!({
            "stage": self.stage,
            "replicates": self.replicates,
            "null_replicates": r.null.map_or(0, |(_, n)| n),
            "seed": self.seed,
            "file": self.file,
            "command": about.command,
            "power": power,
            "plain": plain::sentences(r),
            "glossary": glossary,
            "curves": truth_curves(r),
            "endpoint": r.scenario.endpoint_label(&r.scenario.primary().name),
            "summary": summary,
            "figures": figures,
            // The page shows the report of the refined pass only (the one to download).
            "report": if self.stage == Stage::Refined { get("report.html") } else { None },
            "controls": controls(&self.text),
        }))
    }
}

/// Each compared arm's true survival on the primary endpoint at 101 times up to the last grid
/// time: what the page overlays when it compares two results.
fn truth_curves(r: &Results) -> Vec<Value> {
    let sc = r.scenario;
    let t_max = r.layout.grid.last().copied().unwrap_or(1.0);
    (0..r.layout.groups)
        .map(|g| {
            let mix = crate::truth::ArmMix::of(sc, r.layout.group_arms[g]);
            let points: Vec<[f64; 2]> = (0..=100)
                .map(|i| t_max * f64::from(i) / 100.0)
                .map(|t| [t, mix.survival(sc.primary(), t)])
                .collect();
            json!({ "arm": mix.arm.label, "points": points })
        })
        .collect()
}

/// A test's power along a curve: (value, power, SE) per point.
type PowerLine = (String, Vec<(f64, f64, f64)>);

/// A curve request, checked: power of every test at each value of one key.
pub struct Curve {
    pub key: String,
    pub values: Vec<f64>,
    pub replicates: u64,
    pub seed: u64,
    template: Template,
    name: String,
}

impl Curve {
    pub fn prepare(
        file: &str,
        text: &str,
        key: &str,
        from: f64,
        to: f64,
        points: usize,
    ) -> Result<Curve, Refusal> {
        let (doc, loaded) = validated(file, text)?;
        let scenario = loaded.scenario;
        if !(2..=MAX_CURVE_POINTS).contains(&points) {
            return Err(Refusal::invalid(format!(
                "points: expected 2 to {MAX_CURVE_POINTS}, found {points}"
            )));
        }
        if !(from.is_finite() && to.is_finite() && from < to) {
            return Err(Refusal::invalid(format!("range: expected finite FROM < TO, found {from} to {to}")));
        }
        let template = Template::from_document(&doc).map_err(|e| Refusal::invalid(e.to_string()))?;
        template.check_key(key).map_err(|e| Refusal::invalid(e.to_string()))?;
        let integer =
            template.get(key).is_some_and(|v| v.fract() == 0.0) && from.fract() == 0.0 && to.fract() == 0.0;
        let mut values: Vec<f64> = (0..points)
            .map(|i| from + (to - from) * i as f64 / (points - 1) as f64)
            .map(|v| if integer { v.round() } else { (v * 1e9).round() / 1e9 })
            .collect();
        values.dedup();
        let replicates = scenario.simulation.replicates.min(CURVE_REPLICATES / values.len() as u64).max(100);
        // Every point validates, and the patients of all of them are counted, before any is
        // simulated.
        let mut patients = 0u64;
        for v in &values {
            let (point, _) = template
                .apply(&[Override { key: key.to_string(), value: *v }])
                .map_err(|e| Refusal::invalid(e.to_string()))?;
            patients = patients.saturating_add(work(&point, replicates));
        }
        within_patients(patients, "this curve")?;
        Ok(Curve {
            key: key.to_string(),
            values,
            replicates,
            seed: scenario.simulation.seed,
            template,
            name: scenario.name.clone(),
        })
    }

    pub fn total(&self) -> u64 {
        self.replicates * self.values.len() as u64
    }

    /// Power of every test at each value (the sweep's points: the same seed at every value), the
    /// stopping probabilities by look and reason of a monitored scenario (efficacy, futility and
    /// harm by look; the safety rule by review), and the plot. `None`
    /// when cancelled.
    pub fn simulate(
        &self,
        progress: &(dyn Fn(u64) + Sync),
        cancel: &AtomicBool,
    ) -> Option<Result<Value, ComputeError>> {
        let mut tests: Vec<PowerLine> = Vec::new();
        let mut monitoring: Vec<Value> = Vec::new();
        let mut safety: Vec<Value> = Vec::new();
        for &value in &self.values {
            let o = [Override { key: self.key.clone(), value }];
            let point = match simulate_point(&self.template, &o, self.replicates, self.seed, false, cancel) {
                Ok(p) => p?,
                Err(e) => return Some(Err(e.into())),
            };
            let (layout, s) = (point.layout, point.summary);
            for (i, (name, _)) in layout.tests.iter().enumerate() {
                let p = Proportion::new(s.tests[i].benefit, s.replicates);
                match tests.iter_mut().find(|(n, _)| n == name) {
                    Some((_, pts)) => pts.push((value, p.estimate, p.se)),
                    None => tests.push((name.clone(), vec![(value, p.estimate, p.se)])),
                }
            }
            stopping_at(value, &layout, &s, &mut monitoring, &mut safety);
            progress(self.replicates);
        }
        let series = tests
            .iter()
            .map(|(name, pts)| Series { label: name.clone(), points: pts.clone(), marker: None })
            .collect();
        let svg = LineChart {
            title: format!("{}: power against {}", self.name, crate::report::short_key(&self.key)),
            x_desc: self.key.clone(),
            y_desc: "power".into(),
            series,
            reference: None,
        }
        .render();
        let svg = match svg {
            Ok(s) => s,
            Err(e) => return Some(Err(e.into())),
        };
        let tests: Vec<Value> = tests
            .iter()
            .map(|(name, pts)| {
                json!({"test": name, "power": pts.iter().map(|p| p.1).collect::<Vec<_>>(), "se": pts.iter().map(|p| p.2).collect::<Vec<_>>()})
            })
            .collect();
        Some(Ok(json!({
            "key": self.key,
            "values": self.values,
            "replicates": self.replicates,
            "seed": self.seed,
            "tests": tests,
            "monitoring": monitoring,
            "safety": safety,
            "svg": svg,
        })))
    }
}

/// A monitored scenario's stopping probabilities at one value of the varied key: per monitored
/// test its power and stops by look and reason, and the safety rule's stops by review.
fn stopping_at(
    value: f64,
    layout: &Layout,
    s: &Summary,
    monitoring: &mut Vec<Value>,
    safety: &mut Vec<Value>,
) {
    if let (Some(m), Some(t)) = (&layout.monitor, &s.monitoring) {
        for (mt, tt) in m.tests.iter().zip(&t.tests) {
            let p = |k: u64| Proportion::new(k, s.replicates).estimate;
            let looks: Vec<Value> = tt
                .looks
                .iter()
                .enumerate()
                .map(|(k, l)| {
                    json!({"look": k + 1, "efficacy": p(l.efficacy), "futility": p(l.futility), "harm": p(l.harm)})
                })
                .collect();
            monitoring.push(json!({
                "value": value,
                "test": mt.name,
                "power": p(tt.rejected),
                "looks": looks,
                "safety": p(tt.safety),
            }));
        }
        // The safety rule's reviews (after so many patients) are not the tests' looks.
        if let Some(sf) = &t.safety {
            let stops: Vec<f64> =
                sf.stops.iter().map(|&k| Proportion::new(k, s.replicates).estimate).collect();
            safety.push(json!({"value": value, "stops": stops}));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn astis() -> String {
        std::fs::read_to_string("scenarios/astis.toml").unwrap()
    }

    /// A slider that moves the scenario where its never-better path has no boundary does not
    /// make it invalid in the explorer (the command line refuses such a file).
    #[test]
    fn a_point_without_a_never_better_boundary_is_still_explored() {
        let text = astis().replace("risk = 0.10, within", "risk = 0.01, within");
        assert_ne!(text, astis());
        let doc = Document::parse(&text, Path::new("astis.toml")).unwrap();
        let cli = crate::scenario_file::validate(&doc).err().expect("the CLI refuses it").to_string();
        assert!(cli.contains("analysis.never_better"), "{cli}");
        let run = ScenarioRun::prepare("astis.toml", &text, Stage::Refined).expect("the explorer runs it");
        assert!(run.never_better.is_none());
    }

    #[test]
    fn a_bad_scenario_is_refused_with_the_clis_located_message() {
        let text = astis().replace("alpha = 0.025", "alpha = 2.5");
        let e = ScenarioRun::prepare("astis.toml", &text, Stage::Quick).err().unwrap();
        assert_eq!(e.status, 422);
        let doc = Document::parse(&text, Path::new("astis.toml")).unwrap();
        let cli = crate::scenario_file::validate(&doc).err().unwrap().to_string();
        assert_eq!(e.message, cli);
        assert!(e.message.contains("astis.toml:") && e.message.contains("analysis.alpha"), "{}", e.message);
    }

    #[test]
    fn replicates_are_capped_per_request() {
        let text = astis().replace("replicates = 10000", "replicates = 1000000");
        assert!(ScenarioRun::prepare("a.toml", &text, Stage::Quick).is_ok(), "the quick pass stays small");
        let e = ScenarioRun::prepare("a.toml", &text, Stage::Refined).err().unwrap();
        assert!(e.message.contains("at most 200000"), "{}", e.message);
    }

    /// A composite's test compares every pair, so its work grows as n²: SCOT's design at 75
    /// patients is explored; at 5,000 patients (each quick trial 12.5 million pairs) it is
    /// refused before any work, where the same design without the composite is not.
    #[test]
    fn a_composites_pairs_count_in_the_work_cap() {
        let text = std::fs::read_to_string("scenarios/scot_design.toml").unwrap();
        assert!(ScenarioRun::prepare("scot.toml", &text, Stage::Quick).is_ok());
        let big = text.replace("n = 75", "n = 5000");
        let e = ScenarioRun::prepare("scot.toml", &big, Stage::Quick).err().expect("refused");
        assert!(e.message.contains("would analyse"), "{}", e.message);
        let plain = big.replace("tests = [\"win(gcrs)\", ", "tests = [");
        assert!(ScenarioRun::prepare("scot.toml", &plain, Stage::Quick).is_ok(), "without the composite");
    }

    #[test]
    fn the_refined_pass_is_trialsim_run() {
        let text = astis().replace("replicates = 10000", "replicates = 1500");
        let run = ScenarioRun::prepare("astis.toml", &text, Stage::Refined).unwrap();
        assert_eq!(run.total(), 4500, "the run, the identical-arms copy and the never-better copy");
        let v = run.simulate(&|_| {}, &AtomicBool::new(false)).unwrap().unwrap();
        let sc = crate::scenario::Scenario::from_toml(&text, Path::new("astis.toml")).unwrap();
        let req = SimulateOptions {
            replicates: 1500,
            seed: 2014,
            null_copy: true,
            never_better: run.never_better.as_ref(),
            progress: &|_| {},
            cancel: None,
            prior: None,
        };
        let sim = simulate_scenario(&sc, &req, None).unwrap();
        assert!(v["summary"]["never_better"]["tests"]["fh(0,1)"]["rate"].is_number());
        let json = crate::report::run::summary::render(&Results::of(&sim, &sc, 2014));
        assert_eq!(v["summary"], serde_json::from_str::<Value>(&json).unwrap());
        assert_eq!(v["command"], "trialsim run astis.toml --seed 2014 --reps 1500");
        assert!(v["power"][0]["power"].as_str().unwrap().contains("% ± "));
        assert!(v["power"][0]["type_i_error"].is_string());
        assert!(v["report"].as_str().unwrap().starts_with("<!DOCTYPE html>"));
        let quick = ScenarioRun::prepare("astis.toml", &text, Stage::Quick).unwrap();
        assert_eq!(quick.total(), 1500, "no identical-arms copy in the quick pass");
        let q = quick.simulate(&|_| {}, &AtomicBool::new(false)).unwrap().unwrap();
        assert!(q["power"][0]["type_i_error"].is_null());
    }

    /// The number after `before` up to `after` in `text`.
    fn number_between(text: &str, before: &str, after: &str) -> String {
        let start = text.find(before).unwrap_or_else(|| panic!("{before:?} not in {text}")) + before.len();
        let end =
            text[start..].find(after).unwrap_or_else(|| panic!("{after:?} not after {before:?} in {text}"));
        text[start..start + end].to_string()
    }

    /// The plain-language summary's numbers are the tables' values, rounded once: power, the
    /// monitored design's power, the never-better rate, the crossing, the safety rule's stops.
    #[test]
    fn the_plain_summary_says_the_tables_numbers() {
        let text = std::fs::read_to_string("scenarios/hsct_monitoring.toml")
            .unwrap()
            .replace("replicates = 4000", "replicates = 1200");
        let run = ScenarioRun::prepare("m.toml", &text, Stage::Refined).unwrap();
        let v = run.simulate(&|_| {}, &AtomicBool::new(false)).unwrap().unwrap();
        let s = &v["summary"];
        let plain: Vec<String> =
            v["plain"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
        let all = plain.join(" ");
        assert!((3..=6).contains(&plain.len()), "{all}");
        let in_100 = |x: &Value| plain::in_100(x.as_f64().unwrap());
        let m = &s["monitoring"]["by_test"]["logrank"];
        assert_eq!(
            number_between(&all, "in about ", " of 100 such trials by the log-rank test"),
            in_100(&m["power"])
        );
        assert_eq!(
            number_between(&all, "log-rank test with its 2 interim looks (", " without them)"),
            in_100(&s["tests"]["logrank"]["power"])
        );
        assert_eq!(
            number_between(&all, "(its early deaths never made up), the log-rank test in ", " of 100"),
            in_100(&s["never_better"]["tests"]["logrank"]["rate"])
        );
        assert!(all.contains("10.24% risk of transplant-related death within 0.25 years"), "{all}");
        let cross = s["truth"]["crossing_times"][0].as_f64().unwrap();
        assert_eq!(
            number_between(&all, "curves cross at about ", " years"),
            crate::report::short((cross * 10.0).round() / 10.0)
        );
        let stops: f64 =
            s["monitoring"]["safety"].as_array().unwrap().iter().map(|r| r["p_stop"].as_f64().unwrap()).sum();
        assert_eq!(number_between(&all, "The safety rule stops ", " of 100"), plain::in_100(stops));
        // The monitored headline: the monitored design's power beside the fixed design's.
        let lr = &v["power"][0];
        assert_eq!(lr["test"], "logrank");
        assert_eq!(lr["monitored"]["value"], m["power"]);
        assert_eq!(lr["value"], s["tests"]["logrank"]["power"]);
        assert!(v["glossary"].as_array().unwrap().iter().any(|g| g["word"] == "Never-better rate"));
    }

    #[test]
    fn a_monitored_curve_gives_stops_by_look_and_reason_and_the_safety_reviews() {
        let text = std::fs::read_to_string("scenarios/hsct_monitoring.toml").unwrap();
        let text = text.replace("replicates = 4000", "replicates = 300");
        let c = Curve::prepare("m.toml", &text, "design.n", 160.0, 320.0, 2).unwrap();
        let v = c.simulate(&|_| {}, &AtomicBool::new(false)).unwrap().unwrap();
        let m = v["monitoring"].as_array().unwrap();
        assert_eq!(m.len(), 4, "two values × two monitored tests: {m:?}");
        let looks = m[0]["looks"].as_array().unwrap();
        assert_eq!(looks.len(), 3, "two interim looks and the final analysis");
        // What the looks stop, the safety rule stops, and what goes on to reject add to at most 1.
        let stopped: f64 = looks
            .iter()
            .map(|l| ["efficacy", "futility", "harm"].iter().map(|k| l[k].as_f64().unwrap()).sum::<f64>())
            .sum();
        assert!(stopped + m[0]["safety"].as_f64().unwrap() <= 1.0 + 1e-12);
        let safety = v["safety"].as_array().unwrap();
        assert_eq!(safety.len(), 2);
        assert_eq!(safety[0]["stops"].as_array().unwrap().len(), 3, "reviews after 20, 40, 60 patients");
    }

    #[test]
    fn a_cancelled_run_gives_nothing() {
        let run = ScenarioRun::prepare("astis.toml", &astis(), Stage::Refined).unwrap();
        assert!(run.simulate(&|_| {}, &AtomicBool::new(true)).is_none());
    }

    #[test]
    fn a_curve_is_the_sweep_of_its_key() {
        let text = astis().replace("replicates = 10000", "replicates = 400");
        let c = Curve::prepare("astis.toml", &text, "design.n", 100.0, 300.0, 3).unwrap();
        assert_eq!(c.values, vec![100.0, 200.0, 300.0]);
        let v = c.simulate(&|_| {}, &AtomicBool::new(false)).unwrap().unwrap();
        let t = Template::from_document(&Document::parse(&text, Path::new("astis.toml")).unwrap()).unwrap();
        let o = [Override { key: "design.n".into(), value: 200.0 }];
        let s = simulate_point(&t, &o, 400, 2014, false, &AtomicBool::new(false)).unwrap().unwrap().summary;
        assert_eq!(v["tests"][0]["power"][1], json!(s.tests[0].benefit as f64 / 400.0));
        assert!(v["svg"].as_str().unwrap().contains("<svg"));
        for (key, from, to, points, says) in [
            ("design.n", 100.0, 300.0, 1, "points"),
            ("design.n", 300.0, 100.0, 3, "FROM < TO"),
            ("design.nn", 1.0, 2.0, 3, "design.nn"),
            ("analysis.alpha", 0.1, 1.5, 3, "alpha"),
        ] {
            let e = Curve::prepare("astis.toml", &text, key, from, to, points).err().unwrap();
            assert!(e.message.contains(says), "{key}: {}", e.message);
        }
    }
}
