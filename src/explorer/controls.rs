//! The explorer's controls, made from the scenario: every number a planner changes (sample size,
//! accrual, cut, dropout, α, every hazard parameter, the interim looks), each with the key it
//! sets, the words a clinician reads (`[labels]`, else words derived from the model: an
//! `early_risk.risk` is "Risk of <cause> within <within> <unit>", shown in %), its display scale,
//! and a range for its slider. Controls come grouped, the most decision-relevant first: the
//! experimental treatment's early risk, the disease course by arm, the design and follow-up,
//! monitoring, then strata. The scenario validates whatever value is chosen; the range only
//! makes the slider useful.

use std::collections::BTreeMap;

use serde::Serialize;
use toml_edit::{DocumentMut, Item, Value};

use crate::scenario::labels::{DisplayScale, NumberLabel, words_of};

/// One slider and its number box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    /// The dotted key it sets, as `sweep --set` takes it.
    pub key: String,
    /// The group it is shown in: "Treatment risk: Autologous HSCT", "Design and follow-up".
    pub group: String,
    /// What a clinician calls it: "Risk of transplant-related death within 0.25 years".
    pub label: String,
    /// The unit of the shown number: "%", "years", "per 100 patient-years", "" for a ratio.
    pub unit: String,
    /// How the model's number is shown and typed (`percent`: 0.1 is 10).
    pub scale: DisplayScale,
    /// The model's number, as the file has it.
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub integer: bool,
    /// The value, range and step on the display scale (the number box shows `shown`).
    pub shown: String,
    pub shown_min: f64,
    pub shown_max: f64,
    pub shown_step: f64,
    /// Where its group comes: 0 the treatment's early risk, 1 the disease course, 2 design, 3
    /// monitoring, 4 strata.
    #[serde(skip)]
    rank: u8,
}

/// Keys inside a cause's hazard that are not parameters: names and period boundaries (moving
/// one break alone would reorder the periods).
const NOT_PARAMETERS: [&str; 2] = ["to", "breaks"];

/// The words a scenario gives (read from its text as it stands, so that a text that does not
/// validate still shows its controls' words; validation checks the `[labels]` table itself).
struct Words {
    unit: String,
    arms: BTreeMap<String, String>,
    causes: BTreeMap<String, String>,
    numbers: BTreeMap<String, NumberLabel>,
    strata: BTreeMap<String, String>,
}

impl Words {
    fn of(root: &Item) -> Words {
        let text = |i: Option<&Item>| i.and_then(Item::as_str).map(str::to_string);
        let unit = text(root.get("time_unit")).unwrap_or_else(|| "years".into());
        let labels_of = |table: Option<&Item>, key: &str| -> BTreeMap<String, String> {
            let Some(t) = table.and_then(Item::as_table_like) else { return BTreeMap::new() };
            t.iter().filter_map(|(n, i)| text(i.get(key)).map(|l| (n.to_string(), l))).collect()
        };
        let arms = labels_of(root.get("arms"), "label");
        let strata = labels_of(root.get("strata"), "label");
        let labels = root.get("labels");
        let causes = labels
            .and_then(|l| l.get("causes"))
            .and_then(Item::as_table_like)
            .map(|t| t.iter().filter_map(|(n, i)| text(Some(i)).map(|l| (n.to_string(), l))).collect())
            .unwrap_or_default();
        let numbers = labels
            .and_then(|l| l.get("numbers"))
            .and_then(Item::as_table_like)
            .map(|t| {
                t.iter()
                    .map(|(k, i)| {
                        let scale = text(i.get("scale")).and_then(|s| DisplayScale::parse(&s));
                        (
                            k.to_string(),
                            NumberLabel { label: text(i.get("label")), unit: text(i.get("unit")), scale },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Words { unit, arms, causes, numbers, strata }
    }

    fn arm(&self, name: &str) -> String {
        self.arms.get(name).cloned().unwrap_or_else(|| name.to_string())
    }

    fn cause(&self, name: &str) -> String {
        self.causes.get(name).cloned().unwrap_or_else(|| words_of(name))
    }

    /// "year" of "years": for "patients per year".
    fn singular(&self) -> &str {
        self.unit.strip_suffix('s').unwrap_or(&self.unit)
    }

    fn per_100(&self) -> String {
        format!("per 100 patient-{}", self.unit)
    }
}

/// The controls of a scenario's text, grouped (see the module's comment), in the order of the
/// text within a group. Text that does not parse gives none (the editor shows why).
pub fn controls(text: &str) -> Vec<Control> {
    let Ok(doc) = text.parse::<DocumentMut>() else { return Vec::new() };
    let root = doc.as_item();
    let words = Words::of(root);
    let mut out = Vec::new();
    let design_group = "Design and follow-up";
    if let Some(design) = root.get("design") {
        let n = design.get("n").and_then(Item::as_value).and_then(number);
        if let Some((v, _)) = n {
            let d = Described::new(design_group, 2, "Patients randomised", "patients");
            out.push(control("design.n", d, v, true, Kind::SampleSize));
        }
        for (table, kind) in [("accrual", Kind::Time), ("cut", Kind::Time)] {
            if let Some(t) = design.get(table) {
                leaves(t, &format!("design.{table}"), &mut |key, leaf, v, integer| {
                    let kind = match leaf {
                        "events" => Kind::Events(n.map_or(1000.0, |x| x.0)),
                        "rate" | "rates" => Kind::Intensity,
                        _ => kind,
                    };
                    let (label, unit) = match (table, leaf) {
                        ("accrual", "duration") => ("Accrual period".to_string(), words.unit.clone()),
                        ("accrual", "rate" | "rates") => (
                            format!("Patients enrolled per {}{}", words.singular(), period_index(key)),
                            "patients".to_string(),
                        ),
                        ("cut", "calendar") => {
                            ("Analysis, after the first patient".to_string(), words.unit.clone())
                        }
                        ("cut", "events") => {
                            ("Analysis after this many events".to_string(), "events".to_string())
                        }
                        ("cut", "min_followup") => {
                            ("Minimum follow-up of the last patient".to_string(), words.unit.clone())
                        }
                        _ => (key.trim_start_matches("design.").to_string(), String::new()),
                    };
                    out.push(control(key, Described::new(design_group, 2, &label, &unit), v, integer, kind));
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
        let sides = root.get("analysis").and_then(|a| a.get("sides")).and_then(Item::as_integer);
        let label = if sides == Some(2) {
            "Significance level α (two-sided)"
        } else {
            "Significance level α (one-sided)"
        };
        let d = Described { scale: DisplayScale::Percent, ..Described::new(design_group, 2, label, "%") };
        out.push(control("analysis.alpha", d, v, integer, Kind::Alpha));
    }
    if let Some(arms) = root.get("arms") {
        arm_controls(arms, "arms", None, &words, &mut out);
    }
    monitoring_controls(root, &words, &mut out);
    // Each stratum: its share (the others rescale in proportion) or count, and its arms'
    // overrides.
    let n = root.get("design").and_then(|d| d.get("n")).and_then(Item::as_value).and_then(number);
    if let Some(strata) = root.get("strata").and_then(Item::as_table_like) {
        for (name, item) in strata.iter() {
            let stratum = words.strata.get(name).cloned().unwrap_or_else(|| words_of(name));
            let group = format!("Stratum: {stratum}");
            let prefix = format!("strata.{name}");
            if let Some((v, integer)) = item.get("share").and_then(Item::as_value).and_then(number) {
                let d = Described {
                    scale: DisplayScale::Percent,
                    ..Described::new(&group, 4, "Share of the patients", "%")
                };
                out.push(control(&format!("{prefix}.share"), d, v, integer, Kind::Share));
            }
            if let Some((v, integer)) = item.get("count").and_then(Item::as_value).and_then(number) {
                let kind = Kind::Events(n.map_or(1000.0, |x| x.0));
                let d = Described::new(&group, 4, "Patients in the stratum", "patients");
                out.push(control(&format!("{prefix}.count"), d, v, integer, kind));
            }
            if let Some(arms) = item.get("arms") {
                arm_controls(arms, &format!("{prefix}.arms"), Some(&stratum), &words, &mut out);
            }
        }
    }
    for c in &mut out {
        apply_labels(c, &words);
    }
    // Stable: the text's order within each group, groups in order of their first control.
    out.sort_by_key(|c| c.rank);
    let mut order: Vec<String> = Vec::new();
    for c in &out {
        if !order.contains(&c.group) {
            order.push(c.group.clone());
        }
    }
    out.sort_by_key(|c| order.iter().position(|g| *g == c.group));
    out
}

/// The scenario's own `[labels.numbers]` entry for a control's key, over the derived words.
fn apply_labels(c: &mut Control, words: &Words) {
    let Some(NumberLabel { label, unit, scale }) = words.numbers.get(&c.key) else { return };
    if let Some(l) = label {
        c.label = l.clone();
    }
    if let Some(s) = scale {
        c.scale = *s;
        if unit.is_none() {
            c.unit = match s {
                DisplayScale::Percent => "%".into(),
                DisplayScale::Per100 => words.per_100(),
                DisplayScale::Per1000 => format!("per 1000 patient-{}", words.unit),
                DisplayScale::AsWritten => String::new(),
            };
        }
    }
    if let Some(u) = unit {
        c.unit = u.clone();
    }
    display(c);
}

/// " (period 2)" for `rates[1]`; "" for a key without an index.
fn period_index(key: &str) -> String {
    index_of(key).map_or(String::new(), |i| format!(" (period {})", i + 1))
}

fn index_of(key: &str) -> Option<usize> {
    let open = key.rfind('[')?;
    key[open + 1..].strip_suffix(']')?.parse().ok()
}

/// `[monitoring]`'s looks: when each interim look happens.
fn monitoring_controls(root: &Item, words: &Words, out: &mut Vec<Control>) {
    let Some(Value::Array(looks)) =
        root.get("monitoring").and_then(|m| m.get("looks")).and_then(Item::as_value)
    else {
        return;
    };
    for (k, look) in looks.iter().enumerate() {
        let Some(t) = look.as_inline_table() else { continue };
        for (leaf, v) in t.iter() {
            let Some((x, integer)) = number(v) else { continue };
            let key = format!("monitoring.looks[{k}].{leaf}");
            let (label, unit, kind, scale) = match leaf {
                "calendar" => (
                    format!("Interim look {}, after the first patient", k + 1),
                    words.unit.clone(),
                    Kind::Time,
                    DisplayScale::AsWritten,
                ),
                "events" => (
                    format!("Interim look {} after this many events", k + 1),
                    "events".into(),
                    Kind::Events(1000.0),
                    DisplayScale::AsWritten,
                ),
                "fraction" => (
                    format!("Interim look {} at this share of the information", k + 1),
                    "%".into(),
                    Kind::Fraction,
                    DisplayScale::Percent,
                ),
                "min_followup" => (
                    format!("Interim look {}: minimum follow-up", k + 1),
                    words.unit.clone(),
                    Kind::Time,
                    DisplayScale::AsWritten,
                ),
                _ => continue,
            };
            let d = Described { scale, ..Described::new("Monitoring", 3, &label, &unit) };
            out.push(control(&key, d, x, integer, kind));
        }
    }
    // Looks must stay in order (and before a calendar final cut): each slider stops one step
    // short of its neighbours.
    let cut = out.iter().find(|c| c.key == "design.cut.calendar").map(|c| c.value);
    let looks: Vec<usize> = (0..out.len()).filter(|&i| out[i].key.starts_with("monitoring.looks[")).collect();
    for &i in &looks {
        let leaf = leaf_of(&out[i].key).to_string();
        let k = index_of(out[i].key.split('.').nth(1).unwrap_or("")).unwrap_or(0);
        let same = |j: usize| leaf_of(&out[j].key) == leaf;
        let at = |j: usize| index_of(out[j].key.split('.').nth(1).unwrap_or("")).unwrap_or(0);
        let prev = looks
            .iter()
            .copied()
            .filter(|&j| same(j) && at(j) < k)
            .map(|j| out[j].value)
            .fold(f64::NEG_INFINITY, f64::max);
        let mut next = looks
            .iter()
            .copied()
            .filter(|&j| same(j) && at(j) > k)
            .map(|j| out[j].value)
            .fold(f64::INFINITY, f64::min);
        if leaf == "calendar"
            && let Some(c) = cut
        {
            next = next.min(c);
        }
        let c = &mut out[i];
        if prev.is_finite() {
            c.min = c.min.max(prev + c.step).min(c.value);
        }
        if next.is_finite() {
            c.max = c.max.min(next - c.step).max(c.value);
        }
        display(c);
    }
}

/// `text` with the control at `key` set to `typed`, a number on the control's display scale
/// (`percent`: "20" sets 0.2, "10.24" sets 0.1024, each the double nearest the decimal meant).
/// `scale` is the scale the page showed: when the text's controls give `key` another scale, the
/// edit is refused rather than converted on the wrong one.
pub(crate) fn set_shown(
    text: &str,
    key: &str,
    typed: &str,
    scale: DisplayScale,
) -> Result<String, super::edit::EditError> {
    let c = controls(text)
        .into_iter()
        .find(|c| c.key == key)
        .ok_or_else(|| super::edit::EditError::NotANumber { key: key.into() })?;
    if c.scale != scale {
        return Err(super::edit::EditError::ScaleChanged { label: c.label });
    }
    let unit = if c.unit.is_empty() { String::new() } else { format!(" in {}", c.unit) };
    let value = scale.to_model(typed).ok_or_else(|| super::edit::EditError::NotADecimal {
        label: c.label.clone(),
        unit,
        typed: typed.chars().take(40).collect(),
    })?;
    super::edit::set_number(text, key, value)
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
/// stratum's `strata.NAME.arms`): an early risk under "Treatment risk: ARM", the rest under
/// "Disease course: ARM" (with the stratum's name in a stratum).
fn arm_controls(arms: &Item, at: &str, stratum: Option<&str>, words: &Words, out: &mut Vec<Control>) {
    let Some(arms) = arms.as_table_like() else { return };
    let (rank_risk, rank_course) = if stratum.is_some() { (4, 4) } else { (0, 1) };
    let within = |s: String| stratum.map_or(s.clone(), |st| format!("{s} ({st})"));
    for (arm, item) in arms.iter() {
        let arm_words = words.arm(arm);
        let course = within(format!("Disease course: {arm_words}"));
        let risk_group = within(format!("Treatment risk: {arm_words}"));
        if let Some((v, integer)) = item.get("dropout").and_then(Item::as_value).and_then(number) {
            let d = Described {
                scale: DisplayScale::Per100,
                ..Described::new(&course, rank_course, "Loss to follow-up", &words.per_100())
            };
            out.push(control(&format!("{at}.{arm}.dropout"), d, v, integer, Kind::Rate));
        }
        let Some(causes) = item.get("causes").and_then(Item::as_table_like) else { continue };
        for (cause, hazard) in causes.iter() {
            let prefix = format!("{at}.{arm}.causes.{cause}");
            let what = words.cause(cause);
            let form = hazard_form(hazard);
            leaves(hazard, &prefix, &mut |key, leaf, v, integer| {
                let kind = Kind::of_hazard(leaf);
                let period = period_words(hazard, key, &words.unit);
                let (group, rank) = if form.as_deref() == Some("early_risk") {
                    (risk_group.as_str(), rank_risk)
                } else {
                    (course.as_str(), rank_course)
                };
                let (label, unit, scale) = match (form.as_deref(), leaf) {
                    (Some("early_risk"), "risk") => {
                        let w = hazard_number(hazard, "within").map_or(String::new(), |w| {
                            format!(" within {} {}", crate::report::short(w), words.unit)
                        });
                        (format!("Risk of {what}{w}"), "%".to_string(), DisplayScale::Percent)
                    }
                    (Some("early_risk"), "within") => (
                        format!("Time within which the risk of {what} falls"),
                        words.unit.clone(),
                        DisplayScale::AsWritten,
                    ),
                    (Some("relative"), "hr") => {
                        let to = hazard_text(hazard, "to")
                            .map_or(String::new(), |t| format!(" against {}", words.arm(&t)));
                        (
                            format!("Hazard ratio of {what}{to}{period}"),
                            String::new(),
                            DisplayScale::AsWritten,
                        )
                    }
                    (_, "rates" | "exponential" | "rate") => {
                        (format!("Rate of {what}{period}"), words.per_100(), DisplayScale::Per100)
                    }
                    (Some("weibull"), "shape") => {
                        (format!("{what}: Weibull shape"), String::new(), DisplayScale::AsWritten)
                    }
                    (Some("weibull"), "scale") => {
                        (format!("{what}: Weibull scale"), words.unit.clone(), DisplayScale::AsWritten)
                    }
                    (_, "median") => {
                        (format!("Median time to {what}"), words.unit.clone(), DisplayScale::AsWritten)
                    }
                    _ => {
                        let rest = key[prefix.len()..].trim_start_matches('.');
                        (format!("{what}: {rest}"), String::new(), DisplayScale::AsWritten)
                    }
                };
                let d = Described { scale, ..Described::new(group, rank, &label, &unit) };
                out.push(control(key, d, v, integer, kind));
            });
        }
    }
}

/// A hazard's form: `early_risk`, `relative`, `piecewise`, `exponential`, `weibull`, ….
fn hazard_form(hazard: &Item) -> Option<String> {
    match hazard {
        Item::Value(Value::InlineTable(t)) => t.iter().next().map(|(k, _)| k.to_string()),
        Item::Table(t) => t.iter().next().map(|(k, _)| k.to_string()),
        _ => None,
    }
}

/// The hazard's inner table (`{ early_risk = { … } }` → `{ … }`) as (key, value) lookups.
fn hazard_inner(hazard: &Item) -> Option<&Item> {
    let form = hazard_form(hazard)?;
    hazard.get(&form)
}

fn hazard_number(hazard: &Item, key: &str) -> Option<f64> {
    let inner = hazard_inner(hazard)?;
    inner.get(key).and_then(Item::as_value).and_then(number).map(|x| x.0)
}

fn hazard_text(hazard: &Item, key: &str) -> Option<String> {
    hazard_inner(hazard)?.get(key).and_then(Item::as_str).map(str::to_string)
}

/// ", 1–4 years" for the period of `key`'s index among the hazard's `breaks`; "" when the
/// hazard has no breaks or `key` no index.
fn period_words(hazard: &Item, key: &str, unit: &str) -> String {
    let Some(i) = index_of(key) else { return String::new() };
    let breaks: Vec<f64> = match hazard_inner(hazard).and_then(|h| h.get("breaks")).and_then(Item::as_value) {
        Some(Value::Array(a)) => a.iter().filter_map(|v| number(v).map(|x| x.0)).collect(),
        _ => return String::new(),
    };
    let s = crate::report::short;
    match (i.checked_sub(1).and_then(|j| breaks.get(j)), breaks.get(i)) {
        (None, Some(b)) => format!(", 0–{} {unit}", s(*b)),
        (Some(a), Some(b)) => format!(", {}–{} {unit}", s(*a), s(*b)),
        (Some(a), None) => format!(", after {} {unit}", s(*a)),
        (None, None) => String::new(),
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
    /// An information fraction, in [0.01, 0.99].
    Fraction,
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
            Kind::Fraction => (0.01, 0.99, 0.01),
        }
    }
}

/// A control's words before the scenario's own `[labels.numbers]` entry.
struct Described {
    group: String,
    rank: u8,
    label: String,
    unit: String,
    scale: DisplayScale,
}

impl Described {
    fn new(group: &str, rank: u8, label: &str, unit: &str) -> Described {
        Described {
            group: group.into(),
            rank,
            label: label.into(),
            unit: unit.into(),
            scale: DisplayScale::AsWritten,
        }
    }
}

fn control(key: &str, d: Described, value: f64, integer: bool, kind: Kind) -> Control {
    let (min, max, step) = kind.range(value);
    let (min, max, step) = if integer { (min.ceil(), max.floor(), step.max(1.0)) } else { (min, max, step) };
    let mut c = Control {
        key: key.to_string(),
        group: d.group,
        label: d.label,
        unit: d.unit,
        scale: d.scale,
        value,
        min: min.min(value),
        max: max.max(value),
        step,
        integer,
        shown: String::new(),
        shown_min: 0.0,
        shown_max: 0.0,
        shown_step: 0.0,
        rank: d.rank,
    };
    display(&mut c);
    c
}

/// The value, range and step on the control's display scale.
fn display(c: &mut Control) {
    c.shown = c.scale.to_display(c.value);
    c.shown_min = shown_number(c.scale, c.min);
    c.shown_max = shown_number(c.scale, c.max);
    c.shown_step = shown_number(c.scale, c.step);
}

/// `x` on `scale` as a number (0.005 percent → 0.5): the shown text read back.
fn shown_number(scale: DisplayScale, x: f64) -> f64 {
    scale.to_display(x).parse().unwrap_or(x)
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

    /// astis.toml without its `[labels]` table (the words derived from the model).
    fn unlabelled_astis() -> String {
        let text = std::fs::read_to_string("scenarios/astis.toml").unwrap();
        let cut = text.find("\n# Words for readers").expect("astis.toml ends with its [labels] table");
        text[..cut + 1].to_string()
    }

    #[test]
    fn the_astis_scenario_gives_every_number_a_planner_changes() {
        let labelled = controls(&std::fs::read_to_string("scenarios/astis.toml").unwrap());
        let trm = labelled.iter().find(|c| c.key.ends_with("early_risk.risk")).unwrap();
        assert_eq!(trm.label, "Transplant-related mortality (deaths within 3 months of the transplant)");
        let text = unlabelled_astis();
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
            (risk.value, risk.group.as_str(), risk.label.as_str(), risk.unit.as_str(), risk.shown.as_str()),
            (0.1, "Treatment risk: Autologous HSCT", "Risk of treatment death within 0.25 years", "%", "10")
        );
        assert_eq!((risk.shown_min, risk.shown_max, risk.shown_step), (0.0, 50.0, 0.5));
        assert_eq!(c[0].key, risk.key, "the treatment's early risk comes first");
        let hr = c.iter().find(|c| c.key == "arms.hsct.causes.disease_death.relative.hr[1]").unwrap();
        assert_eq!(hr.label, "Hazard ratio of disease death against Cyclophosphamide, 1–4 years");
        assert_eq!(hr.group, "Disease course: Autologous HSCT");
        let rate = c.iter().find(|c| c.key == "arms.cyc.causes.disease_death.piecewise.rates[3]").unwrap();
        assert_eq!(
            (rate.label.as_str(), rate.unit.as_str(), rate.shown.as_str()),
            ("Rate of disease death, after 4 years", "per 100 patient-years", "3")
        );
        let groups: Vec<&str> = c.iter().map(|c| c.group.as_str()).collect();
        let first = |g: &str| groups.iter().position(|x| *x == g).unwrap();
        assert!(first("Treatment risk: Autologous HSCT") < first("Disease course: Cyclophosphamide"));
        assert!(first("Disease course: Autologous HSCT") < first("Design and follow-up"), "{groups:?}");
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
        assert_eq!((share.value, share.min, share.max, share.shown.as_str()), (0.25, 0.0, 1.0, "25"));
        assert!(share.group.starts_with("Stratum: "), "{}", share.group);
        let trm = find("strata.standard.arms.hsct.causes.treatment_death.early_risk.risk");
        assert_eq!(trm.value, 0.0632);
        assert!(trm.group.starts_with("Treatment risk: ") && trm.group.ends_with(")"), "{}", trm.group);
        find("arms.hsct.causes.treatment_death.early_risk.risk");
        find("design.accrual.rates[0]");
    }

    /// `[labels.numbers]` replaces the derived words, unit and scale of its key.
    #[test]
    fn a_scenario_names_its_numbers() {
        let text = unlabelled_astis()
            + "\n[labels.numbers]\n\"arms.hsct.causes.treatment_death.early_risk.risk\" = { label = \"Transplant-related mortality\" }\n\
               \"design.n\" = { unit = \"people\" }\n\"arms.cyc.dropout\" = { scale = \"per_1000\" }\n";
        let c = controls(&text);
        let find = |key: &str| c.iter().find(|c| c.key == key).unwrap();
        let trm = find("arms.hsct.causes.treatment_death.early_risk.risk");
        assert_eq!(
            (trm.label.as_str(), trm.unit.as_str(), trm.shown.as_str()),
            ("Transplant-related mortality", "%", "10")
        );
        assert_eq!(find("design.n").unit, "people");
        let d = find("arms.cyc.dropout");
        assert_eq!((d.scale, d.unit.as_str()), (DisplayScale::Per1000, "per 1000 patient-years"));
    }

    /// A number typed in percent sets the decimal meant, exactly; what is not a number is said
    /// with the control's words.
    #[test]
    fn typed_in_the_display_unit() {
        let text = unlabelled_astis();
        let key = "arms.hsct.causes.treatment_death.early_risk.risk";
        let t = set_shown(&text, key, "20", DisplayScale::Percent).unwrap();
        assert_eq!(t, text.replace("risk = 0.10, within", "risk = 0.2, within"));
        let t = set_shown(&text, key, "10.24", DisplayScale::Percent).unwrap();
        assert!(t.contains("risk = 0.1024, within"), "as written");
        let e = set_shown(&text, key, "twenty", DisplayScale::Percent).unwrap_err().to_string();
        assert_eq!(e, "Risk of treatment death within 0.25 years: expected a number in %, found \"twenty\"");
        let e = set_shown(&text, key, "20", DisplayScale::AsWritten).unwrap_err().to_string();
        assert!(e.contains("another scale"), "{e}");
        let t = set_shown(&text, "design.n", "200", DisplayScale::AsWritten).unwrap();
        assert!(t.contains("n = 200\n"), "an integer stays one");
        assert!(set_shown(&text, "design.m", "2", DisplayScale::AsWritten).is_err());
    }

    /// A key's index, and none for keys that only look indexed (a TOML key may hold `[`).
    #[test]
    fn indices_are_read_only_from_whole_brackets() {
        assert_eq!(index_of("a.rates[2]"), Some(2));
        for key in ["a[", "a[]", "a[x]", "a[é", "a[1]b", "a"] {
            assert_eq!(index_of(key), None, "{key}");
        }
        let text = "name = \"x\"\n[arms.a.causes.c]\n\"q[\" = 1\n\"r[é\" = 2\n";
        assert_eq!(controls(text).len(), 2, "odd keys give controls, not a panic");
    }

    #[test]
    fn text_that_does_not_parse_has_no_controls() {
        assert!(controls("[design\nn = 1").is_empty());
    }
}
