//! A what-if plan sent to the CMMS: the actions a planner chose in the
//! viewer (or the twin's own proposal), with the dates they fall on and
//! what the whole-line Monte Carlo said of them, as one CloudEvent of type
//! `linetwin.maintenance.planned`. Schema:
//! `docs/schemas/maintenance-planned.schema.json`.

use linetwin_core::line::Line;
use linetwin_forecast::order::{PlanOrder, Simulated};
use linetwin_forecast::plan::ActionKind;
use serde::Serialize;

use super::event::{CONTENT_TYPE_DATA, CloudEvent, SPEC_VERSION, deep_link, rfc3339};

pub const PLANNED_TYPE: &str = "linetwin.maintenance.planned";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedAction {
    pub asset: String,
    pub asset_name: String,
    /// In words ("replace", "reduce speed 20 %").
    pub action: String,
    pub kind: ActionKind,
    /// Hours after the plan was sent.
    pub due_in_h: f64,
    /// RFC 3339 UTC: when it falls, counted from when the plan was sent.
    pub due: String,
}

/// The `data` of the event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedMaintenance {
    pub line_id: String,
    pub plan: String,
    pub actions: Vec<PlannedAction>,
    pub simulated: Option<Simulated>,
    pub recommended: bool,
    pub reason: Option<String>,
    /// The viewer at the moment the plan was made.
    pub link: String,
    pub requested_by: String,
}

/// The event for an order (checked), sent at Unix time `now`. Its id
/// depends on the line, the plan and its moment only: sending the same
/// plan twice sends it once.
pub fn event(
    order: &PlanOrder,
    line: &Line,
    source: &str,
    viewer_url: &str,
    now: f64,
) -> CloudEvent<PlannedMaintenance> {
    let actions: Vec<PlannedAction> = order
        .plan
        .actions
        .iter()
        .map(|a| PlannedAction {
            asset: a.asset.clone(),
            asset_name: line
                .asset(&a.asset)
                .map_or_else(|| a.asset.clone(), |spec| spec.name.clone()),
            action: a.kind.label(),
            kind: a.kind,
            due_in_h: a.at_h,
            due: rfc3339(now + a.at_h * 3600.0),
        })
        .collect();
    let first = actions.first().map(|a| a.asset.clone());
    let subject = match &actions[..] {
        [one] => one.asset.clone(),
        _ => line.id.clone(),
    };
    CloudEvent {
        specversion: SPEC_VERSION,
        event_type: PLANNED_TYPE,
        source: source.to_owned(),
        id: format!("{}/plan/{:016x}", line.id, fingerprint(order)),
        time: rfc3339(now),
        subject,
        datacontenttype: CONTENT_TYPE_DATA,
        data: PlannedMaintenance {
            line_id: line.id.clone(),
            plan: order.plan.name.clone(),
            actions,
            simulated: order.simulated.clone(),
            recommended: order.recommended,
            reason: order.reason.clone(),
            link: match first {
                Some(asset) => deep_link(viewer_url, &asset, order.t),
                None => viewer_url.to_owned(),
            },
            requested_by: order.by.trim().to_owned(),
        },
    }
}

/// FNV-1a of the plan's JSON and its moment.
fn fingerprint(order: &PlanOrder) -> u64 {
    let text = serde_json::to_string(&(&order.plan, order.t.to_bits())).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::super::event::schema_keys::{keys, required};
    use super::*;

    fn line() -> Line {
        Line::from_json(
            "demo.json",
            include_str!("../../../../assets/lines/demo.json"),
        )
        .expect("demo line")
    }

    fn request(json: &str) -> PlanOrder {
        serde_json::from_str(json).expect("an order")
    }

    const GOOD: &str = r#"{"by": "maria", "t": 1000.0, "recommended": true, "reason": "cheapest",
        "plan": {"name": "replace P1 at the next stop", "actions": [{"asset": "P1", "kind": {"kind": "replace"}, "at_h": 48.0}]},
        "simulated": {"paths": 10000, "expected_cost": 5200.0, "p90_cost": 9000.0, "expected_downtime_h": 4.0, "p90_downtime_h": 6.0}}"#;

    #[test]
    fn a_plan_becomes_one_event_with_dated_actions_and_a_stable_id() {
        let line = line();
        let good = request(GOOD);
        good.check(&line).expect("valid");
        let first = event(&good, &line, "linetwin://x", "http://gw/", 1_796_215_845.0);
        assert_eq!(first.event_type, PLANNED_TYPE);
        assert_eq!(first.subject, "P1");
        assert_eq!(first.data.actions[0].due, "2026-12-04T12:50:45.000Z");
        assert_eq!(first.data.actions[0].action, "replace");
        assert_eq!(first.data.link, "http://gw/#t=1000.0&asset=P1");
        let again = event(&good, &line, "linetwin://x", "http://gw/", 1_796_300_000.0);
        assert_eq!(first.id, again.id, "the same plan at the same moment");
        let mut other = good.clone();
        other.plan.actions[0].at_h = 72.0;
        assert_ne!(first.id, event(&other, &line, "s", "http://gw/", 0.0).id);
    }

    /// The schema in docs/ and the events agree, key for key.
    #[test]
    fn events_have_exactly_the_fields_the_published_schema_names() {
        let schema: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../docs/schemas/maintenance-planned.schema.json"
        ))
        .expect("the schema is JSON");
        let line = line();
        let event: serde_json::Value = serde_json::from_str(
            &event(&request(GOOD), &line, "linetwin://x", "http://gw/", 0.0).to_json(),
        )
        .expect("JSON");
        assert_eq!(keys(&event), required(&schema));
        let data = &schema["properties"]["data"];
        assert_eq!(keys(&event["data"]), required(data));
        assert_eq!(
            keys(&event["data"]["actions"][0]),
            required(&data["properties"]["actions"]["items"])
        );
        assert_eq!(
            keys(&event["data"]["simulated"]),
            required(&data["properties"]["simulated"])
        );
        assert_eq!(event["type"], schema["properties"]["type"]["const"]);
    }
}
