//! The gateway's own HTTPS (`--tls-cert`, `--tls-key`): rustls with the
//! ring provider, HTTP/1.1 (WebSockets upgrade over it). Handshakes run
//! as tasks of their own, so a client that stalls in its handshake holds
//! up nobody else; one that takes longer than [`HANDSHAKE_TIMEOUT`] is
//! dropped, and so is any beyond [`MAX_HANDSHAKES`] at once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HANDSHAKES: usize = 1024;

/// The certificate chain and key the gateway serves HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("--tls-cert {0}")]
    Certificate(String),
    #[error("--tls-key {0}")]
    Key(String),
    #[error("--tls-cert and --tls-key do not go together: {0}")]
    Mismatch(String),
}

/// The acceptor for these files; the error names the flag and the file.
pub fn acceptor(files: &ServerTls) -> Result<TlsAcceptor, HttpsError> {
    let chain = crate::tls::pem_certificates(&files.cert).map_err(HttpsError::Certificate)?;
    let key = crate::tls::pem_private_key(&files.key).map_err(HttpsError::Key)?;
    let config = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpsError::Mismatch(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            HttpsError::Mismatch(format!("{}, {}: {e}", show(&files.cert), show(&files.key)))
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

type Handshake = Result<(TlsStream<TcpStream>, SocketAddr), ()>;

/// A TCP listener whose connections are TLS by the time axum sees them.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> Self {
        TlsListener {
            tcp,
            acceptor,
            handshakes: JoinSet::new(),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    // Cancel-safe: what is under way lives in `self`, not in this future.
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, peer)) if self.handshakes.len() < MAX_HANDSHAKES => {
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => Ok((tls, peer)),
                                Ok(Err(e)) => {
                                    tracing::debug!("TLS handshake with {peer} failed: {e}");
                                    Err(())
                                }
                                Err(_) => Err(()),
                            }
                        });
                    }
                    Ok((_, peer)) => tracing::warn!("{MAX_HANDSHAKES} TLS handshakes under way: dropped {peer}"),
                    // Out of file descriptors and the like: a pause, as axum does.
                    Err(e) => {
                        tracing::warn!("accepting a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Ok(connection)) = done {
                        return connection;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
