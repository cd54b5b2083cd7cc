//! ISO 20816-3 §6.4: a machine's own normal level, and the alarm limit above it.

use serde::Serialize;

/// Blocks whose median velocity becomes a sensor's baseline.
pub const BASELINE_BLOCKS: usize = 10;

/// Learned from the sensor's first [`BASELINE_BLOCKS`] blocks in data-time
/// order; the median, so one odd block does not move it. After maintenance
/// a person may have it learned afresh ([`Baseline::relearn`]: the machine
/// is in a new normal state), and a baseline the gateway recorded is
/// restored as it was ([`Baseline::restore`]), so that a restart never
/// learns a worn machine's level as its normal.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Baseline {
    #[serde(skip)]
    learning: Vec<f64>,
    pub value_mm_s: Option<f64>,
    /// Data time it was learned (its last block), or since when it is
    /// being learned again.
    pub since_t: Option<f64>,
    /// Who had it learned afresh; `None`: learned from the sensor's first blocks.
    pub commissioned_by: Option<String>,
}

impl Baseline {
    /// One block's velocity at data time `t`; true when this block made
    /// the baseline known.
    pub fn learn(&mut self, t: f64, velocity_mm_s: f64) -> bool {
        if self.value_mm_s.is_some() || !velocity_mm_s.is_finite() {
            return false;
        }
        self.learning.push(velocity_mm_s);
        if self.learning.len() < BASELINE_BLOCKS {
            return false;
        }
        self.learning.sort_by(f64::total_cmp);
        self.value_mm_s = Some(self.learning[BASELINE_BLOCKS / 2]);
        self.since_t = Some(t);
        self.learning = Vec::new();
        true
    }

    /// Forget the value and learn it again from the next blocks (asked by
    /// `by` at data time `t`, after maintenance or recommissioning).
    pub fn relearn(&mut self, t: f64, by: Option<&str>) {
        *self = Baseline {
            learning: Vec::new(),
            value_mm_s: None,
            since_t: Some(t),
            commissioned_by: by.map(str::to_owned),
        };
    }

    /// A value recorded earlier (the gateway's record); a value that is
    /// not a velocity is refused and the baseline left as it is.
    pub fn restore(&mut self, value_mm_s: f64, t: f64, by: Option<&str>) -> bool {
        if !(value_mm_s.is_finite() && value_mm_s >= 0.0) {
            return false;
        }
        *self = Baseline {
            learning: Vec::new(),
            value_mm_s: Some(value_mm_s),
            since_t: Some(t),
            commissioned_by: by.map(str::to_owned),
        };
        true
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
        let blocks = [1.0, 9.0, 1.1, 0.9, 1.2, 1.0, 0.8, 1.05, 0.95, 1.0];
        for (i, v) in blocks.into_iter().enumerate() {
            assert_eq!(baseline.value_mm_s, None);
            assert_eq!(baseline.learn(i as f64, v), i + 1 == BASELINE_BLOCKS);
        }
        assert_eq!(
            baseline.value_mm_s,
            Some(1.0),
            "one outlier does not move it"
        );
        assert!(!baseline.learn(10.0, 50.0));
        assert_eq!(baseline.value_mm_s, Some(1.0));
        assert_eq!(baseline.since_t, Some(9.0), "known at its last block");
        assert_eq!(baseline.blocks_to_go(), 0);
    }

    #[test]
    fn non_finite_values_are_not_learned() {
        let mut baseline = Baseline::default();
        baseline.learn(0.0, f64::NAN);
        assert_eq!(baseline.blocks_to_go(), BASELINE_BLOCKS);
    }

    #[test]
    fn relearning_forgets_the_old_value_and_learns_the_new_normal() {
        let mut baseline = Baseline::default();
        for i in 0..BASELINE_BLOCKS {
            baseline.learn(i as f64, 4.0);
        }
        baseline.relearn(100.0, Some("maria"));
        assert_eq!(baseline.value_mm_s, None);
        assert_eq!(baseline.blocks_to_go(), BASELINE_BLOCKS);
        assert_eq!(baseline.commissioned_by.as_deref(), Some("maria"));
        for i in 0..BASELINE_BLOCKS {
            baseline.learn(101.0 + i as f64, 1.5);
        }
        assert_eq!(baseline.value_mm_s, Some(1.5));
        assert_eq!(baseline.commissioned_by.as_deref(), Some("maria"));
    }

    #[test]
    fn a_restored_value_stands_and_nonsense_is_refused() {
        let mut baseline = Baseline::default();
        baseline.learn(0.0, 3.0);
        assert!(baseline.restore(1.2, 50.0, None));
        assert_eq!(baseline.value_mm_s, Some(1.2));
        assert_eq!(baseline.blocks_to_go(), 0);
        assert!(!baseline.learn(60.0, 9.0), "a known baseline does not move");
        assert!(!baseline.restore(f64::NAN, 60.0, None));
        assert!(!baseline.restore(-1.0, 60.0, None));
        assert_eq!(baseline.value_mm_s, Some(1.2));
    }
}
