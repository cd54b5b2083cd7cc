//! The gateway's record, from the viewer's side. What a person does here
//! that the record keeps goes to the gateway: an acknowledgement, asking
//! for maintenance on an alarm, having a sensor's baseline learned afresh
//! after maintenance, sending a what-if plan to the CMMS. The gateway tells
//! every viewer what it recorded in the stream (`acknowledged`,
//! `baseline`); the work orders' states (requested, delivered, failed) are
//! read from `GET /api/alarms` every few seconds while connected.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use linetwin_forecast::order::PlanOrder;
use linetwin_twin::AlarmId;

use crate::stream::{Connection, ConnectionState};

/// Who acts from a viewer, until people sign in (the security issue): the
/// gateway's record says "viewer".
pub const VIEWER: &str = "viewer";

/// How often the work orders' states are read: a status on screen, never
/// a decision of the twin's.
const POLL_EVERY_S: f32 = 10.0;

/// Something to put in the gateway's record.
#[derive(Message, Debug, Clone, PartialEq)]
pub enum RecordRequest {
    Acknowledge(AlarmId),
    AskForMaintenance(AlarmId),
    RelearnBaseline(String),
    SendPlan(Box<PlanOrder>),
}

impl RecordRequest {
    /// The path it is POSTed to (relative to the page) and the body.
    pub fn http(&self) -> (String, String) {
        let who = || serde_json::json!({ "by": VIEWER }).to_string();
        match self {
            RecordRequest::Acknowledge(id) => (format!("api/alarms/{id}/acknowledge"), who()),
            RecordRequest::AskForMaintenance(id) => (format!("api/alarms/{id}/work-order"), who()),
            RecordRequest::RelearnBaseline(sensor) => (
                format!("api/sensors/{}/baseline", percent_encode(sensor)),
                who(),
            ),
            RecordRequest::SendPlan(order) => (
                "api/plans/work-order".to_owned(),
                serde_json::to_string(order).unwrap_or_default(),
            ),
        }
    }

    /// What the caller's role must allow (`crate::access`).
    pub fn needs(&self) -> linetwin_core::access::Action {
        use linetwin_core::access::Action;
        match self {
            RecordRequest::Acknowledge(_) => Action::Acknowledge,
            RecordRequest::AskForMaintenance(_) => Action::RequestWorkOrder,
            RecordRequest::RelearnBaseline(_) => Action::SetBaseline,
            RecordRequest::SendPlan(_) => Action::SendPlan,
        }
    }

    /// In words, for the answer shown to the user.
    pub fn label(&self) -> String {
        match self {
            RecordRequest::Acknowledge(id) => format!("acknowledgement of alarm {id}"),
            RecordRequest::AskForMaintenance(_) => "maintenance request".to_owned(),
            RecordRequest::RelearnBaseline(sensor) => format!("new baseline for {sensor}"),
            RecordRequest::SendPlan(order) => format!("plan “{}”", order.plan.name),
        }
    }
}

/// Text as one path segment or query value.
pub(crate) fn percent_encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub use linetwin_twin::record::RecordedAlarm;

#[derive(serde::Deserialize)]
struct AlarmList {
    alarms: Vec<RecordedAlarm>,
}

/// The record's alarms, newest first, from `GET /api/alarms`.
pub fn alarms_from(json: &str) -> Result<Vec<RecordedAlarm>, String> {
    serde_json::from_str::<AlarmList>(json)
        .map(|list| list.alarms)
        .map_err(|e| format!("the gateway's alarm record: {e}"))
}

enum Reply {
    Alarms(Result<Vec<RecordedAlarm>, String>),
    Answer {
        request: RecordRequest,
        result: Result<serde_json::Value, String>,
    },
}

/// The record as this viewer knows it, and what became of its requests.
#[derive(Resource, Default)]
pub struct GatewayRecord {
    /// The record's alarms, newest first: episodes from before this page
    /// was loaded, or from before the gateway restarted, included.
    pub alarms: Vec<RecordedAlarm>,
    /// Each alarm's work order: `requested`, `delivered` or `failed`.
    pub work_orders: BTreeMap<AlarmId, String>,
    /// Requests sent and not yet answered.
    pub waiting: Vec<RecordRequest>,
    /// What the latest answer said, in words.
    pub last_answer: Option<String>,
    /// Plans sent, by name, with the event id the gateway gave them.
    pub plans_sent: BTreeMap<String, String>,
    replies: Arc<Mutex<Vec<Reply>>>,
    /// Seconds until the next read of the record (0: at once).
    next_poll_s: f32,
}

impl GatewayRecord {
    pub fn is_waiting(&self, request: &RecordRequest) -> bool {
        self.waiting.contains(request)
    }

    fn take_replies(&mut self) -> Vec<Reply> {
        std::mem::take(&mut *self.replies.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn apply(&mut self, reply: Reply) {
        match reply {
            Reply::Alarms(Ok(alarms)) => {
                self.work_orders = alarms
                    .iter()
                    .filter_map(|a| Some((a.id, a.work_order.clone()?)))
                    .collect();
                self.alarms = alarms;
            }
            Reply::Alarms(Err(reason)) => warn!("{reason}"),
            Reply::Answer { request, result } => {
                self.waiting.retain(|r| r != &request);
                self.last_answer = Some(match result {
                    Ok(answer) => {
                        if let (RecordRequest::SendPlan(order), Some(id)) =
                            (&request, answer["event_id"].as_str())
                        {
                            self.plans_sent
                                .insert(order.plan.name.clone(), id.to_owned());
                        }
                        if let (RecordRequest::AskForMaintenance(id), Some(_)) =
                            (&request, answer["event_id"].as_str())
                        {
                            self.work_orders
                                .entry(*id)
                                .or_insert_with(|| "requested".to_owned());
                        }
                        format!("The gateway recorded the {}.", request.label())
                    }
                    Err(reason) => format!("The {} was not recorded: {reason}", request.label()),
                });
            }
        }
    }
}

pub struct GatewayRecordPlugin;

impl Plugin for GatewayRecordPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<GatewayRecord>()
            .add_message::<RecordRequest>()
            .add_systems(Update, (send, poll, collect).chain());
    }
}

fn send(mut requests: MessageReader<RecordRequest>, mut record: ResMut<GatewayRecord>) {
    for request in requests.read() {
        if record.is_waiting(request) {
            continue;
        }
        record.waiting.push(request.clone());
        let (path, body) = request.http();
        let replies = Arc::clone(&record.replies);
        let request = request.clone();
        http::post(path, body, move |result| {
            replies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Reply::Answer { request, result });
        });
    }
}

fn poll(time: Res<Time<Real>>, connection: Res<Connection>, mut record: ResMut<GatewayRecord>) {
    if !matches!(connection.0, ConnectionState::Connected { .. }) {
        return;
    }
    if record.next_poll_s > 0.0 {
        record.next_poll_s -= time.delta_secs();
        return;
    }
    record.next_poll_s = POLL_EVERY_S;
    let replies = Arc::clone(&record.replies);
    http::get("api/alarms".to_owned(), move |result| {
        let alarms = result.and_then(|text| alarms_from(&text));
        replies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Reply::Alarms(alarms));
    });
}

fn collect(mut record: ResMut<GatewayRecord>) {
    for reply in record.take_replies() {
        record.apply(reply);
    }
}

/// Plain HTTP to the gateway that served the page; a native build has no
/// gateway to talk to and answers so.
mod http {
    type Done<T> = Box<dyn FnOnce(Result<T, String>) + Send>;

    pub fn post(
        path: String,
        body: String,
        done: impl FnOnce(Result<serde_json::Value, String>) + Send + 'static,
    ) {
        let done: Done<serde_json::Value> = Box::new(done);
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_futures::spawn_local(async move {
            let request = gloo_net::http::Request::post(&path)
                .header("Content-Type", "application/json")
                .body(body);
            let result = match request {
                Ok(request) => answer(request.send().await).await,
                Err(error) => Err(format!("cannot build the request: {error}")),
            };
            done(result.map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)));
        });
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = (path, body);
            done(Err("no gateway in a native build".into()));
        }
    }

    pub fn get(path: String, done: impl FnOnce(Result<String, String>) + Send + 'static) {
        let done: Done<String> = Box::new(done);
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_futures::spawn_local(async move {
            done(answer(gloo_net::http::Request::get(&path).send().await).await);
        });
        #[cfg(not(target_arch = "wasm32"))]
        {
            let _ = path;
            done(Err("no gateway in a native build".into()));
        }
    }

    /// The body of a 2xx answer, or why not (the gateway's own words).
    #[cfg(target_arch = "wasm32")]
    async fn answer(
        response: Result<gloo_net::http::Response, gloo_net::Error>,
    ) -> Result<String, String> {
        let response = response.map_err(|e| format!("cannot reach the gateway: {e}"))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if response.ok() {
            return Ok(text);
        }
        let reason = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(text);
        Err(format!("HTTP {status}: {reason}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_posted_where_the_gateway_takes_them() {
        let (path, body) = RecordRequest::Acknowledge(42).http();
        assert_eq!(path, "api/alarms/42/acknowledge");
        let body: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(body, serde_json::json!({ "by": "viewer" }));
        assert_eq!(
            RecordRequest::AskForMaintenance(7).http().0,
            "api/alarms/7/work-order"
        );
        assert_eq!(
            RecordRequest::RelearnBaseline("P1 DE/V".into()).http().0,
            "api/sensors/P1%20DE%2FV/baseline"
        );
    }

    #[test]
    fn the_record_gives_each_alarm_its_work_order_and_bad_answers_are_named() {
        let alarm = |id: u64, order: &str| {
            format!(
                r#"{{"id": {id}, "asset": "P1", "severity": "critical", "level": "D", "raised_at": 100.0,
                   "cleared_at": null, "message": "m", "acknowledged_by": "maria",
                   "acknowledged_at_unix_s": 5.0, "work_order": {order}}}"#
            )
        };
        let json = format!(
            r#"{{"alarms": [{}, {}]}}"#,
            alarm(7, r#""delivered""#),
            alarm(8, "null")
        );
        let mut record = GatewayRecord::default();
        record.apply(Reply::Alarms(alarms_from(&json)));
        assert_eq!(record.alarms.len(), 2);
        assert_eq!(record.alarms[0].acknowledged_by.as_deref(), Some("maria"));
        assert_eq!(
            record.work_orders.into_iter().collect::<Vec<_>>(),
            [(7, "delivered".to_owned())]
        );
        assert!(
            alarms_from("nope")
                .expect_err("refused")
                .contains("alarm record")
        );
        assert!(alarms_from("{}").expect_err("refused").contains("alarms"));
    }

    #[test]
    fn an_answer_settles_its_request_and_a_refusal_says_why() {
        let mut record = GatewayRecord::default();
        let ask = RecordRequest::AskForMaintenance(7);
        record.waiting.push(ask.clone());
        record.apply(Reply::Answer {
            request: ask.clone(),
            result: Ok(serde_json::json!({ "event_id": "line/alarm/7" })),
        });
        assert!(!record.is_waiting(&ask));
        assert_eq!(
            record.work_orders.get(&7).map(String::as_str),
            Some("requested")
        );
        record.apply(Reply::Answer {
            request: RecordRequest::RelearnBaseline("P1-T".into()),
            result: Err("HTTP 400: `P1-T` is not a vibration sensor".into()),
        });
        assert!(
            record
                .last_answer
                .as_deref()
                .is_some_and(|a| a.contains("not a vibration sensor")),
            "{:?}",
            record.last_answer
        );
    }
}
