//! Every statistic against R `survival` (and `mvtnorm`) on the fixed datasets of
//! `tests/fixtures/survival.json`, made by `Rscript tests/reference/make_fixtures.R` (see
//! `tests/reference/README.md`). Agreement to 1e-8 relative (1e-12 absolute near zero); `null`
//! in the fixture (not estimable) must be NaN here.

use serde_json::Value;

use trialsim::scenario::Sides;
use trialsim::stats::RiskTable;
use trialsim::stats::cox::{CoxFit, Ties, cox, cox_periods};
use trialsim::stats::kaplan_meier::{KmPoint, km_at, milestone};
use trialsim::stats::logrank::{fleming_harrington, logrank};
use trialsim::stats::maxcombo::{DEFAULT_WEIGHTS, maxcombo};
use trialsim::stats::rmst::{rmst, rmst_difference};

fn fixtures() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/survival.json").expect("fixture file");
    serde_json::from_str(&text).expect("fixture JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// Agreement to `rel` relative, 1e-12 absolute near zero; NaN matches only NaN (null).
fn check(what: &str, ours: f64, reference: f64, rel: f64) {
    if reference.is_nan() || ours.is_nan() {
        assert!(reference.is_nan() && ours.is_nan(), "{what}: ours {ours}, R {reference}");
        return;
    }
    let tol = rel * reference.abs() + 1e-12;
    assert!(
        (ours - reference).abs() <= tol,
        "{what}: ours {ours}, R {reference} (diff {:e})",
        ours - reference
    );
}

struct Dataset {
    name: String,
    table: RiskTable,
    v: Value,
}

fn datasets() -> Vec<Dataset> {
    let f = fixtures();
    let list = f["datasets"].as_array().expect("datasets").clone();
    assert!(list.len() >= 20, "at least 20 datasets");
    list.into_iter()
        .map(|v| {
            let time = nums(&v["time"]);
            let event: Vec<bool> = nums(&v["event"]).iter().map(|&e| e == 1.0).collect();
            let arm: Vec<u8> = nums(&v["arm"]).iter().map(|&a| a as u8).collect();
            Dataset {
                name: v["name"].as_str().unwrap().to_string(),
                table: RiskTable::from_data(&time, &event, &arm),
                v,
            }
        })
        .collect()
}

const REL: f64 = 1e-8;

#[test]
fn logrank_and_fleming_harrington() {
    for d in datasets() {
        let lr = logrank(&d.table);
        let r = &d.v["logrank"];
        check(&format!("{} logrank u", d.name), lr.u, num(&r["u"]), REL);
        check(&format!("{} logrank v", d.name), lr.v, num(&r["v"]), REL);
        check(&format!("{} logrank z", d.name), lr.z, num(&r["z"]), REL);
        for f in d.v["fh"].as_array().unwrap() {
            let (rho, gamma) = (num(&f["rho"]), num(&f["gamma"]));
            let fh = fleming_harrington(&d.table, rho, gamma);
            let what = format!("{} fh({rho},{gamma})", d.name);
            check(&format!("{what} u"), fh.u, num(&f["u"]), REL);
            check(&format!("{what} v"), fh.v, num(&f["v"]), REL);
            check(&format!("{what} z"), fh.z, num(&f["z"]), REL);
        }
    }
}

#[test]
fn kaplan_meier_with_greenwood_se() {
    for d in datasets() {
        let horizons = nums(&d.v["horizons"]);
        for k in d.v["km"].as_array().unwrap() {
            let g = num(&k["arm"]) as usize;
            let mut out = vec![KmPoint { surv: 0.0, se: 0.0 }; horizons.len()];
            km_at(&d.table, g, &horizons, &mut out);
            for (i, p) in out.iter().enumerate() {
                check(&format!("{} km arm {g} at {}", d.name, horizons[i]), p.surv, num(&k["surv"][i]), REL);
                check(&format!("{} km se arm {g} at {}", d.name, horizons[i]), p.se, num(&k["se"][i]), REL);
            }
            check(&format!("{} last time arm {g}", d.name), d.table.last_time[g], num(&k["last_time"]), 0.0);
            let steps = nums(&k["steps"]["time"]);
            let mut at = vec![KmPoint { surv: 0.0, se: 0.0 }; steps.len()];
            km_at(&d.table, g, &steps, &mut at);
            for (i, p) in at.iter().enumerate() {
                check(
                    &format!("{} km step arm {g} at {}", d.name, steps[i]),
                    p.surv,
                    num(&k["steps"]["surv"][i]),
                    REL,
                );
            }
        }
    }
}

#[test]
fn rmst_and_milestone() {
    for d in datasets() {
        let tau = num(&d.v["tau"]);
        for r in d.v["rmst"].as_array().unwrap() {
            let g = num(&r["arm"]) as usize;
            let x = rmst(&d.table, g, tau);
            check(&format!("{} rmst arm {g}", d.name), x.rmst, num(&r["rmst"]), REL);
            check(&format!("{} rmst se arm {g}", d.name), x.se, num(&r["se"]), REL);
        }
        let diff = rmst_difference(&d.table, tau);
        let r = &d.v["rmst_diff"];
        check(&format!("{} rmst diff", d.name), diff.diff, num(&r["diff"]), REL);
        check(&format!("{} rmst diff se", d.name), diff.se, num(&r["se"]), REL);
        check(&format!("{} rmst diff z", d.name), diff.z, num(&r["z"]), REL);
        let m = milestone(&d.table, num(&d.v["milestone"]));
        let r = &d.v["milestone_stats"];
        check(&format!("{} milestone diff", d.name), m.diff, num(&r["diff"]), REL);
        check(&format!("{} milestone se", d.name), m.se, num(&r["se"]), REL);
        check(&format!("{} milestone z", d.name), m.z, num(&r["z"]), REL);
    }
}

#[test]
fn cox_breslow_efron_and_periods() {
    for d in datasets() {
        for (key, ties) in [("cox_efron", Ties::Efron), ("cox_breslow", Ties::Breslow)] {
            let f = cox(&d.table, ties);
            let r = &d.v[key];
            check(&format!("{} {key} log_hr", d.name), f.log_hr, num(&r["log_hr"]), REL);
            check(&format!("{} {key} se", d.name), f.se, num(&r["se"]), REL);
            check(&format!("{} {key} z", d.name), f.z, num(&r["z"]), REL);
        }
        let breaks = nums(&d.v["periods"]);
        let mut out = vec![CoxFit::NAN; breaks.len() + 1];
        cox_periods(&d.table, &breaks, Ties::Efron, &mut out);
        let r = &d.v["cox_periods"];
        for (k, f) in out.iter().enumerate() {
            check(&format!("{} cox_periods log_hr[{k}]", d.name), f.log_hr, num(&r["log_hr"][k]), REL);
            check(&format!("{} cox_periods se[{k}]", d.name), f.se, num(&r["se"][k]), REL);
        }
    }
}

#[test]
fn maxcombo_p_values() {
    let mut compared = 0;
    for d in datasets() {
        let r = &d.v["maxcombo"];
        let m = maxcombo(&d.table, &DEFAULT_WEIGHTS, Sides::One);
        if r.is_null() {
            assert!(m.z.is_nan(), "{}: R has no MaxCombo (a zero variance); ours z = {}", d.name, m.z);
            continue;
        }
        compared += 1;
        for (a, z) in m.components.iter().enumerate() {
            check(&format!("{} maxcombo z[{a}]", d.name), *z, num(&r["z"][a]), REL);
            for b in 0..4 {
                check(
                    &format!("{} maxcombo corr[{a}][{b}]", d.name),
                    m.corr[a * 4 + b],
                    num(&r["corr"][a][b]),
                    REL,
                );
            }
        }
        check(&format!("{} maxcombo z_min", d.name), m.z, num(&r["z_min"]), REL);
        // R's deterministic quadrature (≈1e-11) of the full singular 4-d probability; GenzBretz
        // (`p`, error ≤ 2e-6) agrees with it to its own error.
        let p = m.p_value(Sides::One);
        assert!((p - num(&r["p_quad"])).abs() < 1e-8, "{}: p {p} vs R {}", d.name, num(&r["p_quad"]));
        assert!((p - num(&r["p"])).abs() < 1e-6 + 3.0 * num(&r["p_error"]), "{}: p {p} vs GenzBretz", d.name);
        let two = maxcombo(&d.table, &DEFAULT_WEIGHTS, Sides::Two);
        let p2 = two.p_value(Sides::Two);
        assert!((p2 - num(&r["p2_quad"])).abs() < 1e-8, "{}: p2 {p2} vs R {}", d.name, num(&r["p2_quad"]));
    }
    assert!(compared >= 15, "MaxCombo compared on {compared} datasets");
}

#[test]
fn fixture_records_its_provenance() {
    let f = fixtures();
    assert_eq!(f["regenerate"], "Rscript tests/reference/make_fixtures.R");
    assert!(f["survival_version"].as_str().is_some());
}

/// The modestly weighted log-rank test and robust MW against `tests/fixtures/mw.json`
/// (`Rscript tests/reference/make_mw.R`: the pooled KM from `survfit`, the bivariate normal
/// probabilities from `mvtnorm::pmvnorm`'s deterministic Miwa algorithm) on the same datasets, at
/// s* = 0.5, 0.8, 1 and t* at each dataset's milestone.
#[test]
fn modestly_weighted_and_robust_mw() {
    use trialsim::stats::modestly_weighted::{Cap, modestly_weighted, robust_mw};
    let text = std::fs::read_to_string("tests/fixtures/mw.json").expect("mw fixture");
    let f: Value = serde_json::from_str(&text).expect("mw fixture JSON");
    assert_eq!(f["regenerate"], "Rscript tests/reference/make_mw.R");
    let reference = f["datasets"].as_array().expect("datasets");
    let ours = datasets();
    assert_eq!(reference.len(), ours.len(), "one entry per dataset of survival.json");
    let (mut mw_compared, mut robust_compared) = (0, 0);
    for (d, r) in ours.iter().zip(reference) {
        assert_eq!(r["name"].as_str(), Some(d.name.as_str()));
        for c in r["caps"].as_array().expect("caps") {
            let (cap, label) = match (c["s_star"].as_f64(), c["t_star"].as_f64()) {
                (Some(s), _) => (Cap::Survival(s), format!("s*={s}")),
                (None, Some(t)) => (Cap::Time(t), format!("t*={t}")),
                _ => panic!("{}: a cap without s_star or t_star", d.name),
            };
            let what = |part: &str| format!("{} mw({label}) {part}", d.name);
            let mw = modestly_weighted(&d.table, cap);
            check(&what("u"), mw.u, num(&c["mw"]["u"]), REL);
            check(&what("v"), mw.v, num(&c["mw"]["v"]), REL);
            check(&what("z"), mw.z, num(&c["mw"]["z"]), REL);
            mw_compared += 1;
            let (one, two) = (robust_mw(&d.table, cap, Sides::One), robust_mw(&d.table, cap, Sides::Two));
            let rb = &c["robust"];
            if rb.is_null() {
                assert!(
                    one.z.is_nan(),
                    "{}: R has no robust MW (a zero variance); ours {}",
                    what("robust"),
                    one.z
                );
                continue;
            }
            check(&what("robust corr"), one.corr[1], num(&rb["corr"]), REL);
            check(&what("robust z"), one.z, num(&rb["z"]), REL);
            check(&what("robust z2"), two.z, num(&rb["z2"]), REL);
            check(&what("robust p"), one.p_value(Sides::One), num(&rb["p"]), REL);
            check(&what("robust p2"), two.p_value(Sides::Two), num(&rb["p2"]), REL);
            robust_compared += 1;
        }
    }
    assert!(
        mw_compared >= 80 && robust_compared >= 60,
        "compared {mw_compared} MW, {robust_compared} robust"
    );
}

/// Each arm's Weibull (survreg) and piecewise-exponential fit, and their extrapolated RMST with
/// its delta-method variance, against `tests/fixtures/extrapolation.json`
/// (`Rscript tests/reference/make_extrapolation.R`). Fits agree to 1e-6 in the intercept and
/// log(scale) (the bar; survreg stops at a relative log-likelihood change of 1e-12), and
/// a fit R gives is one we give.
#[test]
fn extrapolation_models_agree_with_survreg() {
    use trialsim::scenario::ExtrapolationMethod;
    use trialsim::stats::extrapolation::{ArmFit, fit_arm};
    use trialsim::stats::weibull_fit;
    let text = std::fs::read_to_string("tests/fixtures/extrapolation.json").expect("extrapolation fixture");
    let f: Value = serde_json::from_str(&text).expect("extrapolation fixture JSON");
    assert_eq!(f["regenerate"], "Rscript tests/reference/make_extrapolation.R");
    let (mut weibulls, mut pieces) = (0, 0);
    for d in f["datasets"].as_array().expect("datasets") {
        let name = d["name"].as_str().unwrap();
        let (time, event, arm) = (nums(&d["time"]), nums(&d["event"]), nums(&d["arm"]));
        let cuts = nums(&d["cuts"]);
        let taus = nums(&d["taus"]);
        for a in d["arms"].as_array().unwrap() {
            let g = num(&a["arm"]);
            let idx: Vec<usize> = (0..time.len()).filter(|&i| arm[i] == g).collect();
            let t: Vec<f64> = idx.iter().map(|&i| time[i]).collect();
            let e: Vec<bool> = idx.iter().map(|&i| event[i] == 1.0).collect();
            let what = |x: &str| format!("{name} arm {g} {x}");
            let ours = weibull_fit::fit(&t, &e);
            match (&a["weibull"], ours) {
                (Value::Null, Err(_)) => {}
                (Value::Null, Ok(w)) => {
                    // R refused (no event, or survreg warned): ours must have no more than one event.
                    let events = e.iter().filter(|&&x| x).count();
                    assert!(events <= 1, "{}: R has no fit, ours {w:?}", what("weibull"));
                }
                (r, Err(why)) => panic!("{}: R fitted {r}, ours {why:?}", what("weibull")),
                (r, Ok(w)) => {
                    assert!(
                        (w.intercept - num(&r["mu"])).abs() < 1e-6,
                        "{}: {} vs {}",
                        what("mu"),
                        w.intercept,
                        r["mu"]
                    );
                    assert!(
                        (w.log_scale - num(&r["log_scale"])).abs() < 1e-6,
                        "{}: {} vs {}",
                        what("log scale"),
                        w.log_scale,
                        r["log_scale"]
                    );
                    // R's 2×2 matrix as jsonlite writes it, by rows.
                    let v = |i: usize, j: usize| num(&r["vcov"][i][j]);
                    for (k, (ours, theirs)) in w.cov.iter().zip([v(0, 0), v(0, 1), v(1, 1)]).enumerate() {
                        check(&what(&format!("cov[{k}]")), *ours, theirs, 1e-5);
                    }
                    // survreg's log-likelihood is on the time scale: −Σδ log t more.
                    let jacobian: f64 = t.iter().zip(&e).filter(|(_, e)| **e).map(|(t, _)| t.ln()).sum();
                    check(&what("loglik"), w.log_likelihood - jacobian, num(&r["loglik"]), 1e-9);
                    let fit = ArmFit::Weibull(w);
                    for (rm, &tau) in a["rmst"].as_array().unwrap().iter().zip(&taus) {
                        let (rmst, var) = fit.rmst(tau);
                        check(&what(&format!("rmst({tau})")), rmst, num(&rm["rmst"]), 1e-6);
                        check(&what(&format!("var rmst({tau})")), var, num(&rm["var"]), 1e-5);
                    }
                    weibulls += 1;
                }
            }
            let method = ExtrapolationMethod::PiecewiseExponential { cuts: cuts.clone() };
            match (&a["piecewise"], fit_arm(&method, &t, &e)) {
                (Value::Null, None) => {}
                (r, None) => panic!("{}: R fitted {r}, ours none", what("piecewise")),
                (Value::Null, Some(p)) => panic!("{}: R has none, ours {p:?}", what("piecewise")),
                (r, Some(p)) => {
                    let ArmFit::Piecewise { starts, log_rates, events } = &p else { panic!() };
                    assert_eq!(starts, &nums(&r["starts"]), "{}", what("piece starts"));
                    let d: Vec<f64> = events.iter().map(|&x| f64::from(x)).collect();
                    assert_eq!(d, nums(&r["events"]), "{}", what("piece events"));
                    for (lr, rate) in log_rates.iter().zip(nums(&r["rates"])) {
                        check(&what("rate"), lr.exp(), rate, 1e-12);
                    }
                    for (rm, &tau) in a["pe_rmst"].as_array().unwrap().iter().zip(&taus) {
                        let (rmst, var) = p.rmst(tau);
                        check(&what(&format!("pe rmst({tau})")), rmst, num(&rm["rmst"]), 1e-8);
                        check(&what(&format!("pe var rmst({tau})")), var, num(&rm["var"]), 1e-6);
                    }
                    pieces += 1;
                }
            }
        }
    }
    assert!(weibulls >= 40 && pieces >= 30, "compared {weibulls} Weibull and {pieces} piecewise fits");
}

/// The stratified tests against `tests/fixtures/strata.json` (`Rscript
/// tests/reference/make_strata.R`): the stratified log-rank and G^ρ tests against
/// `survdiff(… + strata(s), rho = ρ)`; FH(ρ, γ) with γ > 0 and MW against the script's own
/// per-stratum sums (each stratum's pooled KM from `survfit`), which it cross-checks against
/// `survdiff` at γ = 0; the stratified Cox model (Efron and Breslow) against
/// `coxph(… + strata(s))`. Datasets with 1–4 strata, ties, a stratum with one arm and one
/// without events.
#[test]
fn stratified_tests_agree_with_survdiff_and_coxph() {
    use trialsim::stats::cox::cox_stratified;
    use trialsim::stats::modestly_weighted::Cap;
    use trialsim::stats::stratified::{stratified_fh, stratified_logrank, stratified_mw};
    let text = std::fs::read_to_string("tests/fixtures/strata.json").expect("strata fixture");
    let f: Value = serde_json::from_str(&text).expect("strata fixture JSON");
    assert_eq!(f["regenerate"], "Rscript tests/reference/make_strata.R");
    let datasets = f["datasets"].as_array().expect("datasets");
    assert!(datasets.len() >= 9, "{} datasets", datasets.len());
    let mut compared = 0;
    for d in datasets {
        let name = d["name"].as_str().expect("name");
        let (time, event, arm, stratum) =
            (nums(&d["time"]), nums(&d["event"]), nums(&d["arm"]), nums(&d["stratum"]));
        let strata = stratum.iter().fold(0.0f64, |m, &s| m.max(s)) as usize + 1;
        let tables: Vec<RiskTable> = (0..strata)
            .map(|s| {
                let rows: Vec<usize> = (0..time.len()).filter(|&i| stratum[i] as usize == s).collect();
                let t: Vec<f64> = rows.iter().map(|&i| time[i]).collect();
                let e: Vec<bool> = rows.iter().map(|&i| event[i] == 1.0).collect();
                let a: Vec<u8> = rows.iter().map(|&i| arm[i] as u8).collect();
                RiskTable::from_data(&t, &e, &a)
            })
            .collect();
        let compare = |what: &str, ours: trialsim::stats::logrank::LogRank, r: &Value| {
            check(&format!("{name}: {what} u"), ours.u, num(&r["u"]), REL);
            check(&format!("{name}: {what} v"), ours.v, num(&r["v"]), REL);
            check(&format!("{name}: {what} z"), ours.z, num(&r["z"]), REL);
        };
        for r in d["survdiff"].as_array().expect("survdiff") {
            let rho = num(&r["rho"]);
            let ours =
                if rho == 0.0 { stratified_logrank(&tables) } else { stratified_fh(&tables, rho, 0.0) };
            compare(&format!("survdiff rho = {rho}"), ours, r);
            compared += 1;
        }
        for r in d["fh"].as_array().expect("fh") {
            let (rho, gamma) = (num(&r["rho"]), num(&r["gamma"]));
            compare(&format!("fh({rho},{gamma})[strata]"), stratified_fh(&tables, rho, gamma), r);
            compared += 1;
        }
        for r in d["mw"].as_array().expect("mw") {
            let cap = match (r["s_star"].as_f64(), r["t_star"].as_f64()) {
                (Some(s), _) => Cap::Survival(s),
                (None, Some(t)) => Cap::Time(t),
                _ => panic!("{name}: a cap without s_star or t_star"),
            };
            compare(&format!("mw[strata] {cap:?}"), stratified_mw(&tables, cap), r);
            compared += 1;
        }
        for (ties, key) in [(Ties::Efron, "efron"), (Ties::Breslow, "breslow")] {
            let (ours, r) = (cox_stratified(&tables, ties), &d["cox"][key]);
            check(&format!("{name}: cox[strata] {key} log HR"), ours.log_hr, num(&r["log_hr"]), REL);
            check(&format!("{name}: cox[strata] {key} se"), ours.se, num(&r["se"]), REL);
            check(&format!("{name}: cox[strata] {key} z"), ours.z, num(&r["z"]), REL);
            compared += 1;
        }
    }
    assert!(compared >= 9 * 14, "compared {compared}");
}

/// The win statistics of hierarchical composites against `tests/fixtures/win.json` (`Rscript
/// tests/reference/make_win.R`): every pair enumerated by the script's own double loop with the
/// Finkelstein–Schoenfeld rule, on datasets with censoring, tied times, missing assessments,
/// margins, unequal arms, and one where the experimental arm never loses (WR not estimable).
/// Counts exactly; every ratio, share, z and SE to 1e-12 relative.
#[test]
fn win_statistics_agree_with_brute_force_pairs() {
    use trialsim::stats::win::{Layer, WinData, WinScratch, WinStats, win_statistics};
    let text = std::fs::read_to_string("tests/fixtures/win.json").expect("win fixture");
    let f: Value = serde_json::from_str(&text).expect("win fixture JSON");
    assert_eq!(f["regenerate"], "Rscript tests/reference/make_win.R");
    let datasets = f["datasets"].as_array().expect("datasets");
    assert!(datasets.len() >= 9, "{} datasets", datasets.len());
    let mut ws = WinScratch::default();
    for d in datasets {
        let name = d["name"].as_str().expect("name");
        let group = nums(&d["group"]);
        let layers: Vec<Layer> = d["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| match l["kind"].as_str() {
                Some("event") => Layer::Event,
                _ => Layer::Continuous { margin: num(&l["margin"]) },
            })
            .collect();
        // The statistic wants experimental patients first.
        let order: Vec<usize> = (0..group.len())
            .filter(|&i| group[i] == 1.0)
            .chain((0..group.len()).filter(|&i| group[i] == 0.0))
            .collect();
        let mut data = WinData::default();
        data.clear(&layers);
        data.experimental = group.iter().filter(|&&g| g == 1.0).count();
        data.control = group.len() - data.experimental;
        for l in 0..layers.len() {
            let (v, e) = (nums(&d["value"][l]), &d["event"][l]);
            for &i in &order {
                data.value[l].push(v[i]);
                data.event[l].push(e[i].as_bool().expect("event"));
            }
        }
        let mut out = WinStats::default();
        win_statistics(&data, &mut ws, &mut out);
        let x = &d["expected"];
        let counts = |v: &Value| nums(v).into_iter().map(|c| c as u64).collect::<Vec<_>>();
        assert_eq!(
            (out.wins, out.losses, out.ties),
            (num(&x["wins"]) as u64, num(&x["losses"]) as u64, num(&x["ties"]) as u64),
            "{name}"
        );
        assert_eq!(out.layer_wins, counts(&x["layer_wins"]), "{name}: wins per layer");
        assert_eq!(out.layer_losses, counts(&x["layer_losses"]), "{name}: losses per layer");
        for (what, ours, key) in [
            ("win ratio", out.win_ratio, "win_ratio"),
            ("win odds", out.win_odds, "win_odds"),
            ("net benefit", out.net_benefit, "net_benefit"),
            ("share of all pairs", out.share_all, "share_all"),
            ("share of decided pairs", out.share_decided, "share_decided"),
            ("FS z", out.z, "z"),
            ("SE of log WR", out.log_wr_se, "log_wr_se"),
        ] {
            check(&format!("{name}: {what}"), ours, num(&x[key]), 1e-12);
        }
    }
}
