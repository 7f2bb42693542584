//! `[labels]`: the words and display scales a reader sees, without changing any result. Causes
//! and endpoints get their names in words (`treatment_death` → "transplant-related death"), and
//! any number the file writes may get a label, a unit and a display scale (`percent`: 0.1 is
//! shown and typed as 10). Nothing here reaches the simulation, summary.json or the CSV files;
//! the sweep's fingerprints leave the table out (`overrides::RESULT_FREE`).
//!
//! A display scale is a power of ten, so a number typed on it converts to the model's number by
//! moving the decimal point in the text as typed: "10.24" percent is the double nearest 0.1024,
//! exactly as if 0.1024 had been written in the file (never 10.24 / 100, which is not).

use std::collections::BTreeMap;

/// The longest label or unit, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// `[labels]`, validated: names it gives exist, keys it gives are numbers of the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Labels {
    /// Cause name → words.
    pub causes: BTreeMap<String, String>,
    /// Endpoint name → words.
    pub endpoints: BTreeMap<String, String>,
    /// Dotted key (as `sweep --set` takes it) → how that number is shown.
    pub numbers: BTreeMap<String, NumberLabel>,
}

/// `[labels.numbers."KEY"]`: what to call a number, its unit, and its scale. Each part left out
/// takes the default the explorer derives from the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberLabel {
    pub label: Option<String>,
    pub unit: Option<String>,
    pub scale: Option<DisplayScale>,
}

/// How a number is shown and typed: the model's number times 10^exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisplayScale {
    /// As the file writes it.
    AsWritten,
    /// ×100: a risk or share 0.1 is 10 (%).
    Percent,
    /// ×100: a rate 0.02 per patient-year is 2 per 100 patient-years.
    #[serde(rename = "per_100")]
    Per100,
    /// ×1000.
    #[serde(rename = "per_1000")]
    Per1000,
}

impl DisplayScale {
    pub const NAMES: [&'static str; 4] = ["as_written", "percent", "per_100", "per_1000"];

    pub fn parse(s: &str) -> Option<DisplayScale> {
        match s {
            "as_written" => Some(DisplayScale::AsWritten),
            "percent" => Some(DisplayScale::Percent),
            "per_100" => Some(DisplayScale::Per100),
            "per_1000" => Some(DisplayScale::Per1000),
            _ => None,
        }
    }

    /// The power of ten between the model's number and the shown one.
    pub fn exponent(self) -> i32 {
        match self {
            DisplayScale::AsWritten => 0,
            DisplayScale::Percent | DisplayScale::Per100 => 2,
            DisplayScale::Per1000 => 3,
        }
    }

    /// The model's number for `typed` on this scale: the decimal point moved in the text, then
    /// read once (so the result is the double nearest the decimal meant). `None`: not a decimal
    /// number.
    pub fn to_model(self, typed: &str) -> Option<f64> {
        shifted(typed, -self.exponent())
    }

    /// The number shown for the model's `value`: its shortest decimal form, the point moved
    /// (0.1 → "10", 0.1024 → "10.24"; never 10.000000000000002).
    pub fn to_display(self, value: f64) -> String {
        if !value.is_finite() {
            return value.to_string();
        }
        let (negative, digits, exponent) =
            decimal(&format!("{:e}", value + 0.0)).expect("a float's `{:e}` form");
        plain(negative, &digits, exponent + self.exponent())
    }
}

/// `text` (a decimal number: `-12.5`, `3`, `1e-3`) times 10^`shift`, read as the nearest double.
fn shifted(text: &str, shift: i32) -> Option<f64> {
    let (negative, digits, exponent) = decimal(text.trim())?;
    let e = exponent.checked_add(shift)?;
    let sign = if negative { "-" } else { "" };
    let x: f64 = format!("{sign}{digits}e{e}").parse().ok()?;
    // Beyond the doubles' range either way (1e400, or 1e-400 read as 0): not the number meant.
    (x.is_finite() && (x != 0.0 || digits == "0")).then_some(x + 0.0)
}

/// A decimal number as (negative, digits without leading zeros, exponent): value = digits ×
/// 10^exponent. Accepts `[+-]d*[.d*][e[+-]d+]` with at least one digit, and nothing else (no
/// `inf`, `nan`, hex or spaces inside).
fn decimal(s: &str) -> Option<(bool, String, i32)> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match rest.find(['e', 'E']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut exponent: i32 = match exp {
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            e.parse().ok()?
        }
        None => 0,
    };
    exponent -= frac.len() as i32;
    let all = format!("{int}{frac}");
    let digits = all.trim_start_matches('0');
    // Trailing zeros move into the exponent: "20" is 2e1.
    let trimmed = digits.trim_end_matches('0');
    exponent += (digits.len() - trimmed.len()) as i32;
    if trimmed.is_empty() {
        return Some((false, "0".to_string(), 0));
    }
    Some((negative, trimmed.to_string(), exponent))
}

/// digits × 10^exponent written without an exponent ("1024", -4 → "0.1024"; "2", 1 → "20").
fn plain(negative: bool, digits: &str, exponent: i32) -> String {
    if digits == "0" {
        return "0".into();
    }
    let sign = if negative { "-" } else { "" };
    if exponent >= 0 {
        return format!("{sign}{digits}{}", "0".repeat(exponent as usize));
    }
    let point = digits.len() as i32 + exponent;
    if point > 0 {
        let (a, b) = digits.split_at(point as usize);
        format!("{sign}{a}.{b}")
    } else {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    }
}

/// A name as words when no label is given: `treatment_death` → "treatment death".
pub fn words_of(name: &str) -> String {
    name.replace(['_', '-'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_percent_is_the_decimal_meant() {
        let p = DisplayScale::Percent;
        assert_eq!(p.to_model("20"), Some(0.2));
        assert_eq!(p.to_model("10.24"), Some(0.1024));
        assert_eq!(p.to_model(" 5 "), Some(0.05));
        assert_eq!(p.to_model("0.5"), Some(0.005));
        assert_eq!(p.to_model("-0"), Some(0.0));
        assert_eq!(p.to_model("1e1"), Some(0.1));
        assert_eq!(p.to_model(".5"), Some(0.005));
        assert_eq!(p.to_model("7."), Some(0.07));
        // The point moved in the text, not a division: 1.07 / 100 is 0.010700000000000001.
        assert_eq!(p.to_model("1.07"), Some(0.0107));
        assert_ne!(1.07 / 100.0, 0.0107);
        assert_eq!(DisplayScale::Per1000.to_model("25"), Some(0.025));
        assert_eq!(DisplayScale::AsWritten.to_model("0.35"), Some(0.35));
        for bad in
            ["", "-", ".", "1,5", "1.2.3", "inf", "NaN", "0x10", "1e", "1e+", "20%", "1 0", "1e9999999"]
        {
            assert_eq!(p.to_model(bad), None, "{bad:?}");
        }
        assert_eq!(p.to_model("1e400"), None, "not finite");
        assert_eq!(p.to_model("1e-400"), None, "not zero either");
        assert_eq!(p.to_model("0e-400"), Some(0.0));
    }

    #[test]
    fn shown_numbers_are_the_shortest_decimal_moved() {
        let p = DisplayScale::Percent;
        for (v, s) in
            [(0.1, "10"), (0.1024, "10.24"), (0.0632, "6.32"), (0.005, "0.5"), (1.0, "100"), (0.0, "0")]
        {
            assert_eq!(p.to_display(v), s, "{v}");
            assert_eq!(p.to_model(s), Some(v), "round trip of {v}");
        }
        assert_eq!(DisplayScale::AsWritten.to_display(156.0), "156");
        assert_eq!(DisplayScale::AsWritten.to_display(-0.35), "-0.35");
        assert_eq!(DisplayScale::Per100.to_display(0.000123), "0.0123");
        assert_eq!(DisplayScale::AsWritten.to_display(-0.0), "0");
        // Every double round-trips through its shown form.
        let mut x = 1e-9_f64;
        while x < 1e9 {
            for s in [DisplayScale::AsWritten, DisplayScale::Percent, DisplayScale::Per1000] {
                assert_eq!(s.to_model(&s.to_display(x)), Some(x), "{x} on {s:?}");
            }
            x *= 1.37;
        }
    }
}
