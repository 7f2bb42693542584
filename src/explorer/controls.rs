//! The explorer's controls, made from the scenario: every number a planner changes (sample size,
//! accrual, cut, dropout, α, and every hazard parameter), each with the key it sets and a range
//! for its slider. The scenario validates whatever value is chosen; the range only makes the
//! slider useful.

use serde::Serialize;
use toml_edit::{DocumentMut, Item, Value};

/// One slider and its number box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The dotted key it sets, as `sweep --set` takes it.
    pub key: String,
    /// What it belongs to: `design`, `analysis`, `arm hsct`.
    pub group: String,
    /// Short name: `n`, `accrual.duration`, `disease_death hr[1]`.
    pub label: String,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub integer: bool,
}

/// Keys inside a cause's hazard that are not parameters: names and period boundaries (moving
/// one break alone would reorder the periods).
const NOT_PARAMETERS: [&str; 2] = ["to", "breaks"];

/// The controls of a scenario's text, in the order of the text. Text that does not parse gives
/// none (the editor shows why).
pub fn controls(text: &str) -> Vec<Control> {
    let Ok(doc) = text.parse::<DocumentMut>() else { return Vec::new() };
    let mut out = Vec::new();
    let root = doc.as_item();
    if let Some(design) = root.get("design") {
        let n = design.get("n").and_then(Item::as_value).and_then(number);
        if let Some((v, _)) = n {
            out.push(control("design.n", "design", "n (patients)", v, true, Kind::SampleSize));
        }
        for (table, kind) in [("accrual", Kind::Time), ("cut", Kind::Time)] {
            if let Some(t) = design.get(table) {
                leaves(t, &format!("design.{table}"), &mut |key, leaf, v, integer| {
                    let kind = match leaf {
                        "events" => Kind::Events(n.map_or(1000.0, |x| x.0)),
                        "rate" | "rates" => Kind::Intensity,
                        _ => kind,
                    };
                    let label = key.trim_start_matches("design.").to_string();
                    out.push(control(key, "design", &label, v, integer, kind));
                });
            }
        }
    }
    // A calendar cut before the last assessment or a composite layer's horizon is refused by
    // validation (no patient could be measured then): the slider stops there.
    let latest = latest_assessment(root);
    if let Some(c) = out.iter_mut().find(|c| c.key == "design.cut.calendar") {
        c.min = c.min.max(latest).min(c.value);
    }
    if let Some((v, integer)) =
        root.get("analysis").and_then(|a| a.get("alpha")).and_then(Item::as_value).and_then(number)
    {
        out.push(control("analysis.alpha", "analysis", "α", v, integer, Kind::Alpha));
    }
    if let Some(arms) = root.get("arms") {
        arm_controls(arms, "arms", "", &mut out);
    }
    // Each stratum: its share (the others rescale in proportion) or count, and its arms'
    // overrides.
    let n = root.get("design").and_then(|d| d.get("n")).and_then(Item::as_value).and_then(number);
    if let Some(strata) = root.get("strata").and_then(Item::as_table_like) {
        for (name, item) in strata.iter() {
            let group = format!("stratum {name}");
            let prefix = format!("strata.{name}");
            if let Some((v, integer)) = item.get("share").and_then(Item::as_value).and_then(number) {
                out.push(control(&format!("{prefix}.share"), &group, "share", v, integer, Kind::Share));
            }
            if let Some((v, integer)) = item.get("count").and_then(Item::as_value).and_then(number) {
                let kind = Kind::Events(n.map_or(1000.0, |x| x.0));
                out.push(control(&format!("{prefix}.count"), &group, "count (patients)", v, integer, kind));
            }
            if let Some(arms) = item.get("arms") {
                arm_controls(arms, &format!("{prefix}.arms"), &format!("{group}, "), &mut out);
            }
        }
    }
    out
}

/// The latest of `assessments.at` and of the composites' layer times (`until`, `at`); 0 without.
fn latest_assessment(root: &Item) -> f64 {
    let numbers = |item: Option<&Item>| -> Vec<f64> {
        match item.and_then(Item::as_value) {
            Some(Value::Array(a)) => a.iter().filter_map(|v| number(v).map(|x| x.0)).collect(),
            Some(v) => number(v).map(|x| x.0).into_iter().collect(),
            None => Vec::new(),
        }
    };
    let mut latest: f64 =
        numbers(root.get("assessments").and_then(|a| a.get("at"))).into_iter().fold(0.0, f64::max);
    if let Some(endpoints) = root.get("endpoints").and_then(Item::as_table_like) {
        for (_, e) in endpoints.iter() {
            let Some(Value::Array(layers)) = e.get("layers").and_then(Item::as_value) else { continue };
            for l in layers.iter() {
                let Some(t) = l.as_inline_table() else { continue };
                for k in ["until", "at"] {
                    if let Some((x, _)) = t.get(k).and_then(number) {
                        latest = latest.max(x);
                    }
                }
            }
        }
    }
    latest
}

/// Every arm's dropout and hazard parameters under `arms` (the key prefix `at`: `arms`, or a
/// stratum's `strata.NAME.arms`), grouped as `{group}arm NAME`.
fn arm_controls(arms: &Item, at: &str, group: &str, out: &mut Vec<Control>) {
    let Some(arms) = arms.as_table_like() else { return };
    for (arm, item) in arms.iter() {
        let group = format!("{group}arm {arm}");
        if let Some((v, integer)) = item.get("dropout").and_then(Item::as_value).and_then(number) {
            out.push(control(&format!("{at}.{arm}.dropout"), &group, "dropout", v, integer, Kind::Rate));
        }
        let Some(causes) = item.get("causes").and_then(Item::as_table_like) else { continue };
        for (cause, hazard) in causes.iter() {
            let prefix = format!("{at}.{arm}.causes.{cause}");
            leaves(hazard, &prefix, &mut |key, leaf, v, integer| {
                let label = format!("{cause} {}", key[prefix.len()..].trim_start_matches('.'));
                out.push(control(key, &group, label.trim(), v, integer, Kind::of_hazard(leaf)));
            });
        }
    }
}

/// What a number is, for its slider's range.
#[derive(Debug, Clone, Copy)]
enum Kind {
    SampleSize,
    /// An event count, up to the sample size.
    Events(f64),
    /// A duration or time point: positive.
    Time,
    /// A hazard (per time unit): zero allowed.
    Rate,
    /// Patients per time unit: positive.
    Intensity,
    HazardRatio,
    Risk,
    Alpha,
    Shape,
    /// A stratum's share of patients, in [0, 1].
    Share,
}

impl Kind {
    fn of_hazard(leaf: &str) -> Kind {
        match leaf {
            "hr" => Kind::HazardRatio,
            "risk" => Kind::Risk,
            "within" | "scale" | "median" => Kind::Time,
            "shape" => Kind::Shape,
            _ => Kind::Rate,
        }
    }

    /// (min, max, step) around the current value `v`.
    fn range(self, v: f64) -> (f64, f64, f64) {
        match self {
            Kind::SampleSize => (10.0, (4.0 * v).max(1000.0).round(), 1.0),
            Kind::Events(n) => (1.0, n.max(v), 1.0),
            Kind::Time => (v / 10.0, (3.0 * v).max(1.0), 0.01),
            Kind::Rate => (0.0, (3.0 * v).max(0.5), 0.001),
            Kind::Intensity => (v / 10.0, (3.0 * v).max(1.0), 0.1),
            Kind::HazardRatio => (0.05, (2.0 * v).max(2.0), 0.01),
            Kind::Risk => (0.0, (2.0 * v).clamp(0.5, 1.0), 0.005),
            Kind::Alpha => (0.001, 0.25, 0.001),
            Kind::Shape => (0.2, (2.0 * v).max(4.0), 0.01),
            Kind::Share => (0.0, 1.0, 0.01),
        }
    }
}

fn control(key: &str, group: &str, label: &str, value: f64, integer: bool, kind: Kind) -> Control {
    let (min, max, step) = kind.range(value);
    let (min, max, step) = if integer { (min.ceil(), max.floor(), step.max(1.0)) } else { (min, max, step) };
    Control {
        key: key.to_string(),
        group: group.to_string(),
        label: label.to_string(),
        value,
        min: min.min(value),
        max: max.max(value),
        step,
        integer,
    }
}

/// A TOML number, and whether it is an integer.
fn number(v: &Value) -> Option<(f64, bool)> {
    match v {
        Value::Integer(i) => Some((*i.value() as f64, true)),
        Value::Float(f) => Some((*f.value(), false)),
        _ => None,
    }
}

/// Calls `f(key, leaf name, value, integer)` for every number under `item` (tables, inline
/// tables, arrays of numbers), skipping [`NOT_PARAMETERS`].
fn leaves(item: &Item, prefix: &str, f: &mut dyn FnMut(&str, &str, f64, bool)) {
    match item {
        Item::Value(v) => value_leaves(v, prefix, leaf_of(prefix), f),
        Item::Table(t) => {
            for (k, i) in t.iter() {
                if !NOT_PARAMETERS.contains(&k) {
                    leaves(i, &format!("{prefix}.{k}"), f);
                }
            }
        }
        _ => {}
    }
}

fn leaf_of(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

fn value_leaves(v: &Value, key: &str, leaf: &str, f: &mut dyn FnMut(&str, &str, f64, bool)) {
    match v {
        Value::InlineTable(t) => {
            for (k, v) in t.iter() {
                if !NOT_PARAMETERS.contains(&k) {
                    value_leaves(v, &format!("{key}.{k}"), k, f);
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                if let Some((x, integer)) = number(v) {
                    f(&format!("{key}[{i}]"), leaf, x, integer);
                }
            }
        }
        v => {
            if let Some((x, integer)) = number(v) {
                f(key, leaf, x, integer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_astis_scenario_gives_every_number_a_planner_changes() {
        let text = std::fs::read_to_string("scenarios/astis.toml").unwrap();
        let c = controls(&text);
        let keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
        for k in [
            "design.n",
            "design.accrual.duration",
            "design.cut.calendar",
            "analysis.alpha",
            "arms.cyc.dropout",
            "arms.cyc.causes.disease_death.piecewise.rates[0]",
            "arms.cyc.causes.organ_failure.piecewise.rates[3]",
            "arms.hsct.causes.treatment_death.early_risk.risk",
            "arms.hsct.causes.treatment_death.early_risk.within",
            "arms.hsct.causes.disease_death.relative.hr[2]",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        assert!(!keys.iter().any(|k| k.contains("breaks") || k.contains(".to")), "{keys:?}");
        // Every control sets a key the scenario accepts, at its current value.
        for c in &c {
            let t = super::super::edit::set_number(&text, &c.key, c.value).unwrap();
            assert!(
                crate::scenario::Scenario::from_toml(&t, std::path::Path::new("a.toml")).is_ok(),
                "{}",
                c.key
            );
            assert!(c.min <= c.value && c.value <= c.max, "{c:?}");
        }
        let n = c.iter().find(|c| c.key == "design.n").unwrap();
        assert!(n.integer && n.value == 156.0 && n.step == 1.0);
        let risk = c.iter().find(|c| c.key.ends_with("early_risk.risk")).unwrap();
        assert_eq!(
            (risk.value, risk.group.as_str(), risk.label.as_str()),
            (0.1, "arm hsct", "treatment_death early_risk.risk")
        );
    }

    #[test]
    fn every_slider_of_every_shipped_scenario_stays_within_valid_scenarios() {
        let mut checked = 0;
        for entry in std::fs::read_dir("scenarios").unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let c = controls(&text);
            assert!(c.iter().any(|c| c.key == "design.n"), "{}", path.display());
            // A safety rule reviews after so many patients: a smaller trial is refused, rightly.
            // Elsewhere every slider's ends are valid scenarios.
            let cross_checked = text.contains("[monitoring.safety]");
            for c in &c {
                let ends = if cross_checked && c.key == "design.n" {
                    vec![c.value, c.max]
                } else {
                    vec![c.min, c.value, c.max]
                };
                for v in ends {
                    let t = super::super::edit::set_number(&text, &c.key, v).unwrap();
                    let r = crate::scenario::Scenario::from_toml(&t, &path);
                    assert!(r.is_ok(), "{} {} = {v}: {}", path.display(), c.key, r.err().unwrap());
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// A stratified scenario: each stratum's share and its arms' overrides are controls, grouped
    /// by stratum, beside the arms as written.
    #[test]
    fn strata_give_their_shares_and_overrides() {
        let text = std::fs::read_to_string("scenarios/who_to_transplant.toml").unwrap();
        let c = controls(&text);
        let find = |key: &str| c.iter().find(|c| c.key == key).unwrap_or_else(|| panic!("{key}"));
        let share = find("strata.cardiopulmonary_risk.share");
        assert_eq!(
            (share.value, share.min, share.max, share.group.as_str()),
            (0.25, 0.0, 1.0, "stratum cardiopulmonary_risk")
        );
        let trm = find("strata.standard.arms.hsct.causes.treatment_death.early_risk.risk");
        assert_eq!((trm.value, trm.group.as_str()), (0.0632, "stratum standard, arm hsct"));
        find("arms.hsct.causes.treatment_death.early_risk.risk");
        find("design.accrual.rates[0]");
    }

    #[test]
    fn text_that_does_not_parse_has_no_controls() {
        assert!(controls("[design\nn = 1").is_empty());
    }
}
