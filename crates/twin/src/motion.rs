//! How fast each machine runs at a data time, for the scene's motion: a
//! machine turns at the speed its latest fresh block was judged at (the
//! measured speed, or the rated one when the frame carried none), a robot
//! swings at the rate its cycle counter counts, and everything stands still
//! when its data has gone stale or the data says it stopped.

use linetwin_core::line::{Asset, AssetKind, SensorKind};
use serde::Serialize;

use crate::asset::AssetState;

/// Below this a shaft is taken as standing still.
pub const STANDSTILL_RPM: f64 = 1.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Pace {
    /// Shaft revolutions per second.
    Turning {
        rev_per_s: f64,
    },
    /// Work cycles per second (a robot's picks).
    Cycling {
        cycles_per_s: f64,
    },
    Stopped {
        reason: StopReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Nothing has arrived from it yet.
    NoData,
    /// Its data is older than the stale limit: what it does now is unknown.
    Stale,
    /// Its data says it stands still.
    Standstill,
}

impl Pace {
    pub fn is_moving(&self) -> bool {
        !matches!(self, Pace::Stopped { .. })
    }
}

/// The pace of `asset` at data time `now`, from its state.
pub fn pace(asset: &Asset, state: &AssetState, now: f64, stale_after_s: f64) -> Pace {
    let fresh = || {
        state
            .sensors
            .values()
            .filter(move |s| s.fresh_at(now, stale_after_s))
    };
    if fresh().next().is_none() {
        let reason = if state.last_update().is_some() {
            StopReason::Stale
        } else {
            StopReason::NoData
        };
        return Pace::Stopped { reason };
    }
    if asset.kind == AssetKind::Robot
        && let Some(rate) = fresh()
            .filter(|s| s.kind == SensorKind::Cycles)
            .find_map(|s| s.count_rate.per_s)
    {
        return if rate > 0.0 {
            Pace::Cycling { cycles_per_s: rate }
        } else {
            Pace::Stopped {
                reason: StopReason::Standstill,
            }
        };
    }
    // The speed blocks were judged at, else the rated speed while the
    // machine reports anything at all.
    let rpm = fresh()
        .filter_map(|s| s.shaft_rpm)
        .max_by(f64::total_cmp)
        .unwrap_or(f64::from(asset.rated_speed_rpm));
    if rpm.is_finite() && rpm >= STANDSTILL_RPM {
        Pace::Turning {
            rev_per_s: rpm / 60.0,
        }
    } else {
        Pace::Stopped {
            reason: StopReason::Standstill,
        }
    }
}
