//! The explorer's HTTP surface in-process: access checks, bad requests answered with 4xx and a
//! message (and the server still serving), and a newer change cancelling an older one.
//! The browser tests (tests/browser/explorer.py) drive the page itself.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;

use serde_json::{Value, json};
use trialsim::explorer::{BODY_LIMIT, Config, Explorer};

const TOKEN: &str = "00112233445566778899aabbccddeeff";

/// A server of its own on `scenarios/astis.toml` with `token`, serving on a thread: (port, text).
pub fn start(token: &str) -> (u16, String) {
    let text = std::fs::read_to_string("scenarios/astis.toml").unwrap();
    let config = Config {
        scenario: Some(("astis.toml".into(), text.clone())),
        threads: Some(2),
        token: Some(token.into()),
        ..Config::default()
    };
    let explorer = Explorer::bind(config).unwrap();
    let port = explorer.port();
    std::thread::spawn(move || explorer.serve());
    (port, text)
}

/// One server for the whole test binary (port, scenario text).
fn server() -> &'static (u16, String) {
    static SERVER: OnceLock<(u16, String)> = OnceLock::new();
    SERVER.get_or_init(|| start(TOKEN))
}

/// An HTTP/1.0 exchange (so the streamed answers come unchunked, closed at their end):
/// (status, headers, body).
fn http(method: &str, path: &str, headers: &[(&str, String)], body: &str) -> (u16, String, String) {
    let port = server().0;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.0\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn host() -> (&'static str, String) {
    ("Host", format!("127.0.0.1:{}", server().0))
}

/// A POST from the explorer's own page.
fn post(path: &str, body: &Value) -> (u16, String) {
    let port = server().0;
    let h = [
        host(),
        ("Origin", format!("http://localhost:{port}")),
        ("X-Trialsim-Token", TOKEN.into()),
        ("Content-Type", "application/json".into()),
    ];
    let (s, _, b) = http("POST", path, &h, &body.to_string());
    (s, b)
}

/// The last line of a streamed answer.
fn last_line(body: &str) -> Value {
    serde_json::from_str(body.trim().lines().last().unwrap_or("null")).unwrap()
}

#[test]
fn the_token_host_and_origin_are_required() {
    let port = server().0;
    let (s, head, _) = http("GET", &format!("/?token={TOKEN}"), &[host()], "");
    assert_eq!(s, 303, "{head}");
    assert!(
        head.contains(&format!("set-cookie: trialsim_{port}={TOKEN}; HttpOnly; SameSite=Strict")),
        "{head}"
    );
    assert!(head.contains("referrer-policy: no-referrer"), "{head}");
    let cookie = ("Cookie", format!("trialsim_{port}={TOKEN}"));
    let (s, head, body) = http("GET", "/", &[host(), cookie.clone()], "");
    assert_eq!(s, 200);
    assert!(
        body.contains("trialsim explorer") && head.contains("content-security-policy: default-src 'none'")
    );
    let (s, _, body) = http("GET", "/api/scenario", &[host(), cookie.clone()], "");
    assert_eq!(s, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["file"], "astis.toml");

    for (what, headers, want) in [
        ("no token", vec![host()], 401),
        ("a wrong cookie", vec![host(), ("Cookie", format!("trialsim_{port}=ffff"))], 401),
        ("another port's cookie", vec![host(), ("Cookie", format!("trialsim_1={TOKEN}"))], 401),
        ("a foreign Host", vec![("Host", format!("evil.example:{port}")), cookie.clone()], 403),
        ("no Host", vec![cookie.clone()], 403),
    ] {
        let (s, head, body) = http("GET", "/api/scenario", &headers, "");
        assert_eq!(s, want, "{what}: {body}");
        assert!(head.contains("referrer-policy: no-referrer"), "{what}: every answer carries the policy");
    }
    let (s, _, _) = http("GET", "/?token=ffffffffffffffffffffffffffffffff", &[host()], "");
    assert_eq!(s, 403, "a wrong token in the URL");
    let body = json!({"toml": server().1, "stage": "quick", "channel": "o"}).to_string();
    let json_type = ("Content-Type", "application/json".to_string());
    for origin in
        [None, Some("http://evil.example"), Some("null"), Some(&*format!("https://127.0.0.1:{port}"))]
    {
        let mut h = vec![host(), cookie.clone(), json_type.clone()];
        if let Some(o) = origin {
            h.push(("Origin", o.to_string()));
        }
        let (s, _, b) = http("POST", "/api/simulate", &h, &body);
        assert_eq!(s, 403, "Origin {origin:?}: {b}");
    }
}

#[test]
fn bad_requests_get_a_4xx_with_a_message_and_the_server_goes_on() {
    let text = &server().1;
    let good = json!({"toml": text, "stage": "quick", "channel": "bad-requests"});
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("an unknown path", "/api/nothing", "{}".into(), 404, "no such page"),
        ("malformed JSON", "/api/simulate", "{\"toml\": ".into(), 400, "bad request body"),
        ("an unknown field", "/api/simulate", json!({"toml": text, "stage": "quick", "channel": "c", "path": "/etc/passwd"}).to_string(), 400, "unknown field"),
        ("an unknown stage", "/api/simulate", json!({"toml": text, "stage": "slow", "channel": "c"}).to_string(), 400, "unknown variant"),
        ("a bad channel", "/api/simulate", json!({"toml": text, "stage": "quick", "channel": "../x"}).to_string(), 400, "channel"),
        ("an invalid scenario", "/api/simulate", json!({"toml": text.replace("n = 156", "n = -3"), "stage": "quick", "channel": "c"}).to_string(), 422, "astis.toml:"),
        ("TOML that does not parse", "/api/simulate", json!({"toml": "[design\n", "stage": "quick", "channel": "c"}).to_string(), 422, "astis.toml:1:"),
        ("too many replicates", "/api/simulate", json!({"toml": text.replace("replicates = 10000", "replicates = 5000000"), "stage": "refined", "channel": "c"}).to_string(), 422, "at most 200000"),
        ("a curve of too many points", "/api/curve", json!({"toml": text, "key": "design.n", "from": 100, "to": 200, "points": 500, "channel": "c"}).to_string(), 422, "points"),
        ("a curve over an unknown key", "/api/curve", json!({"toml": text, "key": "design.size", "from": 1, "to": 2, "points": 3, "channel": "c"}).to_string(), 422, "design.size"),
        ("an edit of a string", "/api/edit", json!({"toml": text, "key": "name", "value": 1}).to_string(), 422, "not a number"),
        ("a body over the limit", "/api/simulate", "x".repeat(BODY_LIMIT + 1), 413, ""),
    ];
    for (what, path, body, want, says) in cases {
        let port = server().0;
        let h = [
            host(),
            ("Origin", format!("http://127.0.0.1:{port}")),
            ("X-Trialsim-Token", TOKEN.into()),
            ("Content-Type", "application/json".into()),
        ];
        let (s, _, b) = http("POST", path, &h, &body);
        assert_eq!(s, want, "{what}: {b}");
        assert!(b.contains(says), "{what}: {b}");
    }
    let (s, b) = {
        let port = server().0;
        let h = [host(), ("Origin", format!("http://127.0.0.1:{port}")), ("X-Trialsim-Token", TOKEN.into())];
        let (s, _, b) = http("POST", "/api/simulate", &h, &good.to_string());
        (s, b)
    };
    assert_eq!(s, 415, "no Content-Type: {b}");
    let (s, b) = post("/api/simulate", &good);
    assert_eq!(s, 200);
    assert!(last_line(&b)["result"]["power"][0]["power"].is_string(), "still serving: {b}");
}

#[test]
fn a_newer_change_cancels_the_older_one() {
    let slow = server().1.replace("replicates = 10000", "replicates = 200000");
    let old = std::thread::spawn(move || {
        post("/api/simulate", &json!({"toml": slow, "stage": "refined", "channel": "cancel-me"}))
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (s, b) =
        post("/api/simulate", &json!({"toml": server().1, "stage": "quick", "channel": "cancel-me"}));
    assert_eq!(s, 200);
    assert!(last_line(&b)["result"].is_object(), "{b}");
    let (s, b) = old.join().unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        last_line(&b),
        json!({"cancelled": true}),
        "the older computation stopped: {}",
        &b[b.len().saturating_sub(300)..]
    );
    assert!(b.lines().count() < 150, "it stopped early: {} progress lines of 210", b.lines().count());
}

#[test]
fn an_edit_changes_one_number_and_keeps_the_comments() {
    let text = &server().1;
    let key = "arms.hsct.causes.treatment_death.early_risk.risk";
    let (s, b) = post("/api/edit", &json!({"toml": text, "key": key, "value": 0.05}));
    assert_eq!(s, 200, "{b}");
    let edited = serde_json::from_str::<Value>(&b).unwrap()["toml"].as_str().unwrap().to_string();
    assert_eq!(edited, text.replace("risk = 0.10, within", "risk = 0.05, within"));
}

#[test]
fn without_a_scenario_the_built_in_calibrated_model_is_served_from_any_directory() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("trialsim"))
        .args(["serve", "--threads", "1"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    let (addr, token) = url.trim_start_matches("http://").split_once("/?token=").unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "loopback by default: {line}");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET /api/scenario HTTP/1.0\r\nHost: {addr}\r\nX-Trialsim-Token: {token}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let body: Value = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(body["file"], "hsct_ssc.toml");
    assert_eq!(body["toml"].as_str().unwrap(), std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap());
    assert!(body["controls"].as_array().unwrap().len() > 10);
}

#[test]
fn a_bad_scenario_or_host_stops_serve_before_it_listens() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string("scenarios/astis.toml").unwrap().replace("n = 156", "n = 0"),
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("trialsim")
        .unwrap()
        .args(["serve", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:") && err.contains("design.n"), "{err}");
    assert!(out.stdout.is_empty(), "no URL printed");
    let out = assert_cmd::Command::cargo_bin("trialsim")
        .unwrap()
        .args(["serve", "--host", "not an address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Raises this process's soft file-descriptor limit towards the hard one (the hostile test opens
/// several hundred sockets, and some systems start at 1,024).
fn raise_fd_limit(want: u64) {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit of this process.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The peak memory of this process (VmHWM, Linux), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Issue 21, causes 1–5, each sent to a server of its own, then a normal request, which must be
/// answered within a generous liveness bound (10 s; a check of liveness, not speed): a look that
/// once aborted the process, tables that once took hours to validate, abandoned curves and
/// passes, a quick pass at n = 10⁷, the connection cap plus 50 half-open connections, a body
/// trickled one byte a second, two Host headers and an absolute-form target naming another host.
#[test]
fn hostile_requests_leave_the_server_serving() {
    use std::time::{Duration, Instant};
    raise_fd_limit(4096);
    let (port, text) = start(TOKEN);
    let addr = ("127.0.0.1", port);
    let request = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
             X-Trialsim-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let exchange = |raw: &str| -> (u16, String) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, out)
    };
    let simulate = |toml: &str, stage: &str, channel: &str| {
        request("/api/simulate", &json!({"toml": toml, "stage": stage, "channel": channel}).to_string())
    };
    let abandon = |raw: String| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        drop(s);
    };
    let alive = |what: &str| {
        let started = Instant::now();
        let (s, out) = exchange(&simulate(&text, "quick", "alive"));
        assert_eq!(s, 200, "after {what}: {out}");
        assert!(out.contains("\"result\""), "after {what}: {}", &out[out.len().saturating_sub(300)..]);
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(10), "after {what}: answered in {waited:?}");
        waited
    };

    // Causes 1 and 2: refused as the CLI refuses them, quickly.
    let near_one = format!("{text}\n[monitoring]\nlooks = [{{ fraction = 0.9999999999999999 }}]\n");
    let (s, out) = exchange(&simulate(&near_one, "quick", "c1"));
    assert!(s == 422 && out.contains("monitoring.looks[0].fraction"), "{out}");
    let looks: Vec<String> = (1..=11).map(|k| format!("{{ fraction = {} }}", k as f64 / 12.0)).collect();
    let many = format!("{text}\n[monitoring]\nlooks = [{}]\n", looks.join(", "));
    let (s, out) = exchange(&simulate(&many, "quick", "c2"));
    assert!(s == 422 && out.contains("at most 10"), "{out}");
    alive("causes 1 and 2");

    // Causes 3 and 4: work that would be large, abandoned at once; a pass too large is refused.
    let huge = text.replace("n = 156", "n = 10000000");
    let (s, out) = exchange(&simulate(&huge, "quick", "c4"));
    assert!(s == 422 && out.contains("at most 400000000"), "{out}");
    let big = text.replace("n = 156", "n = 150000");
    for i in 0..20 {
        abandon(simulate(&big, "quick", &format!("gone-{i}")));
        let curve = json!({"toml": big, "key": "design.n", "from": 100000, "to": 150000, "points": 2, "channel": format!("curve-{i}")});
        abandon(request("/api/curve", &curve.to_string()));
    }
    std::thread::sleep(Duration::from_millis(500));
    alive("40 abandoned passes and curves");

    // Cause 5: the connection cap plus 50 half-open connections, one header line each.
    let mut half_open = Vec::new();
    for _ in 0..trialsim::explorer::MAX_CONNECTIONS + 50 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(format!("POST /api/simulate HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n").as_bytes()).unwrap();
        half_open.push(s);
    }
    let trickle = std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST /api/edit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\n\
             X-Trialsim-Token: {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        for _ in 0..30 {
            if s.write_all(b" ").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    });
    let waited = alive("the connection cap and 50 half-open connections");
    eprintln!("answered {waited:?} after opening {} half-open connections", half_open.len());
    drop(half_open);
    let refused = trickle.join().unwrap();
    assert!(refused.starts_with("HTTP/1.1 408"), "a trickled body: {refused}");
    let (s, out) = exchange(&format!(
        "GET /api/scenario HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nHost: evil.example:{port}\r\nX-Trialsim-Token: {TOKEN}\r\n\r\n"
    ));
    assert_eq!(s, 400, "two Host headers: {out}");
    let (s, out) = exchange(&format!(
        "GET http://evil.example:{port}/api/scenario HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nX-Trialsim-Token: {TOKEN}\r\n\r\n"
    ));
    assert_eq!(s, 403, "an absolute-form target naming another host: {out}");
    alive("everything");
    let peak = peak_mib();
    eprintln!("peak memory of the test process (server included): {peak:.0} MiB");
    assert!(peak < 2048.0, "memory stays bounded: {peak:.0} MiB");
}
