//! Waveform blocks to the executor (a Web Worker in the browser), results
//! back into the twin. The render loop never waits on DSP: blocks wait
//! here newest-per-sensor, and when the worker falls behind older blocks
//! are skipped, counted and shown, never queued up.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use bevy::prelude::*;
use linetwin_core::diagnosis::{Diagnosis, DiagnosisSpectra};
use linetwin_core::line::SensorKind;
use linetwin_core::protocol::WaveformBlock;
use linetwin_jobs::{DiagnoseJob, JobId, JobSpec, Reply};
use linetwin_twin::{BlockFinding, BlockTicket};

use crate::executor::Executor;
use crate::line_source::LineDescription;
use crate::options::ViewerOptions;
use crate::twin_state::{TwinChanged, TwinSet, TwinState};

/// Blocks waiting for diagnosis, newest per sensor, each with the twin's
/// ticket (its place in data time).
#[derive(Resource, Default)]
pub struct PendingBlocks {
    order: VecDeque<String>,
    latest: HashMap<String, (BlockTicket, WaveformBlock)>,
}

impl PendingBlocks {
    /// Queues a block; returns the ticket of the waiting one it replaced.
    pub fn push(&mut self, ticket: BlockTicket, block: WaveformBlock) -> Option<BlockTicket> {
        let sensor = block.sensor.clone();
        let replaced = self.latest.insert(sensor.clone(), (ticket, block));
        if replaced.is_none() {
            self.order.push_back(sensor);
        }
        replaced.map(|(ticket, _)| ticket)
    }

    pub fn pop(&mut self) -> Option<(BlockTicket, WaveformBlock)> {
        let sensor = self.order.pop_front()?;
        self.latest.remove(&sensor)
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// What the diagnosis has done, for the status bar, `state()` and the benchmark.
#[derive(Resource, Debug, Clone, Default, PartialEq)]
pub struct DiagnosisStats {
    pub blocks: u64,
    pub samples: u64,
    /// Compute seconds, as the executor measured them.
    pub busy_s: f64,
    pub slowest_block_ms: f64,
    /// Blocks replaced by a newer one of the same sensor before their turn.
    pub superseded: u64,
    /// Data time of the latest skipped block.
    pub last_superseded_t: Option<f64>,
    pub failed: u64,
    pub in_flight: usize,
}

impl DiagnosisStats {
    /// A block was skipped for a newer one of its sensor.
    pub(crate) fn note_skipped(&mut self, t: f64) {
        self.superseded += 1;
        self.last_superseded_t = Some(self.last_superseded_t.map_or(t, |s| s.max(t)));
    }

    /// Blocks are being skipped now: one was in the last `window_s` data seconds.
    pub fn skipping(&self, now: Option<f64>, window_s: f64) -> bool {
        matches!((self.last_superseded_t, now), (Some(skipped), Some(now)) if now - skipped <= window_s)
    }
}

/// The latest diagnosed block per sensor, for the inspector's plots.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub diagnosis: Arc<Diagnosis>,
    pub spectra: Arc<DiagnosisSpectra>,
    pub waveform: Arc<[f32]>,
    pub sample_rate_hz: f64,
    pub t_start: f64,
}

#[derive(Resource, Debug, Default)]
pub struct Inspection(pub HashMap<String, Inspected>);

pub(crate) struct Outstanding {
    pub job: DiagnoseJob,
    pub ticket: BlockTicket,
    pub samples: usize,
}

#[derive(Resource, Default)]
pub(crate) struct InFlight {
    next_id: JobId,
    pub jobs: HashMap<JobId, Outstanding>,
    /// Replies that came before the app learnt of their routed block.
    early: HashMap<JobId, (Reply, Vec<f32>)>,
}

/// Early replies kept at most (each is a block's worth of data).
const MAX_EARLY_REPLIES: usize = 64;

#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiagnosisSet;

pub struct DiagnosisPlugin;

impl Plugin for DiagnosisPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<PendingBlocks>()
            .init_resource::<DiagnosisStats>()
            .init_resource::<Inspection>()
            .init_resource::<InFlight>()
            .add_systems(Startup, start_executor)
            .add_systems(
                Update,
                route_blocks.run_if(resource_exists_and_changed::<LineDescription>),
            )
            .add_systems(
                Update,
                (dispatch, collect)
                    .chain()
                    .run_if(resource_exists::<TwinState>)
                    .after(TwinSet)
                    .in_set(DiagnosisSet),
            );
    }
}

fn start_executor(
    mut commands: Commands,
    existing: Option<Res<Executor>>,
    options: Option<Res<ViewerOptions>>,
) {
    if options.is_none() {
        commands.insert_resource(ViewerOptions::of_this_page());
    }
    if existing.is_none() {
        commands.insert_resource(Executor::for_this_platform());
    }
}

/// Lets the socket task send blocks straight to the worker, once the line
/// (the sensors' settings) is known and diagnosis is on.
fn route_blocks(
    line: Res<LineDescription>,
    executor: Option<Res<Executor>>,
    options: Option<Res<ViewerOptions>>,
) {
    if let Some(executor) = executor {
        let on = options.is_none_or(|o| o.diagnosis);
        executor.route_blocks_of(on.then(|| Arc::clone(&line.0)));
    }
}

fn dispatch(
    mut pending: ResMut<PendingBlocks>,
    mut executor: ResMut<Executor>,
    mut in_flight: ResMut<InFlight>,
    mut twin: ResMut<TwinState>,
    mut changes: MessageWriter<TwinChanged>,
    mut stats: ResMut<DiagnosisStats>,
    line: Res<LineDescription>,
) {
    while in_flight.jobs.len() < executor.capacity() {
        let Some((ticket, block)) = pending.pop() else {
            break;
        };
        let Some((asset, sensor)) = line.0.sensor(&block.sensor) else {
            twin.0.block_dropped(ticket);
            continue;
        };
        if sensor.kind != SensorKind::Vibration {
            twin.0.block_dropped(ticket);
            continue;
        }
        let duration_s = block.samples.len() as f64 / f64::from(block.sample_rate_hz);
        match DiagnoseJob::for_block(&block, asset, sensor) {
            Ok(job) => {
                let id = in_flight.next_id;
                in_flight.next_id += 1;
                let samples = block.samples.len();
                executor.submit(id, JobSpec::Diagnose(job.clone()), block.samples);
                in_flight.jobs.insert(
                    id,
                    Outstanding {
                        job,
                        ticket,
                        samples,
                    },
                );
            }
            Err(problem) => {
                stats.failed += 1;
                let events = twin
                    .0
                    .block_failed(ticket, &block.sensor, duration_s, problem);
                changes.write_batch(events.into_iter().map(TwinChanged));
            }
        }
    }
    stats.in_flight = in_flight.jobs.len();
}

fn collect(
    mut executor: ResMut<Executor>,
    mut in_flight: ResMut<InFlight>,
    mut twin: ResMut<TwinState>,
    mut changes: MessageWriter<TwinChanged>,
    mut stats: ResMut<DiagnosisStats>,
    mut inspection: ResMut<Inspection>,
) {
    let (mut replies, worker_died) = executor.poll();
    let known: Vec<JobId> = in_flight
        .early
        .keys()
        .copied()
        .filter(|id| in_flight.jobs.contains_key(id))
        .collect();
    for id in known {
        if let Some(early) = in_flight.early.remove(&id) {
            replies.push(early);
        }
    }
    for (reply, payload) in replies {
        let Some(id) = reply.id() else { continue };
        let Some(outstanding) = in_flight.jobs.remove(&id) else {
            if id >= crate::executor::ROUTED_IDS && in_flight.early.len() < MAX_EARLY_REPLIES {
                in_flight.early.insert(id, (reply, payload));
            }
            continue;
        };
        let Outstanding {
            job,
            ticket,
            samples,
        } = outstanding;
        match reply {
            Reply::Done {
                output, elapsed_ms, ..
            } => match output.into_diagnosed(&payload) {
                Ok((diagnosed, waveform)) => {
                    stats.blocks += 1;
                    stats.samples += waveform.len() as u64;
                    if let Some(ms) = elapsed_ms {
                        stats.busy_s += ms / 1000.0;
                        stats.slowest_block_ms = stats.slowest_block_ms.max(ms);
                    }
                    let diagnosis = Arc::new(diagnosed.diagnosis);
                    let finding = BlockFinding {
                        sensor: job.sensor.clone(),
                        t_start: ticket.t_start,
                        duration_s: job.duration_s(waveform.len()),
                        shaft_rpm: job.shaft_rpm,
                        diagnosis: Arc::clone(&diagnosis),
                    };
                    inspection.0.insert(
                        job.sensor.clone(),
                        Inspected {
                            diagnosis,
                            spectra: Arc::new(diagnosed.spectra),
                            waveform: waveform.into(),
                            sample_rate_hz: job.sample_rate_hz,
                            t_start: ticket.t_start,
                        },
                    );
                    let events = twin.0.block_diagnosed(ticket, finding);
                    changes.write_batch(events.into_iter().map(TwinChanged));
                }
                Err(error) => {
                    stats.failed += 1;
                    twin.0.block_dropped(ticket);
                    warn!("diagnosis of {} came back unreadable: {error}", job.sensor);
                }
            },
            Reply::Failed { reason, .. } => {
                stats.failed += 1;
                let events =
                    twin.0
                        .block_failed(ticket, &job.sensor, job.duration_s(samples), reason);
                changes.write_batch(events.into_iter().map(TwinChanged));
            }
            Reply::Progress { .. } => {
                in_flight.jobs.insert(
                    id,
                    Outstanding {
                        job,
                        ticket,
                        samples,
                    },
                );
            }
            Reply::Cancelled { .. } => {
                // Replaced in the worker's queue by a newer block of the sensor.
                twin.0.block_dropped(ticket);
                stats.note_skipped(ticket.t_start);
            }
            Reply::Ready => twin.0.block_dropped(ticket),
        }
    }
    if worker_died {
        // Whatever the worker still held died with it; new blocks run inline.
        for (_, outstanding) in in_flight.jobs.drain() {
            stats.failed += 1;
            twin.0.block_dropped(outstanding.ticket);
        }
    }
    stats.in_flight = in_flight.jobs.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_blocks_replace_waiting_ones_and_hand_back_their_tickets() {
        let line = linetwin_core::line::Line::from_json(
            "demo.json",
            include_str!("../assets/lines/demo.json"),
        )
        .unwrap();
        let mut twin = linetwin_twin::Twin::new(&line, linetwin_twin::TwinConfig::default());
        let mut block = |sensor: &str, t: f64| {
            let ticket = twin.block_received(sensor, t).unwrap();
            let block = WaveformBlock {
                sensor: sensor.into(),
                t_start: t,
                sample_rate_hz: 1.0,
                shaft_rpm: None,
                samples: vec![],
            };
            (ticket, block)
        };
        let (a1, b1, a2) = (
            block("M1-DE-V", 1.0),
            block("P1-DE-V", 1.0),
            block("M1-DE-V", 2.0),
        );
        let mut pending = PendingBlocks::default();
        assert!(pending.push(a1.0, a1.1).is_none());
        assert!(pending.push(b1.0, b1.1).is_none());
        assert_eq!(
            pending.push(a2.0, a2.1),
            Some(a1.0),
            "the replaced block's ticket"
        );
        assert_eq!(pending.len(), 2);
        let (_, first) = pending.pop().unwrap();
        assert_eq!((first.sensor.as_str(), first.t_start), ("M1-DE-V", 2.0));
        assert_eq!(pending.pop().unwrap().1.sensor, "P1-DE-V");
        assert!(pending.is_empty());
    }

    #[test]
    fn skipping_is_reported_only_while_it_happens() {
        let stats = DiagnosisStats {
            last_superseded_t: Some(100.0),
            ..default()
        };
        assert!(stats.skipping(Some(110.0), 30.0));
        assert!(!stats.skipping(Some(200.0), 30.0));
        assert!(!DiagnosisStats::default().skipping(Some(1.0), 30.0));
    }
}
