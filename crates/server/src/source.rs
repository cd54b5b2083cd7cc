//! Where frames come from, and what each source had accepted and refused:
//! every source goes through the same checks (`ingest::admit`), and
//! `/healthz` shows their counters side by side.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A way into the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The built-in simulator.
    Simulator,
    /// Producers on `/ws/ingest`.
    WsIngest,
    /// The MQTT broker (plain topics and Sparkplug B).
    Mqtt,
    /// A recording served as if live.
    Replay,
}

impl Source {
    pub(crate) const ALL: [Source; 4] = [
        Source::Simulator,
        Source::WsIngest,
        Source::Mqtt,
        Source::Replay,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Simulator => "simulator",
            Source::WsIngest => "ws_ingest",
            Source::Mqtt => "mqtt",
            Source::Replay => "replay",
        }
    }

    /// Captions and notices come only from the gateway's own stories and
    /// recordings of them, never from a plant's producers.
    pub(crate) fn may_narrate(self) -> bool {
        matches!(self, Source::Simulator | Source::Replay)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Default)]
pub(crate) struct SourceCounters {
    accepted: AtomicU64,
    rejected: AtomicU64,
    /// Forwarded, but older than that sensor's previous frame.
    out_of_order: AtomicU64,
    /// For a source with a connection of its own (the broker).
    connected: AtomicBool,
    last_rejection: Mutex<Option<String>>,
}

/// The counters of every source.
#[derive(Debug, Default)]
pub(crate) struct Sources([SourceCounters; 4]);

impl Sources {
    pub(crate) fn accepted(&self, source: Source) {
        self.0[source.index()]
            .accepted
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn out_of_order(&self, source: Source) {
        self.0[source.index()]
            .out_of_order
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rejected(&self, source: Source, reason: &str) {
        let counters = &self.0[source.index()];
        counters.rejected.fetch_add(1, Ordering::Relaxed);
        *counters
            .last_rejection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reason.to_owned());
    }

    pub(crate) fn set_connected(&self, source: Source, connected: bool) {
        self.0[source.index()]
            .connected
            .store(connected, Ordering::Relaxed);
    }

    pub(crate) fn is_connected(&self, source: Source) -> bool {
        self.0[source.index()].connected.load(Ordering::Relaxed)
    }

    /// `{"mqtt": {"accepted": …, "rejected": …, …}, …}` for `/healthz`.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for source in Source::ALL {
            let c = &self.0[source.index()];
            let last = c
                .last_rejection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            let mut entry = serde_json::json!({
                "accepted": c.accepted.load(Ordering::Relaxed),
                "rejected": c.rejected.load(Ordering::Relaxed),
                "out_of_order": c.out_of_order.load(Ordering::Relaxed),
                "last_rejection": last,
            });
            if source == Source::Mqtt {
                entry["connected"] = c.connected.load(Ordering::Relaxed).into();
            }
            out.insert(source.name().to_owned(), entry);
        }
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_counts_for_itself_and_keeps_its_last_reason() {
        let sources = Sources::default();
        sources.accepted(Source::Mqtt);
        sources.accepted(Source::Mqtt);
        sources.rejected(Source::WsIngest, "sensor `X` is not in line `demo`");
        let json = sources.to_json();
        assert_eq!(json["mqtt"]["accepted"], 2);
        assert_eq!(json["ws_ingest"]["accepted"], 0);
        assert_eq!(json["ws_ingest"]["rejected"], 1);
        assert_eq!(
            json["ws_ingest"]["last_rejection"],
            "sensor `X` is not in line `demo`"
        );
        assert_eq!(json["mqtt"]["connected"], false);
        assert!(json["simulator"].get("connected").is_none());
    }
}
