//! What a maintenance request says failed, in the words of ISO 14224
//! (petroleum, petrochemical and natural gas industries — collection and
//! exchange of reliability and maintenance data; its codes are what most
//! CMMS failure catalogues are built from): the failure mode (what was
//! observed, annex B table B.15 for rotating equipment), the failure
//! mechanism (what caused it, table B.2) and the maintainable item.

use linetwin_core::diagnosis::Verdict;
use linetwin_core::line::SensorKind;
use serde::Serialize;

use crate::asset::AssetState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FailureMode {
    /// ISO 14224 failure mode code: `VIB` vibration, `OHE` overheating.
    pub code: &'static str,
    pub mode: &'static str,
    /// ISO 14224 failure mechanism code and name.
    pub mechanism_code: &'static str,
    pub mechanism: &'static str,
    /// The maintainable item that is suspected.
    pub item: &'static str,
}

impl FailureMode {
    /// Vibration (or a request) whose cause the twin cannot name.
    pub const UNKNOWN: FailureMode = mode("VIB", "Vibration", "1.2", "Vibration", "Unknown");
}

const fn mode(
    code: &'static str,
    mode: &'static str,
    mechanism_code: &'static str,
    mechanism: &'static str,
    item: &'static str,
) -> FailureMode {
    FailureMode {
        code,
        mode,
        mechanism_code,
        mechanism,
        item,
    }
}

/// The failure an asset's state points at: the diagnosis of its worst
/// vibration sensor when it names a defect, otherwise heat (a temperature
/// at C or D), otherwise vibration of unknown cause.
pub fn failure_mode(asset: &AssetState) -> FailureMode {
    if let Some((_, sensor)) = asset.worst_sensor()
        && let Some(diagnosis) = &sensor.diagnosis
        && let Some(known) = for_verdict(diagnosis.verdict)
    {
        return known;
    }
    if asset.suspects_lubrication() {
        return mode("OHE", "Overheating", "2.4", "Wear", "Lubrication");
    }
    let hot = asset.sensors.values().any(|s| {
        s.kind == SensorKind::Temperature
            && s.level.is_some_and(|z| z >= linetwin_core::iso::Zone::C)
    });
    if hot {
        return mode("OHE", "Overheating", "2.7", "Overheating", "Bearing");
    }
    FailureMode::UNKNOWN
}

fn for_verdict(verdict: Verdict) -> Option<FailureMode> {
    Some(match verdict {
        Verdict::None => return None,
        // Spalling of a race or a rolling element is rolling-contact fatigue.
        Verdict::Bearing | Verdict::OuterRace | Verdict::InnerRace | Verdict::Ball => {
            mode("VIB", "Vibration", "2.6", "Fatigue", "Bearing")
        }
        Verdict::Cage => mode("VIB", "Vibration", "2.4", "Wear", "Bearing"),
        Verdict::Unbalance => mode("VIB", "Vibration", "1.2", "Vibration", "Rotor"),
        Verdict::Misalignment => mode(
            "VIB",
            "Vibration",
            "1.3",
            "Clearance/alignment failure",
            "Coupling",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_the_diagnosis_names_has_a_mode() {
        for verdict in [
            Verdict::Bearing,
            Verdict::OuterRace,
            Verdict::InnerRace,
            Verdict::Ball,
            Verdict::Cage,
            Verdict::Unbalance,
            Verdict::Misalignment,
        ] {
            let found = for_verdict(verdict).expect("a defect has a mode");
            assert_eq!(found.code, "VIB", "{verdict:?}");
        }
        assert_eq!(for_verdict(Verdict::None), None);
        assert_eq!(
            for_verdict(Verdict::InnerRace).map(|m| (m.mechanism_code, m.item)),
            Some(("2.6", "Bearing"))
        );
        assert_eq!(
            for_verdict(Verdict::Misalignment).map(|m| m.item),
            Some("Coupling")
        );
    }
}
