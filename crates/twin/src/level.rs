//! Colour levels: what the viewer paints, decided without any colour.

use linetwin_core::diagnosis::HealthState;
use linetwin_core::iso::Zone;
use serde::{Serialize, Serializer};

/// Colour level from the ISO zone and the fault diagnosis: the worse wins.
/// A diagnosed fault asks for planned maintenance (at least C); failure is D.
/// An unjudgeable block (check function) neither raises nor lowers it.
pub fn combined_level(iso_zone: Option<Zone>, health: Option<HealthState>) -> Option<Zone> {
    let from_fault = match health {
        Some(HealthState::MaintenanceRequired | HealthState::OutOfSpecification) => Some(Zone::C),
        Some(HealthState::Failure) => Some(Zone::D),
        Some(HealthState::Normal | HealthState::CheckFunction) | None => None,
    };
    match (iso_zone, from_fault) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// How an asset is shown. Its judged sensors are its vibration sensors and
/// its temperature sensors in `degC` (see `crate::temperature`); speeds,
/// currents, pressures and counters are shown but never set a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AssetStatus {
    /// Nothing has been heard from its judged sensors.
    #[default]
    NoData,
    /// Its judged sensors have all been silent for longer than the stale limit.
    Stale,
    /// The worst level among its fresh judged sensors.
    Level(Zone),
}

impl AssetStatus {
    /// The word used in `state()`, events and the UI: `A`-`D`, `stale`, `none`.
    pub fn label(self) -> &'static str {
        match self {
            AssetStatus::NoData => "none",
            AssetStatus::Stale => "stale",
            AssetStatus::Level(zone) => zone.letter(),
        }
    }

    pub fn zone(self) -> Option<Zone> {
        match self {
            AssetStatus::Level(zone) => Some(zone),
            AssetStatus::NoData | AssetStatus::Stale => None,
        }
    }
}

impl Serialize for AssetStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diagnosed_fault_lifts_the_level_to_at_least_c() {
        let cases = [
            (Some(Zone::A), Some(HealthState::Normal), Some(Zone::A)),
            (
                Some(Zone::B),
                Some(HealthState::MaintenanceRequired),
                Some(Zone::C),
            ),
            (
                Some(Zone::D),
                Some(HealthState::MaintenanceRequired),
                Some(Zone::D),
            ),
            (Some(Zone::A), Some(HealthState::Failure), Some(Zone::D)),
            (
                Some(Zone::B),
                Some(HealthState::CheckFunction),
                Some(Zone::B),
            ),
            (None, Some(HealthState::OutOfSpecification), Some(Zone::C)),
            (None, None, None),
        ];
        for (iso, health, expected) in cases {
            assert_eq!(combined_level(iso, health), expected, "{iso:?} {health:?}");
        }
    }

    #[test]
    fn labels_are_the_documented_words() {
        assert_eq!(AssetStatus::NoData.label(), "none");
        assert_eq!(AssetStatus::Stale.label(), "stale");
        assert_eq!(AssetStatus::Level(Zone::C).label(), "C");
        assert_eq!(
            serde_json::to_string(&AssetStatus::Level(Zone::D)).unwrap(),
            "\"D\""
        );
    }
}
