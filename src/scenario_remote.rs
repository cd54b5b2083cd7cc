//! The demo's remote: the story the gateway tells (from its hello) and the
//! commands that pause, resume, restart it or jump to a chapter
//! (`POST /api/scenario/...`, see `docs/scenarios.md`).

use bevy::prelude::*;
use linetwin_core::protocol::ScenarioInfo;

/// The story the gateway tells, as its hello named it.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct Story {
    pub info: Option<ScenarioInfo>,
    /// Paused by this viewer (the gateway's clock is the truth; this only
    /// chooses which button to show).
    pub paused: bool,
}

/// `pause`, `resume`, `restart` or `chapter/N`.
pub fn command_path(command: &str) -> Option<String> {
    match command {
        "pause" | "resume" | "restart" => Some(format!("api/scenario/{command}")),
        other => other
            .strip_prefix("chapter/")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| format!("api/scenario/chapter/{n}")),
    }
}

/// Sends a command to the gateway; a refused one is logged (the gateway
/// says why), nothing else changes.
pub fn send(command: &str) {
    let Some(path) = command_path(command) else {
        warn!("`{command}` is not a scenario command");
        return;
    };
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async move {
        match gloo_net::http::Request::post(&path).send().await {
            Ok(response) if response.ok() => {}
            Ok(response) => warn!(
                "the gateway refused {path}: {}",
                response.text().await.unwrap_or_default()
            ),
            Err(error) => warn!("cannot reach the gateway for {path}: {error}"),
        }
    });
    #[cfg(not(target_arch = "wasm32"))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::command_path;

    #[test]
    fn commands_map_to_the_gateway_paths_and_others_are_refused() {
        assert_eq!(command_path("pause").as_deref(), Some("api/scenario/pause"));
        assert_eq!(
            command_path("chapter/3").as_deref(),
            Some("api/scenario/chapter/3")
        );
        assert_eq!(command_path("chapter/x"), None);
        assert_eq!(command_path("rm -rf"), None);
    }
}
