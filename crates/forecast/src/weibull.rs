//! The Weibull life of a component: survival, residual life at an age, and
//! the age-replacement policy's long-run cost rate (Barlow & Proschan).

use linetwin_core::rng::SplitMix64;
use serde::{Deserialize, Serialize};

/// A two-parameter Weibull life, hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weibull {
    pub shape: f64,
    pub scale_h: f64,
}

impl Weibull {
    pub fn new(shape: f64, scale_h: f64) -> Option<Weibull> {
        (shape.is_finite() && shape > 0.0 && scale_h.is_finite() && scale_h > 0.0)
            .then_some(Weibull { shape, scale_h })
    }

    /// Probability of surviving to `t` hours.
    pub fn survival(&self, t: f64) -> f64 {
        if t <= 0.0 {
            1.0
        } else {
            (-(t / self.scale_h).powf(self.shape)).exp()
        }
    }

    pub fn cdf(&self, t: f64) -> f64 {
        1.0 - self.survival(t)
    }

    pub fn mean_h(&self) -> f64 {
        self.scale_h * gamma(1.0 + 1.0 / self.shape)
    }

    /// Remaining life that a component of age `age_h` outlives with
    /// probability `1 - q`: the quantile `q` of its residual life.
    pub fn residual_quantile(&self, age_h: f64, q: f64) -> f64 {
        let age = age_h.max(0.0);
        let cumulative_hazard = (age / self.scale_h).powf(self.shape) - (1.0 - q).ln();
        (self.scale_h * cumulative_hazard.powf(1.0 / self.shape) - age).max(0.0)
    }

    /// A random residual life at `age_h`.
    pub fn sample_residual(&self, age_h: f64, rng: &mut SplitMix64) -> f64 {
        self.residual_quantile(age_h, rng.uniform())
    }

    /// Probability of failing within `within_h` hours, having survived to `age_h`.
    pub fn conditional_failure(&self, age_h: f64, within_h: f64) -> f64 {
        let survived = self.survival(age_h);
        if survived <= 0.0 {
            return 1.0;
        }
        1.0 - self.survival(age_h + within_h) / survived
    }

    /// Maximum-likelihood scale for a known shape, from complete lives:
    /// with fewer than a dozen lives the shape itself is not identifiable
    /// (its estimate scatters by a factor of two), so it comes from physics.
    pub fn fit_scale(shape: f64, lives_h: &[f64]) -> Option<Weibull> {
        let lives: Vec<f64> = lives_h
            .iter()
            .copied()
            .filter(|l| l.is_finite() && *l > 0.0)
            .collect();
        if lives.is_empty() {
            return None;
        }
        let mean_power = lives.iter().map(|l| l.powf(shape)).sum::<f64>() / lives.len() as f64;
        Weibull::new(shape, mean_power.powf(1.0 / shape))
    }
}

/// Long-run cost per hour of replacing at age `interval_h` or at failure,
/// whichever comes first: `(Cp R(T) + Cf F(T)) / ∫0^T R(u) du`.
pub fn age_replacement_cost_rate(
    life: &Weibull,
    interval_h: f64,
    preventive_cost: f64,
    failure_cost: f64,
) -> f64 {
    let survived = life.survival(interval_h);
    let expected_cycle_h = integrate(|u| life.survival(u), 0.0, interval_h, 2000);
    (preventive_cost * survived + failure_cost * (1.0 - survived)) / expected_cycle_h
}

/// Cost rate of running to failure: `Cf / MTTF`.
pub fn run_to_failure_cost_rate(life: &Weibull, failure_cost: f64) -> f64 {
    failure_cost / life.mean_h()
}

/// The interval minimising the age-replacement cost rate, and that rate.
/// `None` when replacing before failure never pays (shape <= 1 or a
/// preventive cost as high as a failure's).
pub fn optimal_age_replacement(
    life: &Weibull,
    preventive_cost: f64,
    failure_cost: f64,
) -> Option<(f64, f64)> {
    if life.shape <= 1.0 || preventive_cost >= failure_cost {
        return None;
    }
    let rate = |t: f64| age_replacement_cost_rate(life, t, preventive_cost, failure_cost);
    let interval = golden_section_min(rate, 1e-3 * life.scale_h, 5.0 * life.scale_h, 1e-6);
    let best = rate(interval);
    (best < run_to_failure_cost_rate(life, failure_cost)).then_some((interval, best))
}

/// Simpson's rule with `steps` (even) intervals.
pub fn integrate(f: impl Fn(f64) -> f64, from: f64, to: f64, steps: usize) -> f64 {
    if to <= from {
        return 0.0;
    }
    let n = steps.max(2) & !1;
    let h = (to - from) / n as f64;
    let mut sum = f(from) + f(to);
    for i in 1..n {
        let weight = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += weight * f(from + i as f64 * h);
    }
    sum * h / 3.0
}

/// Minimum of a unimodal function on [lo, hi], to a relative tolerance.
pub fn golden_section_min(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64, tolerance: f64) -> f64 {
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    while (hi - lo) > tolerance * (a.abs() + b.abs()).max(1e-12) {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = f(b);
        }
    }
    (lo + hi) / 2.0
}

/// The gamma function (Lanczos, g = 7), accurate to ~1e-13 for x > 0.
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x));
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_matches_known_values() {
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
        assert!((gamma(1.4) - 0.887_263_817_503_075).abs() < 1e-12);
    }

    /// The textbook case: Weibull(scale 1000, shape 2.5), Cp 1, Cf 5.
    #[test]
    fn age_replacement_reproduces_the_known_optimum() {
        let life = Weibull::new(2.5, 1000.0).unwrap();
        let (interval, rate) = optimal_age_replacement(&life, 1.0, 5.0).unwrap();
        println!("optimal age replacement: every {interval:.1} h at {rate:.6} per hour");
        assert!(
            (interval - 493.0).abs() < 3.0,
            "optimal interval {interval}"
        );
        assert!((rate - 0.00346).abs() < 0.000_01, "cost rate {rate}");
        let to_failure = run_to_failure_cost_rate(&life, 5.0);
        assert!((to_failure - 0.00564).abs() < 0.000_01, "{to_failure}");
    }

    #[test]
    fn no_preventive_replacement_for_a_memoryless_life() {
        let life = Weibull::new(1.0, 1000.0).unwrap();
        assert_eq!(optimal_age_replacement(&life, 1.0, 5.0), None);
    }

    #[test]
    fn residual_life_shrinks_with_age_for_wear_out() {
        let life = Weibull::new(2.5, 1000.0).unwrap();
        let young = life.residual_quantile(0.0, 0.5);
        let old = life.residual_quantile(900.0, 0.5);
        assert!((young - 1000.0 * 2f64.ln().powf(0.4)).abs() < 1e-9);
        assert!(old < young / 2.0, "{old} vs {young}");
        assert!((life.conditional_failure(0.0, 1000.0) - (1.0 - (-1f64).exp())).abs() < 1e-12);
    }

    #[test]
    fn scale_fit_with_known_shape_recovers_the_scale() {
        let life = Weibull::new(2.0, 500.0).unwrap();
        let mut rng = SplitMix64::new(7);
        let lives: Vec<f64> = (0..20_000)
            .map(|_| life.sample_residual(0.0, &mut rng))
            .collect();
        let fitted = Weibull::fit_scale(2.0, &lives).unwrap();
        assert!((fitted.scale_h - 500.0).abs() < 5.0, "{fitted:?}");
        assert_eq!(Weibull::fit_scale(2.0, &[f64::NAN, -1.0]), None);
    }
}
