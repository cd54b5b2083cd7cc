//! Time-domain indicators of the whole record, in g.

use serde::{Deserialize, Serialize};

/// Overall indicators. The mean is removed first (accelerometers carry a DC
/// offset that is not vibration).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeIndicators {
    pub rms_g: f64,
    /// Largest magnitude.
    pub peak_g: f64,
    /// Peak over r.m.s.: about 3-4 for random vibration, higher for impacts.
    pub crest_factor: f64,
    /// Pearson kurtosis m4 / m2²: 3 for Gaussian vibration, 1.5 for a sine,
    /// higher when the record is impulsive (early bearing damage).
    pub kurtosis: f64,
    /// Mean removed, in g.
    pub mean_g: f64,
}

/// Two passes with f64 accumulation: the mean, then the central moments.
pub fn compute(samples: &[f32], to_g: f64) -> TimeIndicators {
    let n = samples.len().max(1) as f64;
    let mean = samples.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    let (mut m2, mut m4, mut peak) = (0.0f64, 0.0f64, 0.0f64);
    for &x in samples {
        let d = f64::from(x) - mean;
        let d2 = d * d;
        m2 += d2;
        m4 += d2 * d2;
        peak = peak.max(d.abs());
    }
    m2 /= n;
    m4 /= n;
    let rms = m2.sqrt();
    TimeIndicators {
        rms_g: rms * to_g,
        peak_g: peak * to_g,
        crest_factor: if rms > 0.0 { peak / rms } else { 0.0 },
        kurtosis: if m2 > 0.0 { m4 / (m2 * m2) } else { 0.0 },
        mean_g: mean * to_g,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    #[test]
    fn sine_has_textbook_indicators() {
        let x: Vec<f32> = (0..10_000)
            .map(|i| (0.2 + 2.0 * (TAU * 50.0 * i as f64 / 10_000.0).sin()) as f32)
            .collect();
        let t = compute(&x, 0.5);
        assert!((t.rms_g - 2f64.sqrt() * 0.5).abs() < 1e-4, "{t:?}");
        assert!((t.peak_g - 1.0).abs() < 1e-3);
        assert!((t.crest_factor - 2f64.sqrt()).abs() < 1e-3);
        assert!((t.kurtosis - 1.5).abs() < 1e-3);
        assert!((t.mean_g - 0.1).abs() < 1e-6);
    }

    #[test]
    fn zero_signal_has_zero_indicators() {
        let t = compute(&[0.0; 100], 1.0);
        assert_eq!((t.rms_g, t.crest_factor, t.kurtosis), (0.0, 0.0, 0.0));
        assert_eq!(compute(&[], 1.0).rms_g, 0.0);
    }
}
