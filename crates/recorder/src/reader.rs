//! Reading a recording back, including one whose writer never finished.

use std::path::Path;

use mcap::read::Options;

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
    read_recording_bytes(&shown, &bytes)
}

/// [`read_recording`] of a file already in memory; `shown` names it in errors.
pub fn read_recording_bytes(shown: &str, bytes: &[u8]) -> Result<Recording, RecorderError> {
    let shown = shown.to_owned();
    if !bytes.starts_with(mcap::MAGIC) {
        return Err(RecorderError::Format {
            path: shown,
            reason: "not an MCAP recording (it does not start with the MCAP magic bytes)".into(),
        });
    }
    check_chunk_sizes(bytes).map_err(|reason| RecorderError::Format {
        path: shown.clone(),
        reason,
    })?;
    let mut recording = Recording {
        line_json: None,
        frames: Vec::new(),
        truncated: None,
    };
    if let Err(error) = read_messages(bytes, &mut recording) {
        recording.truncated = Some(format!(
            "{shown}: the file ends early ({error}) after {} frames; read up to its last whole chunk (the recorder was stopped before it finished the file)",
            recording.frames.len()
        ));
    }
    Ok(recording)
}

/// A chunk larger than this when decompressed is refused: the recorder
/// writes chunks of about 1 MiB, other tools of a few.
pub const MAX_CHUNK_BYTES: u64 = 32 * 1024 * 1024;
/// No record (a message, a chunk's compressed data) is read beyond this:
/// the largest frame the protocol allows is 16 MiB.
const MAX_RECORD_BYTES: usize = 32 * 1024 * 1024;

/// Every message of the file in order, into `recording`, through MCAP's
/// sans-io reader with a record length limit: mcap's `MessageStream` has
/// none, and allocated whatever length a damaged record inside a chunk
/// claimed (the fuzzer found one that claimed 2.8 × 10¹⁸ bytes).
fn read_messages(bytes: &[u8], recording: &mut Recording) -> Result<(), String> {
    use mcap::records::Record;
    use mcap::sans_io::linear_reader::{LinearReadEvent, LinearReader, LinearReaderOptions};

    let mut reader = LinearReader::new_with_options(
        LinearReaderOptions::default()
            .with_skip_end_magic(true)
            .with_record_length_limit(MAX_RECORD_BYTES),
    );
    let mut rest = bytes;
    // Channel id: (topic, message encoding).
    let mut channels: std::collections::HashMap<u16, (String, String)> = Default::default();
    while let Some(event) = reader.next_event() {
        match event.map_err(|e| e.to_string())? {
            LinearReadEvent::ReadRequest(wanted) => {
                let n = wanted.min(rest.len());
                reader.insert(n).copy_from_slice(&rest[..n]);
                reader.notify_read(n);
                rest = &rest[n..];
            }
            LinearReadEvent::Record { data, opcode } => {
                match mcap::parse_record(opcode, data).map_err(|e| e.to_string())? {
                    Record::Channel(channel) => {
                        channels.insert(channel.id, (channel.topic, channel.message_encoding));
                    }
                    Record::Message { header, data } => {
                        let Some((topic, encoding)) = channels.get(&header.channel_id) else {
                            return Err(format!(
                                "a message on channel {}, which the file never declared",
                                header.channel_id
                            ));
                        };
                        if topic == LINE_TOPIC {
                            recording.line_json = Some(String::from_utf8_lossy(&data).into_owned());
                            continue;
                        }
                        let kind = if encoding == WAVEFORM_ENCODING {
                            FrameKind::Binary
                        } else {
                            FrameKind::Text
                        };
                        recording.frames.push((
                            header.log_time,
                            RecordedFrame {
                                wall_ns: header.publish_time,
                                kind,
                                bytes: data.into_owned(),
                            },
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}
/// LZ4 never expands more than about 255 to 1.
const LZ4_MAX_RATIO: u64 = 255;

/// Every chunk's declared size, before anything is decompressed: the MCAP
/// reader allocates what a chunk header claims, so a forged header (or a
/// damaged file) could ask for exabytes and abort the process.
fn check_chunk_sizes(bytes: &[u8]) -> Result<(), String> {
    let records = mcap::read::LinearReader::new_with_options(bytes, Options::IgnoreEndMagic.into())
        .map_err(|e| format!("not an MCAP recording: {e}"))?;
    for (index, record) in records.enumerate() {
        // A damaged record ends the scan; reading stops there too, and says so.
        let Ok(mcap::records::Record::Chunk { header, .. }) = record else {
            if record.is_err() {
                break;
            }
            continue;
        };
        let claimed = header.uncompressed_size;
        let plausible = match header.compression.as_str() {
            "" => claimed == header.compressed_size,
            "lz4" => claimed <= header.compressed_size.saturating_mul(LZ4_MAX_RATIO) + 1024,
            _ => true, // refused by the reader as an unknown compression
        };
        if claimed > MAX_CHUNK_BYTES || !plausible {
            return Err(format!(
                "record {index} is a chunk that claims {claimed} bytes from {} {} bytes: damaged or forged (at most {MAX_CHUNK_BYTES})",
                header.compressed_size,
                if header.compression.is_empty() {
                    "uncompressed"
                } else {
                    header.compression.as_str()
                },
            ));
        }
    }
    Ok(())
}
