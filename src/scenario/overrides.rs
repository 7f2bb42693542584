//! Dotted-key overrides (`design.n=300`, `arms.hsct.causes.disease_death.relative.hr[1]=0.45`):
//! the way sweeps, plans and assurance make new scenarios. An override edits the TOML document,
//! and the edited document is validated exactly like a file, so a point of a sweep can never be
//! a scenario that a file could not be.

use std::path::Path;

use toml::{Table, Value};

use super::{ErrorKind, Scenario, ScenarioError};

/// One `KEY=VALUE` assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    pub key: String,
    pub value: f64,
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} = {}", self.key, self.value)
    }
}

/// A scenario file's text, parsed once, from which overridden scenarios are made.
#[derive(Debug, Clone)]
pub struct Template {
    path: std::path::PathBuf,
    table: Table,
}

/// One path step: a table key, optionally followed by an array index (`hr[1]`).
pub fn steps(key: &str) -> Option<Vec<(String, Option<usize>)>> {
    key.split('.')
        .map(|part| match part.split_once('[') {
            None if !part.is_empty() => Some((part.to_string(), None)),
            None => None,
            Some((name, rest)) => {
                let idx = rest.strip_suffix(']')?.parse().ok()?;
                (!name.is_empty()).then(|| (name.to_string(), Some(idx)))
            }
        })
        .collect()
}

impl Template {
    /// Reads the scenario and checks that it is valid as it stands.
    pub fn from_path(path: &Path) -> Result<Template, ScenarioError> {
        Template::from_document(&super::Document::load(path)?)
    }

    /// The template of a parsed document, checked valid as it stands.
    pub fn from_document(doc: &super::Document) -> Result<Template, ScenarioError> {
        let path = doc.path();
        doc.scenario()?;
        // The document parsed as raw tables above, so it parses as a plain table too.
        let table: Table = toml::from_str(doc.text()).map_err(|e| {
            let message = e.message().to_string();
            ScenarioError::located(
                path,
                doc.text(),
                e.span().unwrap_or(0..0),
                None,
                ErrorKind::Syntax { message },
            )
        })?;
        Ok(Template { path: path.to_path_buf(), table })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole document without overrides, as TOML text: what a sweep's manifest keeps so
    /// that `merge` needs no scenario file.
    pub fn text(&self) -> String {
        toml::to_string(&self.table).expect("a TOML table serialises")
    }

    /// The current numeric value at a dotted key (None when absent or not a number).
    pub fn get(&self, key: &str) -> Option<f64> {
        template_get(&self.table, key)
    }

    /// The same template without the study tables (`[[targets]]`, `[calibrate]`): what a fit
    /// re-validates at every point, with nothing to parse that the point does not need.
    pub(crate) fn model_only(&self) -> Template {
        let mut table = self.table.clone();
        table.remove("calibrate");
        table.remove("targets");
        Template { path: self.path.clone(), table }
    }

    /// The document with the overrides applied, as TOML text (for `fitted.toml`).
    pub fn text_with(&self, overrides: &[Override]) -> Result<String, ScenarioError> {
        let mut t = self.table.clone();
        for o in overrides {
            set(&mut t, &o.key, o.value)
                .map_err(|m| ScenarioError::without_location(&self.path, m.to_string()))?;
        }
        Ok(toml::to_string(&t).expect("a TOML table serialises"))
    }
}

impl Template {
    /// Checks that `key` names a number in this scenario (or a missing number in an existing
    /// table, such as an arm's `dropout`), without building a scenario.
    pub(crate) fn check_key(&self, key: &str) -> Result<(), ScenarioError> {
        let mut t = self.table.clone();
        set(&mut t, key, 0.0)
            .map(|_| ())
            .map_err(|m| ScenarioError::without_location(&self.path, m.to_string()))
    }

    /// The scenario with the overrides applied, and its canonical text: a stable description of
    /// exactly what is simulated, the key of a sweep point's fingerprint. It holds only what
    /// changes a point's result (the model, the design and the analysis); see [`RESULT_FREE`].
    pub fn apply(&self, overrides: &[Override]) -> Result<(Scenario, String), ScenarioError> {
        let mut t = self.table.clone();
        for o in overrides {
            set(&mut t, &o.key, o.value)
                .map_err(|m| ScenarioError::without_location(&self.path, m.to_string()))?;
        }
        let text = toml::to_string(&t).expect("a TOML table serialises");
        let label = if overrides.is_empty() {
            self.path.display().to_string()
        } else {
            let list: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
            format!("{} with {}", self.path.display(), list.join(", "))
        };
        match Scenario::from_toml(&text, Path::new(&label)) {
            Ok(sc) => Ok((sc, canonical(&t))),
            // The line and column would point into the regenerated text, not the user's file:
            // name the overrides and the key instead.
            Err(e) => Err(e.relabelled(Path::new(&label))),
        }
    }
}

/// Top-level keys that never change a simulated point's numbers: labels (`name`, `title`,
/// `time_unit`, `[labels]`), `[simulation]` (the replicates and seed actually used are fingerprinted on their
/// own), and the tables of other commands (`[sweep]`, `[followup]`, `[uncertainty]`,
/// `[[targets]]`, `[calibrate]`). Editing them lets a resumed sweep reuse its points; any other
/// key (every model, design and analysis key, and any table added later) is fingerprinted.
pub const RESULT_FREE: [&str; 10] = [
    "name",
    "title",
    "time_unit",
    "labels",
    "simulation",
    "sweep",
    "followup",
    "uncertainty",
    "targets",
    "calibrate",
];

/// The document without its [`RESULT_FREE`] keys, as TOML text (keys in sorted order).
fn canonical(table: &Table) -> String {
    let mut t = table.clone();
    for key in RESULT_FREE {
        t.remove(key);
    }
    toml::to_string(&t).expect("a TOML table serialises")
}

pub(crate) fn template_get(table: &Table, key: &str) -> Option<f64> {
    let steps = steps(key)?;
    let mut v: &Value = table.get(&steps[0].0)?;
    for (i, (name, idx)) in steps.iter().enumerate() {
        if i > 0 {
            v = v.as_table()?.get(name)?;
        }
        if let Some(k) = idx {
            v = v.as_array()?.get(*k)?;
        }
    }
    match v {
        Value::Integer(x) => Some(*x as f64),
        Value::Float(x) => Some(*x),
        _ => None,
    }
}

/// The number at a dotted key (None: a number left to its default), or why the key cannot be set.
pub(crate) fn numeric(table: &Table, key: &str) -> Result<Option<f64>, KeyError> {
    let mut t = table.clone();
    set(&mut t, key, 0.0)?;
    if template_get(table, key).is_none() {
        // A number left to its default: the key must be one the scenario accepts there.
        t.remove("calibrate");
        t.remove("targets");
        let text = toml::to_string(&t).expect("a TOML table serialises");
        if let Err(e) = Scenario::from_toml(&text, Path::new(key)) {
            return Err(KeyError::NotAccepted { key: key.into(), message: e.message() });
        }
    }
    let template = Template { path: std::path::PathBuf::new(), table: table.clone() };
    Ok(template.get(key))
}

/// Why a dotted key cannot be set to a number in a scenario's table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KeyError {
    #[error("`{key}`: not a dotted key (e.g. design.n or relative.hr[1])")]
    NotDotted { key: String },
    #[error("`{key}`: expected a finite number, found {value}")]
    NotFinite { key: String, value: f64 },
    /// `at` is the key's prefix that is missing, not a list or not a table.
    #[error("`{key}`: the scenario has no `{at}`")]
    Missing { key: String, at: String },
    #[error("`{key}`: `{at}` is not a list")]
    NotAList { key: String, at: String },
    #[error("`{key}`: `{at}` has {len} elements, no index {index}")]
    NoIndex { key: String, at: String, len: usize, index: usize },
    #[error("`{key}`: `{at}` is not a table")]
    NotATable { key: String, at: String },
    #[error("`{key}`: not a number in the scenario (it is {found})")]
    NotANumber { key: String, found: &'static str },
    /// A stratum's share below 1 when the other strata have none to rescale.
    #[error("`{key}` = {value}: the other strata have share 0, so nothing can take the remaining {}", 1.0 - value)]
    NoShareLeft { key: String, value: f64 },
    /// A number left to its default that the scenario does not accept there (its validation's
    /// message).
    #[error("`{key}` cannot be set: {message}")]
    NotAccepted { key: String, message: String },
}

/// Sets a numeric value at a dotted key; the error says what is wrong with the key. Setting a
/// stratum's share (`strata.NAME.share`) rescales the other strata's shares in proportion, so
/// that they still add up to 1 (docs/strata.md).
fn set(table: &mut Table, key: &str, value: f64) -> Result<(), KeyError> {
    set_only(table, key, value)?;
    if let [first, name, last] = key.split('.').collect::<Vec<_>>()[..]
        && first == "strata"
        && last == "share"
    {
        rescale_shares(table, key, name, value)?;
    }
    Ok(())
}

/// The other strata's shares when one is set to `value`: each times (1 − value)/(their sum), so
/// that all still add up to 1 (`None`: they are all 0 and `value` is not 1, nothing can take the
/// rest). The rule of dotted-key overrides and of the explorer's share controls.
pub fn rescaled_shares(others: &[f64], value: f64) -> Option<Vec<f64>> {
    let sum: f64 = others.iter().sum();
    if sum == 0.0 {
        return (value == 1.0 || others.is_empty()).then(|| others.to_vec());
    }
    let factor = (1.0 - value) / sum;
    Some(others.iter().map(|x| x * factor).collect())
}

/// The other strata's shares rescaled in the table (see [`rescaled_shares`]).
fn rescale_shares(table: &mut Table, key: &str, name: &str, value: f64) -> Result<(), KeyError> {
    let Some(strata) = table.get_mut("strata").and_then(Value::as_table_mut) else { return Ok(()) };
    let share = |v: &Value| match v.get("share") {
        Some(Value::Float(x)) => Some(*x),
        Some(Value::Integer(x)) => Some(*x as f64),
        _ => None,
    };
    let others: Vec<(String, f64)> = strata
        .iter()
        .filter(|(n, _)| n.as_str() != name)
        .filter_map(|(n, v)| share(v).map(|x| (n.clone(), x)))
        .collect();
    let values: Vec<f64> = others.iter().map(|(_, x)| *x).collect();
    let new =
        rescaled_shares(&values, value).ok_or_else(|| KeyError::NoShareLeft { key: key.into(), value })?;
    for ((n, _), x) in others.iter().zip(new) {
        if let Some(t) = strata.get_mut(n).and_then(Value::as_table_mut) {
            t.insert("share".into(), Value::Float(x));
        }
    }
    Ok(())
}

/// Sets a numeric value at a dotted key, and nothing else.
fn set_only(table: &mut Table, key: &str, value: f64) -> Result<(), KeyError> {
    let steps = steps(key).ok_or_else(|| KeyError::NotDotted { key: key.into() })?;
    if !value.is_finite() {
        return Err(KeyError::NotFinite { key: key.into(), value });
    }
    let mut t = table;
    let last = steps.len() - 1;
    for (i, (name, idx)) in steps.iter().enumerate() {
        let here: Vec<&str> = steps[..=i].iter().map(|(n, _)| n.as_str()).collect();
        let at = here.join(".");
        if i < last || idx.is_some() {
            let v = t.get_mut(name).ok_or_else(|| KeyError::Missing { key: key.into(), at: at.clone() })?;
            let v = match idx {
                None => v,
                Some(k) => {
                    let arr = v
                        .as_array_mut()
                        .ok_or_else(|| KeyError::NotAList { key: key.into(), at: at.clone() })?;
                    let len = arr.len();
                    arr.get_mut(*k).ok_or_else(|| KeyError::NoIndex {
                        key: key.into(),
                        at: at.clone(),
                        len,
                        index: *k,
                    })?
                }
            };
            if i == last {
                return replace(v, key, value);
            }
            t = v.as_table_mut().ok_or_else(|| KeyError::NotATable { key: key.into(), at })?;
        } else {
            return match t.get_mut(name) {
                Some(v) => replace(v, key, value),
                // A number left to its default (an arm's dropout): add it; validation rejects a
                // key that does not belong there.
                None => {
                    t.insert(name.clone(), number(value));
                    Ok(())
                }
            };
        }
    }
    unreachable!("the loop returns at the last step")
}

fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::Integer(value as i64)
    } else {
        Value::Float(value)
    }
}

fn replace(v: &mut Value, key: &str, value: f64) -> Result<(), KeyError> {
    match v {
        // An integer literal may stand for a real number (`calendar = 5`): a fractional value
        // becomes a float, and validation rejects it where the key must be an integer.
        Value::Integer(_) | Value::Float(_) => {
            *v = if matches!(v, Value::Integer(_)) { number(value) } else { Value::Float(value) };
            Ok(())
        }
        other => Err(KeyError::NotANumber { key: key.into(), found: other.type_str() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template::from_path(Path::new("scenarios/astis.toml")).expect("shipped scenario")
    }

    #[test]
    fn overrides_reach_numbers_lists_and_missing_defaults() {
        let t = template();
        let (sc, _) = t
            .apply(&[
                Override { key: "design.n".into(), value: 300.0 },
                Override { key: "arms.hsct.causes.disease_death.relative.hr[1]".into(), value: 0.45 },
                Override { key: "arms.hsct.causes.treatment_death.early_risk.risk".into(), value: 0.05 },
            ])
            .expect("valid");
        assert_eq!(sc.design.n, 300);
        assert_eq!(t.get("arms.hsct.causes.disease_death.relative.hr[1]"), Some(0.2));
        let (sc, _) = t.apply(&[Override { key: "arms.cyc.dropout".into(), value: 0.05 }]).unwrap();
        assert_eq!(sc.arms[0].dropout, 0.05);
    }

    #[test]
    fn bad_keys_and_values_are_clear_errors() {
        let t = template();
        let err =
            |key: &str, value: f64| t.apply(&[Override { key: key.into(), value }]).unwrap_err().to_string();
        assert!(err("design.nn.x", 1.0).contains("no `design.nn`"));
        assert!(err("design.control", 1.0).contains("not a number"));
        assert!(err("design.n", 100.5).contains("expected an integer"));
        assert!(err("arms.hsct.causes.disease_death.relative.hr[7]", 0.5).contains("no index 7"));
        assert!(err("design.n", 1.0).contains("`design.n`"), "validation error names the key");
        assert!(err("arms.cyc.dropuot", 0.1).contains("dropuot"), "typo rejected by validation");
    }

    #[test]
    fn canonical_text_is_stable() {
        let t = template();
        let o = [Override { key: "design.n".into(), value: 200.0 }];
        assert_eq!(t.apply(&o).unwrap().1, t.apply(&o).unwrap().1);
        assert_ne!(t.apply(&o).unwrap().1, t.apply(&[]).unwrap().1);
    }

    #[test]
    fn canonical_text_leaves_out_labels_and_other_commands_tables() {
        let mut t = template();
        let before = t.apply(&[]).unwrap().1;
        t.table.insert("title".into(), Value::String("another title".into()));
        t.table.insert("name".into(), Value::String("another_name".into()));
        assert_eq!(t.apply(&[]).unwrap().1, before, "labels are not fingerprinted");
        assert!(!before.contains("[simulation]") && before.contains("[design]"), "{before}");
        let o = [Override { key: "analysis.alpha".into(), value: 0.05 }];
        assert_ne!(t.apply(&o).unwrap().1, before, "the analysis is");
    }

    /// Setting a stratum's share rescales the others in proportion; share 0 leaves the stratum
    /// absent; nothing left to rescale is an error.
    #[test]
    fn a_stratum_share_rescales_the_others() {
        let text = format!(
            "{}\n[strata.a]\nshare = 0.2\n[strata.b]\nshare = 0.3\n[strata.c]\nshare = 0.5\n",
            crate::scenario::fixture::BASE
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, &text).unwrap();
        let t = Template::from_path(&path).expect("valid stratified scenario");
        let (sc, _) = t.apply(&[Override { key: "strata.a.share".into(), value: 0.6 }]).unwrap();
        let shares: Vec<f64> = sc.strata.iter().map(|s| s.share).collect();
        assert_eq!(shares[0], 0.6);
        assert!((shares[1] - 0.3 * 0.4 / 0.8).abs() < 1e-15 && (shares[2] - 0.5 * 0.4 / 0.8).abs() < 1e-15);
        let (sc, _) = t.apply(&[Override { key: "strata.a.share".into(), value: 0.0 }]).unwrap();
        assert_eq!(sc.population().count(), 2, "a stratum of share 0 is absent");
        let (sc, _) = t.apply(&[Override { key: "strata.c.share".into(), value: 1.0 }]).unwrap();
        assert_eq!(sc.population().map(|(s, _, _)| s).collect::<Vec<_>>(), vec![2]);
        let err = t
            .apply(&[
                Override { key: "strata.c.share".into(), value: 1.0 },
                Override { key: "strata.c.share".into(), value: 0.5 },
            ])
            .unwrap_err();
        assert!(err.message().contains("nothing can take the remaining 0.5"), "{}", err.message());
    }
}
