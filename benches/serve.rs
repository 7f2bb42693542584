//! The explorer's request path, end to end over loopback HTTP, on the ASTIS scenario: what a
//! slider change costs before the page can show it.
//!
//! - `slider_quick`: the edit (one number changed in the text) and the quick pass (2,000
//!   replicates, no identical-arms copy), the whole streamed answer read. Goal: under 200 ms.
//! - `refined`: the scenario's 10,000 replicates with its identical-arms copy (10,000 more), the
//!   report rendered, the whole answer read. Goal: under 2 s.
//!
//! The same two on `scenarios/hsct_monitoring.toml` (`serve_hsct_monitoring`: the calibrated
//! model monitored, FH(0,1) information looks whose fractions vary by trial, β-spending
//! futility, the safety rule; 4,000 replicates when refined): the same goals, issue 26's.
//!
//! `cargo bench --bench serve`. The server runs in this process on all cores, as `trialsim serve`.

use std::io::{Read, Write};
use std::net::TcpStream;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use trialsim::explorer::{Config, Explorer};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const TRM: &str = "arms.hsct.causes.treatment_death.early_risk.risk";

/// A POST from the page, over HTTP/1.0 (the streamed answer arrives unchunked); its body.
fn post(port: u16, path: &str, body: &Value) -> String {
    let body = body.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("the server listens");
    let head = format!(
        "POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
         X-Trialsim-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes())).expect("sent");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("answered");
    let (status, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(status.starts_with("HTTP/1.0 200") || status.starts_with("HTTP/1.1 200"), "{status}");
    body.to_string()
}

fn result(body: &str) -> Value {
    let last: Value = serde_json::from_str(body.trim().lines().last().expect("a line")).expect("JSON");
    assert!(last["result"].is_object(), "{last}");
    last
}

fn bench(c: &mut Criterion) {
    for (group, file) in
        [("serve_astis", "scenarios/astis.toml"), ("serve_hsct_monitoring", "scenarios/hsct_monitoring.toml")]
    {
        explorer(c, group, file);
    }
}

/// The quick pass after a slider edit, and the refined pass, of the scenario in `file`.
fn explorer(c: &mut Criterion, group: &str, file: &str) {
    let text = std::fs::read_to_string(file).expect("run from the crate root");
    let name = file.rsplit('/').next().expect("a file name");
    let config = Config {
        scenario: Some((name.into(), text.clone())),
        token: Some(TOKEN.into()),
        ..Config::default()
    };
    let explorer = Explorer::bind(config).expect("a free port");
    let port = explorer.port();
    std::thread::spawn(move || explorer.serve());
    let mut g = c.benchmark_group(group);
    g.sample_size(20);
    let mut risk = 0.05;
    g.bench_function("slider_quick", |b| {
        b.iter(|| {
            // A new value each time, as a moving slider sends.
            risk = if risk >= 0.2 { 0.05 } else { risk + 0.005 };
            let edited: Value = serde_json::from_str(&post(
                port,
                "/api/edit",
                &json!({"toml": text, "key": TRM, "value": risk}),
            ))
            .expect("JSON");
            let toml = edited["toml"].as_str().expect("text");
            result(&post(port, "/api/simulate", &json!({"toml": toml, "stage": "quick", "channel": "bench"})))
        })
    });
    g.sample_size(10);
    g.bench_function("refined", |b| {
        b.iter(|| {
            result(&post(
                port,
                "/api/simulate",
                &json!({"toml": text, "stage": "refined", "channel": "bench"}),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
