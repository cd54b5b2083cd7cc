//! `/ws`: one task per viewer, forwarding the broadcast stream.

use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};

use crate::auth::{Principal, Watchman};
use crate::hub::{self, SocketGone};
use crate::state::AppState;

/// A kiosk whose network died sends nothing; pinging makes its silence visible.
const PING_INTERVAL: Duration = Duration::from_secs(20);
/// Three missed pongs: the viewer is gone, free its slot.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// Viewers only send close frames and pongs; anything big is abuse.
const MAX_VIEWER_MESSAGE: usize = 64 * 1024;

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    ws.max_message_size(MAX_VIEWER_MESSAGE)
        .max_frame_size(MAX_VIEWER_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _ = run(socket, state, principal).await;
        })
}

async fn run(
    mut socket: WebSocket,
    state: AppState,
    principal: Principal,
) -> Result<(), SocketGone> {
    let _counted = state.viewer_connected();
    let mut watchman = Watchman::new(&state.access, &principal);
    // Subscribe before the hello so no frame falls between the two.
    let mut frames = state.subscribe();
    let mut stop = state.stop_signal();
    greet(&mut socket, &state).await?;
    tracing::debug!("viewer connected");

    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    loop {
        let outgoing = tokio::select! {
            frame = frames.recv() => match frame {
                Ok(frame) => frame.into_message(),
                Err(RecvError::Lagged(n)) => {
                    let dropped = format!("{n} frames dropped: connection too slow");
                    hub::send(&mut socket, hub::warning(dropped)).await?;
                    // What was dropped may have been a hello (a story sent
                    // back in time) or a caption: say them again, so the
                    // viewer's clock and narration catch up with the stream.
                    greet(&mut socket, &state).await?;
                    continue;
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) => return Ok(()),
                Some(Ok(Message::Close(_))) => {
                    hub::finish_close(&mut socket).await;
                    return Ok(());
                }
                // The viewer's side of the protocol is control frames only.
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    return hub::send(&mut socket, hub::policy_close("viewers send no data on /ws")).await;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    last_heard = Instant::now();
                    continue;
                }
            },
            () = watchman.due() => {
                let valid = state.access.still_valid(&state.work_orders.store(), &principal, crate::unix_now());
                if !valid {
                    tracing::info!("{}: credential withdrawn, closing the viewer", principal.audit_name());
                    return hub::send(&mut socket, hub::withdrawn()).await;
                }
                continue;
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    tracing::info!("viewer silent for {SILENCE_LIMIT:?}, dropping it");
                    return Ok(());
                }
                Message::Ping(Bytes::new())
            },
            () = hub::stopping(&mut stop) => {
                return hub::send(&mut socket, hub::going_away()).await;
            },
        };
        hub::send(&mut socket, outgoing).await?;
    }
}

/// The hello, the caption on show now when joining in the middle of a
/// demo, the sensors whose source is gone, the acknowledgements of the
/// alarm record and the recorded baselines: the truth first, then the stream.
async fn greet(socket: &mut WebSocket, state: &AppState) -> Result<(), SocketGone> {
    hub::send(socket, hub::text_message(&state.hello())).await?;
    if let Some(caption) = state.caption_in_force() {
        hub::send(socket, hub::text_message(&caption)).await?;
    }
    let offline = state.offline_sensors().messages();
    let acknowledged = state.work_orders.acknowledgements();
    let baselines = crate::sensor_record::greeting(&state.work_orders.store());
    for message in offline.iter().chain(&acknowledged).chain(&baselines) {
        hub::send(socket, hub::text_message(message)).await?;
    }
    Ok(())
}
