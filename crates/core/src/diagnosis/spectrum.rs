//! Segmenting a record, the Welch-averaged acceleration spectrum, velocity
//! by frequency-domain integration, and lines measured against their floor.

use std::f64::consts::TAU;

use rustfft::num_complex::Complex32;

use super::Work;
use super::matching::median;
use crate::dsp::{FftCache, STANDARD_GRAVITY};

/// Segments span about this many shaft revolutions: a resolution of 1/40 of
/// the shaft frequency separates 1×, the cage rate (about 0.4×) and
/// ±1× sidebands with room to spare, and long records still give several
/// segments to average.
pub const SEGMENT_REVOLUTIONS: f64 = 40.0;
/// Segment length when the speed is unknown, seconds.
pub const DEFAULT_SEGMENT_S: f64 = 1.0;
const MIN_SEGMENT: usize = 256;
const MAX_SEGMENT: usize = 1 << 18;

/// How a record is cut: power-of-two segments with at least 50 % overlap,
/// spread evenly from the first sample to the last.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentPlan {
    pub len: usize,
    pub starts: Vec<usize>,
}

impl SegmentPlan {
    pub fn new(n: usize, sample_rate_hz: f64, shaft_hz: Option<f64>) -> Option<SegmentPlan> {
        if n < MIN_SEGMENT {
            return None;
        }
        let seconds = shaft_hz
            .filter(|f| f.is_finite() && *f > 0.0)
            .map_or(DEFAULT_SEGMENT_S, |f| SEGMENT_REVOLUTIONS / f);
        let wanted =
            (seconds * sample_rate_hz).clamp(MIN_SEGMENT as f64, MAX_SEGMENT as f64) as usize;
        let floor_pow2 = 1usize << (usize::BITS - 1 - n.leading_zeros());
        let len = wanted.next_power_of_two().min(floor_pow2);
        let hop = len / 2;
        let count = if n == len {
            1
        } else {
            (n - len).div_ceil(hop) + 1
        };
        let starts = if count == 1 {
            vec![(n - len) / 2]
        } else {
            (0..count)
                .map(|i| ((i * (n - len)) as f64 / (count - 1) as f64).round() as usize)
                .collect()
        };
        Some(SegmentPlan { len, starts })
    }

    pub fn bin_hz(&self, sample_rate_hz: f64) -> f64 {
        sample_rate_hz / self.len as f64
    }

    /// Positive-frequency bins per segment (0..=len/2).
    pub fn half(&self) -> usize {
        self.len / 2 + 1
    }
}

/// Welch average of the Hann-windowed segments: mean square per bin in g²
/// (sums to the record's variance), bins 0..=len/2. As a side effect stores
/// every segment's Tukey-windowed positive-frequency bins in
/// `work.segment_bins` for the envelope filter bank.
pub(crate) fn analyse_segments(
    ffts: &mut FftCache,
    work: &mut Work,
    samples: &[f32],
    plan: &SegmentPlan,
    mean: f64,
    to_g: f64,
) -> Vec<f64> {
    let len = plan.len;
    let half = plan.half();
    let fft = ffts.forward(len);
    let Work {
        segment_bins,
        buffer,
        scratch,
        windows,
    } = work;
    scratch.resize(
        fft.get_inplace_scratch_len().max(scratch.len()),
        Complex32::default(),
    );
    buffer.resize(len, Complex32::default());
    segment_bins.clear();
    segment_bins.reserve(half * plan.starts.len());
    let mut power = vec![0.0f64; half];
    let (hann, tukey) = windows.get(len);
    let (mean, to_g) = (mean as f32, to_g as f32);
    for &start in &plan.starts {
        let segment = &samples[start..start + len];
        for ((b, &x), &w) in buffer.iter_mut().zip(segment).zip(hann) {
            *b = Complex32::new((x - mean) * to_g * w, 0.0);
        }
        fft.process_with_scratch(buffer, scratch);
        for (p, b) in power.iter_mut().zip(&buffer[..half]) {
            *p += f64::from(b.norm_sqr());
        }
        for ((b, &x), &w) in buffer.iter_mut().zip(segment).zip(tukey) {
            *b = Complex32::new((x - mean) * to_g * w, 0.0);
        }
        fft.process_with_scratch(buffer, scratch);
        segment_bins.extend_from_slice(&buffer[..half]);
    }
    let window_power: f64 = hann.iter().map(|&w| f64::from(w) * f64::from(w)).sum();
    let norm = 2.0 / (plan.starts.len() as f64 * len as f64 * window_power);
    for (k, p) in power.iter_mut().enumerate() {
        *p *= if k == 0 || k == len / 2 {
            0.5 * norm
        } else {
            norm
        };
    }
    power
}

/// Velocity r.m.s. per bin in mm/s from the acceleration power (g²) per bin,
/// zero below `high_pass_hz` (the ISO band's lower edge: integration
/// amplifies low frequencies by 1/f, so they must be cut first).
pub fn velocity_per_bin(
    power_g2: &[f64],
    bin_hz: f64,
    high_pass_hz: f64,
    up_to_hz: f64,
) -> Vec<f64> {
    let last = ((up_to_hz / bin_hz).floor() as usize).min(power_g2.len().saturating_sub(1));
    (0..=last)
        .map(|k| {
            let f = k as f64 * bin_hz;
            if f < high_pass_hz || k == 0 {
                0.0
            } else {
                power_g2[k].sqrt() * STANDARD_GRAVITY * 1000.0 / (TAU * f)
            }
        })
        .collect()
}

/// Root-sum-square of a per-bin r.m.s. spectrum between two frequencies.
pub fn band_rms(per_bin: &[f64], bin_hz: f64, low_hz: f64, high_hz: f64) -> f64 {
    let first = ((low_hz / bin_hz).ceil() as usize).max(1);
    let last = ((high_hz / bin_hz).floor() as usize).min(per_bin.len().saturating_sub(1));
    if first > last {
        return 0.0;
    }
    per_bin[first..=last]
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
}

/// A spectral line: where its peak bin is, its power summed over the Hann
/// main lobe (±2 bins, which holds a tone's whole power), and its peak bin
/// over the local median in dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub bin: usize,
    /// Peak frequency refined by parabolic interpolation of the log power.
    pub frequency_hz: f64,
    pub power: f64,
    pub level_db: f64,
}

/// The strongest bin within `tolerance_hz` of `f_hz` (at least ±1 bin).
pub fn line_near(power: &[f64], bin_hz: f64, f_hz: f64, tolerance_hz: f64) -> Option<Line> {
    if power.len() < 8 || f_hz.is_nan() || f_hz <= 0.0 {
        return None;
    }
    let centre = f_hz / bin_hz;
    let reach = (tolerance_hz / bin_hz).max(1.0);
    let first = ((centre - reach).round().max(1.0)) as usize;
    let last = ((centre + reach).round() as usize).min(power.len() - 2);
    if first > last {
        return None;
    }
    let bin = (first..=last).max_by(|&a, &b| power[a].total_cmp(&power[b]))?;
    let lobe: f64 = power[bin.saturating_sub(2)..=(bin + 2).min(power.len() - 1)]
        .iter()
        .sum();
    let ln = |k: usize| power[k].max(1e-300).ln();
    let (a, b, c) = (ln(bin - 1), ln(bin), ln(bin + 1));
    let denom = a - 2.0 * b + c;
    let delta = if denom < 0.0 {
        (0.5 * (a - c) / denom).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    let floor = local_floor(power, bin, 25, 3);
    let level_db = if floor > 0.0 {
        10.0 * (power[bin] / floor).log10()
    } else {
        0.0
    };
    Some(Line {
        bin,
        frequency_hz: (bin as f64 + delta) * bin_hz,
        power: lobe,
        level_db,
    })
}

/// Median of the power within ±`half` bins of `k`, leaving out ±`exclude`.
pub fn local_floor(power: &[f64], k: usize, half: usize, exclude: usize) -> f64 {
    let first = k.saturating_sub(half).max(1);
    let last = (k + half).min(power.len() - 1);
    let mut values: Vec<f64> = (first..=last)
        .filter(|&j| j.abs_diff(k) > exclude)
        .map(|j| power[j])
        .collect();
    median(&mut values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::FftCache;

    #[test]
    fn segments_cover_the_record_with_half_overlap() {
        let plan = SegmentPlan::new(120_000, 12_000.0, Some(29.5)).unwrap();
        assert_eq!(plan.len, 16_384);
        assert_eq!(plan.starts.len(), 14);
        assert_eq!(*plan.starts.first().unwrap(), 0);
        assert_eq!(*plan.starts.last().unwrap() + plan.len, 120_000);
        assert!(plan.starts.windows(2).all(|w| w[1] - w[0] <= plan.len / 2));
        let block = SegmentPlan::new(16_384, 12_800.0, Some(24.25)).unwrap();
        assert_eq!((block.len, block.starts.clone()), (16_384, vec![0]));
        let odd = SegmentPlan::new(20_480, 20_000.0, Some(33.3)).unwrap();
        assert_eq!((odd.len, odd.starts.clone()), (16_384, vec![0, 4096]));
        assert!(SegmentPlan::new(100, 1000.0, None).is_none());
    }

    #[test]
    fn welch_power_sums_to_the_variance_and_velocity_matches_a_tone() {
        let fs = 12_800.0;
        let (f, v_peak_mm_s) = (49.3, 4.0);
        let a_peak_g = v_peak_mm_s * 1e-3 * TAU * f / STANDARD_GRAVITY;
        let x: Vec<f32> = (0..40_000)
            .map(|i| (a_peak_g * (TAU * f * i as f64 / fs).sin()) as f32)
            .collect();
        let plan = SegmentPlan::new(x.len(), fs, Some(f)).unwrap();
        let mut work = Work::default();
        let power = analyse_segments(&mut FftCache::default(), &mut work, &x, &plan, 0.0, 1.0);
        let variance: f64 = power.iter().sum();
        assert!(
            (variance / (a_peak_g * a_peak_g / 2.0) - 1.0).abs() < 0.02,
            "{variance}"
        );
        let df = plan.bin_hz(fs);
        let v = velocity_per_bin(&power, df, 10.0, 2000.0);
        let rms = band_rms(&v, df, 10.0, 1000.0);
        assert!((rms - v_peak_mm_s / 2f64.sqrt()).abs() < 0.05, "{rms}");
        let line = line_near(&power, df, f, 1.0).unwrap();
        assert!(
            (line.frequency_hz - f).abs() < 0.1 * df,
            "{}",
            line.frequency_hz
        );
        assert!((line.power / variance - 1.0).abs() < 0.02);
        assert_eq!(work.segment_bins.len(), plan.half() * plan.starts.len());
    }
}
