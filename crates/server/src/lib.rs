//! linetwin-server: the gateway between a line and its browser viewers.
//!
//! It serves the built viewer (static files), the line description
//! (`/api/line`), health (`/healthz`), and the live stream: viewers connect to
//! `/ws`, producers (the built-in simulator, or a plant script on
//! `/ws/ingest`) feed it. The wire protocol is `docs/protocol.md`.
//!
//! `main.rs` is only the command line; everything here is usable from tests
//! with a listener bound on port 0.

mod alarms_api;
pub mod auth;
pub mod decode;
mod export;
pub mod gateway_twin;
pub mod https;
mod hub;
mod ingest;
pub mod mqtt;
mod offline;
mod recording;
mod replay;
mod scenario_control;
mod security_headers;
mod sensor_record;
mod sensors_api;
mod simulator;
mod source;
mod state;
mod static_files;
pub mod store;
mod timestamps;
mod tls;
mod viewer;
pub mod work_orders;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use linetwin_core::line::{Line, LineError};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use static_files::cache_control_for;

use crate::state::AppState;

/// Everything [`serve`] needs besides the listener.
#[derive(Debug, Clone)]
pub struct Config {
    /// The validated line; sensor ids on `/ws/ingest` are checked against it.
    pub line: Line,
    /// Folder of the built viewer (`index.html`, wasm, js, assets).
    pub web_root: PathBuf,
    /// The built-in simulator, or `None` when data only comes from producers.
    pub simulator: Option<SimulatorConfig>,
    /// Where to record every frame to MCAP files, if anywhere.
    pub record: Option<linetwin_recorder::RecorderConfig>,
    /// A recording to serve instead of live data.
    pub replay: Option<ReplayConfig>,
    /// A demo story the simulator tells (its faults are already in
    /// `line.simulation`; its captions go out as the story reaches them).
    pub scenario: Option<linetwin_core::scenario::Scenario>,
    /// The plant's MQTT broker, from the gateway config file.
    pub mqtt: Option<mqtt::config::MqttConfig>,
    /// Where the alarm record and the outbox are kept (in memory if `None`).
    pub state: Option<work_orders::config::StateConfig>,
    /// Maintenance notifications out, from the gateway config file.
    pub work_orders: Option<work_orders::config::WorkOrderConfig>,
    /// Sign-in; `None` runs open, which `serve` allows on loopback only.
    pub auth: Option<auth::config::AuthConfig>,
    /// The gateway's own HTTPS; `None`: plain HTTP (behind a proxy, say).
    pub tls: Option<https::ServerTls>,
}

/// A recording played back as if live.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    /// Where it came from, for messages.
    pub source: String,
    /// Frames with their data times (ns), in recorded order.
    pub frames: Vec<(u64, linetwin_recorder::RecordedFrame)>,
    /// The recording's clock and time scale (from its hello).
    pub clock: linetwin_core::protocol::Clock,
    pub time_scale: f64,
    /// Recorded wall seconds per played second.
    pub speedup: f64,
    /// Data time (s) to start at.
    pub from_s: f64,
}

impl ReplayConfig {
    /// From a recording read back: its clock is that of its first hello.
    pub fn new(
        source: &str,
        recording: linetwin_recorder::Recording,
        speedup: f64,
        from_s: f64,
    ) -> Self {
        let hello = recording.frames.iter().find_map(|(_, frame)| {
            let text = std::str::from_utf8(&frame.bytes).ok()?;
            match linetwin_core::protocol::TextMessage::from_json(text).ok()? {
                linetwin_core::protocol::TextMessage::Hello {
                    clock, time_scale, ..
                } => Some((clock, time_scale)),
                _ => None,
            }
        });
        let (clock, time_scale) = hello.unwrap_or((linetwin_core::protocol::Clock::Unix, 1.0));
        ReplayConfig {
            source: source.to_owned(),
            frames: recording.frames,
            clock,
            time_scale,
            speedup,
            from_s,
        }
    }
}

/// How the built-in simulator runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatorConfig {
    pub seed: u64,
    /// Simulated seconds per wall-clock second; positive and finite.
    pub speedup: f64,
    /// Wall time between two rounds of scalar readings.
    pub readings_interval: Duration,
    /// Wall time between two rounds of waveform blocks.
    pub block_interval: Duration,
}

impl SimulatorConfig {
    /// Readings once a wall second, as a real plant's slow channels report.
    pub const DEFAULT_READINGS_INTERVAL: Duration = Duration::from_secs(1);

    pub fn new(seed: u64, speedup: f64, block_interval: Duration) -> Self {
        SimulatorConfig {
            seed,
            speedup,
            readings_interval: Self::DEFAULT_READINGS_INTERVAL,
            block_interval,
        }
    }
}

/// Why the server could not start. The messages are meant for the operator
/// who typed the command, so each one says what to change.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot read line file {path}: {error}")]
    ReadLine { path: String, error: std::io::Error },
    #[error(
        "cannot read scenario {path}: {error} (scenarios are files, or names under assets/scenarios/)"
    )]
    ReadScenario { path: String, error: std::io::Error },
    #[error(transparent)]
    Line(#[from] LineError),
    #[error(
        "cannot listen on {addr}: address already in use; choose another with --port or LINETWIN_PORT"
    )]
    AddressInUse { addr: String },
    #[error("cannot listen on {addr}: {error}")]
    Listen { addr: String, error: std::io::Error },
    #[error(
        "refusing to serve {addr} without sign-in: anyone on that network could read the line and send readings. \
         Add [auth] to the gateway config (--config, see docs/security.md) and an admin with \
         `linetwin-server user add NAME --role admin --config FILE`, or listen on 127.0.0.1"
    )]
    OpenOnNetwork { addr: String },
}

/// Reads a scenario (a path, or a name under `assets/scenarios/`) and
/// checks it against the line; the line's simulation becomes the story's.
pub fn load_scenario(
    name_or_path: &Path,
    line: &mut Line,
) -> Result<linetwin_core::scenario::Scenario, StartError> {
    let path = if name_or_path.exists() {
        name_or_path.to_path_buf()
    } else {
        Path::new("assets/scenarios")
            .join(name_or_path)
            .with_extension("json")
    };
    let label = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|error| StartError::ReadScenario {
        path: label.clone(),
        error,
    })?;
    let scenario = linetwin_core::scenario::Scenario::from_json(&label, &text, line)?;
    line.simulation = scenario.simulation_script(line);
    Ok(scenario)
}

/// Reads and validates a line description; errors name the file.
pub fn load_line(path: &Path) -> Result<Line, StartError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|error| StartError::ReadLine {
        path: label.clone(),
        error,
    })?;
    Ok(Line::from_json(&label, &text)?)
}

/// Binds the listening socket, turning the usual failures into advice.
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, StartError> {
    let addr = display_addr(host, port);
    TcpListener::bind((host, port))
        .await
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AddrInUse => StartError::AddressInUse { addr },
            _ => StartError::Listen { addr, error },
        })
}

/// `host:port`, with an IPv6 literal in brackets as in a URL.
fn display_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The one line printed on stdout at start; `cargo xtask run` and the
/// end-to-end test read the URL from it when port 0 was asked for.
pub fn listening_line(addr: SocketAddr, https: bool) -> String {
    let scheme = if https { "https" } else { "http" };
    format!("linetwin-server listening on {scheme}://{addr}/")
}

/// Serves until `shutdown` completes, then closes every WebSocket with
/// "going away" so viewers reconnect to the next instance, and returns.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    static_files::warn_if_viewer_missing(&config.web_root).await;
    check_secure_by_default(&config, &listener)?;
    let acceptor = config.tls.as_ref().map(https::acceptor).transpose()?;
    let work_orders = std::sync::Arc::new(open_work_orders(&config, &listener)?);
    warn_if_nobody_can_sign_in(&config, &work_orders);
    let _delivery = AbortOnDrop(tokio::spawn(std::sync::Arc::clone(&work_orders).deliver()));
    let (state, stop_sockets) = AppState::new(&config, work_orders);
    // Dropping the guard (also when this future is dropped) stops the simulator.
    let _simulator = match (config.simulator, state.sim_clock.clone()) {
        (Some(sim), Some(clock)) => Some(simulator::spawn(
            state.clone(),
            sim,
            state.scenario.clone(),
            clock,
        )),
        _ => None,
    };
    let _replay = config
        .replay
        .clone()
        .map(|replay| replay::spawn(state.clone(), replay));
    let _mqtt = match config.mqtt.clone() {
        Some(mqtt) => Some(mqtt::spawn(state.clone(), mqtt)?),
        None => None,
    };
    let recording = match config.record {
        Some(record) => Some(recording::spawn(state.clone(), record)?),
        None => None,
    };
    let app = router(state.clone(), &config.web_root, config.tls.is_some());
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down");
        // Tell WebSocket tasks too: hyper's graceful shutdown no longer
        // tracks a connection once it has been upgraded.
        let _ = stop_sockets.send(true);
    };
    let make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    match acceptor {
        None => {
            axum::serve(listener, make_service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(acceptor) => {
            use axum::serve::ListenerExt;
            // `tap_io` only to reach axum's ConnectInfo for any listener.
            let tls = https::TlsListener::new(listener, acceptor).tap_io(|_| {});
            axum::serve(tls, make_service)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
    .context("server failed")?;
    state.wait_for_sockets_to_close(SOCKET_CLOSE_GRACE).await;
    if let Some(recording) = recording {
        recording.finish().await;
    }
    Ok(())
}

/// Open (no sign-in) only on a loopback address: elsewhere the network
/// could read the line and inject readings.
fn check_secure_by_default(config: &Config, listener: &TcpListener) -> Result<(), StartError> {
    let addr = listener.local_addr().map_err(|error| StartError::Listen {
        addr: "the bound socket".into(),
        error,
    })?;
    match &config.auth {
        None if !addr.ip().is_loopback() => Err(StartError::OpenOnNetwork {
            addr: addr.to_string(),
        }),
        None => {
            tracing::info!(
                "no [auth] in the gateway config: open to this machine only ({addr}); see docs/security.md"
            );
            Ok(())
        }
        Some(auth) => {
            if !auth.secure_cookies && config.tls.is_none() && !addr.ip().is_loopback() {
                tracing::warn!(
                    "sign-in cookies travel in clear on {addr}: serve over HTTPS (a reverse proxy, docs/security.md) and set [auth] secure_cookies = true"
                );
            }
            Ok(())
        }
    }
}

fn warn_if_nobody_can_sign_in(config: &Config, work_orders: &work_orders::WorkOrders) {
    if config.auth.is_some() && !work_orders.store().has_credentials().unwrap_or(true) {
        tracing::warn!(
            "sign-in is on and nobody can sign in yet: add an admin with `linetwin-server user add NAME --role admin --config FILE`"
        );
    }
}

/// The state database and the work-order service. A replay keeps its
/// alarms in memory and sends nothing: a recording is not the plant now.
fn open_work_orders(
    config: &Config,
    listener: &TcpListener,
) -> anyhow::Result<work_orders::WorkOrders> {
    let replay = config.replay.is_some();
    let store = match (&config.state, replay) {
        (Some(state), false) => store::Store::open(&state.path)?,
        (Some(_), true) => {
            tracing::info!("replay: alarms are kept in memory and no work orders go out");
            store::Store::in_memory()?
        }
        (None, _) => {
            if !replay {
                tracing::warn!(
                    "no [state] path in the gateway config: alarms, acknowledgements and the work-order outbox are kept in memory and lost at restart"
                );
            }
            store::Store::in_memory()?
        }
    };
    let viewer_url = listener.local_addr().map_or_else(
        |_| "http://localhost/".to_owned(),
        |a| format!("http://{a}/"),
    );
    let orders = if replay {
        None
    } else {
        config.work_orders.clone()
    };
    Ok(work_orders::WorkOrders::new(
        store,
        orders,
        &config.line.id,
        viewer_url,
    ))
}

/// A task that stops with the server.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The gateway's wall clock in Unix seconds (0 on a clock set before 1970).
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Long enough for close frames to go out, short enough for a quick restart.
const SOCKET_CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Request bodies at most: the largest is a what-if plan of a whole line.
const MAX_REQUEST_BODY: usize = 256 * 1024;

fn router(state: AppState, web_root: &Path, https: bool) -> Router {
    use axum::routing::{delete, post};
    let guarded = Router::new()
        .route("/healthz", get(state::healthz))
        .route("/login", get(auth::api::login_page))
        .route("/kiosk", get(auth::api::kiosk_page))
        .route("/kiosk.js", get(auth::api::kiosk_script))
        .route("/admin", get(auth::api::admin_page))
        .route("/admin.js", get(auth::api::admin_script))
        .route("/api/login", post(auth::api::login))
        .route("/api/logout", post(auth::api::logout))
        .route("/api/me", get(auth::api::me))
        .route("/api/ws-ticket", post(auth::api::ws_ticket))
        .route("/api/kiosk/session", post(auth::api::kiosk_session))
        .route(
            "/api/users",
            get(auth::api::users).post(auth::api::add_user),
        )
        .route("/api/users/{name}", delete(auth::api::remove_user))
        .route(
            "/api/tokens",
            get(auth::api::tokens).post(auth::api::add_token),
        )
        .route("/api/tokens/{id}/revoke", post(auth::api::revoke_token))
        .route("/api/audit", get(auth::api::audit_log))
        .route("/api/line", get(state::line_description))
        .route("/api/recording.mcap", get(export::recording))
        .route("/api/scenario", get(scenario_control::describe))
        .route(
            "/api/scenario/chapter/{index}",
            post(scenario_control::chapter),
        )
        .route("/api/scenario/{command}", post(scenario_control::command))
        .route("/api/alarms", get(alarms_api::list))
        .route(
            "/api/alarms/{id}/acknowledge",
            post(alarms_api::acknowledge),
        )
        .route(
            "/api/alarms/{id}/work-order",
            post(alarms_api::request_work_order),
        )
        .route("/api/work-orders", get(alarms_api::work_orders))
        .route("/api/plans/work-order", post(alarms_api::request_plan))
        .route("/api/sensors", get(sensors_api::list))
        .route("/api/sensors/{sensor}/baseline", post(sensors_api::relearn))
        .route("/ws", get(viewer::upgrade))
        .route("/ws/ingest", get(ingest::upgrade))
        // Every route above, and only those (the viewer's files are public):
        // who may, from which page, how often.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ));
    guarded
        .merge(static_files::router(web_root))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .layer(axum::middleware::from_fn_with_state(
            security_headers::ViewerScripts::new(web_root, https),
            security_headers::add,
        ))
        // Requests are logged at debug level; the one expected 5xx (503 for a
        // missing viewer build) is already explained by a warning at start.
        .layer(
            TraceLayer::new_for_http()
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .with_state(state)
}
