//! What the twin tells its viewers: typed changes, each at a data time.

use crate::alarm::{Alarm, AlarmId};
use crate::level::AssetStatus;

#[derive(Debug, Clone, PartialEq)]
pub enum TwinEvent {
    /// An asset's colour level changed (including to stale or back).
    LevelChanged {
        asset: String,
        from: AssetStatus,
        to: AssetStatus,
        /// Data time at which the twin saw it.
        at: f64,
        velocity_mm_s: Option<f64>,
    },
    AlarmRaised(Alarm),
    AlarmCleared {
        id: AlarmId,
        asset: String,
        at: f64,
    },
    AlarmAcknowledged {
        id: AlarmId,
        asset: String,
        at: f64,
    },
    /// A sensor has had no data for longer than the stale limit.
    SensorStale {
        sensor: String,
        asset: String,
        /// Data time at which it became stale: its last data plus the
        /// limit, or when its source said it was gone.
        since: f64,
        /// Why, when its source said so ("node press-1 offline").
        reason: Option<String>,
    },
    /// A vibration sensor's baseline became known: learned from its first
    /// blocks, or afresh after someone asked (`commissioned_by`). The
    /// gateway records it, so that no restart learns it again.
    BaselineLearned {
        sensor: String,
        asset: String,
        value_mm_s: f64,
        /// Data time of the block that completed it.
        since_t: f64,
        commissioned_by: Option<String>,
    },
    /// A stale (or never heard) sensor reported again.
    SensorFresh {
        sensor: String,
        asset: String,
        at: f64,
    },
}
