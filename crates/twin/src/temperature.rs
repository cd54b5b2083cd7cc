//! Temperature rules: a temperature reading's own colour level.
//!
//! Two rules, the worse wins:
//! - an absolute limit per asset kind ([`limits_for`]): above the warning
//!   limit is zone C, above the trip limit zone D;
//! - a rise above the sensor's own normal ([`TemperatureBaseline`], the
//!   median of its first [`BASELINE_READINGS`] readings): [`RISE_WARNING_K`]
//!   or more is C, [`RISE_TRIP_K`] or more is D. A bearing that starts to
//!   fail runs hotter long before it reaches an absolute limit, and how hot
//!   "normal" is depends on load and ambient, which only the machine knows.
//!
//! Only readings in `degC` are judged: a unit the rules were not written
//! for gives no level rather than a wrong one.

use linetwin_core::iso::Zone;
use linetwin_core::line::AssetKind;
use serde::Serialize;

/// The one unit the limits are written in.
pub const TEMPERATURE_UNIT: &str = "degC";
/// Readings whose median becomes a sensor's temperature baseline: a minute
/// at 1 Hz, long enough that one odd reading does not set it.
pub const BASELINE_READINGS: usize = 60;
/// Rise above the baseline that asks for a look (zone C), kelvin.
pub const RISE_WARNING_K: f64 = 15.0;
/// Rise above the baseline that asks for action now (zone D), kelvin.
pub const RISE_TRIP_K: f64 = 25.0;

/// Absolute limits of one asset kind, °C. A limit is the highest value
/// allowed, so a reading must exceed it to count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TemperatureLimits {
    /// Above this: zone C.
    pub warning_c: f64,
    /// Above this: zone D.
    pub trip_c: f64,
}

/// The absolute limits for a kind's temperature sensor. They are written
/// for what the demo and most retrofits measure: a bearing housing, an oil
/// sump or a motor frame, not a winding (a winding RTD legitimately runs
/// 20-40 K hotter; insulation class F allows 155 °C there).
///
/// - Pump: 82 °C / 93 °C, API 610's limits for a bearing housing (oil at
///   most 82 °C) and for bearing metal (at most 93 °C).
/// - Gearbox: 85 °C / 95 °C in the oil sump. Mineral gear oil oxidises
///   about twice as fast for every 10 K, and gear makers commonly cap a
///   mineral-oil sump at about 95 °C.
/// - Fan, conveyor, labeller: 80 °C / 95 °C, grease-lubricated rolling
///   bearing housings. Grease life roughly halves for every 15 K above
///   70 °C, so 80 °C is where relubrication intervals collapse; 95 °C leaves
///   a margin below the 110-120 °C a standard lithium grease tolerates.
/// - Motor, compressor (its sensor sits on the drive motor) and the machines
///   whose sensor is their built-in drive motor (filler, capper, robot):
///   90 °C / 105 °C. A motor's own losses warm its frame and end shields
///   about 10 K above a driven machine's bearing housings at the same
///   bearing health.
pub fn limits_for(kind: AssetKind) -> TemperatureLimits {
    let (warning_c, trip_c) = match kind {
        AssetKind::Pump => (82.0, 93.0),
        AssetKind::Gearbox => (85.0, 95.0),
        AssetKind::Fan | AssetKind::Conveyor | AssetKind::Labeller => (80.0, 95.0),
        AssetKind::Motor
        | AssetKind::Compressor
        | AssetKind::Filler
        | AssetKind::Capper
        | AssetKind::Robot => (90.0, 105.0),
    };
    TemperatureLimits { warning_c, trip_c }
}

/// A sensor's normal temperature: the median of its first
/// [`BASELINE_READINGS`] finite readings in data-time order, then fixed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TemperatureBaseline {
    #[serde(skip)]
    learning: Vec<f64>,
    pub value_c: Option<f64>,
}

impl TemperatureBaseline {
    pub fn learn(&mut self, value_c: f64) {
        if self.value_c.is_some() || !value_c.is_finite() {
            return;
        }
        self.learning.push(value_c);
        if self.learning.len() == BASELINE_READINGS {
            self.learning.sort_by(f64::total_cmp);
            self.value_c = Some(self.learning[BASELINE_READINGS / 2]);
            self.learning = Vec::new();
        }
    }

    /// Readings still needed before the baseline is known.
    pub fn readings_to_go(&self) -> usize {
        if self.value_c.is_some() {
            0
        } else {
            BASELINE_READINGS - self.learning.len()
        }
    }
}

/// Which rule set a reading's level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum TemperatureRule {
    /// Within its limits and near its baseline.
    Normal,
    AboveWarning {
        limit_c: f64,
    },
    AboveTrip {
        limit_c: f64,
    },
    AboveBaseline {
        baseline_c: f64,
        rise_k: f64,
    },
}

/// One reading, judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TemperatureJudgement {
    pub value_c: f64,
    pub level: Zone,
    pub rule: TemperatureRule,
}

/// The temperature rules of one `degC` sensor: its kind's limits, its
/// baseline, and its latest judgement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemperatureWatch {
    pub kind: AssetKind,
    pub limits: TemperatureLimits,
    pub baseline: TemperatureBaseline,
    pub latest: Option<TemperatureJudgement>,
}

impl TemperatureWatch {
    /// The rules for a sensor in `unit` on an asset of `kind`; `None` when
    /// the unit is not `degC`, so such a sensor is never judged.
    pub fn for_unit(kind: AssetKind, unit: &str) -> Option<TemperatureWatch> {
        (unit == TEMPERATURE_UNIT).then(|| TemperatureWatch {
            kind,
            limits: limits_for(kind),
            baseline: TemperatureBaseline::default(),
            latest: None,
        })
    }

    /// Judges a reading and learns from it; `None` for a value that is not
    /// a finite number (it neither counts nor changes anything). A reading
    /// is judged against the baseline as it was before it, so the reading
    /// that completes learning is judged by the absolute limits only.
    pub fn observe(&mut self, value_c: f64) -> Option<TemperatureJudgement> {
        if !value_c.is_finite() {
            return None;
        }
        let judgement = self.judge(value_c);
        self.baseline.learn(value_c);
        self.latest = Some(judgement);
        Some(judgement)
    }

    /// How a reading would be judged now, without learning from it.
    pub fn judge(&self, value_c: f64) -> TemperatureJudgement {
        let absolute = if value_c > self.limits.trip_c {
            (
                Zone::D,
                TemperatureRule::AboveTrip {
                    limit_c: self.limits.trip_c,
                },
            )
        } else if value_c > self.limits.warning_c {
            (
                Zone::C,
                TemperatureRule::AboveWarning {
                    limit_c: self.limits.warning_c,
                },
            )
        } else {
            (Zone::A, TemperatureRule::Normal)
        };
        let relative = self.baseline.value_c.and_then(|baseline_c| {
            let rise_k = value_c - baseline_c;
            let rule = TemperatureRule::AboveBaseline { baseline_c, rise_k };
            if rise_k >= RISE_TRIP_K {
                Some((Zone::D, rule))
            } else if rise_k >= RISE_WARNING_K {
                Some((Zone::C, rule))
            } else {
                None
            }
        });
        // The absolute limit wins a tie: it is the rule a technician checks first.
        let (level, rule) = match relative {
            Some(rise) if rise.0 > absolute.0 => rise,
            _ => absolute,
        };
        TemperatureJudgement {
            value_c,
            level,
            rule,
        }
    }

    /// Why the latest reading has its level, naming the sensor, the value
    /// and the rule; `None` before any reading.
    pub fn reason(&self, sensor: &str) -> Option<String> {
        let j = self.latest?;
        let value = j.value_c;
        let kind = self.kind.label();
        Some(match j.rule {
            TemperatureRule::Normal => format!("{sensor}: {value:.1} °C"),
            TemperatureRule::AboveWarning { limit_c } => {
                format!("{sensor}: {value:.1} °C is above the {kind} warning limit {limit_c:.0} °C")
            }
            TemperatureRule::AboveTrip { limit_c } => {
                format!("{sensor}: {value:.1} °C is above the {kind} trip limit {limit_c:.0} °C")
            }
            TemperatureRule::AboveBaseline { baseline_c, rise_k } => format!(
                "{sensor}: {value:.1} °C, {rise_k:.1} K above its baseline {baseline_c:.1} °C"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(kind: AssetKind) -> TemperatureWatch {
        TemperatureWatch::for_unit(kind, TEMPERATURE_UNIT).expect("degC is judged")
    }

    fn level(watch: &mut TemperatureWatch, value: f64) -> Zone {
        watch.observe(value).expect("finite").level
    }

    #[test]
    fn absolute_limits_per_kind() {
        let cases = [
            (AssetKind::Gearbox, 85.0, 95.0),
            (AssetKind::Pump, 82.0, 93.0),
            (AssetKind::Fan, 80.0, 95.0),
            (AssetKind::Conveyor, 80.0, 95.0),
            (AssetKind::Labeller, 80.0, 95.0),
            (AssetKind::Motor, 90.0, 105.0),
            (AssetKind::Compressor, 90.0, 105.0),
            (AssetKind::Robot, 90.0, 105.0),
        ];
        for (kind, warning, trip) in cases {
            let mut w = watch(kind);
            assert_eq!(
                level(&mut w, warning),
                Zone::A,
                "{kind:?}: at the limit is allowed"
            );
            assert_eq!(level(&mut w, warning + 0.1), Zone::C, "{kind:?}");
            assert_eq!(level(&mut w, trip), Zone::C, "{kind:?}");
            assert_eq!(level(&mut w, trip + 0.1), Zone::D, "{kind:?}");
        }
        for kind in AssetKind::ALL {
            let limits = limits_for(kind);
            assert!(limits.warning_c < limits.trip_c, "{kind:?}");
            assert!(
                limits.trip_c <= 105.0,
                "{kind:?}: a housing limit, not a winding's"
            );
        }
    }

    #[test]
    fn a_rise_above_the_learned_baseline_warns_then_trips() {
        let mut w = watch(AssetKind::Motor);
        for i in 0..BASELINE_READINGS {
            assert_eq!(w.baseline.value_c, None);
            // One odd reading among them does not move the median.
            let v = if i == 7 { 85.0 } else { 50.0 + 0.01 * i as f64 };
            assert_eq!(level(&mut w, v), Zone::A);
        }
        let baseline = w.baseline.value_c.expect("learned");
        assert!((baseline - 50.3).abs() < 0.02, "{baseline}");
        assert_eq!(level(&mut w, baseline + 14.9), Zone::A);
        assert_eq!(level(&mut w, baseline + 15.0), Zone::C);
        assert_eq!(level(&mut w, baseline + 24.9), Zone::C);
        assert_eq!(
            level(&mut w, baseline + 25.0),
            Zone::D,
            "still below the 90 °C limit"
        );
        w.observe(20.0);
        assert_eq!(w.baseline.value_c, Some(baseline), "it stays once learned");
    }

    #[test]
    fn before_the_baseline_only_the_absolute_limits_judge() {
        let mut w = watch(AssetKind::Pump);
        assert_eq!(level(&mut w, 40.0), Zone::A);
        assert_eq!(
            level(&mut w, 80.0),
            Zone::A,
            "a 40 K jump, but nothing learned yet"
        );
        assert_eq!(w.baseline.readings_to_go(), BASELINE_READINGS - 2);
    }

    #[test]
    fn other_units_and_non_finite_values_are_not_judged() {
        assert!(TemperatureWatch::for_unit(AssetKind::Motor, "degF").is_none());
        assert!(TemperatureWatch::for_unit(AssetKind::Motor, "K").is_none());
        let mut w = watch(AssetKind::Motor);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(w.observe(v), None);
        }
        assert_eq!(w.latest, None);
        assert_eq!(w.baseline.readings_to_go(), BASELINE_READINGS);
    }

    #[test]
    fn reasons_name_sensor_value_and_rule() {
        let mut gearbox = watch(AssetKind::Gearbox);
        assert_eq!(gearbox.reason("G1-T"), None);
        gearbox.observe(92.0);
        assert_eq!(
            gearbox.reason("G1-T").unwrap(),
            "G1-T: 92.0 °C is above the gearbox warning limit 85 °C"
        );
        gearbox.observe(97.3);
        assert_eq!(
            gearbox.reason("G1-T").unwrap(),
            "G1-T: 97.3 °C is above the gearbox trip limit 95 °C"
        );

        let mut motor = watch(AssetKind::Motor);
        for _ in 0..BASELINE_READINGS {
            motor.observe(55.1);
        }
        motor.observe(73.4);
        assert_eq!(
            motor.reason("M1-T").unwrap(),
            "M1-T: 73.4 °C, 18.3 K above its baseline 55.1 °C"
        );
        motor.observe(56.0);
        assert_eq!(motor.reason("M1-T").unwrap(), "M1-T: 56.0 °C");
    }

    #[test]
    fn the_worse_rule_sets_the_level_and_the_reason() {
        let mut w = watch(AssetKind::Gearbox);
        for _ in 0..BASELINE_READINGS {
            w.observe(60.0);
        }
        // 86 °C: over the warning limit (C) and 26 K over the baseline (D).
        let j = w.observe(86.0).unwrap();
        assert_eq!(j.level, Zone::D);
        assert!(
            matches!(j.rule, TemperatureRule::AboveBaseline { .. }),
            "{j:?}"
        );
        // 96 °C: both say D; the absolute limit is named.
        let j = w.observe(96.0).unwrap();
        assert_eq!(j.level, Zone::D);
        assert!(matches!(j.rule, TemperatureRule::AboveTrip { .. }), "{j:?}");
    }
}
