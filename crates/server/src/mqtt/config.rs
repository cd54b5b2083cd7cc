//! The gateway's config file (`--config gateway.toml`): where the broker is
//! and how its topics map onto the line's sensors. Declared, not coded: a
//! plant is connected by editing this file. Every error names the file, the
//! field and what to change.

use std::path::Path;

use linetwin_core::line::{Line, SensorKind};
use serde::Deserialize;

/// The whole file: `[mqtt]`, `[state]`, `[work_orders]` and `[auth]`; unknown
/// sections are refused so a typo is not silently ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    pub mqtt: Option<MqttConfig>,
    pub state: Option<crate::work_orders::config::StateConfig>,
    pub work_orders: Option<crate::work_orders::config::WorkOrderConfig>,
    /// Sign-in for everyone (people, kiosks, producers); see docs/security.md.
    pub auth: Option<crate::auth::config::AuthConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host:1883` (TCP) or `mqtts://host:8883` (TLS).
    pub url: String,
    #[serde(default = "default_client_id")]
    pub client_id: String,
    pub username: Option<String>,
    /// The name of an environment variable holding the password: a secret
    /// in a config file ends up in backups and tickets.
    pub password_env: Option<String>,
    /// MQTT protocol version: 4 (3.1.1) or 5.
    #[serde(default = "default_protocol")]
    pub protocol: u8,
    /// For `mqtts://`: the broker's CA and, for mutual TLS, this gateway's
    /// certificate and key (PEM files).
    pub tls: Option<TlsConfig>,
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u64,
    #[serde(default)]
    pub topics: Vec<TopicMapping>,
    pub sparkplug: Option<SparkplugConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The CA that signed the broker's certificate; without it, the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
    pub client_cert_file: Option<std::path::PathBuf>,
    pub client_key_file: Option<std::path::PathBuf>,
}

/// Where the broker is, and whether the connection is TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

fn default_client_id() -> String {
    "linetwin-gateway".into()
}
fn default_protocol() -> u8 {
    4
}
fn default_keep_alive() -> u64 {
    15
}

/// What a plain topic carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadKind {
    /// `{"t": <unix s>, "value": <number>}` (or `"ts"` in ms) for one sensor.
    Reading,
    /// A linetwin `readings` message, as on `/ws/ingest`.
    Readings,
    /// An `LTW1` waveform frame (binary), as on `/ws/ingest`.
    Waveform,
}

/// Where a reading without a time gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The payload's `t` or `ts`; a reading without one is refused.
    #[default]
    Payload,
    /// The gateway's clock when the message arrives: only for legacy
    /// devices that send a bare number.
    Arrival,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicMapping {
    /// An MQTT topic filter (`+` one level, `#` the rest).
    pub filter: String,
    pub payload: PayloadKind,
    /// For `reading`: the sensor id, where `{1}`, `{2}`… stand for the
    /// levels matched by the first, second… `+` of the filter.
    pub sensor: Option<String>,
    #[serde(default)]
    pub time: TimeSource,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparkplugConfig {
    /// The Sparkplug group id the line's edge nodes publish under.
    pub group: String,
    pub metrics: Vec<SparkplugMetric>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SparkplugMetric {
    pub node: String,
    /// Absent: a metric of the node itself.
    pub device: Option<String>,
    /// The metric's name in the birth certificate.
    pub metric: String,
    pub sensor: String,
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read gateway config {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("gateway config {path} is not valid: {message}")]
    Syntax { path: String, message: String },
    #[error("gateway config {path}: {field}: {reason}")]
    Field {
        path: String,
        field: String,
        reason: String,
    },
}

impl GatewayConfig {
    pub fn load(path: &Path, line: &Line) -> Result<Self, ConfigError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            path: label.clone(),
            error,
        })?;
        Self::from_toml(&label, &text, line)
    }

    pub fn from_toml(label: &str, text: &str, line: &Line) -> Result<Self, ConfigError> {
        let config: GatewayConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: label.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        if let Some(mqtt) = &config.mqtt {
            mqtt.validate(line)
                .map_err(|(field, reason)| ConfigError::Field {
                    path: label.to_owned(),
                    field,
                    reason,
                })?;
        }
        if let Some(auth) = &config.auth {
            if config.state.is_none() {
                return Err(ConfigError::Field {
                    path: label.to_owned(),
                    field: "auth".into(),
                    reason:
                        "people and tokens are kept in the state database: add [state] path = \"…\""
                            .into(),
                });
            }
            if let Some((field, reason)) = auth.problem() {
                return Err(ConfigError::Field {
                    path: label.to_owned(),
                    field: format!("auth.{field}"),
                    reason,
                });
            }
        }
        if let Some(orders) = &config.work_orders {
            orders
                .validate()
                .map_err(|(field, reason)| ConfigError::Field {
                    path: label.to_owned(),
                    field,
                    reason,
                })?;
        }
        Ok(config)
    }
}

impl MqttConfig {
    /// The PEM files of `[mqtt.tls]`.
    pub(crate) fn tls_files(&self) -> crate::tls::TlsFiles<'_> {
        let tls = self.tls.as_ref();
        crate::tls::TlsFiles {
            section: "mqtt.tls",
            ca_file: tls.and_then(|t| t.ca_file.as_deref()),
            client_cert_file: tls.and_then(|t| t.client_cert_file.as_deref()),
            client_key_file: tls.and_then(|t| t.client_key_file.as_deref()),
        }
    }

    /// Host, port and transport of `url`.
    pub fn broker(&self) -> Result<Broker, String> {
        let (rest, tls, default_port) = if let Some(rest) = self.url.strip_prefix("mqtts://") {
            (rest, true, 8883)
        } else if let Some(rest) = self.url.strip_prefix("mqtt://") {
            (rest, false, 1883)
        } else {
            return Err("must start with mqtt:// (TCP) or mqtts:// (TLS)".to_owned());
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("port `{port}` is not a number from 1 to 65535"))?;
                (host.trim_start_matches('[').trim_end_matches(']'), port)
            }
            _ => (rest, default_port),
        };
        if host.is_empty() || port == 0 {
            return Err("needs a host and a port, e.g. mqtt://broker.plant.local:1883".into());
        }
        Ok(Broker {
            host: host.to_owned(),
            port,
            tls,
        })
    }

    fn validate(&self, line: &Line) -> Result<(), (String, String)> {
        let broker = self.broker().map_err(|r| ("mqtt.url".to_owned(), r))?;
        if !matches!(self.protocol, 4 | 5) {
            return Err((
                "mqtt.protocol".into(),
                format!("{} is neither 4 (MQTT 3.1.1) nor 5 (MQTT 5)", self.protocol),
            ));
        }
        match (broker.tls, &self.tls) {
            (false, Some(_)) => {
                return Err((
                    "mqtt.tls".into(),
                    "only for a broker reached by TLS: make the url mqtts://".into(),
                ));
            }
            // The files are read now, so a wrong path is refused at start.
            (true, _) => {
                crate::tls::client_config(&self.tls_files())?;
            }
            (false, None) => {}
        }
        if self.client_id.is_empty() || self.client_id.len() > 64 {
            return Err(("mqtt.client_id".into(), "must be 1 to 64 characters".into()));
        }
        if let Some(var) = &self.password_env
            && std::env::var_os(var).is_none()
        {
            return Err((
                "mqtt.password_env".into(),
                format!("the environment variable {var} is not set"),
            ));
        }
        for (i, topic) in self.topics.iter().enumerate() {
            let field = |name: &str| format!("mqtt.topics[{i}].{name}");
            crate::mqtt::mapping::validate_filter(&topic.filter)
                .map_err(|r| (field("filter"), r))?;
            let wildcards = topic.filter.split('/').filter(|l| *l == "+").count();
            match (topic.payload, &topic.sensor) {
                (PayloadKind::Reading, None) => {
                    return Err((
                        field("sensor"),
                        "a `reading` topic needs the sensor it reads".into(),
                    ));
                }
                (PayloadKind::Reading, Some(template)) => {
                    check_template(template, wildcards, line).map_err(|r| (field("sensor"), r))?;
                }
                (_, Some(_)) => {
                    return Err((
                        field("sensor"),
                        "only `reading` topics name a sensor: the others carry theirs".into(),
                    ));
                }
                (_, None) => {}
            }
            if topic.time == TimeSource::Arrival && topic.payload != PayloadKind::Reading {
                return Err((
                    field("time"),
                    "`arrival` is only for `reading` topics".into(),
                ));
            }
        }
        if let Some(sparkplug) = &self.sparkplug {
            if !valid_sparkplug_id(&sparkplug.group) {
                return Err((
                    "mqtt.sparkplug.group".into(),
                    "must be a non-empty id without `/`, `+` or `#`".into(),
                ));
            }
            for (i, m) in sparkplug.metrics.iter().enumerate() {
                let field = |name: &str| format!("mqtt.sparkplug.metrics[{i}].{name}");
                if !valid_sparkplug_id(&m.node) {
                    return Err((
                        field("node"),
                        "must be a non-empty id without `/`, `+` or `#`".into(),
                    ));
                }
                if let Some(device) = &m.device
                    && !valid_sparkplug_id(device)
                {
                    return Err((
                        field("device"),
                        "must be a non-empty id without `/`, `+` or `#`".into(),
                    ));
                }
                if m.metric.is_empty() {
                    return Err((field("metric"), "must not be empty".into()));
                }
                if line.sensor(&m.sensor).is_none() {
                    return Err((
                        field("sensor"),
                        format!("`{}` is not in line `{}`", m.sensor, line.id),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn valid_sparkplug_id(id: &str) -> bool {
    !id.is_empty() && !id.contains(['/', '+', '#'])
}

/// A fixed sensor must be in the line and scalar; a template may only use
/// the wildcards the filter has.
fn check_template(template: &str, wildcards: usize, line: &Line) -> Result<(), String> {
    let mut rest = template;
    let mut placeholders = 0;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| format!("`{template}` has a `{{` without its `}}`"))?;
        let index: usize = rest[open + 1..open + close]
            .parse()
            .map_err(|_| format!("`{template}`: placeholders are {{1}}, {{2}}, …"))?;
        if index == 0 || index > wildcards {
            return Err(format!(
                "`{template}` uses {{{index}}} but the filter has {wildcards} `+` level(s)"
            ));
        }
        placeholders += 1;
        rest = &rest[open + close + 1..];
    }
    if placeholders == 0 {
        match line.sensor(template).map(|(_, s)| s.kind) {
            None => return Err(format!("`{template}` is not in line `{}`", line.id)),
            Some(SensorKind::Vibration) => {
                return Err(format!(
                    "`{template}` is a vibration sensor: map its waveforms with payload = \"waveform\""
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../../assets/lines/demo.json");

    fn demo() -> Line {
        Line::from_json("demo.json", DEMO).expect("demo line is valid")
    }

    fn error(text: &str) -> String {
        GatewayConfig::from_toml("gw.toml", text, &demo())
            .expect_err("should be refused")
            .to_string()
    }

    #[test]
    fn three_lines_connect_a_broker() {
        let config = GatewayConfig::from_toml(
            "gw.toml",
            "[mqtt]\nurl = \"mqtt://127.0.0.1:1884\"\ntopics = [{ filter = \"linetwin/readings\", payload = \"readings\" }]\n",
            &demo(),
        )
        .expect("valid");
        let mqtt = config.mqtt.expect("an mqtt section");
        assert_eq!(
            mqtt.broker().map(|b| (b.host, b.port, b.tls)),
            Ok(("127.0.0.1".into(), 1884, false))
        );
        assert_eq!(mqtt.client_id, "linetwin-gateway");
        assert_eq!(mqtt.protocol, 4);
    }

    #[test]
    fn broker_urls_default_their_port_and_refuse_other_schemes() {
        let mqtt = |url: &str| MqttConfig {
            url: url.into(),
            client_id: "x".into(),
            username: None,
            password_env: None,
            protocol: 4,
            tls: None,
            keep_alive_s: 15,
            topics: Vec::new(),
            sparkplug: None,
        };
        let at = |host: &str, port: u16, tls: bool| {
            Ok(Broker {
                host: host.into(),
                port,
                tls,
            })
        };
        assert_eq!(mqtt("mqtt://broker").broker(), at("broker", 1883, false));
        assert_eq!(mqtt("mqtt://[::1]:1999").broker(), at("::1", 1999, false));
        assert_eq!(mqtt("mqtts://broker").broker(), at("broker", 8883, true));
        assert_eq!(
            mqtt("mqtts://broker:8884/").broker(),
            at("broker", 8884, true)
        );
        assert!(mqtt("http://broker").broker().is_err());
        assert!(mqtt("mqtt://broker:99999").broker().is_err());
        assert!(mqtt("mqtt://:1883").broker().is_err());
    }

    #[test]
    fn errors_name_the_file_the_field_and_the_reason() {
        let e = error(
            "[mqtt]\nurl = \"mqtt://b\"\ntopics = [{ filter = \"a/+/t\", payload = \"reading\", sensor = \"P9-T\" }]\n",
        );
        assert!(
            e.contains("gw.toml") && e.contains("mqtt.topics[0].sensor") && e.contains("P9-T"),
            "{e}"
        );
        let e = error(
            "[mqtt]\nurl = \"mqtt://b\"\ntopics = [{ filter = \"a/+/t\", payload = \"reading\", sensor = \"{2}\" }]\n",
        );
        assert!(e.contains("{2}") && e.contains("1 `+`"), "{e}");
        let e = error(
            "[mqtt]\nurl = \"mqtt://b\"\ntopics = [{ filter = \"a/#/t\", payload = \"readings\" }]\n",
        );
        assert!(e.contains("mqtt.topics[0].filter"), "{e}");
        let e = error(
            "[mqtt]\nurl = \"mqtt://b\"\ntopics = [{ filter = \"a\", payload = \"reading\", sensor = \"M1-DE-V\" }]\n",
        );
        assert!(e.contains("vibration"), "{e}");
        let e = error("[mqtt]\nurl = \"mqtt://b\"\nprotocol = 3\n");
        assert!(e.contains("mqtt.protocol"), "{e}");
        let five = GatewayConfig::from_toml(
            "gw.toml",
            "[mqtt]\nurl = \"mqtt://b\"\nprotocol = 5\n",
            &demo(),
        );
        assert_eq!(
            five.expect("MQTT 5 is taken").mqtt.map(|m| m.protocol),
            Some(5)
        );
        let e =
            error("[mqtt]\nurl = \"mqtt://b\"\npassword_env = \"LINETWIN_TEST_SURELY_UNSET\"\n");
        assert!(e.contains("LINETWIN_TEST_SURELY_UNSET"), "{e}");
        let e = error(
            "[mqtt]\nurl = \"mqtt://b\"\n[mqtt.sparkplug]\ngroup = \"g\"\nmetrics = [{ node = \"n\", metric = \"T\", sensor = \"nope\" }]\n",
        );
        assert!(e.contains("mqtt.sparkplug.metrics[0].sensor"), "{e}");
    }

    #[test]
    fn typos_and_bad_syntax_are_refused_with_their_place() {
        let e = error("[mqtt]\nurl = \"mqtt://b\"\nclientid = \"x\"\n");
        assert!(e.contains("gw.toml") && e.contains("clientid"), "{e}");
        let e = error("[mqtt\nurl = 1\n");
        assert!(e.contains("gw.toml") && e.contains("line 1"), "{e}");
        let e =
            error("[mqtt]\nurl = \"mqtt://b\"\ntopics = [{ filter = \"a\", payload = \"xml\" }]\n");
        assert!(e.contains("xml"), "{e}");
    }
}
