//! The connection to the broker, MQTT 3.1.1 or 5, over TCP or TLS, behind
//! one face: the gateway's loop connects, subscribes, publishes and reads
//! messages the same way whichever the config asks for.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use rumqttc::{TlsConfiguration, Transport};

use super::config::MqttConfig;

/// The largest waveform frame, with room for the topic.
const MAX_PACKET: usize = 2 * 1024 * 1024;
/// Requests waiting for the event loop.
const CAPACITY: usize = 64;

pub(crate) enum Client {
    V4(rumqttc::AsyncClient),
    V5(rumqttc::v5::AsyncClient),
}

/// Boxed: one lives per gateway, and the two differ much in size.
pub(crate) enum Events {
    V4(Box<rumqttc::EventLoop>),
    V5(Box<rumqttc::v5::EventLoop>),
}

/// What the broker said, whatever the protocol version.
pub(crate) enum BrokerEvent {
    /// The session is up (CONNACK): subscribe now.
    Connected,
    Message {
        topic: String,
        payload: Bytes,
    },
    Other,
}

/// Client and event loop for the config (checked when it was loaded).
pub(crate) fn connect(config: &MqttConfig) -> Result<(Client, Events), String> {
    let broker = config.broker()?;
    let password = config
        .password_env
        .as_ref()
        .and_then(|var| std::env::var(var).ok())
        .unwrap_or_default();
    let transport = if broker.tls {
        let tls = crate::tls::client_config(&config.tls_files())
            .map_err(|(field, reason)| format!("{field}: {reason}"))?;
        Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(tls)))
    } else {
        Transport::Tcp
    };
    let keep_alive = Duration::from_secs(config.keep_alive_s.max(5));
    match config.protocol {
        5 => {
            let mut options =
                rumqttc::v5::MqttOptions::new(config.client_id.clone(), broker.host, broker.port);
            options.set_keep_alive(keep_alive);
            options.set_max_packet_size(Some(MAX_PACKET as u32));
            options.set_transport(transport);
            if let Some(user) = &config.username {
                options.set_credentials(user.clone(), password);
            }
            let (client, events) = rumqttc::v5::AsyncClient::new(options, CAPACITY);
            Ok((Client::V5(client), Events::V5(Box::new(events))))
        }
        _ => {
            let mut options =
                rumqttc::MqttOptions::new(config.client_id.clone(), broker.host, broker.port);
            options.set_keep_alive(keep_alive);
            options.set_max_packet_size(MAX_PACKET, MAX_PACKET);
            options.set_transport(transport);
            if let Some(user) = &config.username {
                options.set_credentials(user.clone(), password);
            }
            let (client, events) = rumqttc::AsyncClient::new(options, CAPACITY);
            Ok((Client::V4(client), Events::V4(Box::new(events))))
        }
    }
}

impl Events {
    pub(crate) async fn next(&mut self) -> Result<BrokerEvent, String> {
        match self {
            Events::V4(events) => {
                use rumqttc::{Event, Packet};
                match events.poll().await.map_err(|e| e.to_string())? {
                    Event::Incoming(Packet::ConnAck(_)) => Ok(BrokerEvent::Connected),
                    Event::Incoming(Packet::Publish(p)) => Ok(BrokerEvent::Message {
                        topic: p.topic,
                        payload: p.payload,
                    }),
                    _ => Ok(BrokerEvent::Other),
                }
            }
            Events::V5(events) => {
                use rumqttc::v5::Event;
                use rumqttc::v5::mqttbytes::v5::Packet;
                match events.poll().await.map_err(|e| e.to_string())? {
                    Event::Incoming(Packet::ConnAck(_)) => Ok(BrokerEvent::Connected),
                    // No topic alias maximum is offered, so every message names its topic.
                    Event::Incoming(Packet::Publish(p)) => {
                        match String::from_utf8(p.topic.to_vec()) {
                            Ok(topic) => Ok(BrokerEvent::Message {
                                topic,
                                payload: p.payload,
                            }),
                            Err(_) => Ok(BrokerEvent::Other),
                        }
                    }
                    _ => Ok(BrokerEvent::Other),
                }
            }
        }
    }
}

impl Client {
    pub(crate) fn subscribe(&self, filter: &str) -> Result<(), String> {
        match self {
            Client::V4(c) => c
                .try_subscribe(filter, rumqttc::QoS::AtLeastOnce)
                .map_err(|e| e.to_string()),
            Client::V5(c) => c
                .try_subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
                .map_err(|e| e.to_string()),
        }
    }

    pub(crate) fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        match self {
            Client::V4(c) => c
                .try_publish(topic, rumqttc::QoS::AtLeastOnce, false, payload)
                .map_err(|e| e.to_string()),
            Client::V5(c) => c
                .try_publish(
                    topic,
                    rumqttc::v5::mqttbytes::QoS::AtLeastOnce,
                    false,
                    payload,
                )
                .map_err(|e| e.to_string()),
        }
    }

    pub(crate) fn disconnect(&self) {
        let _ = match self {
            Client::V4(c) => c.try_disconnect().map_err(|e| e.to_string()),
            Client::V5(c) => c.try_disconnect().map_err(|e| e.to_string()),
        };
    }
}
