//! The gateway's own HTTPS (`--tls-cert`, `--tls-key`): a client that
//! trusts the plant's CA gets the API and the WebSocket over TLS, with
//! HSTS; plain HTTP on that port gets no answer; unusable files are named.

use std::sync::Arc;

use futures_util::StreamExt;
use linetwin_core::protocol::TextMessage;
use linetwin_server::https::{ServerTls, acceptor};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::{Gateway, temp_dir, test_pki, within};

fn connector(ca: &std::path::Path) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("the CA file") {
        roots.add(cert.expect("a certificate")).expect("a root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn the_gateway_serves_https_and_wss_with_its_own_certificate() {
    let dir = temp_dir("https");
    let (ca, cert, key) = test_pki(&dir, "gateway");
    let tls = ServerTls { cert, key };
    let gateway = Gateway::start_with_tls("", &dir, Some(tls.clone())).await;
    let addr = gateway.addr;
    let tls_to = |connector: tokio_rustls::TlsConnector| async move {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let name = ServerName::try_from("127.0.0.1").expect("a name");
        connector.connect(name, tcp).await
    };

    // HTTPS, with the browser told to keep to it.
    let mut stream = within("a TLS handshake", tls_to(connector(&ca)))
        .await
        .expect("the plant's CA vouches for the gateway");
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("strict-transport-security: max-age=31536000"),
        "{response}"
    );

    // The viewers' WebSocket, over TLS.
    let stream = within("a TLS handshake", tls_to(connector(&ca)))
        .await
        .expect("handshake");
    let (mut viewer, _) = within(
        "the wss handshake",
        tokio_tungstenite::client_async(format!("wss://{addr}/ws"), stream),
    )
    .await
    .expect("the WebSocket opens");
    let hello = within("the hello", viewer.next())
        .await
        .expect("open")
        .expect("a frame");
    let Message::Text(text) = hello else {
        panic!("expected the hello, got {hello:?}");
    };
    assert!(matches!(
        TextMessage::from_json(&text),
        Ok(TextMessage::Hello { .. })
    ));

    // A certificate from another CA is not trusted by a careful client.
    let (other_ca, _, _) = test_pki(&dir, "other");
    assert!(
        within("a refused handshake", tls_to(connector(&other_ca)))
            .await
            .is_err()
    );

    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("send");
    let mut answer = Vec::new();
    let _ = within(
        "the plain connection to end",
        plain.read_to_end(&mut answer),
    )
    .await;
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    gateway.stop().await;

    // Files that cannot serve are named with their flag.
    let missing = ServerTls {
        cert: tls.cert.clone(),
        key: dir.join("no-such.key"),
    };
    let error = acceptor(&missing).err().expect("refused").to_string();
    assert!(
        error.contains("--tls-key") && error.contains("no-such.key"),
        "{error}"
    );
    let swapped = ServerTls {
        cert: tls.key.clone(),
        key: tls.cert.clone(),
    };
    let error = acceptor(&swapped).err().expect("refused").to_string();
    assert!(error.contains("--tls-cert"), "{error}");
}
