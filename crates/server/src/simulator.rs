//! The built-in producer: runs the line's simulator on a sped-up clock and
//! broadcasts its readings and waveform blocks.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use linetwin_core::protocol::TextMessage;
use linetwin_core::scenario::Scenario;
use linetwin_core::sim::Simulator;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::SimulatorConfig;
use crate::state::AppState;

/// Aborts the simulator tasks when dropped, so they end with the server.
pub(crate) struct SimulatorTasks(Vec<JoinHandle<()>>);

impl Drop for SimulatorTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Simulated time: `speedup` simulated seconds per wall second, which a
/// demo can pause, resume and move (to a chapter, or back to the start).
#[derive(Debug)]
pub(crate) struct SimClock {
    speedup: f64,
    state: Mutex<ClockState>,
}

#[derive(Debug, Clone, Copy)]
struct ClockState {
    /// Simulated time at `since`.
    base_s: f64,
    since: Instant,
    running: bool,
    /// Counts moves, so the narration knows to start again from there.
    moves: u64,
    /// Where the last move went.
    moved_to_s: f64,
}

impl SimClock {
    pub(crate) fn new(speedup: f64) -> Self {
        SimClock {
            speedup,
            state: Mutex::new(ClockState {
                base_s: 0.0,
                since: Instant::now(),
                running: true,
                moves: 0,
                moved_to_s: 0.0,
            }),
        }
    }

    fn read(&self) -> ClockState {
        *self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> f64 {
        let s = self.read();
        if s.running {
            s.base_s + self.speedup * s.since.elapsed().as_secs_f64()
        } else {
            s.base_s
        }
    }

    pub(crate) fn running(&self) -> bool {
        self.read().running
    }

    /// How many moves so far, and where the last one went.
    fn moves(&self) -> (u64, f64) {
        let s = self.read();
        (s.moves, s.moved_to_s)
    }

    fn update(&self, change: impl FnOnce(&mut ClockState, f64)) {
        let now = self.now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut state, now);
    }

    pub(crate) fn pause(&self) {
        self.update(|s, now| {
            s.base_s = now;
            s.since = Instant::now();
            s.running = false;
        });
    }

    pub(crate) fn resume(&self) {
        self.update(|s, now| {
            s.base_s = now;
            s.since = Instant::now();
            s.running = true;
        });
    }

    /// Moves to simulated time `t`; returns true when that is backwards.
    pub(crate) fn seek(&self, t: f64) -> bool {
        let mut backwards = false;
        self.update(|s, now| {
            backwards = t < now;
            s.base_s = t.max(0.0);
            s.since = Instant::now();
            s.moves += 1;
            s.moved_to_s = s.base_s;
        });
        backwards
    }
}

pub(crate) fn spawn(
    state: AppState,
    config: SimulatorConfig,
    scenario: Option<Arc<Scenario>>,
    clock: Arc<SimClock>,
) -> SimulatorTasks {
    let simulator = Arc::new(Simulator::new(&state.line, config.seed));
    tracing::info!(
        "simulator running: seed {}, {}x speed, waveforms every {:?}",
        config.seed,
        config.speedup,
        config.block_interval
    );
    SimulatorTasks(vec![
        tokio::spawn(readings_loop(
            state.clone(),
            simulator.clone(),
            clock.clone(),
            config,
            scenario,
        )),
        tokio::spawn(waveforms_loop(state, simulator, clock, config)),
    ])
}

async fn readings_loop(
    state: AppState,
    sim: Arc<Simulator>,
    clock: Arc<SimClock>,
    config: SimulatorConfig,
    scenario: Option<Arc<Scenario>>,
) {
    let mut ticks = tokio::time::interval(config.readings_interval);
    // After a stall, carry on at the normal pace rather than bursting.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut narrated_until = f64::NEG_INFINITY;
    // The latest maintenance of the story done in this run: one told again
    // after a rewind is on the record already (see `maintain`).
    let mut maintained_until = f64::NEG_INFINITY;
    let mut moves = clock.moves().0;
    loop {
        ticks.tick().await;
        // A paused story sends nothing: its time stands still.
        if !clock.running() {
            continue;
        }
        // Computed even with no viewer: it is cheap, and keeps logs meaningful.
        let t = clock.now();
        let (moved, moved_to) = clock.moves();
        if moved != moves {
            // Moved to a chapter or the start: tell from there on,
            // including a caption at the very point moved to.
            moves = moved;
            narrated_until = moved_to - 1e-6;
        }

        let readings = TextMessage::Readings {
            t,
            values: sim.readings(t),
        };
        if clock.moves().0 != moves {
            // Moved since `t` was read: the next tick tells from there.
            continue;
        }
        let _ = crate::ingest::admit(
            &state,
            crate::source::Source::Simulator,
            crate::ingest::Incoming::Message(readings),
        );
        // After the readings of the same tick; a viewer places both on its
        // own time axis in the order they come.
        if let Some(story) = &scenario {
            // Each caption once, at its data time, as the story reaches it.
            for caption in story.captions_between(narrated_until, t) {
                state.tell(TextMessage::Caption {
                    t: caption.at_s,
                    text: caption.text.clone(),
                    chapter: story.chapter_at(caption.at_s).map(|c| c.title.clone()),
                    duration_s: caption.duration_s,
                });
            }
            let after = narrated_until.max(maintained_until);
            if let Some(last) = story
                .actions
                .iter()
                .map(|a| a.at_s)
                .filter(|at| *at > after && *at <= t)
                .reduce(f64::max)
            {
                maintained_until = last;
                // The record's write blocks: off the async workers, awaited
                // so it is told after this tick's readings and captions.
                let (state, story) = (state.clone(), story.clone());
                let done = tokio::task::spawn_blocking(move || maintain(&state, &story, after, t));
                if let Err(err) = done.await {
                    tracing::error!("the story's maintenance failed: {err}");
                }
            }
            narrated_until = t;
        }
    }
}

/// The story's maintenance due in `(after, until]`: a replacement, a
/// balancing or a realignment changes how the machine vibrates, so its
/// vibration sensors' baselines are learned afresh from the blocks that
/// follow (ISO 20816-3), as a maintenance team has the record do
/// (`POST /api/sensors/{sensor}/baseline`). Every viewer hears it, and so
/// the twin knows the machine was maintained (its track record censors the
/// remaining lives forecast for the old part). Relubrication renews nothing.
///
/// Each action is done once per run of the server: the readings loop asks
/// only for actions after the latest one already done, so a story rewound
/// (or moved back to a chapter) replays its readings and captions but not
/// the upsert, audit entry and broadcast of a replacement on the record
/// already (its viewers heard of it the first time).
fn maintain(state: &AppState, story: &Scenario, after: f64, until: f64) {
    use linetwin_core::line::SensorKind;
    use linetwin_core::scenario::Intervention;
    for action in story
        .actions
        .iter()
        .filter(|a| a.at_s > after && a.at_s <= until)
    {
        let word = match action.action {
            Intervention::Replace => "replace",
            Intervention::Balance => "balance",
            Intervention::Realign => "realign",
            Intervention::Lubricate => continue,
        };
        let Some(asset) = state.line.asset(&action.asset) else {
            continue;
        };
        for sensor in asset
            .sensors
            .iter()
            .filter(|s| s.kind == SensorKind::Vibration)
        {
            let by = format!("scenario ({word} {})", asset.id);
            if let Err(e) =
                crate::sensors_api::learn_afresh(state, sensor.id.clone(), action.at_s, by)
            {
                tracing::error!("the story's maintenance of {}: {e}", asset.id);
            }
        }
    }
}

async fn waveforms_loop(
    state: AppState,
    sim: Arc<Simulator>,
    clock: Arc<SimClock>,
    config: SimulatorConfig,
) {
    let mut ticks = tokio::time::interval(config.block_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // A round is tens of milliseconds of CPU: not worth it for nobody.
        if !state.has_viewers() || !clock.running() {
            continue;
        }
        let t = clock.now();
        let (moves, _) = clock.moves();
        let sim = sim.clone();
        // CPU work off the async workers; awaiting it here means rounds never
        // pile up when generation is slower than the interval.
        let frames = tokio::task::spawn_blocking(move || encoded_blocks(&sim, t)).await;
        if clock.moves().0 != moves {
            // The story moved while these were made: they belong to a time
            // that no longer comes, and after the move's hello a viewer
            // would take them for the new clock.
            continue;
        }
        match frames {
            Ok(frames) => frames.into_iter().for_each(|f| {
                let _ = crate::ingest::admit(
                    &state,
                    crate::source::Source::Simulator,
                    crate::ingest::Incoming::Binary(f),
                );
            }),
            Err(err) => tracing::error!("waveform generation failed: {err}"),
        }
    }
}

fn encoded_blocks(sim: &Simulator, t: f64) -> Vec<Bytes> {
    sim.waveforms(t)
        .iter()
        .map(|block| Bytes::from(block.encode()))
        .collect()
}
