//! Baselines kept by the gateway: its own twin learns a vibration sensor's
//! normal level from real diagnoses of the first blocks a producer sends,
//! records it in SQLite, tells every viewer that joins, keeps it across a
//! restart (so that a worn machine is not learned as normal), and learns
//! it afresh when a person asks after maintenance.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linetwin_core::line::Line;
use linetwin_core::protocol::TextMessage;
use linetwin_core::sim::Simulator;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{Gateway, http, temp_dir, unix_now, within};

const SENSOR: &str = "P1-DE-V";

fn demo_line() -> Line {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json");
    linetwin_server::load_line(&path).expect("demo line")
}

/// Sends P1's drive-end blocks the simulator makes at story times
/// `story_t` (the demo's fault on P1 starts at 20 s and grows), stamped
/// from `stamp_from` on, 2 s apart.
async fn send_blocks(addr: SocketAddr, story_t: &[f64], stamp_from: f64) -> f64 {
    let sim = Simulator::new(&demo_line(), 11);
    let (mut producer, _) = within(
        "producer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/ingest")),
    )
    .await
    .expect("producer connects");
    let mut stamp = stamp_from;
    for &t in story_t {
        let mut block = sim.waveform(SENSOR, t).expect("a vibration sensor");
        block.t_start = stamp;
        producer
            .send(Message::Binary(block.encode().into()))
            .await
            .expect("send");
        stamp += 2.0;
    }
    let _ = producer.close(None).await;
    stamp
}

fn story(from: f64) -> Vec<f64> {
    (0..10).map(|k| from + 2.0 * f64::from(k)).collect()
}

async fn sensor_record(gateway: &Gateway) -> serde_json::Value {
    let sensors = gateway.get("/api/sensors").await;
    sensors["sensors"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["sensor"] == SENSOR).cloned())
        .unwrap_or_else(|| panic!("{SENSOR} is listed: {sensors}"))
}

async fn wait_for_record(
    gateway: &Gateway,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    within(what, async {
        loop {
            let record = sensor_record(gateway).await;
            if check(&record) {
                return record;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
}

type Viewer =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn viewer(addr: SocketAddr) -> Viewer {
    within(
        "viewer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("viewer connects")
    .0
}

/// The next `baseline` message for the sensor.
async fn next_baseline(viewer: &mut Viewer) -> (Option<f64>, Option<String>) {
    within("a baseline message", async {
        loop {
            let message = viewer.next().await.expect("open").expect("a frame");
            if let Message::Text(text) = message
                && let Ok(TextMessage::Baseline {
                    sensor,
                    value_mm_s,
                    by,
                    ..
                }) = TextMessage::from_json(text.as_str())
                && sensor == SENSOR
            {
                return (value_mm_s, by);
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learned_baseline_is_kept_across_a_restart_and_learned_afresh_on_request() {
    let dir = temp_dir("baselines");
    let toml = format!("[state]\npath = \"{}\"\n", dir.join("state.db").display());
    let start = unix_now().floor() - 3_600.0;

    // The healthy machine's first blocks make its baseline.
    let gateway = Gateway::start(&toml, &dir).await;
    let mut early_viewer = viewer(gateway.addr).await;
    let end = send_blocks(gateway.addr, &story(0.0), start).await;
    let record = wait_for_record(&gateway, "the learned baseline", |r| {
        r["baseline"]["value_mm_s"].is_f64()
    })
    .await;
    let healthy = record["baseline"]["value_mm_s"].as_f64().expect("a value");
    assert!(healthy > 0.0 && healthy < 4.5, "{record}");
    assert_eq!(
        record["baseline"]["commissioned_by"],
        serde_json::Value::Null
    );
    assert_eq!(
        next_baseline(&mut early_viewer).await,
        (Some(healthy), None),
        "a viewer watching is told what the gateway learned"
    );
    // The last value is written within seconds.
    let record = wait_for_record(&gateway, "the last value", |r| {
        r["last"]["t"].as_f64().is_some_and(|t| t >= end - 2.0)
    })
    .await;
    assert_eq!(record["last"]["unit"], "mm/s", "{record}");
    gateway.stop().await;

    // Restarted: the record's baseline is told to a viewer that joins, and
    // blocks from the worn machine do not become its normal.
    let gateway = Gateway::start(&toml, &dir).await;
    let record = sensor_record(&gateway).await;
    assert_eq!(record["baseline"]["value_mm_s"], healthy, "{record}");
    assert!(
        record["last"]["t"].as_f64().is_some_and(|t| t >= end - 2.0),
        "{record}"
    );
    let mut joining = viewer(gateway.addr).await;
    assert_eq!(next_baseline(&mut joining).await, (Some(healthy), None));
    let worn_from = send_blocks(gateway.addr, &story(300.0), end + 60.0).await;
    let record = wait_for_record(&gateway, "the worn blocks to be seen", |r| {
        r["last"]["t"]
            .as_f64()
            .is_some_and(|t| t >= worn_from - 2.0)
    })
    .await;
    let worn = record["last"]["value"].as_f64().expect("a velocity");
    assert!(
        worn > 2.0 * healthy,
        "worn {worn} against healthy {healthy}"
    );
    assert_eq!(record["baseline"]["value_mm_s"], healthy, "{record}");

    // Refusals say why.
    let bad = [
        ("/api/sensors/P1-T/baseline", r#"{"by": "maria"}"#, 400),
        ("/api/sensors/nope/baseline", r#"{"by": "maria"}"#, 404),
        ("/api/sensors/P1-DE-V/baseline", r#"{"who": "maria"}"#, 400),
    ];
    for (path, body, expected) in bad {
        let (status, answer) = http(gateway.addr, "POST", path, body).await;
        assert_eq!(status, expected, "{path}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }

    // After the repair, maria has it learned afresh from the next blocks.
    let (status, asked) = http(
        gateway.addr,
        "POST",
        "/api/sensors/P1-DE-V/baseline",
        r#"{"by": "maria"}"#,
    )
    .await;
    assert_eq!(status, 202, "{asked}");
    assert_eq!(
        next_baseline(&mut joining).await,
        (None, Some("maria".into())),
        "every viewer hears that it is learned afresh"
    );
    let repaired_from = worn_from + 60.0;
    send_blocks(gateway.addr, &story(0.0), repaired_from).await;
    let (value, by) = next_baseline(&mut joining).await;
    assert_eq!(by.as_deref(), Some("maria"));
    let relearned = value.expect("learned");
    assert!(
        (relearned - healthy).abs() < 0.25 * healthy,
        "{relearned} against {healthy}"
    );
    let record = sensor_record(&gateway).await;
    assert_eq!(record["baseline"]["commissioned_by"], "maria", "{record}");
    assert_eq!(record["baseline"]["value_mm_s"], relearned, "{record}");

    gateway.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
