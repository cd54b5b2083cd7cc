//! Adding and removing people and device tokens, checked the same way
//! from the command line (`linetwin-server user add …`) and from an
//! admin's HTTP request, and written to the audit log either way.

use linetwin_core::line::Line;

use super::roles::Role;
use super::secrets;
use crate::store::Store;
use crate::store::access::{Token, User};

pub const MAX_NAME_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(
        "a name is 1 to {MAX_NAME_LEN} letters, digits, spaces or . _ - @, not starting with a space"
    )]
    BadName,
    #[error("`{0}` is taken")]
    Taken(String),
    #[error("no one called `{0}`")]
    NoSuchUser(String),
    #[error("no token {0}, or it was revoked already")]
    NoSuchToken(i64),
    #[error("role {0} is for people, who sign in with a password: give devices a token")]
    PersonRole(Role),
    #[error("role {0} is for devices: people sign in (viewer, operator, admin)")]
    DeviceRole(Role),
    #[error("asset `{0}` is not in line `{1}`")]
    UnknownAsset(String, String),
    #[error("only producer tokens are limited to assets")]
    AssetsForNonProducer,
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl AccountError {
    /// The caller's mistake (a 4xx), or the gateway's (a 5xx)?
    pub fn is_callers(&self) -> bool {
        !matches!(
            self,
            AccountError::Secret(secrets::SecretError::Random) | AccountError::Store(_)
        )
    }
}

fn check_name(name: &str) -> Result<(), AccountError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::BadName)
    }
}

pub fn add_user(
    store: &Store,
    name: &str,
    role: Role,
    password: &str,
    by: &str,
) -> Result<User, AccountError> {
    check_name(name)?;
    if !role.is_person() {
        return Err(AccountError::DeviceRole(role));
    }
    let hash = secrets::hash_password(password)?;
    let at = crate::unix_now();
    if !store.add_user(name, role, &hash, at)? {
        return Err(AccountError::Taken(name.to_owned()));
    }
    super::audit(store, by, "user_added", Some(name), "ok", Some(role.name()));
    Ok(User {
        name: name.to_owned(),
        role,
        created_unix_s: at,
    })
}

pub fn remove_user(store: &Store, name: &str, by: &str) -> Result<(), AccountError> {
    if !store.remove_user(name)? {
        return Err(AccountError::NoSuchUser(name.to_owned()));
    }
    super::audit(store, by, "user_removed", Some(name), "ok", None);
    Ok(())
}

/// A new device token: its entry, and the secret, to be shown once.
pub fn add_token(
    store: &Store,
    line: &Line,
    name: &str,
    role: Role,
    assets: Option<Vec<String>>,
    by: &str,
) -> Result<(Token, String), AccountError> {
    check_name(name)?;
    if role.is_person() {
        return Err(AccountError::PersonRole(role));
    }
    if let Some(assets) = &assets {
        if role != Role::Producer {
            return Err(AccountError::AssetsForNonProducer);
        }
        if let Some(unknown) = assets
            .iter()
            .find(|a| !line.assets.iter().any(|x| &x.id == *a))
        {
            return Err(AccountError::UnknownAsset(unknown.clone(), line.id.clone()));
        }
    }
    let secret = secrets::new_secret()?;
    let at = crate::unix_now();
    let id = store.add_token(
        name,
        role,
        assets.as_deref(),
        &secrets::digest(&secret),
        by,
        at,
    )?;
    super::audit(
        store,
        by,
        "token_created",
        Some(&format!("token {id} ({name})")),
        "ok",
        Some(role.name()),
    );
    let token = Token {
        id,
        name: name.to_owned(),
        role,
        assets,
        created_by: by.to_owned(),
        created_unix_s: at,
        revoked_unix_s: None,
    };
    Ok((token, secret))
}

pub fn revoke_token(store: &Store, id: i64, by: &str) -> Result<(), AccountError> {
    if !store.revoke_token(id, crate::unix_now())? {
        return Err(AccountError::NoSuchToken(id));
    }
    super::audit(
        store,
        by,
        "token_revoked",
        Some(&format!("token {id}")),
        "ok",
        None,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Line {
        Line::from_json(
            "demo.json",
            include_str!("../../../../assets/lines/demo.json"),
        )
        .expect("demo line")
    }

    #[test]
    fn people_get_passwords_and_devices_tokens() {
        let store = Store::in_memory().expect("store");
        add_user(
            &store,
            "maria",
            Role::Operator,
            "a long enough secret",
            "cli",
        )
        .expect("added");
        assert!(matches!(
            add_user(&store, "maria", Role::Viewer, "a long enough secret", "cli"),
            Err(AccountError::Taken(_))
        ));
        assert!(matches!(
            add_user(
                &store,
                "hall screen",
                Role::Kiosk,
                "a long enough secret",
                "cli"
            ),
            Err(AccountError::DeviceRole(Role::Kiosk))
        ));
        assert!(matches!(
            add_user(&store, "tom", Role::Viewer, "short", "cli"),
            Err(AccountError::Secret(_))
        ));
        for bad in ["", " lead", "semi;colon", "new\nline", &"x".repeat(65)] {
            assert!(
                matches!(
                    add_user(&store, bad, Role::Viewer, "a long enough secret", "cli"),
                    Err(AccountError::BadName)
                ),
                "{bad:?}"
            );
        }
        let line = demo();
        assert!(matches!(
            add_token(&store, &line, "tom", Role::Operator, None, "cli"),
            Err(AccountError::PersonRole(Role::Operator))
        ));
        let asset = line.assets[0].id.clone();
        let (token, secret) = add_token(
            &store,
            &line,
            "plc",
            Role::Producer,
            Some(vec![asset]),
            "ada",
        )
        .expect("made");
        assert_eq!(
            store
                .token_identity(&secrets::digest(&secret))
                .expect("reads")
                .map(|i| i.token),
            Some(Some(token.id))
        );
        assert!(matches!(
            add_token(
                &store,
                &line,
                "plc2",
                Role::Producer,
                Some(vec!["ZZ".into()]),
                "ada"
            ),
            Err(AccountError::UnknownAsset(..))
        ));
        assert!(matches!(
            add_token(&store, &line, "wall", Role::Kiosk, Some(vec![]), "ada"),
            Err(AccountError::AssetsForNonProducer)
        ));
        revoke_token(&store, token.id, "ada").expect("revoked");
        assert!(matches!(
            revoke_token(&store, token.id, "ada"),
            Err(AccountError::NoSuchToken(_))
        ));
        let actions: Vec<String> = store
            .audit_log(10)
            .expect("reads")
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert_eq!(actions, ["token_revoked", "token_created", "user_added"]);
    }
}
