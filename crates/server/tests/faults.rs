//! Faults under the gateway: its database locked by another process while
//! live data flows. Readings keep reaching viewers, the alarm that could
//! not be recorded is said to be lost (in `/healthz` and to every viewer),
//! and once the lock goes the record works again.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use linetwin_core::protocol::{Reading, TextMessage};
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{Gateway, temp_dir, unix_now, within};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn readings(t: f64, celsius: f64) -> Message {
    let message = TextMessage::Readings {
        t,
        values: vec![Reading {
            sensor: "M1-T".into(),
            value: celsius,
        }],
    };
    Message::Text(message.to_json().into())
}

/// The next message that `wanted` picks, and how long it took.
async fn next_matching<T>(
    viewer: &mut Socket,
    what: &str,
    wanted: impl Fn(&TextMessage) -> Option<T>,
) -> (T, Duration) {
    let started = Instant::now();
    within(what, async {
        loop {
            let Message::Text(text) = viewer.next().await.expect("open").expect("a frame") else {
                continue;
            };
            if let Some(found) = TextMessage::from_json(&text).ok().and_then(|m| wanted(&m)) {
                return (found, started.elapsed());
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_costs_the_record_not_the_live_data_and_says_so() {
    let dir = temp_dir("faults-locked");
    let database = dir.join("state.sqlite");
    let toml = format!("[state]\npath = {:?}\n", database.display().to_string());
    let gateway = Gateway::start(&toml, &dir).await;
    let addr = gateway.addr;
    let (mut viewer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("viewer");
    let (mut producer, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/ingest"))
        .await
        .expect("producer");

    // Another process takes the write lock and keeps it.
    let locker = rusqlite::Connection::open(&database).expect("the same file");
    locker
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO audit (at_unix_s, who, action, outcome) VALUES (0, 'locker', 'lock', 'ok');")
        .expect("the write lock");

    // A winding far too hot: the gateway's twin raises a critical alarm,
    // which it cannot record, while each reading still goes out live.
    let start = unix_now().floor();
    let mut worst = Duration::ZERO;
    for k in 0..12 {
        let t = start - 11.0 + f64::from(k);
        producer.send(readings(t, 131.0)).await.expect("send");
        let (_, took) = next_matching(&mut viewer, "the reading, live", |m| match m {
            TextMessage::Readings { t: got, .. } if *got == t => Some(()),
            _ => None,
        })
        .await;
        worst = worst.max(took);
    }
    println!("readings reached the viewer within {worst:?} while the database was locked");
    let (notice, _) = next_matching(
        &mut viewer,
        "the notice that the record has a gap",
        |m| match m {
            TextMessage::Notice { message, .. } if message.contains("could not store") => {
                Some(message.clone())
            }
            _ => None,
        },
    )
    .await;
    assert!(notice.contains("locked"), "{notice}");
    let health = gateway.get("/healthz").await;
    assert!(health["store"]["count"].as_u64() >= Some(1), "{health}");
    assert!(
        health["store"]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("locked")),
        "{health}"
    );
    // Reading the record still works (WAL: readers do not wait for writers).
    let alarms = gateway.get("/api/alarms").await;
    assert!(
        alarms["alarms"].as_array().is_some_and(Vec::is_empty),
        "{alarms}"
    );

    // The lock goes; the record takes writes again (the last values, every 5 s).
    locker.execute_batch("ROLLBACK;").expect("released");
    drop(locker);
    let after = start + 1.0;
    within("the record to take the last values again", async {
        let mut t = after;
        loop {
            producer.send(readings(t, 60.0)).await.expect("send");
            t += 1.0;
            let sensors = gateway.get("/api/sensors").await;
            let stored = sensors["sensors"]
                .as_array()
                .and_then(|all| all.iter().find(|s| s["sensor"] == "M1-T"))
                .and_then(|s| s["last"]["t"].as_f64());
            if stored.is_some_and(|stored| stored >= after) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    })
    .await;
    let _ = producer.close(None).await;
    gateway.stop().await;
}
