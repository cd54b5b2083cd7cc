//! The sensors' record over HTTP: each sensor's last value and baseline
//! (`GET /api/sensors`), and a fresh baseline after maintenance
//! (`POST /api/sensors/{sensor}/baseline`, the commissioning of a repaired
//! machine: its new normal is learned from the next blocks).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use linetwin_core::line::SensorKind;
use serde_json::json;

use crate::alarms_api::{problem, who};
use crate::auth::Principal;
use crate::hub::Frame;
use crate::state::AppState;
use crate::store::sensors::StoredBaseline;
use crate::unix_now;

/// `GET /api/sensors`: every sensor of the line, with its last value and
/// its baseline as the record has them (`null` where it has none yet).
pub(crate) async fn list(State(state): State<AppState>) -> Response {
    let (values, baselines) = {
        let store = state.work_orders.store();
        match (store.sensor_values(), store.baselines()) {
            (Ok(values), Ok(baselines)) => (values, baselines),
            (Err(e), _) | (_, Err(e)) => {
                return problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
            }
        }
    };
    let mut values: HashMap<String, _> =
        values.into_iter().map(|v| (v.sensor.clone(), v)).collect();
    let mut baselines: HashMap<String, _> = baselines
        .into_iter()
        .map(|b| (b.sensor.clone(), b))
        .collect();
    let sensors: Vec<_> = state
        .line
        .assets
        .iter()
        .flat_map(|asset| asset.sensors.iter().map(move |s| (asset, s)))
        .map(|(asset, sensor)| {
            json!({
                "sensor": sensor.id,
                "asset": asset.id,
                "kind": sensor.kind,
                "unit": sensor.unit,
                "last": values.remove(&sensor.id),
                "baseline": baselines.remove(&sensor.id),
            })
        })
        .collect();
    Json(json!({ "sensors": sensors })).into_response()
}

/// `POST /api/sensors/{sensor}/baseline` with `{"by": "maria"}`: forget the
/// sensor's baseline and learn it from the blocks that follow; 202 with
/// the record's entry. Every viewer and the gateway's twin hear it.
pub(crate) async fn relearn(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(sensor): Path<String>,
    body: Result<Json<crate::alarms_api::Who>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let by = match who(&principal, body) {
        Ok(by) => by,
        Err(reason) => return problem(StatusCode::BAD_REQUEST, reason),
    };
    match state.line.sensor(&sensor) {
        None => {
            return problem(
                StatusCode::NOT_FOUND,
                format!("no sensor `{sensor}` in line `{}`", state.line.id),
            );
        }
        Some((_, spec)) if spec.kind != SensorKind::Vibration => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!(
                    "`{sensor}` is not a vibration sensor: only those have an ISO 20816-3 baseline"
                ),
            );
        }
        Some(_) => {}
    }
    let since_t = crate::gateway_twin::lock(&state.twin)
        .twin()
        .data_time()
        .unwrap_or(0.0);
    match learn_afresh(&state, sensor, since_t, by) {
        Ok(baseline) => (StatusCode::ACCEPTED, Json(json!(baseline))).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// Forgets a vibration sensor's baseline from data time `since_t` on, for
/// `by`: recorded (with an audit entry) and told to every viewer and the
/// gateway's twin, which learn it from the blocks that follow. Asked over
/// HTTP, and by a demo story's maintenance (`crate::simulator`).
pub(crate) fn learn_afresh(
    state: &AppState,
    sensor: String,
    since_t: f64,
    by: String,
) -> Result<StoredBaseline, crate::store::StoreError> {
    let baseline = StoredBaseline {
        sensor,
        value_mm_s: None,
        since_t,
        commissioned_by: Some(by.clone()),
        recorded_unix_s: unix_now(),
    };
    // The record's lock is let go before the broadcast (lock order: twin, then record).
    {
        let store = state.work_orders.store();
        let recorded = store.record_baseline(&baseline);
        let outcome = if recorded.is_ok() { "ok" } else { "failed" };
        crate::auth::audit(
            &store,
            &by,
            "baseline_relearn",
            Some(&baseline.sensor),
            outcome,
            None,
        );
        recorded?;
    }
    tracing::info!(
        "baseline of {} to be learned afresh, asked by {}",
        baseline.sensor,
        baseline.commissioned_by.as_deref().unwrap_or("?")
    );
    state.broadcast(Frame::text(&baseline.message()));
    Ok(baseline)
}
