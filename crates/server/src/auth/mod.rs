//! Who is asking, and may they. Every request the router serves passes
//! [`guard`]: it checks the page's origin, finds the credential (the
//! session cookie, a bearer token, or a one-use WebSocket ticket), limits
//! the rate, and refuses what the route's rule ([`policy::need`]) does not
//! allow the caller's role ([`roles::Role::may`]). Handlers get the
//! [`Principal`] to record who acted.
//!
//! Without `[auth]` the gateway is *open*: everyone may do everything. It
//! runs open only on a loopback address (`crate::serve` refuses any other)
//! and then answers only requests addressed to a loopback name.

pub mod accounts;
pub mod config;
pub mod origin;
pub mod policy;
pub mod rate;
/// The vocabulary is the core crate's: the viewer hides by the same table.
pub use linetwin_core::access as roles;
pub mod secrets;
pub mod tickets;

pub(crate) mod api;
mod guard;

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use http::HeaderMap;
use tokio::sync::watch;

pub(crate) use guard::{guard, too_many};

use crate::store::Store;
use crate::store::access::{AuditEntry, Identity};
use config::AuthConfig;
use rate::RateLimiter;
use roles::{Action, Role};
use tickets::{TicketError, Tickets};

/// The sign-in cookie: HttpOnly (no script reads it), SameSite=Lax (not
/// sent with another site's POSTs or WebSockets, but with a link
/// followed from a notification e-mail).
pub const SESSION_COOKIE: &str = "linetwin_session";

/// API requests per credential (or peer) a second, and the burst allowed.
const REQUESTS_PER_S: f64 = 20.0;
const REQUEST_BURST: u32 = 60;
/// Sign-in attempts per peer address: 5 at once, then one every 12 s.
const LOGINS_PER_S: f64 = 1.0 / 12.0;
const LOGIN_BURST: u32 = 5;
/// Keys each limiter remembers at most.
const MAX_RATE_KEYS: usize = 10_000;

/// Who sent a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub name: String,
    /// `None` on an open gateway, where everyone may do everything.
    pub role: Option<Role>,
    pub credential: Credential,
    /// A producer token's assets; `None`: any.
    pub assets: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    /// No sign-in configured.
    Open,
    /// Signed in with nothing.
    Anonymous,
    /// The digest of a session cookie.
    Session(String),
    /// A device token's id.
    Token(i64),
}

impl Principal {
    pub(crate) fn open() -> Self {
        Principal {
            name: "anonymous (open gateway)".into(),
            role: None,
            credential: Credential::Open,
            assets: None,
        }
    }

    fn anonymous() -> Self {
        Principal {
            name: "anonymous".into(),
            role: None,
            credential: Credential::Anonymous,
            assets: None,
        }
    }

    fn from_identity(identity: Identity, credential: Credential) -> Self {
        Principal {
            name: identity.name,
            role: Some(identity.role),
            credential,
            assets: identity.assets,
        }
    }

    pub fn is_open(&self) -> bool {
        self.credential == Credential::Open
    }

    pub fn is_anonymous(&self) -> bool {
        self.credential == Credential::Anonymous
    }

    pub fn may(&self, action: Action) -> bool {
        match (&self.credential, self.role) {
            (Credential::Open, _) => true,
            (Credential::Anonymous, _) | (_, None) => false,
            (_, Some(role)) => role.may(action),
        }
    }

    pub fn allowed(&self) -> Vec<Action> {
        Action::ALL.into_iter().filter(|a| self.may(*a)).collect()
    }

    /// May this caller send data about `asset`?
    pub fn may_feed(&self, asset: &str) -> bool {
        self.assets
            .as_ref()
            .is_none_or(|assets| assets.iter().any(|a| a == asset))
    }

    /// How the audit log names the caller.
    pub fn audit_name(&self) -> String {
        match &self.credential {
            Credential::Token(id) => format!("token {id} ({})", self.name),
            _ => self.name.clone(),
        }
    }

    /// The key its requests are counted under.
    fn rate_key(&self, peer: Option<IpAddr>) -> String {
        match &self.credential {
            Credential::Session(digest) => format!("session {digest}"),
            Credential::Token(id) => format!("token {id}"),
            Credential::Open | Credential::Anonymous => {
                format!(
                    "peer {}",
                    peer.map_or_else(|| "?".into(), |p| p.to_string())
                )
            }
        }
    }
}

/// Why a presented credential opened nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("the bearer token is not valid: unknown, or revoked")]
    BadToken,
    #[error("the WebSocket ticket is not valid: unknown, used already, or expired")]
    BadTicket,
    #[error("cannot check the credential: {0}")]
    Store(String),
}

/// The gateway's sign-in state: tickets, limiters, and a counter that
/// moves whenever a credential is withdrawn, so open WebSockets re-check.
pub struct Access {
    config: Option<AuthConfig>,
    tickets: Mutex<Tickets<Principal>>,
    withdrawn: watch::Sender<u64>,
    logins: Mutex<RateLimiter<IpAddr>>,
    requests: Mutex<RateLimiter<String>>,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Access {
    pub fn new(config: Option<AuthConfig>) -> Self {
        Access {
            config,
            tickets: Mutex::new(Tickets::default()),
            withdrawn: watch::channel(0).0,
            logins: Mutex::new(RateLimiter::new(LOGINS_PER_S, LOGIN_BURST, MAX_RATE_KEYS)),
            requests: Mutex::new(RateLimiter::new(
                REQUESTS_PER_S,
                REQUEST_BURST,
                MAX_RATE_KEYS,
            )),
        }
    }

    pub fn required(&self) -> bool {
        self.config.is_some()
    }

    pub fn config(&self) -> Option<&AuthConfig> {
        self.config.as_ref()
    }

    pub fn allowed_origins(&self) -> &[String] {
        self.config.as_ref().map_or(&[], |c| &c.allowed_origins)
    }

    /// Who sent these headers (and, on a WebSocket route, this ticket).
    pub fn identify(
        &self,
        store: &Store,
        headers: &HeaderMap,
        ticket: Option<&str>,
        now_unix_s: f64,
    ) -> Result<Principal, Refusal> {
        if !self.required() {
            return Ok(Principal::open());
        }
        let store_error = |e: crate::store::StoreError| Refusal::Store(e.to_string());
        if let Some(secret) = session_cookie(headers) {
            let digest = secrets::digest(secret);
            // A stale cookie is no error: the page asks the person to sign in.
            if let Some(identity) = store
                .session_identity(&digest, now_unix_s)
                .map_err(store_error)?
            {
                return Ok(Principal::from_identity(
                    identity,
                    Credential::Session(digest),
                ));
            }
        }
        if let Some(secret) = bearer(headers) {
            let identity = store
                .token_identity(&secrets::digest(secret))
                .map_err(store_error)?
                .ok_or(Refusal::BadToken)?;
            let id = identity.token.unwrap_or_default();
            return Ok(Principal::from_identity(identity, Credential::Token(id)));
        }
        if let Some(ticket) = ticket {
            return locked(&self.tickets)
                .redeem(ticket, Instant::now())
                .ok_or(Refusal::BadTicket);
        }
        Ok(Principal::anonymous())
    }

    /// Is the credential behind a long-lived connection still good?
    pub fn still_valid(&self, store: &Store, principal: &Principal, now_unix_s: f64) -> bool {
        match &principal.credential {
            Credential::Open => true,
            Credential::Anonymous => false,
            Credential::Session(digest) => {
                matches!(store.session_identity(digest, now_unix_s), Ok(Some(_)))
            }
            Credential::Token(id) => matches!(store.token_is_live(*id), Ok(true)),
        }
    }

    /// Tell open connections that some credential was withdrawn.
    pub fn withdrawn(&self) {
        self.withdrawn.send_modify(|n| *n += 1);
    }

    pub fn watch_withdrawals(&self) -> watch::Receiver<u64> {
        self.withdrawn.subscribe()
    }

    pub fn issue_ticket(&self, principal: Principal) -> Result<String, TicketError> {
        locked(&self.tickets).issue(principal, Instant::now())
    }

    /// `Err(seconds to wait)` when this peer tried to sign in too often.
    pub fn login_attempt(&self, peer: Option<IpAddr>) -> Result<(), f64> {
        let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let now = Instant::now();
        let mut logins = locked(&self.logins);
        if logins.allow(peer, now) {
            Ok(())
        } else {
            Err(logins.wait_s(&peer, now))
        }
    }

    /// `Err(seconds to wait)` when this caller sends requests too fast.
    /// An open gateway (loopback, one machine) limits nobody: every page
    /// on it comes from the same address.
    pub fn request(&self, principal: &Principal, peer: Option<IpAddr>) -> Result<(), f64> {
        if principal.is_open() {
            return Ok(());
        }
        let key = principal.rate_key(peer);
        let now = Instant::now();
        let mut requests = locked(&self.requests);
        if requests.allow(key.clone(), now) {
            Ok(())
        } else {
            Err(requests.wait_s(&key, now))
        }
    }
}

/// How often an open connection's credential is checked for expiry
/// (revocation and sign-out are told at once).
const RECHECK: std::time::Duration = std::time::Duration::from_secs(60);

/// Tells a long-lived connection when to check its credential again.
pub(crate) struct Watchman {
    changes: Option<watch::Receiver<u64>>,
    recheck: tokio::time::Interval,
}

impl Watchman {
    pub(crate) fn new(access: &Access, principal: &Principal) -> Self {
        let start = tokio::time::Instant::now() + RECHECK;
        Watchman {
            // Open: nothing to withdraw.
            changes: (!principal.is_open()).then(|| access.watch_withdrawals()),
            recheck: tokio::time::interval_at(start, RECHECK),
        }
    }

    /// Completes when the credential may have been withdrawn; cancel-safe.
    pub(crate) async fn due(&mut self) {
        let Some(changes) = &mut self.changes else {
            return std::future::pending().await;
        };
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    self.changes = None;
                }
            }
            _ = self.recheck.tick() => {}
        }
    }
}

/// The session cookie's value, from any `Cookie` header.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Writes one line of the audit log; a failure to write is logged, and
/// does not undo what was done.
pub(crate) fn audit(
    store: &Store,
    who: &str,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    detail: Option<&str>,
) {
    let entry = AuditEntry {
        at_unix_s: crate::unix_now(),
        who: who.to_owned(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        outcome: outcome.to_owned(),
        detail: detail.map(str::to_owned),
    };
    if let Err(e) = store.audit(&entry) {
        tracing::warn!("cannot write the audit log ({action} by {who}): {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "theme=dark; linetwin_session=abc; x=1")]);
        assert_eq!(session_cookie(&h), Some("abc"));
        let h = headers(&[("cookie", "a=1"), ("cookie", "linetwin_session=def")]);
        assert_eq!(session_cookie(&h), Some("def"));
        let h = headers(&[("cookie", "linetwin_session_old=abc; linetwin_session=")]);
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn bearer_tokens_only() {
        assert_eq!(
            bearer(&headers(&[("authorization", "Bearer t0k")])),
            Some("t0k")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "bearer t0k")])),
            Some("t0k")
        );
        assert_eq!(
            bearer(&headers(&[("authorization", "Basic dXNlcg==")])),
            None
        );
    }

    #[test]
    fn an_open_gateway_lets_everyone_do_everything_and_sign_in_changes_that() {
        let store = Store::in_memory().expect("store");
        let open = Access::new(None);
        let anyone = open
            .identify(&store, &HeaderMap::new(), None, 0.0)
            .expect("open");
        assert!(Action::ALL.iter().all(|a| anyone.may(*a)));

        let closed = Access::new(Some(AuthConfig {
            allowed_origins: vec![],
            session_hours: 12.0,
            secure_cookies: false,
        }));
        let nobody = closed
            .identify(&store, &HeaderMap::new(), None, 0.0)
            .expect("anonymous");
        assert!(nobody.is_anonymous());
        assert!(nobody.allowed().is_empty());
        let forged = headers(&[("authorization", "Bearer made-up")]);
        assert_eq!(
            closed.identify(&store, &forged, None, 0.0),
            Err(Refusal::BadToken)
        );
        assert_eq!(
            closed.identify(&store, &HeaderMap::new(), Some("made-up"), 0.0),
            Err(Refusal::BadTicket)
        );
    }

    #[test]
    fn a_producer_token_feeds_its_assets_only() {
        let mut producer = Principal::open();
        assert!(producer.may_feed("P1"));
        producer.assets = Some(vec!["P1".into()]);
        assert!(producer.may_feed("P1"));
        assert!(!producer.may_feed("M1"));
    }
}
