//! A demo's remote: `GET /api/scenario` (the story, its time, whether it
//! runs), `POST /api/scenario/{pause|resume|restart}` and
//! `POST /api/scenario/chapter/{n}`. Moving back in time (a restart, an
//! earlier chapter) sends every viewer a fresh hello, so their twins open
//! a new epoch instead of taking the past for late data.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::hub::Frame;
use crate::state::AppState;

fn no_story() -> Response {
    (
        StatusCode::NOT_FOUND,
        "no scenario is being told: start the gateway with --scenario NAME",
    )
        .into_response()
}

fn status(state: &AppState) -> Response {
    let (Some(story), Some(clock)) = (&state.scenario, &state.sim_clock) else {
        return no_story();
    };
    let t = clock.now();
    Json(json!({
        "id": story.id,
        "name": story.name,
        "t": t,
        "running": clock.running(),
        "chapter": story.chapter_at(t).map(|c| c.title.clone()),
        "chapters": story.info().chapters,
    }))
    .into_response()
}

pub(crate) async fn describe(State(state): State<AppState>) -> Response {
    status(&state)
}

fn seek(state: &AppState, t: f64) {
    let Some(clock) = &state.sim_clock else {
        return;
    };
    if clock.seek(t) {
        state.broadcast(Frame::text(&state.hello()));
    }
}

pub(crate) async fn command(
    State(state): State<AppState>,
    Path(command): Path<String>,
) -> Response {
    let Some(clock) = state.sim_clock.clone().filter(|_| state.scenario.is_some()) else {
        return no_story();
    };
    match command.as_str() {
        "pause" => clock.pause(),
        "resume" => clock.resume(),
        "restart" => seek(&state, 0.0),
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "`{other}` is not a scenario command: pause, resume, restart, or chapter/N"
                ),
            )
                .into_response();
        }
    }
    status(&state)
}

pub(crate) async fn chapter(State(state): State<AppState>, Path(index): Path<String>) -> Response {
    let Some(story) = state.scenario.clone() else {
        return no_story();
    };
    let chapters = story.info().chapters;
    let Some((at_s, _)) = index.parse::<usize>().ok().and_then(|i| chapters.get(i)) else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "chapter `{index}`: the story has chapters 0 to {}",
                chapters.len().saturating_sub(1)
            ),
        )
            .into_response();
    };
    seek(&state, *at_s);
    status(&state)
}
