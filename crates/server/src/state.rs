//! State shared by every request, and the two small JSON endpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header;
use linetwin_core::line::Line;
use linetwin_core::protocol::{Clock, TextMessage};
use tokio::sync::{broadcast, watch};

use crate::Config;
use crate::hub::{CHANNEL_CAPACITY, Frame};

#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

pub(crate) struct Shared {
    pub(crate) line: Line,
    /// `/api/line`, serialised once: the line never changes while serving.
    line_json: Bytes,
    clock: Clock,
    time_scale: f64,
    replay: bool,
    simulator: bool,
    /// Where the recorder writes, when it does.
    pub(crate) record_dir: Option<std::path::PathBuf>,
    /// The simulator's clock, which a demo controls.
    pub(crate) sim_clock: Option<Arc<crate::simulator::SimClock>>,
    /// The story the simulator tells.
    pub(crate) scenario: Option<Arc<linetwin_core::scenario::Scenario>>,
    /// The story's latest caption, for viewers who join while it shows.
    pub(crate) last_caption: std::sync::Mutex<Option<TextMessage>>,
    frames: broadcast::Sender<Frame>,
    viewers: AtomicUsize,
    producers: AtomicUsize,
    /// What each source had accepted and refused.
    pub(crate) sources: crate::source::Sources,
    /// The gateway's own twin, fed every frame that is broadcast.
    pub(crate) twin: crate::gateway_twin::SharedTwin,
    twin_feed: crate::gateway_twin::TwinFeed,
    /// The alarm record and the work-order outbox.
    pub(crate) work_orders: Arc<crate::work_orders::WorkOrders>,
    /// Sign-in, tickets and rate limits.
    pub(crate) access: crate::auth::Access,
    /// Sensors whose source said it is gone, until they report again.
    offline: std::sync::Mutex<crate::offline::OfflineSensors>,
    /// Per source: the newest time of each sensor.
    timestamps: [std::sync::Mutex<crate::timestamps::TimestampCheck>; 4],
    started: Instant,
    stop: watch::Receiver<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// The state, and the sender that tells WebSocket tasks to close.
    pub(crate) fn new(
        config: &Config,
        work_orders: Arc<crate::work_orders::WorkOrders>,
    ) -> (Self, watch::Sender<bool>) {
        let (frames, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (stop_sender, stop) = watch::channel(false);
        // Producers on a real plant stamp Unix time; the simulator its own clock.
        let (clock, time_scale) = match (&config.replay, &config.simulator) {
            (Some(replay), _) => (replay.clock, replay.time_scale * replay.speedup),
            (None, Some(sim)) => (Clock::Simulated, sim.speedup),
            (None, None) => (Clock::Unix, 1.0),
        };
        let line_json = serde_json::to_vec(&config.line).unwrap_or_default().into();
        let mut gateway_twin =
            crate::gateway_twin::GatewayTwin::new(&config.line, clock, time_scale);
        crate::sensor_record::restore(&mut gateway_twin, &work_orders.store());
        let twin = Arc::new(std::sync::Mutex::new(gateway_twin));
        let twin_feed = {
            let work_orders = Arc::clone(&work_orders);
            let viewers = frames.clone();
            let mut last_values = crate::sensor_record::LastValues::default();
            let mut failure_notices = crate::store::FailureNotices::default();
            let started = Instant::now();
            crate::gateway_twin::spawn(Arc::clone(&twin), move |twin, events| {
                if !events.is_empty() {
                    work_orders.on_events(twin, &events);
                    let told = crate::sensor_record::on_events(&work_orders.store(), &events);
                    for frame in told {
                        // To viewers (and the recording); the twin knows it already.
                        let _ = viewers.send(frame);
                    }
                }
                if last_values.due() {
                    last_values.write(twin, &work_orders.store());
                }
                // The twin's thread does the writes, so it is the one to tell.
                let failures = work_orders.store().failures();
                if let Some(text) = failure_notices.due(&failures, started.elapsed().as_secs_f64())
                {
                    tracing::error!("{text}");
                    let _ = viewers.send(Frame::text(&TextMessage::Notice {
                        level: linetwin_core::protocol::NoticeLevel::Warning,
                        message: text,
                    }));
                }
            })
        };
        let shared = Shared {
            line: config.line.clone(),
            line_json,
            clock,
            time_scale,
            replay: config.replay.is_some(),
            simulator: config.simulator.is_some(),
            record_dir: config.record.as_ref().map(|r| r.dir.clone()),
            sim_clock: config
                .simulator
                .filter(|_| config.replay.is_none())
                .map(|sim| Arc::new(crate::simulator::SimClock::new(sim.speedup))),
            scenario: config.scenario.clone().map(Arc::new),
            last_caption: std::sync::Mutex::new(None),
            frames,
            viewers: AtomicUsize::new(0),
            producers: AtomicUsize::new(0),
            sources: crate::source::Sources::default(),
            timestamps: Default::default(),
            offline: Default::default(),
            twin,
            twin_feed,
            work_orders,
            access: crate::auth::Access::new(config.auth.clone().map(|mut auth| {
                // Over the gateway's own HTTPS the cookie never needs plain HTTP.
                auth.secure_cookies |= config.tls.is_some();
                auth
            })),
            started: Instant::now(),
            stop,
        };
        (AppState(Arc::new(shared)), stop_sender)
    }

    pub(crate) fn hello(&self) -> TextMessage {
        if self.replay {
            TextMessage::replay_hello(&self.line.id, self.clock, self.time_scale)
        } else {
            let hello = TextMessage::hello(&self.line.id, self.clock, self.time_scale);
            match &self.scenario {
                Some(story) => hello.with_scenario(story.info()),
                None => hello,
            }
        }
    }

    /// The caption on show now (story time `now`), if any.
    pub(crate) fn caption_in_force(&self) -> Option<TextMessage> {
        let now = self.sim_clock.as_ref()?.now();
        let caption = self
            .last_caption
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()?;
        match &caption {
            TextMessage::Caption { t, duration_s, .. } if now >= *t && now < t + duration_s => {
                Some(caption)
            }
            _ => None,
        }
    }

    pub(crate) fn tell(&self, caption: TextMessage) {
        self.broadcast(Frame::text(&caption));
        *self
            .last_caption
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(caption);
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.frames.subscribe()
    }

    pub(crate) fn broadcast(&self, frame: Frame) {
        self.twin_feed.send(frame.clone());
        // An error only means nobody is watching right now: nothing to do.
        let _ = self.frames.send(frame);
    }

    pub(crate) fn has_viewers(&self) -> bool {
        self.frames.receiver_count() > 0
    }

    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    pub(crate) fn viewer_connected(&self) -> ConnectionGuard {
        ConnectionGuard::new(self.clone(), |s| &s.viewers)
    }

    pub(crate) fn producer_connected(&self) -> ConnectionGuard {
        ConnectionGuard::new(self.clone(), |s| &s.producers)
    }

    pub(crate) fn offline_sensors(
        &self,
    ) -> std::sync::MutexGuard<'_, crate::offline::OfflineSensors> {
        self.offline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn timestamp_checks(
        &self,
        source: crate::source::Source,
    ) -> std::sync::MutexGuard<'_, crate::timestamps::TimestampCheck> {
        self.timestamps[source.index()]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The gateway's clock in Unix seconds, when producers stamp Unix time
    /// (not on a simulated or replayed clock).
    pub(crate) fn gateway_unix_now(&self) -> Option<f64> {
        if self.replay || self.clock != Clock::Unix {
            return None;
        }
        Some(crate::unix_now())
    }

    pub(crate) async fn wait_for_sockets_to_close(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.open_sockets() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn open_sockets(&self) -> usize {
        self.viewers.load(Ordering::Relaxed) + self.producers.load(Ordering::Relaxed)
    }
}

/// Counts an open WebSocket for as long as it lives, however its task ends.
pub(crate) struct ConnectionGuard {
    state: AppState,
    counter: fn(&Shared) -> &AtomicUsize,
}

impl ConnectionGuard {
    fn new(state: AppState, counter: fn(&Shared) -> &AtomicUsize) -> Self {
        counter(&state).fetch_add(1, Ordering::Relaxed);
        ConnectionGuard { state, counter }
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        (self.counter)(&self.state).fetch_sub(1, Ordering::Relaxed);
    }
}

/// `/healthz`: "ok" for a probe; the counts for someone who may watch.
pub(crate) async fn healthz(
    State(state): State<AppState>,
    axum::Extension(principal): axum::Extension<crate::auth::Principal>,
) -> Json<serde_json::Value> {
    if !principal.may(crate::auth::roles::Action::Watch) {
        return Json(serde_json::json!({ "status": "ok" }));
    }
    Json(serde_json::json!({
        "status": "ok",
        "line_id": state.line.id,
        "clients": state.viewers.load(Ordering::Relaxed),
        "producers": state.producers.load(Ordering::Relaxed),
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "simulator": state.simulator,
        // `/ws/ingest` alone, as before there were other sources.
        "ingest": state.sources.to_json()["ws_ingest"],
        "sources": state.sources.to_json(),
        "offline_sensors": state.offline_sensors().len(),
        "twin": state.twin_health(),
        "work_orders": state.work_order_health(),
        "store": state.work_orders.store().failures(),
    }))
}

impl AppState {
    fn twin_health(&self) -> serde_json::Value {
        let twin = crate::gateway_twin::lock(&self.twin);
        let active = twin.twin().alarms().iter().filter(|a| a.active()).count();
        serde_json::json!({
            "frames": twin.frames,
            "dropped": self.twin_feed.dropped(),
            "active_alarms": active,
            "data_time": twin.twin().data_time(),
        })
    }

    fn work_order_health(&self) -> serde_json::Value {
        match self.work_orders.store().outbox_counts() {
            Ok(counts) => serde_json::json!(counts),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        }
    }
}

pub(crate) async fn line_description(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            // An engineer who edits the line and restarts must see the
            // edit; only the browser of someone who may watch keeps it.
            (header::CACHE_CONTROL, "private, no-cache"),
        ],
        state.line_json.clone(),
    )
        .into_response()
}
