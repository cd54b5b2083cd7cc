//! Per sensor: its ISO 20816-3 baseline, so that a restarted gateway (and
//! every viewer it greets) keeps the machine's own normal level instead of
//! learning a worn machine's level as normal; and its last value, so the
//! record says what each sensor last reported and when, across restarts.

use rusqlite::params;
use serde::Serialize;

use super::{Store, StoreError};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredBaseline {
    pub sensor: String,
    /// `None` while it is learned afresh.
    pub value_mm_s: Option<f64>,
    /// Data time it was learned, or since when it is learned afresh.
    pub since_t: f64,
    /// Who had it learned afresh; `None`: from the sensor's first blocks.
    pub commissioned_by: Option<String>,
    pub recorded_unix_s: f64,
}

impl StoredBaseline {
    pub fn message(&self) -> linetwin_core::protocol::TextMessage {
        linetwin_core::protocol::TextMessage::Baseline {
            sensor: self.sensor.clone(),
            t: self.since_t,
            value_mm_s: self.value_mm_s,
            by: self.commissioned_by.clone(),
        }
    }
}

/// A sensor's latest state as the gateway's twin saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorValue {
    pub sensor: String,
    /// Data time of its latest observation.
    pub t: f64,
    /// The reading, or the ISO velocity r.m.s. in mm/s for vibration.
    pub value: Option<f64>,
    pub unit: String,
    /// Its colour level (ISO zone letter), when judged.
    pub level: Option<String>,
    pub recorded_unix_s: f64,
}

impl Store {
    pub fn record_baseline(&self, baseline: &StoredBaseline) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO baselines (sensor, value_mm_s, since_t, commissioned_by, recorded_unix_s)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (sensor) DO UPDATE SET value_mm_s = excluded.value_mm_s,
                   since_t = excluded.since_t, commissioned_by = excluded.commissioned_by,
                   recorded_unix_s = excluded.recorded_unix_s",
                params![
                    baseline.sensor,
                    baseline.value_mm_s,
                    baseline.since_t,
                    baseline.commissioned_by,
                    baseline.recorded_unix_s
                ],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    pub fn baselines(&self) -> Result<Vec<StoredBaseline>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT sensor, value_mm_s, since_t, commissioned_by, recorded_unix_s
                 FROM baselines ORDER BY sensor",
            )
            .map_err(self.sqlite())?;
        statement
            .query_map([], |row| {
                Ok(StoredBaseline {
                    sensor: row.get(0)?,
                    value_mm_s: row.get(1)?,
                    since_t: row.get(2)?,
                    commissioned_by: row.get(3)?,
                    recorded_unix_s: row.get(4)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }

    /// Keeps each sensor's newest value, in one transaction.
    pub fn record_sensor_values(&self, values: &[SensorValue]) -> Result<(), StoreError> {
        let transaction = self
            .connection
            .unchecked_transaction()
            .map_err(self.sqlite())?;
        {
            let mut statement = transaction
                .prepare_cached(
                    "INSERT INTO sensor_values (sensor, t, value, unit, level, recorded_unix_s)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (sensor) DO UPDATE SET t = excluded.t, value = excluded.value,
                       unit = excluded.unit, level = excluded.level,
                       recorded_unix_s = excluded.recorded_unix_s
                     WHERE excluded.t >= sensor_values.t",
                )
                .map_err(self.sqlite())?;
            for v in values {
                statement
                    .execute(params![
                        v.sensor,
                        v.t,
                        v.value,
                        v.unit,
                        v.level,
                        v.recorded_unix_s
                    ])
                    .map_err(self.sqlite())?;
            }
        }
        transaction.commit().map_err(self.sqlite())
    }

    pub fn sensor_values(&self) -> Result<Vec<SensorValue>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT sensor, t, value, unit, level, recorded_unix_s
                 FROM sensor_values ORDER BY sensor",
            )
            .map_err(self.sqlite())?;
        statement
            .query_map([], |row| {
                Ok(SensorValue {
                    sensor: row.get(0)?,
                    t: row.get(1)?,
                    value: row.get(2)?,
                    unit: row.get(3)?,
                    level: row.get(4)?,
                    recorded_unix_s: row.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(sensor: &str, t: f64, value: f64) -> SensorValue {
        SensorValue {
            sensor: sensor.into(),
            t,
            value: Some(value),
            unit: "mm/s".into(),
            level: Some("A".into()),
            recorded_unix_s: 1_000.0 + t,
        }
    }

    #[test]
    fn baselines_and_last_values_survive_a_reopen() {
        let dir = super::super::tests::tempdir();
        let path = dir.join("state.db");
        {
            let store = Store::open(&path).expect("opens");
            let learned = StoredBaseline {
                sensor: "P1-DE-V".into(),
                value_mm_s: Some(1.25),
                since_t: 18.0,
                commissioned_by: None,
                recorded_unix_s: 1_000.0,
            };
            store.record_baseline(&learned).expect("recorded");
            store
                .record_baseline(&StoredBaseline {
                    value_mm_s: None,
                    since_t: 500.0,
                    commissioned_by: Some("maria".into()),
                    ..learned
                })
                .expect("relearn");
            store
                .record_sensor_values(&[value("P1-DE-V", 10.0, 1.0), value("P1-T", 10.0, 41.0)])
                .expect("values");
            store
                .record_sensor_values(&[value("P1-DE-V", 20.0, 2.0), value("P1-T", 5.0, 99.0)])
                .expect("newer and older");
        }
        let store = Store::open(&path).expect("reopens");
        let baselines = store.baselines().expect("read");
        assert_eq!(baselines.len(), 1);
        assert_eq!(baselines[0].value_mm_s, None, "being learned afresh");
        assert_eq!(baselines[0].commissioned_by.as_deref(), Some("maria"));
        let values = store.sensor_values().expect("read");
        let of = |s: &str| values.iter().find(|v| v.sensor == s).expect("kept");
        assert_eq!((of("P1-DE-V").t, of("P1-DE-V").value), (20.0, Some(2.0)));
        assert_eq!(
            (of("P1-T").t, of("P1-T").value),
            (10.0, Some(41.0)),
            "an older value never replaces a newer one"
        );
    }
}
