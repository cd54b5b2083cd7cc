//! Who may do what, end to end: a gateway with `[auth]` on a real socket,
//! people who sign in with passwords (one added by the `user add` command
//! line), device tokens for a kiosk and a producer, and every role tried
//! against every guarded HTTP route and both WebSockets. Also: a foreign
//! page's origin, a revoked kiosk token, a one-use ticket, the audit log,
//! and an open gateway's refusals.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use linetwin_core::protocol::{Reading, TextMessage};
use linetwin_server::auth::accounts;
use linetwin_server::auth::roles::Role;
use linetwin_server::store::Store;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

mod common;

use common::{Gateway, Reply, demo_config, request, temp_dir, unix_now, within};

const PASSWORD: &str = "a shop-floor passphrase";

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How a caller proves who it is.
#[derive(Debug, Clone)]
enum Caller {
    Nobody,
    Cookie(String),
    Bearer(String),
}

impl Caller {
    fn header(&self) -> Option<(&'static str, String)> {
        match self {
            Caller::Nobody => None,
            Caller::Cookie(value) => Some(("Cookie", format!("linetwin_session={value}"))),
            Caller::Bearer(secret) => Some(("Authorization", format!("Bearer {secret}"))),
        }
    }
}

async fn call(addr: SocketAddr, caller: &Caller, method: &str, path: &str, body: &str) -> Reply {
    let header = caller.header();
    let headers: Vec<(&str, &str)> = header.iter().map(|(n, v)| (*n, v.as_str())).collect();
    within(path, request(addr, method, path, &headers, body)).await
}

/// A person signs in; the session cookie's value.
async fn sign_in(addr: SocketAddr, name: &str) -> String {
    let body = serde_json::json!({ "name": name, "password": PASSWORD }).to_string();
    let reply = within("sign-in", request(addr, "POST", "/api/login", &[], &body)).await;
    assert_eq!(reply.status, 200, "{name} signs in: {}", reply.body);
    let cookie = reply.header("set-cookie").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let value = cookie
        .strip_prefix("linetwin_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the cookie's value");
    assert!(value.len() >= 40, "a session secret of 256 bits");
    value.to_owned()
}

/// Opens a WebSocket as `caller` (with `origin`, as a browser would);
/// the HTTP status of a refusal otherwise.
async fn open_socket(
    addr: SocketAddr,
    path: &str,
    caller: &Caller,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    let mut handshake = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("a WebSocket request");
    if let Some((name, value)) = caller.header() {
        handshake
            .headers_mut()
            .insert(name, value.parse().expect("header value"));
    }
    if let Some(origin) = origin {
        handshake
            .headers_mut()
            .insert("Origin", origin.parse().expect("origin"));
    }
    match within(path, tokio_tungstenite::connect_async(handshake)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("{path}: {other}"),
    }
}

/// The first text frame: the hello.
async fn expect_hello(socket: &mut Socket) {
    let message = within("the hello", async {
        loop {
            match socket.next().await.expect("open").expect("a frame") {
                Message::Text(text) => return TextMessage::from_json(&text).expect("a message"),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("expected the hello, got {other:?}"),
            }
        }
    })
    .await;
    assert!(matches!(message, TextMessage::Hello { .. }), "{message:?}");
}

/// Waits for the gateway to close the socket; the close code.
async fn expect_closed(socket: &mut Socket) -> Option<CloseCode> {
    within("the gateway to close the socket", async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| f.code),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return None,
            }
        }
    })
    .await
}

struct Credentials {
    viewer: Caller,
    operator: Caller,
    admin: Caller,
    kiosk: Caller,
    kiosk_token: i64,
    producer: Caller,
}

/// The first admin from the command line, as a site would make it.
fn add_admin_with_the_command_line(config: &Path) {
    let line = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_linetwin-server"))
        .arg("--config")
        .arg(config)
        .arg("--line")
        .arg(&line)
        .args(["user", "add", "ada", "--role", "admin", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("linetwin-server runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{PASSWORD}").expect("password written");
    }
    let output = child.wait_with_output().expect("finishes");
    assert!(
        output.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("added ada (admin)"));
}

async fn start(dir: &Path) -> (Gateway, Credentials) {
    let database = dir.join("state.sqlite");
    let config_path = dir.join("gateway.toml");
    let toml = format!(
        "[state]\npath = {:?}\n\n[auth]\n",
        database.display().to_string()
    );
    std::fs::write(&config_path, &toml).expect("config written");
    add_admin_with_the_command_line(&config_path);
    let line = linetwin_server::load_line(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json"),
    )
    .expect("demo line");
    let (kiosk_token, kiosk_secret, producer_secret) = {
        let store = Store::open(&database).expect("the state database");
        for (name, role) in [("vic", Role::Viewer), ("olga", Role::Operator)] {
            accounts::add_user(&store, name, role, PASSWORD, "test").expect("added");
        }
        let (kiosk, kiosk_secret) =
            accounts::add_token(&store, &line, "hall screen", Role::Kiosk, None, "test")
                .expect("kiosk token");
        let (_, producer_secret) = accounts::add_token(
            &store,
            &line,
            "p1 edge",
            Role::Producer,
            Some(vec!["P1".into()]),
            "test",
        )
        .expect("producer token");
        (kiosk.id, kiosk_secret, producer_secret)
    };
    let gateway = Gateway::start(&toml, dir).await;
    let credentials = Credentials {
        viewer: Caller::Cookie(sign_in(gateway.addr, "vic").await),
        operator: Caller::Cookie(sign_in(gateway.addr, "olga").await),
        admin: Caller::Cookie(sign_in(gateway.addr, "ada").await),
        kiosk: Caller::Bearer(kiosk_secret),
        kiosk_token,
        producer: Caller::Bearer(producer_secret),
    };
    (gateway, credentials)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_may_do_its_part_and_nothing_else() {
    let dir = temp_dir("access-roles");
    let (gateway, who) = start(&dir).await;
    let addr = gateway.addr;

    // (method, path, body, the roles that may): every guarded route.
    let routes: &[(&str, &str, &str, &[&str])] = &[
        (
            "GET",
            "/api/line",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "GET",
            "/api/alarms",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "GET",
            "/api/sensors",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "GET",
            "/api/work-orders",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "GET",
            "/api/scenario",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "GET",
            "/api/recording.mcap",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        (
            "POST",
            "/api/ws-ticket",
            "",
            &["viewer", "kiosk", "operator", "admin"],
        ),
        ("GET", "/ws", "", &["viewer", "kiosk", "operator", "admin"]),
        ("POST", "/api/alarms/1/acknowledge", "{}", &["operator"]),
        ("POST", "/api/alarms/1/work-order", "{}", &["operator"]),
        ("POST", "/api/sensors/P1-DE-V/baseline", "{}", &["operator"]),
        ("POST", "/api/plans/work-order", "{}", &["operator"]),
        ("POST", "/api/scenario/pause", "", &["operator"]),
        ("POST", "/api/scenario/chapter/0", "", &["operator"]),
        ("GET", "/ws/ingest", "", &["producer"]),
        ("GET", "/api/users", "", &["admin"]),
        ("POST", "/api/tokens", "{}", &["admin"]),
        ("DELETE", "/api/users/nobody", "", &["admin"]),
        ("POST", "/api/tokens/999/revoke", "", &["admin"]),
        ("GET", "/api/audit", "", &["admin"]),
    ];
    let callers = [
        ("viewer", &who.viewer),
        ("kiosk", &who.kiosk),
        ("operator", &who.operator),
        ("producer", &who.producer),
        ("admin", &who.admin),
        ("anonymous", &Caller::Nobody),
    ];
    for (method, path, body, allowed) in routes {
        for (role, caller) in &callers {
            let reply = call(addr, caller, method, path, body).await;
            let expected = if allowed.contains(role) {
                None
            } else if *role == "anonymous" {
                Some(401)
            } else {
                Some(403)
            };
            match expected {
                None => assert!(
                    ![401, 403].contains(&reply.status),
                    "{role} may {method} {path}, got {}: {}",
                    reply.status,
                    reply.body
                ),
                Some(status) => assert_eq!(
                    reply.status, status,
                    "{role} may not {method} {path}: {}",
                    reply.body
                ),
            }
        }
    }

    // What the viewer is told, only to hide buttons.
    let me = call(addr, &who.operator, "GET", "/api/me", "").await.json();
    assert_eq!(me["role"], "operator");
    assert!(
        me["may"]
            .as_array()
            .expect("a list")
            .contains(&"acknowledge".into())
    );
    assert_eq!(
        call(addr, &Caller::Nobody, "GET", "/api/me", "")
            .await
            .status,
        401
    );
    // The pages that hold no data are public; what they ask for is not.
    for page in ["/login", "/kiosk", "/admin", "/admin.js"] {
        let status = call(addr, &Caller::Nobody, "GET", page, "").await.status;
        assert_eq!(status, 200, "{page}");
    }
    // A health probe needs no sign-in but learns nothing more.
    let health = call(addr, &Caller::Nobody, "GET", "/healthz", "")
        .await
        .json();
    assert_eq!(health, serde_json::json!({ "status": "ok" }));
    assert!(call(addr, &who.viewer, "GET", "/healthz", "").await.json()["line_id"].is_string());

    // The WebSockets, with a real handshake.
    let mut viewer = open_socket(addr, "/ws", &who.viewer, None)
        .await
        .expect("viewer");
    expect_hello(&mut viewer).await;
    let mut kiosk = open_socket(addr, "/ws", &who.kiosk, None)
        .await
        .expect("kiosk");
    expect_hello(&mut kiosk).await;
    assert_eq!(
        open_socket(addr, "/ws", &Caller::Nobody, None).await.err(),
        Some(401)
    );
    assert_eq!(
        open_socket(addr, "/ws", &who.producer, None).await.err(),
        Some(403)
    );
    for person in [&who.viewer, &who.operator, &who.admin, &who.kiosk] {
        assert_eq!(
            open_socket(addr, "/ws/ingest", person, None).await.err(),
            Some(403)
        );
    }
    // A viewer sends no data: the gateway closes on it.
    viewer
        .send(Message::Text(
            r#"{"type":"readings","t":1,"values":[]}"#.into(),
        ))
        .await
        .expect("sent");
    assert_eq!(expect_closed(&mut viewer).await, Some(CloseCode::Policy));

    // The producer feeds its own asset, and only that.
    let mut producer = open_socket(addr, "/ws/ingest", &who.producer, None)
        .await
        .expect("producer");
    expect_hello(&mut producer).await;
    let reading = |sensor: &str| {
        TextMessage::Readings {
            t: unix_now().floor(),
            values: vec![Reading {
                sensor: sensor.into(),
                value: 40.0,
            }],
        }
        .to_json()
    };
    producer
        .send(Message::Text(reading("M1-T").into()))
        .await
        .expect("sent");
    let refusal = within("the producer's refusal", async {
        loop {
            if let Message::Text(text) = producer.next().await.expect("open").expect("frame")
                && let Ok(TextMessage::Notice { message, .. }) = TextMessage::from_json(&text)
            {
                return message;
            }
        }
    })
    .await;
    assert!(refusal.contains("may feed P1, not `M1-T`"), "{refusal}");
    producer
        .send(Message::Text(reading("P1-T").into()))
        .await
        .expect("sent");
    let health = within("the in-scope reading to be counted", async {
        loop {
            let health = call(addr, &who.admin, "GET", "/healthz", "").await.json();
            if health["sources"]["ws_ingest"]["accepted"].as_u64() >= Some(1) {
                return health;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let ingest = &health["sources"]["ws_ingest"];
    assert_eq!(ingest["rejected"].as_u64(), Some(1), "{health}");

    // The admin's record of it all: refusals, sign-ins, who created what.
    let audit = call(addr, &who.admin, "GET", "/api/audit?limit=1000", "")
        .await
        .json();
    let entries = audit["audit"].as_array().expect("entries");
    let has = |action: &str, who_: &str| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["who"].as_str().is_some_and(|w| w.contains(who_)))
    };
    assert!(has("user_added", "command line"), "{audit}");
    assert!(has("login", "olga"));
    assert!(has("refused", "vic"), "a viewer's refused acknowledgement");
    assert!(
        has("acknowledge", "olga"),
        "the operator's attempt, even on an unknown alarm"
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_kiosk_token_ends_its_sessions_and_sockets_at_once() {
    let dir = temp_dir("access-revoke");
    let (gateway, who) = start(&dir).await;
    let addr = gateway.addr;

    // The kiosk's browser trades its token for a long session cookie.
    let session = call(addr, &who.kiosk, "POST", "/api/kiosk/session", "").await;
    assert_eq!(session.status, 200, "{}", session.body);
    let cookie = session
        .header("set-cookie")
        .and_then(|c| c.strip_prefix("linetwin_session="))
        .and_then(|c| c.split(';').next())
        .expect("a kiosk session cookie")
        .to_owned();
    let kiosk_browser = Caller::Cookie(cookie);
    assert_eq!(
        call(addr, &kiosk_browser, "GET", "/api/line", "")
            .await
            .status,
        200
    );
    let mut by_cookie = open_socket(addr, "/ws", &kiosk_browser, None)
        .await
        .expect("opens");
    expect_hello(&mut by_cookie).await;
    let mut by_token = open_socket(addr, "/ws", &who.kiosk, None)
        .await
        .expect("opens");
    expect_hello(&mut by_token).await;

    let revoked = call(
        addr,
        &who.admin,
        "POST",
        &format!("/api/tokens/{}/revoke", who.kiosk_token),
        "",
    )
    .await;
    assert_eq!(revoked.status, 204, "{}", revoked.body);
    let started = std::time::Instant::now();
    assert_eq!(expect_closed(&mut by_cookie).await, Some(CloseCode::Policy));
    assert_eq!(expect_closed(&mut by_token).await, Some(CloseCode::Policy));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed {:?} after the revocation",
        started.elapsed()
    );
    assert_eq!(
        call(addr, &who.kiosk, "GET", "/api/line", "").await.status,
        401
    );
    assert_eq!(
        call(addr, &kiosk_browser, "GET", "/api/line", "")
            .await
            .status,
        401
    );
    assert_eq!(
        open_socket(addr, "/ws", &who.kiosk, None).await.err(),
        Some(401)
    );
    assert_eq!(
        open_socket(addr, "/ws", &kiosk_browser, None).await.err(),
        Some(401)
    );

    // Signing out ends a person's session the same way.
    let mut viewer = open_socket(addr, "/ws", &who.viewer, None)
        .await
        .expect("opens");
    expect_hello(&mut viewer).await;
    assert_eq!(
        call(addr, &who.viewer, "POST", "/api/logout", "")
            .await
            .status,
        204
    );
    assert_eq!(expect_closed(&mut viewer).await, Some(CloseCode::Policy));
    assert_eq!(
        call(addr, &who.viewer, "GET", "/api/line", "").await.status,
        401
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_one_socket_and_foreign_pages_open_none() {
    let dir = temp_dir("access-ticket");
    let (gateway, who) = start(&dir).await;
    let addr = gateway.addr;

    let ticket = call(addr, &who.viewer, "POST", "/api/ws-ticket", "")
        .await
        .json();
    let ticket = ticket["ticket"].as_str().expect("a ticket").to_owned();
    let path = format!("/ws?ticket={ticket}");
    let mut socket = open_socket(addr, &path, &Caller::Nobody, None)
        .await
        .expect("the ticket opens the socket");
    expect_hello(&mut socket).await;
    assert_eq!(
        open_socket(addr, &path, &Caller::Nobody, None).await.err(),
        Some(401),
        "a used ticket opens nothing"
    );
    // A ticket is no credential for HTTP.
    assert_eq!(
        call(
            addr,
            &Caller::Nobody,
            "GET",
            &format!("/api/line?ticket={ticket}"),
            ""
        )
        .await
        .status,
        401
    );

    // Cross-site WebSocket hijacking: the browser sends the cookie, and
    // the page's origin gives it away.
    let own = format!("http://{addr}");
    let mut same_site = open_socket(addr, "/ws", &who.viewer, Some(&own))
        .await
        .expect("own page");
    expect_hello(&mut same_site).await;
    for foreign in [
        "http://evil.example",
        "null",
        &format!("http://{addr}.evil.example"),
    ] {
        assert_eq!(
            open_socket(addr, "/ws", &who.viewer, Some(foreign))
                .await
                .err(),
            Some(403),
            "{foreign}"
        );
        assert_eq!(
            open_socket(addr, "/ws/ingest", &who.producer, Some(foreign))
                .await
                .err(),
            Some(403),
            "{foreign}"
        );
        let headers = [
            ("Origin", foreign),
            (
                "Cookie",
                &format!(
                    "linetwin_session={}",
                    match &who.operator {
                        Caller::Cookie(value) => value.as_str(),
                        _ => unreachable!("people sign in with cookies"),
                    }
                ),
            ),
        ];
        let forged = request(addr, "POST", "/api/alarms/1/acknowledge", &headers, "{}").await;
        assert_eq!(
            forged.status, 403,
            "a foreign page acknowledging: {}",
            forged.body
        );
    }

    // Guessing passwords: five tries a peer, then a pause.
    let wrong = serde_json::json!({ "name": "olga", "password": "not the passphrase" }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            request(addr, "POST", "/api/login", &[], &wrong)
                .await
                .status,
        );
    }
    // Three sign-ins at the start used three of the five.
    assert_eq!(statuses[..2], [401, 401], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == 429), "{statuses:?}");
    let limited = request(addr, "POST", "/api/login", &[], &wrong).await;
    assert!(limited.header("retry-after").is_some());
    gateway.stop().await;
}

#[tokio::test]
async fn an_open_gateway_serves_this_machine_only() {
    let dir = temp_dir("access-open");
    let gateway = Gateway::start("", &dir).await;
    let addr = gateway.addr;
    // DNS rebinding: a hostile name that resolves to 127.0.0.1.
    let rebound = request(
        addr,
        "GET",
        "/api/line",
        &[("Host", "evil.example:8080")],
        "",
    )
    .await;
    assert_eq!(rebound.status, 421, "{}", rebound.body);
    assert_eq!(request(addr, "GET", "/api/line", &[], "").await.status, 200);
    // Every page of the gateway forbids inline scripts and framing.
    let page = request(addr, "GET", "/", &[], "").await;
    let policy = page.header("content-security-policy").expect("a CSP");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    let scripts = policy
        .split(';')
        .find(|directive| directive.trim().starts_with("script-src"))
        .expect("a script-src");
    assert!(!scripts.contains("'unsafe-inline'"), "{scripts}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    gateway.stop().await;

    // Listening on the network without sign-in is refused, saying how.
    let listener = linetwin_server::bind("0.0.0.0", 0).await.expect("bind");
    let refused = linetwin_server::serve(listener, demo_config("", &dir), std::future::pending())
        .await
        .expect_err("refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("without sign-in") && message.contains("user add"),
        "{message}"
    );
}
