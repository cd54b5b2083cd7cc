//! Reconnection delays: exponential growth with jitter, so that a hundred
//! kiosks that lost the gateway together do not all knock again together.
//! The default caps at 3 s: a restarted gateway has every viewer back
//! within about 5 s, and 500 viewers knocking every 1.5 to 3 s are a few
//! hundred handshakes a second, which the gateway takes in its stride.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(3),
        }
    }
}

impl Backoff {
    /// Delay before reconnection attempt `attempt` (0 for the first retry).
    /// `jitter` in [0, 1) picks a point in the upper half of the window
    /// ("equal jitter"): never less than half the nominal delay.
    pub fn delay(&self, attempt: u32, jitter: f64) -> Duration {
        let nominal = self.initial.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        let capped = nominal.min(self.max.as_secs_f64());
        Duration::from_secs_f64(capped * (0.5 + 0.5 * jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_then_caps() {
        let b = Backoff::default();
        let top = |attempt| b.delay(attempt, 1.0);
        assert_eq!(top(0), Duration::from_millis(500));
        assert_eq!(top(1), Duration::from_secs(1));
        assert_eq!(top(2), Duration::from_secs(2));
        assert_eq!(top(3), Duration::from_secs(3));
        assert_eq!(top(10), Duration::from_secs(3));
        assert_eq!(top(u32::MAX), Duration::from_secs(3));
    }

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let b = Backoff::default();
        for attempt in 0..12 {
            let low = b.delay(attempt, 0.0);
            let high = b.delay(attempt, 0.999);
            assert!(
                low * 2 >= high - Duration::from_millis(40),
                "{attempt}: {low:?} {high:?}"
            );
            assert!(low < high);
        }
        assert_eq!(b.delay(2, -3.0), b.delay(2, 0.0));
    }
}
