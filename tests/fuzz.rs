//! Deterministic fuzzing (issue 21): mutants of every shipped scenario and of the JSON bodies of
//! every explorer endpoint, from a fixed seed and in a bounded count. A scenario mutant is either
//! refused with a message that names its file (and the binary exits 2 on it, for a sample), or
//! valid, and then a few replicates of it run to the end; an explorer body gets a 2xx or a 4xx,
//! never a 5xx, a panic or a dropped connection, and the server answers a normal request after
//! all of them. A panic or an abort fails the test binary.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use trialsim::run::{SimulateOptions, simulate_scenario};
use trialsim::scenario::Document;

const SCENARIOS: [&str; 13] = [
    "scenarios/astis.toml",
    "scenarios/astis_tests.toml",
    "scenarios/hsct_monitoring.toml",
    "scenarios/hsct_ssc.toml",
    "scenarios/null.toml",
    "scenarios/ph.toml",
    "scenarios/plan_next_trial.toml",
    "scenarios/studies/astis.toml",
    "scenarios/studies/ebmt_registry.toml",
    "scenarios/studies/phase2_series.toml",
    "scenarios/scot_design.toml",
    "scenarios/studies/phase2_skin.toml",
    "scenarios/studies/astis_france_outcomes.toml",
];

/// Values a hostile user types where a number stands.
const HOSTILE: [&str; 24] = [
    "-0.0",
    "0",
    "-1",
    "1e300",
    "-1e300",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "0.9999999999999999",
    "1e-12",
    "1.0000000001",
    "2",
    "10000000",
    "0.5",
    "\"x\"",
    "[]",
    "[1e308, -1e308]",
    "{}",
    "true",
    "1_000_000_000",
];

/// Lines a hostile user adds.
const SNIPPETS: [&str; 8] = [
    "[monitoring]\nlooks = [{ fraction = 0.9999999999999999 }]",
    "[monitoring]\nlooks = [{ fraction = 0.5 }, { fraction = 0.5000000001 }]",
    "[monitoring]\nlooks = [{ calendar = 1e-9 }]\n[monitoring.futility]\nspending = { z = [9] }",
    "n = 10000000",
    "unknown_key = 1",
    "[[[x]]]",
    "a = { b = { c = { d = { e = { f = 1 } } } } }",
    "\"\\u0000\" = \"\\ud800\"",
];

/// The byte ranges of the number literals of `text` (outside comments and strings, roughly).
fn numbers(text: &str) -> Vec<std::ops::Range<usize>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_comment = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            in_comment = false;
        } else if c == b'#' {
            in_comment = true;
        } else if !in_comment
            && c.is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'.' | b'_' | b'+' | b'-')) {
                j += 1;
            }
            out.push(start..j);
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// One mutant of `text`.
fn mutate(text: &str, rng: &mut StdRng) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let line = rng.random_range(0..lines.len());
    match rng.random_range(0..7) {
        0..=2 => {
            let spans = numbers(text);
            let s = spans[rng.random_range(0..spans.len())].clone();
            let v = HOSTILE[rng.random_range(0..HOSTILE.len())];
            format!("{}{v}{}", &text[..s.start], &text[s.end..])
        }
        3 => lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != line)
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join("\n"),
        4 => {
            let mut v = lines.clone();
            v.insert(line, lines[line]);
            v.join("\n")
        }
        5 => {
            let mut cut = rng.random_range(0..text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_string()
        }
        _ => format!("{text}\n{}\n", SNIPPETS[rng.random_range(0..SNIPPETS.len())]),
    }
}

#[test]
fn scenario_mutants_are_refused_with_their_file_or_run() {
    let mut rng = StdRng::seed_from_u64(2021);
    let (mut refused, mut ran, mut sampled) = (0, 0, 0);
    let dir = tempfile::tempdir().unwrap();
    for file in SCENARIOS {
        let text = std::fs::read_to_string(file).unwrap();
        for k in 0..40 {
            let mutant = mutate(&text, &mut rng);
            let path = Path::new("mutant.toml");
            let loaded = Document::parse(&mutant, path).and_then(|d| trialsim::scenario_file::validate(&d));
            match loaded {
                Err(e) => {
                    refused += 1;
                    let msg = e.to_string();
                    assert!(
                        msg.contains("mutant.toml"),
                        "{file} #{k}: a message without its file: {msg}\n{mutant}"
                    );
                    // Through the binary, for a sample: exit 2 and the file named.
                    if k % 8 == 0 {
                        sampled += 1;
                        let p = dir.path().join("mutant.toml");
                        std::fs::write(&p, &mutant).unwrap();
                        let out = assert_cmd::Command::cargo_bin("trialsim")
                            .unwrap()
                            .args(["check"])
                            .arg(&p)
                            .output()
                            .unwrap();
                        assert_eq!(
                            out.status.code(),
                            Some(2),
                            "{file} #{k}: {}",
                            String::from_utf8_lossy(&out.stderr)
                        );
                        assert!(String::from_utf8_lossy(&out.stderr).contains("mutant.toml"));
                    }
                }
                Ok(loaded) => {
                    let sc = &loaded.scenario;
                    // Valid but huge mutants (n = 10⁷) are the explorer's work cap's business.
                    // A composite compares every pair: n² as well.
                    let pairs = if sc.composites.is_empty() { 0 } else { (sc.design.n as u64).pow(2) / 8 };
                    if sc.design.n as u64 * trialsim::monitoring::analyses_per_trial(sc) + pairs > 2_000_000 {
                        continue;
                    }
                    ran += 1;
                    let never = AtomicBool::new(false);
                    let req = SimulateOptions {
                        replicates: 8,
                        seed: 1,
                        null_copy: true,
                        never_better: loaded.never_better.as_ref(),
                        progress: &|_| {},
                        cancel: Some(&never),
                        prior: None,
                    };
                    assert!(simulate_scenario(sc, &req, None).is_some(), "{file} #{k}");
                }
            }
        }
    }
    eprintln!("{refused} mutants refused ({sampled} through the binary), {ran} run");
    assert!(refused > 100 && ran > 50, "the mutants exercise both paths: {refused} refused, {ran} run");
}

/// A JSON value's mutant: a field dropped, added, or replaced by a hostile value.
fn mutate_json(v: &Value, rng: &mut StdRng) -> Value {
    let mut v = v.clone();
    let Some(map) = v.as_object_mut() else { return v };
    let keys: Vec<String> = map.keys().cloned().collect();
    let key = keys[rng.random_range(0..keys.len())].clone();
    let hostile = [
        json!(null),
        json!(-0.0),
        json!(1e308),
        json!(-1),
        json!(u64::MAX),
        json!("x".repeat(100)),
        json!([1, 2]),
        json!({"a": 1}),
        json!(true),
        json!(""),
        json!("../../etc/passwd"),
        json!(0.9999999999999999),
    ];
    match rng.random_range(0..4) {
        0 => {
            map.remove(&key);
        }
        1 => {
            map.insert("path".into(), json!("/etc/passwd"));
        }
        _ => {
            map.insert(key, hostile[rng.random_range(0..hostile.len())].clone());
        }
    }
    v
}

#[test]
fn explorer_body_mutants_get_a_2xx_or_a_4xx() {
    const TOKEN: &str = "feedfacefeedfacefeedfacefeedface";
    let (port, text) = crate::explorer::start(TOKEN);
    let send = |path: &str, body: &str| -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = format!(
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
             X-Trialsim-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out)
    };
    let quick = text.replace("replicates = 10000", "replicates = 200");
    let bodies = [
        (
            "/api/edit",
            json!({"toml": text, "key": "arms.hsct.causes.treatment_death.early_risk.risk", "value": 0.05}),
        ),
        ("/api/simulate", json!({"toml": quick, "stage": "quick", "channel": "fuzz"})),
        (
            "/api/curve",
            json!({"toml": quick, "key": "design.n", "from": 100, "to": 200, "points": 2, "channel": "fuzz"}),
        ),
    ];
    let mut rng = StdRng::seed_from_u64(21);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..240 {
        let (path, good) = &bodies[i % bodies.len()];
        let mut body = mutate_json(good, &mut rng);
        // Half of them also carry a mutated scenario.
        if i % 2 == 1
            && let Some(t) = body.get("toml").and_then(|t| t.as_str())
        {
            let m = mutate(t, &mut rng);
            body["toml"] = json!(m);
        }
        let (status, out) = send(path, &body.to_string());
        *statuses.entry(status).or_insert(0) += 1;
        assert!((200..500).contains(&status), "{path} #{i}: {status}\n{body}\n{out}");
        assert!(!out.contains("internal error"), "{path} #{i}: {out}");
    }
    eprintln!("statuses: {statuses:?}");
    let (status, out) = send("/api/simulate", &bodies[1].1.to_string());
    assert_eq!(status, 200, "still serving: {out}");
    assert!(out.contains("\"result\""), "{out}");
}
