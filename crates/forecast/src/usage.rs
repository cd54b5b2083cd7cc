//! Remaining life by usage: a cycle counter against a rated life in cycles.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageLife {
    pub cycles: f64,
    pub rated_cycles: f64,
    /// Cycles per hour over the window the rate was measured on.
    pub rate_per_h: f64,
    /// Hours until the rated life at that rate; `None` while the counter
    /// stands still (no usage, no wear by usage).
    pub remaining_h: Option<f64>,
    pub used_fraction: f64,
}

/// From counter readings `(t_h, count)` in time order. A decrease means
/// the counter was reset (the component replaced): only readings after the
/// last reset count. `None` with fewer than two readings since.
pub fn usage_life(readings: &[(f64, f64)], rated_cycles: f64) -> Option<UsageLife> {
    let valid: Vec<(f64, f64)> = readings
        .iter()
        .copied()
        .filter(|(t, c)| t.is_finite() && c.is_finite() && *c >= 0.0)
        .collect();
    let since_reset = valid
        .windows(2)
        .rposition(|w| w[1].1 < w[0].1)
        .map_or(0, |i| i + 1);
    let run = &valid[since_reset..];
    let (&(t0, c0), &(t1, c1)) = (run.first()?, run.last()?);
    if run.len() < 2 || t1 <= t0 || rated_cycles.is_nan() || rated_cycles <= 0.0 {
        return None;
    }
    let rate_per_h = (c1 - c0) / (t1 - t0);
    let left = (rated_cycles - c1).max(0.0);
    Some(UsageLife {
        cycles: c1,
        rated_cycles,
        rate_per_h,
        remaining_h: (rate_per_h > 0.0).then(|| left / rate_per_h),
        used_fraction: c1 / rated_cycles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_hours_follow_the_counting_rate() {
        let readings: Vec<(f64, f64)> = (0..=10)
            .map(|h| (h as f64, 1000.0 + 50.0 * h as f64))
            .collect();
        let life = usage_life(&readings, 10_000.0).unwrap();
        assert!((life.rate_per_h - 50.0).abs() < 1e-9);
        assert!((life.remaining_h.unwrap() - (10_000.0 - 1500.0) / 50.0).abs() < 1e-9);
        assert!((life.used_fraction - 0.15).abs() < 1e-12);
    }

    #[test]
    fn a_reset_counter_starts_a_new_life_and_a_still_one_has_no_end() {
        let readings = [(0.0, 9000.0), (1.0, 9100.0), (2.0, 10.0), (3.0, 110.0)];
        let life = usage_life(&readings, 10_000.0).unwrap();
        assert_eq!(life.cycles, 110.0);
        assert!((life.rate_per_h - 100.0).abs() < 1e-9);
        let still = usage_life(&[(0.0, 5.0), (1.0, 5.0)], 100.0).unwrap();
        assert_eq!(still.remaining_h, None);
        assert_eq!(usage_life(&[(0.0, 5.0)], 100.0), None);
    }
}
