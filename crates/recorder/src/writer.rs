//! Writing: rotation by size and age, retention, periodic flushes.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use linetwin_core::protocol::WaveformBlock;
use mcap::records::MessageHeader;

use crate::{
    FrameKind, JSON_ENCODING, LINE_TOPIC, RecordedFrame, RecorderError, WAVEFORM_ENCODING,
};

#[derive(Debug, Clone, PartialEq)]
pub struct RecorderConfig {
    pub dir: PathBuf,
    /// A file is closed and a new one begun past this size.
    pub max_file_bytes: u64,
    /// ... or past this many wall seconds.
    pub max_file_s: f64,
    /// Files kept; the oldest beyond this are deleted.
    pub keep_files: usize,
    /// Target size of one compressed chunk.
    pub chunk_bytes: u64,
    /// A chunk is written out at least this often (wall seconds), so a
    /// crash loses little even when data is slow.
    pub flush_every_s: f64,
}

impl RecorderConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RecorderConfig {
            dir: dir.into(),
            max_file_bytes: 256 * 1024 * 1024,
            max_file_s: 3600.0,
            keep_files: 48,
            chunk_bytes: 1024 * 1024,
            flush_every_s: 5.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecorderStats {
    pub frames: u64,
    pub files_written: u64,
    pub files_deleted: u64,
}

struct OpenFile {
    path: PathBuf,
    writer: mcap::Writer<BufWriter<File>>,
    channels: BTreeMap<String, u16>,
    opened_wall_ns: u64,
    last_flush_wall_ns: u64,
    bytes: u64,
    sequence: u32,
}

pub struct Recorder {
    config: RecorderConfig,
    line_json: String,
    file: Option<OpenFile>,
    /// Files of this recorder and earlier ones in the folder, oldest first.
    files: VecDeque<PathBuf>,
    last_data_ns: u64,
    /// The stream's latest hello, written at the start of every file so
    /// each file alone tells its clock.
    hello: Option<RecordedFrame>,
    pub stats: RecorderStats,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RecorderError + '_ {
    move |source| RecorderError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn mcap_error(path: &Path, error: mcap::McapError) -> RecorderError {
    RecorderError::Format {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

impl Recorder {
    /// Opens the folder (creating it); earlier recordings there count
    /// toward the retention limit.
    pub fn open(config: RecorderConfig, line_json: String) -> Result<Self, RecorderError> {
        std::fs::create_dir_all(&config.dir).map_err(io_error(&config.dir))?;
        let files = recordings_in(&config.dir)?;
        Ok(Recorder {
            config,
            line_json,
            file: None,
            files: files.into(),
            last_data_ns: 0,
            hello: None,
            stats: RecorderStats::default(),
        })
    }

    pub fn current_file(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    pub fn record(&mut self, frame: &RecordedFrame) -> Result<(), RecorderError> {
        let due = self.file.as_ref().is_some_and(|f| {
            f.bytes >= self.config.max_file_bytes
                || (frame.wall_ns.saturating_sub(f.opened_wall_ns)) as f64 / 1e9
                    >= self.config.max_file_s
        });
        if due {
            self.close()?;
        }
        let (topic, encoding, data_ns) = classify(frame, &mut self.last_data_ns);
        let is_hello = topic == "/hello";
        if self.file.is_none() {
            self.begin(frame.wall_ns, is_hello)?;
        }
        if is_hello {
            self.hello = Some(frame.clone());
        }
        let file = self.file.as_mut().expect("opened above");
        let path = file.path.clone();
        let channel = match file.channels.get(&topic) {
            Some(id) => *id,
            None => {
                let id = file
                    .writer
                    .add_channel(0, &topic, encoding, &BTreeMap::new())
                    .map_err(|e| mcap_error(&path, e))?;
                file.channels.insert(topic, id);
                id
            }
        };
        file.sequence = file.sequence.wrapping_add(1);
        file.writer
            .write_to_known_channel(
                &MessageHeader {
                    channel_id: channel,
                    sequence: file.sequence,
                    log_time: data_ns,
                    publish_time: frame.wall_ns,
                },
                &frame.bytes,
            )
            .map_err(|e| mcap_error(&path, e))?;
        file.bytes += frame.bytes.len() as u64 + 32;
        if (frame.wall_ns.saturating_sub(file.last_flush_wall_ns)) as f64 / 1e9
            >= self.config.flush_every_s
        {
            file.writer.flush().map_err(|e| mcap_error(&path, e))?;
            file.last_flush_wall_ns = frame.wall_ns;
        }
        self.stats.frames += 1;
        Ok(())
    }

    /// Finishes the open file (summary and index written).
    pub fn close(&mut self) -> Result<(), RecorderError> {
        if let Some(mut file) = self.file.take() {
            file.writer
                .finish()
                .map_err(|e| mcap_error(&file.path, e))?;
            self.stats.files_written += 1;
            self.enforce_retention()?;
        }
        Ok(())
    }

    fn begin(&mut self, wall_ns: u64, hello_follows: bool) -> Result<(), RecorderError> {
        let name = format!(
            "linetwin-{:013}-{:04}.mcap",
            wall_ns / 1_000_000,
            self.stats.files_written % 10_000
        );
        let path = self.config.dir.join(name);
        let out = File::create(&path).map_err(io_error(&path))?;
        let mut writer = mcap::WriteOptions::new()
            .compression(Some(mcap::Compression::Lz4))
            .chunk_size(Some(self.config.chunk_bytes))
            .profile("linetwin")
            .create(BufWriter::new(out))
            .map_err(|e| mcap_error(&path, e))?;
        let line = self.line_json.as_bytes();
        writer
            .attach(&mcap::Attachment {
                log_time: self.last_data_ns,
                create_time: wall_ns,
                name: "line.json".into(),
                media_type: "application/json".into(),
                data: std::borrow::Cow::Borrowed(line),
            })
            .map_err(|e| mcap_error(&path, e))?;
        let line_channel = writer
            .add_channel(0, LINE_TOPIC, JSON_ENCODING, &BTreeMap::new())
            .map_err(|e| mcap_error(&path, e))?;
        writer
            .write_to_known_channel(
                &MessageHeader {
                    channel_id: line_channel,
                    sequence: 0,
                    log_time: self.last_data_ns,
                    publish_time: wall_ns,
                },
                line,
            )
            .map_err(|e| mcap_error(&path, e))?;
        let mut channels = BTreeMap::from([(LINE_TOPIC.to_owned(), line_channel)]);
        let mut sequence = 0;
        if let Some(hello) = self.hello.as_ref().filter(|_| !hello_follows) {
            let id = writer
                .add_channel(0, "/hello", JSON_ENCODING, &BTreeMap::new())
                .map_err(|e| mcap_error(&path, e))?;
            channels.insert("/hello".to_owned(), id);
            sequence += 1;
            writer
                .write_to_known_channel(
                    &MessageHeader {
                        channel_id: id,
                        sequence,
                        log_time: self.last_data_ns,
                        publish_time: wall_ns,
                    },
                    &hello.bytes,
                )
                .map_err(|e| mcap_error(&path, e))?;
        }
        self.files.push_back(path.clone());
        self.file = Some(OpenFile {
            path,
            writer,
            channels,
            opened_wall_ns: wall_ns,
            last_flush_wall_ns: wall_ns,
            bytes: line.len() as u64,
            sequence,
        });
        self.enforce_retention()
    }

    fn enforce_retention(&mut self) -> Result<(), RecorderError> {
        while self.files.len() > self.config.keep_files.max(1) {
            let Some(oldest) = self.files.pop_front() else {
                break;
            };
            if self.current_file() == Some(oldest.as_path()) {
                self.files.push_front(oldest);
                break;
            }
            match std::fs::remove_file(&oldest) {
                Ok(()) => self.stats.files_deleted += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&oldest)(e)),
            }
        }
        Ok(())
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Best effort: a finished file has its index; an unfinished one is
        // still readable up to its last chunk.
        let _ = self.close();
    }
}

fn is_recording(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("linetwin-") && n.ends_with(".mcap"))
}

/// The channel of a frame and its data time (ns); frames without a time of
/// their own (hello, notices) take the latest one, kept in `last_data_ns`.
pub(crate) fn classify(
    frame: &RecordedFrame,
    last_data_ns: &mut u64,
) -> (String, &'static str, u64) {
    let to_ns = |t: f64| {
        if t.is_finite() && t > 0.0 {
            (t * 1e9) as u64
        } else {
            0
        }
    };
    match frame.kind {
        FrameKind::Binary => match WaveformBlock::decode(&frame.bytes) {
            Ok(block) => {
                *last_data_ns = to_ns(block.t_start);
                (
                    format!("/waveform/{}", block.sensor),
                    WAVEFORM_ENCODING,
                    *last_data_ns,
                )
            }
            Err(_) => ("/waveform".to_owned(), WAVEFORM_ENCODING, *last_data_ns),
        },
        FrameKind::Text => {
            let value: serde_json::Value =
                serde_json::from_slice(&frame.bytes).unwrap_or(serde_json::Value::Null);
            let kind = value["type"].as_str().unwrap_or("text");
            if let Some(t) = value["t"].as_f64() {
                *last_data_ns = to_ns(t);
            }
            let topic = match kind {
                "hello" | "readings" | "notice" => format!("/{kind}"),
                _ => "/text".to_owned(),
            };
            (topic, JSON_ENCODING, *last_data_ns)
        }
    }
}

/// The frames of `files` whose data time lies in `[from_ns, to_ns]`, as
/// one MCAP file in memory (with the line, and the stream's hello first so
/// a replay of it knows its clock). Files cut short count up to their last
/// whole chunk.
pub fn export_range(
    files: &[PathBuf],
    from_ns: u64,
    to_ns: u64,
    line_json: &str,
) -> Result<Vec<u8>, RecorderError> {
    let label = Path::new("export");
    let mut writer = mcap::WriteOptions::new()
        .compression(Some(mcap::Compression::Lz4))
        .profile("linetwin")
        .create(std::io::Cursor::new(Vec::new()))
        .map_err(|e| mcap_error(label, e))?;
    let mut channels: BTreeMap<String, u16> = BTreeMap::new();
    let mut sequence = 0u32;
    let mut write = |writer: &mut mcap::Writer<std::io::Cursor<Vec<u8>>>,
                     topic: String,
                     encoding: &str,
                     data_ns: u64,
                     wall_ns: u64,
                     bytes: &[u8]|
     -> Result<(), RecorderError> {
        let channel = match channels.get(&topic) {
            Some(id) => *id,
            None => {
                let id = writer
                    .add_channel(0, &topic, encoding, &BTreeMap::new())
                    .map_err(|e| mcap_error(label, e))?;
                channels.insert(topic, id);
                id
            }
        };
        sequence = sequence.wrapping_add(1);
        writer
            .write_to_known_channel(
                &MessageHeader {
                    channel_id: channel,
                    sequence,
                    log_time: data_ns,
                    publish_time: wall_ns,
                },
                bytes,
            )
            .map_err(|e| mcap_error(label, e))
    };
    write(
        &mut writer,
        LINE_TOPIC.to_owned(),
        JSON_ENCODING,
        from_ns,
        0,
        line_json.as_bytes(),
    )?;
    let mut hello_written = false;
    for file in files {
        let recording = crate::reader::read_recording(file)?;
        let mut last = 0u64;
        for (data_ns, frame) in &recording.frames {
            let (topic, encoding, _) = classify(frame, &mut last);
            let is_hello = topic == "/hello";
            if is_hello && !hello_written {
                write(
                    &mut writer,
                    topic,
                    encoding,
                    from_ns,
                    frame.wall_ns,
                    &frame.bytes,
                )?;
                hello_written = true;
                continue;
            }
            if is_hello || *data_ns < from_ns || *data_ns > to_ns {
                continue;
            }
            write(
                &mut writer,
                topic,
                encoding,
                *data_ns,
                frame.wall_ns,
                &frame.bytes,
            )?;
        }
    }
    writer.finish().map_err(|e| mcap_error(label, e))?;
    Ok(writer.into_inner().into_inner())
}

/// The recordings in a folder, oldest first.
pub fn recordings_in(dir: &Path) -> Result<Vec<PathBuf>, RecorderError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_error(dir))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| is_recording(path))
        .collect();
    files.sort();
    Ok(files)
}
