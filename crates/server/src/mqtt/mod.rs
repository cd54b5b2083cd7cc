//! The gateway as an MQTT client: it subscribes to the topics the config
//! file maps (plain topics and a Sparkplug B group) and hands every message
//! to the same ingest path as `/ws/ingest`. It reconnects forever with
//! backoff and subscribes again after every reconnection; `/healthz` shows
//! whether it is connected.

pub(crate) mod client;
pub mod config;
pub(crate) mod mapping;
pub mod sparkplug;

use std::time::Duration;

use axum::body::Bytes;
use linetwin_core::line::SensorKind;
use linetwin_core::protocol::{NoticeLevel, Reading, TextMessage};
use tokio::task::JoinHandle;

use crate::hub::{self, Frame};
use crate::ingest::{Incoming, admit};
use crate::source::Source;
use crate::state::AppState;
use client::{BrokerEvent, Client, Events};
use config::MqttConfig;
use mapping::Mapped;
use sparkplug::{Action, SparkplugHost};

const FIRST_RETRY: Duration = Duration::from_millis(500);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Stops the client when dropped.
pub(crate) struct MqttTask(JoinHandle<()>);

impl Drop for MqttTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) fn spawn(state: AppState, config: MqttConfig) -> anyhow::Result<MqttTask> {
    let (client, events) =
        client::connect(&config).map_err(|reason| anyhow::anyhow!("mqtt: {reason}"))?;
    Ok(MqttTask(tokio::spawn(run(state, config, client, events))))
}

async fn run(state: AppState, config: MqttConfig, client: Client, mut events: Events) {
    let mut sparkplug = config.sparkplug.as_ref().map(SparkplugHost::new);
    let mut filters: Vec<String> = config.topics.iter().map(|t| t.filter.clone()).collect();
    filters.extend(sparkplug.as_ref().map(SparkplugHost::filter));
    let mut stop = state.stop_signal();
    let mut retry = FIRST_RETRY;
    let mut was_connected = false;
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            () = hub::stopping(&mut stop) => break,
        };
        match event {
            Ok(BrokerEvent::Connected) => {
                retry = FIRST_RETRY;
                state.sources.set_connected(Source::Mqtt, true);
                tracing::info!("connected to the MQTT broker {}", config.url);
                if was_connected {
                    notice(
                        &state,
                        format!("MQTT broker {} is back: data flows again", config.url),
                    );
                }
                was_connected = true;
                // A clean session each time: subscribe again.
                for filter in &filters {
                    if let Err(e) = client.subscribe(filter) {
                        tracing::warn!("cannot subscribe to {filter}: {e}");
                    }
                }
            }
            Ok(BrokerEvent::Message { topic, payload }) => {
                handle(
                    &state,
                    &config,
                    sparkplug.as_mut(),
                    &client,
                    &topic,
                    &payload,
                );
            }
            Ok(BrokerEvent::Other) => {}
            Err(error) => {
                if state.sources.is_connected(Source::Mqtt) || !was_connected {
                    tracing::warn!("MQTT broker {}: {error}; retrying", config.url);
                }
                if state.sources.is_connected(Source::Mqtt) {
                    notice(
                        &state,
                        format!(
                            "lost the MQTT broker {} ({error}): its data has a gap until it is back",
                            config.url
                        ),
                    );
                }
                state.sources.set_connected(Source::Mqtt, false);
                tokio::select! {
                    () = tokio::time::sleep(retry) => {}
                    () = hub::stopping(&mut stop) => break,
                }
                retry = (retry * 2).min(LAST_RETRY);
            }
        }
    }
    state.sources.set_connected(Source::Mqtt, false);
    client.disconnect();
}

fn handle(
    state: &AppState,
    config: &MqttConfig,
    sparkplug: Option<&mut SparkplugHost>,
    client: &Client,
    topic: &str,
    payload: &[u8],
) {
    if let Some(host) = sparkplug
        && topic.starts_with(sparkplug::NAMESPACE)
    {
        let line = &state.line;
        let is_vibration = |sensor: &str| {
            line.sensor(sensor)
                .is_some_and(|(_, s)| s.kind == SensorKind::Vibration)
        };
        for action in host.on_message(topic, payload, is_vibration) {
            apply(state, client, action);
        }
        return;
    }
    // The gateway's wall clock, whatever clock the stream runs on.
    let arrival = crate::unix_now();
    match mapping::map_message(&config.topics, topic, payload, arrival) {
        Some(Ok(Mapped::Text(text))) => {
            let _ = admit(state, Source::Mqtt, Incoming::Text(&text));
        }
        Some(Ok(Mapped::Message(message))) => {
            let _ = admit(state, Source::Mqtt, Incoming::Message(message));
        }
        Some(Ok(Mapped::Binary(bytes))) => {
            let _ = admit(state, Source::Mqtt, Incoming::Binary(bytes));
        }
        Some(Err(reason)) => state
            .sources
            .rejected(Source::Mqtt, &format!("{topic}: {reason}")),
        None => {}
    }
}

fn apply(state: &AppState, client: &Client, action: Action) {
    match action {
        Action::Readings { t, values } => {
            let message = TextMessage::Readings {
                t,
                values: values
                    .into_iter()
                    .map(|(sensor, value)| Reading { sensor, value })
                    .collect(),
            };
            let _ = admit(state, Source::Mqtt, Incoming::Message(message));
        }
        Action::Waveform(bytes) => {
            let _ = admit(state, Source::Mqtt, Incoming::Binary(Bytes::from(bytes)));
        }
        Action::Publish { topic, payload } => {
            if let Err(e) = client.publish(&topic, payload) {
                tracing::warn!("cannot publish {topic}: {e}");
            }
        }
        Action::Offline { sensors, reason } => {
            tracing::warn!("{reason}: {}", sensors.join(", "));
            if sensors.is_empty() {
                return; // a node none of whose metrics the line maps
            }
            notice(
                state,
                format!("{reason}: {} no longer report", sensors.join(", ")),
            );
            // A death certificate is the will registered at connect time, so
            // its own timestamp (if any) is old: the sensors are gone since
            // the broker told us, and after their last data, however far
            // ahead the node's clock ran.
            let last_data = {
                let checks = state.timestamp_checks(Source::Mqtt);
                sensors
                    .iter()
                    .filter_map(|s| checks.newest(s))
                    .fold(f64::NEG_INFINITY, f64::max)
            };
            let message = TextMessage::Offline {
                t: crate::unix_now().max(last_data),
                sensors,
                reason,
            };
            let _ = admit(state, Source::Mqtt, Incoming::Message(message));
        }
        Action::Problem(reason) => {
            tracing::debug!("sparkplug: {reason}");
            state.sources.rejected(Source::Mqtt, &reason);
        }
    }
}

fn notice(state: &AppState, message: String) {
    state.broadcast(Frame::text(&TextMessage::Notice {
        level: NoticeLevel::Warning,
        message,
    }));
}
