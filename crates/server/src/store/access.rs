//! People, device tokens, sign-in sessions and the audit log. Passwords
//! are kept as Argon2id hashes and tokens and sessions as digests
//! (`crate::auth::secrets`): the file holds nothing that signs anyone in.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::auth::roles::Role;

/// Who a valid credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// The device token behind it (a token, or a kiosk's session).
    pub token: Option<i64>,
    /// A producer token's assets; `None`: the whole line.
    pub assets: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub created_unix_s: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub assets: Option<Vec<String>>,
    pub created_by: String,
    pub created_unix_s: f64,
    pub revoked_unix_s: Option<f64>,
}

/// Whose session it is: a person's, or a kiosk's (opened with its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOwner {
    User(String),
    Token(i64),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at_unix_s: f64,
    /// A person's name, a token's `token:<id> <name>`, or `anonymous`.
    pub who: String,
    pub action: String,
    pub target: Option<String>,
    /// `ok`, `refused` or `failed`.
    pub outcome: String,
    pub detail: Option<String>,
}

/// Entries the audit log keeps at most (about 60 MB): years of a plant's
/// sign-ins and actions.
pub const MAX_AUDIT_ROWS: i64 = 200_000;
const AUDIT_PRUNE_EVERY: i64 = 1_000;

fn role_of(text: String) -> rusqlite::Result<Role> {
    text.parse().map_err(|e: crate::auth::roles::UnknownRole| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn assets_of(text: Option<String>) -> Option<Vec<String>> {
    text.map(|t| t.split('\n').map(str::to_owned).collect())
}

impl Store {
    /// Adds a person; `false` when the name is taken.
    pub fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        at_unix_s: f64,
    ) -> Result<bool, StoreError> {
        self.connection
            .execute(
                "INSERT INTO users (name, role, password_hash, created_unix_s) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING",
                params![name, role.name(), password_hash, at_unix_s],
            )
            .map(|added| added == 1)
            .map_err(self.sqlite())
    }

    /// Removes a person and ends their sessions; `false` when unknown.
    pub fn remove_user(&self, name: &str) -> Result<bool, StoreError> {
        self.connection
            .execute("DELETE FROM users WHERE name = ?1", [name])
            .map(|removed| removed == 1)
            .map_err(self.sqlite())
    }

    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT name, role, created_unix_s FROM users ORDER BY name")
            .map_err(self.sqlite())?;
        statement
            .query_map([], |row| {
                Ok(User {
                    name: row.get(0)?,
                    role: role_of(row.get(1)?)?,
                    created_unix_s: row.get(2)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }

    /// A person's role and password hash, to check a sign-in.
    pub fn login_of(&self, name: &str) -> Result<Option<(Role, String)>, StoreError> {
        self.connection
            .query_row(
                "SELECT role, password_hash FROM users WHERE name = ?1",
                [name],
                |row| Ok((role_of(row.get(0)?)?, row.get(1)?)),
            )
            .optional()
            .map_err(self.sqlite())
    }

    /// Keeps a new token's digest; its id.
    pub fn add_token(
        &self,
        name: &str,
        role: Role,
        assets: Option<&[String]>,
        digest: &str,
        created_by: &str,
        at_unix_s: f64,
    ) -> Result<i64, StoreError> {
        self.connection
            .execute(
                "INSERT INTO tokens (name, role, assets, digest, created_by, created_unix_s)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    name,
                    role.name(),
                    assets.map(|a| a.join("\n")),
                    digest,
                    created_by,
                    at_unix_s
                ],
            )
            .map_err(self.sqlite())?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Revokes a token and ends the sessions opened with it; `false` when
    /// there is no such token or it was revoked already.
    pub fn revoke_token(&self, id: i64, at_unix_s: f64) -> Result<bool, StoreError> {
        let revoked = self
            .connection
            .execute(
                "UPDATE tokens SET revoked_unix_s = ?2 WHERE id = ?1 AND revoked_unix_s IS NULL",
                params![id, at_unix_s],
            )
            .map_err(self.sqlite())?;
        self.connection
            .execute("DELETE FROM sessions WHERE token = ?1", [id])
            .map_err(self.sqlite())?;
        Ok(revoked == 1)
    }

    /// Whether token `id` exists and is not revoked: what every open
    /// socket of a device asks when some credential is withdrawn.
    pub fn token_is_live(&self, id: i64) -> Result<bool, StoreError> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM tokens WHERE id = ?1 AND revoked_unix_s IS NULL)",
                [id],
                |row| row.get(0),
            )
            .map_err(self.sqlite())
    }

    pub fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, name, role, assets, created_by, created_unix_s, revoked_unix_s
                 FROM tokens ORDER BY id",
            )
            .map_err(self.sqlite())?;
        statement
            .query_map([], |row| {
                Ok(Token {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    role: role_of(row.get(2)?)?,
                    assets: assets_of(row.get(3)?),
                    created_by: row.get(4)?,
                    created_unix_s: row.get(5)?,
                    revoked_unix_s: row.get(6)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }

    /// Whose token has this digest, unless it was revoked.
    pub fn token_identity(&self, digest: &str) -> Result<Option<Identity>, StoreError> {
        self.connection
            .query_row(
                "SELECT id, name, role, assets FROM tokens
                 WHERE digest = ?1 AND revoked_unix_s IS NULL",
                [digest],
                |row| {
                    Ok(Identity {
                        token: Some(row.get(0)?),
                        name: row.get(1)?,
                        role: role_of(row.get(2)?)?,
                        assets: assets_of(row.get(3)?),
                    })
                },
            )
            .optional()
            .map_err(self.sqlite())
    }

    pub fn add_session(
        &self,
        digest: &str,
        owner: &SessionOwner,
        at_unix_s: f64,
        expires_unix_s: f64,
    ) -> Result<(), StoreError> {
        let (user, token) = match owner {
            SessionOwner::User(name) => (Some(name.as_str()), None),
            SessionOwner::Token(id) => (None, Some(*id)),
        };
        // Sign-ins are rare: a good moment to forget sessions long over.
        self.connection
            .execute(
                "DELETE FROM sessions WHERE expires_unix_s < ?1",
                [at_unix_s],
            )
            .map_err(self.sqlite())?;
        self.connection
            .execute(
                "INSERT INTO sessions (digest, user, token, created_unix_s, expires_unix_s)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![digest, user, token, at_unix_s, expires_unix_s],
            )
            .map(drop)
            .map_err(self.sqlite())
    }

    /// Whose session has this digest, if it has not expired (and, for a
    /// kiosk, its token is not revoked).
    pub fn session_identity(
        &self,
        digest: &str,
        now_unix_s: f64,
    ) -> Result<Option<Identity>, StoreError> {
        self.connection
            .query_row(
                "SELECT COALESCE(u.name, t.name), COALESCE(u.role, t.role), t.id, t.assets
                 FROM sessions s
                 LEFT JOIN users u ON u.name = s.user
                 LEFT JOIN tokens t ON t.id = s.token AND t.revoked_unix_s IS NULL
                 WHERE s.digest = ?1 AND s.expires_unix_s > ?2
                   AND (u.name IS NOT NULL OR t.id IS NOT NULL)",
                params![digest, now_unix_s],
                |row| {
                    Ok(Identity {
                        name: row.get(0)?,
                        role: role_of(row.get(1)?)?,
                        token: row.get(2)?,
                        assets: assets_of(row.get(3)?),
                    })
                },
            )
            .optional()
            .map_err(self.sqlite())
    }

    pub fn end_session(&self, digest: &str) -> Result<(), StoreError> {
        self.connection
            .execute("DELETE FROM sessions WHERE digest = ?1", [digest])
            .map(drop)
            .map_err(self.sqlite())
    }

    /// Whether anyone at all could sign in (a person or a live token).
    pub fn has_credentials(&self) -> Result<bool, StoreError> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM users)
                     OR EXISTS (SELECT 1 FROM tokens WHERE revoked_unix_s IS NULL)",
                [],
                |row| row.get(0),
            )
            .map_err(self.sqlite())
    }

    /// Appends an entry. The log keeps the newest [`MAX_AUDIT_ROWS`]:
    /// refusals are logged too, and a flood of them must not fill the disk.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.append_audit(entry, MAX_AUDIT_ROWS)
    }

    fn append_audit(&self, entry: &AuditEntry, keep: i64) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO audit (at_unix_s, who, action, target, outcome, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    entry.at_unix_s,
                    entry.who,
                    entry.action,
                    entry.target,
                    entry.outcome,
                    entry.detail
                ],
            )
            .map_err(self.sqlite())?;
        // Pruned now and then, not on every write: a delete per entry
        // would double the cost of logging.
        let id = self.connection.last_insert_rowid();
        if id % AUDIT_PRUNE_EVERY == 0 {
            self.connection
                .execute("DELETE FROM audit WHERE id <= ?1", [id - keep])
                .map_err(self.sqlite())?;
        }
        Ok(())
    }

    /// The newest `limit` entries, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT at_unix_s, who, action, target, outcome, detail FROM audit
                 ORDER BY at_unix_s DESC, id DESC LIMIT ?1",
            )
            .map_err(self.sqlite())?;
        statement
            .query_map([limit as i64], |row| {
                Ok(AuditEntry {
                    at_unix_s: row.get(0)?,
                    who: row.get(1)?,
                    action: row.get(2)?,
                    target: row.get(3)?,
                    outcome: row.get(4)?,
                    detail: row.get(5)?,
                })
            })
            .and_then(|rows| rows.collect())
            .map_err(self.sqlite())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_until_it_expires_or_its_owner_goes() {
        let store = Store::in_memory().expect("opens");
        assert!(!store.has_credentials().expect("reads"));
        assert!(
            store
                .add_user("maria", Role::Operator, "$hash", 0.0)
                .expect("adds")
        );
        assert!(
            !store
                .add_user("maria", Role::Admin, "$other", 0.0)
                .expect("taken")
        );
        assert!(store.has_credentials().expect("reads"));
        let maria = SessionOwner::User("maria".into());
        store.add_session("d1", &maria, 10.0, 100.0).expect("adds");
        let found = store.session_identity("d1", 50.0).expect("reads");
        assert_eq!(
            found.map(|i| (i.name, i.role)),
            Some(("maria".to_owned(), Role::Operator))
        );
        assert_eq!(store.session_identity("d1", 100.0).expect("reads"), None);
        assert_eq!(store.session_identity("d2", 50.0).expect("reads"), None);
        store.add_session("d3", &maria, 10.0, 100.0).expect("adds");
        assert!(store.remove_user("maria").expect("removes"));
        assert_eq!(store.session_identity("d3", 50.0).expect("reads"), None);
    }

    #[test]
    fn a_revoked_token_and_its_kiosk_sessions_stop_at_once() {
        let store = Store::in_memory().expect("opens");
        let assets = vec!["P1".to_owned(), "M1".to_owned()];
        let producer = store
            .add_token("plc-1", Role::Producer, Some(&assets), "tp", "ada", 0.0)
            .expect("adds");
        let kiosk = store
            .add_token("hall-2", Role::Kiosk, None, "tk", "ada", 0.0)
            .expect("adds");
        let found = store.token_identity("tp").expect("reads").expect("valid");
        assert_eq!(found.assets, Some(assets));
        assert_eq!(found.token, Some(producer));
        store
            .add_session("sk", &SessionOwner::Token(kiosk), 0.0, 1e12)
            .expect("adds");
        let screen = store
            .session_identity("sk", 1.0)
            .expect("reads")
            .expect("valid");
        assert_eq!((screen.role, screen.token), (Role::Kiosk, Some(kiosk)));

        assert!(store.token_is_live(kiosk).expect("reads"));
        assert!(store.revoke_token(kiosk, 5.0).expect("revokes"));
        assert!(!store.token_is_live(kiosk).expect("reads"));
        assert!(!store.token_is_live(9_999).expect("reads"), "no such token");
        assert!(!store.revoke_token(kiosk, 6.0).expect("already"));
        assert_eq!(store.token_identity("tk").expect("reads"), None);
        assert_eq!(store.session_identity("sk", 7.0).expect("reads"), None);
        let listed = store.tokens().expect("lists");
        assert_eq!(listed[1].revoked_unix_s, Some(5.0));
        assert_eq!(listed[0].revoked_unix_s, None);
    }

    #[test]
    fn the_audit_log_reads_newest_first() {
        let store = Store::in_memory().expect("opens");
        for (at, action) in [(1.0, "login"), (3.0, "acknowledge"), (2.0, "login_failed")] {
            store
                .audit(&AuditEntry {
                    at_unix_s: at,
                    who: "maria".into(),
                    action: action.into(),
                    target: None,
                    outcome: "ok".into(),
                    detail: None,
                })
                .expect("writes");
        }
        let actions: Vec<String> = store
            .audit_log(2)
            .expect("reads")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["acknowledge", "login_failed"]);
    }

    #[test]
    fn the_audit_log_keeps_the_newest_entries_only() {
        let store = Store::in_memory().expect("opens");
        let keep = 1_500;
        for n in 0..5 * AUDIT_PRUNE_EVERY {
            let entry = AuditEntry {
                at_unix_s: n as f64,
                who: "flood".into(),
                action: "refused".into(),
                target: None,
                outcome: "refused".into(),
                detail: None,
            };
            store.append_audit(&entry, keep).expect("writes");
        }
        let kept = store.audit_log(usize::MAX >> 1).expect("reads");
        assert!(
            kept.len() as i64 <= keep + AUDIT_PRUNE_EVERY,
            "{}",
            kept.len()
        );
        assert!(kept.len() as i64 >= keep, "{}", kept.len());
        assert_eq!(kept[0].at_unix_s, (5 * AUDIT_PRUNE_EVERY - 1) as f64);
    }
}
