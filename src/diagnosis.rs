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
use linetwin_twin::{BlockFinding, Observation};

use crate::executor::Executor;
use crate::line_source::LineDescription;
use crate::stream::WaveformReceived;
use crate::twin_state::{TwinChanged, TwinSet, TwinState};

/// Blocks waiting for diagnosis, newest per sensor.
#[derive(Resource, Default)]
pub struct PendingBlocks {
    order: VecDeque<String>,
    latest: HashMap<String, WaveformBlock>,
}

impl PendingBlocks {
    /// Queues a block; returns true when it replaced one not yet sent.
    pub fn push(&mut self, block: WaveformBlock) -> bool {
        let sensor = block.sensor.clone();
        let replaced = self.latest.insert(sensor.clone(), block).is_some();
        if !replaced {
            self.order.push_back(sensor);
        }
        replaced
    }

    pub fn pop(&mut self) -> Option<WaveformBlock> {
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

struct Outstanding {
    job: DiagnoseJob,
}

#[derive(Resource, Default)]
struct InFlight {
    next_id: JobId,
    jobs: HashMap<JobId, Outstanding>,
}

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
                (queue_waveforms, dispatch, collect)
                    .chain()
                    .run_if(resource_exists::<TwinState>)
                    .after(TwinSet)
                    .in_set(DiagnosisSet),
            );
    }
}

fn start_executor(mut commands: Commands, existing: Option<Res<Executor>>) {
    if existing.is_none() {
        commands.insert_resource(Executor::for_this_platform());
    }
}

fn queue_waveforms(
    mut incoming: MessageReader<WaveformReceived>,
    mut pending: ResMut<PendingBlocks>,
    mut stats: ResMut<DiagnosisStats>,
) {
    for WaveformReceived(block) in incoming.read() {
        let t = block.t_start;
        if pending.push(block.clone()) {
            stats.superseded += 1;
            stats.last_superseded_t = Some(stats.last_superseded_t.map_or(t, |s| s.max(t)));
        }
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
        let Some(block) = pending.pop() else { break };
        let Some((asset, sensor)) = line.0.sensor(&block.sensor) else {
            continue;
        };
        if sensor.kind != SensorKind::Vibration {
            continue;
        }
        match DiagnoseJob::for_block(&block, asset, sensor) {
            Ok(job) => {
                let id = in_flight.next_id;
                in_flight.next_id += 1;
                executor.submit(id, JobSpec::Diagnose(job.clone()), block.samples);
                in_flight.jobs.insert(id, Outstanding { job });
            }
            Err(problem) => {
                stats.failed += 1;
                let failed = Observation::BlockFailed {
                    sensor: block.sensor.clone(),
                    t: block.t_start,
                    problem,
                };
                changes.write_batch(twin.0.ingest(failed).into_iter().map(TwinChanged));
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
    let replies = executor.poll();
    if executor.worker_problem.is_some()
        && !matches!(executor.kind(), crate::executor::ExecutorKind::Worker)
    {
        // Whatever the worker held died with it.
        stats.failed += in_flight.jobs.len() as u64;
        in_flight.jobs.clear();
    }
    for (reply, payload) in replies {
        let Some(id) = reply.id() else { continue };
        let Some(Outstanding { job }) = in_flight.jobs.remove(&id) else {
            continue;
        };
        match reply {
            Reply::Done {
                output, elapsed_ms, ..
            } => match output.into_diagnosed(&payload) {
                Ok((diagnosed, samples)) => {
                    stats.blocks += 1;
                    stats.samples += samples.len() as u64;
                    if let Some(ms) = elapsed_ms {
                        stats.busy_s += ms / 1000.0;
                        stats.slowest_block_ms = stats.slowest_block_ms.max(ms);
                    }
                    let diagnosis = Arc::new(diagnosed.diagnosis);
                    let finding = BlockFinding {
                        sensor: job.sensor.clone(),
                        t_start: job.t_start,
                        duration_s: job.duration_s(samples.len()),
                        shaft_rpm: job.shaft_rpm,
                        diagnosis: Arc::clone(&diagnosis),
                    };
                    inspection.0.insert(
                        job.sensor.clone(),
                        Inspected {
                            diagnosis,
                            spectra: Arc::new(diagnosed.spectra),
                            waveform: samples.into(),
                            sample_rate_hz: job.sample_rate_hz,
                            t_start: job.t_start,
                        },
                    );
                    let events = twin.0.ingest(Observation::Block(Arc::new(finding)));
                    changes.write_batch(events.into_iter().map(TwinChanged));
                }
                Err(error) => {
                    stats.failed += 1;
                    warn!("diagnosis of {} came back unreadable: {error}", job.sensor);
                }
            },
            Reply::Failed { reason, .. } => {
                stats.failed += 1;
                let failed = Observation::BlockFailed {
                    sensor: job.sensor.clone(),
                    t: job.t_start,
                    problem: reason,
                };
                changes.write_batch(twin.0.ingest(failed).into_iter().map(TwinChanged));
            }
            Reply::Progress { .. } => {
                in_flight.jobs.insert(id, Outstanding { job });
            }
            Reply::Cancelled { .. } | Reply::Ready => {}
        }
    }
    stats.in_flight = in_flight.jobs.len();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_blocks_replace_waiting_ones() {
        let block = |sensor: &str, t: f64| WaveformBlock {
            sensor: sensor.into(),
            t_start: t,
            sample_rate_hz: 1.0,
            shaft_rpm: None,
            samples: vec![],
        };
        let mut pending = PendingBlocks::default();
        assert!(!pending.push(block("a", 1.0)));
        assert!(!pending.push(block("b", 1.0)));
        assert!(pending.push(block("a", 2.0)));
        assert_eq!(pending.len(), 2);
        let first = pending.pop().unwrap();
        assert_eq!((first.sensor.as_str(), first.t_start), ("a", 2.0));
        assert_eq!(pending.pop().unwrap().sensor, "b");
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
