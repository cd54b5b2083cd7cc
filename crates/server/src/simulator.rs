//! The built-in producer: runs the line's simulator on a sped-up clock and
//! broadcasts its readings and waveform blocks.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use linetwin_core::protocol::TextMessage;
use linetwin_core::scenario::Scenario;
use linetwin_core::sim::Simulator;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::SimulatorConfig;
use crate::hub::Frame;
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

/// Simulated time: `speedup` simulated seconds per wall second since start.
#[derive(Debug, Clone, Copy)]
struct SimClock {
    started: Instant,
    speedup: f64,
}

impl SimClock {
    fn now(&self) -> f64 {
        self.speedup * self.started.elapsed().as_secs_f64()
    }
}

pub(crate) fn spawn(
    state: AppState,
    config: SimulatorConfig,
    scenario: Option<Arc<Scenario>>,
) -> SimulatorTasks {
    let simulator = Arc::new(Simulator::new(&state.line, config.seed));
    let clock = SimClock {
        started: Instant::now(),
        speedup: config.speedup,
    };
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
            clock,
            config,
            scenario,
        )),
        tokio::spawn(waveforms_loop(state, simulator, clock, config)),
    ])
}

async fn readings_loop(
    state: AppState,
    sim: Arc<Simulator>,
    clock: SimClock,
    config: SimulatorConfig,
    scenario: Option<Arc<Scenario>>,
) {
    let mut ticks = tokio::time::interval(config.readings_interval);
    // After a stall, carry on at the normal pace rather than bursting.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut narrated_until = f64::NEG_INFINITY;
    loop {
        ticks.tick().await;
        // Computed even with no viewer: it is cheap, and keeps logs meaningful.
        let t = clock.now();
        if let Some(story) = &scenario {
            // Each caption once, at its data time, as the story reaches it.
            for caption in story.captions_between(narrated_until, t) {
                state.broadcast(Frame::text(&TextMessage::Caption {
                    t: caption.at_s,
                    text: caption.text.clone(),
                    chapter: story.chapter_at(caption.at_s).map(|c| c.title.clone()),
                    duration_s: caption.duration_s,
                }));
            }
            narrated_until = t;
        }
        let readings = TextMessage::Readings {
            t,
            values: sim.readings(t),
        };
        state.broadcast(Frame::text(&readings));
    }
}

async fn waveforms_loop(
    state: AppState,
    sim: Arc<Simulator>,
    clock: SimClock,
    config: SimulatorConfig,
) {
    let mut ticks = tokio::time::interval(config.block_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // A round is tens of milliseconds of CPU: not worth it for nobody.
        if !state.has_viewers() {
            continue;
        }
        let t = clock.now();
        let sim = sim.clone();
        // CPU work off the async workers; awaiting it here means rounds never
        // pile up when generation is slower than the interval.
        let frames = tokio::task::spawn_blocking(move || encoded_blocks(&sim, t)).await;
        match frames {
            Ok(frames) => frames
                .into_iter()
                .for_each(|f| state.broadcast(Frame::Binary(f))),
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
