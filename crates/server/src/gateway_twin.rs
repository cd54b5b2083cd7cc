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
                Ok(TextMessage::Baseline {
                    sensor,
                    t,
                    value_mm_s,
                    by,
                }) => {
                    self.set_baseline(&sensor, t, value_mm_s, by.as_deref());
                    Vec::new()
                }
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

    /// A baseline from the record, or learned afresh (`None`); see [`Twin::set_baseline`].
    pub fn set_baseline(
        &mut self,
        sensor: &str,
        t: f64,
        value_mm_s: Option<f64>,
        by: Option<&str>,
    ) -> bool {
        self.twin.set_baseline(sensor, t, value_mm_s, by)
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

/// Starts the twin's thread; `after_each` runs on that thread after each
/// frame (and each second of silence) with the twin still locked, so what
/// it reads is what the events say.
pub(crate) fn spawn(
    twin: SharedTwin,
    after_each: impl FnMut(&GatewayTwin, Vec<TwinEvent>) + Send + 'static,
) -> TwinFeed {
    let (sender, receiver) = std::sync::mpsc::sync_channel(QUEUE);
    let feed = TwinFeed {
        sender,
        dropped: AtomicU64::new(0),
    };
    let spawned = std::thread::Builder::new()
        .name("linetwin-twin".into())
        .spawn(move || run(&twin, &receiver, after_each));
    if let Err(e) = spawned {
        tracing::error!("cannot start the gateway's twin: {e}; alarms are left to the viewers");
    }
    feed
}

fn run(
    twin: &SharedTwin,
    frames: &Receiver<Frame>,
    mut after_each: impl FnMut(&GatewayTwin, Vec<TwinEvent>),
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
        after_each(&guard, events);
    }
}

#[cfg(test)]
mod tests {
    //! One twin, two places: the gateway's twin (its own path, frame by
    //! frame) and the browser's (ticket on arrival, the worker's `Runner`
    //! diagnosing each block, the finding back to the twin) fed one stream
    //! raise the same alarms, id for id. They differ only where a browser
    //! that lags skips a block (latest wins), which the browser test records.

    use linetwin_jobs::message::{JobSpec, Reply, Request};
    use linetwin_jobs::runner::Runner;
    use linetwin_twin::Alarm;

    use super::*;

    fn demo() -> Line {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json"))
            .expect("demo line")
    }

    /// The simulator's frames, as the gateway broadcasts them: every
    /// vibration block and the readings, 2 s apart, for seven minutes of
    /// the demo's story (P1's outer-race fault from 20 s).
    fn stream(line: &Line) -> Vec<Frame> {
        let sim = linetwin_core::sim::Simulator::new(line, 11);
        let mut frames = Vec::new();
        let mut t = 0.0;
        while t < 420.0 {
            frames.push(Frame::text(&TextMessage::Readings {
                t,
                values: sim.readings(t),
            }));
            for block in sim.waveforms(t) {
                frames.push(Frame::Binary(block.encode().into()));
            }
            t += 2.0;
        }
        frames
    }

    /// The browser's path for the same frames.
    fn browser_twin(line: &Line, frames: &[Frame]) -> Twin {
        let mut twin = Twin::new(line, TwinConfig::default());
        twin.hello(Clock::Simulated, 1.0);
        let mut runner = Runner::new();
        for (id, frame) in frames.iter().enumerate() {
            match frame {
                Frame::Text(text) => {
                    if let Ok(TextMessage::Readings { t, values }) =
                        TextMessage::from_json(text.as_str())
                    {
                        twin.readings(t, &values);
                    }
                }
                Frame::Binary(bytes) => {
                    let block = WaveformBlock::decode(bytes).expect("a block");
                    let (asset, sensor) = line.sensor(&block.sensor).expect("in the line");
                    let job = DiagnoseJob::for_block(&block, asset, sensor).expect("judgeable");
                    let ticket = twin
                        .block_received(&block.sensor, block.t_start)
                        .expect("placed");
                    let request = Request::Submit {
                        id: id as u64,
                        spec: JobSpec::Diagnose(job.clone()),
                    };
                    assert!(runner.handle(request, block.samples.clone()).is_empty());
                    let (reply, payload) = runner.step().expect("a reply");
                    let Reply::Done { output, .. } = reply else {
                        panic!("the worker answered {reply:?}");
                    };
                    let (diagnosed, waveform) = output.into_diagnosed(&payload).expect("readable");
                    twin.block_diagnosed(
                        ticket,
                        BlockFinding {
                            sensor: job.sensor.clone(),
                            t_start: ticket.t_start,
                            duration_s: job.duration_s(waveform.len()),
                            shaft_rpm: job.shaft_rpm,
                            diagnosis: Arc::new(diagnosed.diagnosis),
                        },
                    );
                }
            }
        }
        twin
    }

    fn alarms(twin: &Twin) -> Vec<Alarm> {
        twin.alarms().into_iter().cloned().collect()
    }

    #[test]
    fn the_gateways_twin_and_the_browsers_raise_the_same_alarms_on_one_stream() {
        let line = demo();
        let frames = stream(&line);
        let mut gateway = GatewayTwin::new(&line, Clock::Simulated, 1.0);
        for frame in &frames {
            gateway.feed(frame);
        }
        let browser = browser_twin(&line, &frames);
        let theirs = alarms(gateway.twin());
        assert!(
            theirs.iter().any(|a| a.asset == "P1"),
            "the faulted pump raised an alarm: {theirs:?}"
        );
        assert_eq!(alarms(&browser), theirs, "alarm for alarm, id for id");
        assert_eq!(gateway.frames, frames.len() as u64);
    }
}
