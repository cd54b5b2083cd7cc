//! Who may do what: five roles and the actions the gateway guards. One
//! table ([`Role::may`]) decides, for every HTTP route, WebSocket and
//! message kind (the gateway's `auth` enforces it); the viewer reads the
//! caller's allowed actions from `/api/me` only to hide buttons.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person who watches: the live line, alarms, history, what-if.
    Viewer,
    /// A shop-floor screen: watches, with a revocable device token.
    Kiosk,
    /// A person who acts on the line: acknowledges, relearns baselines,
    /// asks for maintenance, sends plans, drives a demo story.
    Operator,
    /// A plant script or edge device: sends readings, nothing else.
    Producer,
    /// Manages people and tokens and reads the audit log. It does not
    /// operate the line: separation of duties (IEC 62443-3-3 SR 2.1).
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Kiosk,
        Role::Operator,
        Role::Producer,
        Role::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Kiosk => "kiosk",
            Role::Operator => "operator",
            Role::Producer => "producer",
            Role::Admin => "admin",
        }
    }

    /// Roles that sign in with a name and password; the others hold tokens.
    pub fn is_person(self) -> bool {
        matches!(self, Role::Viewer | Role::Operator | Role::Admin)
    }

    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Viewer | Role::Kiosk => matches!(action, Watch),
            Role::Operator => matches!(
                action,
                Watch | Acknowledge | SetBaseline | RequestWorkOrder | SendPlan | ControlDemo
            ),
            Role::Producer => matches!(action, Ingest),
            Role::Admin => matches!(action, Watch | ManageAccess | ReadAudit),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no role `{0}`: roles are viewer, kiosk, operator, producer and admin")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.name() == text)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// What a request or a message asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Read the line, its live stream, the alarm record, sensors, recordings.
    Watch,
    Acknowledge,
    /// Have a sensor's baseline learned afresh.
    SetBaseline,
    /// Ask for maintenance on an alarm.
    RequestWorkOrder,
    /// Send a what-if plan to the CMMS.
    SendPlan,
    /// Pause, resume, restart a demo story, or jump to a chapter.
    ControlDemo,
    /// Feed readings and waveforms (`/ws/ingest`).
    Ingest,
    /// Add and remove people, create and revoke tokens.
    ManageAccess,
    ReadAudit,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Watch,
        Action::Acknowledge,
        Action::SetBaseline,
        Action::RequestWorkOrder,
        Action::SendPlan,
        Action::ControlDemo,
        Action::Ingest,
        Action::ManageAccess,
        Action::ReadAudit,
    ];

    /// For refusals: "role viewer may not acknowledge alarms".
    pub fn describe(self) -> &'static str {
        match self {
            Action::Watch => "watch the line",
            Action::Acknowledge => "acknowledge alarms",
            Action::SetBaseline => "set baselines",
            Action::RequestWorkOrder => "request work orders",
            Action::SendPlan => "send plans to the CMMS",
            Action::ControlDemo => "control the demo story",
            Action::Ingest => "send readings",
            Action::ManageAccess => "manage people and tokens",
            Action::ReadAudit => "read the audit log",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for role in Role::ALL {
            assert_eq!(role.name().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
        assert!("Operator".parse::<Role>().is_err());
    }

    #[test]
    fn each_action_has_its_roles_and_no_other() {
        let who_may = |action| -> Vec<Role> {
            Role::ALL
                .into_iter()
                .filter(|role| role.may(action))
                .collect()
        };
        use Role::*;
        assert_eq!(who_may(Action::Watch), [Viewer, Kiosk, Operator, Admin]);
        for action in [
            Action::Acknowledge,
            Action::SetBaseline,
            Action::RequestWorkOrder,
            Action::SendPlan,
            Action::ControlDemo,
        ] {
            assert_eq!(who_may(action), [Operator], "{action:?}");
        }
        assert_eq!(who_may(Action::Ingest), [Producer]);
        assert_eq!(who_may(Action::ManageAccess), [Admin]);
        assert_eq!(who_may(Action::ReadAudit), [Admin]);
    }

    #[test]
    fn devices_hold_tokens_and_people_passwords() {
        let people: Vec<Role> = Role::ALL.into_iter().filter(|r| r.is_person()).collect();
        assert_eq!(people, [Role::Viewer, Role::Operator, Role::Admin]);
    }
}
