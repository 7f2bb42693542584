//! Bad scenarios through the real binary: each gives one message naming file:line:column, the
//! key, and what is allowed; exit code 2; nothing written; no panic.

use std::path::Path;

use assert_cmd::Command;

const BASE: &str = r#"name = "bad"
[design]
n = 100
control = "cyc"
allocation = { cyc = 1, hsct = 1 }
block_size = 4
accrual = { duration = 2 }
[design.cut]
calendar = 5
[arms.cyc.causes]
disease_death = { piecewise = { breaks = [1, 2], rates = [0.1, 0.08, 0.05] } }
organ_failure = { exponential = 0.02 }
[arms.hsct.causes]
treatment_death = { early_risk = { risk = 0.1, within = 0.25 } }
disease_death = { relative = { to = "cyc", breaks = [1], hr = [0.6, 0.2] } }
organ_failure = { relative = { to = "cyc", hr = 0.5 } }
[endpoints]
efs = ["treatment_death", "disease_death", "organ_failure"]
[analysis]
endpoint = "efs"
alpha = 0.025
tests = ["logrank", "rmst"]
tau = 3
horizons = [1, 2]
"#;

/// (case, line to replace (1-based) and its new text, expected line in the message, fragments
/// the message must contain).
struct Case {
    name: &'static str,
    edit: Option<(usize, &'static str)>,
    line: usize,
    expect: &'static [&'static str],
}

fn edited(edit: Option<(usize, &str)>) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    if let Some((l, text)) = edit {
        lines[l - 1] = text;
    }
    lines.join("\n") + "\n"
}

const CASES: &[Case] = &[
    Case {
        name: "Kaplan–Meier target outside [0, 1]",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"s\"\nkind = \"survival\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 2\nvalue = 1.2\nci = [0.5, 0.9]",
        )),
        line: 31,
        expect: &["`targets[0].value`", "a probability in [0, 1]", "1.2"],
    },
    Case {
        name: "target CI that does not contain the value",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"s\"\nkind = \"survival\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 2\nvalue = 0.95\nci = [0.5, 0.9]",
        )),
        line: 32,
        expect: &["`targets[0].ci`", "does not contain the value 0.95"],
    },
    Case {
        name: "target names an unknown cause",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"c\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\ncauses = [\"progresion\"]\nvalue = 3",
        )),
        line: 30,
        expect: &[
            "`targets[0].causes[0]`",
            "`progresion` is not a cause of endpoint `efs`",
            "`organ_failure`",
        ],
    },
    Case {
        name: "target names an unknown arm",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"c\"\nkind = \"count\"\narm = \"placebo\"\nendpoint = \"efs\"\nvalue = 3",
        )),
        line: 28,
        expect: &["`targets[0].arm`", "no allocated arm named `placebo`", "`hsct`"],
    },
    Case {
        name: "count larger than the arm",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"c\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\nvalue = 51",
        )),
        line: 30,
        expect: &["`targets[0].value`", "from 0 to 50", "51"],
    },
    Case {
        name: "free key that does not exist",
        edit: Some((
            24,
            "horizons = [1, 2]\n[calibrate.free.x]\nkeys = [\"arms.hsct.causes.nothing.exponential\"]\nbounds = [0, 1]",
        )),
        line: 26,
        expect: &["`calibrate.free.x`", "no `arms.hsct.causes.nothing`"],
    },
    Case {
        name: "free key that is not a number",
        edit: Some((
            24,
            "horizons = [1, 2]\n[calibrate.free.x]\nkeys = [\"design.control\"]\nbounds = [0, 1]",
        )),
        line: 26,
        expect: &["`calibrate.free.x`", "not a number"],
    },
    Case {
        name: "free parameter bounds reversed",
        edit: Some((
            24,
            "horizons = [1, 2]\n[calibrate.free.x]\nkeys = [\"arms.cyc.causes.organ_failure.exponential\"]\nbounds = [1, 0]",
        )),
        line: 27,
        expect: &["`calibrate.free.x.bounds`", "lower < upper", "[1, 0]"],
    },
    Case {
        name: "count among more patients than the arm has",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"c\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\npatients = 60\nvalue = 3",
        )),
        line: 30,
        expect: &["`targets[0].patients`", "from 1 to 50", "60"],
    },
    Case {
        name: "split larger than the cells it splits",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"a\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\nvalue = 3\n[[targets]]\nname = \"b\"\nkind = \"count\"\nrole = \"split\"\narm = \"hsct\"\nendpoint = \"efs\"\ncauses = [\"organ_failure\"]\nvalue = 5",
        )),
        line: 31,
        expect: &["`targets[1]`", "split `b`", "5 events, but the cells it splits hold only 3"],
    },
    Case {
        name: "split whose cells do not cover its interval",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"a\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\nto = 1\nvalue = 3\n[[targets]]\nname = \"b\"\nkind = \"count\"\nrole = \"split\"\narm = \"hsct\"\nendpoint = \"efs\"\ncauses = [\"organ_failure\"]\nvalue = 1",
        )),
        line: 32,
        expect: &["`targets[1]`", "split `b`", "no cell of its arm and endpoint covers (1, inf]"],
    },
    Case {
        name: "overlapping likelihood cells",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"a\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\nvalue = 3\n[[targets]]\nname = \"b\"\nkind = \"count\"\narm = \"hsct\"\nendpoint = \"efs\"\nto = 1\nvalue = 2",
        )),
        line: 31,
        expect: &["`targets[1]`", "count some of the same patients", "role = \"check\""],
    },
    Case {
        name: "the same hazard ratio fitted twice",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"a\"\nkind = \"hazard_ratio\"\nendpoint = \"efs\"\nafter = 1\nvalue = 0.35\nci = [0.16, 0.74]\n[[targets]]\nname = \"b\"\nkind = \"hazard_ratio\"\nendpoint = \"efs\"\nafter = 1\nvalue = 0.34\nci = [0.16, 0.74]",
        )),
        line: 32,
        expect: &["`targets[1]`", "`b` and `a` are the same figure", "role = \"check\""],
    },
    Case {
        name: "survival and failure at one time fitted both",
        edit: Some((
            24,
            "horizons = [1, 2]\n[[targets]]\nname = \"s\"\nkind = \"survival\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 1\nvalue = 0.8\nci = [0.7, 0.9]\n[[targets]]\nname = \"f\"\nkind = \"failure\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 1\nvalue = 0.2\nci = [0.1, 0.3]",
        )),
        line: 33,
        expect: &["`targets[1]`", "`f` and `s` are the same figure"],
    },
    Case {
        name: "illness–death factor names a cause the arm lacks",
        edit: Some((
            16,
            concat!(
                "organ_failure = { relative = { to = \"cyc\", hr = 0.5 } }\n",
                "[arms.hsct.after.organ_failure]\ndisease_deth = 2"
            ),
        )),
        line: 18,
        expect: &[
            "`arms.hsct.after.organ_failure.disease_deth`",
            "not a cause of arm `hsct`",
            "`disease_death`",
        ],
    },
    Case {
        name: "negative illness–death factor",
        edit: Some((
            16,
            concat!(
                "organ_failure = { relative = { to = \"cyc\", hr = 0.5 } }\n",
                "[arms.hsct.after.organ_failure]\ndisease_death = -1"
            ),
        )),
        line: 18,
        expect: &[
            "`arms.hsct.after.organ_failure.disease_death`",
            "a hazard multiplier from 0 to 1000",
            "-1",
        ],
    },
    Case {
        name: "illness–death factor too large for the truth's state equations",
        edit: Some((
            16,
            concat!(
                "organ_failure = { relative = { to = \"cyc\", hr = 0.5 } }\n",
                "[arms.hsct.after.organ_failure]\ndisease_death = 1e6"
            ),
        )),
        line: 18,
        expect: &["`arms.hsct.after.organ_failure.disease_death`", "from 0 to 1000", "1000000"],
    },
    Case {
        name: "unknown key",
        edit: Some((21, "alpah = 0.025")),
        line: 21,
        expect: &["`analysis.alpah`", "unknown field `alpah`", "`alpha`"],
    },
    Case {
        name: "misspelt cause in an endpoint",
        edit: Some((18, r#"efs = ["treatment_deth", "disease_death"]"#)),
        line: 18,
        expect: &["`endpoints.efs`", "`treatment_deth` is in no arm", "`treatment_death`"],
    },
    Case {
        name: "negative rate",
        edit: Some((12, "organ_failure = { exponential = -0.02 }")),
        line: 12,
        expect: &["`arms.cyc.causes.organ_failure.exponential`", "expected a rate ≥ 0, found -0.02"],
    },
    Case {
        name: "risk outside [0, 1)",
        edit: Some((14, "treatment_death = { early_risk = { risk = 1.0, within = 0.25 } }")),
        line: 14,
        expect: &["`arms.hsct.causes.treatment_death.early_risk.risk`", "[0, 1)", "found 1"],
    },
    Case {
        name: "breaks not increasing",
        edit: Some((11, "disease_death = { piecewise = { breaks = [2, 1], rates = [0.1, 0.08, 0.05] } }")),
        line: 11,
        expect: &["`arms.cyc.causes.disease_death.piecewise.breaks[1]`", "strictly increasing"],
    },
    Case {
        name: "rates and breaks lengths differ",
        edit: Some((11, "disease_death = { piecewise = { breaks = [1, 2], rates = [0.1, 0.08] } }")),
        line: 11,
        expect: &["`arms.cyc.causes.disease_death.piecewise.rates`", "expected 3 values", "found 2"],
    },
    Case {
        name: "relative to an unknown arm",
        edit: Some((16, r#"organ_failure = { relative = { to = "cy", hr = 0.5 } }"#)),
        line: 16,
        expect: &["`arms.hsct.causes.organ_failure.relative.to`", "no arm named `cy`", "`cyc`, `hsct`"],
    },
    Case {
        name: "relative to itself",
        edit: Some((16, r#"organ_failure = { relative = { to = "hsct", hr = 0.5 } }"#)),
        line: 16,
        expect: &["`arms.hsct.causes.organ_failure.relative.to`", "relative to itself"],
    },
    Case {
        name: "relative to a relative cause",
        edit: Some((12, r#"organ_failure = { relative = { to = "hsct", hr = 2 } }"#)),
        line: 12,
        expect: &["`arms.cyc.causes.organ_failure.relative.to`", "is itself relative", "must be absolute"],
    },
    Case {
        name: "endpoint names a cause no arm has",
        edit: Some((18, r#"efs = ["progression"]"#)),
        line: 18,
        expect: &["`endpoints.efs`", "cause `progression` is in no arm"],
    },
    Case {
        name: "control is not an arm",
        edit: Some((4, r#"control = "placebo""#)),
        line: 4,
        expect: &["`design.control`", "no arm named `placebo`"],
    },
    Case { name: "n < 2", edit: Some((3, "n = 1")), line: 3, expect: &["`design.n`", "from 2", "found 1"] },
    Case {
        name: "block size not a multiple of the allocation sum",
        edit: Some((6, "block_size = 3")),
        line: 6,
        expect: &["`design.block_size`", "multiple of the allocation sum 2", "found 3"],
    },
    Case {
        name: "unknown test name",
        edit: Some((22, r#"tests = ["logrank", "logrnak"]"#)),
        line: 22,
        expect: &["`analysis.tests`", "unknown test \"logrnak\"", "allowed: logrank"],
    },
    Case {
        name: "misspelt hazard form",
        edit: Some((12, "organ_failure = { exponentail = 0.02 }")),
        line: 12,
        expect: &["`arms.cyc.causes.organ_failure`", "unknown variant `exponentail`", "exponential"],
    },
    Case {
        name: "alpha out of range",
        edit: Some((21, "alpha = 1.5")),
        line: 21,
        expect: &["`analysis.alpha`", "(0, 0.5]", "found 1.5"],
    },
    Case {
        name: "sides not 1 or 2",
        edit: Some((21, "sides = 3")),
        line: 21,
        expect: &["`analysis.sides`", "1 or 2"],
    },
    Case {
        name: "wrong type",
        edit: Some((3, r#"n = "many""#)),
        line: 3,
        expect: &["`design.n`", "invalid type", "expected an integer"],
    },
    Case {
        name: "allocation to an unknown arm",
        edit: Some((5, "allocation = { cyc = 1, hsc = 1 }")),
        line: 5,
        expect: &["`design.allocation.hsc`", "no arm named `hsc`"],
    },
    Case {
        name: "horizons not increasing",
        edit: Some((24, "horizons = [2, 1]")),
        line: 24,
        expect: &["`analysis.horizons[1]`", "strictly increasing"],
    },
    Case {
        name: "rmst without tau",
        edit: Some((23, "")),
        line: 22,
        expect: &["`analysis.tau`", "needs `analysis.tau`"],
    },
    Case {
        name: "MaxCombo weights spanning more than 3 dimensions",
        edit: Some((
            24,
            "horizons = [1, 2]\n[analysis.maxcombo]\nweights = [[0,0],[0,1],[1,0],[0.5,0.5],[0,3]]",
        )),
        line: 26,
        expect: &["`analysis.maxcombo.weights`", "span 4 dimensions", "at most 3"],
    },
    Case {
        name: "hazard ratios and breaks lengths differ",
        edit: Some((15, r#"disease_death = { relative = { to = "cyc", breaks = [1], hr = [0.6] } }"#)),
        line: 15,
        expect: &["`arms.hsct.causes.disease_death.relative.hr`", "expected 2 hazard ratios"],
    },
];

/// `trialsim run path --out out` refused: exit 2, one message naming `path` (at `line` when given)
/// and holding every `expect`, no panic, nothing written. Other modules' bad tables use it too.
pub(crate) fn check(path: &Path, out: &Path, line: Option<usize>, expect: &[&str], name: &str) {
    let assert = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(!stderr.contains("panicked"), "{name}: panicked\n{stderr}");
    assert!(stderr.starts_with("error"), "{name}: one error message expected\n{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{name}: exactly one message\n{stderr}"
    );
    let place = match line {
        Some(l) => format!("{}:{l}:", path.display()),
        None => path.display().to_string(),
    };
    assert!(stderr.contains(&place), "{name}: no `{place}` in\n{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{name}: no `{e}` in\n{stderr}");
    }
    assert!(!out.exists(), "{name}: something was written to {}", out.display());
}

#[test]
fn the_base_scenario_is_valid() {
    // Otherwise every case below would fail for the wrong reason.
    trialsim::scenario::Scenario::from_toml(BASE, Path::new("base.toml")).expect("BASE is valid");
}

#[test]
fn bad_scenarios_give_one_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    assert!(CASES.len() >= 15);
    for (i, case) in CASES.iter().enumerate() {
        let path = dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, edited(case.edit)).unwrap();
        check(&path, &dir.path().join(format!("out{i}")), Some(case.line), case.expect, case.name);
    }
}

#[test]
fn empty_file_not_toml_and_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    check(&empty, &dir.path().join("o1"), Some(1), &["missing field `name`"], "empty file");
    let garbage = dir.path().join("garbage.toml");
    std::fs::write(&garbage, "name = \"x\"\n[design\nn = 3\n").unwrap();
    check(&garbage, &dir.path().join("o2"), Some(2), &["unclosed table"], "not TOML");
    let missing = dir.path().join("missing.toml");
    check(&missing, &dir.path().join("o3"), None, &["cannot read the scenario"], "missing file");
}

#[test]
fn bad_arguments_exit_2() {
    for args in
        [&["run", "scenarios/ph.toml", "--reps", "0"][..], &["run", "scenarios/ph.toml", "--threads", "0"]]
    {
        Command::cargo_bin("trialsim").unwrap().args(args).assert().code(2);
    }
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", "scenarios/ph.toml", "--reps", "-3"])
        .assert()
        .code(2);
}

/// Bad `[strata]` tables (issue 28): each gives one located message, exit 2, nothing written.
/// (edits as (line, new text), applied to BASE; expected line; fragments.)
#[test]
fn bad_strata_give_one_clear_message() {
    const STRATIFIED: (usize, &str) = (6, "block_size = 4\nrandomisation = \"stratified_blocks\"");
    let strata = |text: &'static str| (24, text);
    type Edits = Vec<(usize, &'static str)>;
    let cases: &[(&str, Edits, usize, &[&str])] = &[
        (
            "shares not adding up to 1",
            vec![strata("horizons = [1, 2]\n[strata.a]\nshare = 0.3\n[strata.b]\nshare = 0.6")],
            25,
            &["`strata`", "shares that add up to 1 (within 1e-9)", "0.8999"],
        ),
        (
            "a negative share",
            vec![strata("horizons = [1, 2]\n[strata.a]\nshare = -0.2\n[strata.b]\nshare = 1.2")],
            26,
            &["`strata.a.share`", "a share from 0 to 1", "-0.2"],
        ),
        (
            "an override of an unknown arm",
            vec![strata(
                "horizons = [1, 2]\n[strata.a]\nshare = 0.5\narms.hsc.dropout = 0.1\n[strata.b]\nshare = 0.5",
            )],
            27,
            &["`strata.a.arms.hsc`", "no arm named `hsc`", "`cyc`, `hsct`"],
        ),
        (
            "an override of a cause the arm does not have",
            vec![strata(
                "horizons = [1, 2]\n[strata.a]\nshare = 0.5\narms.hsct.causes.treatment_deth = { early_risk = { risk = 0.2, within = 0.25 } }\n[strata.b]\nshare = 0.5",
            )],
            27,
            &["`strata.a.arms.hsct.causes.treatment_deth`", "not a cause of arm `hsct`", "`treatment_death`"],
        ),
        (
            "an unknown key in a stratum",
            vec![strata("horizons = [1, 2]\n[strata.a]\nshares = 0.5\n[strata.b]\nshare = 0.5")],
            26,
            &["`strata.a.shares`", "unknown field `shares`", "`share`, `count`"],
        ),
        (
            "a bad value in a stratum's hazard",
            vec![strata(
                "horizons = [1, 2]\n[strata.a]\nshare = 0.5\narms.hsct.causes.treatment_death = { early_risk = { risk = 1.2, within = 0.25 } }\n[strata.b]\nshare = 0.5",
            )],
            27,
            &["`strata.a.arms.hsct.causes.treatment_death.early_risk.risk`", "a risk in [0, 1)", "1.2"],
        ),
        (
            "a stratum name that is not an identifier",
            vec![strata("horizons = [1, 2]\n[strata.\"high risk\"]\nshare = 0.5\n[strata.b]\nshare = 0.5")],
            25,
            &["`strata.high risk`", "letters, digits", "\"high risk\""],
        ),
        (
            "counts that leave an arm of a present stratum empty",
            vec![STRATIFIED, strata("horizons = [1, 2]\n[strata.a]\ncount = 2\n[strata.b]\ncount = 98")],
            27,
            &["`strata.a.count`", "at least 4", "one whole block", "found 2"],
        ),
        (
            "counts that do not add up to n",
            vec![strata("horizons = [1, 2]\n[strata.a]\ncount = 20\n[strata.b]\ncount = 70")],
            25,
            &["`strata`", "counts that add up to design.n = 100", "a total of 90"],
        ),
        (
            "an empty strata table",
            vec![strata("horizons = [1, 2]\n[strata]")],
            25,
            &["`strata`", "at least one `[strata.NAME]` table", "found an empty `[strata]`"],
        ),
        (
            "a share and a count",
            vec![strata("horizons = [1, 2]\n[strata.a]\nshare = 0.5\ncount = 50\n[strata.b]\nshare = 0.5")],
            25,
            &["`strata.a`", "either `share`", "or `count`"],
        ),
        (
            "randomisation within strata without strata",
            vec![STRATIFIED],
            7,
            &["`design.randomisation`", "add [strata.NAME] tables"],
        ),
        (
            "an unknown randomisation",
            vec![(6, "block_size = 4\nrandomisation = \"strata\"")],
            7,
            &["`design.randomisation`", "\"blocks\" or \"stratified_blocks\"", "\"strata\""],
        ),
        (
            "a stratified test without strata",
            vec![(22, "tests = [\"logrank[strata]\", \"rmst\"]")],
            22,
            &["`analysis.tests[0]`", "`logrank[strata]`", "add [strata.NAME] tables"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, edits, line, expect)) in cases.iter().enumerate() {
        let mut lines: Vec<&str> = BASE.lines().collect();
        for &(l, text) in edits {
            lines[l - 1] = text;
        }
        let path = dir.path().join(format!("strata{i}.toml"));
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        check(&path, &dir.path().join(format!("out{i}")), Some(*line), expect, name);
    }
}

/// Bad outcome, assessment and hierarchy tables (issue 29), each an edit of
/// scenarios/scot_design.toml: exit 2, one message at the edited line naming the key and what is
/// allowed, nothing written.
#[test]
fn bad_outcomes_and_hierarchies_give_one_clear_message() {
    let base = std::fs::read_to_string("scenarios/scot_design.toml").unwrap();
    // (name, text replaced, replacement, the text whose line the message points at, expected)
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "an unknown endpoint in a layer",
            "{ endpoint = \"os\", until = 4.5 }",
            "{ endpoint = \"overall\", until = 4.5 }",
            "\"overall\"",
            &["`endpoints.gcrs.layers[0].endpoint`", "no endpoint named `overall`", "`efs`, `os`"],
        ),
        (
            "an unknown outcome in a layer",
            "{ outcome = \"haq\", at = 4.5, margin = 0.22 }",
            "{ outcome = \"haqdi\", at = 4.5, margin = 0.22 }",
            "\"haqdi\"",
            &["`endpoints.gcrs.layers[3].outcome`", "no outcome named `haqdi`", "`fvc`, `haq`, `mrss`"],
        ),
        (
            "an unknown outcome in an arm",
            "haq = { mean = [-0.10, -0.15, -0.20], sd = 0.6 }",
            "haq_di = { mean = [-0.10, -0.15, -0.20], sd = 0.6 }",
            "haq_di",
            &["`arms.cyc.outcomes.haq_di`", "no outcome named `haq_di`"],
        ),
        (
            "an assessment beyond follow-up",
            "at = [1.0, 2.0, 4.5]",
            "at = [1.0, 2.0, 11.0]",
            "at = [1.0, 2.0, 11.0]",
            &["`assessments.at[2]`", "no later than the longest follow-up", "10.5", "11"],
        ),
        (
            "a layer at a time that is not an assessment",
            "{ outcome = \"fvc\", at = 4.5, margin = 5 }",
            "{ outcome = \"fvc\", at = 4.0, margin = 5 }",
            "at = 4.0",
            &["`endpoints.gcrs.layers[2].at`", "not an assessment time", "1, 2, 4.5"],
        ),
        (
            "a correlation matrix that is not positive definite",
            "{ between = [\"fvc\", \"mrss\"], r = -0.2 }",
            "{ between = [\"fvc\", \"mrss\"], r = 0.95 }",
            "correlations = [",
            &["`assessments.correlations`", "not positive definite"],
        ),
        (
            "a correlation of 1",
            "{ between = [\"mrss\", \"haq\"], r = 0.4 }",
            "{ between = [\"mrss\", \"haq\"], r = 1.0 }",
            "r = 1.0",
            &["`assessments.correlations[0].r`", "between −1 and 1", "1"],
        ),
        (
            "a negative SD",
            "mrss = { mean = [-12.2, -13.2, -16.0], sd = 10.5 }",
            "mrss = { mean = [-12.2, -13.2, -16.0], sd = [10.5, -1.0, 10.5] }",
            "sd = [10.5, -1.0, 10.5]",
            &["`arms.hsct.outcomes.mrss.sd[1]`", "an SD ≥ 0", "-1"],
        ),
        (
            "means not one per assessment",
            "fvc = { mean = [0.0, 1.0, 1.0], sd = 10.0 }",
            "fvc = { mean = [0.0, 1.0], sd = 10.0 }",
            "mean = [0.0, 1.0]",
            &["`arms.hsct.outcomes.fvc.mean`", "one number, or 3 (one per assessment)", "2 numbers"],
        ),
        (
            "an arm without an outcome",
            "fvc = { mean = [-1.0, -2.0, -3.0], sd = 10.0 }\n",
            "",
            "[arms.cyc]",
            &["`arms.cyc.outcomes`", "every arm gives every outcome", "outcomes.fvc"],
        ),
        (
            "a negative margin",
            "{ outcome = \"mrss\", at = 4.5, margin = 5 }",
            "{ outcome = \"mrss\", at = 4.5, margin = -1 }",
            "margin = -1",
            &["`endpoints.gcrs.layers[4].margin`", "a margin ≥ 0", "-1"],
        ),
        (
            "an empty hierarchy",
            "layers = [\n  { endpoint = \"os\", until = 4.5 },\n  { endpoint = \"efs\", until = 4.5 },\n  { outcome = \"fvc\", at = 4.5, margin = 5 },\n  { outcome = \"haq\", at = 4.5, margin = 0.22 },\n  { outcome = \"mrss\", at = 4.5, margin = 5 },\n]",
            "layers = []",
            "layers = []",
            &["`endpoints.gcrs.layers`", "at least one layer"],
        ),
        (
            "too many layers",
            "layers = [\n  { endpoint = \"os\", until = 4.5 },",
            "layers = [\n  { endpoint = \"os\", until = 4.5 }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" }, { endpoint = \"os\" },",
            "layers = [",
            &["`endpoints.gcrs.layers`", "at most 16 layers", "found 17"],
        ),
        (
            "a layer with both an endpoint and an outcome",
            "{ endpoint = \"efs\", until = 4.5 }",
            "{ endpoint = \"efs\", outcome = \"fvc\" }",
            "outcome = \"fvc\" }",
            &["`endpoints.gcrs.layers[1]`", "exactly one of `endpoint` and `outcome`"],
        ),
        (
            "a win test of an unknown composite",
            "tests = [\"win(gcrs)\"",
            "tests = [\"win(grcs)\"",
            "win(grcs)",
            &["`analysis.tests`", "no endpoint named `grcs`", "`gcrs`"],
        ),
        (
            "outcomes without assessments",
            "[assessments]\nat = [1.0, 2.0, 4.5]\nover_time = 0.6\ncorrelations = [\n  { between = [\"mrss\", \"haq\"], r = 0.4 },\n  { between = [\"fvc\", \"haq\"], r = -0.3 },\n  { between = [\"fvc\", \"mrss\"], r = -0.2 },\n]\n",
            "",
            "[outcomes.fvc]",
            &["`assessments`", "an `[assessments]` table with `at = [...]`"],
        ),
        (
            "a better that is neither higher nor lower",
            "better = \"lower\"\n[outcomes.mrss]",
            "better = \"less\"\n[outcomes.mrss]",
            "\"less\"",
            &["`outcomes.haq.better`", "\"higher\" or \"lower\"", "\"less\""],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, from, to, marker, expect)) in cases.iter().enumerate() {
        assert!(base.contains(from), "{name}: `{from}` not in scenarios/scot_design.toml");
        let text = base.replacen(from, to, 1);
        let line = text.lines().position(|l| l.contains(marker)).map(|l| l + 1);
        assert!(line.is_some(), "{name}: marker `{marker}` not found");
        let path = dir.path().join(format!("composite{i}.toml"));
        std::fs::write(&path, &text).unwrap();
        check(&path, &dir.path().join(format!("out{i}")), line, expect, name);
    }
}
