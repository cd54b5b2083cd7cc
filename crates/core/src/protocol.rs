//! The linetwin wire protocol, version 3 (documented in `docs/protocol.md`).
//!
//! Text frames carry JSON objects tagged by `"type"`; binary frames carry one
//! waveform block each. Decoding never panics: anything malformed comes back
//! as a [`FrameError`] so the receiver can count it and drop it.

use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 3;
/// The oldest version this build still reads: versions 2 and 3 only added
/// messages (`offline`, `acknowledged`; `baseline`), so a version-1 stream
/// (an old recording) reads unchanged.
pub const OLDEST_READABLE_PROTOCOL: u32 = 1;

/// First four bytes of every waveform frame.
pub const WAVEFORM_MAGIC: [u8; 4] = *b"LTW1";
/// Sample encoding 1: IEEE-754 float32, little-endian.
pub const SAMPLE_FORMAT_F32_LE: u8 = 1;
/// Fixed part of a waveform frame before the sensor id.
pub const WAVEFORM_HEADER_LEN: usize = 28;
/// Upper bound that keeps a hostile frame from allocating without limit:
/// 2^22 samples is 5.5 min at 12.8 kHz, far more than any block.
pub const MAX_WAVEFORM_SAMPLES: usize = 1 << 22;
pub const MAX_SENSOR_ID_LEN: usize = 256;

/// Which clock `t` values are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    /// Seconds since 1970-01-01T00:00:00Z.
    Unix,
    /// Seconds since the simulator started, possibly sped up.
    Simulated,
}

/// A JSON text frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TextMessage {
    /// First frame a server sends on every connection.
    Hello {
        protocol: u32,
        line_id: String,
        server: String,
        clock: Clock,
        /// Simulated seconds per wall-clock second (1 for real plants).
        time_scale: f64,
        /// The stream is a recording played back, not live data.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replay: bool,
        /// The demo story the simulator tells, if it tells one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<ScenarioInfo>,
    },
    /// Scalar readings taken at time `t`.
    Readings { t: f64, values: Vec<Reading> },
    /// Something the user should know about the stream itself.
    Notice { level: NoticeLevel, message: String },
    /// These sensors lost their source at data time `t` (a Sparkplug node
    /// or device died, a producer said so): stale at once, for `reason`,
    /// until they report again. Since protocol version 2.
    Offline {
        t: f64,
        sensors: Vec<String>,
        reason: String,
    },
    /// A person acknowledged an alarm (its id, made of the asset, severity
    /// and raise time) at Unix time `at_unix_s`; the gateway's alarm record
    /// tells every viewer. Since protocol version 2.
    Acknowledged {
        alarm: u64,
        by: String,
        at_unix_s: f64,
    },
    /// A vibration sensor's ISO 20816-3 baseline from the gateway's record:
    /// `value_mm_s` learned at data time `t` (from its first blocks, or
    /// afresh because `by` asked), or, with no value, learned afresh from
    /// the blocks after `t` because `by` asked (after maintenance). Since
    /// protocol version 3.
    Baseline {
        sensor: String,
        t: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value_mm_s: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A demo scenario's narration, shown from data time `t` for
    /// `duration_s`; `chapter` names the chapter it belongs to.
    Caption {
        t: f64,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chapter: Option<String>,
        duration_s: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    pub sensor: String,
    pub value: f64,
}

/// A demo story, as the hello names it: enough for a viewer to offer its
/// chapters (`POST /api/scenario/chapter/N` jumps to one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub id: String,
    pub name: String,
    /// Chapter starts (data seconds) and titles, in order.
    pub chapters: Vec<(f64, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeLevel {
    Info,
    Warning,
}

/// One block of a vibration waveform, in the sensor's unit (g for the demo).
#[derive(Debug, Clone, PartialEq)]
pub struct WaveformBlock {
    pub sensor: String,
    /// Time of the first sample, on the clock the hello announced.
    pub t_start: f64,
    pub sample_rate_hz: f32,
    /// Speed of the shaft when the block was taken; `None` if not measured.
    pub shaft_rpm: Option<f32>,
    pub samples: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FrameError {
    #[error("text frame is not a valid message: {0}")]
    Json(String),
    #[error(
        "text frame has protocol version {0}, this build reads {OLDEST_READABLE_PROTOCOL} to {PROTOCOL_VERSION}"
    )]
    Version(u32),
    #[error("binary frame of {0} bytes is shorter than the {WAVEFORM_HEADER_LEN}-byte header")]
    TooShort(usize),
    #[error("binary frame does not start with the magic `LTW1`")]
    BadMagic,
    #[error("waveform frame version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("sample format {0} is not supported (1 = f32 little-endian)")]
    UnsupportedFormat(u8),
    #[error("sensor id of {0} bytes is empty or too long")]
    SensorIdLength(usize),
    #[error("sensor id is not UTF-8")]
    SensorIdUtf8,
    #[error("{0} samples is more than the {MAX_WAVEFORM_SAMPLES} allowed")]
    TooManySamples(usize),
    #[error("frame is {actual} bytes but its header announces {expected}")]
    LengthMismatch { expected: usize, actual: usize },
    #[error("sample rate {0} is not a positive number")]
    BadSampleRate(f32),
    #[error("start time is not a finite number")]
    BadStartTime,
}

impl TextMessage {
    pub fn hello(line_id: &str, clock: Clock, time_scale: f64) -> Self {
        TextMessage::Hello {
            protocol: PROTOCOL_VERSION,
            line_id: line_id.to_owned(),
            server: concat!("linetwin/", env!("CARGO_PKG_VERSION")).to_owned(),
            clock,
            time_scale,
            replay: false,
            scenario: None,
        }
    }

    /// The same hello, naming the story the simulator tells.
    pub fn with_scenario(mut self, info: ScenarioInfo) -> Self {
        if let TextMessage::Hello { scenario, .. } = &mut self {
            *scenario = Some(info);
        }
        self
    }

    /// The hello of a recording played back: the recording's clock, its
    /// time scale times the playback speed-up, and marked as a replay.
    pub fn replay_hello(line_id: &str, clock: Clock, time_scale: f64) -> Self {
        let mut hello = TextMessage::hello(line_id, clock, time_scale);
        if let TextMessage::Hello { replay, .. } = &mut hello {
            *replay = true;
        }
        hello
    }

    pub fn to_json(&self) -> String {
        // A TextMessage is plain data with string keys: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, FrameError> {
        let message: TextMessage =
            serde_json::from_str(text).map_err(|e| FrameError::Json(e.to_string()))?;
        if let TextMessage::Hello { protocol, .. } = &message
            && !(OLDEST_READABLE_PROTOCOL..=PROTOCOL_VERSION).contains(protocol)
        {
            return Err(FrameError::Version(*protocol));
        }
        Ok(message)
    }
}

/// Bytes of zero padding after a sensor id of `id_len` bytes, so that the
/// samples start 4-byte aligned (a JavaScript `Float32Array` needs that).
fn padding_after_id(id_len: usize) -> usize {
    (4 - (WAVEFORM_HEADER_LEN + id_len) % 4) % 4
}

impl WaveformBlock {
    pub fn encode(&self) -> Vec<u8> {
        let id = self.sensor.as_bytes();
        let pad = padding_after_id(id.len());
        let mut out =
            Vec::with_capacity(WAVEFORM_HEADER_LEN + id.len() + pad + 4 * self.samples.len());
        out.extend_from_slice(&WAVEFORM_MAGIC);
        out.push(1);
        out.push(SAMPLE_FORMAT_F32_LE);
        out.extend_from_slice(&(id.len() as u16).to_le_bytes());
        out.extend_from_slice(&self.t_start.to_le_bytes());
        out.extend_from_slice(&self.sample_rate_hz.to_le_bytes());
        out.extend_from_slice(&self.shaft_rpm.unwrap_or(f32::NAN).to_le_bytes());
        out.extend_from_slice(&(self.samples.len() as u32).to_le_bytes());
        out.extend_from_slice(id);
        out.extend(std::iter::repeat_n(0u8, pad));
        for sample in &self.samples {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        out
    }

    pub fn decode(frame: &[u8]) -> Result<Self, FrameError> {
        if frame.len() < WAVEFORM_HEADER_LEN {
            return Err(FrameError::TooShort(frame.len()));
        }
        let u16_at = |at: usize| u16::from_le_bytes([frame[at], frame[at + 1]]);
        let u32_at = |at: usize| {
            u32::from_le_bytes([frame[at], frame[at + 1], frame[at + 2], frame[at + 3]])
        };
        let f32_at = |at: usize| f32::from_bits(u32_at(at));
        if frame[0..4] != WAVEFORM_MAGIC {
            return Err(FrameError::BadMagic);
        }
        if frame[4] != 1 {
            return Err(FrameError::UnsupportedVersion(frame[4]));
        }
        if frame[5] != SAMPLE_FORMAT_F32_LE {
            return Err(FrameError::UnsupportedFormat(frame[5]));
        }
        let id_len = usize::from(u16_at(6));
        if id_len == 0 || id_len > MAX_SENSOR_ID_LEN {
            return Err(FrameError::SensorIdLength(id_len));
        }
        let mut t_bytes = [0u8; 8];
        t_bytes.copy_from_slice(&frame[8..16]);
        let t_start = f64::from_le_bytes(t_bytes);
        if !t_start.is_finite() {
            return Err(FrameError::BadStartTime);
        }
        let sample_rate_hz = f32_at(16);
        if !(sample_rate_hz.is_finite() && sample_rate_hz > 0.0) {
            return Err(FrameError::BadSampleRate(sample_rate_hz));
        }
        let rpm = f32_at(20);
        let shaft_rpm = (rpm.is_finite() && rpm > 0.0).then_some(rpm);
        let n = u32_at(24) as usize;
        if n > MAX_WAVEFORM_SAMPLES {
            return Err(FrameError::TooManySamples(n));
        }
        let samples_at = WAVEFORM_HEADER_LEN + id_len + padding_after_id(id_len);
        let expected = samples_at + 4 * n;
        if frame.len() != expected {
            return Err(FrameError::LengthMismatch {
                expected,
                actual: frame.len(),
            });
        }
        let sensor = std::str::from_utf8(&frame[WAVEFORM_HEADER_LEN..WAVEFORM_HEADER_LEN + id_len])
            .map_err(|_| FrameError::SensorIdUtf8)?
            .to_owned();
        let samples = frame[samples_at..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(WaveformBlock {
            sensor,
            t_start,
            sample_rate_hz,
            shaft_rpm,
            samples,
        })
    }
}

/// Counts frames as a receiver sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameCounters {
    pub received: u64,
    pub rejected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(sensor: &str, n: usize) -> WaveformBlock {
        WaveformBlock {
            sensor: sensor.into(),
            t_start: 1234.5,
            sample_rate_hz: 12_800.0,
            shaft_rpm: Some(1480.0),
            samples: (0..n).map(|i| (i as f32 * 0.1).sin()).collect(),
        }
    }

    #[test]
    fn waveform_round_trips_for_every_id_length_alignment() {
        for id in ["a", "ab", "abc", "P2-DE-V", "Übersetzung-Lager"] {
            let original = block(id, 257);
            let bytes = original.encode();
            assert_eq!(bytes.len() % 4, 0, "samples are 4-byte aligned for {id}");
            assert_eq!(WaveformBlock::decode(&bytes).unwrap(), original);
        }
    }

    #[test]
    fn header_layout_is_as_documented() {
        let bytes = block("M1", 3).encode();
        assert_eq!(&bytes[0..4], b"LTW1");
        assert_eq!(bytes[4], 1);
        assert_eq!(bytes[5], 1);
        assert_eq!(u16::from_le_bytes([bytes[6], bytes[7]]), 2);
        assert_eq!(f64::from_le_bytes(bytes[8..16].try_into().unwrap()), 1234.5);
        assert_eq!(
            f32::from_le_bytes(bytes[16..20].try_into().unwrap()),
            12_800.0
        );
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 3);
        assert_eq!(&bytes[28..30], b"M1");
        assert_eq!(&bytes[30..32], &[0, 0], "padding to a multiple of 4");
        assert_eq!(bytes.len(), 32 + 12);
    }

    #[test]
    fn unknown_speed_is_nan_on_the_wire() {
        let mut b = block("x", 1);
        b.shaft_rpm = None;
        let decoded = WaveformBlock::decode(&b.encode()).unwrap();
        assert_eq!(decoded.shaft_rpm, None);
    }

    #[test]
    fn malformed_binary_frames_are_errors_not_panics() {
        let good = block("P1", 16).encode();
        assert_eq!(
            WaveformBlock::decode(&good[..10]),
            Err(FrameError::TooShort(10))
        );
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(WaveformBlock::decode(&bad), Err(FrameError::BadMagic));
        let mut bad = good.clone();
        bad[4] = 9;
        assert_eq!(
            WaveformBlock::decode(&bad),
            Err(FrameError::UnsupportedVersion(9))
        );
        let mut bad = good.clone();
        bad[5] = 2;
        assert_eq!(
            WaveformBlock::decode(&bad),
            Err(FrameError::UnsupportedFormat(2))
        );
        assert!(matches!(
            WaveformBlock::decode(&good[..good.len() - 1]),
            Err(FrameError::LengthMismatch { .. })
        ));
        let mut bad = good.clone();
        bad[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(
            WaveformBlock::decode(&bad),
            Err(FrameError::TooManySamples(_))
        ));
        let mut bad = good.clone();
        bad[16..20].copy_from_slice(&(-5.0f32).to_le_bytes());
        assert!(matches!(
            WaveformBlock::decode(&bad),
            Err(FrameError::BadSampleRate(_))
        ));
        let mut bad = good.clone();
        bad[28] = 0xFF;
        assert_eq!(WaveformBlock::decode(&bad), Err(FrameError::SensorIdUtf8));
        let mut bad = good;
        bad[6..8].copy_from_slice(&0u16.to_le_bytes());
        assert_eq!(
            WaveformBlock::decode(&bad),
            Err(FrameError::SensorIdLength(0))
        );
    }

    #[test]
    fn truncations_and_bit_flips_never_panic() {
        let good = block("FAN-1-NDE", 64).encode();
        for cut in 0..good.len() {
            let _ = WaveformBlock::decode(&good[..cut]);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            let mut frame = good.clone();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % frame.len();
            frame[at] ^= (state >> 20) as u8 | 1;
            let _ = WaveformBlock::decode(&frame);
        }
    }

    /// Found by the browser test: the gateway's baseline reached the page
    /// one ulp off, because serde_json's default float parser is not
    /// always correctly rounded. Every number a message carries must come
    /// back as the same f64, in the browser and in the gateway alike.
    #[test]
    fn numbers_come_back_bit_for_bit() {
        let mut rng = crate::rng::SplitMix64::new(20_261_204);
        for _ in 0..200_000 {
            let mantissa = rng.uniform();
            let exponent = (rng.next_u64() % 40) as i32 - 20;
            let value = mantissa * 10f64.powi(exponent);
            let message = TextMessage::Readings {
                t: value,
                values: vec![Reading {
                    sensor: "P1-T".into(),
                    value,
                }],
            };
            let Ok(TextMessage::Readings { t, .. }) = TextMessage::from_json(&message.to_json())
            else {
                panic!("{value} does not read back");
            };
            assert_eq!(t.to_bits(), value.to_bits(), "{value} came back as {t}");
        }
    }

    #[test]
    fn text_messages_round_trip() {
        let messages = [
            TextMessage::hello("bottling-1", Clock::Simulated, 10.0),
            TextMessage::Readings {
                t: 12.5,
                values: vec![Reading {
                    sensor: "M1-T".into(),
                    value: 48.25,
                }],
            },
            TextMessage::Notice {
                level: NoticeLevel::Warning,
                message: "lagging".into(),
            },
            TextMessage::Offline {
                t: 1_700_000_000.25,
                sensors: vec!["M1-T".into(), "M1-V".into()],
                reason: "node press-1 offline".into(),
            },
            TextMessage::Acknowledged {
                alarm: 2_251_808_403_621_352,
                by: "maria".into(),
                at_unix_s: 1_796_215_845.5,
            },
            TextMessage::Baseline {
                sensor: "P1-DE-V".into(),
                t: 1_796_215_845.0,
                value_mm_s: Some(1.25),
                by: None,
            },
            TextMessage::Baseline {
                sensor: "P1-DE-V".into(),
                t: 1_796_215_900.0,
                value_mm_s: None,
                by: Some("maria".into()),
            },
        ];
        for message in messages {
            assert_eq!(TextMessage::from_json(&message.to_json()).unwrap(), message);
        }
    }

    #[test]
    fn readings_json_is_as_documented() {
        let text = r#"{"type":"readings","t":3.0,"values":[{"sensor":"P1-T","value":41.5}]}"#;
        let TextMessage::Readings { t, values } = TextMessage::from_json(text).unwrap() else {
            panic!("not readings");
        };
        assert_eq!(t, 3.0);
        assert_eq!(values[0].sensor, "P1-T");
    }

    #[test]
    fn malformed_text_frames_are_errors() {
        for text in [
            "",
            "not json",
            "{}",
            r#"{"type":"teleport"}"#,
            r#"{"type":"readings","t":"soon","values":[]}"#,
            r#"{"type":"readings","t":1,"values":[{"sensor":"x"}]}"#,
        ] {
            assert!(
                matches!(TextMessage::from_json(text), Err(FrameError::Json(_))),
                "{text}"
            );
        }
        let future = r#"{"type":"hello","protocol":4,"line_id":"l","server":"s","clock":"unix","time_scale":1}"#;
        assert_eq!(TextMessage::from_json(future), Err(FrameError::Version(4)));
        let unversioned = r#"{"type":"hello","protocol":0,"line_id":"l","server":"s","clock":"unix","time_scale":1}"#;
        assert_eq!(
            TextMessage::from_json(unversioned),
            Err(FrameError::Version(0))
        );
    }

    #[test]
    fn a_version_1_hello_is_still_read() {
        let old = r#"{"type":"hello","protocol":1,"line_id":"l","server":"s","clock":"unix","time_scale":1}"#;
        assert!(matches!(
            TextMessage::from_json(old),
            Ok(TextMessage::Hello { protocol: 1, .. })
        ));
    }

    #[test]
    fn offline_json_is_as_documented() {
        let text = r#"{"type":"offline","t":5.5,"sensors":["P1-V"],"reason":"node n1 offline"}"#;
        let TextMessage::Offline { t, sensors, reason } = TextMessage::from_json(text).unwrap()
        else {
            panic!("not offline");
        };
        assert_eq!(
            (t, sensors, reason.as_str()),
            (5.5, vec!["P1-V".to_owned()], "node n1 offline")
        );
    }
}
