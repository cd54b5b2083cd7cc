//! ISO 20816-3 evaluation zones for broadband vibration velocity.
//!
//! Source: ISO 20816-3:2022 "Mechanical vibration — Measurement and evaluation
//! of machine vibration — Part 3: Industrial machinery with a power rating above
//! 15 kW and operating speeds between 120 r/min and 30 000 r/min", Annex A,
//! Table A.1 (group 1: large machines, 300 kW to 40 MW) and Table A.2 (group 2:
//! medium machines, 15 kW to 300 kW). Values are r.m.s. velocity in mm/s on
//! bearing housings, measured over 10–1000 Hz (2–1000 Hz below 600 r/min).
//! These are the only place the numbers live.

use serde::{Deserialize, Serialize};

/// Written as the number 1 or 2 in a line description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum MachineGroup {
    /// Large machines, rated power above 300 kW.
    Group1,
    /// Medium machines, rated power 15 kW to 300 kW.
    Group2,
}

impl TryFrom<u8> for MachineGroup {
    type Error = String;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            1 => Ok(MachineGroup::Group1),
            2 => Ok(MachineGroup::Group2),
            other => Err(format!("ISO 20816-3 machine group is 1 or 2, not {other}")),
        }
    }
}

impl From<MachineGroup> for u8 {
    fn from(group: MachineGroup) -> u8 {
        match group {
            MachineGroup::Group1 => 1,
            MachineGroup::Group2 => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Rigid,
    Flexible,
}

/// Evaluation zone, best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Zone {
    /// Newly commissioned machines.
    A,
    /// Acceptable for unrestricted long-term operation.
    B,
    /// Unsatisfactory for long-term continuous operation: plan maintenance.
    C,
    /// Severe enough to cause damage.
    D,
}

impl Zone {
    pub fn letter(self) -> &'static str {
        match self {
            Zone::A => "A",
            Zone::B => "B",
            Zone::C => "C",
            Zone::D => "D",
        }
    }

    pub fn meaning(self) -> &'static str {
        match self {
            Zone::A => "as new",
            Zone::B => "acceptable for long-term operation",
            Zone::C => "unsatisfactory: plan maintenance",
            Zone::D => "severe: risk of damage",
        }
    }
}

/// Upper limits of zones A, B and C in mm/s r.m.s.; above the last is zone D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZoneBoundaries {
    pub ab: f64,
    pub bc: f64,
    pub cd: f64,
}

pub fn boundaries(group: MachineGroup, support: Support) -> ZoneBoundaries {
    let (ab, bc, cd) = match (group, support) {
        (MachineGroup::Group1, Support::Rigid) => (2.3, 4.5, 7.1),
        (MachineGroup::Group1, Support::Flexible) => (3.5, 7.1, 11.0),
        (MachineGroup::Group2, Support::Rigid) => (1.4, 2.8, 4.5),
        (MachineGroup::Group2, Support::Flexible) => (2.3, 4.5, 7.1),
    };
    ZoneBoundaries { ab, bc, cd }
}

impl ZoneBoundaries {
    pub fn zone_of(&self, velocity_rms_mm_s: f64) -> Zone {
        if velocity_rms_mm_s <= self.ab {
            Zone::A
        } else if velocity_rms_mm_s <= self.bc {
            Zone::B
        } else if velocity_rms_mm_s <= self.cd {
            Zone::C
        } else {
            Zone::D
        }
    }

    /// ISO 20816-3 §6.4: an alarm when the value exceeds the machine's own
    /// baseline by 25 % of the B/C boundary, even inside zone B.
    pub fn baseline_alarm(&self, baseline_mm_s: f64) -> f64 {
        baseline_mm_s + 0.25 * self.bc
    }
}

/// Lower edge of the ISO measurement band for a shaft speed.
pub fn band_low_hz(shaft_rpm: f64) -> f64 {
    if shaft_rpm < 600.0 { 2.0 } else { 10.0 }
}

pub const BAND_HIGH_HZ: f64 = 1000.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group2_rigid_boundaries_split_zones() {
        let b = boundaries(MachineGroup::Group2, Support::Rigid);
        assert_eq!(b.zone_of(0.9), Zone::A);
        assert_eq!(b.zone_of(1.4), Zone::A);
        assert_eq!(b.zone_of(1.41), Zone::B);
        assert_eq!(b.zone_of(3.0), Zone::C);
        assert_eq!(b.zone_of(4.6), Zone::D);
    }

    #[test]
    fn flexible_support_allows_more_than_rigid() {
        for group in [MachineGroup::Group1, MachineGroup::Group2] {
            let rigid = boundaries(group, Support::Rigid);
            let flexible = boundaries(group, Support::Flexible);
            assert!(flexible.ab > rigid.ab && flexible.bc > rigid.bc && flexible.cd > rigid.cd);
        }
        assert_eq!(boundaries(MachineGroup::Group1, Support::Flexible).cd, 11.0);
    }

    #[test]
    fn baseline_rule_adds_a_quarter_of_bc() {
        let b = boundaries(MachineGroup::Group1, Support::Rigid);
        assert!((b.baseline_alarm(1.0) - (1.0 + 0.25 * 4.5)).abs() < 1e-12);
    }

    #[test]
    fn slow_machines_start_the_band_at_2_hz() {
        assert_eq!(band_low_hz(300.0), 2.0);
        assert_eq!(band_low_hz(1480.0), 10.0);
    }

    #[test]
    fn group_is_written_as_its_number() {
        let g: MachineGroup = serde_json::from_str("2").unwrap();
        assert_eq!(g, MachineGroup::Group2);
        assert_eq!(serde_json::to_string(&MachineGroup::Group1).unwrap(), "1");
        let err = serde_json::from_str::<MachineGroup>("3")
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 or 2"), "{err}");
    }
}
