//! The gateway's alarm record, from the viewer's side: an acknowledgement
//! made here is sent to the gateway, which keeps it (who, when) and tells
//! every viewer, this one included, in the stream (`acknowledged`).

use linetwin_twin::AlarmId;

/// Who acknowledges from a viewer, until people sign in (the security
/// issue): the gateway's record says "viewer".
pub const VIEWER: &str = "viewer";

pub fn acknowledge_path(id: AlarmId) -> String {
    format!("api/alarms/{id}/acknowledge")
}

pub fn acknowledge_body(by: &str) -> String {
    serde_json::json!({ "by": by }).to_string()
}

/// Sends an acknowledgement to the gateway; a refusal is logged (an alarm
/// the gateway's twin did not raise with this id, a gateway without the
/// record), the local acknowledgement stands either way.
pub fn send_acknowledgement(id: AlarmId) {
    let path = acknowledge_path(id);
    let body = acknowledge_body(VIEWER);
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async move {
        use bevy::log::warn;
        let request = gloo_net::http::Request::post(&path)
            .header("Content-Type", "application/json")
            .body(body);
        let response = match request {
            Ok(request) => request.send().await,
            Err(error) => {
                warn!("cannot build {path}: {error}");
                return;
            }
        };
        match response {
            Ok(response) if response.ok() => {}
            Ok(response) => warn!(
                "the gateway did not record the acknowledgement ({path}): {}",
                response.text().await.unwrap_or_default()
            ),
            Err(error) => warn!("cannot reach the gateway for {path}: {error}"),
        }
    });
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (path, body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_acknowledgement_is_posted_where_the_gateway_takes_it() {
        assert_eq!(acknowledge_path(42), "api/alarms/42/acknowledge");
        let body: serde_json::Value =
            serde_json::from_str(&acknowledge_body("viewer")).expect("JSON");
        assert_eq!(body, serde_json::json!({ "by": "viewer" }));
    }
}
