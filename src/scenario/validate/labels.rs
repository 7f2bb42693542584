//! `[labels]` (see `scenario::labels`): every name it gives exists, every key it gives is a number
//! the file writes, every text is one short line.

use std::collections::BTreeMap;

use super::super::Endpoint;
use super::super::error::{ErrorKind, Namespace};
use super::super::labels::{DisplayScale, Labels, MAX_LABEL_CHARS, NumberLabel};
use super::super::overrides::{steps, template_get};
use super::raw::{self, S};
use super::{Ctx, Result};

pub(super) fn labels(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    causes: &[String],
    endpoints: &[Endpoint],
) -> Result<Labels> {
    let Some(table) = &raw.labels else { return Ok(Labels::default()) };
    let table = table.get_ref();
    let endpoint_names: Vec<String> = endpoints.iter().map(|e| e.name.clone()).collect();
    let causes = names(ctx, table.causes.as_ref(), "labels.causes", causes, Namespace::Cause)?;
    let endpoints =
        names(ctx, table.endpoints.as_ref(), "labels.endpoints", &endpoint_names, Namespace::Endpoint)?;
    let mut numbers = BTreeMap::new();
    if let Some(n) = &table.numbers {
        // The file as plain TOML, to find each key's number as `sweep --set` does.
        let document: toml::Table = toml::from_str(ctx.text).map_err(|e| {
            ctx.err(n.span(), "labels.numbers", format!("the file does not read as TOML: {}", e.message()))
        })?;
        for (key, v) in n.get_ref() {
            let at = format!("labels.numbers.\"{key}\"");
            if steps(key).is_none() || template_get(&document, key).is_none() {
                return Err(ctx.err(
                    v.span(),
                    at,
                    format!(
                        "`{key}` is not a number this file writes: label the keys the explorer shows, e.g. \
                         \"design.n\" or \"arms.hsct.causes.treatment_death.early_risk.risk\""
                    ),
                ));
            }
            let v = v.get_ref();
            let scale = match &v.scale {
                Some(s) => Some(DisplayScale::parse(s.get_ref()).ok_or_else(|| {
                    ctx.out_of_range(
                        s.span(),
                        format!("{at}.scale"),
                        format!("one of {}", DisplayScale::NAMES.map(|n| format!("\"{n}\"")).join(", ")),
                        format!("{:?}", s.get_ref()),
                    )
                })?),
                None => None,
            };
            let label = v.label.as_ref().map(|l| text(ctx, l, &format!("{at}.label"))).transpose()?;
            let unit = v.unit.as_ref().map(|u| text(ctx, u, &format!("{at}.unit"))).transpose()?;
            numbers.insert(key.clone(), NumberLabel { label, unit, scale });
        }
    }
    Ok(Labels { causes, endpoints, numbers })
}

/// `[labels.causes]` or `[labels.endpoints]`: each name one of `allowed`.
fn names(
    ctx: &Ctx,
    table: Option<&S<BTreeMap<String, S<String>>>>,
    at: &str,
    allowed: &[String],
    what: Namespace,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, v) in table.map(|t| t.get_ref().iter()).into_iter().flatten() {
        let key = format!("{at}.{name}");
        if !allowed.contains(name) {
            let kind =
                ErrorKind::UnknownName { what: what.clone(), name: name.clone(), allowed: allowed.to_vec() };
            return Err(ctx.fail(v.span(), key, kind));
        }
        out.insert(name.clone(), text(ctx, v, &key)?);
    }
    Ok(out)
}

/// One line of 1 to [`MAX_LABEL_CHARS`] characters, without control characters: a label sits in
/// table cells, headings and sentences.
fn text(ctx: &Ctx, v: &S<String>, key: &str) -> Result<String> {
    let s = v.get_ref();
    let chars = s.chars().count();
    if s.trim().is_empty() || chars > MAX_LABEL_CHARS || s.chars().any(char::is_control) {
        return Err(ctx.out_of_range(
            v.span(),
            key,
            format!("one line of 1 to {MAX_LABEL_CHARS} characters, without control characters"),
            if chars > 40 { format!("{chars} characters") } else { format!("{s:?}") },
        ));
    }
    Ok(s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{appended, error, valid};

    #[test]
    fn labels_name_causes_endpoints_and_numbers() {
        let sc = valid(&appended(
            "[labels]\ncauses = { treatment_death = \"transplant-related death\" }\nendpoints = { efs = \"event-free survival\" }\n\
             [labels.numbers]\n\"arms.hsct.causes.treatment_death.early_risk.risk\" = { label = \"Transplant-related mortality\", scale = \"percent\" }\n\
             \"design.n\" = { unit = \"patients\" }",
        ));
        let k = sc.causes.iter().position(|c| c == "treatment_death").unwrap();
        assert_eq!(sc.cause_label(k), "transplant-related death");
        let d = sc.causes.iter().position(|c| c == "disease_death").unwrap();
        assert_eq!(sc.cause_label(d), "disease death", "the name in words by default");
        assert_eq!(sc.endpoint_label("efs"), "event-free survival");
        let n = &sc.labels.numbers["arms.hsct.causes.treatment_death.early_risk.risk"];
        assert_eq!(n.scale, Some(super::DisplayScale::Percent));
        assert_eq!(sc.labels.numbers["design.n"].unit.as_deref(), Some("patients"));
    }

    #[test]
    fn bad_labels_are_located_and_say_what_is_allowed() {
        for (table, key, says) in [
            ("[labels]\ncauses = { death = \"x\" }", "labels.causes.death", "cause `death` is in no arm"),
            ("[labels]\nendpoints = { pfs = \"x\" }", "labels.endpoints.pfs", "no endpoint named `pfs`"),
            (
                "[labels.numbers]\n\"design.m\" = { label = \"x\" }",
                "labels.numbers.\"design.m\"",
                "not a number this file writes",
            ),
            (
                "[labels.numbers]\n\"design.n\" = { scale = \"pct\" }",
                "labels.numbers.\"design.n\".scale",
                "\"percent\"",
            ),
            (
                "[labels.numbers]\n\"design.n\" = { label = \"\" }",
                "labels.numbers.\"design.n\".label",
                "one line",
            ),
            (
                "[labels]\ncauses = { treatment_death = \"a\\nb\" }",
                "labels.causes.treatment_death",
                "control characters",
            ),
            ("[labels]\ncolour = \"red\"", "labels", "unknown field `colour`"),
        ] {
            let e = error(&appended(table));
            let m = e.to_string();
            assert!(m.contains(says) && m.contains(key), "{table}: {m}");
            assert!(e.line_column().is_some(), "{m}");
        }
    }
}
