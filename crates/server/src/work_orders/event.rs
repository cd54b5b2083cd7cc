//! The maintenance notification as a CloudEvents 1.0 event (structured
//! mode, JSON): the envelope every receiver understands, and in `data` what
//! a planner needs to open a notification in the CMMS. The schema is
//! `docs/schemas/maintenance-requested.schema.json`; the mapping onto SAP PM
//! and IBM Maximo is in `docs/work-orders.md`.

use linetwin_twin::deep_link::DeepLink;
use linetwin_twin::failure_mode::FailureMode;
use serde::Serialize;

pub const EVENT_TYPE: &str = "linetwin.maintenance.requested";
pub const SPEC_VERSION: &str = "1.0";
pub const CONTENT_TYPE: &str = "application/cloudevents+json";
/// What `data` is.
pub const CONTENT_TYPE_DATA: &str = "application/json";

/// Who or what asked for the maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A rule of the gateway's config, on an alarm.
    Rule,
    /// A person, from the viewer.
    Operator,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RemainingLife {
    pub median_h: f64,
    pub low_h: f64,
    pub high_h: f64,
}

/// The `data` of the event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenanceRequest {
    pub line_id: String,
    pub asset: String,
    pub asset_name: String,
    /// The sensor whose data raised it, when one did.
    pub sensor: Option<String>,
    pub failure_mode: FailureMode,
    /// `advisory`, `warning` or `critical`.
    pub severity: String,
    /// The ISO 20816-3 zone letter when raised.
    pub zone: String,
    /// Why, in words: the alarm's message.
    pub evidence: String,
    pub alarm_id: u64,
    /// Data time the alarm was raised (Unix seconds on a plant's clock).
    pub raised_at: f64,
    pub remaining_life: Option<RemainingLife>,
    /// The plan it recommends, in words, when known.
    pub recommended_plan: Option<String>,
    /// The viewer at that asset and moment.
    pub link: String,
    pub origin: Origin,
    pub requested_by: Option<String>,
}

/// The whole event; `data` is a [`MaintenanceRequest`] (an alarm's) or a
/// [`super::plan_event::PlannedMaintenance`] (a what-if plan's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudEvent<D = MaintenanceRequest> {
    pub specversion: &'static str,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub source: String,
    pub id: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub subject: String,
    pub datacontenttype: &'static str,
    pub data: D,
}

impl CloudEvent<MaintenanceRequest> {
    /// The event for an alarm episode. Its id depends only on the line and
    /// the alarm (itself made of the asset, severity and raise time), so
    /// the same episode always gives the same id: receivers deduplicate on
    /// it, and the outbox never queues it twice.
    pub fn for_request(source: &str, request: MaintenanceRequest, time_unix_s: f64) -> Self {
        CloudEvent {
            specversion: SPEC_VERSION,
            event_type: EVENT_TYPE,
            source: source.to_owned(),
            id: event_id(&request.line_id, request.alarm_id),
            time: rfc3339(time_unix_s),
            subject: request.asset.clone(),
            datacontenttype: CONTENT_TYPE_DATA,
            data: request,
        }
    }
}

impl<D: Serialize> CloudEvent<D> {
    pub fn to_json(&self) -> String {
        // Plain data with string keys and finite numbers: cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

pub fn event_id(line_id: &str, alarm_id: u64) -> String {
    format!("{line_id}/alarm/{alarm_id}")
}

/// The viewer opened at a data time with an asset selected: the timeline's
/// own deep link.
pub fn deep_link(viewer_url: &str, asset: &str, t: f64) -> String {
    let base = viewer_url.trim_end_matches('/');
    format!("{base}/{}", DeepLink::fragment(t, Some(asset)))
}

/// Unix seconds as RFC 3339 in UTC, to the millisecond
/// (`1970-01-01T00:00:00.000Z`); times before 1970 are clamped to it.
pub fn rfc3339(unix_s: f64) -> String {
    let millis = if unix_s.is_finite() {
        (unix_s.max(0.0) * 1000.0).round() as i64
    } else {
        0
    };
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, ms) = (
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// For the tests that hold events against the published schemas.
#[cfg(test)]
pub(crate) mod schema_keys {
    /// An object's keys, sorted.
    pub(crate) fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    }

    /// A schema object's `required` keys, sorted.
    pub(crate) fn required(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect();
        k.sort();
        k
    }
}

#[cfg(test)]
mod tests {
    use super::schema_keys::{keys, required};
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400.0), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(1_796_215_845.25), "2026-12-02T12:50:45.250Z");
        assert_eq!(rfc3339(-5.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(f64::NAN), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn links_name_the_asset_and_the_moment() {
        assert_eq!(
            deep_link("http://gw:8080/", "P 1/x", 12.5),
            "http://gw:8080/#t=12.5&asset=P%201%2Fx"
        );
    }

    /// The schema in docs/ and the events agree, key for key.
    #[test]
    fn events_have_exactly_the_fields_the_published_schema_names() {
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../docs/schemas/maintenance-requested.schema.json"
        ))
        .expect("the schema is JSON");
        let request = MaintenanceRequest {
            line_id: "line-1".into(),
            asset: "P1".into(),
            asset_name: "Pump".into(),
            sensor: Some("P1-DE-V".into()),
            failure_mode: FailureMode::UNKNOWN,
            severity: "critical".into(),
            zone: "D".into(),
            evidence: "P1-DE-V: 11.3 mm/s".into(),
            alarm_id: 42,
            raised_at: 1_796_215_845.0,
            remaining_life: Some(RemainingLife {
                median_h: 120.0,
                low_h: 60.0,
                high_h: 300.0,
            }),
            recommended_plan: None,
            link: deep_link("http://gw/", "P1", 1.0),
            origin: Origin::Rule,
            requested_by: None,
        };
        let event: serde_json::Value = serde_json::from_str(
            &CloudEvent::for_request("linetwin://line-1", request, 0.0).to_json(),
        )
        .expect("JSON");
        assert_eq!(keys(&event), required(&schema));
        let data = &schema["properties"]["data"];
        assert_eq!(keys(&event["data"]), required(data));
        let mode = &data["properties"]["failure_mode"];
        assert_eq!(keys(&event["data"]["failure_mode"]), required(mode));
        assert_eq!(
            keys(&event["data"]["remaining_life"]),
            required(&data["properties"]["remaining_life"])
        );
        assert_eq!(event["type"], schema["properties"]["type"]["const"]);
        assert_eq!(event["id"], "line-1/alarm/42");
    }

    #[test]
    fn the_same_episode_gives_the_same_id() {
        assert_eq!(event_id("line-1", 42), event_id("line-1", 42));
        assert_ne!(event_id("line-1", 42), event_id("line-2", 42));
    }
}
