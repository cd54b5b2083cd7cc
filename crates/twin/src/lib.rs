//! linetwin-twin: the twin's state, driven only by the data's own timestamps.
//!
//! Everything that decides a colour or an alarm lives here, once:
//! - [`level`]: the colour level of a sensor (worse of ISO zone and
//!   diagnosis) and of an asset (its worst fresh sensor).
//! - [`baseline`]: the ISO 20816-3 baseline-change rule.
//! - [`temperature`]: a temperature reading's level (absolute limits per
//!   asset kind, rise above its own baseline).
//! - [`alarm`]: alarm hysteresis per asset.
//! - [`asset`]: one asset's state as a fold over its observations.
//! - [`twin`]: the whole line ([`Twin`]): the data clock, a short reorder
//!   window so arrival order does not matter, acknowledgements, typed
//!   [`TwinEvent`]s and a serialisable [`TwinSnapshot`].
//! - [`history`]: every observation, time-indexed, with roll-ups and a
//!   fixed memory bound.
//! - [`motion`]: how fast each machine runs, for the scene's motion.
//! - [`record`]: an alarm as the gateway's record gives it.
//! - [`track_record`]: every forecast the twin made and how it turned out.
//!
//! No Bevy, no colours, no I/O, no clock of its own: the caller passes data
//! times in. Builds for native and wasm32.

pub mod alarm;
pub mod asset;
pub mod attention;
pub mod baseline;
pub mod clock;
pub mod deep_link;
pub mod event;
pub mod failure_mode;
pub mod history;
pub mod level;
pub mod motion;
pub mod observation;
pub mod prognosis;
pub mod record;
pub mod snapshot;
pub mod temperature;
pub mod timeline;
pub mod track_record;
pub mod twin;

pub use alarm::{Alarm, AlarmId, Severity};
pub use asset::SensorView;
pub use clock::DataClock;
pub use event::TwinEvent;
pub use history::{HistoryConfig, HistoryPoint, HistoryStore};
pub use level::AssetStatus;
pub use motion::{Pace, StopReason};
pub use observation::{BlockFinding, Observation};
pub use snapshot::TwinSnapshot;
pub use twin::{BlockTicket, Twin, TwinConfig};
