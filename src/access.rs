//! Who is looking, from the viewer's side: the gateway's `GET /api/me`
//! says the caller's name, role and allowed actions. The panels hide the
//! buttons a role may not press; the gateway refuses them anyway, so this
//! is only about not offering what would fail. Nobody signed in (HTTP 401):
//! the page goes to the gateway's sign-in form and comes back here after.
//!
//! Until the gateway has answered, nothing beyond watching is offered. The
//! question is asked again whenever the stream is lost, so a session that
//! ended or a revoked kiosk token ends at the sign-in form, not in an
//! endless reconnect.

use bevy::prelude::*;
use linetwin_core::access::{Action, Role};
use serde::{Deserialize, Serialize};

use crate::gateway_record::RecordRequest;
use crate::stream::{Connection, ConnectionState};

/// What this viewer's caller may do, as the gateway said.
#[derive(Resource, Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Permissions {
    /// `None` until the gateway has answered.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    /// The gateway runs without sign-in (on loopback only).
    #[serde(default)]
    pub open: bool,
    #[serde(default, rename = "may", deserialize_with = "known_actions")]
    allowed: Vec<Action>,
}

/// The actions this viewer knows; a newer gateway's others are skipped.
fn known_actions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Action>, D::Error> {
    let names = Vec::<serde_json::Value>::deserialize(d)?;
    Ok(names
        .into_iter()
        .filter_map(|name| serde_json::from_value(name).ok())
        .collect())
}

impl Permissions {
    pub fn may(&self, action: Action) -> bool {
        self.allowed.contains(&action)
    }

    pub fn allowed(&self) -> &[Action] {
        &self.allowed
    }

    /// Who is signed in, for the status bar; `None` on an open gateway.
    pub fn signed_in_as(&self) -> Option<String> {
        match (&self.name, self.role) {
            (Some(name), Some(role)) if !self.open => Some(format!("{name} ({role})")),
            _ => None,
        }
    }
}

/// What a panel's buttons asked the gateway's record for, and whether a
/// button may be offered at all.
pub struct Offers<'a> {
    pub made: Vec<RecordRequest>,
    permissions: &'a Permissions,
}

impl<'a> Offers<'a> {
    pub fn new(permissions: &'a Permissions) -> Self {
        Offers {
            made: Vec::new(),
            permissions,
        }
    }

    pub fn may(&self, action: Action) -> bool {
        self.permissions.may(action)
    }

    /// Whether to show the button that makes this request.
    pub fn offers(&self, request: &RecordRequest) -> bool {
        self.may(request.needs())
    }

    pub fn push(&mut self, request: RecordRequest) {
        self.made.push(request);
    }
}

/// The gateway's answer to `GET /api/me`.
#[derive(Debug, Clone, PartialEq)]
pub enum MeAnswer {
    Known(Permissions),
    /// Nobody is signed in: go to the sign-in form.
    SignIn,
    /// The gateway could not be asked, or answered something else; the
    /// permissions stay as they were.
    Unknown(String),
}

pub fn read_me(status: u16, body: &str) -> MeAnswer {
    match status {
        200 => serde_json::from_str(body)
            .map(MeAnswer::Known)
            .unwrap_or_else(|e| MeAnswer::Unknown(format!("the gateway's /api/me: {e}"))),
        401 => MeAnswer::SignIn,
        other => MeAnswer::Unknown(format!("the gateway's /api/me answered HTTP {other}")),
    }
}

/// The sign-in form, relative to the page, coming back to `here` (the
/// page's path, query and fragment) once signed in.
pub fn sign_in_url(here: &str) -> String {
    format!("login?next={}", crate::gateway_record::percent_encode(here))
}

/// Asks `/api/me` again at the next chance.
#[derive(Resource, Default)]
struct AskAgain(bool);

pub struct AccessPlugin;

impl Plugin for AccessPlugin {
    fn build(&self, app: &mut App) {
        app.init_resource::<Permissions>()
            .insert_resource(AskAgain(true))
            .add_systems(Update, ask_again_when_the_stream_is_lost);
        #[cfg(target_arch = "wasm32")]
        app.add_systems(PreUpdate, web::ask_and_receive);
    }
}

fn ask_again_when_the_stream_is_lost(
    connection: Res<Connection>,
    mut was_connected: Local<bool>,
    mut ask: ResMut<AskAgain>,
) {
    let connected = matches!(connection.0, ConnectionState::Connected { .. });
    if *was_connected && !connected {
        ask.0 = true;
    }
    *was_connected = connected;
}

/// Ends this browser's session and goes to the sign-in form. A native
/// build has no page and no session.
pub fn sign_out() {
    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_futures::spawn_local(async {
        let _ = gloo_net::http::Request::post("api/logout").send().await;
        if let Some(window) = web_sys::window() {
            let _ = window.location().replace("login");
        }
    });
}

#[cfg(target_arch = "wasm32")]
mod web {
    use std::sync::{Arc, Mutex};

    use bevy::prelude::*;

    use super::{AskAgain, MeAnswer, Permissions, read_me, sign_in_url};

    async fn ask() -> MeAnswer {
        let response = match gloo_net::http::Request::get("api/me").send().await {
            Ok(response) => response,
            Err(e) => return MeAnswer::Unknown(format!("gateway unreachable: {e}")),
        };
        let body = response.text().await.unwrap_or_default();
        read_me(response.status(), &body)
    }

    fn go_to_sign_in() {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let here = format!(
            "{}{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default(),
            location.hash().unwrap_or_default()
        );
        let _ = location.replace(&sign_in_url(&here));
    }

    pub(super) fn ask_and_receive(
        mut ask_again: ResMut<AskAgain>,
        mut permissions: ResMut<Permissions>,
        inbox: Local<Arc<Mutex<Option<MeAnswer>>>>,
    ) {
        let answer = inbox.lock().ok().and_then(|mut slot| slot.take());
        match answer {
            Some(MeAnswer::Known(known)) if *permissions != known => {
                info!("signed in as {:?}, may {:?}", known.name, known.allowed());
                *permissions = known;
            }
            Some(MeAnswer::Known(_)) => {}
            Some(MeAnswer::SignIn) => go_to_sign_in(),
            Some(MeAnswer::Unknown(reason)) => warn!("{reason}"),
            None => {}
        }
        if std::mem::take(&mut ask_again.0) {
            let slot = Arc::clone(&inbox);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = ask().await;
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(answer);
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateways_answer_decides_what_is_offered() {
        let body = r#"{"name":"olga","role":"operator","open":false,"may":["watch","acknowledge","set_baseline"]}"#;
        let MeAnswer::Known(olga) = read_me(200, body) else {
            panic!("an operator");
        };
        assert!(olga.may(Action::Acknowledge));
        assert!(!olga.may(Action::SendPlan));
        assert_eq!(olga.signed_in_as().as_deref(), Some("olga (operator)"));

        let open = r#"{"name":"anonymous (open gateway)","role":null,"open":true,"may":["watch","acknowledge"]}"#;
        let MeAnswer::Known(anyone) = read_me(200, open) else {
            panic!("open");
        };
        assert!(anyone.may(Action::Acknowledge));
        assert_eq!(anyone.signed_in_as(), None, "nobody to name");

        assert_eq!(read_me(401, "{}"), MeAnswer::SignIn);
        assert!(matches!(read_me(503, ""), MeAnswer::Unknown(_)));
        assert!(matches!(read_me(200, "not json"), MeAnswer::Unknown(_)));
        // An action this viewer does not know yet is not a failure to read.
        let MeAnswer::Known(newer) = read_me(200, r#"{"may":["watch","launch"]}"#) else {
            panic!("a newer gateway's answer");
        };
        assert_eq!(newer.allowed(), [Action::Watch]);
    }

    #[test]
    fn before_the_gateway_answers_nothing_is_offered() {
        let unknown = Permissions::default();
        assert!(Action::ALL.iter().all(|a| !unknown.may(*a)));
    }

    #[test]
    fn a_button_is_offered_only_for_what_the_role_may() {
        let MeAnswer::Known(viewer) =
            read_me(200, r#"{"name":"vic","role":"viewer","may":["watch"]}"#)
        else {
            panic!("a viewer");
        };
        let offers = Offers::new(&viewer);
        assert!(!offers.offers(&RecordRequest::Acknowledge(1)));
        assert!(!offers.offers(&RecordRequest::RelearnBaseline("P1-DE-V".into())));
        let body = r#"{"name":"olga","role":"operator","may":["watch","acknowledge","request_work_order","set_baseline","send_plan"]}"#;
        let MeAnswer::Known(operator) = read_me(200, body) else {
            panic!("an operator");
        };
        let offers = Offers::new(&operator);
        assert!(offers.offers(&RecordRequest::Acknowledge(1)));
        assert!(offers.offers(&RecordRequest::AskForMaintenance(1)));
        assert!(offers.offers(&RecordRequest::RelearnBaseline("P1-DE-V".into())));
    }

    #[test]
    fn sign_in_comes_back_to_the_same_view() {
        assert_eq!(
            sign_in_url("/?kiosk&history=1d#t=5"),
            "login?next=%2F%3Fkiosk%26history%3D1d%23t%3D5"
        );
    }
}
