//! The live stream from the gateway: connection state, frame decoding and
//! counting. The WebSocket itself lives in a browser task (it is not `Send`);
//! it hands raw frames over a channel, and the systems here turn them into
//! messages for the rest of the app. Malformed frames are counted and dropped.

use std::time::Duration;

use bevy::prelude::*;
use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use linetwin_core::protocol::{Clock, FrameError, Reading, TextMessage, WaveformBlock};

#[derive(Debug, Clone, PartialEq)]
pub enum ConnectionState {
    /// Opening a connection; `attempt` 0 is the first.
    Connecting { attempt: u32 },
    /// The gateway said hello.
    Connected {
        line_id: String,
        time_scale: f64,
        /// A recording played back, not live data.
        replay: bool,
    },
    /// Lost; the next attempt starts after `retry_in`.
    Reconnecting {
        attempt: u32,
        retry_in: Duration,
        reason: String,
    },
}

impl ConnectionState {
    pub fn label(&self) -> &'static str {
        match self {
            ConnectionState::Connecting { .. } => "connecting",
            ConnectionState::Connected { .. } => "connected",
            ConnectionState::Reconnecting { .. } => "reconnecting",
        }
    }
}

/// What the socket task hands to the app.
#[derive(Debug)]
pub enum Inbound {
    State(ConnectionState),
    Text(String),
    Binary(Vec<u8>),
    /// A waveform block already on its way to the diagnosis worker.
    Routed(crate::executor::RoutedBlock),
}

/// Receiving end of the socket task's channel.
#[derive(Resource)]
pub struct Inbox(UnboundedReceiver<Inbound>);

impl Inbox {
    /// A connected inbox; the sender goes to whatever produces frames.
    pub fn channel() -> (UnboundedSender<Inbound>, Inbox) {
        let (tx, rx) = unbounded();
        (tx, Inbox(rx))
    }
}

#[derive(Resource, Debug, Clone, PartialEq)]
pub struct Connection(pub ConnectionState);

impl Default for Connection {
    fn default() -> Self {
        Connection(ConnectionState::Connecting { attempt: 0 })
    }
}

#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct StreamStats {
    pub frames_received: u64,
    pub frames_rejected: u64,
    pub readings: u64,
    pub waveforms: u64,
    pub last_rejection: Option<String>,
}

/// What the stream brought, in the order it came: the twin must hear a
/// hello before the data that follows it and after the data before it.
#[derive(Message, Debug, Clone)]
pub enum StreamEvent {
    /// The gateway's hello: which clock its times are on, and how fast it runs.
    Hello { clock: Clock, time_scale: f64 },
    /// Scalar readings taken at `t`.
    Readings { t: f64, values: Vec<Reading> },
    /// A waveform block for the app to diagnose.
    Waveform(WaveformBlock),
    /// A waveform block the socket task already sent to the worker.
    Routed(crate::executor::RoutedBlock),
    /// A story's caption, at a time on the stream's clock.
    Caption(Caption),
    /// The gateway's record: a person acknowledged this alarm.
    Acknowledged { alarm: u64, by: String },
    /// The gateway's record: a sensor's baseline (`None`: learn it afresh).
    Baseline {
        sensor: String,
        t: f64,
        value_mm_s: Option<f64>,
        by: Option<String>,
    },
    /// These sensors' source is gone since `t` (a node died), for `reason`.
    Offline {
        t: f64,
        sensors: Vec<String>,
        reason: String,
    },
}

/// A notice from the gateway, for the user.
#[derive(Message, Debug, Clone)]
pub struct GatewayNotice(pub String);

/// A demo scenario's caption: shown from data time `t` for `duration_s`.
#[derive(Message, Resource, Debug, Clone, PartialEq)]
pub struct Caption {
    pub t: f64,
    pub text: String,
    pub chapter: Option<String>,
    pub duration_s: f64,
}

pub struct StreamPlugin;

impl Plugin for StreamPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Connection>()
            .init_resource::<StreamStats>()
            .add_message::<StreamEvent>()
            .add_message::<GatewayNotice>()
            .add_message::<Caption>()
            .init_resource::<crate::scenario_remote::Story>()
            .init_resource::<BeforeTheTwin>()
            .add_systems(PreUpdate, drain_inbox);
        #[cfg(target_arch = "wasm32")]
        app.add_systems(Startup, web::open_socket);
    }
}

/// A decoded frame.
#[derive(Debug)]
enum Decoded {
    Text(TextMessage),
    Waveform(WaveformBlock),
}

fn decode(frame: Inbound) -> Result<Option<Decoded>, FrameError> {
    Ok(match frame {
        Inbound::State(_) | Inbound::Routed(_) => None,
        Inbound::Text(text) => Some(Decoded::Text(TextMessage::from_json(&text)?)),
        Inbound::Binary(bytes) => Some(Decoded::Waveform(WaveformBlock::decode(&bytes)?)),
    })
}

/// What the gateway says first (the hello, sensors offline, the record's
/// acknowledgements and baselines) can come before the line description
/// has loaded and the twin exists: it is kept for the twin, in order, while
/// data that early is let go (the twin could not place it anyway).
#[derive(Resource, Default)]
pub struct BeforeTheTwin(Vec<StreamEvent>);

/// The record's newest 500 alarms and every sensor's baseline fit well.
const KEPT_BEFORE_THE_TWIN: usize = 4096;

impl BeforeTheTwin {
    fn keep(&mut self, events: Vec<StreamEvent>) {
        self.0.extend(events.into_iter().filter(|e| {
            matches!(
                e,
                StreamEvent::Hello { .. }
                    | StreamEvent::Acknowledged { .. }
                    | StreamEvent::Baseline { .. }
                    | StreamEvent::Offline { .. }
            )
        }));
        let over = self.0.len().saturating_sub(KEPT_BEFORE_THE_TWIN);
        self.0.drain(..over);
    }
}

/// At most this many frames per frame: a burst after a stall must not freeze
/// rendering; the rest waits in the channel for the next frame.
const MAX_FRAMES_PER_UPDATE: usize = 256;

#[allow(clippy::too_many_arguments)]
fn drain_inbox(
    inbox: Option<ResMut<Inbox>>,
    mut connection: ResMut<Connection>,
    mut stats: ResMut<StreamStats>,
    mut events: MessageWriter<StreamEvent>,
    mut notices: MessageWriter<GatewayNotice>,
    mut story: ResMut<crate::scenario_remote::Story>,
    twin: Option<Res<crate::twin_state::TwinState>>,
    mut early: ResMut<BeforeTheTwin>,
) {
    let Some(mut inbox) = inbox else { return };
    let mut out = Vec::new();
    let mut decoded = 0;
    // Routed blocks carry no samples and do not count against the cap: the
    // app must learn of every one before its result comes back.
    while decoded < MAX_FRAMES_PER_UPDATE {
        let Ok(frame) = inbox.0.try_recv() else { break };
        if let Inbound::State(state) = frame {
            connection.0 = state;
            continue;
        }
        stats.frames_received += 1;
        if let Inbound::Routed(block) = frame {
            stats.waveforms += 1;
            out.push(StreamEvent::Routed(block));
            continue;
        }
        decoded += 1;
        match decode(frame) {
            Ok(Some(Decoded::Text(TextMessage::Hello {
                line_id,
                time_scale,
                clock,
                replay,
                scenario,
                ..
            }))) => {
                if story.info != scenario {
                    story.info = scenario;
                }
                out.push(StreamEvent::Hello { clock, time_scale });
                connection.0 = ConnectionState::Connected {
                    line_id,
                    time_scale,
                    replay,
                };
            }
            Ok(Some(Decoded::Text(TextMessage::Readings { t, values }))) => {
                stats.readings += values.len() as u64;
                out.push(StreamEvent::Readings { t, values });
            }
            Ok(Some(Decoded::Text(TextMessage::Acknowledged { alarm, by, .. }))) => {
                out.push(StreamEvent::Acknowledged { alarm, by });
            }
            Ok(Some(Decoded::Text(TextMessage::Baseline {
                sensor,
                t,
                value_mm_s,
                by,
            }))) => {
                out.push(StreamEvent::Baseline {
                    sensor,
                    t,
                    value_mm_s,
                    by,
                });
            }
            Ok(Some(Decoded::Text(TextMessage::Offline { t, sensors, reason }))) => {
                out.push(StreamEvent::Offline { t, sensors, reason });
            }
            Ok(Some(Decoded::Text(TextMessage::Notice { message, .. }))) => {
                notices.write(GatewayNotice(message));
            }
            Ok(Some(Decoded::Text(TextMessage::Caption {
                t,
                text,
                chapter,
                duration_s,
            }))) => {
                // Placed on the twin's time axis with the data, in order.
                out.push(StreamEvent::Caption(Caption {
                    t,
                    text,
                    chapter,
                    duration_s,
                }));
            }
            Ok(Some(Decoded::Waveform(block))) => {
                stats.waveforms += 1;
                out.push(StreamEvent::Waveform(block));
            }
            Ok(None) => {}
            Err(error) => {
                stats.frames_rejected += 1;
                stats.last_rejection = Some(error.to_string());
            }
        }
    }
    if twin.is_some() {
        events.write_batch(std::mem::take(&mut early.0).into_iter().chain(out));
    } else {
        early.keep(out);
    }
}

#[cfg(target_arch = "wasm32")]
mod web {
    use bevy::prelude::*;
    use futures_channel::mpsc::UnboundedSender;
    use futures_util::StreamExt;
    use gloo_net::websocket::{Message, futures::WebSocket};
    use linetwin_core::backoff::Backoff;

    use super::{ConnectionState, Inbound, Inbox};
    use crate::line_source::gateway_ws_url;

    pub(super) fn open_socket(mut commands: Commands) {
        let (tx, inbox) = Inbox::channel();
        commands.insert_resource(inbox);
        let page = web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default();
        let url = gateway_ws_url(&page);
        wasm_bindgen_futures::spawn_local(keep_connected(url, tx));
    }

    /// Connects, forwards frames, and on any loss waits with backoff and
    /// tries again, forever: a kiosk must come back by itself.
    async fn keep_connected(url: String, tx: UnboundedSender<Inbound>) {
        let backoff = Backoff::default();
        let mut attempt = 0;
        loop {
            let _ = tx.unbounded_send(Inbound::State(ConnectionState::Connecting { attempt }));
            let reason = match WebSocket::open(&url) {
                Ok(socket) => {
                    let (_sink, mut frames) = socket.split();
                    let mut said_hello = false;
                    loop {
                        match frames.next().await {
                            Some(Ok(Message::Text(text))) => {
                                if !said_hello {
                                    said_hello = true;
                                    attempt = 0;
                                }
                                let _ = tx.unbounded_send(Inbound::Text(text));
                            }
                            Some(Ok(Message::Bytes(bytes))) => {
                                // Straight to the worker when it can take it,
                                // between frames, not once per frame.
                                let inbound = match crate::executor::web::route(&bytes) {
                                    Some(routed) => Inbound::Routed(routed),
                                    None => Inbound::Binary(bytes),
                                };
                                let _ = tx.unbounded_send(inbound);
                            }
                            Some(Err(error)) => break error.to_string(),
                            None => break "connection closed".to_owned(),
                        }
                    }
                }
                Err(error) => format!("cannot open {url}: {error}"),
            };
            let retry_in = backoff.delay(attempt, js_sys::Math::random());
            warn!("stream lost ({reason}); retrying in {retry_in:?}");
            let _ = tx.unbounded_send(Inbound::State(ConnectionState::Reconnecting {
                attempt,
                retry_in,
                reason,
            }));
            gloo_timers::future::sleep(retry_in).await;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use linetwin_core::protocol::Clock;

    fn app_with_inbox() -> (App, UnboundedSender<Inbound>) {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins).add_plugins(StreamPlugin);
        let (tx, inbox) = Inbox::channel();
        app.insert_resource(inbox);
        (app, tx)
    }

    #[test]
    fn hello_connects_and_bad_frames_are_counted_not_fatal() {
        let (mut app, tx) = app_with_inbox();
        tx.unbounded_send(Inbound::Text(
            TextMessage::hello("line-7", Clock::Simulated, 4.0).to_json(),
        ))
        .unwrap();
        tx.unbounded_send(Inbound::Text("{\"type\":\"nonsense\"}".into()))
            .unwrap();
        tx.unbounded_send(Inbound::Binary(vec![1, 2, 3])).unwrap();
        let block = WaveformBlock {
            sensor: "S".into(),
            t_start: 0.0,
            sample_rate_hz: 100.0,
            shaft_rpm: None,
            samples: vec![0.0; 8],
        };
        tx.unbounded_send(Inbound::Binary(block.encode())).unwrap();
        app.update();
        let stats = app.world().resource::<StreamStats>();
        assert_eq!(
            (
                stats.frames_received,
                stats.frames_rejected,
                stats.waveforms
            ),
            (4, 2, 1)
        );
        assert!(
            stats
                .last_rejection
                .as_deref()
                .unwrap_or_default()
                .contains("shorter")
        );
        match &app.world().resource::<Connection>().0 {
            ConnectionState::Connected {
                line_id,
                time_scale,
                replay,
            } => assert_eq!(
                (line_id.as_str(), *time_scale, *replay),
                ("line-7", 4.0, false)
            ),
            other => panic!("not connected: {other:?}"),
        }
    }

    #[test]
    fn state_changes_pass_through_without_counting_as_frames() {
        let (mut app, tx) = app_with_inbox();
        let state = ConnectionState::Reconnecting {
            attempt: 2,
            retry_in: Duration::from_secs(2),
            reason: "closed".into(),
        };
        tx.unbounded_send(Inbound::State(state.clone())).unwrap();
        app.update();
        assert_eq!(app.world().resource::<Connection>().0, state);
        assert_eq!(app.world().resource::<StreamStats>().frames_received, 0);
    }
}
