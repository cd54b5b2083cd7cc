//! Envelope analysis: an FFT filter bank over the stored segment spectra,
//! the fast kurtogram to choose a band, and the squared-envelope spectrum.
//!
//! A band [f1, f2) of a segment's positive-frequency bins, moved down to 0 Hz
//! and inverse-transformed with m ≥ (f2 - f1) / df points, is the band's
//! complex envelope (its analytic signal shifted to baseband, decimated by
//! len / m): band-pass filter, Hilbert transform and decimation in one step.
//! |c|² is the squared envelope. For the envelope spectrum m ≥ 2 (f2 - f1) / df
//! so that |c|², whose bandwidth is the band's width, is not aliased.

use rustfft::num_complex::Complex32;
use serde::{Deserialize, Serialize};

use super::Work;
use super::spectrum::SegmentPlan;
use crate::dsp::FftCache;

/// The band an envelope spectrum was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnvelopeBand {
    pub low_hz: f64,
    pub high_hz: f64,
    pub centre_hz: f64,
    pub bandwidth_hz: f64,
    /// Kurtogram level: 0 is the whole band, k halves it k times, k.6 splits a level-(k-1) band in three.
    pub level: f64,
    /// Spectral kurtosis of the band's complex envelope (0 for Gaussian noise).
    pub spectral_kurtosis: f64,
}

/// One row of the kurtogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KurtogramLevel {
    pub level: f64,
    pub bandwidth_hz: f64,
    /// Spectral kurtosis of band i, [i * bandwidth, (i + 1) * bandwidth).
    pub kurtosis: Vec<f32>,
}

/// Part of each segment's envelope left out of the kurtosis: the Tukey tapers.
const EDGE: f64 = 0.5 * super::TUKEY_TAPER;
/// Fewest bins a kurtogram band may have.
const MIN_BAND_BINS: usize = 16;

/// Writes the complex envelope of bins [k1, k2) of one segment into `buffer[..m]`.
#[allow(clippy::too_many_arguments)]
fn band_envelope(
    inverse: &dyn rustfft::Fft<f32>,
    bins: &[Complex32],
    k1: usize,
    k2: usize,
    whiten: bool,
    scale: f32,
    buffer: &mut [Complex32],
    scratch: &mut [Complex32],
) {
    buffer.fill(Complex32::default());
    for (b, &x) in buffer.iter_mut().zip(&bins[k1..k2]) {
        *b = if whiten {
            let a = x.norm();
            if a > 0.0 {
                x * (scale / a)
            } else {
                Complex32::default()
            }
        } else {
            x * scale
        };
    }
    inverse.process_with_scratch(buffer, scratch);
}

/// Band edges in bins for band `i` of width `width_hz`, kept inside 1..half.
fn band_bins(i: usize, width_hz: f64, bin_hz: f64, half: usize) -> (usize, usize) {
    let k1 = ((i as f64 * width_hz / bin_hz).round() as usize).max(1);
    let k2 = (((i + 1) as f64 * width_hz / bin_hz).round() as usize).min(half - 1);
    (k1, k2.max(k1))
}

/// The filter bank of the fast kurtogram (Antoni 2007, 1/3-binary tree):
/// bandwidths fs/2, fs/4, fs/6, fs/8, fs/12... down to `min_bandwidth_hz`.
///
/// For every band, the spectral kurtosis K = <|c|⁴> / <|c|²>² - 2 of the
/// complex envelope c over all segments (tapered ends left out): 0 for
/// Gaussian noise, large where impacts ring. Returns the kurtogram rows and
/// the band of highest kurtosis among those starting at or above
/// `min_low_hz` (the widest on ties).
pub(crate) fn kurtogram(
    ffts: &mut FftCache,
    work: &mut Work,
    plan: &SegmentPlan,
    sample_rate_hz: f64,
    min_bandwidth_hz: f64,
    min_low_hz: f64,
) -> (Vec<KurtogramLevel>, Option<EnvelopeBand>) {
    let half = plan.half();
    let bin_hz = plan.bin_hz(sample_rate_hz);
    let nyquist = 0.5 * sample_rate_hz;
    let mut levels = Vec::new();
    let mut best: Option<EnvelopeBand> = None;
    for (index, divisions) in divisions().enumerate() {
        let width = nyquist / divisions as f64;
        if (width < min_bandwidth_hz && index > 0) || width / bin_hz < MIN_BAND_BINS as f64 {
            break;
        }
        let level = level_of(divisions);
        let mut row = Vec::with_capacity(divisions);
        for i in 0..divisions {
            let (k1, k2) = band_bins(i, width, bin_hz, half);
            if k2 - k1 < 2 {
                row.push(0.0);
                continue;
            }
            let sk = band_pass(ffts, work, plan, sample_rate_hz, k1, k2, false, None);
            row.push(sk as f32);
            let low_hz = k1 as f64 * bin_hz;
            if low_hz >= min_low_hz && best.is_none_or(|b| sk > b.spectral_kurtosis) {
                let high_hz = k2 as f64 * bin_hz;
                best = Some(EnvelopeBand {
                    low_hz,
                    high_hz,
                    centre_hz: 0.5 * (low_hz + high_hz),
                    bandwidth_hz: high_hz - low_hz,
                    level,
                    spectral_kurtosis: sk,
                });
            }
        }
        levels.push(KurtogramLevel {
            level,
            bandwidth_hz: width,
            kurtosis: row,
        });
    }
    (levels, best)
}

/// One band of every segment: its spectral kurtosis, and when `spectrum`
/// is given its squared-envelope spectrum (the band's complex envelope c,
/// zero-padded to twice the band so |c|² is not aliased; |c|² less its
/// mean, a Hann window, an FFT; powers averaged over segments).
#[allow(clippy::too_many_arguments)]
fn band_pass(
    ffts: &mut FftCache,
    work: &mut Work,
    plan: &SegmentPlan,
    sample_rate_hz: f64,
    k1: usize,
    k2: usize,
    whiten: bool,
    mut spectrum: Option<&mut EnvelopeSpectrum>,
) -> f64 {
    let half = plan.half();
    let bin_hz = plan.bin_hz(sample_rate_hz);
    let width = k2 - k1;
    let m = if spectrum.is_some() {
        (2 * width).next_power_of_two().max(16)
    } else {
        width.next_power_of_two()
    };
    let inverse = ffts.inverse(m);
    let forward = ffts.forward(m);
    let Work {
        segment_bins,
        buffer,
        scratch,
        windows,
    } = work;
    let scratch_len = inverse
        .get_inplace_scratch_len()
        .max(forward.get_inplace_scratch_len());
    scratch.resize(scratch_len.max(scratch.len()), Complex32::default());
    buffer.resize(m.max(buffer.len()), Complex32::default());
    let (hann, _) = windows.get(m);
    if let Some(ses) = spectrum.as_deref_mut() {
        ses.power.clear();
        ses.power.resize(m / 2 + 1, 0.0);
    }
    let segments = plan.starts.len();
    let scale = 2.0 / plan.len as f32;
    let (first, last) = (
        (EDGE * m as f64).ceil() as usize,
        ((1.0 - EDGE) * m as f64).floor() as usize,
    );
    let (mut s2, mut s4, mut count) = (0.0f64, 0.0f64, 0usize);
    for s in 0..segments {
        let bins = &segment_bins[s * half..(s + 1) * half];
        let buffer = &mut buffer[..m];
        band_envelope(&*inverse, bins, k1, k2, whiten, scale, buffer, scratch);
        for c in &buffer[first..last] {
            let p = f64::from(c.norm_sqr());
            s2 += p;
            s4 += p * p;
        }
        count += last - first;
        if let Some(ses) = spectrum.as_deref_mut() {
            let mean = buffer.iter().map(|c| f64::from(c.norm_sqr())).sum::<f64>() / m as f64;
            for (b, &w) in buffer.iter_mut().zip(hann) {
                *b = Complex32::new(((f64::from(b.norm_sqr()) - mean) as f32) * w, 0.0);
            }
            forward.process_with_scratch(buffer, scratch);
            for (p, b) in ses.power.iter_mut().zip(buffer.iter()) {
                *p += f64::from(b.norm_sqr());
            }
        }
    }
    if let Some(ses) = spectrum {
        ses.power.iter_mut().for_each(|p| *p /= segments as f64);
        let window_sum: f64 = hann.iter().map(|&w| f64::from(w)).sum();
        ses.bin_hz = bin_hz;
        ses.segments = segments;
        ses.amplitude_scale = 2.0 / window_sum;
        ses.low_hz = k1 as f64 * bin_hz;
        ses.high_hz = k2 as f64 * bin_hz;
        ses.whitened = whiten;
    }
    if s2 > 0.0 {
        count as f64 * s4 / (s2 * s2) - 2.0
    } else {
        0.0
    }
}

/// 1, 2, 3, 4, 6, 8, 12, 16, 24...: the 1/3-binary tree.
fn divisions() -> impl Iterator<Item = usize> {
    (0..40u32).map(|i| {
        if i == 0 {
            1
        } else if i % 2 == 1 {
            1 << i.div_ceil(2)
        } else {
            3 << (i / 2 - 1)
        }
    })
}

fn level_of(divisions: usize) -> f64 {
    if divisions.is_power_of_two() {
        f64::from(divisions.trailing_zeros())
    } else {
        f64::from((divisions / 3).trailing_zeros()) + 1.6
    }
}

/// Squared-envelope spectrum, averaged over segments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvelopeSpectrum {
    /// Mean |FFT(w · (|c|² - mean))|² per bin, 0..=m/2.
    pub power: Vec<f64>,
    pub bin_hz: f64,
    pub segments: usize,
    /// Multiply sqrt(power) by this for the amplitude of the envelope's
    /// components (g² for a raw band).
    pub amplitude_scale: f64,
    pub low_hz: f64,
    pub high_hz: f64,
    pub whitened: bool,
}

impl EnvelopeSpectrum {
    pub fn amplitudes(&self) -> Vec<f32> {
        self.power
            .iter()
            .map(|p| (p.sqrt() * self.amplitude_scale) as f32)
            .collect()
    }

    /// "envelope 2.6-3.4 kHz" or "pre-whitened envelope 0.5-6.0 kHz".
    pub fn describe(&self) -> String {
        let prefix = if self.whitened {
            "pre-whitened envelope"
        } else {
            "envelope"
        };
        format!("{prefix} {}", describe_band(self.low_hz, self.high_hz))
    }
}

pub fn describe_band(low_hz: f64, high_hz: f64) -> String {
    if high_hz >= 1000.0 {
        format!("{:.1}-{:.1} kHz", low_hz / 1000.0, high_hz / 1000.0)
    } else {
        format!("{low_hz:.0}-{high_hz:.0} Hz")
    }
}

/// The squared-envelope spectrum of band [low_hz, high_hz). With `whiten`
/// every bin is first divided by its magnitude: cepstrum pre-whitening
/// (Sawalhi & Randall 2011; Borghesani et al. 2013), which removes the
/// discrete lines and the resonances' colour and leaves the impulses.
pub(crate) fn envelope_spectrum(
    ffts: &mut FftCache,
    work: &mut Work,
    plan: &SegmentPlan,
    sample_rate_hz: f64,
    low_hz: f64,
    high_hz: f64,
    whiten: bool,
) -> EnvelopeSpectrum {
    let half = plan.half();
    let bin_hz = plan.bin_hz(sample_rate_hz);
    let k1 = ((low_hz / bin_hz).round() as usize).clamp(1, half - 2);
    let k2 = ((high_hz / bin_hz).round() as usize).clamp(k1 + 1, half - 1);
    let mut ses = EnvelopeSpectrum::default();
    band_pass(
        ffts,
        work,
        plan,
        sample_rate_hz,
        k1,
        k2,
        whiten,
        Some(&mut ses),
    );
    ses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnosis::spectrum::analyse_segments;
    use crate::rng::SplitMix64;
    use std::f64::consts::TAU;

    #[test]
    fn tree_has_antoni_levels() {
        let d: Vec<usize> = divisions().take(9).collect();
        assert_eq!(d, vec![1, 2, 3, 4, 6, 8, 12, 16, 24]);
        let l: Vec<f64> = d.iter().map(|&d| level_of(d)).collect();
        assert_eq!(l, vec![0.0, 1.0, 1.6, 2.0, 2.6, 3.0, 3.6, 4.0, 4.6]);
    }

    /// Impacts ringing at 3 kHz every 10 ms, in noise: the kurtogram picks a
    /// band around 3 kHz and the envelope spectrum shows 100 Hz.
    #[test]
    fn kurtogram_finds_the_resonance_and_the_envelope_its_rate() {
        let fs = 12_000.0;
        let n = 48_000;
        let mut rng = SplitMix64::new(3);
        let mut x: Vec<f32> = (0..n).map(|_| (0.3 * rng.normal()) as f32).collect();
        let mut t0 = 0.0;
        while t0 < n as f64 / fs {
            let first = (t0 * fs).ceil() as usize;
            for (i, v) in x.iter_mut().enumerate().skip(first).take(200) {
                let tau = i as f64 / fs - t0;
                *v += (2.0 * (-600.0 * tau).exp() * (TAU * 3000.0 * tau).sin()) as f32;
            }
            t0 += 0.01;
        }
        let plan = SegmentPlan::new(n, fs, Some(25.0)).unwrap();
        let mut work = Work::default();
        let mut ffts = FftCache::default();
        analyse_segments(&mut ffts, &mut work, &x, &plan, 0.0, 1.0);
        let (levels, band) = kurtogram(&mut ffts, &mut work, &plan, fs, 400.0, 300.0);
        let band = band.unwrap();
        assert_eq!(levels.len(), 7, "bandwidths 6000 down to 500 Hz");
        assert!(band.low_hz <= 3000.0 && band.high_hz >= 3000.0, "{band:?}");
        assert!(band.spectral_kurtosis > 1.0, "{band:?}");
        let ses = envelope_spectrum(
            &mut ffts,
            &mut work,
            &plan,
            fs,
            band.low_hz,
            band.high_hz,
            false,
        );
        let k = (100.0 / ses.bin_hz).round() as usize;
        let peak = (k - 2..=k + 2).map(|j| ses.power[j]).fold(0.0, f64::max);
        let mut sorted = ses.power[k - 40..k - 5].to_vec();
        sorted.sort_by(f64::total_cmp);
        assert!(
            peak > 100.0 * sorted[sorted.len() / 2],
            "peak {peak} floor {}",
            sorted[sorted.len() / 2]
        );
    }
}
