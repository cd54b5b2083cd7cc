//! One-use WebSocket tickets: a client that cannot send the session cookie
//! (a viewer on another origin, a script) trades its credential for a
//! ticket and puts that in the `/ws?ticket=` URL. A ticket is good for
//! [`TICKET_LIFETIME`] and one connection, so a URL that ends up in a
//! proxy's log opens nothing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::secrets::{SecretError, digest, new_secret};

pub const TICKET_LIFETIME: Duration = Duration::from_secs(30);
/// Outstanding tickets at most; a client asking for more is refused.
pub const MAX_OUTSTANDING: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("too many WebSocket tickets are outstanding; try again in {TICKET_LIFETIME:?}")]
    TooMany,
}

#[derive(Debug)]
pub struct Tickets<P> {
    issued: HashMap<String, (P, Instant)>,
}

impl<P> Default for Tickets<P> {
    fn default() -> Self {
        Tickets {
            issued: HashMap::new(),
        }
    }
}

impl<P> Tickets<P> {
    /// A new ticket for `holder`; only its digest is kept.
    pub fn issue(&mut self, holder: P, now: Instant) -> Result<String, TicketError> {
        self.issued
            .retain(|_, (_, issued)| now.saturating_duration_since(*issued) < TICKET_LIFETIME);
        if self.issued.len() >= MAX_OUTSTANDING {
            return Err(TicketError::TooMany);
        }
        let ticket = new_secret()?;
        self.issued.insert(digest(&ticket), (holder, now));
        Ok(ticket)
    }

    /// Whose ticket this is, once: it is gone after this call.
    pub fn redeem(&mut self, ticket: &str, now: Instant) -> Option<P> {
        let (holder, issued) = self.issued.remove(&digest(ticket))?;
        (now.saturating_duration_since(issued) < TICKET_LIFETIME).then_some(holder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_once_and_only_while_fresh() {
        let start = Instant::now();
        let mut tickets = Tickets::default();
        let ticket = tickets.issue("maria", start).expect("issued");
        assert_eq!(tickets.redeem(&ticket, start), Some("maria"));
        assert_eq!(tickets.redeem(&ticket, start), None, "used");
        let late = tickets.issue("tom", start).expect("issued");
        assert_eq!(
            tickets.redeem(&late, start + TICKET_LIFETIME),
            None,
            "expired"
        );
        assert_eq!(tickets.redeem("made-up", start), None);
    }

    #[test]
    fn outstanding_tickets_are_bounded() {
        let start = Instant::now();
        let mut tickets = Tickets::default();
        for _ in 0..MAX_OUTSTANDING {
            tickets.issue((), start).expect("issued");
        }
        assert!(matches!(
            tickets.issue((), start),
            Err(TicketError::TooMany)
        ));
        // Expired ones make room.
        assert!(tickets.issue((), start + TICKET_LIFETIME).is_ok());
    }
}
