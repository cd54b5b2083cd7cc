//! Work orders out, end to end: a producer's readings raise a critical
//! alarm in the gateway's own twin (no browser open), the config's rule
//! turns it into a CloudEvent, and a real HTTP receiver that is down at
//! first, then up, gets it exactly once, across a gateway restart. The
//! alarm record and its acknowledgement survive restarts in SQLite.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use linetwin_core::protocol::{Reading, TextMessage};
use linetwin_server::mqtt::config::GatewayConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{Gateway, http, temp_dir, unix_now, within};

/// A CMMS stand-in: a real HTTP server that keeps every event it is sent,
/// by CloudEvents id, and answers 202.
#[derive(Clone, Default)]
struct Receiver {
    events: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    async fn serve(&self, listener: TcpListener) {
        self.serve_with(listener, None).await;
    }

    /// Over TLS when an acceptor is given (an HTTPS receiver).
    async fn serve_with(&self, listener: TcpListener, tls: Option<tokio_rustls::TlsAcceptor>) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let events = Arc::clone(&self.events);
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            take_event(stream, events).await;
                        }
                    }
                    None => take_event(stream, events).await,
                }
            });
        }
    }

    fn by_id(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for event in self.events.lock().expect("lock").iter() {
            *counts
                .entry(event["id"].as_str().unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
        counts
    }
}

/// Reads one POST, keeps its event and answers 202.
async fn take_event<S>(stream: S, events: Arc<Mutex<Vec<serde_json::Value>>>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    let mut content_type = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = value.trim().to_owned(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    assert_eq!(content_type, "application/cloudevents+json");
    let event: serde_json::Value = serde_json::from_slice(&body).expect("the event is JSON");
    events.lock().expect("lock").push(event);
    let mut stream = reader.into_inner();
    let _ = stream
        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await;
    let _ = stream.shutdown().await;
}

/// A motor frame far above its trip limit, for a dozen data seconds (so the
/// reorder window closes behind the first ones).
async fn overheat_m1(addr: SocketAddr) {
    let (mut producer, _) = within(
        "producer connects",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/ingest")),
    )
    .await
    .expect("producer connects");
    let now = unix_now().floor();
    for k in 0..12 {
        let readings = TextMessage::Readings {
            t: now - 11.0 + f64::from(k),
            values: vec![Reading {
                sensor: "M1-T".into(),
                value: 131.0,
            }],
        };
        producer
            .send(Message::Text(readings.to_json().into()))
            .await
            .expect("send");
    }
    let _ = producer.close(None).await;
}

async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    within(what, async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_critical_alarm_reaches_a_receiver_that_was_down_exactly_once_across_a_restart() {
    let dir = temp_dir("work-orders");
    // The receiver's port is chosen now, but nothing listens on it yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let toml = format!(
        r#"
[state]
path = "{db}"

[work_orders]
raise_on = "critical"
viewer_url = "http://twin.plant.local:8080/"

[[work_orders.webhooks]]
url = "http://127.0.0.1:{port}/cmms/notifications"
"#,
        db = dir.join("state.db").display()
    );

    // No browser anywhere: the gateway's own twin raises the alarm.
    let gateway = Gateway::start(&toml, &dir).await;
    overheat_m1(gateway.addr).await;
    let alarm = within(
        "a critical alarm for M1 with its work order requested",
        async {
            loop {
                let alarms = gateway.get("/api/alarms").await;
                let found = alarms["alarms"].as_array().and_then(|a| {
                    a.iter()
                        .find(|a| a["asset"] == "M1" && a["severity"] == "critical")
                        .cloned()
                });
                if let Some(alarm) = found.filter(|a| a["work_order"] == "requested") {
                    return alarm;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        },
    )
    .await;
    let alarm_id = alarm["id"].as_u64().expect("an id");
    wait_until("a failed attempt on the receiver that is down", || async {
        let orders = gateway.get("/api/work-orders").await;
        orders["work_orders"][0]["attempts"].as_u64().unwrap_or(0) >= 1
    })
    .await;
    let orders = gateway.get("/api/work-orders").await;
    let entry = &orders["work_orders"][0];
    assert_eq!(entry["status"], "requested", "{orders}");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("cannot connect"),
        "{orders}"
    );
    let health = gateway.get("/healthz").await;
    assert_eq!(health["work_orders"]["requested"], 1, "{health}");
    assert!(
        health["twin"]["active_alarms"].as_u64().unwrap_or(0) >= 1,
        "{health}"
    );

    // Acknowledged by a person, then the gateway restarts, receiver still down.
    let (status, acked) = http(
        gateway.addr,
        "POST",
        &format!("/api/alarms/{alarm_id}/acknowledge"),
        r#"{"by": "maria"}"#,
    )
    .await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["acknowledged_by"], "maria");
    let (status, refused) = http(
        gateway.addr,
        "POST",
        "/api/alarms/1/acknowledge",
        r#"{"by": "maria"}"#,
    )
    .await;
    assert_eq!(status, 404, "{refused}");
    let (status, refused) = http(
        gateway.addr,
        "POST",
        &format!("/api/alarms/{alarm_id}/acknowledge"),
        r#"{"who": "maria"}"#,
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    gateway.stop().await;

    let gateway = Gateway::start(&toml, &dir).await;
    let alarms = gateway.get("/api/alarms").await;
    let kept = alarms["alarms"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["id"] == alarm_id))
        .cloned()
        .unwrap_or_else(|| panic!("the alarm survived the restart: {alarms}"));
    assert_eq!(kept["acknowledged_by"], "maria", "{kept}");
    assert_eq!(kept["work_order"], "requested", "{kept}");

    // The receiver comes up: the restarted gateway delivers what the first one queued.
    let receiver = Receiver::default();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the receiver's port is still free");
    let serving = receiver.clone();
    let receiver_task = tokio::spawn(async move { serving.serve(listener).await });
    wait_until("the notification to be delivered", || async {
        !receiver.by_id().is_empty()
    })
    .await;
    wait_until("the outbox to say delivered", || async {
        gateway.get("/api/work-orders").await["work_orders"][0]["status"] == "delivered"
    })
    .await;

    // An operator asks again for the same alarm: the same id, nothing new sent.
    let (status, asked) = http(
        gateway.addr,
        "POST",
        &format!("/api/alarms/{alarm_id}/work-order"),
        r#"{"by": "tom"}"#,
    )
    .await;
    assert_eq!(status, 202, "{asked}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let received = receiver.by_id();
    assert_eq!(received.len(), 1, "one notification: {received:?}");
    assert_eq!(
        received.values().copied().collect::<Vec<_>>(),
        [1],
        "exactly once"
    );
    assert_eq!(
        received.keys().next().map(String::as_str),
        asked["event_id"].as_str()
    );

    let event = receiver.events.lock().expect("lock")[0].clone();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], "linetwin.maintenance.requested");
    assert_eq!(event["source"], "linetwin://bottling-line-1");
    assert_eq!(event["subject"], "M1");
    assert!(
        event["time"].as_str().unwrap_or("").ends_with('Z'),
        "{event}"
    );
    let data = &event["data"];
    assert_eq!(data["asset"], "M1");
    assert_eq!(data["severity"], "critical");
    assert_eq!(data["zone"], "D");
    assert_eq!(data["failure_mode"]["code"], "OHE", "{data}");
    assert_eq!(data["origin"], "rule");
    assert_eq!(data["alarm_id"], alarm_id);
    assert!(
        data["evidence"].as_str().unwrap_or("").contains("M1-T"),
        "{data}"
    );
    assert!(
        data["link"]
            .as_str()
            .unwrap_or("")
            .starts_with("http://twin.plant.local:8080/#t="),
        "{data}"
    );
    let health = gateway.get("/healthz").await;
    assert_eq!(health["work_orders"]["delivered"], 1, "{health}");
    assert_eq!(health["work_orders"]["requested"], 0, "{health}");

    gateway.stop().await;
    receiver_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_config_with_a_bad_webhook_is_refused_with_its_place() {
    let line_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json");
    let line = linetwin_server::load_line(&line_path).expect("demo line");
    let error = GatewayConfig::from_toml(
        "plant.toml",
        "[work_orders]\n[[work_orders.webhooks]]\nurl = \"ftp://sap.example/\"\n",
        &line,
    )
    .expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("plant.toml")
            && text.contains("work_orders.webhooks[0].url")
            && text.contains("not an http"),
        "{text}"
    );
    let error = GatewayConfig::from_toml(
        "plant.toml",
        "[work_orders]\n[[work_orders.webhooks]]\nurl = \"http://cmms/\"\nca_file = \"ca.pem\"\n",
        &line,
    )
    .expect_err("refused");
    assert!(error.to_string().contains("only for an https"), "{error}");
    let error = GatewayConfig::from_toml(
        "plant.toml",
        "[work_orders]\nraise_on = \"critical\"\n",
        &line,
    )
    .expect_err("refused");
    assert!(error.to_string().contains("no webhook"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_what_if_plan_reaches_the_receiver_once_with_its_dates() {
    let dir = temp_dir("plan-orders");
    let receiver = Receiver::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let serving = receiver.clone();
    let receiver_task = tokio::spawn(async move { serving.serve(listener).await });
    let toml = format!(
        "[work_orders]\n[[work_orders.webhooks]]\nurl = \"http://127.0.0.1:{port}/cmms\"\n"
    );
    let gateway = Gateway::start(&toml, &dir).await;
    let plan = r#"{"by": "maria", "t": 1796215845.0, "recommended": true, "reason": "lowest expected cost",
        "plan": {"name": "replace P1 and lubricate M1", "actions": [
            {"asset": "P1", "kind": {"kind": "replace"}, "at_h": 48.0},
            {"asset": "M1", "kind": {"kind": "lubricate"}, "at_h": 24.0}]},
        "simulated": {"paths": 10000, "expected_cost": 5200.0, "p90_cost": 9000.0, "expected_downtime_h": 4.0, "p90_downtime_h": 6.0}}"#;
    let sent_at = unix_now();
    let (status, first) = http(gateway.addr, "POST", "/api/plans/work-order", plan).await;
    assert_eq!(status, 202, "{first}");
    let (status, again) = http(gateway.addr, "POST", "/api/plans/work-order", plan).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(
        first["event_id"], again["event_id"],
        "the same plan, the same id"
    );
    wait_until("the plan to be delivered", || async {
        gateway.get("/api/work-orders").await["work_orders"][0]["status"] == "delivered"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        receiver.by_id().into_iter().collect::<Vec<_>>(),
        [(first["event_id"].as_str().expect("an id").to_owned(), 1)],
        "exactly once"
    );
    let event = receiver.events.lock().expect("lock")[0].clone();
    assert_eq!(event["type"], "linetwin.maintenance.planned");
    assert_eq!(event["subject"], "bottling-line-1", "two assets: the line");
    let data = &event["data"];
    assert_eq!(data["requested_by"], "maria");
    assert_eq!(data["actions"][1]["asset"], "M1");
    assert_eq!(data["actions"][1]["action"], "lubricate");
    assert_eq!(data["simulated"]["paths"], 10000);
    let due = data["actions"][0]["due"].as_str().expect("a date");
    let expected = linetwin_server::work_orders::event::rfc3339(sent_at + 48.0 * 3600.0);
    assert_eq!(
        due[..15],
        expected[..15],
        "due in 48 h: {due} against {expected}"
    );

    let refused = [
        plan.replace(r#""asset": "P1""#, r#""asset": "X9""#),
        plan.replace(r#""by": "maria","#, ""),
        "not json".to_owned(),
    ];
    for body in refused {
        let (status, answer) = http(gateway.addr, "POST", "/api/plans/work-order", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    gateway.stop().await;

    // Without a webhook there is nowhere to send it, and the gateway says so.
    let gateway = Gateway::start("", &dir).await;
    let (status, answer) = http(gateway.addr, "POST", "/api/plans/work-order", plan).await;
    assert_eq!(status, 409, "{answer}");
    gateway.stop().await;
    receiver_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An HTTPS receiver with a certificate from `dir`'s test CA.
fn tls_acceptor(cert: &Path, key: &Path) -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("the certificate")
        .collect::<Result<_, _>>()
        .expect("PEM");
    let key = PrivateKeyDer::from_pem_file(key).expect("the key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("a server config");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_receiver_gets_the_plan_once_and_one_signed_by_another_ca_is_not_trusted() {
    let dir = temp_dir("https-orders");
    let (ca, cert, key) = common::test_pki(&dir, "cmms");
    let (other_ca, _, _) = common::test_pki(&dir, "other");
    let receiver = Receiver::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let serving = receiver.clone();
    let acceptor = tls_acceptor(&cert, &key);
    let receiver_task =
        tokio::spawn(async move { serving.serve_with(listener, Some(acceptor)).await });
    let toml = |ca: &Path| {
        format!(
            "[work_orders]\n[[work_orders.webhooks]]\nurl = \"https://127.0.0.1:{port}/cmms\"\nca_file = \"{}\"\n",
            ca.display()
        )
    };
    let plan = r#"{"by": "maria", "t": 1796215845.0,
        "plan": {"name": "lubricate M1", "actions": [{"asset": "M1", "kind": {"kind": "lubricate"}, "at_h": 24.0}]}}"#;

    let gateway = Gateway::start(&toml(&ca), &dir).await;
    let (status, sent) = http(gateway.addr, "POST", "/api/plans/work-order", plan).await;
    assert_eq!(status, 202, "{sent}");
    wait_until("the plan to be delivered over TLS", || async {
        gateway.get("/api/work-orders").await["work_orders"][0]["status"] == "delivered"
    })
    .await;
    assert_eq!(
        receiver.by_id().into_iter().collect::<Vec<_>>(),
        [(sent["event_id"].as_str().expect("an id").to_owned(), 1)]
    );
    gateway.stop().await;

    // A gateway that trusts another CA does not send it, and says why.
    let dir_other = temp_dir("https-orders-other");
    let gateway = Gateway::start(&toml(&other_ca), &dir_other).await;
    let (status, _) = http(gateway.addr, "POST", "/api/plans/work-order", plan).await;
    assert_eq!(status, 202);
    wait_until("a refused TLS handshake", || async {
        let orders = gateway.get("/api/work-orders").await;
        orders["work_orders"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("TLS") && e.contains("certificate"))
    })
    .await;
    let orders = gateway.get("/api/work-orders").await;
    assert_eq!(
        orders["work_orders"][0]["status"], "requested",
        "retried, not given up: {orders}"
    );
    assert_eq!(receiver.by_id().len(), 1, "nothing more arrived");
    gateway.stop().await;

    // A CA file that is not there is refused at start, naming the field.
    let line = linetwin_server::load_line(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json"),
    )
    .expect("demo line");
    let error = GatewayConfig::from_toml("plant.toml", &toml(&dir.join("nope.pem")), &line)
        .expect_err("refused")
        .to_string();
    assert!(
        error.contains("work_orders.webhooks[0].ca_file") && error.contains("nope.pem"),
        "{error}"
    );
    receiver_task.abort();
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir_other);
}
