//! What the twin is fed: readings, diagnosed blocks and blocks that could
//! not be judged, each stamped with the data's own time.

use std::sync::Arc;

use linetwin_core::diagnosis::Diagnosis;

/// A diagnosed waveform block.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockFinding {
    pub sensor: String,
    /// Time of the first sample, on the stream's clock.
    pub t_start: f64,
    /// Length of the block, seconds.
    pub duration_s: f64,
    /// Shaft speed it was judged at.
    pub shaft_rpm: f64,
    pub diagnosis: Arc<Diagnosis>,
}

impl BlockFinding {
    /// The block is known once its last sample is: its data time.
    pub fn t(&self) -> f64 {
        self.t_start + self.duration_s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A scalar reading (temperature, speed, current...).
    Reading { sensor: String, t: f64, value: f64 },
    /// A vibration block and its diagnosis.
    Block(Arc<BlockFinding>),
    /// A block that arrived but could not be judged, and why.
    BlockFailed {
        sensor: String,
        t: f64,
        problem: String,
    },
    /// The sensor's source said it is gone (a node's death certificate):
    /// stale from `t` until its next data.
    Offline {
        sensor: String,
        t: f64,
        reason: String,
    },
}

impl Observation {
    pub fn t(&self) -> f64 {
        match self {
            Observation::Reading { t, .. }
            | Observation::BlockFailed { t, .. }
            | Observation::Offline { t, .. } => *t,
            Observation::Block(block) => block.t(),
        }
    }

    pub fn sensor(&self) -> &str {
        match self {
            Observation::Reading { sensor, .. }
            | Observation::BlockFailed { sensor, .. }
            | Observation::Offline { sensor, .. } => sensor,
            Observation::Block(block) => &block.sensor,
        }
    }
}
