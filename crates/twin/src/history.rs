//! The history store: every observation of every sensor, time-indexed.
//!
//! Per sensor, a *raw* tier keeps the newest points exactly (every block's
//! indicators and verdict, every scalar reading); *roll-up* tiers keep
//! min / mean / max per field over fixed-width buckets further back (a
//! minute, a quarter of an hour, three hours by default). Every tier is a
//! bounded ring, so the store's memory has a fixed upper bound
//! ([`HistoryStore::memory_bound_bytes`]) however long it runs, and a range
//! query at any resolution is answered from the finest data that still
//! covers it. Inserting is order-independent: a late point goes into its
//! place and its buckets, so the store holds the same data whatever order
//! it arrived in.

use std::collections::{BTreeMap, VecDeque};
use std::mem::size_of;

use linetwin_core::diagnosis::Verdict;
use linetwin_core::iso::Zone;
use linetwin_core::line::{Line, SensorKind};
use serde::Serialize;

use crate::level::combined_level;
use crate::observation::Observation;

/// Fields recorded for every diagnosed vibration block.
pub const VIBRATION_FIELDS: [&str; 6] = [
    "velocity_mm_s",
    "rms_g",
    "peak_g",
    "crest",
    "kurtosis",
    "score",
];
/// The one field of a scalar sensor.
pub const SCALAR_FIELDS: [&str; 1] = ["value"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Newest points kept exactly, per sensor.
    pub raw_points: usize,
    /// Roll-up tiers: bucket width in seconds and buckets kept, fine to coarse.
    pub tiers: [(u32, usize); 3],
}

impl Default for HistoryConfig {
    /// Exact for the last 2048 points (68 min at one block every 2 s), then
    /// minutes for a day, quarter hours for two weeks, 3 h for a year.
    fn default() -> Self {
        HistoryConfig {
            raw_points: 2048,
            tiers: [(60, 1440), (900, 1344), (10_800, 2920)],
        }
    }
}

impl HistoryConfig {
    /// The default tiers, cut so the coarsest reaches back `span_s` and no
    /// further (a shorter history for a small device: a kiosk that only shows
    /// today needs a day, not a year). At least one bucket per tier; the raw
    /// ring is kept as it is.
    pub fn covering(span_s: f64) -> Self {
        let default = HistoryConfig::default();
        let span_s = if span_s.is_finite() {
            span_s.max(0.0)
        } else {
            0.0
        };
        let mut tiers = default.tiers;
        for (width, kept) in &mut tiers {
            let needed = (span_s / f64::from(*width)).ceil() as usize;
            *kept = needed.clamp(1, *kept);
        }
        HistoryConfig { tiers, ..default }
    }

    /// How far back the coarsest tier reaches, in seconds.
    pub fn span_s(&self) -> f64 {
        self.tiers
            .iter()
            .map(|&(width, kept)| f64::from(width) * kept as f64)
            .fold(0.0, f64::max)
    }
}

/// What a block was judged: its colour level and verdict, for the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Mark {
    /// 0 none, 1-4 zones A-D.
    pub level: u8,
    /// 0 for scalars and "none"; see [`verdict_code`].
    pub verdict: u8,
}

impl Mark {
    pub fn level(self) -> Option<Zone> {
        match self.level {
            1 => Some(Zone::A),
            2 => Some(Zone::B),
            3 => Some(Zone::C),
            4 => Some(Zone::D),
            _ => None,
        }
    }

    pub fn verdict(self) -> Verdict {
        VERDICTS
            .get(usize::from(self.verdict))
            .copied()
            .unwrap_or(Verdict::None)
    }
}

const VERDICTS: [Verdict; 7] = [
    Verdict::None,
    Verdict::OuterRace,
    Verdict::InnerRace,
    Verdict::Ball,
    Verdict::Cage,
    Verdict::Unbalance,
    Verdict::Misalignment,
];

pub fn verdict_code(verdict: Verdict) -> u8 {
    VERDICTS.iter().position(|v| *v == verdict).unwrap_or(0) as u8
}

fn level_code(zone: Option<Zone>) -> u8 {
    zone.map_or(0, |z| z as u8 + 1)
}

/// One point of a query: a raw point (`n` = 1, `t_end` = `t`) or a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HistoryPoint {
    pub t: f64,
    pub t_end: f64,
    pub min: f32,
    pub mean: f32,
    pub max: f32,
    pub n: u32,
    /// The worst judgement in it.
    pub mark: Mark,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    min: f32,
    max: f32,
    mean: f32,
    n: u32,
}

impl Stat {
    const EMPTY: Stat = Stat {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
        mean: 0.0,
        n: 0,
    };

    fn add(&mut self, value: f32) {
        if !value.is_finite() {
            return;
        }
        self.n += 1;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.mean += (value - self.mean) / self.n as f32;
    }
}

/// A ring that never holds more than `limit` items nor allocates room for more.
#[derive(Debug, Clone)]
struct Ring<T> {
    items: VecDeque<T>,
    limit: usize,
    /// Whether it ever let an item go: until then it holds all there was,
    /// and no coarser tier has anything older to add.
    dropped: bool,
}

impl<T> Ring<T> {
    fn new(limit: usize) -> Self {
        Ring {
            items: VecDeque::new(),
            limit: limit.max(1),
            dropped: false,
        }
    }

    fn make_room(&mut self) {
        if self.items.len() == self.items.capacity() && self.items.len() < self.limit {
            let wanted = (self.items.len() * 2).max(16).min(self.limit);
            self.items.reserve_exact(wanted - self.items.len());
        }
    }

    /// Inserts at `index`; drops the oldest when full. Returns false when
    /// the item was older than everything kept in a full ring.
    fn insert(&mut self, index: usize, item: T) -> bool {
        if self.items.len() == self.limit {
            self.dropped = true;
            if index == 0 {
                return false;
            }
            self.items.pop_front();
            self.items.insert(index - 1, item);
            return true;
        }
        self.make_room();
        self.items.insert(index, item);
        true
    }

    fn bytes(&self) -> usize {
        self.items.capacity() * size_of::<T>()
    }

    fn bound(&self) -> usize {
        self.limit * size_of::<T>()
    }
}

#[derive(Debug, Clone)]
struct RawPoint<const F: usize> {
    t: f64,
    values: [f32; F],
    mark: Mark,
}

#[derive(Debug, Clone)]
struct Bucket<const F: usize> {
    start: f64,
    stats: [Stat; F],
    mark: Mark,
}

#[derive(Debug, Clone)]
struct Tier<const F: usize> {
    width_s: f64,
    buckets: Ring<Bucket<F>>,
}

/// The history of one sensor with `F` fields per point.
#[derive(Debug, Clone)]
pub struct Series<const F: usize> {
    fields: [&'static str; F],
    raw: Ring<RawPoint<F>>,
    tiers: Vec<Tier<F>>,
}

fn worse(a: Mark, b: Mark) -> Mark {
    if b.level > a.level || (b.level == a.level && b.verdict > a.verdict) {
        b
    } else {
        a
    }
}

impl<const F: usize> Series<F> {
    fn new(fields: [&'static str; F], config: &HistoryConfig) -> Self {
        Series {
            fields,
            raw: Ring::new(config.raw_points),
            tiers: config
                .tiers
                .iter()
                .map(|&(width, kept)| Tier {
                    width_s: f64::from(width.max(1)),
                    buckets: Ring::new(kept),
                })
                .collect(),
        }
    }

    fn record(&mut self, t: f64, values: [f32; F], mark: Mark) {
        let index = self.raw.items.partition_point(|p| p.t <= t);
        self.raw.insert(index, RawPoint { t, values, mark });
        for tier in &mut self.tiers {
            let start = (t / tier.width_s).floor() * tier.width_s;
            let index = tier.buckets.items.partition_point(|b| b.start < start);
            let bucket = match tier.buckets.items.get_mut(index) {
                Some(bucket) if bucket.start == start => bucket,
                _ => {
                    let fresh = Bucket {
                        start,
                        stats: [Stat::EMPTY; F],
                        mark: Mark::default(),
                    };
                    if !tier.buckets.insert(index, fresh) {
                        continue;
                    }
                    let index = tier.buckets.items.partition_point(|b| b.start < start);
                    &mut tier.buckets.items[index]
                }
            };
            for (stat, value) in bucket.stats.iter_mut().zip(values) {
                stat.add(value);
            }
            bucket.mark = worse(bucket.mark, mark);
        }
    }

    fn field_index(&self, field: &str) -> Option<usize> {
        self.fields.iter().position(|f| *f == field)
    }

    /// Points of `field` in `[from, to]`, the newest from the raw tier and
    /// older ones from ever coarser roll-ups, then merged to `resolution_s`.
    fn query(&self, field: usize, from: f64, to: f64, resolution_s: f64) -> Vec<HistoryPoint> {
        let mut points = Vec::new();
        // Everything at or after `covered` is already answered by a finer tier.
        let mut covered = f64::INFINITY;
        for p in self.raw.items.iter().filter(|p| p.t >= from && p.t <= to) {
            let v = p.values[field];
            if v.is_finite() {
                points.push(HistoryPoint {
                    t: p.t,
                    t_end: p.t,
                    min: v,
                    mean: v,
                    max: v,
                    n: 1,
                    mark: p.mark,
                });
            }
        }
        if !self.raw.dropped {
            covered = f64::NEG_INFINITY;
        } else if let Some(first) = self.raw.items.front() {
            covered = first.t;
        }
        for tier in &self.tiers {
            let mut older = Vec::new();
            for b in tier.buckets.items.iter() {
                let end = b.start + tier.width_s;
                let s = b.stats[field];
                if b.start < covered && end > from && b.start <= to && s.n > 0 {
                    older.push(HistoryPoint {
                        t: b.start,
                        t_end: end,
                        min: s.min,
                        mean: s.mean,
                        max: s.max,
                        n: s.n,
                        mark: b.mark,
                    });
                }
            }
            // A bucket that straddles the start of the finer data holds
            // that data too: it replaces the finer points inside it, so
            // nothing is counted twice and no gap is left.
            if let Some(last) = older.last()
                && last.t_end > covered
            {
                let cut = last.t_end;
                points.retain(|p| p.t >= cut);
            }
            if !tier.buckets.dropped {
                covered = f64::NEG_INFINITY;
            } else if let Some(first) = tier.buckets.items.front() {
                covered = covered.min(first.start);
            }
            older.append(&mut points);
            points = older;
        }
        merge_to_resolution(points, resolution_s)
    }

    fn bytes(&self) -> usize {
        self.raw.bytes() + self.tiers.iter().map(|t| t.buckets.bytes()).sum::<usize>()
    }

    fn bound(&self) -> usize {
        self.raw.bound() + self.tiers.iter().map(|t| t.buckets.bound()).sum::<usize>()
    }

    fn len(&self) -> usize {
        self.raw.items.len()
    }
}

/// Merges points that fall in the same `resolution_s`-wide bucket.
fn merge_to_resolution(points: Vec<HistoryPoint>, resolution_s: f64) -> Vec<HistoryPoint> {
    if resolution_s.is_nan() || resolution_s <= 0.0 {
        return points;
    }
    let mut merged: Vec<HistoryPoint> = Vec::with_capacity(points.len());
    for p in points {
        let slot = (p.t / resolution_s).floor();
        match merged.last_mut() {
            Some(last)
                if (last.t / resolution_s).floor() == slot && p.t_end - last.t <= resolution_s =>
            {
                let n = last.n + p.n;
                last.mean = (last.mean * last.n as f32 + p.mean * p.n as f32) / n as f32;
                last.min = last.min.min(p.min);
                last.max = last.max.max(p.max);
                last.n = n;
                last.t_end = last.t_end.max(p.t_end);
                last.mark = worse(last.mark, p.mark);
            }
            _ => merged.push(p),
        }
    }
    merged
}

#[derive(Debug, Clone)]
enum SensorHistory {
    Vibration(Series<6>),
    Scalar(Series<1>),
}

/// The history of every sensor of a line.
#[derive(Debug, Clone)]
pub struct HistoryStore {
    config: HistoryConfig,
    sensors: BTreeMap<String, SensorHistory>,
}

impl HistoryStore {
    pub fn for_line(line: &Line, config: HistoryConfig) -> Self {
        let sensors = line
            .sensors()
            .map(|(_, sensor)| {
                let series = if sensor.kind == SensorKind::Vibration {
                    SensorHistory::Vibration(Series::new(VIBRATION_FIELDS, &config))
                } else {
                    SensorHistory::Scalar(Series::new(SCALAR_FIELDS, &config))
                };
                (sensor.id.clone(), series)
            })
            .collect();
        HistoryStore { config, sensors }
    }

    pub fn config(&self) -> &HistoryConfig {
        &self.config
    }

    /// Records an observation (its time already on the twin's axis).
    pub fn record(&mut self, observation: &Observation) {
        let Some(series) = self.sensors.get_mut(observation.sensor()) else {
            return;
        };
        match (series, observation) {
            (SensorHistory::Scalar(series), Observation::Reading { t, value, .. }) => {
                series.record(*t, [*value as f32], Mark::default());
            }
            (SensorHistory::Vibration(series), Observation::Block(block)) => {
                let d = &block.diagnosis;
                let nan = f32::NAN;
                let ind = d.indicators.as_ref();
                let velocity = d.velocity.as_ref();
                let values = [
                    velocity.map_or(nan, |v| v.rms_mm_s as f32),
                    ind.map_or(nan, |i| i.rms_g as f32),
                    ind.map_or(nan, |i| i.peak_g as f32),
                    ind.map_or(nan, |i| i.crest_factor as f32),
                    ind.map_or(nan, |i| i.kurtosis as f32),
                    d.score.map_or(nan, |s| s as f32),
                ];
                let level = combined_level(velocity.and_then(|v| v.zone), Some(d.health));
                let mark = Mark {
                    level: level_code(level),
                    verdict: verdict_code(d.verdict),
                };
                series.record(block.t(), values, mark);
            }
            _ => {}
        }
    }

    /// The named field of a sensor over `[from, to]` (data times), merged
    /// to points at most `resolution_s` apart (0: as stored). `None` when
    /// the sensor or the field is unknown.
    pub fn query(
        &self,
        sensor: &str,
        field: &str,
        from: f64,
        to: f64,
        resolution_s: f64,
    ) -> Option<Vec<HistoryPoint>> {
        match self.sensors.get(sensor)? {
            SensorHistory::Vibration(s) => {
                Some(s.query(s.field_index(field)?, from, to, resolution_s))
            }
            SensorHistory::Scalar(s) => {
                Some(s.query(s.field_index(field)?, from, to, resolution_s))
            }
        }
    }

    /// Points in the raw tier of a sensor.
    pub fn raw_len(&self, sensor: &str) -> usize {
        match self.sensors.get(sensor) {
            Some(SensorHistory::Vibration(s)) => s.len(),
            Some(SensorHistory::Scalar(s)) => s.len(),
            None => 0,
        }
    }

    /// Bytes its rings hold now.
    pub fn memory_bytes(&self) -> usize {
        self.sensors
            .values()
            .map(|s| match s {
                SensorHistory::Vibration(s) => s.bytes(),
                SensorHistory::Scalar(s) => s.bytes(),
            })
            .sum()
    }

    /// Bytes its rings can ever hold: the store's fixed memory bound.
    pub fn memory_bound_bytes(&self) -> usize {
        self.sensors
            .values()
            .map(|s| match s {
                SensorHistory::Vibration(s) => s.bound(),
                SensorHistory::Scalar(s) => s.bound(),
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Line {
        Line::from_json("demo.json", include_str!("../../../assets/lines/demo.json")).unwrap()
    }

    fn reading(t: f64, value: f64) -> Observation {
        Observation::Reading {
            sensor: "P1-T".into(),
            t,
            value,
        }
    }

    fn small() -> HistoryConfig {
        HistoryConfig {
            raw_points: 100,
            tiers: [(10, 50), (100, 50), (1000, 50)],
        }
    }

    #[test]
    fn recent_points_are_exact_and_older_ones_come_from_roll_ups() {
        let mut store = HistoryStore::for_line(&demo(), small());
        for i in 0..1000 {
            store.record(&reading(f64::from(i), f64::from(i % 10)));
        }
        let all = store.query("P1-T", "value", 0.0, 1000.0, 0.0).unwrap();
        let raw: Vec<_> = all.iter().filter(|p| p.n == 1 && p.t == p.t_end).collect();
        assert_eq!(raw.len(), 100, "the newest 100 readings are exact");
        assert_eq!(raw[0].t, 900.0);
        // Before them, 10 s buckets back to where that tier's 50 buckets
        // reach (500 s), then 100 s buckets back to the start.
        let ten: Vec<_> = all.iter().filter(|p| p.t_end - p.t == 10.0).collect();
        assert_eq!(ten.len(), 40);
        assert!(
            ten.iter()
                .all(|p| p.min == 0.0 && p.max == 9.0 && (p.mean - 4.5).abs() < 1e-4)
        );
        let hundred: Vec<_> = all.iter().filter(|p| p.t_end - p.t == 100.0).collect();
        assert_eq!(hundred.first().map(|p| p.t), Some(0.0));
        assert_eq!(hundred.last().map(|p| p.t_end), Some(500.0));
        assert!(
            all.windows(2).all(|w| w[0].t_end <= w[1].t),
            "in time order, no overlap"
        );
    }

    #[test]
    fn a_bucket_across_the_start_of_finer_data_leaves_no_gap() {
        let mut store = HistoryStore::for_line(&demo(), small());
        // 105 readings, one a second: the raw ring keeps the last 100
        // (from 5 s), inside the 10 s bucket [0, 10).
        for i in 0..105 {
            store.record(&reading(f64::from(i), 1.0));
        }
        let all = store.query("P1-T", "value", 0.0, 200.0, 0.0).unwrap();
        let total: u32 = all.iter().map(|p| p.n).sum();
        assert_eq!(total, 105, "every reading counted once: {all:?}");
        assert_eq!(all[0].t, 0.0, "from the first reading");
        assert!(all.windows(2).all(|w| w[0].t_end <= w[1].t));
    }

    #[test]
    fn tiny_rings_are_allowed() {
        let config = HistoryConfig {
            raw_points: 3,
            tiers: [(1, 2), (10, 2), (100, 2)],
        };
        let mut store = HistoryStore::for_line(&demo(), config);
        for i in 0..50 {
            store.record(&reading(f64::from(i), 1.0));
        }
        assert_eq!(store.raw_len("P1-T"), 3);
        assert!(store.memory_bytes() <= store.memory_bound_bytes());
    }

    #[test]
    fn a_coarser_resolution_merges_points() {
        let mut store = HistoryStore::for_line(&demo(), small());
        for i in 0..100 {
            store.record(&reading(f64::from(i), f64::from(i)));
        }
        let merged = store.query("P1-T", "value", 0.0, 100.0, 25.0).unwrap();
        assert_eq!(merged.len(), 4);
        assert_eq!((merged[0].min, merged[0].max, merged[0].n), (0.0, 24.0, 25));
        assert!((merged[0].mean - 12.0).abs() < 1e-4);
        let window = store.query("P1-T", "value", 40.0, 49.0, 0.0).unwrap();
        assert_eq!(window.len(), 10);
        assert!(store.query("P1-T", "kurtosis", 0.0, 1.0, 0.0).is_none());
        assert!(store.query("nope", "value", 0.0, 1.0, 0.0).is_none());
    }

    #[test]
    fn marks_read_back_as_the_level_and_verdict_they_record() {
        for verdict in VERDICTS {
            for zone in [
                None,
                Some(Zone::A),
                Some(Zone::B),
                Some(Zone::C),
                Some(Zone::D),
            ] {
                let mark = Mark {
                    level: level_code(zone),
                    verdict: verdict_code(verdict),
                };
                assert_eq!((mark.level(), mark.verdict()), (zone, verdict));
            }
        }
    }

    #[test]
    fn the_order_of_arrival_does_not_change_what_is_stored() {
        let mut ordered = HistoryStore::for_line(&demo(), small());
        let mut shuffled = HistoryStore::for_line(&demo(), small());
        let values: Vec<(f64, f64)> = (0..500)
            .map(|i| (f64::from(i), f64::from((i * 7) % 13)))
            .collect();
        for (t, v) in &values {
            ordered.record(&reading(*t, *v));
        }
        // A deterministic shuffle within blocks of 8.
        for chunk in values.chunks(8) {
            for (t, v) in chunk.iter().rev() {
                shuffled.record(&reading(*t, *v));
            }
        }
        let a = ordered.query("P1-T", "value", 0.0, 500.0, 0.0).unwrap();
        let b = shuffled.query("P1-T", "value", 0.0, 500.0, 0.0).unwrap();
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(
                (a.t, a.t_end, a.min, a.max, a.n),
                (b.t, b.t_end, b.min, b.max, b.n)
            );
            assert!(
                (a.mean - b.mean).abs() < 1e-4,
                "means differ only by rounding"
            );
        }
    }

    #[test]
    fn memory_stays_under_its_bound_however_long_it_runs() {
        let mut store = HistoryStore::for_line(&demo(), HistoryConfig::default());
        let week_s = 7 * 24 * 3600;
        for t in (0..week_s).step_by(5) {
            store.record(&reading(f64::from(t), 40.0 + f64::from(t % 17)));
        }
        let used = store.memory_bytes();
        assert!(used > 0);
        assert!(
            used <= store.memory_bound_bytes(),
            "{used} > {}",
            store.memory_bound_bytes()
        );
        assert_eq!(store.raw_len("P1-T"), HistoryConfig::default().raw_points);
        let week = store
            .query("P1-T", "value", 0.0, f64::from(week_s), 3600.0)
            .unwrap();
        assert!(
            week.len() >= 7 * 24 - 1,
            "hourly points over the whole week: {}",
            week.len()
        );
        assert_eq!(week[0].t, 0.0, "the first hour is still there");
    }

    #[test]
    fn a_shorter_history_reaches_back_as_far_as_asked_and_holds_less() {
        let day = HistoryConfig::covering(86_400.0);
        assert_eq!(day.tiers, [(60, 1440), (900, 96), (10_800, 8)]);
        assert_eq!(day.span_s(), 86_400.0);
        assert_eq!(HistoryConfig::default().span_s(), 365.0 * 86_400.0);
        assert_eq!(HistoryConfig::covering(1e12), HistoryConfig::default());
        assert_eq!(
            HistoryConfig::covering(f64::NAN).tiers,
            [(60, 1), (900, 1), (10_800, 1)]
        );
        let full = HistoryStore::for_line(&demo(), HistoryConfig::default());
        let short = HistoryStore::for_line(&demo(), day);
        assert!(short.memory_bound_bytes() * 2 < full.memory_bound_bytes());
        let mut store = HistoryStore::for_line(&demo(), day);
        for t in (0..3 * 86_400).step_by(5) {
            store.record(&reading(f64::from(t), 1.0));
        }
        assert!(store.memory_bytes() <= store.memory_bound_bytes());
        let kept = store
            .query("P1-T", "value", 0.0, 3.0 * 86_400.0, 3600.0)
            .unwrap();
        let first = kept.first().unwrap().t;
        // The newest day, give or take the coarsest bucket, not all three.
        assert!(
            (2.0 * 86_400.0 - 10_800.0..=2.0 * 86_400.0).contains(&first),
            "{first}"
        );
    }

    #[test]
    fn the_demo_line_has_a_documented_memory_bound() {
        let store = HistoryStore::for_line(&demo(), HistoryConfig::default());
        let mb = store.memory_bound_bytes() as f64 / 1e6;
        println!("history memory bound of the demo line: {mb:.2} MB");
        // docs/history.md states this number; it changes only with the config.
        assert!(mb > 5.0 && mb < 25.0, "{mb:.1} MB");
    }
}
