//! Alarm hysteresis for one asset, on data time.
//!
//! An alarm is raised at once when the level worsens into C (warning) or D
//! (critical), or when a vibration sensor rises above its baseline-change
//! limit (advisory). It clears only after the asset has been observed better
//! for [`CLEAR_AFTER_S`] of data time; a relapse in between neither clears
//! nor raises anything. Silence is not an improvement: an asset that stops
//! reporting keeps its alarms until data shows it better.

use linetwin_core::iso::Zone;
use serde::Serialize;

/// Data seconds an asset must stay better before its alarm clears.
pub const CLEAR_AFTER_S: f64 = 60.0;
/// Alarms kept per asset; the oldest cleared ones go first.
pub const MAX_ALARMS_PER_ASSET: usize = 50;

/// An alarm's id, made of what the alarm is: the asset's position in the
/// line, the severity and the data time it was raised (in milliseconds), so
/// the same data gives the same ids whatever order it came in, and a state
/// rebuilt after a late observation never gives an old id to a new alarm.
/// Fits a JavaScript number for 512 assets and times up to the year 2109.
pub type AlarmId = u64;

const TIME_BITS: u32 = 42;
const SEVERITY_BITS: u32 = 2;

pub fn alarm_id(asset_ordinal: usize, severity: Severity, raised_at: f64) -> AlarmId {
    let millis = (raised_at * 1000.0)
        .round()
        .clamp(0.0, ((1u64 << TIME_BITS) - 1) as f64) as u64;
    ((asset_ordinal as u64) << (TIME_BITS + SEVERITY_BITS))
        | ((severity as u64) << TIME_BITS)
        | millis
}

/// The asset ordinal an id was made with.
pub fn asset_of(id: AlarmId) -> usize {
    (id >> (TIME_BITS + SEVERITY_BITS)) as usize
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Severity {
    /// Above the machine's own baseline, still within its zone.
    Advisory,
    /// Zone C: plan maintenance.
    Warning,
    /// Zone D: act now.
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Advisory => "advisory",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn for_level(level: Zone) -> Severity {
        if level == Zone::D {
            Severity::Critical
        } else {
            Severity::Warning
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub id: AlarmId,
    pub asset: String,
    pub severity: Severity,
    /// The colour level when raised.
    pub level: Zone,
    /// Data time of the observation that raised it.
    pub raised_at: f64,
    /// Data time at which it stopped being in force, if it has.
    pub cleared_at: Option<f64>,
    pub message: String,
}

impl Alarm {
    pub fn active(&self) -> bool {
        self.cleared_at.is_none()
    }
}

/// The alarm state of one asset.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmWatch {
    alarmed: Option<Zone>,
    better_since: Option<f64>,
    above_baseline: bool,
    baseline_ok_since: Option<f64>,
    alarms: Vec<Alarm>,
}

fn alarm_level(level: Option<Zone>) -> Option<Zone> {
    level.filter(|z| *z >= Zone::C)
}

impl AlarmWatch {
    pub fn alarms(&self) -> &[Alarm] {
        &self.alarms
    }

    /// Feeds the asset's level observed at data time `t` (`None`: not judged,
    /// e.g. all sensors stale); returns the id of an alarm it raised.
    pub fn observe_level(
        &mut self,
        asset: (&str, usize),
        level: Option<Zone>,
        t: f64,
        message: impl FnOnce() -> String,
    ) -> Option<AlarmId> {
        let Some(level) = level else {
            // No judgement: neither worse nor better.
            return None;
        };
        let level = alarm_level(Some(level));
        if level > self.alarmed {
            self.alarmed = level;
            self.better_since = None;
            let level = level?;
            self.clear(t, |a| a.severity != Severity::Advisory);
            return Some(self.raise(asset, Severity::for_level(level), level, t, message()));
        }
        if level < self.alarmed {
            let since = *self.better_since.get_or_insert(t);
            if t - since >= CLEAR_AFTER_S {
                self.alarmed = level;
                self.better_since = None;
                if level.is_none() {
                    self.clear(t, |a| a.severity != Severity::Advisory);
                }
            }
        } else {
            self.better_since = None;
        }
        None
    }

    /// Feeds whether a fresh sensor is above its baseline-change limit at `t`.
    pub fn observe_baseline(
        &mut self,
        asset: (&str, usize),
        above: bool,
        level: Zone,
        t: f64,
        message: impl FnOnce() -> String,
    ) -> Option<AlarmId> {
        if above {
            self.baseline_ok_since = None;
            if !self.above_baseline {
                self.above_baseline = true;
                return Some(self.raise(asset, Severity::Advisory, level, t, message()));
            }
        } else if self.above_baseline {
            let since = *self.baseline_ok_since.get_or_insert(t);
            if t - since >= CLEAR_AFTER_S {
                self.above_baseline = false;
                self.baseline_ok_since = None;
                self.clear(t, |a| a.severity == Severity::Advisory);
            }
        }
        None
    }

    fn clear(&mut self, t: f64, which: impl Fn(&Alarm) -> bool) {
        for alarm in self.alarms.iter_mut().filter(|a| a.active() && which(a)) {
            alarm.cleared_at = Some(t);
        }
    }

    fn raise(
        &mut self,
        (asset, ordinal): (&str, usize),
        severity: Severity,
        level: Zone,
        t: f64,
        message: String,
    ) -> AlarmId {
        let id = alarm_id(ordinal, severity, t);
        self.alarms.push(Alarm {
            id,
            asset: asset.to_owned(),
            severity,
            level,
            raised_at: t,
            cleared_at: None,
            message,
        });
        if self.alarms.len() > MAX_ALARMS_PER_ASSET {
            let victim = self.alarms.iter().position(|a| !a.active()).unwrap_or(0);
            self.alarms.remove(victim);
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: (&str, usize) = ("P1", 3);

    fn msg() -> String {
        "test".into()
    }

    #[test]
    fn worsening_raises_and_escalation_supersedes() {
        let mut watch = AlarmWatch::default();
        assert!(watch.observe_level(P1, Some(Zone::B), 0.0, msg).is_none());
        assert!(watch.observe_level(P1, Some(Zone::C), 1.0, msg).is_some());
        assert!(watch.observe_level(P1, Some(Zone::C), 2.0, msg).is_none());
        assert!(watch.observe_level(P1, Some(Zone::D), 3.0, msg).is_some());
        let alarms = watch.alarms();
        assert_eq!(alarms.len(), 2);
        assert_eq!(alarms[0].cleared_at, Some(3.0), "escalation supersedes");
        assert_eq!(
            (alarms[1].severity, alarms[1].raised_at),
            (Severity::Critical, 3.0)
        );
        assert_ne!(alarms[0].id, alarms[1].id);
    }

    #[test]
    fn flapping_around_a_boundary_raises_once() {
        let mut watch = AlarmWatch::default();
        for step in 0..100 {
            let zone = if step % 2 == 0 { Zone::C } else { Zone::B };
            watch.observe_level(P1, Some(zone), step as f64, msg);
        }
        assert_eq!(watch.alarms().len(), 1);
        assert!(watch.alarms()[0].active());
    }

    #[test]
    fn lasting_improvement_clears_at_its_data_time_then_a_relapse_raises_again() {
        let mut watch = AlarmWatch::default();
        watch.observe_level(P1, Some(Zone::D), 0.0, msg);
        watch.observe_level(P1, Some(Zone::A), 10.0, msg);
        assert!(watch.alarms()[0].active());
        watch.observe_level(P1, Some(Zone::A), 10.0 + CLEAR_AFTER_S, msg);
        assert_eq!(watch.alarms()[0].cleared_at, Some(10.0 + CLEAR_AFTER_S));
        assert!(watch.observe_level(P1, Some(Zone::C), 200.0, msg).is_some());
    }

    #[test]
    fn silence_is_not_an_improvement() {
        let mut watch = AlarmWatch::default();
        watch.observe_level(P1, Some(Zone::D), 0.0, msg);
        watch.observe_level(P1, None, 500.0, msg);
        assert!(watch.alarms()[0].active());
    }

    #[test]
    fn the_baseline_advisory_is_separate_from_zone_alarms() {
        let mut watch = AlarmWatch::default();
        assert!(
            watch
                .observe_baseline(P1, true, Zone::B, 0.0, msg)
                .is_some()
        );
        assert!(
            watch
                .observe_baseline(P1, true, Zone::B, 1.0, msg)
                .is_none()
        );
        watch.observe_baseline(P1, false, Zone::B, 2.0, msg);
        assert!(watch.alarms()[0].active());
        watch.observe_baseline(P1, false, Zone::B, 2.0 + CLEAR_AFTER_S, msg);
        assert!(!watch.alarms()[0].active());
        let id = watch.observe_level(P1, Some(Zone::C), 100.0, msg).unwrap();
        let alarm = watch.alarms().iter().find(|a| a.id == id).unwrap();
        assert_eq!(alarm.severity, Severity::Warning);
    }

    #[test]
    fn ids_name_the_asset_and_the_list_is_bounded() {
        let mut watch = AlarmWatch::default();
        for i in 0..(MAX_ALARMS_PER_ASSET as u32 + 10) {
            let t = f64::from(i) * 1000.0;
            watch.observe_level(P1, Some(Zone::D), t, msg);
            watch.observe_level(P1, Some(Zone::A), t + 1.0, msg);
            watch.observe_level(P1, Some(Zone::A), t + 1.0 + CLEAR_AFTER_S, msg);
        }
        assert_eq!(watch.alarms().len(), MAX_ALARMS_PER_ASSET);
        assert!(watch.alarms().iter().all(|a| asset_of(a.id) == 3));
        let ids: std::collections::BTreeSet<_> = watch.alarms().iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), MAX_ALARMS_PER_ASSET, "ids are unique");
        assert_ne!(
            alarm_id(3, Severity::Warning, 1.0),
            alarm_id(3, Severity::Critical, 1.0)
        );
    }
}
