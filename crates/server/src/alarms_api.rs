//! The gateway's alarm record over HTTP: the alarms with their
//! acknowledgements and work-order status, acknowledging, and asking for
//! maintenance on an alarm (the operator's click) or for a what-if plan.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::state::AppState;
use crate::unix_now;
use crate::work_orders::{PlanRequestError, RequestError};

/// Alarms listed at most.
const LIST_LIMIT: usize = 500;
const MAX_NAME_LEN: usize = 100;

/// Who acts, in a request's body: only on an open gateway, where nobody
/// signs in; a signed-in caller is who the credential says.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Who {
    pub(crate) by: Option<String>,
}

type WhoBody = Result<Json<Who>, axum::extract::rejection::JsonRejection>;

pub(crate) fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Who is acting: the signed-in caller, or on an open gateway the body's
/// `by`; or why the body does not say (for a 400).
pub(crate) fn who(principal: &Principal, body: WhoBody) -> Result<String, String> {
    if !principal.is_open() {
        return Ok(principal.audit_name());
    }
    let Json(who) = body.map_err(|e| format!("the body must be {{\"by\": \"<name>\"}}: {e}"))?;
    let Some(by) = who.by else {
        return Err("`by` must name who acts (no one is signed in on an open gateway)".into());
    };
    let by = by.trim();
    if by.is_empty() || by.len() > MAX_NAME_LEN {
        return Err(format!("`by` must name who, in 1 to {MAX_NAME_LEN} bytes"));
    }
    Ok(by.to_owned())
}

/// `GET /api/alarms`: newest first, with who acknowledged and the status
/// of the work order (`requested`, `delivered`, `failed`) when there is one.
pub(crate) async fn list(State(state): State<AppState>) -> Response {
    match state.work_orders.store().alarms(LIST_LIMIT) {
        Ok(alarms) => Json(json!({ "alarms": alarms })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/alarms/{id}/acknowledge` with `{"by": "maria"}`.
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<u64>,
    body: WhoBody,
) -> Response {
    let by = match who(&principal, body) {
        Ok(by) => by,
        Err(reason) => return problem(StatusCode::BAD_REQUEST, reason),
    };
    // The record's lock is let go before the broadcast: the twin's thread
    // takes the twin's lock, then the record's.
    let recorded = {
        let store = state.work_orders.store();
        let recorded = store
            .acknowledge(id, &by, unix_now())
            .and_then(|known| if known { store.alarm(id) } else { Ok(None) });
        let outcome = if matches!(recorded, Ok(Some(_))) {
            "ok"
        } else {
            "failed"
        };
        crate::auth::audit(
            &store,
            &by,
            "acknowledge",
            Some(&format!("alarm {id}")),
            outcome,
            None,
        );
        recorded
    };
    match recorded {
        Ok(Some(alarm)) => {
            // Every viewer (and the gateway's twin) hears who saw it first.
            if let (Some(by), Some(at_unix_s)) =
                (alarm.acknowledged_by.clone(), alarm.acknowledged_at_unix_s)
            {
                state.broadcast(crate::hub::Frame::text(
                    &linetwin_core::protocol::TextMessage::Acknowledged {
                        alarm: id,
                        by,
                        at_unix_s,
                    },
                ));
            }
            Json(json!(alarm)).into_response()
        }
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            format!("no alarm {id} in the record"),
        ),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// `POST /api/alarms/{id}/work-order` with `{"by": "maria"}`: 202 with the
/// event id; asking again for the same alarm sends nothing more.
pub(crate) async fn request_work_order(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<u64>,
    body: WhoBody,
) -> Response {
    let by = match who(&principal, body) {
        Ok(by) => by,
        Err(reason) => return problem(StatusCode::BAD_REQUEST, reason),
    };
    let requested = {
        let twin = crate::gateway_twin::lock(&state.twin);
        state.work_orders.request(&twin, id, &by)
    };
    crate::auth::audit(
        &state.work_orders.store(),
        &by,
        "work_order_requested",
        Some(&format!("alarm {id}")),
        if requested.is_ok() { "ok" } else { "failed" },
        requested.as_ref().err().map(ToString::to_string).as_deref(),
    );
    match requested {
        Ok(event_id) => {
            (StatusCode::ACCEPTED, Json(json!({ "event_id": event_id }))).into_response()
        }
        Err(e @ RequestError::NoSuchAlarm(_)) => problem(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ RequestError::NoWebhook) => problem(StatusCode::CONFLICT, e.to_string()),
        Err(e @ RequestError::Store(_)) => {
            problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// `POST /api/plans/work-order` with a what-if plan (see
/// `linetwin_forecast::order::PlanOrder`): 202 with the event id.
pub(crate) async fn request_plan(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Result<
        Json<linetwin_forecast::order::PlanOrder>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Response {
    let Json(mut request) = match body {
        Ok(body) => body,
        Err(e) => return problem(StatusCode::BAD_REQUEST, format!("the plan: {e}")),
    };
    // The CMMS is told who asked: the credential's name, not the body's.
    if !principal.is_open() {
        request.by = principal.audit_name();
    }
    let requested = state.work_orders.request_plan(&state.line, &request);
    crate::auth::audit(
        &state.work_orders.store(),
        &request.by,
        "plan_sent",
        Some(&request.plan.name),
        if requested.is_ok() { "ok" } else { "failed" },
        requested.as_ref().err().map(ToString::to_string).as_deref(),
    );
    match requested {
        Ok(event_id) => {
            (StatusCode::ACCEPTED, Json(json!({ "event_id": event_id }))).into_response()
        }
        Err(e @ PlanRequestError::Invalid(_)) => problem(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e @ PlanRequestError::NoWebhook) => problem(StatusCode::CONFLICT, e.to_string()),
        Err(e @ PlanRequestError::Store(_)) => {
            problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        }
    }
}

/// `GET /api/work-orders`: the outbox, newest first.
pub(crate) async fn work_orders(State(state): State<AppState>) -> Response {
    match state.work_orders.store().outbox(LIST_LIMIT) {
        Ok(entries) => Json(json!({ "work_orders": entries })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
