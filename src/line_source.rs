//! Where the line description comes from: the gateway's `/api/line`.

use std::sync::Arc;

use bevy::prelude::*;
use linetwin_core::line::Line;

/// The line being shown. Inserted once the description has loaded.
#[derive(Resource, Clone, Debug)]
pub struct LineDescription(pub Arc<Line>);

/// What the user sees while there is no line yet.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub enum LineStatus {
    #[default]
    Loading,
    Loaded,
    /// The last attempt failed; another follows.
    Retrying {
        reason: String,
        attempt: u32,
    },
}

pub struct LineSourcePlugin;

impl Plugin for LineSourcePlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<LineStatus>().add_systems(
            Update,
            mark_loaded.run_if(resource_added::<LineDescription>),
        );
        #[cfg(target_arch = "wasm32")]
        {
            app.add_systems(Startup, web::start_fetching)
                .add_systems(PreUpdate, web::receive_line);
        }
    }
}

fn mark_loaded(mut status: ResMut<LineStatus>) {
    *status = LineStatus::Loaded;
}

/// The WebSocket URL of the gateway that served the page at `page_url`:
/// same host, `ws` beside the page, `wss` when the page came over https.
pub fn gateway_ws_url(page_url: &str) -> String {
    let (scheme, rest) = match page_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", page_url),
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    if dir.is_empty() {
        format!("{scheme}://{host}/ws")
    } else {
        format!("{scheme}://{host}/{dir}/ws")
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::Arc;

    use bevy::prelude::*;
    use futures_channel::mpsc::{UnboundedReceiver, unbounded};
    use linetwin_core::backoff::Backoff;
    use linetwin_core::line::Line;

    use super::{LineDescription, LineStatus};

    enum Fetched {
        Line(Line),
        Failed { reason: String, attempt: u32 },
    }

    #[derive(Resource)]
    pub(super) struct LineInbox(UnboundedReceiver<Fetched>);

    pub(super) fn start_fetching(mut commands: Commands) {
        let (tx, rx) = unbounded();
        commands.insert_resource(LineInbox(rx));
        wasm_bindgen_futures::spawn_local(async move {
            let mut attempt = 0;
            loop {
                match fetch_line().await {
                    Ok(line) => {
                        let _ = tx.unbounded_send(Fetched::Line(line));
                        return;
                    }
                    Err(reason) => {
                        warn!("loading the line description failed: {reason}");
                        let _ = tx.unbounded_send(Fetched::Failed { reason, attempt });
                        let delay = Backoff::default().delay(attempt, js_sys::Math::random());
                        gloo_timers::future::sleep(delay).await;
                        attempt += 1;
                    }
                }
            }
        });
    }

    async fn fetch_line() -> Result<Line, String> {
        let response = gloo_net::http::Request::get("api/line")
            .send()
            .await
            .map_err(|e| format!("gateway unreachable: {e}"))?;
        if !response.ok() {
            return Err(format!("gateway answered HTTP {}", response.status()));
        }
        let text = response
            .text()
            .await
            .map_err(|e| format!("reading the description: {e}"))?;
        Line::from_json("api/line", &text).map_err(|e| e.to_string())
    }

    pub(super) fn receive_line(
        mut commands: Commands,
        inbox: Option<ResMut<LineInbox>>,
        mut status: ResMut<LineStatus>,
    ) {
        let Some(mut inbox) = inbox else { return };
        while let Ok(fetched) = inbox.0.try_recv() {
            match fetched {
                Fetched::Line(line) => commands.insert_resource(LineDescription(Arc::new(line))),
                Fetched::Failed { reason, attempt } => {
                    *status = LineStatus::Retrying { reason, attempt }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gateway_ws_url;

    #[test]
    fn websocket_url_follows_the_page() {
        assert_eq!(
            gateway_ws_url("http://127.0.0.1:8080/"),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            gateway_ws_url("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080/ws"
        );
        assert_eq!(
            gateway_ws_url("https://plant.example/twin/index.html?kiosk=1"),
            "wss://plant.example/twin/ws"
        );
        assert_eq!(
            gateway_ws_url("https://plant.example/twin/#top"),
            "wss://plant.example/twin/ws"
        );
    }
}
