//! A control's change, made in the scenario's own text: one number replaced where it stands, so
//! the comments, order and layout the user wrote survive, and the TOML a user downloads is their
//! file with that number changed.

use toml_edit::{DocumentMut, Item, Value};

use crate::scenario::overrides::{rescaled_shares, steps};

/// Why a control's number cannot be set in the text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("`{key}`: expected a finite number, found {value}")]
    NotFinite { key: String, value: f64 },
    #[error("`{key}` is not a key (expected e.g. design.n or a.b.hr[1])")]
    NotAKey { key: String },
    /// The text is not TOML (what the parser said).
    #[error("{0}")]
    NotToml(String),
    #[error("`{key}` is not a number in this scenario")]
    NotANumber { key: String },
    /// A number typed on a control's display scale that is not a decimal number.
    #[error("{label}: expected a number{unit}, found {typed:?}")]
    NotADecimal { label: String, unit: String, typed: String },
    /// The page showed the number on another scale than the text now gives it (its `[labels]`
    /// changed): converting would set a number the user did not mean.
    #[error("{label}: the scenario now shows this number on another scale; type it again")]
    ScaleChanged { label: String },
}

/// `text` with the number at `key` (`design.n`, `arms.hsct.causes.disease_death.relative.hr[1]`)
/// set to `value`. An integer stays an integer when `value` is whole; a float is written in its
/// shortest form. Only numbers already in the text can be set: the controls are made from
/// them.
pub(crate) fn set_number(text: &str, key: &str, value: f64) -> Result<String, EditError> {
    if !value.is_finite() {
        return Err(EditError::NotFinite { key: key.into(), value });
    }
    // −0.0 is 0 (as the scenario's validation reads it): never write "-0.0" into a file.
    let value = value + 0.0;
    let path = steps(key).ok_or_else(|| EditError::NotAKey { key: key.into() })?;
    let mut doc: DocumentMut =
        text.parse().map_err(|e: toml_edit::TomlError| EditError::NotToml(e.message().to_string()))?;
    let missing = || EditError::NotANumber { key: key.into() };
    let mut item: &mut Item = doc.as_item_mut();
    for (name, index) in &path {
        item = item.get_mut(name.as_str()).ok_or_else(missing)?;
        if let Some(k) = index {
            item = item.get_mut(*k).ok_or_else(missing)?;
        }
    }
    let slot = item.as_value_mut().ok_or_else(missing)?;
    let decor = slot.decor().clone();
    let new = match slot {
        // A whole number stays an integer; a fraction where an integer stood is written as a
        // float, and the scenario's validation says whether that key takes one.
        Value::Integer(_) if value.fract() == 0.0 && value.abs() <= 9.0e15 => Value::from(value as i64),
        Value::Integer(_) | Value::Float(_) => Value::from(value),
        _ => return Err(missing()),
    };
    *slot = new;
    *slot.decor_mut() = decor;
    if let [(first, None), (name, None), (last, None)] = &path[..]
        && first == "strata"
        && last == "share"
    {
        rescale_shares(&mut doc, name, value);
    }
    Ok(doc.to_string())
}

/// A stratum's share set to `value`: the other strata's shares rescaled in proportion, as a
/// dotted-key override does (`scenario::overrides::rescaled_shares`). When nothing can take the
/// rest, the shares are left to validation, which says they do not add up to 1.
fn rescale_shares(doc: &mut DocumentMut, name: &str, value: f64) {
    let Some(strata) = doc.get_mut("strata").and_then(Item::as_table_like_mut) else { return };
    let others: Vec<(String, f64)> = strata
        .iter()
        .filter(|(n, _)| *n != name)
        .filter_map(|(n, t)| {
            t.get("share").and_then(Item::as_value).and_then(number).map(|x| (n.to_string(), x))
        })
        .collect();
    let values: Vec<f64> = others.iter().map(|(_, x)| *x).collect();
    let Some(new) = rescaled_shares(&values, value) else { return };
    for ((n, _), x) in others.iter().zip(new) {
        if let Some(slot) = strata.get_mut(n).and_then(|t| t.get_mut("share")).and_then(Item::as_value_mut) {
            let decor = slot.decor().clone();
            *slot = Value::from(x);
            *slot.decor_mut() = decor;
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i.value() as f64),
        Value::Float(f) => Some(*f.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# a comment\nname = \"x\"\n[design]\nn = 156   # patients\naccrual = { duration = 8.6 }\n\
                        [arms.hsct.causes]\n# HR by period\ndisease_death = { relative = { to = \"cyc\", breaks = [1, 4], hr = [0.6, 0.2, 0.5] } }\n";

    #[test]
    fn one_number_changes_and_everything_else_stays() {
        let t = set_number(TEXT, "arms.hsct.causes.disease_death.relative.hr[1]", 0.35).unwrap();
        assert_eq!(t, TEXT.replace("[0.6, 0.2, 0.5]", "[0.6, 0.35, 0.5]"));
        let t = set_number(TEXT, "design.n", 200.0).unwrap();
        assert_eq!(t, TEXT.replace("n = 156   # patients", "n = 200   # patients"));
        let t = set_number(TEXT, "design.n", 150.5).unwrap();
        assert!(t.contains("n = 150.5   # patients"), "validation, not the edit, refuses it: {t}");
        let t = set_number(TEXT, "design.accrual.duration", 3.0).unwrap();
        assert_eq!(t, TEXT.replace("duration = 8.6", "duration = 3.0"));
    }

    /// A stratum's share set in the text rescales the others, as a dotted-key override does;
    /// the comments stay.
    #[test]
    fn a_share_rescales_the_other_strata() {
        let text =
            "n = 1\n[strata.a]\nshare = 0.2 # high risk\n[strata.b]\nshare = 0.3\n[strata.c]\nshare = 0.5\n";
        let t = set_number(text, "strata.a.share", 0.6).unwrap();
        let doc: DocumentMut = t.parse().unwrap();
        let share = |s: &str| doc["strata"][s]["share"].as_float().unwrap();
        assert_eq!(share("a"), 0.6);
        assert!((share("b") - 0.15).abs() < 1e-15 && (share("c") - 0.25).abs() < 1e-15, "{t}");
        assert!(t.contains("# high risk"));
        // Nothing left to take the rest: left to validation.
        let t = set_number("[strata.a]\nshare = 1\n[strata.b]\nshare = 0\n", "strata.a.share", 0.5).unwrap();
        assert!(t.contains("share = 0\n"), "{t}");
    }

    #[test]
    fn what_cannot_be_set_is_said() {
        for (key, value, says) in [
            ("design.m", 1.0, "not a number in this scenario"),
            ("name", 1.0, "not a number in this scenario"),
            ("arms.hsct.causes.disease_death.relative.hr[7]", 1.0, "not a number"),
            ("design..n", 1.0, "is not a key"),
            ("design.n", f64::NAN, "finite"),
            ("design[0].n", 1.0, "not a number"),
        ] {
            let e = set_number(TEXT, key, value).unwrap_err().to_string();
            assert!(e.contains(says), "{key}: {e}");
        }
    }
}
