//! Every decoder of outside data the gateway runs that is not already a
//! public function of a crate (the line, scenarios, the config file,
//! recordings are), each as one call on bytes: what `crates/fuzz` drives.
//! Each goes through the same code the routes and the broker client use.

use linetwin_core::line::Line;

use crate::ingest::{Incoming, decoded};
use crate::mqtt::config::TopicMapping;
use crate::mqtt::sparkplug::SparkplugHost;
use crate::source::Source;

/// A producer's frame on `/ws/ingest` (`binary`: a waveform block),
/// checked against the line: `Ok` when it would go on to the clock checks.
pub fn ingest_frame(line: &Line, frame: &[u8], binary: bool) -> Result<(), String> {
    let incoming = if binary {
        Incoming::Binary(axum::body::Bytes::copy_from_slice(frame))
    } else {
        let text = std::str::from_utf8(frame).map_err(|e| e.to_string())?;
        Incoming::Text(text)
    };
    decoded(line, Source::WsIngest, incoming)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A message on a plain MQTT topic: `None` when no mapping takes the topic.
pub fn mqtt_plain(
    topics: &[TopicMapping],
    topic: &str,
    payload: &[u8],
) -> Option<Result<(), String>> {
    // Payloads without a time of their own take the arrival time: any fixed one will do.
    const ARRIVAL_UNIX_S: f64 = 1.8e9;
    crate::mqtt::mapping::map_message(topics, topic, payload, ARRIVAL_UNIX_S)
        .map(|mapped| mapped.map(drop))
}

/// A Sparkplug B message to the host: how many actions it led to.
pub fn sparkplug(host: &mut SparkplugHost, line: &Line, topic: &str, payload: &[u8]) -> usize {
    let is_vibration = |sensor: &str| {
        line.sensor(sensor)
            .is_some_and(|(_, s)| s.kind == linetwin_core::line::SensorKind::Vibration)
    };
    host.on_message(topic, payload, is_vibration).len()
}

/// The bodies people and scripts POST, by route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `/api/login` as the sign-in form.
    LoginForm,
    /// `/api/login` as JSON.
    LoginJson,
    /// `/api/users`.
    NewUser,
    /// `/api/tokens`.
    NewToken,
    /// `/api/alarms/{id}/acknowledge` and the other `{"by"}` bodies.
    Who,
    /// `/api/plans/work-order`, checked against the line.
    Plan,
}

impl Body {
    pub const ALL: [Body; 6] = [
        Body::LoginForm,
        Body::LoginJson,
        Body::NewUser,
        Body::NewToken,
        Body::Who,
        Body::Plan,
    ];
}

pub fn http_body(line: &Line, route: Body, body: &[u8]) -> Result<(), String> {
    use crate::auth::api;
    match route {
        Body::LoginForm => api::parse_login(body, true).map(drop),
        Body::LoginJson => api::parse_login(body, false).map(drop),
        Body::NewUser => serde_json::from_slice::<api::NewUser>(body)
            .map(drop)
            .map_err(|e| e.to_string()),
        Body::NewToken => serde_json::from_slice::<api::NewToken>(body)
            .map(drop)
            .map_err(|e| e.to_string()),
        Body::Who => serde_json::from_slice::<crate::alarms_api::Who>(body)
            .map(drop)
            .map_err(|e| e.to_string()),
        // Checked, then made into the CloudEvent the CMMS would get.
        Body::Plan => {
            let order = serde_json::from_slice::<linetwin_forecast::order::PlanOrder>(body)
                .map_err(|e| e.to_string())?;
            order.check(line)?;
            let event = crate::work_orders::plan_event::event(
                &order,
                line,
                "linetwin-fuzz",
                "http://127.0.0.1/",
                1.8e9,
            );
            let _ = event.to_json();
            Ok(())
        }
    }
}
