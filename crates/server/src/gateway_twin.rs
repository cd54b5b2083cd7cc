//! The gateway's own twin: the same `crates/twin` and the same diagnosis
//! the browser runs, fed every frame the gateway forwards, on a thread of
//! its own. Alarms, the work orders they raise and the alarm record exist
//! whether or not a browser is open; a viewer keeps diagnosing by itself
//! for its colours and plots, on the same frames with the same code.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use linetwin_core::diagnosis::Diagnoser;
use linetwin_core::line::Line;
use linetwin_core::protocol::{Clock, TextMessage, WaveformBlock};
use linetwin_jobs::DiagnoseJob;
use linetwin_twin::{BlockFinding, Twin, TwinConfig, TwinEvent};

use crate::hub::Frame;

/// Frames waiting for the twin; beyond this it has fallen behind, and
/// frames are counted as dropped rather than held without limit.
const QUEUE: usize = 4096;
/// How often the twin hears of silence (for staleness) when no data comes.
const SILENCE_TICK: Duration = Duration::from_secs(1);

pub struct GatewayTwin {
    line: Line,
    twin: Twin,
    diagnoser: Diagnoser,
    pub frames: u64,
}

impl GatewayTwin {
    pub fn new(line: &Line, clock: Clock, time_scale: f64) -> Self {
        let mut twin = Twin::new(line, TwinConfig::default());
        twin.hello(clock, time_scale);
        GatewayTwin {
            line: line.clone(),
            twin,
            diagnoser: Diagnoser::new(),
            frames: 0,
        }
    }

    pub fn twin(&self) -> &Twin {
        &self.twin
    }

    pub fn line(&self) -> &Line {
        &self.line
    }

    /// Feeds one forwarded frame; returns what changed.
    pub(crate) fn feed(&mut self, frame: &Frame) -> Vec<TwinEvent> {
        self.frames += 1;
        match frame {
            Frame::Text(text) => match TextMessage::from_json(text.as_str()) {
                Ok(TextMessage::Readings { t, values }) => self.twin.readings(t, &values),
                Ok(TextMessage::Offline { t, sensors, reason }) => {
                    self.twin.offline(t, &sensors, &reason)
                }
                Ok(TextMessage::Acknowledged { alarm, by, .. }) => self
                    .twin
                    .acknowledge_recorded(alarm, &by)
                    .into_iter()
                    .collect(),
                Ok(TextMessage::Hello {
                    clock, time_scale, ..
                }) => {
                    self.twin.hello(clock, time_scale);
                    Vec::new()
                }
                _ => Vec::new(),
            },
            Frame::Binary(bytes) => match WaveformBlock::decode(bytes) {
                Ok(block) => self.block(&block),
                Err(_) => Vec::new(), // the ingest checks let only valid frames through
            },
        }
    }

    /// Diagnoses a block as the browser's worker does, then hands it to the twin.
    pub fn block(&mut self, block: &WaveformBlock) -> Vec<TwinEvent> {
        let Some((asset, sensor)) = self.line.sensor(&block.sensor) else {
            return Vec::new();
        };
        let job = DiagnoseJob::for_block(block, asset, sensor);
        let Some(ticket) = self.twin.block_received(&block.sensor, block.t_start) else {
            return Vec::new();
        };
        match job {
            Ok(job) => {
                let result = job.run(&mut self.diagnoser, &block.samples);
                let finding = BlockFinding {
                    sensor: block.sensor.clone(),
                    t_start: block.t_start,
                    duration_s: job.duration_s(block.samples.len()),
                    shaft_rpm: job.shaft_rpm,
                    diagnosis: Arc::new(result.diagnosis),
                };
                self.twin.block_diagnosed(ticket, finding)
            }
            Err(problem) => {
                let duration_s = block.samples.len() as f64 / f64::from(block.sample_rate_hz);
                self.twin
                    .block_failed(ticket, &block.sensor, duration_s, problem)
            }
        }
    }

    pub fn silent_for(&mut self, wall_s: f64) -> Vec<TwinEvent> {
        self.twin.silent_for(wall_s)
    }
}

/// The twin as the rest of the gateway shares it.
pub(crate) type SharedTwin = Arc<Mutex<GatewayTwin>>;

pub(crate) fn lock(twin: &SharedTwin) -> std::sync::MutexGuard<'_, GatewayTwin> {
    twin.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where the ingest path hands frames to the twin.
pub(crate) struct TwinFeed {
    sender: SyncSender<Frame>,
    /// Frames the twin had no room for (counted here, so that a full queue
    /// never waits for the twin's lock).
    dropped: AtomicU64,
}

impl TwinFeed {
    pub(crate) fn send(&self, frame: Frame) {
        if let Err(TrySendError::Full(_)) = self.sender.try_send(frame) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// Starts the twin's thread; `on_events` runs on that thread after each
/// frame with the twin still locked, so what it reads is what the events say.
pub(crate) fn spawn(
    twin: SharedTwin,
    on_events: impl Fn(&GatewayTwin, Vec<TwinEvent>) + Send + 'static,
) -> TwinFeed {
    let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
    let feed = TwinFeed {
        sender,
        dropped: AtomicU64::new(0),
    };
    let spawned = std::thread::Builder::new()
        .name("linetwin-twin".into())
        .spawn(move || run(&twin, &receiver, &on_events));
    if let Err(e) = spawned {
        tracing::error!("cannot start the gateway's twin: {e}; alarms are left to the viewers");
    }
    feed
}

fn run(
    twin: &SharedTwin,
    frames: &Receiver<Frame>,
    on_events: &impl Fn(&GatewayTwin, Vec<TwinEvent>),
) {
    let mut last_frame = Instant::now();
    loop {
        let next = frames.recv_timeout(SILENCE_TICK);
        let mut guard = lock(twin);
        let events = match next {
            Ok(frame) => {
                last_frame = Instant::now();
                guard.feed(&frame)
            }
            Err(RecvTimeoutError::Timeout) => guard.silent_for(last_frame.elapsed().as_secs_f64()),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        if !events.is_empty() {
            on_events(&guard, events);
        }
    }
}
