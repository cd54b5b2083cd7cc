//! One POST of one event to one webhook, over HTTP/1.1 (hyper's client
//! connection: no client crate beyond what axum already builds), in TLS
//! for https (rustls), and what its answer means for the outbox.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::config::WebhookUrl;
use super::event::CONTENT_TYPE;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered,
    /// Down, overloaded or slow: try again later.
    Retry(String),
    /// The receiver refused the event itself (4xx): retrying cannot help.
    Refused(String),
}

/// The outbox's reading of an HTTP status.
pub(crate) fn outcome_of(status: u16, body: &str) -> Outcome {
    let said = body.trim().chars().take(200).collect::<String>();
    let reason = if said.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {said}")
    };
    match status {
        200..=299 => Outcome::Delivered,
        // Timeout, conflict in flight, too early, rate limited: the receiver
        // asks us to come back.
        408 | 409 | 425 | 429 => Outcome::Retry(reason),
        // A redirect means the configured URL is not the receiver's.
        300..=399 => Outcome::Refused(format!("{reason} (a redirect: configure the final URL)")),
        400..=499 => Outcome::Refused(reason),
        _ => Outcome::Retry(reason),
    }
}

pub(crate) async fn post(
    url: &WebhookUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
    bearer: Option<&str>,
    event_json: &str,
) -> Outcome {
    match tokio::time::timeout(REQUEST_TIMEOUT, attempt(url, tls, bearer, event_json)).await {
        Ok(Ok((status, body))) => outcome_of(status, &body),
        Ok(Err(reason)) => Outcome::Retry(reason),
        Err(_) => Outcome::Retry(format!("no answer within {REQUEST_TIMEOUT:?}")),
    }
}

async fn attempt(
    url: &WebhookUrl,
    tls: Option<&Arc<rustls::ClientConfig>>,
    bearer: Option<&str>,
    event_json: &str,
) -> Result<(u16, String), String> {
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        TcpStream::connect((url.host.as_str(), url.port)),
    )
    .await
    .map_err(|_| {
        format!(
            "cannot connect to {} within {CONNECT_TIMEOUT:?}",
            url.authority()
        )
    })?
    .map_err(|e| format!("cannot connect to {}: {e}", url.authority()))?;
    match (url.tls, tls) {
        (true, Some(config)) => {
            let name = rustls::pki_types::ServerName::try_from(url.host.clone()).map_err(|e| {
                format!(
                    "`{}` cannot be checked against a certificate: {e}",
                    url.host
                )
            })?;
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(config))
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS with {}: {e}", url.authority()))?;
            exchange(stream, url, bearer, event_json).await
        }
        (true, None) => Err(format!("no TLS settings for {}", url.authority())),
        (false, _) => exchange(stream, url, bearer, event_json).await,
    }
}

/// The POST and its answer, over a plain or a TLS stream.
async fn exchange<S>(
    stream: S,
    url: &WebhookUrl,
    bearer: Option<&str>,
    event_json: &str,
) -> Result<(u16, String), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {}: {e}", url.authority()))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut request = http::Request::post(url.path.as_str())
        .header(http::header::HOST, url.authority())
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .header(
            http::header::USER_AGENT,
            concat!("linetwin/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(token) = bearer {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(Bytes::from(event_json.to_owned())))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{}: {e}", url.authority()))?;
    let status = response.status().as_u16();
    // Only the start of the answer is kept, for the reason shown.
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| {
            String::from_utf8_lossy(&b.to_bytes()[..])
                .chars()
                .take(400)
                .collect()
        })
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_whether_to_try_again() {
        assert_eq!(outcome_of(202, ""), Outcome::Delivered);
        assert_eq!(outcome_of(503, ""), Outcome::Retry("HTTP 503".into()));
        assert_eq!(
            outcome_of(429, "slow down"),
            Outcome::Retry("HTTP 429: slow down".into())
        );
        assert_eq!(
            outcome_of(400, "missing field asset"),
            Outcome::Refused("HTTP 400: missing field asset".into())
        );
        assert!(matches!(outcome_of(301, ""), Outcome::Refused(_)));
    }
}
