//! The recorder in the gateway: every frame broadcast to viewers is also
//! written to MCAP (`crates/recorder`), on a thread of its own. Live traffic
//! never waits for the disk: the recorder listens like one more viewer, and
//! when it falls behind it loses frames (counted and logged), viewers none.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use linetwin_recorder::{FrameKind, RecordedFrame, Recorder, RecorderConfig};
use tokio::sync::broadcast::error::RecvError;

use crate::hub::Frame;
use crate::state::AppState;

/// Frames waiting for the disk before the recorder starts losing them:
/// a few seconds of the demo line.
const QUEUE: usize = 4096;

/// The running recorder. [`Recording::finish`] gives the file its index;
/// dropped without it, the recorder stops and the file stays readable up to
/// its last chunk.
pub(crate) struct Recording {
    forward: tokio::task::JoinHandle<()>,
    writer: Option<JoinHandle<()>>,
}

impl Recording {
    /// Stops listening, lets the writer drain its queue and finish the file.
    pub(crate) async fn finish(mut self) {
        // Ending the forwarder drops the queue's sender, which ends the writer.
        self.forward.abort();
        let _ = (&mut self.forward).await;
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Starts recording; an unusable folder is an error the operator sees at once.
pub(crate) fn spawn(state: AppState, config: RecorderConfig) -> anyhow::Result<Recording> {
    let line_json = serde_json::to_string(&state.line).unwrap_or_default();
    let dir = config.dir.display().to_string();
    let mut recorder = Recorder::open(config, line_json)?;
    let (queue, from_queue) = sync_channel::<RecordedFrame>(QUEUE);
    // The stream's hello first, so a replay knows the clock it was on.
    let hello = RecordedFrame {
        wall_ns: wall_ns(),
        kind: FrameKind::Text,
        bytes: state.hello().to_json().into_bytes(),
    };
    recorder.record(&hello)?;
    tracing::info!("recording every frame to {dir}");
    let writer = std::thread::Builder::new()
        .name("recorder".into())
        .spawn(move || {
            let mut failed = false;
            for frame in from_queue {
                if let Err(error) = recorder.record(&frame)
                    && !failed
                {
                    tracing::error!("recording stopped: {error}");
                    failed = true;
                }
            }
            if let Err(error) = recorder.close() {
                tracing::error!("cannot finish the recording: {error}");
            }
        })?;
    let frames = state.subscribe();
    let forward = tokio::spawn(forward(frames, queue));
    Ok(Recording {
        forward,
        writer: Some(writer),
    })
}

async fn forward(
    mut frames: tokio::sync::broadcast::Receiver<Frame>,
    queue: SyncSender<RecordedFrame>,
) {
    let mut lost: u64 = 0;
    loop {
        let frame = match frames.recv().await {
            Ok(frame) => frame,
            Err(RecvError::Lagged(n)) => {
                lost += n;
                tracing::warn!("the recorder fell behind: {lost} frames not recorded so far");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let (kind, bytes) = match frame {
            Frame::Text(text) => (FrameKind::Text, text.as_bytes().to_vec()),
            Frame::Binary(bytes) => (FrameKind::Binary, bytes.to_vec()),
        };
        match queue.try_send(RecordedFrame {
            wall_ns: wall_ns(),
            kind,
            bytes,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                lost += 1;
                if lost.is_power_of_two() {
                    tracing::warn!(
                        "the disk is slower than the stream: {lost} frames not recorded so far"
                    );
                }
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}
