//! Load on the gateway binary, in its own process so its memory can be
//! read: many viewers, viewers that never read, and a producer flooding
//! frames of the largest size the line allows, while a steady producer
//! sends readings whose arrival time at each live viewer is measured.
//!
//! The test below runs a small load and checks behaviour (the gateway's
//! memory stays under its bound, stuck viewers are let go, live viewers
//! keep receiving); `cargo test -p linetwin-server --release --test load
//! -- --ignored --nocapture` runs the full loads and prints the figures
//! reported in the README. Timings are reported, never asserted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use linetwin_core::protocol::{Reading, TextMessage, WaveformBlock};
use tokio::io::AsyncBufReadExt;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{http, unix_now, within};

/// What the gateway may hold for its viewers: 128 frames of the longest
/// block the demo line allows (10 s at 12.8 kHz: 512 kB), with room for
/// the process itself, its twin and the connections' buffers.
const RSS_BOUND_MB: f64 = 400.0;

struct GatewayProcess {
    child: tokio::process::Child,
    addr: SocketAddr,
    pid: u32,
}

impl GatewayProcess {
    async fn start() -> Self {
        let line = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/lines/demo.json");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_linetwin-server"))
            .args(["--no-simulator", "--port", "0", "--line", line])
            .args(["--web-root", "/nonexistent-linetwin-web"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the gateway starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        within(
            "the listening line",
            tokio::io::BufReader::new(stdout).read_line(&mut first),
        )
        .await
        .expect("stdout");
        let addr = first
            .trim_end()
            .strip_prefix("linetwin-server listening on http://")
            .and_then(|rest| rest.strip_suffix('/'))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        let pid = child.id().expect("running");
        GatewayProcess { child, addr, pid }
    }

    /// Resident memory now, in MB.
    fn rss_mb(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

#[derive(Debug, Clone, Copy)]
struct Load {
    viewers: usize,
    stuck: usize,
    flood: bool,
    seconds: f64,
}

#[derive(Debug)]
struct Figures {
    load: Load,
    latency_ms: [f64; 4],
    /// Readings the slowest live viewer got of those sent.
    fewest_readings: usize,
    readings_sent: usize,
    lag_warnings: usize,
    rss_start_mb: f64,
    rss_peak_mb: f64,
    rss_end_mb: f64,
    viewers_left_at_end: u64,
    flood_frames_sent: u64,
    flood_mb_sent: f64,
    ingest_accepted: u64,
    ingest_rejected: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

type SentAt = Arc<Mutex<HashMap<u64, Instant>>>;

/// A viewer that reads everything and times each reading of `P1-T`.
async fn live_viewer(addr: SocketAddr, sent: SentAt, stop: Instant) -> (Vec<f64>, usize) {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("a viewer connects");
    let mut latencies = Vec::new();
    let mut lag_warnings = 0;
    while Instant::now() < stop {
        let Ok(Some(Ok(message))) =
            tokio::time::timeout(Duration::from_millis(500), socket.next()).await
        else {
            continue;
        };
        let Message::Text(text) = message else {
            continue;
        };
        match TextMessage::from_json(&text) {
            Ok(TextMessage::Readings { t, .. }) => {
                let at = sent.lock().expect("lock").get(&t.to_bits()).copied();
                if let Some(at) = at {
                    latencies.push(at.elapsed().as_secs_f64() * 1000.0);
                }
            }
            Ok(TextMessage::Notice { message, .. }) if message.contains("frames dropped") => {
                lag_warnings += 1;
            }
            _ => {}
        }
    }
    let _ = socket.close(None).await;
    (latencies, lag_warnings)
}

/// Readings of P1-T ten times a second; the send time of each.
async fn steady_producer(addr: SocketAddr, sent: SentAt, stop: Instant) -> usize {
    let (mut producer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/ingest"))
        .await
        .expect("the producer connects");
    let mut count = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while Instant::now() < stop {
        tick.tick().await;
        let t = (unix_now() * 1000.0).round() / 1000.0;
        let readings = TextMessage::Readings {
            t,
            values: vec![Reading {
                sensor: "P1-T".into(),
                value: 40.0,
            }],
        };
        sent.lock()
            .expect("lock")
            .insert(t.to_bits(), Instant::now());
        if producer
            .send(Message::Text(readings.to_json().into()))
            .await
            .is_err()
        {
            break;
        }
        count += 1;
    }
    count
}

/// The largest block the demo line lets in, as fast as the socket takes it.
async fn flooding_producer(addr: SocketAddr, stop: Instant) -> (u64, f64) {
    let (producer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/ingest"))
        .await
        .expect("the flooding producer connects");
    let (mut sink, mut source) = producer.split();
    // Its notices are read and dropped, so the gateway's replies never block it.
    tokio::spawn(async move { while source.next().await.is_some() {} });
    let mut block = WaveformBlock {
        sensor: "P1-DE-V".into(),
        t_start: unix_now() - 600.0,
        sample_rate_hz: 12_800.0,
        shaft_rpm: Some(2955.0),
        samples: (0..128_000).map(|i| (i as f32 * 0.01).sin()).collect(),
    };
    let (mut frames, mut bytes) = (0u64, 0usize);
    while Instant::now() < stop {
        block.t_start += 0.01;
        let encoded = block.encode();
        bytes += encoded.len();
        if sink.send(Message::Binary(encoded.into())).await.is_err() {
            break;
        }
        frames += 1;
    }
    (frames, bytes as f64 / 1e6)
}

type Stuck = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Viewers that complete the handshake and never read again.
async fn stuck_viewers(addr: SocketAddr, n: usize) -> Vec<Stuck> {
    let mut held = Vec::new();
    for _ in 0..n {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (socket, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), stream)
            .await
            .expect("handshake");
        held.push(socket);
    }
    held
}

async fn run(load: Load) -> Figures {
    let gateway = GatewayProcess::start().await;
    let addr = gateway.addr;
    let rss_start_mb = gateway.rss_mb();
    let sent: SentAt = Arc::default();
    let stop = Instant::now() + Duration::from_secs_f64(load.seconds);
    let stuck = stuck_viewers(addr, load.stuck).await;
    let mut viewers = Vec::new();
    for _ in 0..load.viewers {
        viewers.push(tokio::spawn(live_viewer(addr, Arc::clone(&sent), stop)));
    }
    // Let every viewer have its hello before the data starts.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let producer = tokio::spawn(steady_producer(addr, Arc::clone(&sent), stop));
    let flood = load
        .flood
        .then(|| tokio::spawn(flooding_producer(addr, stop)));
    let mut rss_peak_mb = rss_start_mb;
    while Instant::now() < stop {
        rss_peak_mb = rss_peak_mb.max(gateway.rss_mb());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let readings_sent = producer.await.expect("producer");
    let (flood_frames_sent, flood_mb_sent) = match flood {
        Some(flood) => flood.await.expect("flood"),
        None => (0, 0.0),
    };
    let mut latencies = Vec::new();
    let mut fewest_readings = usize::MAX;
    let mut lag_warnings = 0;
    for viewer in viewers {
        let (got, warnings) = viewer.await.expect("viewer");
        fewest_readings = fewest_readings.min(got.len());
        lag_warnings += warnings;
        latencies.extend(got);
    }
    latencies.sort_by(f64::total_cmp);
    let (_, health) = http(addr, "GET", "/healthz", "").await;
    let figures = Figures {
        load,
        latency_ms: [
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(f64::NAN),
        ],
        fewest_readings: if load.viewers == 0 {
            0
        } else {
            fewest_readings
        },
        readings_sent,
        lag_warnings,
        rss_start_mb,
        rss_peak_mb: rss_peak_mb.max(gateway.rss_mb()),
        rss_end_mb: gateway.rss_mb(),
        viewers_left_at_end: health["clients"].as_u64().unwrap_or(u64::MAX),
        flood_frames_sent,
        flood_mb_sent,
        ingest_accepted: health["ingest"]["accepted"].as_u64().unwrap_or(0),
        ingest_rejected: health["ingest"]["rejected"].as_u64().unwrap_or(0),
    };
    drop(stuck);
    drop(gateway.child);
    figures
}

fn print(figures: &Figures) {
    let l = figures.load;
    println!(
        "| {} live, {} never reading{} | {:.0} s | p50 {:.1} / p95 {:.1} / p99 {:.1} / max {:.1} ms | {} of {} | {} | {:.0} → {:.0} (peak) → {:.0} MB | {} | {} frames, {:.0} MB offered; {} accepted, {} refused |",
        l.viewers,
        l.stuck,
        if l.flood { ", flood" } else { "" },
        l.seconds,
        figures.latency_ms[0],
        figures.latency_ms[1],
        figures.latency_ms[2],
        figures.latency_ms[3],
        figures.fewest_readings,
        figures.readings_sent,
        figures.lag_warnings,
        figures.rss_start_mb,
        figures.rss_peak_mb,
        figures.rss_end_mb,
        figures.viewers_left_at_end,
        figures.flood_frames_sent,
        figures.flood_mb_sent,
        figures.ingest_accepted,
        figures.ingest_rejected,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_and_viewers_that_never_read_leave_the_gateway_bounded_and_others_served() {
    let figures = run(Load {
        viewers: 20,
        stuck: 5,
        flood: true,
        seconds: 8.0,
    })
    .await;
    print(&figures);
    assert!(
        figures.rss_peak_mb < RSS_BOUND_MB,
        "the gateway held {:.0} MB",
        figures.rss_peak_mb
    );
    assert!(figures.flood_frames_sent > 0);
    assert!(
        figures.ingest_rejected > 0,
        "a flood past the byte budget is refused in part"
    );
    // Each live viewer kept getting readings through the flood.
    assert!(
        figures.fewest_readings * 2 >= figures.readings_sent,
        "a live viewer got {} of {} readings",
        figures.fewest_readings,
        figures.readings_sent
    );
}

/// The full loads, for the README (`--ignored`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: several minutes; run with --release --ignored --nocapture"]
async fn load_figures() {
    println!(
        "| load | length | reading to live viewer | readings at the slowest viewer | lag notices | gateway memory | viewers connected at the end | flood |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for load in [
        Load {
            viewers: 10,
            stuck: 0,
            flood: false,
            seconds: 20.0,
        },
        Load {
            viewers: 500,
            stuck: 0,
            flood: false,
            seconds: 30.0,
        },
        Load {
            viewers: 10,
            stuck: 20,
            flood: false,
            seconds: 20.0,
        },
        Load {
            viewers: 10,
            stuck: 20,
            flood: true,
            seconds: 45.0,
        },
    ] {
        let figures = run(load).await;
        print(&figures);
        assert!(figures.rss_peak_mb < RSS_BOUND_MB, "{figures:?}");
    }
}
