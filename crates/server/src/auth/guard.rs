//! The middleware every route passes (see the module above).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};

use super::policy::{Need, changes_state, need};
use super::{Principal, Refusal, origin};
use crate::alarms_api::problem;
use crate::state::AppState;

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The `ticket` of a WebSocket URL's query.
fn ticket(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "ticket")
        .map(|(_, value)| value)
}

/// 429 with `Retry-After`: "too many `what`: try again in N s".
pub(crate) fn too_many(what: &str, wait_s: f64) -> Response {
    let mut response = problem(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many {what}: try again in {:.0} s", wait_s.ceil()),
    );
    if let Ok(value) = format!("{}", wait_s.ceil().max(1.0) as u64).parse() {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

pub(crate) async fn guard(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let headers = request.headers();
    let host = header_str(headers, header::HOST);
    let websocket = route.starts_with("/ws");
    let access = &state.access;

    if !access.required() && !origin::host_is_loopback(host) {
        return problem(
            StatusCode::MISDIRECTED_REQUEST,
            "this gateway runs without sign-in and answers only requests to localhost",
        );
    }
    if (websocket || changes_state(request.method()))
        && !origin::origin_allowed(
            header_str(headers, header::ORIGIN),
            host,
            access.allowed_origins(),
        )
    {
        tracing::info!(
            "refused {} {route} from origin {:?}",
            request.method(),
            header_str(headers, header::ORIGIN)
        );
        return problem(
            StatusCode::FORBIDDEN,
            "this page's origin may not use the gateway (add it to [auth] allowed_origins)",
        );
    }

    let need = need(request.method(), &route);
    let ticket = ticket(request.uri().query()).filter(|_| websocket);
    // An open gateway needs no look-up: its requests never wait on the store.
    let identified = if access.required() {
        let store = state.work_orders.store();
        access.identify(&store, headers, ticket, crate::unix_now())
    } else {
        Ok(Principal::open())
    };
    let principal = match (identified, need) {
        (Ok(principal), _) => principal,
        (Err(Refusal::Store(reason)), _) => {
            return problem(StatusCode::SERVICE_UNAVAILABLE, reason);
        }
        (Err(_), Need::Public) => Principal::anonymous(),
        (Err(refusal), _) => return problem(StatusCode::UNAUTHORIZED, refusal.to_string()),
    };
    if let Err(wait_s) = access.request(&principal, peer) {
        return too_many("requests", wait_s);
    }
    match need {
        Need::Public => {}
        Need::NoRule => {
            return problem(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} is not served on {route}", request.method()),
            );
        }
        Need::May(_) if principal.is_anonymous() => {
            return problem(
                StatusCode::UNAUTHORIZED,
                "sign in first: /login (people) or a bearer token (devices)",
            );
        }
        Need::May(action) if !principal.may(action) => {
            let role = principal.role.map_or("none", |r| r.name());
            super::audit(
                &state.work_orders.store(),
                &principal.audit_name(),
                "refused",
                Some(&route),
                "refused",
                Some(&format!("role {role} may not {}", action.describe())),
            );
            return problem(
                StatusCode::FORBIDDEN,
                format!("role {role} may not {}", action.describe()),
            );
        }
        Need::May(_) => {}
    }
    request.extensions_mut().insert(principal);
    let mut response = next.run(request).await;
    // What the API says depends on who asked: not for a shared cache,
    // unless the handler chose (the line description revalidates).
    if !websocket && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    response.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticket_is_read_from_the_query() {
        assert_eq!(ticket(Some("ticket=abc")), Some("abc"));
        assert_eq!(ticket(Some("x=1&ticket=abc&y=2")), Some("abc"));
        assert_eq!(ticket(Some("tickets=abc")), None);
        assert_eq!(ticket(None), None);
    }
}
