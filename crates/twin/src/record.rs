//! An alarm as the gateway's record keeps it and its API gives it
//! (`GET /api/alarms`): one type for the gateway that writes it and the
//! viewer that reads it, so the two cannot drift apart.

use serde::{Deserialize, Serialize};

use crate::AlarmId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedAlarm {
    pub id: AlarmId,
    pub asset: String,
    /// `advisory`, `warning` or `critical`.
    pub severity: String,
    /// The ISO 20816-3 zone letter when raised.
    pub level: String,
    /// Data time it was raised.
    pub raised_at: f64,
    pub cleared_at: Option<f64>,
    pub message: String,
    /// Who acknowledged it first, and when (Unix seconds).
    pub acknowledged_by: Option<String>,
    pub acknowledged_at_unix_s: Option<f64>,
    /// Its work order over all webhooks: `failed` if any gave up,
    /// `delivered` when all have it, `requested` meanwhile; `None` if none.
    pub work_order: Option<String>,
}
