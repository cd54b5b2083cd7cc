//! linetwin-recorder: every frame the gateway forwards, kept in MCAP files
//! that other tools (Foxglove, the `mcap` CLI) open.
//!
//! - One channel per message kind (`/hello`, `/readings`, `/notice`) and one
//!   per vibration sensor (`/waveform/<sensor>`); the frames are stored as
//!   they went on the wire (JSON text, protocol v1 binary blocks), so a
//!   replay sends exactly what was sent.
//! - `log_time` is the frame's data time (`t`, `t_start`) in nanoseconds,
//!   `publish_time` the wall clock when it was recorded (replay paces by it).
//! - Each file starts with the line description on `/line` (and as an
//!   attachment for other tools).
//! - LZ4 chunks of about 1 MiB, flushed at least every few seconds, so a
//!   crash loses at most the last chunk; files rotate by size or age and
//!   only the newest `keep_files` are kept.

mod reader;
mod writer;

pub use reader::{Recording, read_recording, read_recording_bytes};
pub use writer::{Recorder, RecorderConfig, RecorderStats, export_range, recordings_in};

/// A frame as it went on the wire, with the wall time it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedFrame {
    pub wall_ns: u64,
    pub kind: FrameKind,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    Text,
    Binary,
}

#[derive(Debug, thiserror::Error)]
pub enum RecorderError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
}

/// Message encodings of the channels.
pub const JSON_ENCODING: &str = "json";
pub const WAVEFORM_ENCODING: &str = "linetwin.waveform.v1";
pub const LINE_TOPIC: &str = "/line";
