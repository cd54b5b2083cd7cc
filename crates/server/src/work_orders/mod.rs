//! Work orders out: the gateway's alarms are recorded in the state
//! database, and those the config's rule covers (or an operator picks)
//! become maintenance notifications, CloudEvents POSTed to the configured
//! webhooks. Delivery is at least once: each event waits in the outbox (on
//! disk with `[state] path`) until its receiver answers 2xx, retried with
//! backoff while the receiver is down; the event id is the same for the
//! same alarm episode, so a receiver can make its side idempotent.

pub mod config;
mod delivery;
pub mod event;
pub mod plan_event;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use linetwin_core::backoff::Backoff;
use linetwin_twin::{Alarm, AlarmId, TwinEvent};
use tokio::sync::Notify;

use crate::gateway_twin::GatewayTwin;
use crate::store::{Store, StoreError, StoredAlarm};
use crate::unix_now;
use config::{WebhookUrl, WorkOrderConfig};
use delivery::Outcome;
use event::{CloudEvent, MaintenanceRequest, Origin, RemainingLife};

/// Retries: 1 s doubling to 5 min, jittered, for as long as it takes.
const RETRY: Backoff = Backoff {
    initial: Duration::from_secs(1),
    max: Duration::from_secs(300),
};
/// Entries sent per round.
const BATCH: usize = 32;
/// Alarms whose acknowledgements a joining viewer is told.
const GREETING_ALARMS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no alarm {0} in the record")]
    NoSuchAlarm(u64),
    #[error("no webhook is configured: add [[work_orders.webhooks]] to the gateway config")]
    NoWebhook,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum PlanRequestError {
    #[error("{0}")]
    Invalid(String),
    #[error("no webhook is configured: add [[work_orders.webhooks]] to the gateway config")]
    NoWebhook,
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Webhook {
    url: String,
    parsed: WebhookUrl,
    token: Option<String>,
    /// For https: whom to trust.
    tls: Option<Arc<rustls::ClientConfig>>,
}

pub(crate) struct WorkOrders {
    store: Mutex<Store>,
    config: WorkOrderConfig,
    webhooks: Vec<Webhook>,
    source: String,
    viewer_url: String,
    wake: Notify,
}

impl WorkOrders {
    pub(crate) fn new(
        store: Store,
        config: Option<WorkOrderConfig>,
        line_id: &str,
        default_viewer_url: String,
    ) -> Self {
        let config = config.unwrap_or(WorkOrderConfig {
            raise_on: config::RaiseOn::Never,
            viewer_url: None,
            source: None,
            webhooks: Vec::new(),
        });
        let webhooks = config
            .webhooks
            .iter()
            .enumerate()
            .filter_map(|(i, hook)| {
                // Checked when the config was loaded; a bad one here is skipped, loudly.
                let parsed = WebhookUrl::parse(&hook.url)
                    .map_err(|reason| tracing::error!("webhook {}: {reason}", hook.url))
                    .ok()?;
                let tls = if parsed.tls {
                    let section = format!("work_orders.webhooks[{i}]");
                    let config = crate::tls::client_config(&hook.tls_files(&section))
                        .map_err(|(field, reason)| tracing::error!("{field}: {reason}"))
                        .ok()?;
                    Some(Arc::new(config))
                } else {
                    None
                };
                Some(Webhook {
                    url: hook.url.clone(),
                    parsed,
                    token: hook.token_env.as_ref().and_then(|n| std::env::var(n).ok()),
                    tls,
                })
            })
            .collect();
        WorkOrders {
            store: Mutex::new(store),
            source: config
                .source
                .clone()
                .unwrap_or_else(|| format!("linetwin://{line_id}")),
            viewer_url: config.viewer_url.clone().unwrap_or(default_viewer_url),
            config,
            webhooks,
            wake: Notify::new(),
        }
    }

    pub(crate) fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The record's acknowledgements (of its newest alarms), as messages
    /// for a viewer that joins.
    pub(crate) fn acknowledgements(&self) -> Vec<linetwin_core::protocol::TextMessage> {
        let alarms = match self.store().alarms(GREETING_ALARMS) {
            Ok(alarms) => alarms,
            Err(e) => {
                tracing::error!("{e}");
                return Vec::new();
            }
        };
        alarms
            .into_iter()
            .filter_map(|a| {
                Some(linetwin_core::protocol::TextMessage::Acknowledged {
                    alarm: a.id,
                    by: a.acknowledged_by?,
                    at_unix_s: a.acknowledged_at_unix_s?,
                })
            })
            .collect()
    }

    /// What the twin's events mean for the record and the outbox.
    pub(crate) fn on_events(&self, twin: &GatewayTwin, events: &[TwinEvent]) {
        for event in events {
            let result = match event {
                TwinEvent::AlarmRaised(alarm) => self.on_raised(twin, alarm),
                TwinEvent::AlarmCleared { id, at, .. } => self.store().clear_alarm(*id, *at),
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::error!("{e}");
            }
        }
    }

    fn on_raised(&self, twin: &GatewayTwin, alarm: &Alarm) -> Result<(), StoreError> {
        self.store().record_alarm(alarm)?;
        if self.config.raise_on.covers(alarm.severity) && !self.webhooks.is_empty() {
            let stored = stored(alarm);
            self.enqueue(twin, &stored, Origin::Rule, None)?;
        }
        Ok(())
    }

    /// An operator asks for maintenance on an alarm; returns the event id
    /// (the same one the rule would have used, so asking twice, or after
    /// the rule did, sends nothing more).
    pub(crate) fn request(
        &self,
        twin: &GatewayTwin,
        alarm: AlarmId,
        by: &str,
    ) -> Result<String, RequestError> {
        if self.webhooks.is_empty() {
            return Err(RequestError::NoWebhook);
        }
        let stored = self
            .store()
            .alarm(alarm)?
            .ok_or(RequestError::NoSuchAlarm(alarm))?;
        Ok(self.enqueue(twin, &stored, Origin::Operator, Some(by))?)
    }

    /// A planner sends a what-if plan; returns the event id (the same plan
    /// at the same moment again sends nothing more).
    pub(crate) fn request_plan(
        &self,
        line: &linetwin_core::line::Line,
        request: &linetwin_forecast::order::PlanOrder,
    ) -> Result<String, PlanRequestError> {
        request.check(line).map_err(PlanRequestError::Invalid)?;
        if self.webhooks.is_empty() {
            return Err(PlanRequestError::NoWebhook);
        }
        let now = unix_now();
        let event = plan_event::event(request, line, &self.source, &self.viewer_url, now);
        let urls: Vec<String> = self.webhooks.iter().map(|w| w.url.clone()).collect();
        let added = self
            .store()
            .enqueue(&event.id, &event.to_json(), None, &urls, now)?;
        if added > 0 {
            tracing::info!(
                "plan `{}` sent by {} ({})",
                request.plan.name,
                event.data.requested_by,
                event.id
            );
            self.wake.notify_one();
        }
        Ok(event.id)
    }

    fn enqueue(
        &self,
        twin: &GatewayTwin,
        alarm: &StoredAlarm,
        origin: Origin,
        by: Option<&str>,
    ) -> Result<String, StoreError> {
        let line = twin.line();
        let asset_spec = line.asset(&alarm.asset);
        let state = twin.twin().asset(&alarm.asset);

        let remaining_life = asset_spec
            .map(|spec| linetwin_twin::prognosis::prognose(twin.twin(), spec))
            .filter(|p| p.median_h.is_finite() && p.sensor.is_some())
            .map(|p| RemainingLife {
                median_h: p.median_h,
                low_h: p.low_h,
                high_h: p.high_h,
            });
        let request = MaintenanceRequest {
            line_id: line.id.clone(),
            asset: alarm.asset.clone(),
            asset_name: asset_spec.map_or_else(|| alarm.asset.clone(), |a| a.name.clone()),
            sensor: state
                .and_then(|s| s.worst_sensor())
                .map(|(id, _)| id.clone()),
            failure_mode: state.map_or(
                linetwin_twin::failure_mode::FailureMode::UNKNOWN,
                linetwin_twin::failure_mode::failure_mode,
            ),
            severity: alarm.severity.clone(),
            zone: alarm.level.clone(),
            evidence: alarm.message.clone(),
            alarm_id: alarm.id,
            raised_at: alarm.raised_at,
            remaining_life,
            recommended_plan: None,
            link: event::deep_link(&self.viewer_url, &alarm.asset, alarm.raised_at),
            origin,
            requested_by: by.map(str::to_owned),
        };
        let now = unix_now();
        let event = CloudEvent::for_request(&self.source, request, now);
        let urls: Vec<String> = self.webhooks.iter().map(|w| w.url.clone()).collect();
        let added =
            self.store()
                .enqueue(&event.id, &event.to_json(), Some(alarm.id), &urls, now)?;
        if added > 0 {
            tracing::info!("maintenance requested for {} ({})", alarm.asset, event.id);
            self.wake.notify_one();
        }
        Ok(event.id)
    }

    /// Delivers the outbox, for as long as the gateway runs.
    pub(crate) async fn deliver(self: Arc<Self>) {
        loop {
            let due = self.store().due(unix_now(), BATCH);
            let due = match due {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!("{e}");
                    Vec::new()
                }
            };
            for entry in &due {
                let Some(hook) = self.webhooks.iter().find(|w| w.url == entry.webhook) else {
                    // A webhook no longer in the config: its entries stay, undelivered, and say why.
                    let _ = self.store().attempt_failed(
                        &entry.event_id,
                        &entry.webhook,
                        "this webhook is no longer in the gateway config",
                        None,
                    );
                    continue;
                };
                let outcome = delivery::post(
                    &hook.parsed,
                    hook.tls.as_ref(),
                    hook.token.as_deref(),
                    &entry.event,
                )
                .await;
                let store = self.store();
                let result = match outcome {
                    Outcome::Delivered => {
                        tracing::info!("{} delivered to {}", entry.event_id, entry.webhook);
                        store.delivered(&entry.event_id, &entry.webhook, unix_now())
                    }
                    Outcome::Retry(reason) => {
                        let delay =
                            RETRY.delay(entry.attempts, jitter(&entry.event_id, entry.attempts));
                        tracing::warn!(
                            "{} to {}: {reason}; again in {:.0} s",
                            entry.event_id,
                            entry.webhook,
                            delay.as_secs_f64()
                        );
                        store.attempt_failed(
                            &entry.event_id,
                            &entry.webhook,
                            &reason,
                            Some(unix_now() + delay.as_secs_f64()),
                        )
                    }
                    Outcome::Refused(reason) => {
                        tracing::error!(
                            "{} refused by {}: {reason}",
                            entry.event_id,
                            entry.webhook
                        );
                        store.attempt_failed(&entry.event_id, &entry.webhook, &reason, None)
                    }
                };
                if let Err(e) = result {
                    tracing::error!("{e}");
                }
            }
            if due.len() == BATCH {
                continue;
            }
            let next = self.store().next_due().ok().flatten();
            let wait = next.map_or(Duration::from_secs(60), |at| {
                Duration::from_secs_f64((at - unix_now()).clamp(0.05, 60.0))
            });
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
            }
        }
    }
}

/// A repeatable jitter in [0, 1) per event and attempt, so that many
/// events waiting on one receiver do not all retry at the same instant.
fn jitter(event_id: &str, attempt: u32) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in event_id.bytes().chain(attempt.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

fn stored(alarm: &Alarm) -> StoredAlarm {
    StoredAlarm {
        id: alarm.id,
        asset: alarm.asset.clone(),
        severity: alarm.severity.label().to_owned(),
        level: alarm.level.letter().to_owned(),
        raised_at: alarm.raised_at,
        cleared_at: alarm.cleared_at,
        message: alarm.message.clone(),
        acknowledged_by: None,
        acknowledged_at_unix_s: None,
        work_order: None,
    }
}
