//! The one way in: every source (the simulator, producers on `/ws/ingest`,
//! the MQTT broker, a replay) hands its frames to [`admit`], which decodes
//! them, checks them against the line and the clock, counts them per source
//! and forwards them to viewers. A bad frame is counted with its reason and
//! dropped; on `/ws/ingest` the producer is told why and the connection
//! stays open.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use linetwin_core::line::{Line, SensorKind};
use linetwin_core::protocol::{
    FrameError, MAX_SENSOR_ID_LEN, MAX_WAVEFORM_SAMPLES, TextMessage, WAVEFORM_HEADER_LEN,
    WaveformBlock,
};

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

use crate::auth::rate::RateLimiter;
use crate::auth::{Principal, Watchman};
use crate::hub::{self, Frame, SocketGone};
use crate::source::Source;
use crate::state::AppState;
use crate::timestamps::{Order, TimestampError};

/// The largest valid waveform frame (header, longest id, padding, most
/// samples): producers must be able to send it, nothing larger is needed.
const MAX_INGEST_MESSAGE: usize =
    WAVEFORM_HEADER_LEN + MAX_SENSOR_ID_LEN + 3 + 4 * MAX_WAVEFORM_SAMPLES;

/// The longest waveform block, in seconds of its sensor's sample rate.
/// Diagnosis needs about one; the bound keeps what the gateway holds for
/// its viewers (`hub::CHANNEL_CAPACITY` frames) to a known size however
/// large a frame the protocol could carry.
pub(crate) const MAX_BLOCK_S: f64 = 10.0;

/// Samples in the longest block a sensor of this rate may send.
pub(crate) fn longest_block(sample_rate_hz: f32) -> usize {
    (f64::from(sample_rate_hz) * MAX_BLOCK_S).ceil() as usize
}

/// A text frame (readings, offline) of a whole line is a few kilobytes.
const MAX_INGEST_TEXT: usize = 64 * 1024;
/// Frames a producer connection may send a second, and at once: a line's
/// worth of waveform rounds at a 1 s block interval with room to spare.
const FRAMES_PER_S: f64 = 200.0;
const FRAME_BURST: u32 = 400;
/// And bytes: 150 vibration sensors at 12.8 kHz stream 7.7 MB/s.
const BYTES_PER_S: f64 = 32.0 * 1024.0 * 1024.0;
const BYTE_BURST: u32 = 64 * 1024 * 1024;
/// Producers are pinged like viewers; one silent this long is dropped.
const PING_INTERVAL: Duration = Duration::from_secs(20);
const SILENCE_LIMIT: Duration = Duration::from_secs(60);

/// An `offline` reason is one line in a panel.
const MAX_REASON_LEN: usize = 200;

/// Why a producer's frame was dropped; the text goes back to the producer.
#[derive(Debug, PartialEq, thiserror::Error)]
pub(crate) enum Rejection {
    #[error("{0}")]
    Malformed(#[from] FrameError),
    #[error("sensor `{0}` is not in line `{1}`")]
    UnknownSensor(String, String),
    #[error("sensor `{0}` is not a vibration sensor: send its values as readings")]
    NotVibration(String),
    #[error("sensor `{0}` is a vibration sensor: send its waveform as a binary frame")]
    VibrationAsReading(String),
    #[error(
        "producers may send only `readings` and `offline` text frames and waveform binary frames"
    )]
    NotAccepted,
    #[error("an `offline` message must name at least one sensor")]
    NoSensors,
    #[error("an `offline` reason is {0} bytes; at most {MAX_REASON_LEN} are shown")]
    ReasonTooLong(usize),
    #[error("{0}")]
    Timestamp(#[from] TimestampError),
    #[error("this producer's token may feed {allowed}, not `{sensor}` of asset {asset}")]
    OutOfScope {
        sensor: String,
        asset: String,
        allowed: String,
    },
    #[error(
        "a block of {samples} samples for `{sensor}`: at most {longest} ({MAX_BLOCK_S} s at its sample rate in the line)"
    )]
    BlockTooLong {
        sensor: String,
        samples: usize,
        longest: usize,
    },
    #[error("a text frame of {0} bytes; at most {MAX_INGEST_TEXT} are read")]
    TextTooLong(usize),
    #[error(
        "more than {FRAMES_PER_S} frames or {BYTES_PER_S} bytes a second: this one was dropped"
    )]
    TooFast,
}

/// A frame as a source hands it over.
#[derive(Debug)]
pub(crate) enum Incoming<'a> {
    Text(&'a str),
    Binary(Bytes),
    /// Built by the gateway itself (simulator, MQTT mapping): no JSON to parse.
    Message(TextMessage),
}

/// Checks a frame from `source` and forwards it to every viewer; counts it
/// either way. `Ok(false)`: valid, but nothing to forward (a hello).
pub(crate) fn admit(
    state: &AppState,
    source: Source,
    incoming: Incoming<'_>,
) -> Result<bool, Rejection> {
    admit_from(state, source, incoming, None)
}

/// [`admit`] for a producer whose token names the assets it may feed.
pub(crate) fn admit_from(
    state: &AppState,
    source: Source,
    incoming: Incoming<'_>,
    assets: Option<&[String]>,
) -> Result<bool, Rejection> {
    let outcome = check(state, source, incoming, assets);
    match &outcome {
        Ok((Verdict::Forward(frame), checked)) => {
            state.sources.accepted(source);
            if checked.order == Order::Earlier {
                state.sources.out_of_order(source);
            }
            let mut offline = state.offline_sensors();
            match &checked.went_offline {
                Some((t, reason)) => {
                    let sensors: Vec<String> =
                        checked.stamps.iter().map(|(s, _)| s.clone()).collect();
                    offline.went_offline(*t, &sensors, reason);
                }
                None => offline.reported(&checked.stamps),
            }
            // Under the lock, so a viewer greeted meanwhile misses nothing.
            state.broadcast(frame.clone());
        }
        Ok((Verdict::Ignore, _)) => {}
        Err(rejection) => {
            tracing::debug!("{} frame rejected: {rejection}", source.name());
            state.sources.rejected(source, &rejection.to_string());
        }
    }
    outcome.map(|(verdict, _)| matches!(verdict, Verdict::Forward(_)))
}

/// What the checks found out about a frame that passed them.
#[derive(Debug)]
struct Checked {
    stamps: Stamps,
    order: Order,
    /// An `offline` message: the stamped sensors are gone since `t`, for this reason.
    went_offline: WentOffline,
}

fn check(
    state: &AppState,
    source: Source,
    incoming: Incoming<'_>,
    assets: Option<&[String]>,
) -> Result<(Verdict, Checked), Rejection> {
    let (verdict, stamps, went_offline) = decoded(&state.line, source, incoming)?;
    if let Some(assets) = assets {
        in_scope(&state.line, &stamps, assets)?;
    }
    let now = state.gateway_unix_now();
    let mut checks = state.timestamp_checks(source);
    let mut order = Order::InOrder;
    for (sensor, t) in &stamps {
        if checks.check(sensor, *t, now)? == Order::Earlier {
            order = Order::Earlier;
        }
    }
    Ok((
        verdict,
        Checked {
            stamps,
            order,
            went_offline,
        },
    ))
}

/// What to do with a frame that passed the checks.
#[derive(Debug)]
pub(crate) enum Verdict {
    Forward(Frame),
    /// A producer may introduce itself with a hello; there is nothing to forward.
    Ignore,
}

pub(crate) async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    ws.max_message_size(MAX_INGEST_MESSAGE)
        .max_frame_size(MAX_INGEST_MESSAGE)
        .on_upgrade(move |socket| async move {
            let _ = run(socket, state, principal).await;
        })
}

async fn run(
    mut socket: WebSocket,
    state: AppState,
    producer: Principal,
) -> Result<(), SocketGone> {
    let _counted = state.producer_connected();
    let mut stop = state.stop_signal();
    let mut watchman = Watchman::new(&state.access, &producer);
    let mut pace = RateLimiter::new(FRAMES_PER_S, FRAME_BURST, 1);
    let mut volume = RateLimiter::new(BYTES_PER_S, BYTE_BURST, 1);
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    // Each refused frame is told, so a producer can mend it, except
    // frames over the rate: a flood must not become a flood of notices.
    let mut told_too_fast: Option<Instant> = None;
    // The hello tells the producer which line and clock the server expects.
    hub::send(&mut socket, hub::text_message(&state.hello())).await?;
    tracing::info!("producer connected: {}", producer.audit_name());
    loop {
        let message = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => message,
                None | Some(Err(_)) => break,
                Some(Ok(Message::Close(_))) => {
                    hub::finish_close(&mut socket).await;
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {
                    last_heard = Instant::now();
                    continue;
                }
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > SILENCE_LIMIT {
                    tracing::info!("producer silent for {SILENCE_LIMIT:?}, dropping it");
                    break;
                }
                hub::send(&mut socket, Message::Ping(Bytes::new())).await?;
                continue;
            },
            () = watchman.due() => {
                if !state.access.still_valid(&state.work_orders.store(), &producer, crate::unix_now()) {
                    tracing::info!("{}: token withdrawn, closing the producer", producer.audit_name());
                    return hub::send(&mut socket, hub::withdrawn()).await;
                }
                continue;
            },
            () = hub::stopping(&mut stop) => {
                return hub::send(&mut socket, hub::going_away()).await;
            },
        };
        last_heard = Instant::now();
        let arrived = std::time::Instant::now();
        let size = match &message {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
            _ => 0,
        };
        let outcome = if pace.allow((), arrived) && volume.allow_cost((), size as f64, arrived) {
            let incoming = match &message {
                Message::Text(text) => Incoming::Text(text.as_str()),
                Message::Binary(bytes) => Incoming::Binary(bytes.clone()),
                _ => continue,
            };
            admit_from(
                &state,
                Source::WsIngest,
                incoming,
                producer.assets.as_deref(),
            )
        } else {
            state
                .sources
                .rejected(Source::WsIngest, &Rejection::TooFast.to_string());
            Err(Rejection::TooFast)
        };
        if let Err(rejection) = outcome {
            let tell = match rejection {
                Rejection::TooFast => {
                    let due = told_too_fast.is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
                    if due {
                        told_too_fast = Some(Instant::now());
                    }
                    due
                }
                _ => true,
            };
            if tell {
                let notice = hub::warning(format!("frame rejected: {rejection}"));
                hub::send(&mut socket, notice).await?;
            }
        }
    }
    tracing::info!("producer disconnected: {}", producer.audit_name());
    Ok(())
}

/// Every sensor the frame speaks for belongs to one of `assets`.
fn in_scope(line: &Line, stamps: &Stamps, assets: &[String]) -> Result<(), Rejection> {
    for (sensor, _) in stamps {
        let asset = line
            .sensor(sensor)
            .map(|(asset, _)| asset.id.as_str())
            .unwrap_or("?");
        if !assets.iter().any(|a| a == asset) {
            return Err(Rejection::OutOfScope {
                sensor: sensor.clone(),
                asset: asset.to_owned(),
                allowed: assets.join(", "),
            });
        }
    }
    Ok(())
}

/// The sensors a frame speaks for, with its time.
type Stamps = Vec<(String, f64)>;
/// Since when and why, for an `offline` message.
type WentOffline = Option<(f64, String)>;

/// Checks a producer's text frame: only readings of the line's scalar
/// sensors pass.
#[cfg(test)]
pub(crate) fn check_text(line: &Line, text: &str) -> Result<Verdict, Rejection> {
    checked_message(line, TextMessage::from_json(text)?, Source::WsIngest)
        .map(|(verdict, ..)| verdict)
}

/// The verdict, the sensors and times the message speaks for, and the
/// reason they went offline if it says so.
/// What a frame says, checked against the line only: well formed, its
/// sensors in the line and of the right kind. The clock comes after.
pub(crate) fn decoded(
    line: &Line,
    source: Source,
    incoming: Incoming<'_>,
) -> Result<(Verdict, Stamps, WentOffline), Rejection> {
    match incoming {
        Incoming::Text(text) if text.len() > MAX_INGEST_TEXT => {
            Err(Rejection::TextTooLong(text.len()))
        }
        Incoming::Text(text) => checked_message(line, TextMessage::from_json(text)?, source),
        Incoming::Message(message) => checked_message(line, message, source),
        Incoming::Binary(bytes) => {
            let (verdict, stamps) = checked_binary(line, bytes)?;
            Ok((verdict, stamps, None))
        }
    }
}

fn checked_message(
    line: &Line,
    message: TextMessage,
    source: Source,
) -> Result<(Verdict, Stamps, WentOffline), Rejection> {
    match message {
        TextMessage::Readings { t, values } => {
            for reading in &values {
                check_scalar_sensor(line, &reading.sensor)?;
            }
            let stamps = values.iter().map(|r| (r.sensor.clone(), t)).collect();
            // Forward our own serialisation: canonical, and free of any
            // whitespace or key order quirks of the producer.
            let frame = Frame::text(&TextMessage::Readings { t, values });
            Ok((Verdict::Forward(frame), stamps, None))
        }
        TextMessage::Offline { t, sensors, reason } => {
            if sensors.is_empty() {
                return Err(Rejection::NoSensors);
            }
            if reason.len() > MAX_REASON_LEN {
                return Err(Rejection::ReasonTooLong(reason.len()));
            }
            for sensor in &sensors {
                sensor_kind(line, sensor)?;
            }
            let stamps = sensors.iter().map(|s| (s.clone(), t)).collect();
            let frame = Frame::text(&TextMessage::Offline {
                t,
                sensors,
                reason: reason.clone(),
            });
            Ok((Verdict::Forward(frame), stamps, Some((t, reason))))
        }
        TextMessage::Hello { .. } => Ok((Verdict::Ignore, Vec::new(), None)),
        // The gateway's own words, and a recording of them.
        message @ (TextMessage::Notice { .. }
        | TextMessage::Caption { .. }
        | TextMessage::Acknowledged { .. }
        | TextMessage::Baseline { .. })
            if source.may_narrate() =>
        {
            Ok((Verdict::Forward(Frame::text(&message)), Vec::new(), None))
        }
        TextMessage::Notice { .. }
        | TextMessage::Caption { .. }
        | TextMessage::Acknowledged { .. }
        | TextMessage::Baseline { .. } => Err(Rejection::NotAccepted),
    }
}

/// Checks a binary frame: a well-formed waveform block of a vibration sensor.
#[cfg(test)]
pub(crate) fn check_binary(line: &Line, bytes: Bytes) -> Result<Verdict, Rejection> {
    checked_binary(line, bytes).map(|(verdict, _)| verdict)
}

fn checked_binary(line: &Line, bytes: Bytes) -> Result<(Verdict, Stamps), Rejection> {
    let block = WaveformBlock::decode(&bytes)?;
    let Some((_, sensor)) = line.sensor(&block.sensor) else {
        return Err(Rejection::UnknownSensor(block.sensor, line.id.clone()));
    };
    if sensor.kind != SensorKind::Vibration {
        return Err(Rejection::NotVibration(block.sensor));
    }
    let longest = longest_block(sensor.sample_rate_hz);
    if block.samples.len() > longest {
        return Err(Rejection::BlockTooLong {
            samples: block.samples.len(),
            longest,
            sensor: block.sensor,
        });
    }
    let stamps = vec![(block.sensor, block.t_start)];
    // The frame is valid as it stands: forward the producer's bytes unchanged.
    Ok((Verdict::Forward(Frame::Binary(bytes)), stamps))
}

fn check_scalar_sensor(line: &Line, sensor: &str) -> Result<(), Rejection> {
    match sensor_kind(line, sensor)? {
        SensorKind::Vibration => Err(Rejection::VibrationAsReading(sensor.to_owned())),
        _ => Ok(()),
    }
}

fn sensor_kind(line: &Line, sensor: &str) -> Result<SensorKind, Rejection> {
    line.sensor(sensor)
        .map(|(_, s)| s.kind)
        .ok_or_else(|| Rejection::UnknownSensor(sensor.to_owned(), line.id.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO: &str = include_str!("../../../assets/lines/demo.json");

    fn demo() -> Line {
        Line::from_json("demo.json", DEMO).expect("demo line is valid")
    }

    fn waveform(sensor: &str) -> Bytes {
        WaveformBlock {
            sensor: sensor.into(),
            t_start: 1.0,
            sample_rate_hz: 12_800.0,
            shaft_rpm: None,
            samples: vec![0.0; 8],
        }
        .encode()
        .into()
    }

    #[test]
    fn largest_valid_frame_fits_the_message_limit() {
        let pad = (4 - (WAVEFORM_HEADER_LEN + MAX_SENSOR_ID_LEN) % 4) % 4;
        assert!(
            WAVEFORM_HEADER_LEN + MAX_SENSOR_ID_LEN + pad + 4 * MAX_WAVEFORM_SAMPLES
                <= MAX_INGEST_MESSAGE
        );
    }

    #[test]
    fn readings_of_scalar_sensors_are_forwarded() {
        let text = r#"{"type":"readings","t":5,"values":[{"sensor":"M1-T","value":51.5}]}"#;
        let Ok(Verdict::Forward(Frame::Text(out))) = check_text(&demo(), text) else {
            panic!("valid readings should be forwarded");
        };
        assert!(matches!(
            TextMessage::from_json(&out),
            Ok(TextMessage::Readings { .. })
        ));
    }

    #[test]
    fn cycle_counter_readings_are_forwarded_as_sent() {
        let line = demo();
        assert_eq!(
            line.sensor("R1-CYC").map(|(_, s)| s.kind),
            Some(SensorKind::Cycles)
        );
        // Counts far above f32 precision must come through exactly.
        let text = r#"{"type":"readings","t":5,"values":[{"sensor":"R1-CYC","value":12345679},{"sensor":"C1-CYC","value":412345677}]}"#;
        let Ok(Verdict::Forward(Frame::Text(out))) = check_text(&line, text) else {
            panic!("cycle counts are readings of scalar sensors");
        };
        let Ok(TextMessage::Readings { values, .. }) = TextMessage::from_json(&out) else {
            panic!("forwarded as readings: {out}");
        };
        let counts: Vec<f64> = values.iter().map(|r| r.value).collect();
        assert_eq!(counts, [12_345_679.0, 412_345_677.0]);
    }

    #[test]
    fn a_producers_numbers_are_forwarded_bit_for_bit() {
        // The default serde_json parser reads this one ulp off.
        let text = r#"{"type":"readings","t":0.031056339999999998,"values":[{"sensor":"M1-T","value":55.183}]}"#;
        let Ok(Verdict::Forward(Frame::Text(out))) = check_text(&demo(), text) else {
            panic!("valid readings are forwarded");
        };
        assert_eq!(out.as_str(), text);
    }

    #[test]
    fn readings_are_checked_against_the_line() {
        let line = demo();
        let unknown = r#"{"type":"readings","t":5,"values":[{"sensor":"M9-T","value":1}]}"#;
        assert_eq!(
            check_text(&line, unknown).err(),
            Some(Rejection::UnknownSensor("M9-T".into(), line.id.clone()))
        );
        let vibration = r#"{"type":"readings","t":5,"values":[{"sensor":"M1-DE-V","value":1}]}"#;
        assert_eq!(
            check_text(&line, vibration).err(),
            Some(Rejection::VibrationAsReading("M1-DE-V".into()))
        );
    }

    #[test]
    fn malformed_and_unexpected_text_is_rejected() {
        let line = demo();
        assert!(matches!(
            check_text(&line, "not json"),
            Err(Rejection::Malformed(_))
        ));
        let notice = r#"{"type":"notice","level":"info","message":"hi"}"#;
        assert_eq!(
            check_text(&line, notice).err(),
            Some(Rejection::NotAccepted)
        );
        let hello = TextMessage::hello("x", linetwin_core::protocol::Clock::Unix, 1.0).to_json();
        assert!(matches!(check_text(&line, &hello), Ok(Verdict::Ignore)));
    }

    #[test]
    fn offline_messages_are_checked_against_the_line() {
        let line = demo();
        let good = r#"{"type":"offline","t":5,"sensors":["M1-T","M1-DE-V"],"reason":"node press offline"}"#;
        assert!(matches!(
            check_text(&line, good),
            Ok(Verdict::Forward(Frame::Text(_)))
        ));
        let unknown = r#"{"type":"offline","t":5,"sensors":["M9-T"],"reason":"x"}"#;
        assert_eq!(
            check_text(&line, unknown).err(),
            Some(Rejection::UnknownSensor("M9-T".into(), line.id.clone()))
        );
        let none = r#"{"type":"offline","t":5,"sensors":[],"reason":"x"}"#;
        assert_eq!(check_text(&line, none).err(), Some(Rejection::NoSensors));
        let long = format!(
            r#"{{"type":"offline","t":5,"sensors":["M1-T"],"reason":"{}"}}"#,
            "x".repeat(201)
        );
        assert_eq!(
            check_text(&line, &long).err(),
            Some(Rejection::ReasonTooLong(201))
        );
    }

    #[test]
    fn waveforms_are_checked_against_the_line() {
        let line = demo();
        assert!(matches!(
            check_binary(&line, waveform("P1-DE-V")),
            Ok(Verdict::Forward(Frame::Binary(_)))
        ));
        assert!(matches!(
            check_binary(&line, waveform("nope")),
            Err(Rejection::UnknownSensor(..))
        ));
        assert_eq!(
            check_binary(&line, waveform("P1-T")).err(),
            Some(Rejection::NotVibration("P1-T".into()))
        );
        let long = WaveformBlock {
            sensor: "P1-DE-V".into(),
            t_start: 0.0,
            sample_rate_hz: 12_800.0,
            shaft_rpm: None,
            samples: vec![0.0; 128_001],
        };
        assert_eq!(
            check_binary(&line, long.encode().into()).err(),
            Some(Rejection::BlockTooLong {
                sensor: "P1-DE-V".into(),
                samples: 128_001,
                longest: 128_000
            })
        );
        let mut bad = waveform("P1-DE-V").to_vec();
        bad[0] = b'X';
        assert_eq!(
            check_binary(&line, bad.into()).err(),
            Some(Rejection::Malformed(FrameError::BadMagic))
        );
    }
}
