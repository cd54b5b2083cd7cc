//! ISO 20816-3 §6.4: a machine's own normal level, and the alarm limit above it.

use serde::Serialize;

/// Blocks whose median velocity becomes a sensor's baseline.
pub const BASELINE_BLOCKS: usize = 10;

/// Learned from the sensor's first [`BASELINE_BLOCKS`] blocks in data-time
/// order; the median, so one odd block does not move it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Baseline {
    #[serde(skip)]
    learning: Vec<f64>,
    pub value_mm_s: Option<f64>,
}

impl Baseline {
    pub fn learn(&mut self, velocity_mm_s: f64) {
        if self.value_mm_s.is_some() || !velocity_mm_s.is_finite() {
            return;
        }
        self.learning.push(velocity_mm_s);
        if self.learning.len() == BASELINE_BLOCKS {
            self.learning.sort_by(f64::total_cmp);
            self.value_mm_s = Some(self.learning[BASELINE_BLOCKS / 2]);
            self.learning = Vec::new();
        }
    }

    /// Blocks still needed before the baseline is known.
    pub fn blocks_to_go(&self) -> usize {
        if self.value_mm_s.is_some() {
            0
        } else {
            BASELINE_BLOCKS - self.learning.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_the_first_blocks_then_it_stays() {
        let mut baseline = Baseline::default();
        for v in [1.0, 9.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.05, 0.95, 1.0] {
            assert_eq!(baseline.value_mm_s, None);
            baseline.learn(v);
        }
        assert_eq!(
            baseline.value_mm_s,
            Some(1.0),
            "one outlier does not move it"
        );
        baseline.learn(50.0);
        assert_eq!(baseline.value_mm_s, Some(1.0));
        assert_eq!(baseline.blocks_to_go(), 0);
    }

    #[test]
    fn non_finite_values_are_not_learned() {
        let mut baseline = Baseline::default();
        baseline.learn(f64::NAN);
        assert_eq!(baseline.blocks_to_go(), BASELINE_BLOCKS);
    }
}
