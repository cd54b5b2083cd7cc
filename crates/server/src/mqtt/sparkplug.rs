//! Sparkplug B as a host application sees it: births declare a node's and
//! its devices' metrics (names, aliases, the session's `bdSeq`), data
//! messages carry values by alias with a sequence number 0-255, deaths end
//! a session. A gap in the sequence, or data from a node whose birth this
//! gateway never saw, asks the node for a rebirth (`NCMD` with
//! `Node Control/Rebirth`). Pure: messages in, actions out.

use std::collections::{BTreeSet, HashMap};

use prost::Message as _;

use super::config::SparkplugConfig;

/// The Sparkplug B payload (`sparkplug_b.proto`), the fields a host needs;
/// prost skips the others (metadata, properties, data sets, templates).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(uint64, optional, tag = "2")]
    pub alias: Option<u64>,
    #[prost(uint64, optional, tag = "3")]
    pub timestamp: Option<u64>,
    #[prost(uint32, optional, tag = "4")]
    pub datatype: Option<u32>,
    #[prost(bool, optional, tag = "7")]
    pub is_null: Option<bool>,
    #[prost(oneof = "Value", tags = "10, 11, 12, 13, 14, 15, 16")]
    pub value: Option<Value>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Value {
    #[prost(uint32, tag = "10")]
    Int(u32),
    #[prost(uint64, tag = "11")]
    Long(u64),
    #[prost(float, tag = "12")]
    Float(f32),
    #[prost(double, tag = "13")]
    Double(f64),
    #[prost(bool, tag = "14")]
    Boolean(bool),
    #[prost(string, tag = "15")]
    String(String),
    #[prost(bytes = "vec", tag = "16")]
    Bytes(Vec<u8>),
}

/// Sparkplug data types whose integers are signed (two's complement in the
/// unsigned wire fields).
const INT8: u32 = 1;
const INT16: u32 = 2;
const INT32: u32 = 3;
const INT64: u32 = 4;

pub const NAMESPACE: &str = "spBv1.0";
pub const REBIRTH_METRIC: &str = "Node Control/Rebirth";
const BD_SEQ: &str = "bdSeq";

/// What the gateway should do after a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Scalar values at data time `t` (Unix seconds).
    Readings { t: f64, values: Vec<(String, f64)> },
    /// A bytes metric mapped to a vibration sensor: an `LTW1` frame.
    Waveform(Vec<u8>),
    /// Publish this payload to this topic (a rebirth request).
    Publish { topic: String, payload: Vec<u8> },
    /// These sensors lost their source (`NDEATH`, `DDEATH`).
    Offline {
        sensors: Vec<String>,
        reason: String,
    },
    /// Something in the message was unusable; the rest was used.
    Problem(String),
}

#[derive(Debug, Default)]
struct NodeSession {
    born: bool,
    bd_seq: Option<u64>,
    next_seq: Option<u64>,
    rebirth_asked: bool,
    /// (device, alias) → metric name, from the births.
    aliases: HashMap<(Option<String>, u64), String>,
}

/// The line's side of every Sparkplug session of one group.
#[derive(Debug)]
pub struct SparkplugHost {
    group: String,
    /// (node, device, metric name) → sensor.
    sensors: HashMap<(String, Option<String>, String), String>,
    nodes: HashMap<String, NodeSession>,
}

impl SparkplugHost {
    pub fn new(config: &SparkplugConfig) -> Self {
        SparkplugHost {
            group: config.group.clone(),
            sensors: config
                .metrics
                .iter()
                .map(|m| {
                    (
                        (m.node.clone(), m.device.clone(), m.metric.clone()),
                        m.sensor.clone(),
                    )
                })
                .collect(),
            nodes: HashMap::new(),
        }
    }

    /// The subscription that covers the group.
    pub fn filter(&self) -> String {
        format!("{NAMESPACE}/{}/#", self.group)
    }

    /// What the gateway should do after this message; `is_vibration` tells
    /// which sensors a bytes metric may carry a waveform for.
    pub fn on_message(
        &mut self,
        topic: &str,
        payload: &[u8],
        is_vibration: impl Fn(&str) -> bool,
    ) -> Vec<Action> {
        let levels: Vec<&str> = topic.split('/').collect();
        let (kind, node, device) = match levels.as_slice() {
            [ns, group, kind, node] if *ns == NAMESPACE && *group == self.group => {
                (*kind, *node, None)
            }
            [ns, group, kind, node, device] if *ns == NAMESPACE && *group == self.group => {
                (*kind, *node, Some(*device))
            }
            _ => return Vec::new(),
        };
        if kind.ends_with("CMD") {
            return Vec::new(); // ours or another host's commands
        }
        let payload = match Payload::decode(payload) {
            Ok(p) => p,
            Err(e) => {
                return vec![Action::Problem(format!(
                    "{topic}: not a Sparkplug B payload: {e}"
                ))];
            }
        };
        let mut actions = Vec::new();
        match kind {
            "NBIRTH" => self.birth(node, None, &payload, true),
            "DBIRTH" => {
                self.check_seq(node, &payload, &mut actions);
                self.birth(node, device, &payload, false);
            }
            "NDATA" | "DDATA" => {
                self.check_seq(node, &payload, &mut actions);
            }
            "NDEATH" => {
                let bd_seq = metric_u64(&payload, BD_SEQ);
                let session = self.nodes.entry(node.to_owned()).or_default();
                // A death from an older session (its will came late) is not ours.
                if session.bd_seq.is_some() && bd_seq.is_some() && session.bd_seq != bd_seq {
                    return actions;
                }
                session.born = false;
                session.next_seq = None;
                actions.push(Action::Offline {
                    sensors: self.sensors_of(node, None, true),
                    reason: format!("node {node} offline"),
                });
                return actions;
            }
            "DDEATH" => {
                self.check_seq(node, &payload, &mut actions);
                actions.push(Action::Offline {
                    sensors: self.sensors_of(node, device, false),
                    reason: format!("device {} of node {node} offline", device.unwrap_or("?")),
                });
                return actions;
            }
            _ => return actions,
        }
        self.values(node, device, &payload, &is_vibration, &mut actions);
        actions
    }

    fn birth(&mut self, node: &str, device: Option<&str>, payload: &Payload, node_birth: bool) {
        let session = self.nodes.entry(node.to_owned()).or_default();
        let device = device.map(str::to_owned);
        if node_birth {
            // A new session: every alias of the node and its devices is redeclared.
            *session = NodeSession {
                born: true,
                bd_seq: metric_u64(payload, BD_SEQ),
                next_seq: payload.seq.map(|s| (s + 1) % 256),
                ..NodeSession::default()
            };
        } else {
            session.aliases.retain(|(d, _), _| *d != device);
        }
        for metric in &payload.metrics {
            if let (Some(name), Some(alias)) = (&metric.name, metric.alias) {
                session
                    .aliases
                    .insert((device.clone(), alias), name.clone());
            }
        }
    }

    fn check_seq(&mut self, node: &str, payload: &Payload, actions: &mut Vec<Action>) {
        let session = self.nodes.entry(node.to_owned()).or_default();
        let expected = session.next_seq;
        let in_order = session.born && payload.seq.is_some() && payload.seq == expected;
        session.next_seq = payload.seq.map(|s| (s + 1) % 256);
        if in_order {
            return;
        }
        if !session.rebirth_asked {
            session.rebirth_asked = true;
            let why = if session.born {
                format!(
                    "sequence gap from node {node} (expected {expected:?}, got {:?})",
                    payload.seq
                )
            } else {
                format!("data from node {node} before its birth")
            };
            actions.push(Action::Problem(format!("{why}: rebirth requested")));
            actions.push(self.rebirth_request(node));
        }
    }

    fn rebirth_request(&self, node: &str) -> Action {
        let payload = Payload {
            timestamp: None,
            seq: None,
            metrics: vec![Metric {
                name: Some(REBIRTH_METRIC.into()),
                alias: None,
                timestamp: None,
                datatype: Some(11),
                is_null: None,
                value: Some(Value::Boolean(true)),
            }],
        };
        Action::Publish {
            topic: format!("{NAMESPACE}/{}/NCMD/{node}", self.group),
            payload: payload.encode_to_vec(),
        }
    }

    fn values(
        &self,
        node: &str,
        device: Option<&str>,
        payload: &Payload,
        is_vibration: &impl Fn(&str) -> bool,
        actions: &mut Vec<Action>,
    ) {
        let session = self.nodes.get(node);
        let device_key = device.map(str::to_owned);
        // One readings message per distinct time, in the order they came.
        let mut readings: Vec<(f64, Vec<(String, f64)>)> = Vec::new();
        for metric in &payload.metrics {
            let name = metric.name.clone().or_else(|| {
                let alias = metric.alias?;
                session?.aliases.get(&(device_key.clone(), alias)).cloned()
            });
            let Some(name) = name else {
                continue; // an alias this gateway was never told: the rebirth will tell
            };
            let key = (node.to_owned(), device_key.clone(), name);
            let Some(sensor) = self.sensors.get(&key) else {
                continue; // a metric the line does not use
            };
            if metric.is_null == Some(true) {
                continue;
            }
            let Some(ms) = metric.timestamp.or(payload.timestamp) else {
                actions.push(Action::Problem(format!(
                    "metric {} of {node} has no timestamp",
                    key.2
                )));
                continue;
            };
            let t = ms as f64 / 1000.0;
            match &metric.value {
                Some(Value::Bytes(bytes)) if is_vibration(sensor) => {
                    actions.push(Action::Waveform(bytes.clone()));
                }
                value => match value.as_ref().and_then(|v| number(v, metric.datatype)) {
                    Some(v) => match readings.iter_mut().find(|(at, _)| *at == t) {
                        Some((_, values)) => values.push((sensor.clone(), v)),
                        None => readings.push((t, vec![(sensor.clone(), v)])),
                    },
                    None => actions.push(Action::Problem(format!(
                        "metric {} of {node} is not a number",
                        key.2
                    ))),
                },
            }
        }
        actions.extend(
            readings
                .into_iter()
                .map(|(t, values)| Action::Readings { t, values }),
        );
    }

    /// The sensors fed by a node (and all its devices), or by one device.
    fn sensors_of(&self, node: &str, device: Option<&str>, whole_node: bool) -> Vec<String> {
        let set: BTreeSet<String> = self
            .sensors
            .iter()
            .filter(|((n, d, _), _)| n == node && (whole_node || d.as_deref() == device))
            .map(|(_, sensor)| sensor.clone())
            .collect();
        set.into_iter().collect()
    }
}

fn metric_u64(payload: &Payload, name: &str) -> Option<u64> {
    payload
        .metrics
        .iter()
        .find(|m| m.name.as_deref() == Some(name))
        .and_then(|m| match m.value {
            Some(Value::Long(v)) => Some(v),
            Some(Value::Int(v)) => Some(u64::from(v)),
            _ => None,
        })
}

fn number(value: &Value, datatype: Option<u32>) -> Option<f64> {
    let v = match (value, datatype) {
        (Value::Int(v), Some(INT8)) => f64::from(*v as u8 as i8),
        (Value::Int(v), Some(INT16)) => f64::from(*v as u16 as i16),
        (Value::Int(v), Some(INT32)) => f64::from(*v as i32),
        (Value::Int(v), _) => f64::from(*v),
        (Value::Long(v), Some(INT64)) => *v as i64 as f64,
        (Value::Long(v), _) => *v as f64,
        (Value::Float(v), _) => f64::from(*v),
        (Value::Double(v), _) => *v,
        (Value::Boolean(v), _) => f64::from(u8::from(*v)),
        (Value::String(_) | Value::Bytes(_), _) => return None,
    };
    v.is_finite().then_some(v)
}

/// Builders of payloads, for tests and for the example edge node.
pub mod build {
    use super::*;

    pub fn metric(name: Option<&str>, alias: Option<u64>, value: Value, datatype: u32) -> Metric {
        Metric {
            name: name.map(str::to_owned),
            alias,
            timestamp: None,
            datatype: Some(datatype),
            is_null: None,
            value: Some(value),
        }
    }

    pub fn payload(timestamp_ms: u64, seq: u64, metrics: Vec<Metric>) -> Vec<u8> {
        Payload {
            timestamp: Some(timestamp_ms),
            seq: Some(seq),
            metrics,
        }
        .encode_to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::build::{metric, payload};
    use super::*;
    use crate::mqtt::config::SparkplugMetric;

    const DOUBLE: u32 = 10;
    const UINT64: u32 = 8;

    fn host() -> SparkplugHost {
        SparkplugHost::new(&SparkplugConfig {
            group: "line1".into(),
            metrics: vec![
                SparkplugMetric {
                    node: "plc1".into(),
                    device: Some("pump".into()),
                    metric: "Bearing/Temp".into(),
                    sensor: "P1-T".into(),
                },
                SparkplugMetric {
                    node: "plc1".into(),
                    device: None,
                    metric: "Motor/Temp".into(),
                    sensor: "M1-T".into(),
                },
                SparkplugMetric {
                    node: "plc1".into(),
                    device: Some("pump".into()),
                    metric: "Vib".into(),
                    sensor: "P1-DE-V".into(),
                },
            ],
        })
    }

    fn feed(host: &mut SparkplugHost, topic: &str, bytes: &[u8]) -> Vec<Action> {
        host.on_message(topic, bytes, |s| s.ends_with("-V"))
    }

    fn born(host: &mut SparkplugHost) {
        let nbirth = payload(
            1_800_000_000_000,
            0,
            vec![
                metric(Some(BD_SEQ), None, Value::Long(3), UINT64),
                metric(Some("Motor/Temp"), Some(1), Value::Double(40.0), DOUBLE),
            ],
        );
        let actions = feed(host, "spBv1.0/line1/NBIRTH/plc1", &nbirth);
        assert_eq!(
            actions,
            vec![Action::Readings {
                t: 1_800_000_000.0,
                values: vec![("M1-T".into(), 40.0)]
            }]
        );
        let dbirth = payload(
            1_800_000_000_100,
            1,
            vec![
                metric(Some("Bearing/Temp"), Some(7), Value::Float(55.5), 9),
                metric(Some("Vib"), Some(8), Value::Bytes(b"LTW1...".to_vec()), 17),
            ],
        );
        let actions = feed(host, "spBv1.0/line1/DBIRTH/plc1/pump", &dbirth);
        assert!(
            actions.contains(&Action::Waveform(b"LTW1...".to_vec())),
            "{actions:?}"
        );
        assert!(actions.contains(&Action::Readings {
            t: 1_800_000_000.1,
            values: vec![("P1-T".into(), 55.5)]
        }));
    }

    #[test]
    fn data_by_alias_after_the_births_becomes_readings_at_the_metrics_time() {
        let mut host = host();
        born(&mut host);
        let mut temp = metric(None, Some(7), Value::Float(56.0), 9);
        temp.timestamp = Some(1_800_000_001_000);
        let ddata = payload(
            1_800_000_001_500,
            2,
            vec![temp, metric(None, Some(99), Value::Int(1), 7)],
        );
        assert_eq!(
            feed(&mut host, "spBv1.0/line1/DDATA/plc1/pump", &ddata),
            vec![Action::Readings {
                t: 1_800_000_001.0,
                values: vec![("P1-T".into(), 56.0)]
            }]
        );
        // Another group, a STATE message, our own commands: not ours.
        assert!(feed(&mut host, "spBv1.0/other/NDATA/plc1", &ddata).is_empty());
        assert!(feed(&mut host, "spBv1.0/STATE/host", b"{}").is_empty());
        assert!(feed(&mut host, "spBv1.0/line1/NCMD/plc1", &ddata).is_empty());
    }

    #[test]
    fn a_sequence_gap_asks_for_a_rebirth_once() {
        let mut host = host();
        born(&mut host);
        let gap = payload(
            1_800_000_002_000,
            5,
            vec![metric(None, Some(7), Value::Float(57.0), 9)],
        );
        let actions = feed(&mut host, "spBv1.0/line1/DDATA/plc1/pump", &gap);
        let Some(Action::Publish {
            topic,
            payload: request,
        }) = actions.iter().find(|a| matches!(a, Action::Publish { .. }))
        else {
            panic!("no rebirth request: {actions:?}");
        };
        assert_eq!(topic, "spBv1.0/line1/NCMD/plc1");
        let request = Payload::decode(request.as_slice()).unwrap();
        assert_eq!(request.metrics[0].name.as_deref(), Some(REBIRTH_METRIC));
        assert_eq!(request.metrics[0].value, Some(Value::Boolean(true)));
        // The values still count: the aliases are known.
        assert!(actions.iter().any(|a| matches!(a, Action::Readings { .. })));
        let again = payload(1_800_000_003_000, 9, vec![]);
        let actions = feed(&mut host, "spBv1.0/line1/DDATA/plc1/pump", &again);
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Publish { .. })),
            "asked once"
        );
    }

    #[test]
    fn data_before_any_birth_asks_for_one_and_unknown_aliases_wait_for_it() {
        let mut host = host();
        let ndata = payload(
            1_800_000_000_000,
            17,
            vec![metric(None, Some(1), Value::Double(41.0), DOUBLE)],
        );
        let actions = feed(&mut host, "spBv1.0/line1/NDATA/plc1", &ndata);
        assert!(actions.iter().any(|a| matches!(a, Action::Publish { .. })));
        assert!(!actions.iter().any(|a| matches!(a, Action::Readings { .. })));
    }

    #[test]
    fn a_node_death_takes_its_devices_sensors_offline_unless_it_is_an_old_sessions() {
        let mut host = host();
        born(&mut host);
        let old = payload(
            0,
            0,
            vec![metric(Some(BD_SEQ), None, Value::Long(2), UINT64)],
        );
        assert!(feed(&mut host, "spBv1.0/line1/NDEATH/plc1", &old).is_empty());
        let death = payload(
            0,
            0,
            vec![metric(Some(BD_SEQ), None, Value::Long(3), UINT64)],
        );
        assert_eq!(
            feed(&mut host, "spBv1.0/line1/NDEATH/plc1", &death),
            vec![Action::Offline {
                sensors: vec!["M1-T".into(), "P1-DE-V".into(), "P1-T".into()],
                reason: "node plc1 offline".into()
            }]
        );
    }

    #[test]
    fn a_device_death_takes_only_that_devices_sensors() {
        let mut host = host();
        born(&mut host);
        let death = payload(1_800_000_002_000, 2, vec![]);
        let actions = feed(&mut host, "spBv1.0/line1/DDEATH/plc1/pump", &death);
        assert_eq!(
            actions,
            vec![Action::Offline {
                sensors: vec!["P1-DE-V".into(), "P1-T".into()],
                reason: "device pump of node plc1 offline".into()
            }]
        );
    }

    #[test]
    fn signed_integers_and_garbage_are_read_as_sparkplug_means_them() {
        assert_eq!(number(&Value::Int(0xFFFF_FFFE), Some(INT32)), Some(-2.0));
        assert_eq!(number(&Value::Int(0xFF), Some(INT8)), Some(-1.0));
        assert_eq!(number(&Value::Long(u64::MAX), Some(INT64)), Some(-1.0));
        assert_eq!(number(&Value::Boolean(true), Some(11)), Some(1.0));
        assert_eq!(number(&Value::Double(f64::NAN), Some(DOUBLE)), None);
        let mut host = host();
        let actions = feed(&mut host, "spBv1.0/line1/NDATA/plc1", &[0xff, 0xff, 0xff]);
        assert!(
            matches!(actions.as_slice(), [Action::Problem(_)]),
            "{actions:?}"
        );
    }
}
