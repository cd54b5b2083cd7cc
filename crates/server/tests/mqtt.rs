//! The gateway against a real MQTT broker: Debian's `mosquitto`, started on
//! a free loopback port (`cargo xtask test` installs it). A publisher sends
//! plain topics and a Sparkplug B session (birth, data by alias, a sequence
//! gap, a node death and its rebirth); a viewer on `/ws` sees what the line
//! should see, and one that connects after the death is told at once. The
//! gateway also speaks MQTT 5 over TLS, checking the broker's certificate
//! against the plant's CA (made here with the openssl command line).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use linetwin_core::protocol::{NoticeLevel, Reading, TextMessage};
use linetwin_server::mqtt::sparkplug::{Payload, REBIRTH_METRIC, Value, build};
use prost::Message as _;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{healthz, unix_now, within};

/// A mosquitto of our own, stopped when dropped.
struct Broker {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Broker {
    async fn start(dir: &Path) -> Self {
        let port = free_port();
        let conf = format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
        Self::start_with(dir, &conf, &[port]).await
    }

    /// A broker with this config, once it listens on all of `ports`.
    async fn start_with(dir: &Path, conf: &str, ports: &[u16]) -> Self {
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).expect("write the broker's config");
        let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("Debian's mosquitto is installed (cargo xtask test installs it)");
        let child = Command::new(binary)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        for &port in ports {
            within("the broker to listen", async {
                while tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_err()
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
            .await;
        }
        Broker {
            child,
            port: ports[0],
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gateway with the given config file, once it has subscribed to its broker.
async fn start_gateway(toml: &str, dir: &Path) -> common::Gateway {
    let gateway = common::Gateway::start(toml, dir).await;
    let addr = gateway.addr;
    within("the gateway to subscribe", async {
        while healthz(addr).await["sources"]["mqtt"]["connected"] != true {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The SUBACKs follow the CONNACK closely.
        tokio::time::sleep(Duration::from_millis(500)).await;
    })
    .await;
    gateway
}

/// A publisher, with its event loop driven in the background; what it
/// receives comes out of the channel.
fn edge(
    port: u16,
    id: &str,
) -> (
    AsyncClient,
    tokio::sync::mpsc::UnboundedReceiver<(String, Vec<u8>)>,
) {
    let mut options = MqttOptions::new(id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    options.set_max_packet_size(2 * 1024 * 1024, 2 * 1024 * 1024);
    let (client, mut events) = AsyncClient::new(options, 256);
    let (received, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(event) = events.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = event {
                let _ = received.send((p.topic.clone(), p.payload.to_vec()));
            }
        }
    });
    (client, receiver)
}

type Viewer =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message that `wanted` accepts, skipping others.
async fn wait_for(
    viewer: &mut Viewer,
    what: &str,
    wanted: impl Fn(&TextMessage) -> bool,
) -> TextMessage {
    within(what, async {
        loop {
            let message = viewer
                .next()
                .await
                .unwrap_or_else(|| panic!("viewer closed while waiting for {what}"))
                .expect("websocket");
            if let Message::Text(text) = message
                && let Ok(message) = TextMessage::from_json(&text)
                && wanted(&message)
            {
                return message;
            }
        }
    })
    .await
}

fn readings_of(message: &TextMessage, sensor: &str) -> Option<(f64, f64)> {
    match message {
        TextMessage::Readings { t, values } => values
            .iter()
            .find(|r| r.sensor == sensor)
            .map(|r| (*t, r.value)),
        _ => None,
    }
}

#[tokio::test]
async fn plain_topics_and_a_sparkplug_session_reach_a_viewer() {
    let dir = std::env::temp_dir().join(format!("linetwin-mqtt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broker = Broker::start(&dir).await;
    let toml = format!(
        r#"
[mqtt]
url = "mqtt://127.0.0.1:{port}"
client_id = "linetwin-test-gateway"
topics = [
  {{ filter = "plant/+/temperature", payload = "reading", sensor = "{{1}}-T" }},
  {{ filter = "plant/readings", payload = "readings" }},
]

[mqtt.sparkplug]
group = "line1"
metrics = [
  {{ node = "plc1", device = "pump", metric = "Bearing/Temperature", sensor = "P1-T" }},
  {{ node = "plc1", metric = "Conveyor/Temperature", sensor = "C1-T" }},
]
"#,
        port = broker.port
    );
    let gateway = start_gateway(&toml, &dir).await;
    let addr = gateway.addr;
    let (mut viewer, _) = within(
        "viewer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("viewer connects");

    // The edge: a client that publishes and listens for commands.
    let (edge, mut commands) = edge(broker.port, "linetwin-test-edge");
    edge.subscribe("spBv1.0/line1/NCMD/#", QoS::AtLeastOnce)
        .await
        .expect("subscribe");

    // A plain topic: the sensor comes from the topic, the time from the payload.
    let now = unix_now().floor();
    let payload = format!(r#"{{"value": 61.5, "ts": {}}}"#, now * 1000.0);
    edge.publish("plant/M1/temperature", QoS::AtLeastOnce, false, payload)
        .await
        .expect("publish");
    let got = wait_for(&mut viewer, "M1-T from a plain topic", |m| {
        readings_of(m, "M1-T").is_some()
    })
    .await;
    assert_eq!(readings_of(&got, "M1-T"), Some((now, 61.5)));

    // A reading for a sensor the line lacks is refused and counted, not forwarded.
    edge.publish(
        "plant/X9/temperature",
        QoS::AtLeastOnce,
        false,
        format!(r#"{{"value": 1, "t": {now}}}"#),
    )
    .await
    .expect("publish");
    let readings = TextMessage::Readings {
        t: now + 1.0,
        values: vec![Reading {
            sensor: "R1-T".into(),
            value: 38.0,
        }],
    };
    edge.publish(
        "plant/readings",
        QoS::AtLeastOnce,
        false,
        readings.to_json(),
    )
    .await
    .expect("publish");
    let got = wait_for(&mut viewer, "R1-T from a readings topic", |m| {
        readings_of(m, "R1-T").is_some()
    })
    .await;
    assert_eq!(readings_of(&got, "R1-T"), Some((now + 1.0, 38.0)));

    // Sparkplug B: the births, then data by alias only.
    let ms = (now * 1000.0) as u64;
    let nbirth = build::payload(
        ms + 2000,
        0,
        vec![
            build::metric(Some("bdSeq"), None, Value::Long(1), 8),
            build::metric(
                Some("Conveyor/Temperature"),
                Some(1),
                Value::Double(33.0),
                10,
            ),
        ],
    );
    edge.publish("spBv1.0/line1/NBIRTH/plc1", QoS::AtLeastOnce, false, nbirth)
        .await
        .expect("publish");
    let got = wait_for(&mut viewer, "C1-T from the node birth", |m| {
        readings_of(m, "C1-T").is_some()
    })
    .await;
    assert_eq!(readings_of(&got, "C1-T"), Some((now + 2.0, 33.0)));
    let dbirth = build::payload(
        ms + 3000,
        1,
        vec![build::metric(
            Some("Bearing/Temperature"),
            Some(7),
            Value::Float(52.0),
            9,
        )],
    );
    edge.publish(
        "spBv1.0/line1/DBIRTH/plc1/pump",
        QoS::AtLeastOnce,
        false,
        dbirth,
    )
    .await
    .expect("publish");
    let ddata = build::payload(
        ms + 4000,
        2,
        vec![build::metric(None, Some(7), Value::Float(53.5), 9)],
    );
    edge.publish(
        "spBv1.0/line1/DDATA/plc1/pump",
        QoS::AtLeastOnce,
        false,
        ddata,
    )
    .await
    .expect("publish");
    wait_for(&mut viewer, "P1-T by alias", |m| {
        readings_of(m, "P1-T") == Some((now + 4.0, 53.5))
    })
    .await;

    // A lost message (seq 3 never comes): the gateway asks the node to rebirth.
    let gap = build::payload(
        ms + 5000,
        4,
        vec![build::metric(None, Some(7), Value::Float(54.0), 9)],
    );
    edge.publish(
        "spBv1.0/line1/DDATA/plc1/pump",
        QoS::AtLeastOnce,
        false,
        gap,
    )
    .await
    .expect("publish");
    let (topic, request) = within("a rebirth request", commands.recv())
        .await
        .expect("the edge's listener runs");
    assert_eq!(topic, "spBv1.0/line1/NCMD/plc1");
    let request = Payload::decode(request.as_slice()).expect("a Sparkplug payload");
    assert_eq!(request.metrics[0].name.as_deref(), Some(REBIRTH_METRIC));
    assert_eq!(request.metrics[0].value, Some(Value::Boolean(true)));

    // The node dies: every viewer is told which sensors went silent.
    let ndeath = build::payload(
        0,
        0,
        vec![build::metric(Some("bdSeq"), None, Value::Long(1), 8)],
    );
    edge.publish("spBv1.0/line1/NDEATH/plc1", QoS::AtLeastOnce, false, ndeath)
        .await
        .expect("publish");
    let notice = wait_for(&mut viewer, "the node's death", |m| {
        matches!(m, TextMessage::Notice { .. })
    })
    .await;
    let TextMessage::Notice { level, message } = notice else {
        unreachable!()
    };
    assert_eq!(level, NoticeLevel::Warning);
    assert!(
        message.contains("node plc1 offline")
            && message.contains("P1-T")
            && message.contains("C1-T"),
        "{message}"
    );

    let offline = wait_for(&mut viewer, "the node's sensors offline", |m| {
        matches!(m, TextMessage::Offline { .. })
    })
    .await;
    let TextMessage::Offline { t, sensors, reason } = offline else {
        unreachable!()
    };
    assert_eq!(
        sensors,
        ["C1-T", "P1-T"],
        "the node's and its device's sensors"
    );
    assert_eq!(reason, "node plc1 offline");
    assert!(
        t >= now + 4.0 && t - unix_now() < 60.0,
        "stamped on arrival, after the last data (the edge clock is ahead): {t}"
    );
    assert_eq!(healthz(addr).await["offline_sensors"], 2);

    // A viewer that connects now (a kiosk reconnecting) is told at once.
    let (mut late, _) = within(
        "a late viewer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("viewer connects");
    let greeted = wait_for(&mut late, "the offline sensors in the greeting", |m| {
        matches!(m, TextMessage::Offline { .. })
    })
    .await;
    assert!(
        matches!(&greeted, TextMessage::Offline { sensors, .. } if sensors.len() == 2),
        "{greeted:?}"
    );

    // The node is reborn: its data brings the sensor back.
    let rebirth = build::payload(
        ms + 6000,
        0,
        vec![
            build::metric(Some("bdSeq"), None, Value::Long(2), 8),
            build::metric(
                Some("Conveyor/Temperature"),
                Some(1),
                Value::Double(34.0),
                10,
            ),
        ],
    );
    edge.publish(
        "spBv1.0/line1/NBIRTH/plc1",
        QoS::AtLeastOnce,
        false,
        rebirth,
    )
    .await
    .expect("publish");
    wait_for(&mut late, "C1-T after the rebirth", |m| {
        readings_of(m, "C1-T") == Some((now + 6.0, 34.0))
    })
    .await;
    assert_eq!(
        healthz(addr).await["offline_sensors"],
        1,
        "C1-T is back; P1-T waits for its device's birth"
    );

    let health = healthz(addr).await;
    let mqtt = &health["sources"]["mqtt"];
    assert!(mqtt["accepted"].as_u64().unwrap_or(0) >= 5, "{health}");
    assert!(mqtt["rejected"].as_u64().unwrap_or(0) >= 1, "{health}");
    assert_eq!(health["sources"]["ws_ingest"]["accepted"], 0);

    gateway.stop().await;
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A benchmark, not a test (`cargo test -p linetwin-server --release --test
/// mqtt -- --ignored --nocapture`): waveform frames of 4096 samples through
/// mosquitto into the gateway's ingest path, as fast as the broker takes
/// them; prints frames/s and MB/s.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run it with --ignored"]
async fn mqtt_ingest_throughput() {
    const FRAMES: u64 = 5000;
    let dir = std::env::temp_dir().join(format!("linetwin-mqtt-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broker = Broker::start(&dir).await;
    let toml = format!(
        "[mqtt]\nurl = \"mqtt://127.0.0.1:{}\"\ntopics = [{{ filter = \"linetwin/waveform/#\", payload = \"waveform\" }}]\n",
        broker.port
    );
    let gateway = start_gateway(&toml, &dir).await;
    let (publisher, _) = edge(broker.port, "linetwin-bench-edge");
    let t0 = unix_now();
    let frames: Vec<Vec<u8>> = ["P1-DE-V", "M1-DE-V"]
        .iter()
        .map(|sensor| {
            linetwin_core::protocol::WaveformBlock {
                sensor: (*sensor).into(),
                t_start: t0,
                sample_rate_hz: 12_800.0,
                shaft_rpm: None,
                samples: (0..4096).map(|i| (i as f32 * 0.01).sin()).collect(),
            }
            .encode()
        })
        .collect();
    let bytes_each = frames[0].len() as f64;
    let started = std::time::Instant::now();
    for i in 0..FRAMES {
        let frame = frames[(i % 2) as usize].clone();
        publisher
            .publish("linetwin/waveform/x", QoS::AtLeastOnce, false, frame)
            .await
            .expect("publish");
    }
    tokio::time::timeout(Duration::from_secs(300), async {
        while healthz(gateway.addr).await["sources"]["mqtt"]["accepted"]
            .as_u64()
            .unwrap_or(0)
            < FRAMES
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every frame accepted within 5 minutes");
    let seconds = started.elapsed().as_secs_f64();
    let rate = FRAMES as f64 / seconds;
    println!(
        "mqtt ingest: {FRAMES} waveform frames of {bytes_each} B in {seconds:.2} s: {rate:.0} frames/s, {:.1} MB/s",
        rate * bytes_each / 1e6
    );
    gateway.stop().await;
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn mqtt_5_over_tls_with_the_plants_ca_reaches_a_viewer_and_a_wrong_ca_does_not() {
    let dir = std::env::temp_dir().join(format!("linetwin-mqtts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (ca, cert, key) = common::test_pki(&dir, "plant");
    let (other_ca, _, _) = common::test_pki(&dir, "other");
    let plain = free_port();
    let tls = free_port();
    let conf = format!(
        "per_listener_settings false\nallow_anonymous true\npersistence false\n\
         listener {plain} 127.0.0.1\n\
         listener {tls} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
        ca.display(),
        cert.display(),
        key.display()
    );
    let broker = Broker::start_with(&dir, &conf, &[plain, tls]).await;
    let config = |ca: &Path| {
        format!(
            r#"
[mqtt]
url = "mqtts://127.0.0.1:{tls}"
protocol = 5
client_id = "linetwin-tls-gateway"
topics = [{{ filter = "plant/+/temperature", payload = "reading", sensor = "{{1}}-T" }}]

[mqtt.tls]
ca_file = "{}"
"#,
            ca.display()
        )
    };

    // MQTT 5 over TLS, the broker's certificate checked against the plant's CA.
    let gateway = start_gateway(&config(&ca), &dir).await;
    let addr = gateway.addr;
    let (mut viewer, _) = within(
        "viewer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("viewer connects");
    let (edge, _) = edge(plain, "linetwin-tls-edge");
    let now = unix_now().floor();
    edge.publish(
        "plant/M1/temperature",
        QoS::AtLeastOnce,
        false,
        format!(r#"{{"value": 47.5, "t": {now}}}"#),
    )
    .await
    .expect("publish");
    let got = wait_for(&mut viewer, "M1-T through MQTT 5 over TLS", |m| {
        readings_of(m, "M1-T").is_some()
    })
    .await;
    assert_eq!(readings_of(&got, "M1-T"), Some((now, 47.5)));
    gateway.stop().await;

    // A broker whose certificate another CA signed is not trusted.
    let gateway = common::Gateway::start(&config(&other_ca), &dir).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let health = healthz(gateway.addr).await;
    assert_eq!(health["sources"]["mqtt"]["connected"], false, "{health}");
    gateway.stop().await;

    // Mistakes in the TLS section are refused at start, naming the field.
    let line = linetwin_server::load_line(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json"),
    )
    .expect("demo line");
    let refused = |toml: &str| {
        linetwin_server::mqtt::config::GatewayConfig::from_toml("gw.toml", toml, &line)
            .expect_err("refused")
            .to_string()
    };
    let missing = refused(&config(&dir.join("nope.pem")));
    assert!(
        missing.contains("mqtt.tls.ca_file") && missing.contains("nope.pem"),
        "{missing}"
    );
    let plain_with_tls = refused(&format!(
        "[mqtt]\nurl = \"mqtt://127.0.0.1:{plain}\"\n[mqtt.tls]\nca_file = \"{}\"\n",
        ca.display()
    ));
    assert!(plain_with_tls.contains("mqtts://"), "{plain_with_tls}");
    let half = refused(&format!(
        "[mqtt]\nurl = \"mqtts://127.0.0.1:{tls}\"\n[mqtt.tls]\nca_file = \"{}\"\nclient_cert_file = \"{}\"\n",
        ca.display(),
        cert.display()
    ));
    assert!(half.contains("client_key_file"), "{half}");
    drop(broker);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The broker restarts under a running gateway: viewers are told the data
/// has a gap, and when the broker is back the gateway subscribes again and
/// readings flow without anyone touching it.
#[tokio::test]
async fn a_broker_restart_is_a_marked_gap_and_the_gateway_subscribes_again() {
    let dir = std::env::temp_dir().join(format!("linetwin-mqtt-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broker = Broker::start(&dir).await;
    let port = broker.port;
    let toml = format!(
        "[mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\nclient_id = \"linetwin-restart-gateway\"\ntopics = [{{ filter = \"plant/+/temperature\", payload = \"reading\", sensor = \"{{1}}-T\" }}]\n"
    );
    let gateway = start_gateway(&toml, &dir).await;
    let (mut viewer, _) = within(
        "viewer connects",
        tokio_tungstenite::connect_async(format!("ws://{}/ws", gateway.addr)),
    )
    .await
    .expect("viewer connects");
    let publish = |edge: AsyncClient, t: f64| async move {
        let payload = format!(r#"{{"value": 55.0, "t": {t}}}"#);
        edge.publish("plant/M1/temperature", QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    };
    let now = unix_now().floor();
    let (first_edge, _) = edge(port, "linetwin-restart-edge-1");
    publish(first_edge, now).await;
    wait_for(&mut viewer, "a reading before the restart", |m| {
        readings_of(m, "M1-T") == Some((now, 55.0))
    })
    .await;

    drop(broker);
    let gap = wait_for(&mut viewer, "the gap to be marked", |m| {
        matches!(m, TextMessage::Notice { message, .. } if message.contains("lost the MQTT broker"))
    })
    .await;
    assert!(
        matches!(
            gap,
            TextMessage::Notice {
                level: NoticeLevel::Warning,
                ..
            }
        ),
        "{gap:?}"
    );
    assert_eq!(
        healthz(gateway.addr).await["sources"]["mqtt"]["connected"],
        false
    );

    let conf = format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n");
    let _broker = Broker::start_with(&dir, &conf, &[port]).await;
    wait_for(
        &mut viewer,
        "the broker back",
        |m| matches!(m, TextMessage::Notice { message, .. } if message.contains("is back")),
    )
    .await;
    // Subscribed again: a reading published now arrives.
    let (second_edge, _) = edge(port, "linetwin-restart-edge-2");
    tokio::time::sleep(Duration::from_millis(500)).await;
    publish(second_edge, now + 5.0).await;
    wait_for(&mut viewer, "a reading after the restart", |m| {
        readings_of(m, "M1-T") == Some((now + 5.0, 55.0))
    })
    .await;
    gateway.stop().await;
}
