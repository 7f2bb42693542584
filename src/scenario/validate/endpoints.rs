//! `[endpoints]`: each endpoint is a non-empty set of causes named in some arm.

use super::super::Endpoint;
use super::super::error::{ErrorKind, Namespace};
use super::raw::{self, S};
use super::{Ctx, Result};

pub(super) fn endpoints(ctx: &Ctx, raw: &raw::RawScenario, causes: &[String]) -> Result<Vec<Endpoint>> {
    let mut out = Vec::new();
    if !raw.endpoints.get_ref().values().any(|e| matches!(e.get_ref(), raw::RawEndpoint::Causes(_))) {
        let kind =
            ErrorKind::Empty { expected: "at least one time-to-event endpoint (a list of causes)".into() };
        return Err(ctx.fail(raw.endpoints.span(), "endpoints", kind));
    }
    for (name, entry) in raw.endpoints.get_ref() {
        // Composites (`layers = [...]`) are read by `outcomes::composites`.
        let raw::RawEndpoint::Causes(list) = entry.get_ref() else { continue };
        let set = S::new(entry.span(), list);
        let key = format!("endpoints.{name}");
        ctx.name(&S::new(set.span(), name.clone()), &key)?;
        if set.get_ref().is_empty() {
            return Err(ctx.fail(
                set.span(),
                key,
                ErrorKind::Empty { expected: "at least one cause".into() },
            ));
        }
        let mut idx = Vec::new();
        for c in set.get_ref().iter() {
            let Some(ci) = causes.iter().position(|x| x == c.get_ref()) else {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Cause,
                    name: c.get_ref().clone(),
                    allowed: causes.to_vec(),
                };
                return Err(ctx.fail(c.span(), key, kind));
            };
            if idx.contains(&ci) {
                let kind = ErrorKind::Duplicate { item: format!("cause `{}`", c.get_ref()) };
                return Err(ctx.fail(c.span(), key, kind));
            }
            idx.push(ci);
        }
        idx.sort_unstable();
        out.push(Endpoint { name: name.clone(), causes: idx });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::error::{ErrorKind, Namespace};

    #[test]
    fn a_cause_no_arm_has() {
        assert_error(
            &edited(18, r#"efs = ["treatment_deth", "disease_death"]"#),
            ErrorKind::UnknownName {
                what: Namespace::Cause,
                name: "treatment_deth".into(),
                allowed: names(&["disease_death", "organ_failure", "treatment_death"]),
            },
            "endpoints.efs",
            (18, 8),
        );
    }

    #[test]
    fn a_cause_listed_twice() {
        assert_error(
            &edited(18, r#"efs = ["disease_death", "disease_death"]"#),
            ErrorKind::Duplicate { item: "cause `disease_death`".into() },
            "endpoints.efs",
            (18, 25),
        );
    }

    #[test]
    fn an_endpoint_without_causes() {
        assert_error(
            &edited(18, "efs = []"),
            ErrorKind::Empty { expected: "at least one cause".into() },
            "endpoints.efs",
            (18, 7),
        );
    }
}
