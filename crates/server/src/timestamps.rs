//! Producers' timestamps, checked before anything is forwarded.
//!
//! The decision (docs/protocol.md, "Producer timestamps"): on a gateway whose
//! clock is Unix time, a frame stamped further than [`MAX_AHEAD_S`] ahead of
//! the gateway's clock is refused (a producer's clock gone wrong would make
//! every honest frame look late to the twin); one older than [`MAX_BEHIND_S`]
//! is refused (a device that lost its clock and counts from 1970, or a
//! backlog too old to say anything about the machine now). A frame older
//! than the same sensor's previous one is forwarded and counted as out of
//! order: the twin puts late data in its place. On a simulated or replayed
//! clock only the order is watched, since the wall clock means nothing there.

use std::collections::HashMap;

/// A minute of clock skew between a producer and the gateway is normal on a
/// shop floor without NTP; five is not.
pub(crate) const MAX_AHEAD_S: f64 = 300.0;
/// A broker keeps a persistent session's messages through an outage: a
/// day of them is still worth a place in the history.
pub(crate) const MAX_BEHIND_S: f64 = 86_400.0;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum TimestampError {
    #[error("time {t} is {ahead_s:.0} s ahead of the gateway's clock (at most {MAX_AHEAD_S} s)")]
    Ahead { t: f64, ahead_s: f64 },
    #[error("time {t} is {behind_s:.0} s behind the gateway's clock (at most {MAX_BEHIND_S} s)")]
    Behind { t: f64, behind_s: f64 },
    #[error("time is not a finite number")]
    NotFinite,
}

/// In order, or older than that sensor's newest frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    InOrder,
    Earlier,
}

/// The newest time seen per sensor (per source: two sources of one sensor
/// would be a configuration error, not a clock error).
#[derive(Debug, Default)]
pub(crate) struct TimestampCheck {
    newest: HashMap<String, f64>,
}

impl TimestampCheck {
    /// The newest time accepted for this sensor.
    pub(crate) fn newest(&self, sensor: &str) -> Option<f64> {
        self.newest.get(sensor).copied()
    }

    /// `gateway_now`: Unix seconds when the gateway's clock is Unix time,
    /// `None` on a simulated or replayed clock.
    pub(crate) fn check(
        &mut self,
        sensor: &str,
        t: f64,
        gateway_now: Option<f64>,
    ) -> Result<Order, TimestampError> {
        if !t.is_finite() {
            return Err(TimestampError::NotFinite);
        }
        if let Some(now) = gateway_now {
            if t - now > MAX_AHEAD_S {
                return Err(TimestampError::Ahead {
                    t,
                    ahead_s: t - now,
                });
            }
            if now - t > MAX_BEHIND_S {
                return Err(TimestampError::Behind {
                    t,
                    behind_s: now - t,
                });
            }
        }
        match self.newest.get_mut(sensor) {
            Some(newest) if t < *newest => Ok(Order::Earlier),
            Some(newest) => {
                *newest = t;
                Ok(Order::InOrder)
            }
            None => {
                // Bounded by the line's sensors: unknown ones are refused first.
                self.newest.insert(sensor.to_owned(), t);
                Ok(Order::InOrder)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_future_and_far_past_are_refused_on_a_unix_clock() {
        let mut check = TimestampCheck::default();
        let now = Some(1_800_000_000.0);
        assert_eq!(
            check.check("P1-T", 1_800_000_010.0, now),
            Ok(Order::InOrder)
        );
        assert!(matches!(
            check.check("P1-T", 1_800_000_000.0 + 3600.0, now),
            Err(TimestampError::Ahead { .. })
        ));
        assert!(matches!(
            check.check("P1-T", 12.0, now),
            Err(TimestampError::Behind { .. })
        ));
        assert_eq!(
            check.check("P1-T", f64::INFINITY, now),
            Err(TimestampError::NotFinite)
        );
    }

    #[test]
    fn going_backwards_is_forwarded_but_noticed_per_sensor() {
        let mut check = TimestampCheck::default();
        assert_eq!(check.check("P1-T", 100.0, None), Ok(Order::InOrder));
        assert_eq!(check.check("P1-T", 99.0, None), Ok(Order::Earlier));
        assert_eq!(check.check("M1-T", 50.0, None), Ok(Order::InOrder));
        // The earlier frame does not move the sensor's newest time back.
        assert_eq!(check.check("P1-T", 99.5, None), Ok(Order::Earlier));
        assert_eq!(check.check("P1-T", 100.0, None), Ok(Order::InOrder));
        // A simulated clock may start at 0: no wall-clock judgement.
        assert_eq!(check.check("C1-T", 0.0, None), Ok(Order::InOrder));
    }
}
