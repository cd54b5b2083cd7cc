//! Signing in and out, who am I, WebSocket tickets, kiosks' sessions, and
//! the admin's people, tokens and audit log over HTTP.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use serde_json::json;

use super::accounts::{self, AccountError};
use super::roles::Role;
use super::tickets::TICKET_LIFETIME;
use super::{Credential, Principal, secrets};
use crate::alarms_api::problem;
use crate::state::AppState;
use crate::store::access::SessionOwner;

/// A kiosk's session: the longest a browser keeps a cookie (400 days);
/// it ends sooner when its token is revoked.
const KIOSK_SESSION_S: f64 = 400.0 * 86_400.0;
const AUDIT_LIMIT: usize = 1_000;

#[derive(Debug, Deserialize)]
pub(crate) struct LoginPage {
    next: Option<String>,
    failed: Option<String>,
}

/// Where to go after signing in: a path of this gateway, nothing else
/// (`//evil.example` is another site).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/",
    }
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// `GET /login`: the sign-in form (no script), or straight to the viewer
/// on an open gateway.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    Query(page): Query<LoginPage>,
) -> Response {
    let next = safe_next(page.next.as_deref());
    if !state.access.required() {
        return Redirect::to(next).into_response();
    }
    let problem = match page.failed.as_deref() {
        Some("wait") => "<p class=\"problem\">Too many attempts: wait a minute.</p>",
        Some(_) => "<p class=\"problem\">Wrong name or password.</p>",
        None => "",
    };
    Html(
        include_str!("../../assets/login.html")
            .replace("{{LINE}}", &escape_html(&state.line.name))
            .replace("{{PROBLEM}}", problem)
            .replace("{{NEXT}}", &escape_html(next)),
    )
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct Login {
    name: String,
    password: String,
    next: Option<String>,
}

/// A sign-in from the form (`form`) or as JSON.
pub(crate) fn parse_login(body: &[u8], form: bool) -> Result<Login, String> {
    if form {
        serde_urlencoded::from_bytes(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

fn session_cookie(state: &AppState, secret: &str, max_age_s: f64) -> HeaderValue {
    let secure = if state.access.config().is_some_and(|c| c.secure_cookies) {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        super::SESSION_COOKIE,
        max_age_s as u64
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn open_session(state: &AppState, owner: &SessionOwner, lifetime_s: f64) -> Result<String, String> {
    let secret = secrets::new_secret().map_err(|e| e.to_string())?;
    let now = crate::unix_now();
    state
        .work_orders
        .store()
        .add_session(&secrets::digest(&secret), owner, now, now + lifetime_s)
        .map_err(|e| e.to_string())?;
    Ok(secret)
}

/// `POST /api/login`, from the form (then a redirect) or as JSON
/// `{"name", "password"}` (then `{"name", "role"}`), with the session cookie.
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = is_form(&headers);
    let Ok(login) = parse_login(&body, form) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "the body must be {\"name\": …, \"password\": …} or the sign-in form",
        );
    };
    let next = safe_next(login.next.as_deref()).to_owned();
    let back = |failed: &str| {
        let query = serde_urlencoded::to_string([("failed", failed), ("next", next.as_str())])
            .unwrap_or_default();
        Redirect::to(&format!("/login?{query}")).into_response()
    };
    let Some(auth) = state.access.config() else {
        return problem(StatusCode::CONFLICT, "this gateway runs without sign-in");
    };
    if let Err(wait_s) = state.access.login_attempt(Some(peer.ip())) {
        return if form {
            back("wait")
        } else {
            super::too_many("sign-in attempts", wait_s)
        };
    }
    let name: String = login
        .name
        .trim()
        .chars()
        .take(accounts::MAX_NAME_LEN)
        .collect();
    let found = state.work_orders.store().login_of(&name);
    let found = match found {
        Ok(found) => found,
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    };
    // Argon2 takes tens of milliseconds: off the async threads.
    let password = login.password;
    let checked = tokio::task::spawn_blocking(move || match found {
        Some((role, hash)) => secrets::verify_password(&password, &hash).then_some(role),
        None => {
            secrets::verify_password(&password, secrets::decoy_hash());
            None
        }
    })
    .await
    .unwrap_or(None);
    let Some(role) = checked else {
        super::audit(
            &state.work_orders.store(),
            &name,
            "login_failed",
            None,
            "refused",
            None,
        );
        return if form {
            back("1")
        } else {
            problem(StatusCode::UNAUTHORIZED, "wrong name or password")
        };
    };
    let lifetime_s = auth.session_hours * 3600.0;
    let secret = match open_session(&state, &SessionOwner::User(name.clone()), lifetime_s) {
        Ok(secret) => secret,
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    super::audit(
        &state.work_orders.store(),
        &name,
        "login",
        None,
        "ok",
        Some(role.name()),
    );
    let cookie = session_cookie(&state, &secret, lifetime_s);
    let mut answer = if form {
        Redirect::to(&next).into_response()
    } else {
        Json(json!({ "name": name, "role": role })).into_response()
    };
    answer.headers_mut().insert(header::SET_COOKIE, cookie);
    answer
}

/// `POST /api/logout`: ends this browser's session.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    headers: HeaderMap,
) -> Response {
    if let Credential::Session(digest) = &principal.credential {
        let store = state.work_orders.store();
        if let Err(e) = store.end_session(digest) {
            return problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string());
        }
        super::audit(&store, &principal.audit_name(), "logout", None, "ok", None);
        drop(store);
        state.access.withdrawn();
    }
    let mut answer = if is_form(&headers) {
        Redirect::to("/login").into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    answer
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", 0.0));
    answer
}

/// `GET /api/me`: who the gateway takes the caller for, and what they may
/// do (the viewer hides the rest). 401 when nobody is signed in.
pub(crate) async fn me(Extension(principal): Extension<Principal>) -> Response {
    if principal.is_anonymous() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "sign in first", "login": "/login" })),
        )
            .into_response();
    }
    Json(json!({
        "name": principal.name,
        "role": principal.role,
        "open": principal.is_open(),
        "may": principal.allowed(),
    }))
    .into_response()
}

/// `POST /api/ws-ticket`: a one-use ticket for `/ws?ticket=…`.
pub(crate) async fn ws_ticket(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    match state.access.issue_ticket(principal) {
        Ok(ticket) => Json(json!({
            "ticket": ticket,
            "expires_in_s": TICKET_LIFETIME.as_secs(),
        }))
        .into_response(),
        Err(e) => problem(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

/// `GET /admin`: people, tokens and the audit log (the API decides who may).
pub(crate) async fn admin_page() -> Response {
    Html(include_str!("../../assets/admin.html")).into_response()
}

pub(crate) async fn admin_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/admin.js"),
    )
        .into_response()
}

pub(crate) async fn kiosk_page() -> Response {
    Html(include_str!("../../assets/kiosk.html")).into_response()
}

pub(crate) async fn kiosk_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/kiosk.js"),
    )
        .into_response()
}

/// `POST /api/kiosk/session` with the kiosk's token as a bearer: a long
/// session cookie for its browser, ended when the token is revoked.
pub(crate) async fn kiosk_session(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
) -> Response {
    let token = match (&principal.credential, principal.role) {
        (Credential::Token(id), Some(Role::Kiosk)) => *id,
        (Credential::Open, _) => {
            return problem(StatusCode::CONFLICT, "this gateway runs without sign-in");
        }
        _ => {
            return problem(
                StatusCode::UNAUTHORIZED,
                "send a kiosk token: Authorization: Bearer <token>",
            );
        }
    };
    let secret = match open_session(&state, &SessionOwner::Token(token), KIOSK_SESSION_S) {
        Ok(secret) => secret,
        Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    super::audit(
        &state.work_orders.store(),
        &principal.audit_name(),
        "kiosk_session",
        None,
        "ok",
        None,
    );
    let mut answer = Json(json!({ "name": principal.name, "role": Role::Kiosk })).into_response();
    answer.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&state, &secret, KIOSK_SESSION_S),
    );
    answer
}

fn account_problem(e: AccountError) -> Response {
    let status = if e.is_callers() {
        match e {
            AccountError::Taken(_) => StatusCode::CONFLICT,
            AccountError::NoSuchUser(_) | AccountError::NoSuchToken(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    problem(status, e.to_string())
}

fn json_body<T: serde::de::DeserializeOwned>(
    body: &Bytes,
    shape: &str,
) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(problem(
            StatusCode::BAD_REQUEST,
            format!("the body must be {shape}: {e}"),
        ))
    })
}

pub(crate) async fn users(State(state): State<AppState>) -> Response {
    match state.work_orders.store().users() {
        Ok(users) => Json(json!({ "users": users })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    name: String,
    role: Role,
    password: String,
}

pub(crate) async fn add_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Response {
    let new: NewUser = match json_body(&body, r#"{"name", "role", "password"}"#) {
        Ok(new) => new,
        Err(answer) => return *answer,
    };
    let by = principal.audit_name();
    let added = tokio::task::spawn_blocking(move || {
        accounts::add_user(
            &state.work_orders.store(),
            &new.name,
            new.role,
            &new.password,
            &by,
        )
    })
    .await;
    match added {
        Ok(Ok(user)) => (StatusCode::CREATED, Json(json!(user))).into_response(),
        Ok(Err(e)) => account_problem(e),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

pub(crate) async fn remove_user(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
) -> Response {
    let removed = accounts::remove_user(&state.work_orders.store(), &name, &principal.audit_name());
    match removed {
        Ok(()) => {
            state.access.withdrawn();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => account_problem(e),
    }
}

pub(crate) async fn tokens(State(state): State<AppState>) -> Response {
    match state.work_orders.store().tokens() {
        Ok(tokens) => Json(json!({ "tokens": tokens })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    role: Role,
    assets: Option<Vec<String>>,
}

/// `POST /api/tokens`: 201 with the token's secret, shown this once.
pub(crate) async fn add_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    body: Bytes,
) -> Response {
    let new: NewToken = match json_body(&body, r#"{"name", "role", "assets"?}"#) {
        Ok(new) => new,
        Err(answer) => return *answer,
    };
    let made = accounts::add_token(
        &state.work_orders.store(),
        &state.line,
        &new.name,
        new.role,
        new.assets,
        &principal.audit_name(),
    );
    match made {
        Ok((token, secret)) => (
            StatusCode::CREATED,
            Json(json!({ "token": token, "secret": secret })),
        )
            .into_response(),
        Err(e) => account_problem(e),
    }
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<i64>,
) -> Response {
    let revoked = accounts::revoke_token(&state.work_orders.store(), id, &principal.audit_name());
    match revoked {
        Ok(()) => {
            state.access.withdrawn();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => account_problem(e),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    limit: Option<usize>,
}

pub(crate) async fn audit_log(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Response {
    let limit = query.limit.unwrap_or(200).min(AUDIT_LIMIT);
    match state.work_orders.store().audit_log(limit) {
        Ok(entries) => Json(json!({ "audit": entries })).into_response(),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_sign_in_only_a_path_of_this_gateway() {
        assert_eq!(safe_next(Some("/?kiosk#t=5")), "/?kiosk#t=5");
        for bad in [
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_page_escapes_what_it_echoes() {
        assert_eq!(
            escape_html(r#""><script>x</script>"#),
            "&quot;&gt;&lt;script&gt;x&lt;/script&gt;"
        );
    }
}
