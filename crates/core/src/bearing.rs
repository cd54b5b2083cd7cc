//! Rolling-bearing defect frequencies from geometry and shaft speed.

use serde::{Deserialize, Serialize};

use crate::line::BearingGeometry;

/// Characteristic defect frequencies in Hz at one shaft speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DefectFrequencies {
    /// Shaft rotation frequency.
    pub shaft_hz: f64,
    /// Ball pass frequency, outer race.
    pub bpfo: f64,
    /// Ball pass frequency, inner race.
    pub bpfi: f64,
    /// Ball (rolling element) spin frequency.
    pub bsf: f64,
    /// Fundamental train (cage) frequency.
    pub ftf: f64,
}

impl BearingGeometry {
    /// Standard kinematic formulas, assuming no slip and a stationary outer race.
    pub fn defect_frequencies(&self, shaft_rpm: f64) -> DefectFrequencies {
        let fr = shaft_rpm / 60.0;
        let n = f64::from(self.rolling_elements);
        let ratio = self.ball_diameter_mm / self.pitch_diameter_mm
            * self.contact_angle_deg.to_radians().cos();
        DefectFrequencies {
            shaft_hz: fr,
            bpfo: n / 2.0 * fr * (1.0 - ratio),
            bpfi: n / 2.0 * fr * (1.0 + ratio),
            bsf: self.pitch_diameter_mm / (2.0 * self.ball_diameter_mm)
                * fr
                * (1.0 - ratio * ratio),
            ftf: fr / 2.0 * (1.0 - ratio),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CWRU drive-end SKF 6205: published multipliers of shaft speed
    /// (BPFI 5.4152, BPFO 3.5848, FTF 0.39828, BSF 2.3567).
    #[test]
    fn skf_6205_matches_published_multipliers() {
        let skf6205 = BearingGeometry {
            designation: "6205-2RS JEM".into(),
            rolling_elements: 9,
            ball_diameter_mm: 0.3126 * 25.4,
            pitch_diameter_mm: 1.537 * 25.4,
            contact_angle_deg: 0.0,
        };
        let f = skf6205.defect_frequencies(60.0);
        assert!((f.shaft_hz - 1.0).abs() < 1e-12);
        assert!((f.bpfi - 5.4152).abs() < 1e-3, "{}", f.bpfi);
        assert!((f.bpfo - 3.5848).abs() < 1e-3, "{}", f.bpfo);
        assert!((f.ftf - 0.39828).abs() < 1e-4, "{}", f.ftf);
        assert!((f.bsf - 2.3567).abs() < 1e-3, "{}", f.bsf);
    }

    #[test]
    fn frequencies_scale_with_speed_and_obey_identities() {
        let g = BearingGeometry {
            designation: String::new(),
            rolling_elements: 12,
            ball_diameter_mm: 10.0,
            pitch_diameter_mm: 50.0,
            contact_angle_deg: 15.0,
        };
        let slow = g.defect_frequencies(900.0);
        let fast = g.defect_frequencies(1800.0);
        assert!((fast.bpfo / slow.bpfo - 2.0).abs() < 1e-12);
        // BPFO + BPFI = n * shaft, and BPFO = n * FTF.
        assert!((slow.bpfo + slow.bpfi - 12.0 * slow.shaft_hz).abs() < 1e-9);
        assert!((slow.bpfo - 12.0 * slow.ftf).abs() < 1e-9);
    }
}
