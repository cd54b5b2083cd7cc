//! Plays a recording back as if live (`--replay FILE`): the frames as they
//! were sent, paced by the wall times they were recorded at (divided by the
//! speed-up), from a chosen data time on. The hello says it is a replay.

use std::time::Duration;

use axum::body::Bytes;
use linetwin_core::protocol::{NoticeLevel, TextMessage};
use linetwin_recorder::FrameKind;
use tokio::task::JoinHandle;

use crate::ReplayConfig;
use crate::hub::Frame;
use crate::ingest::{Incoming, admit};
use crate::source::Source;
use crate::state::AppState;

/// Stops the playback when dropped, so it ends with the server.
pub(crate) struct ReplayTask(JoinHandle<()>);

impl Drop for ReplayTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(crate) fn spawn(state: AppState, replay: ReplayConfig) -> ReplayTask {
    ReplayTask(tokio::spawn(play(state, replay)))
}

fn is_hello(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| TextMessage::from_json(text).ok())
        .is_some_and(|m| matches!(m, TextMessage::Hello { .. }))
}

async fn play(state: AppState, replay: ReplayConfig) {
    // A recording played to nobody is lost: wait for the first viewer.
    while !state.has_viewers() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let from_ns = (replay.from_s.max(0.0) * 1e9) as u64;
    let started = tokio::time::Instant::now();
    let mut first_wall: Option<u64> = None;
    let mut sent = 0u64;
    for (data_ns, frame) in replay.frames {
        // The server sends its own hello (marked as a replay) to each viewer.
        if frame.kind == FrameKind::Text && is_hello(&frame.bytes) {
            continue;
        }
        if data_ns < from_ns {
            continue;
        }
        let base = *first_wall.get_or_insert(frame.wall_ns);
        let offset_s = frame.wall_ns.saturating_sub(base) as f64 / 1e9 / replay.speedup;
        tokio::time::sleep_until(started + Duration::from_secs_f64(offset_s)).await;
        let admitted = match frame.kind {
            FrameKind::Text => match std::str::from_utf8(&frame.bytes) {
                Ok(text) => admit(&state, Source::Replay, Incoming::Text(text)),
                Err(_) => continue,
            },
            FrameKind::Binary => admit(
                &state,
                Source::Replay,
                Incoming::Binary(Bytes::from(frame.bytes)),
            ),
        };
        if matches!(admitted, Ok(true)) {
            sent += 1;
        }
    }
    tracing::info!("replay of {} finished: {sent} frames", replay.source);
    state.broadcast(Frame::text(&TextMessage::Notice {
        level: NoticeLevel::Info,
        message: format!("the replay of {} has ended ({sent} frames)", replay.source),
    }));
}
