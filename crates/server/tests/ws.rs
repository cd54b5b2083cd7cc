//! The gateway over real sockets: a server bound on 127.0.0.1:0, WebSocket
//! clients from tokio-tungstenite, HTTP spoken by hand. Every await has a
//! timeout so a regression fails instead of hanging.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linetwin_core::line::{Line, SensorKind};
use linetwin_core::protocol::{
    Clock, NoticeLevel, PROTOCOL_VERSION, Reading, TextMessage, WaveformBlock,
};
use linetwin_server::{Config, SimulatorConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const STEP: Duration = Duration::from_secs(10);
/// Generating a round of demo waveforms is slower in an unoptimised build.
const WAVEFORM_WAIT: Duration = Duration::from_secs(60);

async fn within<T>(limit: Duration, what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {limit:?} waiting for {what}"))
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}

fn demo_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json")
}

fn demo_line() -> Line {
    linetwin_server::load_line(&demo_path()).expect("demo line loads")
}

/// A fresh, empty folder for this test under the system temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linetwin-server-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

struct TestServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    async fn start(config: Config) -> Self {
        let listener = linetwin_server::bind("127.0.0.1", 0)
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(linetwin_server::serve(listener, config, shutdown));
        TestServer {
            addr,
            stop: Some(stop),
            task,
        }
    }

    async fn connect(&self, path: &str) -> Client {
        let url = format!("ws://{}{path}", self.addr);
        let (client, _) = within(
            STEP,
            "websocket handshake",
            tokio_tungstenite::connect_async(url),
        )
        .await
        .expect("websocket connects");
        client
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        within(STEP, path, http_get(self.addr, path, headers)).await
    }

    async fn post(&self, path: &str) -> HttpResponse {
        within(STEP, path, http_request(self.addr, "POST", path, &[])).await
    }

    /// Stops the server and checks it shut down cleanly.
    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let result = within(STEP, "graceful shutdown", &mut self.task).await;
        result
            .expect("server task did not panic")
            .expect("server returned Ok");
    }
}

fn config(simulator: Option<SimulatorConfig>, web_root: PathBuf) -> Config {
    Config {
        line: demo_line(),
        web_root,
        simulator,
        record: None,
        replay: None,
        scenario: None,
        mqtt: None,
        state: None,
        work_orders: None,
        auth: None,
        tls: None,
    }
}

fn fast_simulator() -> SimulatorConfig {
    SimulatorConfig {
        seed: 7,
        speedup: 10.0,
        readings_interval: Duration::from_millis(200),
        block_interval: Duration::from_millis(200),
    }
}

// ---- a minimal HTTP/1.1 client: enough for status, headers and body ----

struct HttpResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("body is JSON")
    }
}

async fn http_get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_request(addr, "GET", path, headers).await
}

async fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut reader = tokio::io::BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .await
        .expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("header has a colon");
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body).await.expect("body");
    let response = HttpResponse {
        status,
        headers,
        body,
    };
    assert_ne!(
        response.header("transfer-encoding"),
        Some("chunked"),
        "this client does not de-chunk"
    );
    response
}

// ---- WebSocket helpers ----

async fn next_message(client: &mut Client, what: &str) -> Message {
    loop {
        let message = within(STEP, what, client.next())
            .await
            .unwrap_or_else(|| panic!("connection closed while waiting for {what}"))
            .expect("websocket error");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

async fn next_text(client: &mut Client, what: &str) -> TextMessage {
    match next_message(client, what).await {
        Message::Text(text) => {
            TextMessage::from_json(&text).expect("server text is a valid message")
        }
        other => panic!("expected {what} as text, got {other:?}"),
    }
}

fn assert_hello(message: &TextMessage, line: &Line) {
    let TextMessage::Hello {
        protocol, line_id, ..
    } = message
    else {
        panic!("first frame should be hello, got {message:?}");
    };
    assert_eq!(*protocol, PROTOCOL_VERSION);
    assert_eq!(line_id, &line.id);
}

// ---- tests ----

#[tokio::test]
async fn viewer_gets_hello_then_readings_then_waveforms() {
    let line = demo_line();
    let server = TestServer::start(config(Some(fast_simulator()), temp_dir("no-viewer"))).await;
    let mut viewer = server.connect("/ws").await;

    assert_hello(&next_text(&mut viewer, "hello").await, &line);

    let (mut saw_readings, mut block) = (false, None);
    let deadline = tokio::time::Instant::now() + WAVEFORM_WAIT;
    while !(saw_readings && block.is_some()) {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = within(remaining, "readings and a waveform", viewer.next())
            .await
            .expect("stream open")
            .expect("no websocket error");
        match message {
            Message::Text(text) => match TextMessage::from_json(&text).expect("valid text") {
                TextMessage::Readings { values, .. } => {
                    assert!(!values.is_empty());
                    for Reading { sensor, value } in &values {
                        let (_, s) = line
                            .sensor(sensor)
                            .unwrap_or_else(|| panic!("unknown sensor {sensor}"));
                        assert_ne!(s.kind, SensorKind::Vibration, "{sensor}");
                        assert!(value.is_finite());
                    }
                    saw_readings = true;
                }
                other => panic!("unexpected text frame {other:?}"),
            },
            Message::Binary(bytes) => {
                block = Some(WaveformBlock::decode(&bytes).expect("frame decodes"))
            }
            _ => {}
        }
    }
    let block = block.expect("a block arrived");
    let (_, sensor) = line
        .sensor(&block.sensor)
        .expect("block sensor is in the line");
    assert_eq!(sensor.kind, SensorKind::Vibration);
    assert_eq!(block.samples.len(), 16_384);
    assert_eq!(block.sample_rate_hz, 12_800.0);

    let health = server.get("/healthz", &[]).await.json();
    assert_eq!(health["clients"], 1);
    drop(viewer);
    server.stop().await;
}

#[tokio::test]
async fn api_line_and_healthz_describe_the_line() {
    let line = demo_line();
    let server = TestServer::start(config(None, temp_dir("api"))).await;

    let response = server.get("/api/line", &[]).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("cache-control"), Some("private, no-cache"));
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    let text = String::from_utf8(response.body).expect("utf-8");
    let served = Line::from_json("/api/line", &text).expect("served line is valid");
    assert_eq!(served.id, line.id);
    assert_eq!(served.assets.len(), line.assets.len());
    assert_eq!(served, line);

    let response = server.get("/healthz", &[]).await;
    assert_eq!(response.status, 200);
    let health = response.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["line_id"], line.id.as_str());
    assert_eq!(health["clients"], 0);
    assert_eq!(health["simulator"], false);
    assert!(health["uptime_s"].as_f64().is_some_and(|s| s >= 0.0));
    assert_eq!(health["ingest"]["accepted"], 0);
    server.stop().await;
}

#[tokio::test]
async fn static_files_are_precompressed_typed_and_cached() {
    let root = temp_dir("web");
    let wasm = "linetwin-0123456789abcdef_bg.wasm";
    std::fs::write(
        root.join("index.html"),
        "<!doctype html><title>linetwin</title>",
    )
    .expect("write");
    std::fs::write(root.join(wasm), b"\0asm plain").expect("write");
    std::fs::write(root.join(format!("{wasm}.br")), b"brotli bytes").expect("write");
    std::fs::write(root.join(format!("{wasm}.gz")), b"gzip bytes").expect("write");
    std::fs::write(root.join("logo.png"), b"png").expect("write");
    let server = TestServer::start(config(None, root)).await;

    let index = server.get("/", &[]).await;
    assert_eq!(index.status, 200);
    assert!(String::from_utf8_lossy(&index.body).contains("<title>linetwin</title>"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert!(
        index
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );

    let path = format!("/{wasm}");
    let br = server.get(&path, &[("Accept-Encoding", "gzip, br")]).await;
    assert_eq!(br.status, 200);
    assert_eq!(br.header("content-type"), Some("application/wasm"));
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"brotli bytes");
    assert_eq!(
        br.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );

    let gz = server.get(&path, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(gz.body, b"gzip bytes");

    let plain = server.get(&path, &[]).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("content-type"), Some("application/wasm"));
    assert_eq!(plain.body, b"\0asm plain");

    let logo = server.get("/logo.png", &[]).await;
    assert_eq!(logo.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(logo.header("content-type"), Some("image/png"));

    assert_eq!(server.get("/missing.js", &[]).await.status, 404);
    server.stop().await;
}

#[tokio::test]
async fn root_without_viewer_build_answers_503_and_api_still_works() {
    let server = TestServer::start(config(None, temp_dir("empty").join("dist"))).await;
    let root = server.get("/", &[]).await;
    assert_eq!(root.status, 503);
    assert!(String::from_utf8_lossy(&root.body).contains("cargo xtask run"));
    assert_eq!(server.get("/healthz", &[]).await.status, 200);
    server.stop().await;
}

fn waveform_frame(sensor: &str) -> Vec<u8> {
    WaveformBlock {
        sensor: sensor.into(),
        t_start: unix_now(),
        sample_rate_hz: 12_800.0,
        shaft_rpm: Some(1480.0),
        samples: (0..1024).map(|i| (i as f32 * 0.05).sin()).collect(),
    }
    .encode()
}

async fn expect_rejection(producer: &mut Client, what: &str) -> String {
    match next_text(producer, what).await {
        TextMessage::Notice {
            level: NoticeLevel::Warning,
            message,
        } => message,
        other => panic!("expected a warning notice for {what}, got {other:?}"),
    }
}

#[tokio::test]
async fn ingest_forwards_valid_frames_and_counts_bad_ones() {
    let line = demo_line();
    let server = TestServer::start(config(None, temp_dir("ingest"))).await;
    let mut viewer = server.connect("/ws").await;
    assert_hello(&next_text(&mut viewer, "viewer hello").await, &line);
    let mut producer = server.connect("/ws/ingest").await;
    assert_hello(&next_text(&mut producer, "producer hello").await, &line);

    // Stamped now: the gateway refuses times far from its own clock.
    let t_sent = unix_now().floor() + 0.5;
    let readings = format!(
        r#"{{"type":"readings","t":{t_sent},"values":[{{"sensor":"M1-T","value":57.25}}]}}"#
    );
    within(
        STEP,
        "send readings",
        producer.send(Message::text(readings)),
    )
    .await
    .expect("sent");
    match next_text(&mut viewer, "forwarded readings").await {
        TextMessage::Readings { t, values } => {
            assert_eq!(t, t_sent);
            assert_eq!(
                values,
                vec![Reading {
                    sensor: "M1-T".into(),
                    value: 57.25
                }]
            );
        }
        other => panic!("expected readings, got {other:?}"),
    }

    let mut bad_magic = waveform_frame("M1-DE-V");
    bad_magic[..4].copy_from_slice(b"JUNK");
    within(
        STEP,
        "send bad frame",
        producer.send(Message::binary(bad_magic)),
    )
    .await
    .expect("sent");
    assert!(
        expect_rejection(&mut producer, "bad magic")
            .await
            .contains("magic")
    );

    let unknown = waveform_frame("NOPE-V");
    within(
        STEP,
        "send unknown sensor",
        producer.send(Message::binary(unknown)),
    )
    .await
    .expect("sent");
    assert!(
        expect_rejection(&mut producer, "unknown sensor")
            .await
            .contains("NOPE-V")
    );

    // Still alive after bad frames: a valid waveform goes through unchanged.
    let good = waveform_frame("M1-DE-V");
    within(
        STEP,
        "send waveform",
        producer.send(Message::binary(good.clone())),
    )
    .await
    .expect("sent");
    match next_message(&mut viewer, "forwarded waveform").await {
        Message::Binary(bytes) => assert_eq!(bytes.as_ref(), good.as_slice()),
        other => panic!("expected the waveform, got {other:?}"),
    }

    // A producer whose clock runs an hour ahead is refused, with the reason.
    let ahead = format!(
        r#"{{"type":"readings","t":{},"values":[{{"sensor":"M1-T","value":57.0}}]}}"#,
        unix_now() + 3600.0
    );
    within(
        STEP,
        "send readings from the future",
        producer.send(Message::text(ahead)),
    )
    .await
    .expect("sent");
    assert!(
        expect_rejection(&mut producer, "clock ahead")
            .await
            .contains("ahead of the gateway's clock")
    );

    let health = server.get("/healthz", &[]).await.json();
    assert_eq!(health["ingest"]["accepted"], 2);
    assert_eq!(health["ingest"]["rejected"], 3);
    assert_eq!(health["sources"]["ws_ingest"]["accepted"], 2);
    assert!(
        health["sources"]["ws_ingest"]["last_rejection"]
            .as_str()
            .is_some_and(|r| r.contains("ahead")),
        "{health}"
    );
    assert_eq!(health["clients"], 1);
    assert_eq!(health["simulator"], false);

    let _ = producer.close(None).await;
    let _ = viewer.close(None).await;
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_viewers_with_going_away() {
    let line = demo_line();
    let server = TestServer::start(config(None, temp_dir("shutdown"))).await;
    let mut viewer = server.connect("/ws").await;
    assert_hello(&next_text(&mut viewer, "hello").await, &line);
    server.stop().await;
    match next_message(&mut viewer, "close frame").await {
        Message::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

// ---- the binary ----

async fn run_binary(args: &[&str]) -> std::process::Output {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_linetwin-server"))
        .args(args)
        .env_remove("LINETWIN_BIND")
        .env_remove("LINETWIN_PORT")
        .env_remove("LINETWIN_LINE")
        .env_remove("LINETWIN_WEB_ROOT")
        .kill_on_drop(true)
        .output();
    within(STEP, "the binary to exit", child)
        .await
        .expect("binary runs")
}

#[tokio::test]
async fn busy_port_is_a_clear_error() {
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();

    let err = linetwin_server::bind("127.0.0.1", taken.local_addr().expect("addr").port())
        .await
        .expect_err("port is taken");
    let expected = format!(
        "cannot listen on 127.0.0.1:{port}: address already in use; choose another with --port or LINETWIN_PORT"
    );
    assert_eq!(err.to_string(), expected);

    let demo = demo_path();
    let web = temp_dir("busy");
    let out = run_binary(&[
        "--port",
        &port,
        "--line",
        demo.to_str().expect("utf-8 path"),
        "--web-root",
        web.to_str().expect("utf-8 path"),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail; stderr: {stderr}");
    assert!(stderr.contains(&expected), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(out.stdout.is_empty(), "nothing announced on stdout");
}

#[tokio::test]
async fn bad_line_file_is_named_in_the_error() {
    let dir = temp_dir("bad-line");
    let missing = dir.join("absent.json");
    let err = linetwin_server::load_line(&missing).expect_err("missing file");
    assert!(err.to_string().contains("absent.json"), "{err}");

    let broken = dir.join("plant.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo_path()).expect("read demo"))
            .expect("json");
    value["assets"][0]["rated_speed_rpm"] = "fast".into();
    std::fs::write(&broken, value.to_string()).expect("write");
    let out = run_binary(&[
        "--port",
        "0",
        "--line",
        broken.to_str().expect("utf-8 path"),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail; stderr: {stderr}");
    assert!(stderr.contains("plant.json"), "names the file: {stderr}");
    assert!(
        stderr.contains("assets[0].rated_speed_rpm"),
        "names the field: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");

    let out = run_binary(&[
        "--port",
        "0",
        "--line",
        missing.to_str().expect("utf-8 path"),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("absent.json"), "names the file: {stderr}");
}

#[tokio::test]
async fn bad_speedup_is_refused_by_the_command_line() {
    for speedup in ["0", "-2", "inf", "NaN", "fast"] {
        let out = run_binary(&["--speedup", speedup, "--port", "0"]).await;
        assert!(
            !out.status.success(),
            "--speedup {speedup} should be refused"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("--speedup"));
    }
}

#[cfg(unix)]
#[tokio::test]
async fn binary_announces_its_url_and_stops_on_sigterm() {
    let demo = demo_path();
    let web = temp_dir("binary");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_linetwin-server"))
        .args(["--port", "0", "--block-interval", "0.5"])
        .args(["--line", demo.to_str().expect("utf-8 path")])
        .args(["--web-root", web.to_str().expect("utf-8 path")])
        .env_remove("LINETWIN_BIND")
        .env_remove("LINETWIN_PORT")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    within(
        STEP,
        "the listening line",
        tokio::io::BufReader::new(stdout).read_line(&mut first),
    )
    .await
    .expect("read stdout");
    let url = first
        .trim_end()
        .strip_prefix("linetwin-server listening on http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let addr: SocketAddr = url.parse().expect("address in the URL");
    assert_eq!(
        http_get(addr, "/healthz", &[]).await.json()["simulator"],
        true
    );

    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = within(STEP, "exit after SIGTERM", child.wait())
        .await
        .expect("wait");
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

/// A live run of the fast simulator with the recorder on: the frames one
/// viewer got until `enough` says stop, and the one file it left.
async fn record_live_run(
    name: &str,
    enough: impl Fn(&[Vec<u8>]) -> bool,
) -> (Vec<Vec<u8>>, Vec<PathBuf>) {
    let dir = temp_dir(name);
    let mut with_recorder = config(Some(fast_simulator()), temp_dir(&format!("{name}-web")));
    with_recorder.record = Some(linetwin_recorder::RecorderConfig::new(&dir));
    let server = TestServer::start(with_recorder).await;
    let mut viewer = server.connect("/ws").await;
    let _hello = next_text(&mut viewer, "hello").await;
    let mut seen: Vec<Vec<u8>> = Vec::new();
    while !enough(&seen) {
        match next_message(&mut viewer, "stream").await {
            Message::Text(text) => seen.push(text.as_bytes().to_vec()),
            Message::Binary(bytes) => seen.push(bytes.to_vec()),
            _ => {}
        }
    }
    drop(viewer);
    server.stop().await;
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    (seen, files)
}

#[tokio::test]
async fn every_frame_a_viewer_gets_is_recorded_and_the_file_is_finished() {
    let (seen, files) = record_live_run("recording", |seen| {
        seen.iter().filter(|b| b.first() != Some(&b'{')).count() >= 20
    })
    .await;
    assert_eq!(files.len(), 1, "{files:?}");
    let recording = linetwin_recorder::read_recording(&files[0]).expect("readable");
    assert_eq!(
        recording.truncated, None,
        "the server finished the file on shutdown"
    );
    let line: Line = serde_json::from_str(recording.line_json.as_deref().unwrap()).unwrap();
    assert_eq!(line.id, demo_line().id);
    let recorded: Vec<Vec<u8>> = recording
        .frames
        .iter()
        .map(|(_, f)| f.bytes.clone())
        .collect();
    let hello = TextMessage::from_json(std::str::from_utf8(&recorded[0]).unwrap()).unwrap();
    assert_hello(&hello, &line);
    // What the viewer saw is a run of what was recorded, in the same order.
    let start = recorded
        .iter()
        .position(|r| *r == seen[0])
        .expect("the viewer's first frame was recorded");
    assert_eq!(recorded[start..start + seen.len()], seen[..]);
}

#[tokio::test]
async fn a_time_range_of_the_recording_downloads_as_one_mcap_file() {
    let dir = temp_dir("export");
    let mut with_recorder = config(Some(fast_simulator()), temp_dir("export-web"));
    with_recorder.record = Some(linetwin_recorder::RecorderConfig {
        flush_every_s: 0.1,
        ..linetwin_recorder::RecorderConfig::new(&dir)
    });
    let server = TestServer::start(with_recorder).await;
    let mut viewer = server.connect("/ws").await;
    let _hello = next_text(&mut viewer, "hello").await;
    let mut binary = 0;
    while binary < 40 {
        if let Message::Binary(_) = next_message(&mut viewer, "stream").await {
            binary += 1;
        }
    }
    let response = server.get("/api/recording.mcap?from=0", &[]).await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .header("content-disposition")
            .unwrap()
            .contains(".mcap")
    );
    let file = temp_dir("export-out").join("range.mcap");
    std::fs::write(&file, &response.body).unwrap();
    let range = linetwin_recorder::read_recording(&file).expect("an MCAP file");
    assert_eq!(range.truncated, None);
    assert!(range.line_json.is_some());
    assert!(range.frames.len() > 10, "{} frames", range.frames.len());
    let bad = server.get("/api/recording.mcap?from=soon", &[]).await;
    assert_eq!(bad.status, 400);
    assert!(String::from_utf8_lossy(&bad.body).contains("field `from`"));
    drop(viewer);
    server.stop().await;
    let not_recording = TestServer::start(config(None, temp_dir("export-none"))).await;
    assert_eq!(
        not_recording.get("/api/recording.mcap", &[]).await.status,
        404
    );
    not_recording.stop().await;
}

#[tokio::test]
async fn an_unusable_recording_folder_is_a_clear_error_at_start() {
    let file = temp_dir("record-on-a-file").join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let line = demo_path();
    let out = run_binary(&[
        "--port",
        "0",
        "--line",
        line.to_str().unwrap(),
        "--record",
        file.to_str().unwrap(),
    ])
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plain-file"), "{stderr}");
}

#[tokio::test]
async fn a_recording_replays_as_the_same_frames_marked_as_a_replay() {
    let (live, files) = record_live_run("replay-source", |seen| seen.len() >= 40).await;
    let file = &files[0];
    let recording = linetwin_recorder::read_recording(file).unwrap();

    let mut replaying = config(None, temp_dir("replay-web-2"));
    replaying.replay = Some(linetwin_server::ReplayConfig::new(
        "test.mcap",
        recording,
        4.0,
        0.0,
    ));
    let server = TestServer::start(replaying).await;
    let mut viewer = server.connect("/ws").await;
    match next_text(&mut viewer, "hello").await {
        TextMessage::Hello {
            replay,
            clock,
            time_scale,
            ..
        } => {
            assert!(replay, "the hello says it is a replay");
            assert_eq!(clock, Clock::Simulated);
            assert_eq!(
                time_scale,
                10.0 * 4.0,
                "the recording's scale times the playback speed-up"
            );
        }
        other => panic!("not a hello: {other:?}"),
    }
    let mut replayed: Vec<Vec<u8>> = Vec::new();
    loop {
        match next_message(&mut viewer, "replayed stream").await {
            Message::Text(text) if text.as_str().contains("has ended") => break,
            Message::Text(text) => replayed.push(text.as_bytes().to_vec()),
            Message::Binary(bytes) => replayed.push(bytes.to_vec()),
            _ => {}
        }
    }
    let start = replayed
        .iter()
        .position(|f| *f == live[0])
        .expect("the live run's first frame is replayed");
    let n = (replayed.len() - start).min(live.len());
    assert!(n >= 20, "{n} frames to compare");
    assert_eq!(
        replayed[start..start + n],
        live[..n],
        "the same frames, in the same order"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_scenario_tells_its_captions_in_order_and_ends_its_fault() {
    let mut line = demo_line();
    let story = linetwin_server::load_scenario(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/scenarios/fan-unbalance.json"),
        &mut line,
    )
    .expect("the shipped story loads");
    assert_eq!(
        line.simulation.faults[0].until_s,
        Some(240.0),
        "balancing ends the unbalance"
    );
    let mut told = config(
        Some(SimulatorConfig {
            speedup: 200.0,
            ..fast_simulator()
        }),
        temp_dir("scenario-web"),
    );
    told.line = line;
    told.scenario = Some(story.clone());
    let server = TestServer::start(told).await;
    let mut viewer = server.connect("/ws").await;
    let _hello = next_text(&mut viewer, "hello").await;
    let mut captions = Vec::new();
    let mut relearned = Vec::new();
    while captions.len() < story.captions.len() {
        if let Message::Text(text) = next_message(&mut viewer, "captions").await {
            match TextMessage::from_json(&text) {
                Ok(TextMessage::Caption {
                    t, text, chapter, ..
                }) => captions.push((t, text, chapter)),
                Ok(TextMessage::Baseline {
                    sensor,
                    t,
                    value_mm_s,
                    by,
                }) => relearned.push((sensor, t, value_mm_s, by)),
                _ => {}
            }
        }
    }
    // The balancing is maintenance: FN1's vibration baselines are learned
    // afresh from then on, and every viewer is told (before the last caption).
    let fn1_vibration: Vec<String> = demo_line()
        .asset("FN1")
        .expect("FN1")
        .sensors
        .iter()
        .filter(|s| s.kind == linetwin_core::line::SensorKind::Vibration)
        .map(|s| s.id.clone())
        .collect();
    assert_eq!(
        relearned,
        fn1_vibration
            .iter()
            .map(|s| (
                s.clone(),
                240.0,
                None,
                Some("scenario (balance FN1)".to_owned())
            ))
            .collect::<Vec<_>>()
    );
    let expected: Vec<f64> = story.captions.iter().map(|c| c.at_s).collect();
    assert_eq!(
        captions.iter().map(|c| c.0).collect::<Vec<_>>(),
        expected,
        "in order, at their times"
    );
    assert_eq!(captions[0].2.as_deref(), Some("After the repair"));
    assert_eq!(
        captions.last().unwrap().2.as_deref(),
        Some("Back to normal")
    );
    drop(viewer);
    server.stop().await;
}

#[tokio::test]
async fn a_rewound_story_does_not_record_its_maintenance_again() {
    let mut line = demo_line();
    let story = linetwin_server::load_scenario(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/scenarios/fan-unbalance.json"),
        &mut line,
    )
    .expect("the shipped story loads");
    let last_caption = story.captions.last().expect("captions").at_s;
    let mut told = config(
        Some(SimulatorConfig {
            speedup: 200.0,
            ..fast_simulator()
        }),
        temp_dir("scenario-rewound"),
    );
    told.line = line;
    told.scenario = Some(story);
    let server = TestServer::start(told).await;
    let mut viewer = server.connect("/ws").await;
    let _hello = next_text(&mut viewer, "hello").await;
    // Told through to its last caption twice, restarted in between: the
    // balancing at 240 s is recorded and told the first time only. A
    // tick's maintenance follows its readings and captions: each pass ends
    // at the readings of the tick after the last caption.
    let mut relearned = [0, 0];
    for (pass, count) in relearned.iter_mut().enumerate() {
        if pass == 1 {
            assert_eq!(server.post("/api/scenario/restart").await.status, 200);
        }
        let mut told_all = false;
        loop {
            let Message::Text(text) = next_message(&mut viewer, "the story").await else {
                continue;
            };
            match TextMessage::from_json(&text) {
                // To be learned afresh (learned values are told too).
                Ok(TextMessage::Baseline {
                    value_mm_s: None, ..
                }) => *count += 1,
                Ok(TextMessage::Caption { t, .. }) if t == last_caption => told_all = true,
                Ok(TextMessage::Readings { .. }) if told_all => break,
                _ => {}
            }
        }
    }
    assert!(relearned[0] > 0, "{relearned:?}");
    assert_eq!(relearned[1], 0, "not again after the rewind");
    drop(viewer);
    server.stop().await;
}

#[tokio::test]
async fn a_bad_scenario_is_named_with_its_field() {
    let dir = temp_dir("bad-scenario");
    let file = dir.join("story.json");
    std::fs::write(&file, r#"{"id":"x","name":"x","line":"bottling-line-1","faults":[{"sensor":"P1-T","mode":"unbalance","onset_s":0,"ramp_s":1}]}"#).unwrap();
    let line = demo_path();
    let out = run_binary(&[
        "--port",
        "0",
        "--line",
        line.to_str().unwrap(),
        "--scenario",
        file.to_str().unwrap(),
    ])
    .await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("story.json") && stderr.contains("faults[0].sensor"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_demo_can_be_paused_moved_to_a_chapter_and_restarted() {
    let mut line = demo_line();
    let story = linetwin_server::load_scenario(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/scenarios/fan-unbalance.json"),
        &mut line,
    )
    .unwrap();
    let mut told = config(
        Some(SimulatorConfig {
            speedup: 20.0,
            ..fast_simulator()
        }),
        temp_dir("remote-web"),
    );
    told.line = line;
    told.scenario = Some(story);
    let server = TestServer::start(told).await;
    let mut viewer = server.connect("/ws").await;
    match next_text(&mut viewer, "hello").await {
        TextMessage::Hello { scenario, .. } => {
            let info = scenario.expect("the hello names the story");
            assert_eq!(info.id, "fan-unbalance");
            assert_eq!(info.chapters[2], (240.0, "Balancing".to_owned()));
        }
        other => panic!("{other:?}"),
    }
    let t = |r: &HttpResponse| r.json()["t"].as_f64().unwrap();
    let paused = server.post("/api/scenario/pause").await;
    assert_eq!(paused.status, 200);
    assert_eq!(paused.json()["running"], false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = server.get("/api/scenario", &[]).await;
    assert_eq!(t(&later), t(&paused), "a paused story's time stands still");

    let moved = server.post("/api/scenario/chapter/2").await;
    assert_eq!(moved.json()["chapter"], "Balancing");
    assert!((t(&moved) - 240.0).abs() < 1.0, "{}", t(&moved));
    server.post("/api/scenario/resume").await;
    // The chapter's own caption, at its very start, is told.
    loop {
        if let Message::Text(text) = next_message(&mut viewer, "the chapter's caption").await
            && let Ok(TextMessage::Caption { t, .. }) = TextMessage::from_json(&text)
        {
            assert_eq!(t, 240.0);
            break;
        }
    }

    let restarted = server.post("/api/scenario/restart").await;
    assert!(t(&restarted) < 5.0);
    // Back in time: viewers get a fresh hello, then the story from its start.
    loop {
        if let Message::Text(text) = next_message(&mut viewer, "a fresh hello").await
            && matches!(TextMessage::from_json(&text), Ok(TextMessage::Hello { .. }))
        {
            break;
        }
    }
    loop {
        if let Message::Text(text) = next_message(&mut viewer, "the first caption again").await
            && let Ok(TextMessage::Caption { t, .. }) = TextMessage::from_json(&text)
        {
            assert_eq!(t, 2.0, "the story is told from its start");
            break;
        }
    }
    // Paused while the first caption shows: one who joins now gets it
    // right after the hello.
    server.post("/api/scenario/pause").await;
    let mut late = server.connect("/ws").await;
    let _hello = next_text(&mut late, "hello").await;
    match next_text(&mut late, "the caption in force").await {
        TextMessage::Caption { t, .. } => assert_eq!(t, 2.0),
        other => panic!("expected the caption on show, got {other:?}"),
    }
    drop(late);
    assert_eq!(server.post("/api/scenario/rewind").await.status, 400);
    assert_eq!(server.post("/api/scenario/chapter/9").await.status, 400);
    drop(viewer);
    server.stop().await;
    let plain = TestServer::start(config(Some(fast_simulator()), temp_dir("remote-none"))).await;
    assert_eq!(plain.post("/api/scenario/pause").await.status, 404);
    plain.stop().await;
}

#[tokio::test]
async fn a_viewer_that_falls_behind_is_told_and_greeted_again() {
    let line = demo_line();
    let server = TestServer::start(config(None, temp_dir("lagging"))).await;
    let mut slow = server.connect("/ws").await;
    assert_hello(&next_text(&mut slow, "viewer hello").await, &line);
    let mut producer = server.connect("/ws/ingest").await;
    next_text(&mut producer, "producer hello").await;
    // Far more than the hub's channel and the sockets' buffers hold, while
    // the viewer reads nothing.
    let frame = WaveformBlock {
        sensor: "M1-DE-V".into(),
        t_start: unix_now(),
        sample_rate_hz: 12_800.0,
        shaft_rpm: Some(1480.0),
        samples: (0..16_384).map(|i| (i as f32 * 0.05).sin()).collect(),
    }
    .encode();
    for _ in 0..1_500 {
        within(STEP, "flood", producer.send(Message::binary(frame.clone())))
            .await
            .expect("sent");
    }
    let mut binary_frames = 0;
    let warning = loop {
        match next_message(&mut slow, "the lag warning").await {
            Message::Binary(_) => binary_frames += 1,
            Message::Text(text) => match TextMessage::from_json(&text).expect("valid") {
                TextMessage::Notice {
                    level: NoticeLevel::Warning,
                    message,
                } => break message,
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(warning.contains("frames dropped"), "{warning}");
    assert!(
        binary_frames < 1_500,
        "{binary_frames} frames before the warning"
    );
    // A hello it may have missed is said again.
    match next_message(&mut slow, "the hello again").await {
        Message::Text(text) => {
            assert_hello(&TextMessage::from_json(&text).expect("valid"), &line);
        }
        other => panic!("expected the hello again, got a {} byte frame", other.len()),
    }
    server.stop().await;
}
