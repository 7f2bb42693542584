//! `trialsim serve`: a local what-if explorer. The page sends the scenario's text; the server
//! validates it as the CLI does, simulates it as `trialsim run` does (a quick pass, then the
//! scenario's replicates with the identical-arms copy), and streams progress lines then the
//! result. Controls, plots and the report come from the same code as the command line's.
//!
//! HTTP: axum on a small tokio runtime; simulations run on their own rayon pool, outside the
//! runtime's threads. The page (HTML, CSS, script) is embedded from `src/explorer/page/`.

pub mod access;
pub mod compute;
pub mod controls;
pub mod edit;
pub mod jobs;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use access::{Access, TOKEN_HEADER};
use compute::{Curve, Refusal, ScenarioRun, Stage};
use jobs::{Jobs, Refused, Ticket};

/// The scenario the explorer starts from without one: the calibrated model, compiled in so that
/// `trialsim serve` works from any directory.
pub const EMBEDDED: &str = include_str!("../../scenarios/hsct_ssc.toml");
pub const EMBEDDED_FILE: &str = "hsct_ssc.toml";

const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/explorer.js");
const STYLE: &str = include_str!("page/explorer.css");

/// The largest request body: a scenario file may be 1 MiB (`scenario::document::MAX_BYTES`), and
/// JSON escaping adds a little.
pub const BODY_LIMIT: usize = (1 << 20) + (64 << 10);
/// Connections open at once (a browser opens about six per page). Beyond it a new connection
/// waits in the kernel's backlog until one closes, so half-open connections cannot exhaust the
/// process's file descriptors or starve an authorised page for longer than [`HEADER_DEADLINE`].
pub const MAX_CONNECTIONS: usize = 256;
/// A request's headers must arrive whole within this, from the connection's start or the end of
/// the previous answer: a slow client (one header line every 10 s) is cut off, and an idle
/// keep-alive connection closes.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(5);
/// The largest header block (hyper's read buffer; a larger one is refused with 431).
pub const HEADER_LIMIT: usize = 64 << 10;
/// A request's body must arrive whole within this, before the request may wait for a slot: a
/// client sending one byte every 10 s holds neither a slot nor, for long, a connection.
pub const BODY_DEADLINE: Duration = Duration::from_secs(10);
/// A computation still running after this is stopped and answered with an error: no request
/// holds a slot for longer, whatever it asks.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(120);

/// What the page may load: its own script and style, the inline style of the report it shows in
/// a sandboxed frame, and nothing from elsewhere.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-src 'self' blob: data:; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

/// How to serve.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// (file name, text) of the scenario to start from; the embedded one when `None`.
    pub scenario: Option<(String, String)>,
    /// `None`: a free port.
    pub port: Option<u16>,
    /// `None`: loopback only.
    pub host: Option<String>,
    /// Worker threads of the simulations (`None`: all cores).
    pub threads: Option<usize>,
    /// A fixed token instead of a random one (tests and benchmarks).
    pub token: Option<String>,
}

/// A server bound to its port, not yet serving.
pub struct Explorer {
    listener: TcpListener,
    app: Arc<App>,
    host: Option<String>,
}

struct App {
    access: Access,
    jobs: Jobs,
    file: String,
    text: String,
    pool: rayon::ThreadPool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("listening on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("--host {0:?}: expected an IP address (e.g. 0.0.0.0 or 192.168.1.5)")]
    Host(String),
    #[error("starting the server: {0}")]
    Start(std::io::Error),
    #[error("starting {threads} worker threads: {message}")]
    Pool { threads: usize, message: String },
}

impl Explorer {
    /// Binds the port (loopback unless `host` is given).
    pub fn bind(config: Config) -> Result<Explorer, ServeError> {
        let ip: IpAddr = match &config.host {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(h) => h.parse().map_err(|_| ServeError::Host(h.clone()))?,
        };
        let addr = SocketAddr::new(ip, config.port.unwrap_or(0));
        let listener =
            TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr: addr.to_string(), source })?;
        let port = listener.local_addr().map_err(ServeError::Start)?.port();
        let token = config.token.clone().unwrap_or_else(access::new_token);
        let mut pool = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("simulate-{i}"));
        if let Some(t) = config.threads {
            pool = pool.num_threads(t);
        }
        let pool = pool
            .build()
            .map_err(|e| ServeError::Pool { threads: config.threads.unwrap_or(0), message: e.to_string() })?;
        let (file, text) =
            config.scenario.unwrap_or_else(|| (EMBEDDED_FILE.to_string(), EMBEDDED.to_string()));
        let app = App {
            access: Access::new(token, port, config.host.as_deref()),
            jobs: Jobs::default(),
            file,
            text,
            pool,
        };
        Ok(Explorer { listener, app: Arc::new(app), host: config.host })
    }

    pub fn port(&self) -> u16 {
        self.app.access.port()
    }

    /// The URL to open: the server's address with the token.
    pub fn url(&self) -> String {
        let host = match &self.host {
            Some(h) if h.contains(':') => format!("[{h}]"),
            Some(h) => h.clone(),
            None => "127.0.0.1".to_string(),
        };
        format!("http://{host}:{}/?token={}", self.port(), self.app.access.token())
    }

    /// Serves until the process ends.
    pub fn serve(self) -> Result<(), ServeError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("serve")
            .enable_all()
            .build()
            .map_err(ServeError::Start)?;
        rt.block_on(async move {
            self.listener.set_nonblocking(true).map_err(ServeError::Start)?;
            let listener = tokio::net::TcpListener::from_std(self.listener).map_err(ServeError::Start)?;
            accept(listener, router(self.app)).await;
            Ok(())
        })
    }
}

/// The accept loop (instead of `axum::serve`, which sets no deadline on headers): at most
/// [`MAX_CONNECTIONS`] at once, each HTTP/1.1 with [`HEADER_DEADLINE`] and [`HEADER_LIMIT`].
async fn accept(listener: tokio::net::TcpListener, router: Router) {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = open.clone().acquire_owned().await else { return };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors, or a connection reset before it was accepted: wait a
            // moment rather than spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE)
                .max_buf_size(HEADER_LIMIT);
            // A connection's end (a client gone, a deadline passed) is not the server's error.
            let _ = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service).await;
        });
    }
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/explorer.js", get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/explorer.css", get(|| async { asset(STYLE, "text/css; charset=utf-8") }))
        .route("/api/scenario", get(scenario))
        .route("/api/edit", post(edit))
        .route("/api/simulate", post(simulate))
        .route("/api/curve", post(curve))
        .fallback(|| async { refuse(StatusCode::NOT_FOUND, "no such page") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(read_body))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// The body read whole, within [`BODY_LIMIT`] and [`BODY_DEADLINE`], after the access checks and
/// before any handler: nothing waits for a slot or computes while a client trickles its body.
async fn read_body(req: Request, next: Next) -> Response {
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(BODY_DEADLINE, Limited::new(body, BODY_LIMIT).collect()).await;
    let bytes = match read {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, format!("the body is over {BODY_LIMIT} bytes"));
        }
        Ok(Err(_)) => return refuse(StatusCode::BAD_REQUEST, "the request body could not be read"),
        Err(_) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                format!("the request body did not arrive within {} s", BODY_DEADLINE.as_secs()),
            );
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A refusal answers with its status and, as JSON, `{"error": …}`.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
        (status, [(header::CONTENT_TYPE, "application/json")], json!({ "error": self.message }).to_string())
            .into_response()
    }
}

/// A refusal with this status and message.
fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    Refusal { status: status.as_u16(), message: message.into() }.into_response()
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Every request: the access checks, then the headers every response carries.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut resp = check(&app, req, next).await;
    let h = resp.headers_mut();
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

async fn check(app: &App, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    // Two Host headers: which one a proxy or the browser meant cannot be known (the first used
    // to win).
    if headers.get_all(header::HOST).iter().count() > 1 {
        return refuse(StatusCode::BAD_REQUEST, "refused: more than one Host header");
    }
    let host = text(header::HOST);
    // An absolute-form target (`GET http://name:port/…`) names the server it is for: that name
    // is checked as Host is, against DNS rebinding.
    let authority = req.uri().authority().map(|a| a.as_str());
    for name in [Some(host), authority.map(Some)].into_iter().flatten() {
        if !app.access.host_ok(name) {
            return refuse(
                StatusCode::FORBIDDEN,
                format!("refused: Host {:?} is not this server's address", name.unwrap_or("")),
            );
        }
    }
    // The token arrives in the first URL only: it is moved into a cookie and out of the address
    // bar (and so out of the history and of any Referer).
    if req.method() == Method::GET
        && req.uri().path() == "/"
        && let Some(t) = Access::token_in_query(req.uri().query())
    {
        if !app.access.token_matches(t) {
            return refuse(
                StatusCode::FORBIDDEN,
                "wrong access token: open the URL that `trialsim serve` printed",
            );
        }
        let cookie = HeaderValue::from_str(&app.access.set_cookie()).expect("a token is hex");
        return (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, HeaderValue::from_static("/")), (header::SET_COOKIE, cookie)],
        )
            .into_response();
    }
    let token = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok());
    let cookies = headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
    if !app.access.token_ok(token, cookies) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing or wrong access token: open the URL that `trialsim serve` printed",
        );
    }
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && !app.access.origin_ok(text(header::ORIGIN))
    {
        return refuse(
            StatusCode::FORBIDDEN,
            "refused: a request that computes must come from the explorer's own page (Origin)",
        );
    }
    next.run(req).await
}

async fn index() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CONTENT_SECURITY_POLICY, PAGE_POLICY)],
        INDEX,
    )
        .into_response()
}

async fn scenario(State(app): State<Arc<App>>) -> Response {
    let body = json!({ "file": app.file, "toml": app.text, "controls": controls::controls(&app.text) });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// A JSON body of type `T`, or the 4xx that says why not.
fn body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Box<Response>> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        let m = "expected a JSON body (Content-Type: application/json)";
        return Err(Box::new(refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, m)));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| Box::new(refuse(StatusCode::BAD_REQUEST, format!("bad request body: {e}"))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditRequest {
    toml: String,
    key: String,
    /// The model's number, or `shown`: the number as typed on the control's display scale
    /// `scale` (converted exactly, `edit::set_shown`).
    value: Option<f64>,
    shown: Option<String>,
    scale: Option<crate::scenario::labels::DisplayScale>,
}

async fn edit(headers: HeaderMap, bytes: Bytes) -> Response {
    let req: EditRequest = match body(&headers, &bytes) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    // Parsing and printing up to a megabyte of TOML: off the runtime's two threads, which must
    // stay free to read requests and stream answers.
    let edited = tokio::task::spawn_blocking(move || match (req.value, req.shown, req.scale) {
        (Some(v), None, None) => Ok(edit::set_number(&req.toml, &req.key, v)),
        (None, Some(typed), Some(scale)) => Ok(controls::set_shown(&req.toml, &req.key, &typed, scale)),
        _ => Err("expected `value`, or `shown` with its `scale`"),
    })
    .await;
    match edited {
        Ok(Ok(Ok(toml))) => {
            ([(header::CONTENT_TYPE, "application/json")], json!({ "toml": toml }).to_string())
                .into_response()
        }
        Ok(Ok(Err(m))) => refuse(StatusCode::UNPROCESSABLE_ENTITY, m.to_string()),
        Ok(Err(m)) => refuse(StatusCode::BAD_REQUEST, m),
        Err(_) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error while editing the scenario"),
    }
}

/// The body of a request that computes: JSON of type `T`, whose page channel is well formed.
fn computation<T: serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &Bytes,
    channel: impl Fn(&T) -> &String,
) -> Result<T, Box<Response>> {
    let req: T = body(headers, bytes)?;
    if !channel_ok(channel(&req)) {
        let m = "channel: expected 1 to 64 letters, digits, '-' or '_'";
        return Err(Box::new(refuse(StatusCode::BAD_REQUEST, m)));
    }
    Ok(req)
}

/// A page's channel: which computations supersede each other.
fn channel_ok(c: &str) -> bool {
    (1..=64).contains(&c.len()) && c.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateRequest {
    toml: String,
    stage: Stage,
    channel: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CurveRequest {
    toml: String,
    key: String,
    from: f64,
    to: f64,
    points: usize,
    channel: String,
}

async fn simulate(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let req: SimulateRequest = match computation(&headers, &bytes, |r: &SimulateRequest| &r.channel) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let file = app.file.clone();
    let (toml, stage) = (req.toml, req.stage);
    let prepared = admit_then(&app, &req.channel, move || ScenarioRun::prepare(&file, &toml, stage)).await;
    let (ticket, run) = match prepared {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let total = run.total();
    stream(app, ticket, total, move |progress, cancel| run.simulate(progress, cancel))
}

async fn curve(State(app): State<Arc<App>>, headers: HeaderMap, bytes: Bytes) -> Response {
    let req: CurveRequest = match computation(&headers, &bytes, |r: &CurveRequest| &r.channel) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let file = app.file.clone();
    let channel = req.channel.clone();
    let prepared = admit_then(&app, &channel, move || {
        Curve::prepare(&file, &req.toml, &req.key, req.from, req.to, req.points)
    })
    .await;
    let (ticket, c) = match prepared {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    let total = c.total();
    stream(app, ticket, total, move |progress, cancel| c.simulate(progress, cancel))
}

/// Waits for a slot, then checks the request (`prepare`: validating a scenario, or a curve's
/// every point) off the runtime's threads. The check runs only with a slot, so no number of
/// requests can keep more than [`jobs::SLOTS`] cores validating; the ticket stays with the
/// check until it ends, even if the client leaves, so the slot is not freed early.
async fn admit_then<T: Send + 'static>(
    app: &App,
    channel: &str,
    prepare: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<(Ticket, T), Box<Response>> {
    let ticket = match app.jobs.admit(channel).await {
        Ok(t) => t,
        Err(Refused::Busy) => {
            let m = "too many computations waiting: try again in a moment";
            return Err(Box::new(refuse(StatusCode::TOO_MANY_REQUESTS, m)));
        }
        Err(Refused::Superseded) => {
            return Err(Box::new(refuse(StatusCode::CONFLICT, "superseded by a newer change")));
        }
    };
    let checked = tokio::task::spawn_blocking(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(prepare));
        (ticket, r)
    })
    .await;
    match checked {
        Ok((ticket, Ok(Ok(value)))) => Ok((ticket, value)),
        Ok((_, Ok(Err(r)))) => Err(Box::new(r.into_response())),
        Ok((_, Err(_))) | Err(_) => Err(Box::new(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error while checking the request; please report this scenario",
        ))),
    }
}

/// Sets the flag when dropped: the response body is dropped when its client goes away.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

type Work = Box<
    dyn FnOnce(&(dyn Fn(u64) + Sync), &AtomicBool) -> Option<Result<Value, compute::ComputeError>> + Send,
>;

/// Runs `work` with its slot (`ticket`) on the simulation pool and answers with a stream of JSON
/// lines: `{"progress": done, "total": n}` after each chunk, then one of `{"result": …}`,
/// `{"cancelled": true}` (a newer change or a closed page) or `{"error": …}` (also when the work
/// outlasts [`REQUEST_BUDGET`]).
fn stream<F>(app: Arc<App>, ticket: Ticket, total: u64, work: F) -> Response
where
    F: FnOnce(&(dyn Fn(u64) + Sync), &AtomicBool) -> Option<Result<Value, compute::ComputeError>>
        + Send
        + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    let cancel = ticket.cancel.clone();
    let over_budget = Arc::new(AtomicBool::new(false));
    let budget = {
        let (cancel, over) = (cancel.clone(), over_budget.clone());
        tokio::spawn(async move {
            tokio::time::sleep(REQUEST_BUDGET).await;
            over.store(true, Ordering::Relaxed);
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let work: Work = Box::new(work);
    let worker = app.clone();
    tokio::task::spawn_blocking(move || {
        let done = AtomicU64::new(0);
        let progress_tx = tx.clone();
        let progress = move |n: u64| {
            let d = done.fetch_add(n, Ordering::Relaxed) + n;
            // Progress is advisory: a full channel drops a line rather than wait.
            let _ = progress_tx.try_send(line(&json!({ "progress": d, "total": total })));
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            worker.pool.install(|| work(&progress, &ticket.cancel))
        }));
        budget.abort();
        let last = match outcome {
            Ok(Some(Ok(v))) => json!({ "result": v }),
            Ok(Some(Err(m))) => json!({ "error": m.to_string() }),
            Ok(None) if over_budget.load(Ordering::Relaxed) => json!({
                "error": format!(
                    "stopped after {} s, the explorer's budget for one request: lower the replicates or n here, or run `trialsim run` on the downloaded file",
                    REQUEST_BUDGET.as_secs()
                )
            }),
            Ok(None) => json!({ "cancelled": true }),
            Err(_) => {
                json!({ "error": "internal error: the computation failed; please report this scenario" })
            }
        };
        let _ = tx.blocking_send(line(&last));
        drop(ticket);
    });
    let guard = CancelOnDrop(cancel);
    let body = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), (rx, guard)))
    });
    ([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(body)).into_response()
}

fn line(v: &Value) -> Bytes {
    Bytes::from(v.to_string() + "\n")
}
