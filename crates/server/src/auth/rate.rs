//! Token buckets per key (a peer address, a credential, a connection):
//! `burst` requests at once, then `per_s` a second. Memory is bounded:
//! past `max_keys` the buckets that have refilled are forgotten (they
//! would allow a full burst anyway), and if none has, all are.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

#[derive(Debug)]
pub struct RateLimiter<K> {
    per_s: f64,
    burst: f64,
    max_keys: usize,
    buckets: HashMap<K, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn refilled(self, now: Instant, per_s: f64, burst: f64) -> Bucket {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() * per_s;
        Bucket {
            tokens: (self.tokens + gained).min(burst),
            at: now,
        }
    }
}

impl<K: Hash + Eq> RateLimiter<K> {
    pub fn new(per_s: f64, burst: u32, max_keys: usize) -> Self {
        RateLimiter {
            per_s,
            burst: f64::from(burst),
            max_keys,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `key`; false when its bucket is empty.
    pub fn allow(&mut self, key: K, now: Instant) -> bool {
        self.allow_cost(key, 1.0, now)
    }

    /// Takes `cost` tokens (bytes, say); false, taking none, when the
    /// bucket holds fewer. A cost above the burst never passes.
    pub fn allow_cost(&mut self, key: K, cost: f64, now: Instant) -> bool {
        if !self.buckets.contains_key(&key) && self.buckets.len() >= self.max_keys {
            self.forget_full(now);
        }
        let (per_s, burst) = (self.per_s, self.burst);
        let bucket = self.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        *bucket = bucket.refilled(now, per_s, burst);
        if bucket.tokens >= cost {
            bucket.tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Seconds until `key` may go again (0 when it may now).
    pub fn wait_s(&self, key: &K, now: Instant) -> f64 {
        self.buckets.get(key).map_or(0.0, |bucket| {
            let tokens = bucket.refilled(now, self.per_s, self.burst).tokens;
            ((1.0 - tokens) / self.per_s).max(0.0)
        })
    }

    pub fn keys(&self) -> usize {
        self.buckets.len()
    }

    fn forget_full(&mut self, now: Instant) {
        let (per_s, burst) = (self.per_s, self.burst);
        self.buckets
            .retain(|_, bucket| bucket.refilled(now, per_s, burst).tokens < burst);
        if self.buckets.len() >= self.max_keys {
            self.buckets.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_then_the_steady_rate() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(2.0, 3, 10);
        let allowed = (0..5).filter(|_| limiter.allow("a", start)).count();
        assert_eq!(allowed, 3);
        assert!((limiter.wait_s(&"a", start) - 0.5).abs() < 1e-9);
        // Another key has its own bucket.
        assert!(limiter.allow("b", start));
        let later = start + Duration::from_millis(500);
        assert!(limiter.allow("a", later));
        assert!(!limiter.allow("a", later));
        let much_later = start + Duration::from_secs(60);
        let allowed = (0..5).filter(|_| limiter.allow("a", much_later)).count();
        assert_eq!(allowed, 3, "never more than the burst");
    }

    #[test]
    fn a_byte_budget_counts_sizes() {
        let start = Instant::now();
        let mut bytes = RateLimiter::new(1000.0, 3000, 1);
        assert!(bytes.allow_cost((), 2500.0, start));
        assert!(!bytes.allow_cost((), 600.0, start), "500 left");
        assert!(bytes.allow_cost((), 500.0, start));
        assert!(
            !bytes.allow_cost((), 3001.0, start + Duration::from_secs(60)),
            "above the burst"
        );
        assert!(bytes.allow_cost((), 3000.0, start + Duration::from_secs(60)));
    }

    #[test]
    fn keys_are_bounded() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(1.0, 2, 100);
        for key in 0..10_000u32 {
            limiter.allow(key, start);
            assert!(limiter.keys() <= 100);
        }
        // A key that spent its burst is not forgotten while it is still empty…
        let mut limiter = RateLimiter::new(0.001, 1, 2);
        assert!(limiter.allow(1, start));
        assert!(limiter.allow(2, start));
        assert!(limiter.allow(3, start));
        assert!(limiter.keys() <= 2);
    }
}
