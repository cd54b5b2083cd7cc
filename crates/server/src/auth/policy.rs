//! The rule of every route: one table, denying what it does not name.

use http::Method;

use super::roles::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone: sign-in itself, the identity check, a health probe.
    Public,
    /// A caller whose role may do this.
    May(Action),
    /// A route without a rule (a new route someone forgot): refused.
    NoRule,
}

/// What a request to `route` (the router's pattern, `/api/alarms/{id}/…`) needs.
pub fn need(method: &Method, route: &str) -> Need {
    use Action::*;
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    match route {
        "/healthz" | "/login" | "/kiosk" | "/kiosk.js" | "/admin" | "/admin.js" | "/api/me"
            if get =>
        {
            Need::Public
        }
        "/api/login" | "/api/logout" | "/api/kiosk/session" if post => Need::Public,
        "/api/line"
        | "/api/recording.mcap"
        | "/api/scenario"
        | "/api/alarms"
        | "/api/work-orders"
        | "/api/sensors"
        | "/ws"
            if get =>
        {
            Need::May(Watch)
        }
        "/api/ws-ticket" if post => Need::May(Watch),
        "/api/scenario/chapter/{index}" | "/api/scenario/{command}" if post => {
            Need::May(ControlDemo)
        }
        "/api/alarms/{id}/acknowledge" if post => Need::May(Acknowledge),
        "/api/alarms/{id}/work-order" if post => Need::May(RequestWorkOrder),
        "/api/plans/work-order" if post => Need::May(SendPlan),
        "/api/sensors/{sensor}/baseline" if post => Need::May(SetBaseline),
        "/ws/ingest" if get => Need::May(Ingest),
        "/api/users" | "/api/tokens" if get || post => Need::May(ManageAccess),
        "/api/users/{name}" if method == Method::DELETE => Need::May(ManageAccess),
        "/api/tokens/{id}/revoke" if post => Need::May(ManageAccess),
        "/api/audit" if get => Need::May(ReadAudit),
        _ => Need::NoRule,
    }
}

/// Does this request change something (and so need a same-site origin)?
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrong_method_on_a_known_route_has_no_rule() {
        assert_eq!(need(&Method::GET, "/api/alarms"), Need::May(Action::Watch));
        assert_eq!(need(&Method::DELETE, "/api/alarms"), Need::NoRule);
        assert_eq!(
            need(&Method::GET, "/api/alarms/{id}/acknowledge"),
            Need::NoRule
        );
        assert_eq!(need(&Method::POST, "/api/not-yet-written"), Need::NoRule);
    }

    #[test]
    fn acting_needs_more_than_watching() {
        assert_eq!(
            need(&Method::POST, "/api/alarms/{id}/acknowledge"),
            Need::May(Action::Acknowledge)
        );
        assert_eq!(need(&Method::GET, "/ws/ingest"), Need::May(Action::Ingest));
        assert_eq!(
            need(&Method::GET, "/api/audit"),
            Need::May(Action::ReadAudit)
        );
        assert!(changes_state(&Method::POST));
        assert!(!changes_state(&Method::GET));
    }
}
