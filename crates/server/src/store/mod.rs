//! The gateway's durable state in SQLite: the alarm record (episodes and
//! their acknowledgements), the work-order outbox, and per sensor its
//! baseline and last value ([`sensors`]); people, tokens, sessions and
//! the audit log ([`access`]). One file, written in
//! WAL mode so that a crash loses at most the transaction in flight;
//! migrations are numbered and applied in order at open, and a database
//! from a newer gateway is refused rather than misread.

pub mod access;
pub mod sensors;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Each entry upgrades the schema by one version; never edit one that has
/// shipped, add the next.
const MIGRATIONS: &[&str] = &[
    // 1: alarm episodes, acknowledgements, the work-order outbox.
    "CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        asset TEXT NOT NULL,
        severity TEXT NOT NULL,
        level TEXT NOT NULL,
        raised_at REAL NOT NULL,
        cleared_at REAL,
        message TEXT NOT NULL
    );
    CREATE TABLE acknowledgements (
        alarm INTEGER PRIMARY KEY REFERENCES alarms(id),
        by TEXT NOT NULL,
        at_unix_s REAL NOT NULL
    );
    CREATE TABLE outbox (
        event_id TEXT NOT NULL,
        webhook TEXT NOT NULL,
        event TEXT NOT NULL,
        alarm INTEGER,
        status TEXT NOT NULL CHECK (status IN ('requested', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_unix_s REAL NOT NULL,
        last_error TEXT,
        created_unix_s REAL NOT NULL,
        delivered_unix_s REAL,
        PRIMARY KEY (event_id, webhook)
    );
    CREATE INDEX outbox_by_alarm ON outbox (alarm);",
    // 2: per sensor, its ISO 20816-3 baseline and its last value.
    "CREATE TABLE baselines (
        sensor TEXT PRIMARY KEY,
        value_mm_s REAL,
        since_t REAL NOT NULL,
        commissioned_by TEXT,
        recorded_unix_s REAL NOT NULL
    );
    CREATE TABLE sensor_values (
        sensor TEXT PRIMARY KEY,
        t REAL NOT NULL,
        value REAL,
        unit TEXT NOT NULL,
        level TEXT,
        recorded_unix_s REAL NOT NULL
    );",
    // 3: people, device tokens, sign-in sessions and the audit log.
    "CREATE TABLE users (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_unix_s REAL NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        assets TEXT,
        digest TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_unix_s REAL NOT NULL,
        revoked_unix_s REAL
    );
    CREATE TABLE sessions (
        digest TEXT PRIMARY KEY,
        user TEXT REFERENCES users(name) ON DELETE CASCADE,
        token INTEGER REFERENCES tokens(id) ON DELETE CASCADE,
        created_unix_s REAL NOT NULL,
        expires_unix_s REAL NOT NULL,
        CHECK ((user IS NULL) <> (token IS NULL))
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at_unix_s REAL NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX audit_by_time ON audit (at_unix_s);",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database {path}: {source}")]
    Sqlite {
        path: String,
        source: rusqlite::Error,
    },
    #[error(
        "state database {path} has schema version {found}, newer than this gateway's {known}: use the newer gateway, or another file"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: usize,
    },
}

/// An alarm as the gateway keeps it (the type its API gives viewers).
pub use linetwin_twin::record::RecordedAlarm as StoredAlarm;

/// One event for one webhook, as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub event_id: String,
    pub webhook: String,
    #[serde(skip)]
    pub event: String,
    pub alarm: Option<u64>,
    pub status: String,
    pub attempts: u32,
    pub next_attempt_unix_s: f64,
    pub last_error: Option<String>,
    pub delivered_unix_s: Option<f64>,
}

/// Counts of the outbox by status, for `/healthz`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub requested: u64,
    pub delivered: u64,
    pub failed: u64,
}

pub struct Store {
    connection: Connection,
    label: String,
    failures: std::cell::RefCell<StoreFailures>,
}

/// What the store could not do since the gateway started: `/healthz`
/// shows it, and viewers are told (see [`FailureNotices`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StoreFailures {
    pub count: u64,
    pub last_error: Option<String>,
    pub last_unix_s: Option<f64>,
}

/// Tells viewers when the store starts failing, and again at most once a
/// minute while it goes on failing: live data never waits for the disk,
/// but people must know the record has a gap.
#[derive(Debug, Default)]
pub struct FailureNotices {
    told_count: u64,
    told_at_s: Option<f64>,
}

/// How long a write waits for a database another process holds locked.
/// Short: the gateway's own threads wait with it, and live data must not.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(250);
const RETELL_AFTER_S: f64 = 60.0;

impl FailureNotices {
    /// The notice to send now, if any (`now_s`: any monotonic seconds).
    pub fn due(&mut self, failures: &StoreFailures, now_s: f64) -> Option<String> {
        if failures.count <= self.told_count {
            return None;
        }
        if self.told_at_s.is_some_and(|at| now_s - at < RETELL_AFTER_S) {
            return None;
        }
        let new = failures.count - self.told_count;
        self.told_count = failures.count;
        self.told_at_s = Some(now_s);
        Some(format!(
            "the gateway could not store {new} change(s) to its record (alarms, acknowledgements, baselines, last values): {}. Live data goes on; what failed is not kept",
            failures.last_error.as_deref().unwrap_or("unknown error")
        ))
    }
}

impl Store {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let label = path.display().to_string();
        let connection = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: label.clone(),
            source,
        })?;
        Self::prepare(connection, label)
    }

    /// A store that lives as long as the process (no `[state] path` given).
    pub fn in_memory() -> Result<Self, StoreError> {
        let label = ":memory:".to_owned();
        let connection = Connection::open_in_memory().map_err(|source| StoreError::Sqlite {
            path: label.clone(),
            source,
        })?;
        Self::prepare(connection, label)
    }

    fn prepare(connection: Connection, label: String) -> Result<Self, StoreError> {
        let mut store = Store {
            connection,
            label,
            failures: Default::default(),
        };
        store
            .connection
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(store.sqlite())?;
        store.migrate()?;
        Ok(store)
    }

    /// Every failure passes here, and is counted.
    fn sqlite(&self) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        |source| {
            let error = StoreError::Sqlite {
                path: self.label.clone(),
                source,
            };
            let mut failures = self.failures.borrow_mut();
            failures.count += 1;
            failures.last_error = Some(error.to_string());
            failures.last_unix_s = Some(crate::unix_now());
            error
        }
    }

    pub fn failures(&self) -> StoreFailures {
        self.failures.borrow().clone()
    }

    /// The schema version the file is at.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(self.sqlite())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.connection
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
            .map_err(self.sqlite())?;
        let found = self.schema_version()?;
        if found > MIGRATIONS.len() as i64 {
            return Err(StoreError::NewerSchema {
                path: self.label.clone(),
                found,
                known: MIGRATIONS.len(),
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let version = index + 1;
            let transaction =
                self.connection
                    .transaction()
                    .map_err(|source| StoreError::Sqlite {
                        path: self.label.clone(),
                        source,
                    })?;
            transaction
                .execute_batch(migration)
                .and_then(|()| transaction.pragma_update(None, "user_version", version))
                .and_then(|()| transaction.commit())
                .map_err(|source| StoreError::Sqlite {
                    path: self.label.clone(),
                    source,
                })?;
            tracing::info!("state database {}: schema version {version}", self.label);
        }
        Ok(())
    }

    /// Records an alarm, or its clearing: one row per episode (the alarm
    /// id is made of the asset, the severity and the data time it was raised).
    pub fn record_alarm(&self, alarm: &linetwin_twin::Alarm) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO alarms (id, asset, severity, level, raised_at, cleared_at, message)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET cleared_at = excluded.cleared_at",
                params![
                    alarm.id as i64,
                    alarm.asset,
                    alarm.severity.label(),
                    alarm.level.letter(),
                    alarm.raised_at,
                    alarm.cleared_at,
                    alarm.message,
                ],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    pub fn clear_alarm(&self, id: u64, at: f64) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE alarms SET cleared_at = ?2 WHERE id = ?1 AND cleared_at IS NULL",
                params![id as i64, at],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    /// Acknowledges an alarm; `false` when there is no such alarm. A second
    /// acknowledgement keeps the first (who saw it first is what counts).
    pub fn acknowledge(&self, id: u64, by: &str, at_unix_s: f64) -> Result<bool, StoreError> {
        if self.alarm(id)?.is_none() {
            return Ok(false);
        }
        self.connection
            .execute(
                "INSERT INTO acknowledgements (alarm, by, at_unix_s) VALUES (?1, ?2, ?3)
                 ON CONFLICT (alarm) DO NOTHING",
                params![id as i64, by, at_unix_s],
            )
            .map_err(self.sqlite())?;
        Ok(true)
    }

    pub fn alarm(&self, id: u64) -> Result<Option<StoredAlarm>, StoreError> {
        self.connection
            .query_row(
                &format!("{ALARM_QUERY} WHERE a.id = ?1"),
                [id as i64],
                stored_alarm,
            )
            .optional()
            .map_err(self.sqlite())
    }

    /// The newest `limit` alarms, newest first.
    pub fn alarms(&self, limit: usize) -> Result<Vec<StoredAlarm>, StoreError> {
        let mut statement = self
            .connection
            .prepare(&format!(
                "{ALARM_QUERY} ORDER BY a.raised_at DESC, a.id LIMIT ?1"
            ))
            .map_err(self.sqlite())?;
        statement
            .query_map([limit as i64], stored_alarm)
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }

    /// Puts an event in the outbox for each webhook, once: the same event
    /// id again (the same alarm episode) adds nothing. Returns how many
    /// entries were new.
    pub fn enqueue(
        &self,
        event_id: &str,
        event_json: &str,
        alarm: Option<u64>,
        webhooks: &[String],
        now_unix_s: f64,
    ) -> Result<usize, StoreError> {
        let mut added = 0;
        for webhook in webhooks {
            added += self
                .connection
                .execute(
                    "INSERT INTO outbox (event_id, webhook, event, alarm, status, next_attempt_unix_s, created_unix_s)
                     VALUES (?1, ?2, ?3, ?4, 'requested', ?5, ?5)
                     ON CONFLICT (event_id, webhook) DO NOTHING",
                    params![event_id, webhook, event_json, alarm.map(|a| a as i64), now_unix_s],
                )
                .map_err(self.sqlite())?;
        }
        Ok(added)
    }

    /// Entries still to deliver whose next attempt is due, oldest first.
    pub fn due(&self, now_unix_s: f64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_query(
            "WHERE status = 'requested' AND next_attempt_unix_s <= ?1 ORDER BY created_unix_s, event_id LIMIT ?2",
            params![now_unix_s, limit as i64],
        )
    }

    /// When the next requested entry is due, if any is waiting.
    pub fn next_due(&self) -> Result<Option<f64>, StoreError> {
        self.connection
            .query_row(
                "SELECT MIN(next_attempt_unix_s) FROM outbox WHERE status = 'requested'",
                [],
                |row| row.get(0),
            )
            .map_err(self.sqlite())
    }

    pub fn delivered(
        &self,
        event_id: &str,
        webhook: &str,
        now_unix_s: f64,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_unix_s = ?3, last_error = NULL
                 WHERE event_id = ?1 AND webhook = ?2",
                params![event_id, webhook, now_unix_s],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    /// A failed attempt: retried at `retry_at`, or given up (`None`).
    pub fn attempt_failed(
        &self,
        event_id: &str,
        webhook: &str,
        error: &str,
        retry_at: Option<f64>,
    ) -> Result<(), StoreError> {
        let (status, next) = match retry_at {
            Some(at) => ("requested", at),
            None => ("failed", 0.0),
        };
        self.connection
            .execute(
                "UPDATE outbox SET status = ?3, attempts = attempts + 1, last_error = ?4,
                 next_attempt_unix_s = CASE WHEN ?3 = 'failed' THEN next_attempt_unix_s ELSE ?5 END
                 WHERE event_id = ?1 AND webhook = ?2",
                params![event_id, webhook, status, error, next],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    /// The newest `limit` entries, newest first.
    pub fn outbox(&self, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        self.outbox_query(
            "ORDER BY created_unix_s DESC, event_id LIMIT ?1",
            params![limit as i64],
        )
    }

    pub fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let mut counts = OutboxCounts::default();
        let mut statement = self
            .connection
            .prepare("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .map_err(self.sqlite())?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(self.sqlite())?;
        for (status, count) in rows {
            let count = count.max(0) as u64;
            match status.as_str() {
                "requested" => counts.requested = count,
                "delivered" => counts.delivered = count,
                _ => counts.failed += count,
            }
        }
        Ok(counts)
    }

    fn outbox_query(
        &self,
        tail: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT event_id, webhook, event, alarm, status, attempts, next_attempt_unix_s, last_error, delivered_unix_s
                 FROM outbox {tail}"
            ))
            .map_err(self.sqlite())?;
        statement
            .query_map(params, |row| {
                Ok(OutboxEntry {
                    event_id: row.get(0)?,
                    webhook: row.get(1)?,
                    event: row.get(2)?,
                    alarm: row.get::<_, Option<i64>>(3)?.map(|a| a as u64),
                    status: row.get(4)?,
                    attempts: row.get::<_, i64>(5)?.clamp(0, i64::from(u32::MAX)) as u32,
                    next_attempt_unix_s: row.get(6)?,
                    last_error: row.get(7)?,
                    delivered_unix_s: row.get(8)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }
}

const ALARM_QUERY: &str = "SELECT a.id, a.asset, a.severity, a.level, a.raised_at, a.cleared_at, a.message, k.by, k.at_unix_s,
       (SELECT CASE WHEN COUNT(*) = 0 THEN NULL
                    WHEN SUM(o.status = 'failed') > 0 THEN 'failed'
                    WHEN SUM(o.status = 'delivered') = COUNT(*) THEN 'delivered'
                    ELSE 'requested' END
        FROM outbox o WHERE o.alarm = a.id)
     FROM alarms a LEFT JOIN acknowledgements k ON k.alarm = a.id";

fn stored_alarm(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAlarm> {
    Ok(StoredAlarm {
        id: row.get::<_, i64>(0)? as u64,
        asset: row.get(1)?,
        severity: row.get(2)?,
        level: row.get(3)?,
        raised_at: row.get(4)?,
        cleared_at: row.get(5)?,
        message: row.get(6)?,
        acknowledged_by: row.get(7)?,
        acknowledged_at_unix_s: row.get(8)?,
        work_order: row.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_and_told_once_a_minute() {
        let store = Store::in_memory().expect("opens");
        assert_eq!(store.failures().count, 0);
        assert!(
            store
                .connection
                .execute("INSERT INTO nowhere VALUES (1)", [])
                .map_err(store.sqlite())
                .is_err()
        );
        let failures = store.failures();
        assert_eq!(failures.count, 1);
        assert!(
            failures
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("nowhere")),
            "{failures:?}"
        );

        let mut notices = FailureNotices::default();
        assert!(notices.due(&StoreFailures::default(), 0.0).is_none());
        let told = notices.due(&failures, 10.0).expect("told at once");
        assert!(
            told.contains("could not store 1 change") && told.contains("nowhere"),
            "{told}"
        );
        let more = StoreFailures {
            count: 5,
            ..failures.clone()
        };
        assert!(
            notices.due(&more, 30.0).is_none(),
            "not again within the minute"
        );
        let again = notices.due(&more, 71.0).expect("told again after a minute");
        assert!(again.contains("could not store 4 change"), "{again}");
        assert!(notices.due(&more, 200.0).is_none(), "nothing new");
    }
    use linetwin_core::iso::Zone;
    use linetwin_twin::{Alarm, Severity};

    fn alarm(id: u64, cleared_at: Option<f64>) -> Alarm {
        Alarm {
            id,
            asset: "P1".into(),
            severity: Severity::Critical,
            level: Zone::D,
            raised_at: 100.0,
            cleared_at,
            message: "P1-DE-V: 11.2 mm/s".into(),
        }
    }

    #[test]
    fn alarms_and_acknowledgements_survive_a_reopen() {
        let dir = tempdir();
        let path = dir.join("state.db");
        {
            let store = Store::open(&path).expect("opens");
            store.record_alarm(&alarm(7, None)).expect("recorded");
            assert!(
                store
                    .acknowledge(7, "maria", 1_000.0)
                    .expect("acknowledged")
            );
            assert!(
                store
                    .acknowledge(7, "tom", 2_000.0)
                    .expect("acknowledged again")
            );
            assert!(!store.acknowledge(8, "tom", 2_000.0).expect("no such alarm"));
            store.record_alarm(&alarm(7, Some(400.0))).expect("cleared");
        }
        let store = Store::open(&path).expect("reopens");
        assert_eq!(
            store.schema_version().expect("version"),
            MIGRATIONS.len() as i64
        );
        let alarms = store.alarms(10).expect("read");
        assert_eq!(alarms.len(), 1);
        assert_eq!(alarms[0].cleared_at, Some(400.0));
        assert_eq!(
            alarms[0].acknowledged_by.as_deref(),
            Some("maria"),
            "the first one counts"
        );
    }

    #[test]
    fn the_outbox_holds_each_event_once_per_webhook_until_delivered() {
        let store = Store::in_memory().expect("opens");
        store.record_alarm(&alarm(7, None)).expect("recorded");
        let status = |store: &Store| store.alarm(7).expect("read").and_then(|a| a.work_order);
        assert_eq!(status(&store), None);
        let hooks = vec!["http://a/".to_owned(), "http://b/".to_owned()];
        assert_eq!(
            store
                .enqueue("e1", "{}", Some(7), &hooks, 10.0)
                .expect("enqueued"),
            2
        );
        assert_eq!(status(&store).as_deref(), Some("requested"));
        assert_eq!(
            store
                .enqueue("e1", "{}", Some(7), &hooks, 11.0)
                .expect("again"),
            0
        );
        assert_eq!(store.due(10.0, 10).expect("due").len(), 2);
        store.delivered("e1", "http://a/", 12.0).expect("delivered");
        assert_eq!(
            status(&store).as_deref(),
            Some("requested"),
            "b has not got it"
        );
        store
            .attempt_failed("e1", "http://b/", "connection refused", Some(20.0))
            .expect("retry");
        assert!(
            store.due(12.0, 10).expect("due").is_empty(),
            "b waits for its retry"
        );
        assert_eq!(store.next_due().expect("next"), Some(20.0));
        let due = store.due(20.0, 10).expect("due");
        assert_eq!((due.len(), due[0].attempts), (1, 1));
        store
            .attempt_failed("e1", "http://b/", "HTTP 400", None)
            .expect("give up");
        assert_eq!(status(&store).as_deref(), Some("failed"));
        assert_eq!(
            store.outbox_counts().expect("counts"),
            OutboxCounts {
                requested: 0,
                delivered: 1,
                failed: 1
            }
        );
        assert_eq!(store.next_due().expect("next"), None);
    }

    #[test]
    fn a_version_1_database_is_brought_up_to_date_with_its_alarms() {
        let dir = tempdir();
        let path = dir.join("state.db");
        {
            let connection = Connection::open(&path).expect("opens");
            connection.execute_batch(MIGRATIONS[0]).expect("version 1");
            connection
                .pragma_update(None, "user_version", 1)
                .expect("set");
            connection
                .execute(
                    "INSERT INTO alarms (id, asset, severity, level, raised_at, message)
                     VALUES (7, 'P1', 'critical', 'D', 100.0, 'old')",
                    [],
                )
                .expect("an alarm of version 1");
        }
        let store = Store::open(&path).expect("migrates");
        assert_eq!(
            store.schema_version().expect("version"),
            MIGRATIONS.len() as i64
        );
        assert_eq!(store.alarms(10).expect("read")[0].message, "old");
        assert!(store.baselines().expect("new table").is_empty());
    }

    #[test]
    fn a_database_from_a_newer_gateway_is_refused() {
        let dir = tempdir();
        let path = dir.join("state.db");
        {
            let connection = Connection::open(&path).expect("opens");
            connection
                .pragma_update(None, "user_version", 99)
                .expect("set");
        }
        let error = Store::open(&path).err().expect("refused");
        assert!(error.to_string().contains("schema version 99"), "{error}");
    }

    pub(super) fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "linetwin-store-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
