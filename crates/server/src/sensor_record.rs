//! The record of each sensor, kept by the gateway's twin: its baseline
//! (restored into the twin at start, recorded and told to every viewer
//! when the twin learns one) and its last value (written every few
//! seconds). What the twin learned stays learned across restarts.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use linetwin_core::line::SensorKind;
use linetwin_core::protocol::TextMessage;
use linetwin_twin::TwinEvent;

use crate::gateway_twin::GatewayTwin;
use crate::hub::Frame;
use crate::store::Store;
use crate::store::sensors::{SensorValue, StoredBaseline};
use crate::unix_now;

/// How often the last values are written: often enough that a restart
/// loses seconds, rarely enough that a thousand sensors cost nothing.
pub(crate) const VALUES_EVERY: Duration = Duration::from_secs(5);

/// Puts the record's baselines into a twin that has just started.
pub(crate) fn restore(twin: &mut GatewayTwin, store: &Store) {
    let baselines = match store.baselines() {
        Ok(baselines) => baselines,
        Err(e) => {
            tracing::error!("{e}; baselines are learned again");
            return;
        }
    };
    let mut restored = 0;
    for b in &baselines {
        let done = twin.set_baseline(
            &b.sensor,
            b.since_t,
            b.value_mm_s,
            b.commissioned_by.as_deref(),
        );
        if done {
            restored += 1;
        } else {
            tracing::warn!(
                "the record's baseline for {} no longer fits the line (not a vibration sensor of it); left out",
                b.sensor
            );
        }
    }
    if restored > 0 {
        tracing::info!("{restored} baselines restored from the record");
    }
}

/// Baselines the twin has just learned: recorded, and the messages that
/// tell viewers.
pub(crate) fn on_events(store: &Store, events: &[TwinEvent]) -> Vec<Frame> {
    let mut told = Vec::new();
    for event in events {
        let TwinEvent::BaselineLearned {
            sensor,
            value_mm_s,
            since_t,
            commissioned_by,
            ..
        } = event
        else {
            continue;
        };
        let baseline = StoredBaseline {
            sensor: sensor.clone(),
            value_mm_s: Some(*value_mm_s),
            since_t: *since_t,
            commissioned_by: commissioned_by.clone(),
            recorded_unix_s: unix_now(),
        };
        match store.record_baseline(&baseline) {
            Ok(()) => {
                tracing::info!("baseline of {sensor}: {value_mm_s:.3} mm/s, recorded");
                told.push(Frame::text(&baseline.message()));
            }
            Err(e) => tracing::error!("{e}"),
        }
    }
    told
}

/// The record's baselines, for a viewer that joins.
pub(crate) fn greeting(store: &Store) -> Vec<TextMessage> {
    match store.baselines() {
        Ok(baselines) => baselines.iter().map(StoredBaseline::message).collect(),
        Err(e) => {
            tracing::error!("{e}");
            Vec::new()
        }
    }
}

/// Writes the sensors' last values now and then, those that changed only.
#[derive(Default)]
pub(crate) struct LastValues {
    written: HashMap<String, f64>,
    last_write: Option<Instant>,
}

impl LastValues {
    pub(crate) fn due(&self) -> bool {
        self.last_write
            .is_none_or(|at| at.elapsed() >= VALUES_EVERY)
    }

    pub(crate) fn write(&mut self, twin: &GatewayTwin, store: &Store) {
        self.last_write = Some(Instant::now());
        let now = unix_now();
        let changed: Vec<SensorValue> = twin
            .twin()
            .assets()
            .flat_map(|asset| asset.sensors.iter())
            .filter_map(|(id, view)| {
                let t = view.last_t?;
                (self.written.get(id) != Some(&t)).then(|| SensorValue {
                    sensor: id.clone(),
                    t,
                    value: view.value,
                    // A vibration sensor's value is its ISO velocity, not its waveform's unit.
                    unit: if view.kind == SensorKind::Vibration {
                        "mm/s".to_owned()
                    } else {
                        view.unit.clone()
                    },
                    level: view.level.map(|z| z.letter().to_owned()),
                    recorded_unix_s: now,
                })
            })
            .collect();
        if changed.is_empty() {
            return;
        }
        match store.record_sensor_values(&changed) {
            Ok(()) => {
                for v in changed {
                    self.written.insert(v.sensor, v.t);
                }
            }
            Err(e) => tracing::error!("{e}"),
        }
    }
}
