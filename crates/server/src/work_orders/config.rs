//! `[work_orders]` and `[state]` of the gateway config file.

use serde::Deserialize;

/// Where the gateway keeps what it must not forget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The SQLite file (created if missing). Without `[state]` the gateway
    /// keeps its alarms and outbox in memory only, and says so at start.
    pub path: std::path::PathBuf,
}

/// When the gateway raises a maintenance notification by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaiseOn {
    /// Only when an operator asks.
    Never,
    /// Zone D (critical) alarms.
    #[default]
    Critical,
    /// Zone C and D alarms.
    Warning,
    /// Every alarm, baseline advisories too.
    Advisory,
}

impl RaiseOn {
    pub fn covers(self, severity: linetwin_twin::Severity) -> bool {
        use linetwin_twin::Severity;
        match self {
            RaiseOn::Never => false,
            RaiseOn::Critical => severity == Severity::Critical,
            RaiseOn::Warning => severity >= Severity::Warning,
            RaiseOn::Advisory => true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderConfig {
    /// Alarms that raise a notification without anyone asking.
    #[serde(default)]
    pub raise_on: RaiseOn,
    /// The viewer's address as people reach it, for the deep link in each
    /// notification (`http://twin.plant.local:8080/`).
    pub viewer_url: Option<String>,
    /// The CloudEvents `source`; default `linetwin://<line id>`.
    pub source: Option<String>,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host:port/path` or `https://host:port/path`.
    pub url: String,
    /// For `https://`: the CA that signed the receiver's certificate (PEM);
    /// without it, the system's CA certificates.
    pub ca_file: Option<std::path::PathBuf>,
    /// The name of an environment variable holding a bearer token.
    pub token_env: Option<String>,
}

impl WebhookConfig {
    /// Its CA file, for the errors named under `section`.
    pub(crate) fn tls_files<'a>(&'a self, section: &'a str) -> crate::tls::TlsFiles<'a> {
        crate::tls::TlsFiles {
            section,
            ca_file: self.ca_file.as_deref(),
            client_cert_file: None,
            client_key_file: None,
        }
    }
}

/// A webhook URL, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    pub host: String,
    pub port: u16,
    pub path: String,
    pub tls: bool,
}

impl WebhookUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let (rest, tls, default_port) = if let Some(rest) = url.strip_prefix("https://") {
            (rest, true, 443)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (rest, false, 80)
        } else {
            return Err(format!("`{url}` is not an http:// or https:// URL"));
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("`{port}` in `{url}` is not a port number"))?;
                (host, port)
            }
            _ => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("`{url}` names no host"));
        }
        Ok(WebhookUrl {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            tls,
        })
    }

    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl WorkOrderConfig {
    /// Checks what can be checked before start: (field, reason) on error.
    pub fn validate(&self) -> Result<(), (String, String)> {
        for (i, hook) in self.webhooks.iter().enumerate() {
            let url = WebhookUrl::parse(&hook.url)
                .map_err(|reason| (format!("work_orders.webhooks[{i}].url"), reason))?;
            match (url.tls, &hook.ca_file) {
                (false, Some(_)) => {
                    return Err((
                        format!("work_orders.webhooks[{i}].ca_file"),
                        "only for an https:// webhook".into(),
                    ));
                }
                // The files are read now, so a wrong path is refused at start.
                (true, _) => {
                    crate::tls::client_config(
                        &hook.tls_files(&format!("work_orders.webhooks[{i}]")),
                    )?;
                }
                (false, None) => {}
            }
            if let Some(name) = &hook.token_env
                && std::env::var_os(name).is_none()
            {
                return Err((
                    format!("work_orders.webhooks[{i}].token_env"),
                    format!("environment variable `{name}` is not set"),
                ));
            }
        }
        if self.raise_on != RaiseOn::Never && self.webhooks.is_empty() {
            return Err((
                "work_orders.webhooks".into(),
                "no webhook to send notifications to: add one, or set raise_on = \"never\"".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_read_or_refused_with_a_reason() {
        assert_eq!(
            WebhookUrl::parse("http://cmms.local:8081/api/notify"),
            Ok(WebhookUrl {
                host: "cmms.local".into(),
                port: 8081,
                path: "/api/notify".into(),
                tls: false,
            })
        );
        assert_eq!(
            WebhookUrl::parse("http://cmms.local").map(|u| (u.port, u.path)),
            Ok((80, "/".into()))
        );
        assert_eq!(
            WebhookUrl::parse("http://[::1]:9000/x").map(|u| u.authority()),
            Ok("[::1]:9000".into())
        );
        assert_eq!(
            WebhookUrl::parse("https://sap.example/sap/opu").map(|u| (u.port, u.tls, u.path)),
            Ok((443, true, "/sap/opu".into()))
        );
        assert!(
            WebhookUrl::parse("ftp://x/")
                .unwrap_err()
                .contains("not an http")
        );
        assert!(
            WebhookUrl::parse("http://x:port/")
                .unwrap_err()
                .contains("port number")
        );
    }

    #[test]
    fn the_rule_says_which_alarms_raise_a_notification() {
        use linetwin_twin::Severity;
        assert!(RaiseOn::Critical.covers(Severity::Critical));
        assert!(!RaiseOn::Critical.covers(Severity::Warning));
        assert!(RaiseOn::Warning.covers(Severity::Warning));
        assert!(!RaiseOn::Warning.covers(Severity::Advisory));
        assert!(!RaiseOn::Never.covers(Severity::Critical));
    }
}
