//! Headers on every response that make a browser refuse what the gateway
//! never does: run a script it did not serve, be framed by another site,
//! sniff a download into a page, leak the URL to another site.
//!
//! The Content-Security-Policy allows scripts from the gateway itself,
//! WebAssembly (`'wasm-unsafe-eval'`), and the inline scripts of the built
//! `index.html` (Trunk's loader, the WebGL2 probe) by their SHA-256, read
//! from the file: a rebuilt viewer needs no code change here. Inline
//! *styles* stay allowed: winit and egui set canvas and cursor styles.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use http::{HeaderValue, header};

/// The `'sha256-…'` source of each inline `<script>` (one without `src`).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_and_more = &after[tag_end + 1..];
        let Some(close) = body_and_more.find("</script") else {
            break;
        };
        if !tag.contains("src=") {
            let body = &body_and_more[..close];
            let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
            hashes.push(format!("'sha256-{encoded}'"));
        }
        rest = &body_and_more[close..];
    }
    hashes
}

/// The policy, given the inline scripts' hashes and the host the page was
/// asked from (its WebSocket address).
pub fn content_security_policy(script_hashes: &[String], host: Option<&str>) -> String {
    let hashes = script_hashes.join(" ");
    let sockets = host
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".:-[]".contains(&b))
        })
        .map(|h| format!(" ws://{h} wss://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; \
         connect-src 'self'{sockets}; worker-src 'self' blob:; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The file's modification time and its scripts' hashes.
type HashesOf = (SystemTime, Vec<String>);

/// The hashes of the viewer's `index.html`, read again when the file changes.
#[derive(Clone)]
pub(crate) struct ViewerScripts {
    index: PathBuf,
    /// Served over the gateway's own HTTPS: browsers are told to keep to it.
    https: bool,
    cached: Arc<Mutex<Option<HashesOf>>>,
}

impl ViewerScripts {
    pub(crate) fn new(web_root: &std::path::Path, https: bool) -> Self {
        ViewerScripts {
            index: web_root.join("index.html"),
            https,
            cached: Arc::default(),
        }
    }

    fn hashes(&self) -> Vec<String> {
        let Ok(modified) = std::fs::metadata(&self.index).and_then(|m| m.modified()) else {
            return Vec::new();
        };
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, hashes)) = cached.as_ref()
            && *at == modified
        {
            return hashes.clone();
        }
        let hashes = std::fs::read_to_string(&self.index)
            .map(|html| inline_script_hashes(&html))
            .unwrap_or_default();
        *cached = Some((modified, hashes.clone()));
        hashes
    }
}

pub(crate) async fn add(
    State(scripts): State<ViewerScripts>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = content_security_policy(&scripts.hashes(), host.as_deref());
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Not `no-referrer`: under it a browser sends `Origin: null` with
        // a form's POST, and the origin check refuses the sign-in form.
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        http::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if scripts.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_inline_script_is_hashed_and_external_ones_are_not() {
        let html = r#"<head><script type="module">a()</script>
            <script src="/x.js"></script><script>
b()
</script></head>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2);
        // `echo -n 'a()' | openssl dgst -sha256 -binary | base64`
        assert_eq!(
            hashes[0],
            "'sha256-qVpDBgj7bpq5hMAcGp3AOc79J3Y1Z4HvySTwKrWDoy4='"
        );
        assert_ne!(hashes[0], hashes[1]);
        assert!(inline_script_hashes("<p>no scripts</p>").is_empty());
        assert!(inline_script_hashes("<script>unclosed").is_empty());
    }

    #[test]
    fn the_policy_allows_wasm_and_the_hashed_scripts_only() {
        let policy = content_security_policy(&["'sha256-abc='".into()], Some("twin:8080"));
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='"));
        assert!(!policy.contains("script-src 'self' 'unsafe-inline'"));
        assert!(policy.contains("connect-src 'self' ws://twin:8080 wss://twin:8080"));
        assert!(policy.contains("frame-ancestors 'none'"));
        // A Host header cannot write into the policy.
        let odd = content_security_policy(&[], Some("x; script-src *"));
        assert!(odd.contains("connect-src 'self';"));
    }
}
