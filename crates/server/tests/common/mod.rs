//! What the gateway's integration tests share: a gateway started from a
//! config file's text on a free port, plain HTTP against it, and waiting
//! with a deadline.

#![allow(dead_code)] // each test file uses its own part

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use linetwin_server::Config;
use linetwin_server::mqtt::config::GatewayConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const STEP: Duration = Duration::from_secs(30);

pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP, future)
        .await
        .unwrap_or_else(|_| panic!("timed out after {STEP:?} waiting for {what}"))
}

pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}

/// An HTTP/1.1 response as read off the socket.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or null.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// One HTTP/1.1 exchange with extra headers and a JSON body.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// An HTTP/1.1 exchange with a JSON body; (status, body as JSON, or null).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let reply = request(addr, method, path, &[], body).await;
    (reply.status, reply.json())
}

pub async fn healthz(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = http(addr, "GET", "/healthz", "").await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The demo line with the given config file's text, no simulator, the
/// viewer's files (none) in `dir`.
pub fn demo_config(toml: &str, dir: &Path) -> Config {
    let line_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/lines/demo.json");
    let line = linetwin_server::load_line(&line_path).expect("demo line");
    let gateway = GatewayConfig::from_toml("test.toml", toml, &line).expect("valid config");
    Config {
        line,
        web_root: dir.join("web"),
        simulator: None,
        record: None,
        replay: None,
        scenario: None,
        mqtt: gateway.mqtt,
        state: gateway.state,
        work_orders: gateway.work_orders,
        auth: gateway.auth,
        tls: None,
    }
}

/// A gateway serving the demo line with the given config file, no simulator.
pub struct Gateway {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Gateway {
    pub async fn start(toml: &str, dir: &Path) -> Self {
        Self::start_with_tls(toml, dir, None).await
    }

    /// [`Gateway::start`], serving its own HTTPS with these files.
    pub async fn start_with_tls(
        toml: &str,
        dir: &Path,
        tls: Option<linetwin_server::https::ServerTls>,
    ) -> Self {
        let config = Config {
            tls,
            ..demo_config(toml, dir)
        };
        let listener = linetwin_server::bind("127.0.0.1", 0).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(linetwin_server::serve(listener, config, async move {
            let _ = stopped.await;
        }));
        Gateway { addr, stop, server }
    }

    pub async fn get(&self, path: &str) -> serde_json::Value {
        let (status, body) = within(path, http(self.addr, "GET", path, "")).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        within("the gateway to stop", self.server)
            .await
            .expect("joins")
            .expect("serves cleanly");
    }
}

/// A fresh folder for one test's files.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("linetwin-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A test CA and a server certificate for 127.0.0.1 signed by it, made by
/// the openssl command line; (CA, certificate, key) paths.
pub fn test_pki(
    dir: &Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?}");
    };
    let ca = format!("{name}-ca.pem");
    let ca_key = format!("{name}-ca.key");
    let cert = format!("{name}-server.pem");
    let key = format!("{name}-server.key");
    let csr = format!("{name}-server.csr");
    let ext = format!("{name}-ext.cnf");
    std::fs::write(
        dir.join(&ext),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("ext");
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &ca_key,
        "-out",
        &ca,
        "-days",
        "2",
        "-subj",
        "/CN=linetwin test CA",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &csr,
        "-subj",
        "/CN=localhost",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-out",
        &cert,
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
    // The broker may drop to its own user before it reads them.
    for file in [&ca, &cert, &key] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o644))
            .expect("readable");
    }
    (dir.join(ca), dir.join(cert), dir.join(key))
}
