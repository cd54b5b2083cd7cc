//! The recorder on the demo line's real frames: what goes in comes back in
//! order, files rotate and old ones go, and a file cut short is read up to
//! its last whole chunk with a message that says so.

use std::path::PathBuf;

use linetwin_core::line::Line;
use linetwin_core::protocol::{Clock, TextMessage};
use linetwin_core::sim::Simulator;
use linetwin_recorder::{FrameKind, RecordedFrame, Recorder, RecorderConfig, read_recording};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("linetwin-recorder-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Hello, then `seconds` of the simulator: readings every second, every
/// waveform every 2 s, with wall times one second apart.
fn frames(seconds: usize) -> Vec<RecordedFrame> {
    let line =
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap();
    let sim = Simulator::new(&line, 5);
    let mut out = vec![RecordedFrame {
        wall_ns: 1_000_000_000,
        kind: FrameKind::Text,
        bytes: TextMessage::hello(&line.id, Clock::Simulated, 1.0)
            .to_json()
            .into_bytes(),
    }];
    for s in 0..seconds {
        let wall_ns = (s as u64 + 1) * 1_000_000_000;
        let t = s as f64;
        out.push(RecordedFrame {
            wall_ns,
            kind: FrameKind::Text,
            bytes: TextMessage::Readings {
                t,
                values: sim.readings(t),
            }
            .to_json()
            .into_bytes(),
        });
        if s % 2 == 0 {
            for block in sim.waveforms(t) {
                out.push(RecordedFrame {
                    wall_ns,
                    kind: FrameKind::Binary,
                    bytes: block.encode(),
                });
            }
        }
    }
    out
}

fn recordings(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mcap"))
        .collect();
    files.sort();
    files
}

#[test]
fn frames_come_back_in_order_with_their_data_times_and_the_line() {
    let dir = scratch("round-trip");
    let input = frames(10);
    let mut recorder =
        Recorder::open(RecorderConfig::new(&dir), "{\"id\":\"demo\"}".into()).unwrap();
    for frame in &input {
        recorder.record(frame).unwrap();
    }
    recorder.close().unwrap();
    let files = recordings(&dir);
    assert_eq!(files.len(), 1);
    let recording = read_recording(&files[0]).unwrap();
    assert_eq!(recording.truncated, None);
    assert_eq!(recording.line_json.as_deref(), Some("{\"id\":\"demo\"}"));
    let back: Vec<RecordedFrame> = recording.frames.iter().map(|(_, f)| f.clone()).collect();
    assert_eq!(back, input, "every frame, byte for byte, in order");
    // Readings at t = 4 s carry 4e9 ns as their data time.
    let at_four = recording
        .frames
        .iter()
        .find(|(_, f)| f.kind == FrameKind::Text && f.wall_ns == 5_000_000_000)
        .unwrap();
    assert_eq!(at_four.0, 4_000_000_000);
}

#[test]
fn files_rotate_by_size_and_only_the_newest_are_kept() {
    let dir = scratch("rotation");
    let config = RecorderConfig {
        max_file_bytes: 2 * 1024 * 1024,
        keep_files: 3,
        chunk_bytes: 256 * 1024,
        ..RecorderConfig::new(&dir)
    };
    let input = frames(60);
    let mut recorder = Recorder::open(config, "{}".into()).unwrap();
    for frame in &input {
        recorder.record(frame).unwrap();
    }
    recorder.close().unwrap();
    let files = recordings(&dir);
    assert_eq!(files.len(), 3, "retention keeps three: {files:?}");
    assert!(recorder.stats.files_written > 3, "{:?}", recorder.stats);
    assert_eq!(
        recorder.stats.files_deleted,
        recorder.stats.files_written - 3
    );
    for file in &files {
        let hello = read_recording(file).unwrap().frames[0].1.clone();
        assert!(
            String::from_utf8_lossy(&hello.bytes).contains("\"hello\""),
            "every file starts with the stream's hello, so it alone tells its clock"
        );
        let size = std::fs::metadata(file).unwrap().len();
        assert!(size < 3 * 1024 * 1024, "{} is {size} bytes", file.display());
        let recording = read_recording(file).unwrap();
        assert!(recording.line_json.is_some(), "every file carries the line");
        assert_eq!(recording.truncated, None);
    }
    // The kept files are the newest: the last frame is in the last one.
    let last = read_recording(files.last().unwrap()).unwrap();
    assert_eq!(last.frames.last().unwrap().1, *input.last().unwrap());

    // A time range across the files, as one file another tool can open.
    let bytes =
        linetwin_recorder::export_range(&files, 52_000_000_000, 58_000_000_000, "{}").unwrap();
    let exported = dir.join("export.mcap");
    std::fs::write(&exported, bytes).unwrap();
    let range = read_recording(&exported).unwrap();
    assert_eq!(range.truncated, None);
    assert!(String::from_utf8_lossy(&range.frames[0].1.bytes).contains("\"hello\""));
    let times: Vec<u64> = range.frames.iter().skip(1).map(|(t, _)| *t).collect();
    assert!(!times.is_empty());
    assert!(
        times
            .iter()
            .all(|t| (52_000_000_000..=58_000_000_000).contains(t)),
        "{times:?}"
    );
    let expected = input
        .iter()
        .filter(|f| {
            (53_000_000_000..=59_000_000_000).contains(&f.wall_ns)
                && !String::from_utf8_lossy(&f.bytes).contains("\"hello\"")
        })
        .count();
    assert_eq!(
        times.len(),
        expected,
        "every frame of t = 52..58 s (kept in the newest files), no other"
    );
}

#[test]
fn a_file_cut_short_is_read_to_its_last_whole_chunk_and_says_so() {
    let dir = scratch("truncated");
    let config = RecorderConfig {
        chunk_bytes: 128 * 1024,
        ..RecorderConfig::new(&dir)
    };
    let input = frames(20);
    let mut recorder = Recorder::open(config, "{}".into()).unwrap();
    for frame in &input {
        recorder.record(frame).unwrap();
    }
    recorder.close().unwrap();
    let file = recordings(&dir).remove(0);
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.join("linetwin-cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let recording = read_recording(&cut).unwrap();
    let reason = recording.truncated.expect("a truncated file says so");
    assert!(
        reason.contains("linetwin-cut.mcap") && reason.contains("last whole chunk"),
        "{reason}"
    );
    let n = recording.frames.len();
    assert!(n > 0 && n < input.len(), "{n} of {}", input.len());
    let back: Vec<RecordedFrame> = recording.frames.into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        back,
        input[..n],
        "what was read is exactly the start of what was written"
    );

    std::fs::write(dir.join("not.mcap"), b"hello").unwrap();
    let error = read_recording(&dir.join("not.mcap")).unwrap_err();
    assert!(error.to_string().contains("not.mcap"), "{error}");
}

/// Found by `cargo xtask fuzz`: the MCAP reader allocates what a chunk
/// header claims, so a forged size aborted the gateway on `--replay`.
#[test]
fn a_chunk_that_claims_an_impossible_size_is_refused_before_it_is_read() {
    let dir = scratch("forged");
    let mut recorder = Recorder::open(RecorderConfig::new(&dir), "{}".into()).unwrap();
    for frame in &frames(4) {
        recorder.record(frame).unwrap();
    }
    recorder.close().unwrap();
    let file = recordings(&dir).remove(0);
    let mut bytes = std::fs::read(&file).unwrap();
    // Records after the 8 magic bytes: an opcode, a u64 length, the body.
    // A chunk (opcode 6) starts with two u64 times, then its uncompressed size.
    let mut at = 8;
    while bytes[at] != 0x06 {
        let len = u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap());
        at += 9 + len as usize;
    }
    let size_field = at + 9 + 16;
    bytes[size_field..size_field + 8].copy_from_slice(&0x3a22_0000_0000_0000u64.to_le_bytes());
    let forged = dir.join("forged.mcap");
    std::fs::write(&forged, &bytes).unwrap();
    let error = read_recording(&forged).unwrap_err().to_string();
    assert!(
        error.contains("forged.mcap") && error.contains("claims"),
        "{error}"
    );
    // The same file with its true size still reads.
    assert!(read_recording(&file).unwrap().frames.len() > 4);
}

/// Found by `cargo xtask fuzz`, second: a record inside a chunk that
/// claims an impossible length aborted the reader (mcap's own message
/// stream allocated it). Reading stops there and says so.
#[test]
fn a_record_that_claims_an_impossible_length_ends_the_reading_there() {
    let dir = scratch("forged-record");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("uncompressed.mcap");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut writer = mcap::WriteOptions::new()
            .compression(None)
            .create(file)
            .unwrap();
        let channel = writer
            .add_channel(0, "linetwin/readings", "json", &Default::default())
            .unwrap();
        for k in 0..3u64 {
            let header = mcap::records::MessageHeader {
                channel_id: channel,
                sequence: k as u32,
                log_time: k,
                publish_time: k,
            };
            writer
                .write_to_known_channel(&header, br#"{"type":"readings","t":1,"values":[]}"#)
                .unwrap();
        }
        writer.finish().unwrap();
    }
    assert_eq!(read_recording(&path).unwrap().frames.len(), 3);
    let mut bytes = std::fs::read(&path).unwrap();
    let record_len = |bytes: &[u8], at: usize| {
        u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize
    };
    let mut at = 8;
    while bytes[at] != 0x06 {
        at += 9 + record_len(&bytes, at);
    }
    // The chunk's body: three u64 and a u32, the (empty) compression name, the records' length.
    let compression_len =
        u32::from_le_bytes(bytes[at + 9 + 28..at + 9 + 32].try_into().unwrap()) as usize;
    let mut inner = at + 9 + 32 + compression_len + 8;
    while bytes[inner] != 0x05 {
        inner += 9 + record_len(&bytes, inner);
    }
    bytes[inner + 1..inner + 9].copy_from_slice(&0x2720_0000_0000_0000u64.to_le_bytes());
    let forged = dir.join("forged-record.mcap");
    std::fs::write(&forged, &bytes).unwrap();
    let recording = read_recording(&forged).expect("read up to the damage");
    assert!(recording.frames.len() < 3);
    let reason = recording.truncated.expect("says where it stopped");
    assert!(reason.contains("forged-record.mcap"), "{reason}");
}
