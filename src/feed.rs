//! The stream fed to the twin in the order it came: hellos, readings,
//! captions (placed on the twin's time axis) and waveform blocks (each ticketed by the twin as it arrives, then queued
//! for diagnosis, or already on its way to the worker). One system, so a
//! hello is never heard before the data that preceded it.

use bevy::prelude::*;

use crate::diagnosis::{DiagnosisStats, InFlight, Outstanding, PendingBlocks};
use crate::executor::Executor;
use crate::options::ViewerOptions;
use crate::stream::{Caption, StreamEvent};
use crate::twin_state::{TwinChanged, TwinState};

#[allow(clippy::too_many_arguments)]
pub(crate) fn feed_stream(
    mut incoming: MessageReader<StreamEvent>,
    mut twin: ResMut<TwinState>,
    mut changes: MessageWriter<TwinChanged>,
    mut pending: ResMut<PendingBlocks>,
    mut in_flight: ResMut<InFlight>,
    mut stats: ResMut<DiagnosisStats>,
    mut executor: ResMut<Executor>,
    options: Option<Res<ViewerOptions>>,
    mut captions: MessageWriter<Caption>,
) {
    let diagnose = options.is_none_or(|o| o.diagnosis);
    for event in incoming.read() {
        match event {
            StreamEvent::Hello { clock, time_scale } => twin.0.hello(*clock, *time_scale),
            StreamEvent::Caption(caption) => {
                if let Some(t) = twin.0.place_time(caption.t) {
                    captions.write(Caption {
                        t,
                        ..caption.clone()
                    });
                }
            }
            StreamEvent::Readings { t, values } => {
                changes.write_batch(twin.0.readings(*t, values).into_iter().map(TwinChanged));
            }
            StreamEvent::Acknowledged { alarm, by } => {
                if let Some(event) = twin.0.acknowledge_recorded(*alarm, by) {
                    changes.write(TwinChanged(event));
                }
            }
            StreamEvent::Baseline {
                sensor,
                t,
                value_mm_s,
                by,
            } => {
                twin.0.set_baseline(sensor, *t, *value_mm_s, by.as_deref());
            }
            StreamEvent::Offline { t, sensors, reason } => {
                let events = twin.0.offline(*t, sensors, reason);
                changes.write_batch(events.into_iter().map(TwinChanged));
            }
            StreamEvent::Waveform(block) if diagnose => {
                let Some(ticket) = twin.0.block_received(&block.sensor, block.t_start) else {
                    continue;
                };
                if let Some(replaced) = pending.push(ticket, block.clone()) {
                    twin.0.block_dropped(replaced);
                    stats.note_skipped(ticket.t_start);
                }
            }
            StreamEvent::Waveform(_) => {}
            StreamEvent::Routed(block) => {
                match twin.0.block_received(&block.job.sensor, block.job.t_start) {
                    Some(ticket) => {
                        let outstanding = Outstanding {
                            job: block.job.clone(),
                            ticket,
                            samples: block.samples,
                        };
                        in_flight.jobs.insert(block.id, outstanding);
                    }
                    None => executor.cancel(block.id),
                }
            }
        }
    }
}
