//! The local noise floor: medians, the significance threshold and a power
//! spectrum whose lines are measured against their floor.

/// Median (the upper one for even counts); 0 for no values.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// False-alarm probability allowed for one bin of pure noise.
pub const BIN_FALSE_ALARM: f64 = 1e-3;
/// Added to the statistical threshold: real floors are not white noise.
pub const MARGIN_DB: f64 = 3.0;

/// Level in dB above the median that a bin of an average of `segments`
/// periodograms of noise exceeds with probability [`BIN_FALSE_ALARM`]
/// (Wilson-Hilferty approximation of the Gamma quantiles), plus
/// [`MARGIN_DB`]: 13.0 dB for one segment, 6.3 dB for 14.
pub fn significance_db(segments: usize) -> f64 {
    // Hann windows at 50 % overlap: successive segments are not independent.
    let k = if segments <= 1 {
        1.0
    } else {
        0.9 * segments as f64
    };
    let z = 3.09; // standard normal quantile of 1 - 1e-3
    let c = 1.0 / (9.0 * k);
    let quantile = (1.0 - c + z * c.sqrt()).powi(3);
    let median = (1.0 - c).powi(3);
    10.0 * (quantile / median).log10() + MARGIN_DB
}

/// The local floor of every bin 1..=`last` (index 0 is left at 0): the
/// median of `power` within ±`half` bins, leaving out ±`exclude`, exactly as
/// [`Spectrum`] defines it, with a sorted sliding window (a few dozen
/// operations per bin instead of a selection).
fn local_floors(power: &[f64], last: usize, half: usize, exclude: usize) -> Vec<f64> {
    let n = power.len();
    let mut floors = vec![0.0; last + 1];
    if n < 2 {
        return floors;
    }
    let mut window: Vec<f64> = Vec::with_capacity(2 * half + 2);
    let insert = |window: &mut Vec<f64>, v: f64| {
        let at = window.partition_point(|&w| w.total_cmp(&v).is_lt());
        window.insert(at, v);
    };
    let (mut lo, mut hi) = (1usize, 0usize); // window holds power[lo..=hi]
    let mut centre: Vec<f64> = Vec::with_capacity(2 * exclude + 1);
    for (k, floor) in floors.iter_mut().enumerate().skip(1) {
        let first = k.saturating_sub(half).max(1);
        let end = (k + half).min(n - 1);
        while hi < end {
            hi += 1;
            insert(&mut window, power[hi]);
        }
        while lo < first {
            let v = power[lo];
            let at = window.partition_point(|&w| w.total_cmp(&v).is_lt());
            window.remove(at);
            lo += 1;
        }
        centre.clear();
        centre.extend(
            (k.saturating_sub(exclude).max(first)..=(k + exclude).min(end)).map(|j| power[j]),
        );
        centre.sort_by(f64::total_cmp);
        let remaining = window.len() - centre.len();
        if remaining == 0 {
            continue;
        }
        // The (remaining / 2)-th smallest of window minus centre.
        let target = remaining / 2;
        let (mut rank, mut c) = (0usize, 0usize);
        for &v in &window {
            if c < centre.len() && v.total_cmp(&centre[c]).is_eq() {
                c += 1;
                continue;
            }
            if rank == target {
                *floor = v;
                break;
            }
            rank += 1;
        }
    }
    floors
}

/// A power spectrum with a memoised local floor.
pub struct Spectrum<'a> {
    power: &'a [f64],
    pub bin_hz: f64,
    pub threshold_db: f64,
    half_window: usize,
    floors: Vec<f64>,
    /// Floors of bins 1..=this are all known.
    known_up_to: usize,
    scratch: Vec<f64>,
}

/// Bins either side of a line that belong to it (Hann main lobe).
const LINE_HALF_WIDTH: usize = 2;

/// A line found near an expected frequency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found {
    pub frequency_hz: f64,
    pub level_db: f64,
}

impl<'a> Spectrum<'a> {
    /// `floor_hz`: half-width of the floor's neighbourhood.
    pub fn new(power: &'a [f64], bin_hz: f64, segments: usize, floor_hz: f64) -> Self {
        let half_window = ((floor_hz / bin_hz).round() as usize).clamp(8, 60);
        Spectrum {
            power,
            bin_hz,
            threshold_db: significance_db(segments),
            half_window,
            floors: vec![f64::NAN; power.len()],
            known_up_to: 0,
            scratch: Vec::with_capacity(2 * half_window + 1),
        }
    }

    pub fn max_hz(&self) -> f64 {
        (self.power.len().saturating_sub(LINE_HALF_WIDTH + 1)) as f64 * self.bin_hz
    }

    fn floor(&mut self, k: usize) -> f64 {
        if self.floors[k].is_nan() {
            let first = k.saturating_sub(self.half_window).max(1);
            let last = (k + self.half_window).min(self.power.len() - 1);
            self.scratch.clear();
            let power = self.power;
            self.scratch.extend(
                (first..=last)
                    .filter(|&j| j.abs_diff(k) > LINE_HALF_WIDTH)
                    .map(|j| power[j]),
            );
            self.floors[k] = median(&mut self.scratch);
        }
        self.floors[k]
    }

    fn level_db(&mut self, k: usize) -> f64 {
        let floor = self.floor(k);
        if floor > 0.0 && self.power[k] > 0.0 {
            10.0 * (self.power[k] / floor).log10()
        } else {
            0.0
        }
    }

    /// For every bin up to `up_to_hz`: whether a bin within ±1 of it stands
    /// `level_db` above its floor.
    pub fn line_mask(&mut self, level_db: f64, up_to_hz: f64) -> Vec<bool> {
        let last = ((up_to_hz / self.bin_hz).ceil() as usize + 2).min(self.power.len() - 1);
        if last > self.known_up_to {
            let floors = local_floors(self.power, last, self.half_window, LINE_HALF_WIDTH);
            self.floors[1..=last].copy_from_slice(&floors[1..=last]);
            self.known_up_to = last;
        }
        let ratio = 10f64.powf(level_db / 10.0);
        let line: Vec<bool> = (0..=last)
            .map(|k| k > 0 && self.floors[k] > 0.0 && self.power[k] >= ratio * self.floors[k])
            .collect();
        (0..=last)
            .map(|k| line[k.saturating_sub(1)] || line[k] || line[(k + 1).min(last)])
            .collect()
    }

    /// The strongest bin within ±`tolerance_bins` of `f_hz`, and its level.
    pub fn find(&mut self, f_hz: f64, tolerance_bins: f64) -> Option<Found> {
        if f_hz.is_nan() || f_hz <= 0.0 || f_hz > self.max_hz() {
            return None;
        }
        let centre = f_hz / self.bin_hz;
        let first = ((centre - tolerance_bins).round().max(1.0)) as usize;
        let last = ((centre + tolerance_bins).round() as usize).min(self.power.len() - 2);
        let k = (first..=last).max_by(|&a, &b| self.power[a].total_cmp(&self.power[b]))?;
        Some(Found {
            frequency_hz: k as f64 * self.bin_hz,
            level_db: self.level_db(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_picks_the_middle() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn sliding_floors_equal_the_direct_median() {
        let mut rng = crate::rng::SplitMix64::new(9);
        let mut power: Vec<f64> = (0..500).map(|_| rng.normal().abs()).collect();
        power[200] = 50.0;
        power[201] = power[100];
        let fast = local_floors(&power, 499, 12, 2);
        let mut spectrum = Spectrum::new(&power, 1.0, 4, 12.0);
        for (k, &floor) in fast.iter().enumerate().skip(1) {
            assert_eq!(floor, spectrum.floor(k), "bin {k}");
        }
    }

    #[test]
    fn threshold_falls_with_averaging() {
        let one = significance_db(1);
        let many = significance_db(14);
        assert!(one > 11.0 && one < 15.0, "{one}");
        assert!(many > 5.0 && many < 8.0, "{many}");
    }
}
