//! Alarms: raised when an asset's health worsens into zone C or D (warning,
//! critical), or when its vibration rises above its own baseline by the
//! ISO 20816-3 baseline-change margin (advisory); listed with severity, time,
//! asset and message, acknowledged by the user.
//!
//! Hysteresis keeps them from flapping: an alarm is raised at once when the
//! level worsens, but the alarmed level only comes down after the asset has
//! stayed better for [`CLEAR_AFTER_S`]; a relapse within that time neither
//! clears nor raises anything.

use bevy::prelude::*;
use linetwin_core::iso::Zone;
use serde::Serialize;

use crate::health::{HealthStatus, LineHealth, ZoneChanged};

/// How long an asset must stay better before its alarm clears.
pub const CLEAR_AFTER_S: f64 = 60.0;
/// Alarms kept in the list; the oldest acknowledged ones go first.
const MAX_ALARMS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
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
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    pub id: u64,
    pub asset: String,
    pub severity: Severity,
    /// The colour level when raised.
    pub level: Zone,
    /// `Time<Real>` seconds when raised.
    pub raised_at: f64,
    pub message: String,
    pub acknowledged: bool,
    /// Still in force (not yet cleared by a lasting improvement).
    pub active: bool,
}

impl Alarm {
    pub fn severity(&self) -> &'static str {
        if self.level == Zone::D {
            "critical"
        } else {
            "warning"
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Watch {
    asset: String,
    alarmed: Option<Zone>,
    better_since: Option<f64>,
    above_baseline: bool,
    baseline_ok_since: Option<f64>,
}

/// The alarm list and the per-asset state that drives it.
#[derive(Resource, Debug, Default)]
pub struct AlarmBook {
    alarms: Vec<Alarm>,
    watches: Vec<Watch>,
    next_id: u64,
}

fn alarm_level(level: Option<Zone>) -> Option<Zone> {
    level.filter(|z| *z >= Zone::C)
}

impl AlarmBook {
    pub fn alarms(&self) -> &[Alarm] {
        &self.alarms
    }

    pub fn unacknowledged(&self) -> usize {
        self.alarms.iter().filter(|a| !a.acknowledged).count()
    }

    /// Feeds the asset's current level (None: no usable data); returns the
    /// alarm raised by this observation, if any.
    pub fn observe(
        &mut self,
        asset: &str,
        level: Option<Zone>,
        now: f64,
        message: impl FnOnce() -> String,
    ) -> Option<&Alarm> {
        let index = self.watch_index(asset);
        let level = alarm_level(level);
        let watch = &mut self.watches[index];
        if level > watch.alarmed {
            watch.alarmed = level;
            watch.better_since = None;
            let level = level?;
            for older in self
                .alarms
                .iter_mut()
                .filter(|a| a.asset == asset && a.severity != Severity::Advisory)
            {
                older.active = false;
            }
            let severity = if level == Zone::D {
                Severity::Critical
            } else {
                Severity::Warning
            };
            return self.raise(asset, severity, level, now, message());
        }
        if level < watch.alarmed {
            let since = *watch.better_since.get_or_insert(now);
            if now - since >= CLEAR_AFTER_S {
                watch.alarmed = level;
                watch.better_since = None;
                if level.is_none() {
                    for alarm in self
                        .alarms
                        .iter_mut()
                        .filter(|a| a.asset == asset && a.severity != Severity::Advisory)
                    {
                        alarm.active = false;
                    }
                }
            }
        } else {
            watch.better_since = None;
        }
        None
    }

    fn watch_index(&mut self, asset: &str) -> usize {
        match self.watches.iter().position(|w| w.asset == asset) {
            Some(i) => i,
            None => {
                self.watches.push(Watch {
                    asset: asset.to_owned(),
                    alarmed: None,
                    better_since: None,
                    above_baseline: false,
                    baseline_ok_since: None,
                });
                self.watches.len() - 1
            }
        }
    }

    fn raise(
        &mut self,
        asset: &str,
        severity: Severity,
        level: Zone,
        now: f64,
        message: String,
    ) -> Option<&Alarm> {
        let id = self.next_id;
        self.next_id += 1;
        self.alarms.push(Alarm {
            id,
            asset: asset.to_owned(),
            severity,
            level,
            raised_at: now,
            message,
            acknowledged: false,
            active: true,
        });
        self.trim();
        self.alarms.last()
    }

    /// Feeds whether the asset is above its baseline-change limit; raises an
    /// advisory when it goes above, clears after a lasting return below.
    pub fn observe_baseline(
        &mut self,
        asset: &str,
        above: bool,
        level: Zone,
        now: f64,
        message: impl FnOnce() -> String,
    ) -> Option<&Alarm> {
        let index = self.watch_index(asset);
        let watch = &mut self.watches[index];
        if above {
            watch.baseline_ok_since = None;
            if !watch.above_baseline {
                watch.above_baseline = true;
                return self.raise(asset, Severity::Advisory, level, now, message());
            }
        } else if watch.above_baseline {
            let since = *watch.baseline_ok_since.get_or_insert(now);
            if now - since >= CLEAR_AFTER_S {
                watch.above_baseline = false;
                watch.baseline_ok_since = None;
                for alarm in self
                    .alarms
                    .iter_mut()
                    .filter(|a| a.asset == asset && a.severity == Severity::Advisory)
                {
                    alarm.active = false;
                }
            }
        }
        None
    }

    pub fn acknowledge(&mut self, id: u64) -> bool {
        match self.alarms.iter_mut().find(|a| a.id == id) {
            Some(alarm) => {
                alarm.acknowledged = true;
                true
            }
            None => false,
        }
    }

    fn trim(&mut self) {
        while self.alarms.len() > MAX_ALARMS {
            let victim = self
                .alarms
                .iter()
                .position(|a| a.acknowledged && !a.active)
                .unwrap_or(0);
            self.alarms.remove(victim);
        }
    }
}

/// Announced when an alarm is raised.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct AlarmRaised(pub Alarm);

/// Acknowledge an alarm by id (from the UI or the page).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcknowledgeAlarm(pub u64);

pub struct AlarmPlugin;

impl Plugin for AlarmPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<AlarmBook>()
            .add_message::<AlarmRaised>()
            .add_message::<AcknowledgeAlarm>()
            .add_systems(
                Update,
                (watch_health, acknowledge)
                    .chain()
                    .after(crate::health::HealthSet),
            );
    }
}

fn watch_health(
    mut changes: MessageReader<ZoneChanged>,
    health: Res<LineHealth>,
    mut book: ResMut<AlarmBook>,
    mut raised: MessageWriter<AlarmRaised>,
    time: Res<Time<Real>>,
    mut tick: Local<f64>,
) {
    let now = time.elapsed_secs_f64();
    // Changes raise at once; a periodic pass lets improvements clear.
    let changed: Vec<String> = changes.read().map(|c| c.asset.clone()).collect();
    let periodic = now - *tick >= 1.0;
    if periodic {
        *tick = now;
    }
    for (id, asset) in &health.assets {
        if !periodic && !changed.contains(id) {
            continue;
        }
        let level = match asset.status {
            HealthStatus::Zone(zone) => Some(zone),
            HealthStatus::Stale | HealthStatus::NoData => None,
        };
        if let Some(alarm) = book.observe(id, level, now, || asset.explanation()) {
            raised.write(AlarmRaised(alarm.clone()));
        }
        let above = asset.above_baseline(now);
        let message = || match above {
            Some((sensor, v, limit)) => format!(
                "{sensor}: {v:.2} mm/s is above its baseline-change limit {limit:.2} mm/s (ISO 20816-3: baseline + 25 % of B/C)"
            ),
            None => String::new(),
        };
        if let Some(alarm) =
            book.observe_baseline(id, above.is_some(), level.unwrap_or(Zone::A), now, message)
        {
            raised.write(AlarmRaised(alarm.clone()));
        }
    }
}

fn acknowledge(mut requests: MessageReader<AcknowledgeAlarm>, mut book: ResMut<AlarmBook>) {
    for AcknowledgeAlarm(id) in requests.read() {
        book.acknowledge(*id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> String {
        "test".into()
    }

    #[test]
    fn worsening_raises_and_escalates() {
        let mut book = AlarmBook::default();
        assert!(
            book.observe("P1", Some(Zone::B), 0.0, msg).is_none(),
            "B raises nothing"
        );
        assert_eq!(
            book.observe("P1", Some(Zone::C), 1.0, msg).map(|a| a.level),
            Some(Zone::C)
        );
        assert!(
            book.observe("P1", Some(Zone::C), 2.0, msg).is_none(),
            "no repeat while it stays"
        );
        assert_eq!(
            book.observe("P1", Some(Zone::D), 3.0, msg).map(|a| a.level),
            Some(Zone::D)
        );
        assert_eq!(book.alarms().len(), 2);
        assert!(
            !book.alarms()[0].active && book.alarms()[1].active,
            "escalation supersedes"
        );
    }

    #[test]
    fn flapping_around_a_boundary_raises_once() {
        let mut book = AlarmBook::default();
        for step in 0..100 {
            let zone = if step % 2 == 0 { Zone::C } else { Zone::B };
            book.observe("M1", Some(zone), step as f64, msg);
        }
        assert_eq!(book.alarms().len(), 1);
    }

    #[test]
    fn lasting_improvement_clears_then_a_relapse_raises_again() {
        let mut book = AlarmBook::default();
        book.observe("F1", Some(Zone::D), 0.0, msg);
        book.observe("F1", Some(Zone::A), 10.0, msg);
        assert!(book.alarms()[0].active, "not yet cleared");
        book.observe("F1", Some(Zone::A), 10.0 + CLEAR_AFTER_S, msg);
        assert!(
            !book.alarms()[0].active,
            "cleared after lasting improvement"
        );
        assert!(
            book.observe("F1", Some(Zone::C), 200.0, msg).is_some(),
            "a new problem is a new alarm"
        );
    }

    #[test]
    fn rising_above_the_baseline_is_an_advisory_that_clears_after_a_lasting_return() {
        let mut book = AlarmBook::default();
        let advisory = book
            .observe_baseline("G2", true, Zone::B, 0.0, msg)
            .map(|a| a.severity);
        assert_eq!(advisory, Some(Severity::Advisory));
        assert!(
            book.observe_baseline("G2", true, Zone::B, 1.0, msg)
                .is_none(),
            "raised once"
        );
        book.observe_baseline("G2", false, Zone::B, 2.0, msg);
        assert!(book.alarms()[0].active);
        book.observe_baseline("G2", false, Zone::B, 2.0 + CLEAR_AFTER_S, msg);
        assert!(!book.alarms()[0].active);
        let zone_alarm = book
            .observe("G2", Some(Zone::C), 100.0, msg)
            .map(|a| a.severity);
        assert_eq!(
            zone_alarm,
            Some(Severity::Warning),
            "zones and baseline are separate conditions"
        );
    }

    #[test]
    fn acknowledging_marks_only_that_alarm() {
        let mut book = AlarmBook::default();
        let first = book.observe("A", Some(Zone::C), 0.0, msg).unwrap().id;
        book.observe("B", Some(Zone::D), 0.0, msg);
        assert_eq!(book.unacknowledged(), 2);
        assert!(book.acknowledge(first));
        assert!(!book.acknowledge(999));
        assert_eq!(book.unacknowledged(), 1);
    }

    #[test]
    fn losing_data_does_not_clear_an_alarm_at_once() {
        let mut book = AlarmBook::default();
        book.observe("P2", Some(Zone::D), 0.0, msg);
        book.observe("P2", None, 5.0, msg);
        assert!(book.alarms()[0].active);
    }
}
