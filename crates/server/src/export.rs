//! `GET /api/recording.mcap?from=T&to=T`: a time range of the recording
//! (data seconds, both optional) as one MCAP file that other tools open.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::state::AppState;

fn bad_request(reason: String) -> Response {
    (StatusCode::BAD_REQUEST, reason).into_response()
}

/// Seconds of data time from a query field; absent is `default`.
fn seconds(query: &HashMap<String, String>, field: &str, default: f64) -> Result<f64, String> {
    match query.get(field) {
        None => Ok(default),
        Some(text) => match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(format!(
                "field `{field}`: {text:?} is not a data time in seconds (a number, zero or more)"
            )),
        },
    }
}

pub(crate) async fn recording(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(dir) = state.record_dir.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "this gateway does not record: start it with --record DIR",
        )
            .into_response();
    };
    let (from, to) = match (
        seconds(&query, "from", 0.0),
        seconds(&query, "to", f64::MAX / 2e9),
    ) {
        (Ok(from), Ok(to)) if from <= to => (from, to),
        (Ok(_), Ok(_)) => return bad_request("field `to`: it comes before `from`".into()),
        (Err(reason), _) | (_, Err(reason)) => return bad_request(reason),
    };
    let line_json = serde_json::to_string(&state.line).unwrap_or_default();
    let export = tokio::task::spawn_blocking(move || {
        let files = linetwin_recorder::recordings_in(&dir)?;
        linetwin_recorder::export_range(&files, (from * 1e9) as u64, (to * 1e9) as u64, &line_json)
    })
    .await;
    match export {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"linetwin-{from:.0}-{to:.0}.mcap\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(error)) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
