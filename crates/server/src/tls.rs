//! TLS for the gateway's outgoing connections (the MQTT broker, HTTPS
//! webhooks): rustls with the ring provider, no OpenSSL and no C
//! toolchain. The peer's certificate is checked against the plant's CA
//! file, or the system's CA certificates when none is named. The PEM
//! readers serve the gateway's own HTTPS too (`crate::https`).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A config error: the field and the reason.
pub(crate) type FieldError = (String, String);

/// The PEM files a TLS client may name, and the config section they are
/// in (for the errors: `mqtt.tls.ca_file`, `work_orders.webhooks[0].ca_file`).
pub(crate) struct TlsFiles<'a> {
    pub section: &'a str,
    pub ca_file: Option<&'a Path>,
    pub client_cert_file: Option<&'a Path>,
    pub client_key_file: Option<&'a Path>,
}

/// The certificates of a PEM file; the reason names the file.
pub(crate) fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(certs)
}

/// The private key of a PEM file; the reason names the file.
pub(crate) fn pem_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

/// rustls with the ring provider, the only one this build has.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub(crate) fn client_config(files: &TlsFiles) -> Result<rustls::ClientConfig, FieldError> {
    let field = |name: &str| format!("{}.{name}", files.section);
    let fail = |name: &str, path: &Path, e: &dyn std::fmt::Display| {
        (field(name), format!("{}: {e}", path.display()))
    };
    let certificates =
        |name: &str, path: &Path| pem_certificates(path).map_err(|e| (field(name), e));
    let mut roots = rustls::RootCertStore::empty();
    match files.ca_file {
        Some(path) => {
            for cert in certificates("ca_file", path)? {
                roots.add(cert).map_err(|e| fail("ca_file", path, &e))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err((
                    field("ca_file"),
                    "the system has no CA certificates: name the CA that signed the peer's".into(),
                ));
            }
        }
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| (files.section.to_owned(), e.to_string()))?
        .with_root_certificates(roots);
    match (files.client_cert_file, files.client_key_file) {
        (Some(cert), Some(key_path)) => {
            let chain = certificates("client_cert_file", cert)?;
            let key = pem_private_key(key_path).map_err(|e| (field("client_key_file"), e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| fail("client_cert_file", cert, &e))
        }
        (Some(_), None) => Err((
            field("client_key_file"),
            "a client certificate needs its key".into(),
        )),
        (None, Some(_)) => Err((
            field("client_cert_file"),
            "a client key needs its certificate".into(),
        )),
        (None, None) => Ok(builder.with_no_client_auth()),
    }
}
