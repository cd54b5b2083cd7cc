//! The data clock: time as the data tells it, never as frames arrive.
//!
//! The twin's "now" is the latest data time it has seen, or an estimate the
//! caller passes in during silence ([`estimate_during_silence`]). A gateway
//! that restarts its simulated clock from zero opens a new *epoch*: its times
//! are shifted so the twin's time keeps running forward and nothing that
//! happened before is lost or reordered.

use linetwin_core::protocol::Clock;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DataClock {
    /// Which clock the stream's `t` values are on (from the hello).
    pub kind: Option<Clock>,
    /// Data seconds per wall second (from the hello; 1 for real plants).
    pub time_scale: f64,
    /// Added to incoming times of the current epoch.
    pub offset_s: f64,
    /// The latest data time, on the twin's (epoch-continuous) axis.
    pub now: Option<f64>,
    /// Epochs opened after a clock restart.
    pub epochs: u32,
    #[serde(skip)]
    resync_pending: bool,
}

impl DataClock {
    /// A gateway said hello: the next data may start a new epoch.
    pub fn hello(&mut self, kind: Clock, time_scale: f64) {
        self.kind = Some(kind);
        self.time_scale = if time_scale.is_finite() && time_scale > 0.0 {
            time_scale
        } else {
            1.0
        };
        self.resync_pending = self.now.is_some();
    }

    /// Maps a stream time to the twin's axis. After a hello, a time further
    /// back than `tolerance_s` means the source's clock restarted: the new
    /// epoch continues at `anchor` (the twin's time now, silence included),
    /// or at the latest data time.
    pub fn place(&mut self, t: f64, tolerance_s: f64, anchor: Option<f64>) -> f64 {
        let mut placed = t + self.offset_s;
        if std::mem::take(&mut self.resync_pending)
            && let Some(now) = self.now
            && placed < now - tolerance_s
        {
            let resume = anchor.map_or(now, |a| a.max(now));
            self.offset_s += resume - placed;
            self.epochs += 1;
            placed = resume;
        }
        placed
    }

    /// Moves "now" forward (never back).
    pub fn advance(&mut self, t: f64) {
        if t.is_finite() {
            self.now = Some(self.now.map_or(t, |now| now.max(t)));
        }
    }

    pub fn scale(&self) -> f64 {
        if self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        }
    }
}

/// Data time now, when nothing has arrived for `wall_since_last_s` wall
/// seconds: the data would have moved on at the stream's time scale. Used
/// only to notice silence (staleness); data always overrides it.
pub fn estimate_during_silence(last_data_t: f64, wall_since_last_s: f64, time_scale: f64) -> f64 {
    last_data_t + wall_since_last_s.max(0.0) * time_scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restarted_source_opens_an_epoch_that_continues_the_time() {
        let mut clock = DataClock::default();
        clock.hello(Clock::Simulated, 10.0);
        let t = clock.place(500.0, 2.0, None);
        clock.advance(t);
        assert_eq!(t, 500.0, "the first hello opens no epoch");
        clock.hello(Clock::Simulated, 10.0);
        let restarted = clock.place(0.0, 2.0, Some(520.0));
        assert_eq!(
            (restarted, clock.epochs),
            (520.0, 1),
            "continues at the twin's time"
        );
        assert_eq!(
            clock.place(4.0, 2.0, None),
            524.0,
            "later data follows the epoch"
        );
    }

    #[test]
    fn a_reconnect_to_the_same_clock_opens_no_epoch() {
        let mut clock = DataClock::default();
        clock.hello(Clock::Unix, 1.0);
        let t = clock.place(1000.0, 2.0, None);
        clock.advance(t);
        clock.hello(Clock::Unix, 1.0);
        assert_eq!(clock.place(999.5, 2.0, None), 999.5);
        assert_eq!(clock.epochs, 0);
    }

    #[test]
    fn now_never_goes_back_and_silence_is_estimated_at_the_time_scale() {
        let mut clock = DataClock::default();
        clock.advance(10.0);
        clock.advance(5.0);
        assert_eq!(clock.now, Some(10.0));
        assert_eq!(estimate_during_silence(10.0, 3.0, 20.0), 70.0);
        assert_eq!(estimate_during_silence(10.0, -1.0, 20.0), 10.0);
    }

    #[test]
    fn a_nonsense_time_scale_counts_as_one() {
        let mut clock = DataClock::default();
        clock.hello(Clock::Simulated, f64::NAN);
        assert_eq!(clock.scale(), 1.0);
    }
}
