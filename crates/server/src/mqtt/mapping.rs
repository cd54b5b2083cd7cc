//! From a plain MQTT message to the frame `/ws/ingest` would have had:
//! topic filters, sensor templates and payload decoding, all pure.

use axum::body::Bytes;
use linetwin_core::protocol::{Reading, TextMessage};
use serde::Deserialize;

use super::config::{PayloadKind, TimeSource, TopicMapping};

/// A filter as MQTT defines it: `+` a whole level, `#` a whole last level.
pub(crate) fn validate_filter(filter: &str) -> Result<(), String> {
    if filter.is_empty() {
        return Err("must not be empty".into());
    }
    let levels: Vec<&str> = filter.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        let wild = level.contains(['+', '#']);
        if wild && *level != "+" && *level != "#" {
            return Err(format!("`{level}`: `+` and `#` must be a whole level"));
        }
        if *level == "#" && i + 1 != levels.len() {
            return Err("`#` may only be the last level".into());
        }
    }
    if filter.starts_with("$") {
        return Err("topics starting with `$` belong to the broker".into());
    }
    Ok(())
}

/// The levels matched by each `+`, if `topic` matches `filter`.
pub(crate) fn matches<'t>(filter: &str, topic: &'t str) -> Option<Vec<&'t str>> {
    let mut captured = Vec::new();
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return Some(captured),
            "+" => captured.push(topic_levels.next()?),
            exact => {
                if topic_levels.next()? != exact {
                    return None;
                }
            }
        }
    }
    topic_levels.next().is_none().then_some(captured)
}

/// What a mapped message becomes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mapped {
    /// A producer's own message text, to be parsed like `/ws/ingest`'s.
    Text(String),
    /// A reading built from the topic and the payload.
    Message(TextMessage),
    Binary(Bytes),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadingPayload {
    value: f64,
    /// Unix seconds.
    t: Option<f64>,
    /// Unix milliseconds (what Node-RED and most PLC bridges stamp).
    ts: Option<f64>,
}

/// The first mapping whose filter matches; `None` when none does.
pub(crate) fn map_message(
    topics: &[TopicMapping],
    topic: &str,
    payload: &[u8],
    arrival_unix_s: f64,
) -> Option<Result<Mapped, String>> {
    topics.iter().find_map(|mapping| {
        let captured = matches(&mapping.filter, topic)?;
        Some(map_with(mapping, &captured, payload, arrival_unix_s))
    })
}

fn map_with(
    mapping: &TopicMapping,
    captured: &[&str],
    payload: &[u8],
    arrival_unix_s: f64,
) -> Result<Mapped, String> {
    match mapping.payload {
        PayloadKind::Waveform => Ok(Mapped::Binary(Bytes::copy_from_slice(payload))),
        PayloadKind::Readings => std::str::from_utf8(payload)
            .map(|text| Mapped::Text(text.to_owned()))
            .map_err(|_| "payload is not UTF-8 text".to_owned()),
        PayloadKind::Reading => {
            let template = mapping.sensor.as_deref().unwrap_or_default();
            let sensor = fill(template, captured);
            let (value, t) = reading(payload, mapping.time, arrival_unix_s)?;
            Ok(Mapped::Message(TextMessage::Readings {
                t,
                values: vec![Reading { sensor, value }],
            }))
        }
    }
}

/// `{1}` → the first `+` level, and so on.
fn fill(template: &str, captured: &[&str]) -> String {
    let mut out = template.to_owned();
    for (i, level) in captured.iter().enumerate() {
        out = out.replace(&format!("{{{}}}", i + 1), level);
    }
    out
}

fn reading(payload: &[u8], time: TimeSource, arrival_unix_s: f64) -> Result<(f64, f64), String> {
    let text = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8 text".to_owned())?;
    let text = text.trim();
    let (value, stamped) = if let Ok(value) = text.parse::<f64>() {
        (value, None)
    } else {
        let p: ReadingPayload = serde_json::from_str(text).map_err(|e| {
            format!("payload is neither a number nor {{\"value\": …, \"t\": …}}: {e}")
        })?;
        (p.value, p.t.or(p.ts.map(|ms| ms / 1000.0)))
    };
    if !value.is_finite() {
        return Err("value is not a finite number".into());
    }
    let t = match (stamped, time) {
        (Some(t), _) => t,
        (None, TimeSource::Arrival) => arrival_unix_s,
        (None, TimeSource::Payload) => {
            return Err(
                "reading has no time (`t` in s or `ts` in ms); set time = \"arrival\" for devices that send none"
                    .into(),
            );
        }
    };
    Ok((value, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(filter: &str, payload: PayloadKind, sensor: Option<&str>) -> TopicMapping {
        TopicMapping {
            filter: filter.into(),
            payload,
            sensor: sensor.map(str::to_owned),
            time: TimeSource::Payload,
        }
    }

    #[test]
    fn filters_match_as_mqtt_defines_them() {
        assert_eq!(matches("a/+/c", "a/b/c"), Some(vec!["b"]));
        assert_eq!(matches("a/+/c", "a/b/d"), None);
        assert_eq!(matches("a/+", "a/b/c"), None);
        assert_eq!(matches("a/#", "a/b/c"), Some(vec![]));
        // `#` also matches the parent level itself (MQTT 3.1.1, 4.7.1.2).
        assert_eq!(matches("a/#", "a"), Some(vec![]));
        assert_eq!(matches("a/#", "b"), None);
        assert_eq!(matches("+/+", "x/y"), Some(vec!["x", "y"]));
        assert!(validate_filter("a/+/b/#").is_ok());
        assert!(validate_filter("a/b+/c").is_err());
        assert!(validate_filter("a/#/c").is_err());
        assert!(validate_filter("$SYS/#").is_err());
        assert!(validate_filter("").is_err());
    }

    #[test]
    fn a_reading_topic_names_its_sensor_from_the_topic() {
        let topics = [mapping("plant/+/temp", PayloadKind::Reading, Some("{1}-T"))];
        let mapped = map_message(
            &topics,
            "plant/P1/temp",
            br#"{"value": 51.5, "ts": 1800000000500}"#,
            0.0,
        );
        let Some(Ok(Mapped::Message(message))) = mapped else {
            panic!("mapped: {mapped:?}");
        };
        assert_eq!(
            Some(message),
            Some(TextMessage::Readings {
                t: 1_800_000_000.5,
                values: vec![Reading {
                    sensor: "P1-T".into(),
                    value: 51.5
                }],
            })
        );
        assert_eq!(map_message(&topics, "plant/P1/pressure", b"1", 0.0), None);
    }

    #[test]
    fn a_bare_number_needs_a_declared_time_source() {
        let mut topics = [mapping("m1/t", PayloadKind::Reading, Some("M1-T"))];
        let refused = map_message(&topics, "m1/t", b"48.25", 1_800_000_000.0);
        assert!(
            matches!(refused, Some(Err(ref e)) if e.contains("arrival")),
            "{refused:?}"
        );
        topics[0].time = TimeSource::Arrival;
        assert_eq!(
            map_message(&topics, "m1/t", b" 48.25\n", 1_800_000_000.0),
            Some(Ok(Mapped::Message(TextMessage::Readings {
                t: 1_800_000_000.0,
                values: vec![Reading {
                    sensor: "M1-T".into(),
                    value: 48.25
                }],
            })))
        );
        let bad = map_message(&topics, "m1/t", b"{\"value\": \"hot\"}", 0.0);
        assert!(matches!(bad, Some(Err(_))));
        let bad = map_message(&topics, "m1/t", &[0xff, 0xfe], 0.0);
        assert!(matches!(bad, Some(Err(ref e)) if e.contains("UTF-8")));
    }

    #[test]
    fn messages_and_waveforms_pass_through_for_the_ingest_checks() {
        let topics = [
            mapping("lt/readings", PayloadKind::Readings, None),
            mapping("lt/waveform/#", PayloadKind::Waveform, None),
        ];
        assert_eq!(
            map_message(&topics, "lt/readings", b"{}", 0.0),
            Some(Ok(Mapped::Text("{}".into())))
        );
        assert_eq!(
            map_message(&topics, "lt/waveform/P1", b"LTW1", 0.0),
            Some(Ok(Mapped::Binary(Bytes::from_static(b"LTW1"))))
        );
    }
}
