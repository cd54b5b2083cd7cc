//! Signal processing building blocks: FFT plans, windows, decimation, a plain
//! windowed spectrum, acceleration units. The ISO velocity itself is computed
//! in one place, by the diagnosis (`diagnosis::spectrum`).

use std::collections::HashMap;
use std::f64::consts::TAU;
use std::sync::Arc;

use rustfft::num_complex::Complex32;
use rustfft::{Fft, FftPlanner};

/// Standard gravity, m/s² per g.
pub const STANDARD_GRAVITY: f64 = 9.806_65;

/// Metres per second squared per unit, for the acceleration units we accept.
pub fn acceleration_scale(unit: &str) -> Option<f64> {
    match unit.trim() {
        "g" => Some(STANDARD_GRAVITY),
        "m/s2" | "m/s^2" | "m/s²" => Some(1.0),
        "mm/s2" | "mm/s^2" | "mm/s²" => Some(1e-3),
        _ => None,
    }
}

/// Caches FFT plans: planning costs more than a transform, and blocks of the
/// same size arrive again and again.
pub struct FftCache {
    planner: FftPlanner<f32>,
    plans: HashMap<usize, Arc<dyn Fft<f32>>>,
    inverse_plans: HashMap<usize, Arc<dyn Fft<f32>>>,
}

impl Default for FftCache {
    fn default() -> Self {
        FftCache {
            planner: FftPlanner::new(),
            plans: HashMap::new(),
            inverse_plans: HashMap::new(),
        }
    }
}

impl FftCache {
    pub fn forward(&mut self, len: usize) -> Arc<dyn Fft<f32>> {
        let planner = &mut self.planner;
        self.plans
            .entry(len)
            .or_insert_with(|| planner.plan_fft_forward(len))
            .clone()
    }

    /// Unnormalised inverse transform (rustfft convention: no 1/len factor).
    pub fn inverse(&mut self, len: usize) -> Arc<dyn Fft<f32>> {
        let planner = &mut self.planner;
        self.inverse_plans
            .entry(len)
            .or_insert_with(|| planner.plan_fft_inverse(len))
            .clone()
    }
}

/// Hann window of length `n` (periodic form, for spectral analysis).
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (0.5 - 0.5 * (TAU * i as f64 / n as f64).cos()) as f32)
        .collect()
}

/// Tukey (tapered cosine) window of length `n`: flat in the middle, a
/// half-Hann taper over `taper` (0..1) of the length, split between both ends.
pub fn tukey(n: usize, taper: f64) -> Vec<f32> {
    let edge = (0.5 * taper.clamp(0.0, 1.0) * n as f64).floor() as usize;
    (0..n)
        .map(|i| {
            let d = i.min(n - 1 - i);
            if d >= edge {
                1.0
            } else {
                (0.5 - 0.5 * (std::f64::consts::PI * d as f64 / edge as f64).cos()) as f32
            }
        })
        .collect()
}

/// Reduces the sampling rate by an integer `factor` after an anti-alias
/// low-pass: a Blackman-windowed sinc of `64 * factor + 1` taps whose stop
/// band (about -74 dB) starts at the new Nyquist frequency, so nothing above
/// it folds back; the pass band is flat to within 0.1 dB up to about 80 % of
/// the new Nyquist frequency. Zero-phase (the filter is centred), with the
/// record's ends padded by zeros. `factor` 0 or 1 returns a copy.
pub fn decimate(samples: &[f32], factor: usize) -> Vec<f32> {
    if factor <= 1 {
        return samples.to_vec();
    }
    let taps = 64 * factor + 1;
    let half = (taps / 2) as isize;
    // Transition width of a Blackman window is about 5.5 / taps (cycles per sample).
    let cutoff = 0.5 / factor as f64 - 2.75 / taps as f64;
    let mut h: Vec<f64> = (0..taps)
        .map(|i| {
            let t = i as f64 - half as f64;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (TAU * cutoff * t).sin() / (std::f64::consts::PI * t)
            };
            let phase = TAU * i as f64 / (taps - 1) as f64;
            sinc * (0.42 - 0.5 * phase.cos() + 0.08 * (2.0 * phase).cos())
        })
        .collect();
    let gain: f64 = h.iter().sum();
    h.iter_mut().for_each(|c| *c /= gain);
    let n = samples.len() as isize;
    (0..samples.len().div_ceil(factor))
        .map(|j| {
            let centre = (j * factor) as isize;
            let first = (centre - half).max(0);
            let last = (centre + half).min(n - 1);
            let mut acc = 0.0f64;
            for i in first..=last {
                acc += h[(i - centre + half) as usize] * f64::from(samples[i as usize]);
            }
            acc as f32
        })
        .collect()
}

/// One-sided spectrum of a Hann-windowed block with the mean removed.
pub struct WindowedSpectrum {
    /// Complex bins 0..=n/2.
    pub bins: Vec<Complex32>,
    pub n: usize,
    pub sample_rate_hz: f64,
    /// Σ w², to turn |X|² into power.
    pub window_power: f64,
}

impl WindowedSpectrum {
    pub fn compute(ffts: &mut FftCache, samples: &[f32], sample_rate_hz: f64) -> Self {
        let n = samples.len();
        let mean = samples.iter().map(|&x| f64::from(x)).sum::<f64>() / n.max(1) as f64;
        let window = hann(n);
        let mut buffer: Vec<Complex32> = samples
            .iter()
            .zip(&window)
            .map(|(&x, &w)| Complex32::new(((f64::from(x) - mean) as f32) * w, 0.0))
            .collect();
        if n > 0 {
            ffts.forward(n).process(&mut buffer);
        }
        buffer.truncate(n / 2 + 1);
        let window_power = window.iter().map(|&w| f64::from(w) * f64::from(w)).sum();
        WindowedSpectrum {
            bins: buffer,
            n,
            sample_rate_hz,
            window_power,
        }
    }

    pub fn bin_hz(&self) -> f64 {
        self.sample_rate_hz / self.n as f64
    }

    /// Mean-square contribution of bin `k` to the signal (one-sided).
    pub fn bin_power(&self, k: usize) -> f64 {
        2.0 * f64::from(self.bins[k].norm_sqr()) / (self.n as f64 * self.window_power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert() {
        assert_eq!(acceleration_scale("g"), Some(STANDARD_GRAVITY));
        assert_eq!(acceleration_scale("m/s^2"), Some(1.0));
        assert_eq!(acceleration_scale("furlongs"), None);
    }

    #[test]
    fn decimation_keeps_the_pass_band_and_rejects_what_would_alias() {
        let fs = 48_000.0;
        let n = 48_000;
        let tone = |f: f64| -> Vec<f32> {
            (0..n)
                .map(|i| (TAU * f * i as f64 / fs).sin() as f32)
                .collect()
        };
        let rms = |x: &[f32]| {
            let inner = &x[200..x.len() - 200];
            (inner.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / inner.len() as f64).sqrt()
        };
        let kept = decimate(&tone(3000.0), 4);
        assert_eq!(kept.len(), 12_000);
        assert!((rms(&kept) - 0.5f64.sqrt()).abs() < 0.01, "{}", rms(&kept));
        // 10 kHz would fold to 2 kHz at 12 kHz: it must be gone.
        assert!(rms(&decimate(&tone(10_000.0), 4)) < 1e-3);
        assert_eq!(decimate(&[1.0, 2.0], 1), vec![1.0, 2.0]);
        assert!(decimate(&[], 4).is_empty());
    }

    #[test]
    fn tukey_is_flat_in_the_middle_and_tapers_to_zero() {
        let w = tukey(100, 0.2);
        assert_eq!(w[0], 0.0);
        assert!(w[10..90].iter().all(|&v| v == 1.0));
        assert!(w[5] > 0.0 && w[5] < 1.0);
        assert!(tukey(1, 0.1)[0] == 1.0 && tukey(0, 0.1).is_empty());
    }

    #[test]
    fn empty_and_tiny_blocks_give_a_spectrum_without_panic() {
        let mut ffts = FftCache::default();
        assert!(
            WindowedSpectrum::compute(&mut ffts, &[], 1000.0)
                .bins
                .is_empty()
        );
        assert_eq!(
            WindowedSpectrum::compute(&mut ffts, &[1.0], 1000.0)
                .bins
                .len(),
            1
        );
    }
}
