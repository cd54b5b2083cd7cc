//! `[auth]` of the gateway config file: with it, everyone signs in.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Web origins besides the gateway's own that may open its WebSockets
    /// and post to it (`https://hmi.plant.local`).
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// How long a person stays signed in (a shift, by default).
    #[serde(default = "default_session_hours")]
    pub session_hours: f64,
    /// Mark the session cookie `Secure`: set it when people reach the
    /// gateway over HTTPS (its own TLS or a reverse proxy's).
    #[serde(default)]
    pub secure_cookies: bool,
}

fn default_session_hours() -> f64 {
    12.0
}

impl AuthConfig {
    /// A field that cannot be used, and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !(self.session_hours.is_finite()
            && self.session_hours > 0.0
            && self.session_hours <= 24.0 * 31.0)
        {
            return Some((
                "session_hours",
                format!("{} is not between 0 and 744 (31 days)", self.session_hours),
            ));
        }
        for origin in &self.allowed_origins {
            let ok = origin.split_once("://").is_some_and(|(scheme, rest)| {
                matches!(scheme, "http" | "https")
                    && !rest.trim_end_matches('/').is_empty()
                    && !rest.trim_end_matches('/').contains('/')
            });
            if !ok {
                return Some((
                    "allowed_origins",
                    format!("`{origin}` is not an origin like https://hmi.plant.local:8443"),
                ));
            }
        }
        None
    }
}
