//! The whole line's twin: observations in, events and snapshots out.
//!
//! Arrival order does not matter within the reorder window: each asset keeps
//! a *committed* state (every observation older than the window, applied in
//! data-time order) and the observations still inside the window. The
//! current state is the committed one plus those, in data-time order, so the
//! same frames fed fast, slow, with gaps, or shuffled within the window give
//! the same alarms at the same data times. Events are the difference between
//! what was last published and the current state.

use std::collections::{BTreeMap, HashMap};

use linetwin_core::line::Line;
use linetwin_core::protocol::{Clock, Reading};

use crate::alarm::{Alarm, AlarmId};
use crate::asset::AssetState;
use crate::clock::DataClock;
use crate::event::TwinEvent;
use crate::history::{HistoryConfig, HistoryStore};
use crate::level::AssetStatus;
use crate::observation::Observation;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwinConfig {
    /// Data older than this no longer describes the machine: grey.
    pub stale_after_s: f64,
    /// Observations this much older than the newest are still put in order;
    /// older ones are kept in the history but no longer change the state.
    pub reorder_window_s: f64,
    /// A block being diagnosed holds back the window for at most this long
    /// (data seconds); a result later than that only goes into the history.
    pub max_diagnosis_lag_s: f64,
    /// Data further ahead of the twin's time than this is refused (a
    /// producer's clock gone wrong), so it cannot make everything late.
    pub max_ahead_s: f64,
    pub history: HistoryConfig,
}

impl Default for TwinConfig {
    fn default() -> Self {
        TwinConfig {
            stale_after_s: 15.0,
            reorder_window_s: 4.0,
            max_diagnosis_lag_s: 120.0,
            max_ahead_s: 3600.0,
            history: HistoryConfig::default(),
        }
    }
}

/// Counts of what the twin was fed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct TwinCounters {
    pub observations: u64,
    /// Older than the reorder window when they came: history only.
    pub late: u64,
    /// For a sensor the line does not have.
    pub unknown_sensor: u64,
    /// With a time that is not a finite number, or too far ahead.
    pub bad_time: u64,
    /// Blocks received but never diagnosed in time (or skipped).
    pub blocks_dropped: u64,
}

/// A received block on its way through diagnosis: its time on the twin's
/// axis (placed when it arrived, so a later epoch cannot move it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockTicket {
    id: u64,
    pub t_start: f64,
}

#[derive(Debug, Clone)]
struct AssetSlot {
    committed: AssetState,
    /// Inside the reorder window, in data-time order.
    pending: Vec<Observation>,
    current: AssetState,
    /// What viewers were last told.
    published_status: AssetStatus,
    published_alarms: HashMap<AlarmId, bool>,
    published_fresh: BTreeMap<String, bool>,
    /// Baselines viewers were told (or that came from the record).
    published_baselines: BTreeMap<String, f64>,
}

/// Order of observations with equal times, so ties never depend on arrival.
fn order_key(o: &Observation) -> (f64, &str, u8) {
    let kind = match o {
        Observation::Reading { .. } => 0,
        Observation::BlockFailed { .. } => 1,
        Observation::Block(_) => 2,
        // Data stamped at the very moment of a death came before it.
        Observation::Offline { .. } => 3,
    };
    (o.t(), o.sensor(), kind)
}

fn before(a: &Observation, b: &Observation) -> bool {
    let (ta, sa, ka) = order_key(a);
    let (tb, sb, kb) = order_key(b);
    ta.total_cmp(&tb).then(sa.cmp(sb)).then(ka.cmp(&kb)).is_lt()
}

/// The twin of one line.
#[derive(Debug, Clone)]
pub struct Twin {
    config: TwinConfig,
    assets: Vec<AssetSlot>,
    asset_index: BTreeMap<String, usize>,
    sensor_owner: HashMap<String, usize>,
    clock: DataClock,
    /// The caller's estimate of data time during silence (stream clock
    /// mapped to the twin's axis); only for staleness, never for ordering.
    silence_estimate: Option<f64>,
    acknowledged: BTreeMap<AlarmId, f64>,
    /// Who, from the gateway's record (a local acknowledgement names no one).
    acknowledged_by: BTreeMap<AlarmId, String>,
    /// Blocks being diagnosed: ticket id to twin time. They hold the window.
    outstanding: BTreeMap<u64, f64>,
    next_ticket: u64,
    history: HistoryStore,
    counters: TwinCounters,
}

impl Twin {
    pub fn new(line: &Line, config: TwinConfig) -> Self {
        let mut sensor_owner = HashMap::new();
        let mut asset_index = BTreeMap::new();
        let assets = line
            .assets
            .iter()
            .enumerate()
            .map(|(ordinal, asset)| {
                asset_index.insert(asset.id.clone(), ordinal);
                for sensor in &asset.sensors {
                    sensor_owner.insert(sensor.id.clone(), ordinal);
                }
                let state = AssetState::new(asset, ordinal);
                AssetSlot {
                    committed: state.clone(),
                    pending: Vec::new(),
                    published_fresh: state.sensors.keys().map(|s| (s.clone(), false)).collect(),
                    current: state,
                    published_status: AssetStatus::NoData,
                    published_alarms: HashMap::new(),
                    published_baselines: BTreeMap::new(),
                }
            })
            .collect();
        Twin {
            history: HistoryStore::for_line(line, config.history),
            config,
            assets,
            asset_index,
            sensor_owner,
            clock: DataClock::default(),
            silence_estimate: None,
            acknowledged: BTreeMap::new(),
            acknowledged_by: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            next_ticket: 0,
            counters: TwinCounters::default(),
        }
    }

    pub fn config(&self) -> &TwinConfig {
        &self.config
    }

    pub fn clock(&self) -> &DataClock {
        &self.clock
    }

    /// The latest data time, if anything has arrived.
    pub fn data_time(&self) -> Option<f64> {
        self.clock.now
    }

    /// The time statuses are judged at: the latest data time, or later
    /// while the stream is silent (see [`Twin::silent_for`]).
    pub fn now(&self) -> Option<f64> {
        match (self.clock.now, self.silence_estimate) {
            (Some(data), Some(estimate)) => Some(data.max(estimate)),
            (data, estimate) => data.or(estimate),
        }
    }

    pub fn counters(&self) -> TwinCounters {
        self.counters
    }

    pub fn history(&self) -> &HistoryStore {
        &self.history
    }

    /// A gateway said hello (on every connection).
    pub fn hello(&mut self, clock: Clock, time_scale: f64) {
        self.clock.hello(clock, time_scale);
    }

    /// Scalar readings taken at stream time `t`.
    pub fn readings(&mut self, t: f64, values: &[Reading]) -> Vec<TwinEvent> {
        let mut events = Vec::new();
        for reading in values {
            events.extend(self.ingest(Observation::Reading {
                sensor: reading.sensor.clone(),
                t,
                value: reading.value,
            }));
        }
        events
    }

    /// The source of these sensors is gone since stream time `t` (an
    /// `offline` message): they are stale at once, with `reason`, until
    /// they report again.
    pub fn offline(&mut self, t: f64, sensors: &[String], reason: &str) -> Vec<TwinEvent> {
        let mut events = Vec::new();
        for sensor in sensors {
            events.extend(self.ingest(Observation::Offline {
                sensor: sensor.clone(),
                t,
                reason: reason.to_owned(),
            }));
        }
        events
    }

    /// Feeds one observation (its time on the stream's clock).
    pub fn ingest(&mut self, mut observation: Observation) -> Vec<TwinEvent> {
        let t_stream = observation.t();
        let Some(t) = self.place(observation.sensor(), t_stream) else {
            return Vec::new();
        };
        shift_time(&mut observation, t - t_stream);
        self.apply_placed(observation)
    }

    /// A block has arrived and goes to diagnosis: its time is placed now,
    /// and until its result comes (or [`Twin::block_dropped`]) it holds the
    /// reorder window open, so a slow diagnosis never makes it late.
    pub fn block_received(&mut self, sensor: &str, t_start: f64) -> Option<BlockTicket> {
        let t = self.place(sensor, t_start)?;
        let id = self.next_ticket;
        self.next_ticket += 1;
        self.outstanding.insert(id, t);
        Some(BlockTicket { id, t_start: t })
    }

    /// The diagnosis of a ticketed block (its `t_start` is ignored: the
    /// ticket's time, placed on arrival, is used).
    pub fn block_diagnosed(
        &mut self,
        ticket: BlockTicket,
        mut finding: crate::observation::BlockFinding,
    ) -> Vec<TwinEvent> {
        self.outstanding.remove(&ticket.id);
        finding.t_start = ticket.t_start;
        self.apply_placed(Observation::Block(std::sync::Arc::new(finding)))
    }

    /// A ticketed block that could not be judged, and why.
    pub fn block_failed(
        &mut self,
        ticket: BlockTicket,
        sensor: &str,
        duration_s: f64,
        problem: String,
    ) -> Vec<TwinEvent> {
        self.outstanding.remove(&ticket.id);
        self.apply_placed(Observation::BlockFailed {
            sensor: sensor.to_owned(),
            t: ticket.t_start + duration_s,
            problem,
        })
    }

    /// A ticketed block that will not be diagnosed (a newer one replaced it).
    pub fn block_dropped(&mut self, ticket: BlockTicket) {
        if self.outstanding.remove(&ticket.id).is_some() {
            self.counters.blocks_dropped += 1;
        }
    }

    /// Checks an incoming time and puts it on the twin's axis.
    fn place(&mut self, sensor: &str, t_stream: f64) -> Option<f64> {
        if !self.sensor_owner.contains_key(sensor) {
            self.counters.unknown_sensor += 1;
            return None;
        }
        self.place_time(t_stream)
    }

    /// Puts a stream time on the twin's axis the way data is placed: the
    /// first time after a hello may open an epoch. For what belongs to no
    /// sensor, such as a story's caption, which can come before any data
    /// of a story sent back in time. `None` for a time that is not finite
    /// or too far ahead.
    pub fn place_time(&mut self, t_stream: f64) -> Option<f64> {
        if !t_stream.is_finite() {
            self.counters.bad_time += 1;
            return None;
        }
        let tolerance = self.config.reorder_window_s.max(self.config.stale_after_s);
        let anchor = self.now();
        let t = self.clock.place(t_stream, tolerance, anchor);
        if anchor.is_some_and(|now| t > now + self.config.max_ahead_s) {
            self.counters.bad_time += 1;
            return None;
        }
        Some(t)
    }

    fn apply_placed(&mut self, observation: Observation) -> Vec<TwinEvent> {
        let Some(&index) = self.sensor_owner.get(observation.sensor()) else {
            self.counters.unknown_sensor += 1;
            return Vec::new();
        };
        self.counters.observations += 1;
        let t = observation.t();
        self.history.record(&observation);

        let watermark = self.watermark();
        if watermark.is_some_and(|w| t < w) {
            self.counters.late += 1;
            return Vec::new();
        }
        let stale = self.config.stale_after_s;
        let slot = &mut self.assets[index];
        let position = slot.pending.partition_point(|p| before(p, &observation));
        if position == slot.pending.len() {
            slot.current.apply(&observation, stale);
            slot.pending.push(observation);
        } else {
            // Out of order: rebuild this asset's state in data-time order.
            slot.pending.insert(position, observation);
            let mut current = slot.committed.clone();
            for o in &slot.pending {
                current.apply(o, stale);
            }
            slot.current = current;
        }
        if self.clock.now.is_none_or(|now| t > now) {
            // Data moved on: it overrides any estimate made during silence.
            self.silence_estimate = None;
        }
        self.clock.advance(t);
        self.commit();
        self.publish()
    }

    /// Tells the twin that nothing has arrived for `wall_s` wall seconds
    /// since its latest data: data time would have moved on at the hello's
    /// time scale ([`crate::clock::estimate_during_silence`]), so sensors can
    /// turn stale. It moves only the time statuses are judged at; data that
    /// arrives later is still put in order and judged at its own time, so
    /// alarms do not depend on it.
    pub fn silent_for(&mut self, wall_s: f64) -> Vec<TwinEvent> {
        let Some(data_now) = self.clock.now else {
            return Vec::new();
        };
        if !wall_s.is_finite() {
            return Vec::new();
        }
        let t = crate::clock::estimate_during_silence(data_now, wall_s, self.clock.scale());
        if self.silence_estimate == Some(t) {
            return Vec::new();
        }
        self.silence_estimate = Some(t);
        self.publish()
    }

    /// A vibration sensor's baseline from the gateway's record
    /// (`value_mm_s`, learned at data time `t`), or learned afresh from its
    /// next blocks (`None`: asked by `by` at `t`, after maintenance). False
    /// for an unknown or non-vibration sensor, or a value that is no velocity.
    pub fn set_baseline(
        &mut self,
        sensor: &str,
        t: f64,
        value_mm_s: Option<f64>,
        by: Option<&str>,
    ) -> bool {
        let Some(&index) = self.sensor_owner.get(sensor) else {
            self.counters.unknown_sensor += 1;
            return false;
        };
        let slot = &mut self.assets[index];
        // Both states, so a rebuild after a late observation keeps it
        // (`&`, not `&&`: the second must run whatever the first says).
        let changed = slot.committed.set_baseline(sensor, t, value_mm_s, by)
            & slot.current.set_baseline(sensor, t, value_mm_s, by);
        if changed {
            // A value from the record is news to no one; a relearned one will be.
            match value_mm_s {
                Some(value) => slot.published_baselines.insert(sensor.to_owned(), value),
                None => slot.published_baselines.remove(sensor),
            };
        }
        changed
    }

    /// Acknowledges an alarm by id; `None` if there is no such alarm.
    pub fn acknowledge(&mut self, id: AlarmId) -> Option<TwinEvent> {
        let alarm = self.alarm(id)?;
        let asset = alarm.asset.clone();
        if self.acknowledged.contains_key(&id) {
            return None;
        }
        let at = self.now().unwrap_or(0.0);
        self.acknowledged.insert(id, at);
        Some(TwinEvent::AlarmAcknowledged { id, asset, at })
    }

    /// An acknowledgement from the gateway's record: applied now if the
    /// alarm is known, otherwise kept for when this twin raises it (a viewer
    /// that joins hears the record before the data that raises the alarm).
    pub fn acknowledge_recorded(&mut self, id: AlarmId, by: &str) -> Option<TwinEvent> {
        self.acknowledged_by
            .entry(id)
            .or_insert_with(|| by.to_owned());
        if self.alarm(id).is_some() {
            return self.acknowledge(id);
        }
        let at = self.now().unwrap_or(0.0);
        self.acknowledged.entry(id).or_insert(at);
        None
    }

    /// Who acknowledged it, when the gateway's record says.
    pub fn acknowledged_by(&self, id: AlarmId) -> Option<&str> {
        self.acknowledged_by.get(&id).map(String::as_str)
    }

    pub fn is_acknowledged(&self, id: AlarmId) -> bool {
        self.acknowledged.contains_key(&id)
    }

    pub fn alarm(&self, id: AlarmId) -> Option<&Alarm> {
        self.assets
            .get(crate::alarm::asset_of(id))?
            .current
            .watch
            .alarms()
            .iter()
            .find(|a| a.id == id)
    }

    /// Every alarm of the line, oldest first.
    pub fn alarms(&self) -> Vec<&Alarm> {
        let mut all: Vec<&Alarm> = self
            .assets
            .iter()
            .flat_map(|slot| slot.current.watch.alarms())
            .collect();
        all.sort_by(|a, b| a.raised_at.total_cmp(&b.raised_at).then(a.id.cmp(&b.id)));
        all
    }

    pub fn unacknowledged(&self) -> usize {
        self.alarms()
            .iter()
            .filter(|a| !self.acknowledged.contains_key(&a.id))
            .count()
    }

    pub fn asset(&self, id: &str) -> Option<&AssetState> {
        self.asset_index.get(id).map(|&i| &self.assets[i].current)
    }

    pub fn assets(&self) -> impl Iterator<Item = &AssetState> {
        self.assets.iter().map(|slot| &slot.current)
    }

    /// How fast the asset runs at the twin's time now.
    pub fn pace(&self, asset: &linetwin_core::line::Asset) -> crate::motion::Pace {
        match (self.asset(&asset.id), self.now()) {
            (Some(state), Some(now)) => {
                crate::motion::pace(asset, state, now, self.config.stale_after_s)
            }
            _ => crate::motion::Pace::Stopped {
                reason: crate::motion::StopReason::NoData,
            },
        }
    }

    /// The asset's status at the twin's time now.
    pub fn status(&self, id: &str) -> AssetStatus {
        match (self.asset(id), self.now()) {
            (Some(asset), Some(now)) => asset.status_at(now, self.config.stale_after_s),
            _ => AssetStatus::NoData,
        }
    }

    /// Observations older than this no longer change the state: the reorder
    /// window behind the latest data, held back by blocks still being
    /// diagnosed (for at most [`TwinConfig::max_diagnosis_lag_s`]).
    fn watermark(&self) -> Option<f64> {
        let now = self.clock.now?;
        let window = now - self.config.reorder_window_s;
        let held = self
            .outstanding
            .values()
            .copied()
            .filter(|t| *t >= now - self.config.max_diagnosis_lag_s)
            .fold(f64::INFINITY, f64::min);
        Some(window.min(held))
    }

    /// Applies to the committed states what has left the reorder window.
    fn commit(&mut self) {
        let Some(watermark) = self.watermark() else {
            return;
        };
        // Blocks stuck in diagnosis for too long no longer hold anything.
        if let Some(now) = self.clock.now {
            let oldest = now - self.config.max_diagnosis_lag_s;
            let before = self.outstanding.len();
            self.outstanding.retain(|_, t| *t >= oldest);
            self.counters.blocks_dropped += (before - self.outstanding.len()) as u64;
        }
        let stale = self.config.stale_after_s;
        for slot in &mut self.assets {
            let ready = slot.pending.partition_point(|o| o.t() < watermark);
            for observation in slot.pending.drain(..ready) {
                slot.committed.apply(&observation, stale);
            }
        }
    }

    /// Events: what changed since viewers were last told.
    fn publish(&mut self) -> Vec<TwinEvent> {
        let Some(now) = self.now() else {
            return Vec::new();
        };
        let stale = self.config.stale_after_s;
        let mut events = Vec::new();
        for slot in &mut self.assets {
            let asset = &slot.current;
            for (id, sensor) in &asset.sensors {
                let fresh = sensor.fresh_at(now, stale);
                if let (Some(value), Some(since_t)) =
                    (sensor.baseline.value_mm_s, sensor.baseline.since_t)
                    && slot.published_baselines.get(id) != Some(&value)
                {
                    slot.published_baselines.insert(id.clone(), value);
                    events.push(TwinEvent::BaselineLearned {
                        sensor: id.clone(),
                        asset: asset.id.clone(),
                        value_mm_s: value,
                        since_t,
                        commissioned_by: sensor.baseline.commissioned_by.clone(),
                    });
                }
                let told = slot.published_fresh.get_mut(id);
                if let Some(told) = told
                    && *told != fresh
                {
                    *told = fresh;
                    let last = sensor.last_t.unwrap_or(now);
                    events.push(if fresh {
                        TwinEvent::SensorFresh {
                            sensor: id.clone(),
                            asset: asset.id.clone(),
                            at: last,
                        }
                    } else {
                        TwinEvent::SensorStale {
                            sensor: id.clone(),
                            asset: asset.id.clone(),
                            since: sensor.offline.as_ref().map_or(last + stale, |o| o.t),
                            reason: sensor.offline.as_ref().map(|o| o.reason.clone()),
                        }
                    });
                }
            }
            let status = asset.status_at(now, stale);
            if status != slot.published_status {
                events.push(TwinEvent::LevelChanged {
                    asset: asset.id.clone(),
                    from: slot.published_status,
                    to: status,
                    at: now,
                    velocity_mm_s: asset.worst_velocity(),
                });
                slot.published_status = status;
            }
            for alarm in asset.watch.alarms() {
                let active = alarm.active();
                match slot.published_alarms.insert(alarm.id, active) {
                    None => {
                        events.push(TwinEvent::AlarmRaised(alarm.clone()));
                        if !active {
                            events.push(cleared(alarm));
                        }
                    }
                    Some(true) if !active => events.push(cleared(alarm)),
                    _ => {}
                }
            }
            // Alarms gone from the list: evicted, or replaced when a late
            // observation rebuilt the asset. Viewers hear they no longer stand.
            if slot.published_alarms.len() > asset.watch.alarms().len() {
                let current: std::collections::HashSet<AlarmId> =
                    asset.watch.alarms().iter().map(|a| a.id).collect();
                slot.published_alarms.retain(|id, active| {
                    let keep = current.contains(id);
                    if !keep && *active {
                        events.push(TwinEvent::AlarmCleared {
                            id: *id,
                            asset: asset.id.clone(),
                            at: now,
                        });
                    }
                    keep
                });
            }
        }
        let alarms_kept = self.assets.len() * crate::alarm::MAX_ALARMS_PER_ASSET;
        if self.acknowledged.len() > alarms_kept {
            let assets = &self.assets;
            self.acknowledged.retain(|id, _| {
                assets
                    .get(crate::alarm::asset_of(*id))
                    .is_some_and(|slot| slot.current.watch.alarms().iter().any(|a| a.id == *id))
            });
            let kept = &self.acknowledged;
            self.acknowledged_by.retain(|id, _| kept.contains_key(id));
        }
        events
    }
}

fn cleared(alarm: &Alarm) -> TwinEvent {
    TwinEvent::AlarmCleared {
        id: alarm.id,
        asset: alarm.asset.clone(),
        at: alarm.cleared_at.unwrap_or(alarm.raised_at),
    }
}

fn shift_time(observation: &mut Observation, by: f64) {
    if by == 0.0 {
        return;
    }
    match observation {
        Observation::Reading { t, .. }
        | Observation::BlockFailed { t, .. }
        | Observation::Offline { t, .. } => *t += by,
        Observation::Block(block) => std::sync::Arc::make_mut(block).t_start += by,
    }
}
