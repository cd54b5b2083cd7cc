//! Reading a recording back, including one whose writer never finished.

use std::path::Path;

use mcap::read::{MessageStream, Options};

use crate::{FrameKind, LINE_TOPIC, RecordedFrame, RecorderError, WAVEFORM_ENCODING};

#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The line description the file was recorded with.
    pub line_json: Option<String>,
    /// Frames in the order they were recorded, with their data times (ns).
    pub frames: Vec<(u64, RecordedFrame)>,
    /// Why the file ended early, when it did (it is read up to its last
    /// whole chunk).
    pub truncated: Option<String>,
}

/// Reads every frame of one MCAP file written by [`crate::Recorder`].
pub fn read_recording(path: &Path) -> Result<Recording, RecorderError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RecorderError::Io {
        path: shown.clone(),
        source,
    })?;
    if !bytes.starts_with(mcap::MAGIC) {
        return Err(RecorderError::Format {
            path: shown,
            reason: "not an MCAP recording (it does not start with the MCAP magic bytes)".into(),
        });
    }
    let stream =
        MessageStream::new_with_options(&bytes, Options::IgnoreEndMagic.into()).map_err(|e| {
            RecorderError::Format {
                path: shown.clone(),
                reason: format!("not an MCAP recording: {e}"),
            }
        })?;
    let mut recording = Recording {
        line_json: None,
        frames: Vec::new(),
        truncated: None,
    };
    for message in stream {
        match message {
            Ok(message) => {
                if message.channel.topic == LINE_TOPIC {
                    recording.line_json = Some(String::from_utf8_lossy(&message.data).into_owned());
                    continue;
                }
                let kind = if message.channel.message_encoding == WAVEFORM_ENCODING {
                    FrameKind::Binary
                } else {
                    FrameKind::Text
                };
                recording.frames.push((
                    message.log_time,
                    RecordedFrame {
                        wall_ns: message.publish_time,
                        kind,
                        bytes: message.data.into_owned(),
                    },
                ));
            }
            Err(error) => {
                recording.truncated = Some(format!(
                    "{shown}: the file ends early ({error}) after {} frames; read up to its last whole chunk (the recorder was stopped before it finished the file)",
                    recording.frames.len()
                ));
                break;
            }
        }
    }
    Ok(recording)
}
