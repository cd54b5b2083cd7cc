//! Secrets and their digests. Passwords are hashed with Argon2id (memory
//! hard, so a stolen database is slow to crack); tokens, sessions and
//! tickets are 256 random bits, kept only as their SHA-256 (a fast hash is
//! enough for a secret nobody chose, and lets the gateway look one up).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use ring::rand::SecureRandom;

/// NIST SP 800-63B asks for at least 8; a shop floor shares screens.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Argon2 reads all of it: a megabyte password is a denial of service.
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random source failed")]
    Random,
    #[error("a password must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} bytes long")]
    PasswordLength,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut bytes = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SecretError::Random)?;
    Ok(bytes)
}

/// A new secret for a token, a session or a ticket: URL- and cookie-safe.
pub fn new_secret() -> Result<String, SecretError> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// What the database keeps of a secret.
pub fn digest(secret: &str) -> String {
    let hash = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    hash.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn check_password_rules(password: &str) -> Result<(), SecretError> {
    if (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&password.len()) {
        Ok(())
    } else {
        Err(SecretError::PasswordLength)
    }
}

/// An Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`): the
/// parameters travel with the hash, so raising them later keeps old ones valid.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    check_password_rules(password)?;
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// False for a wrong password and for a hash that does not parse.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|hash| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

/// A hash to check against when the name is unknown, so that a wrong
/// name takes as long as a wrong password and names cannot be probed.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("linetwin-decoy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let hash = hash_password("correct horse battery").expect("hashes");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("correct horse battery", "not a hash"));
        // Same password, fresh salt: a different hash.
        assert_ne!(
            hash,
            hash_password("correct horse battery").expect("hashes")
        );
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(hash_password("short").is_err());
        assert!(hash_password(&"x".repeat(MAX_PASSWORD_LEN + 1)).is_err());
        assert!(!verify_password(&"x".repeat(10_000), decoy_hash()));
    }

    #[test]
    fn secrets_are_fresh_and_only_their_digest_is_kept() {
        let (a, b) = (new_secret().expect("random"), new_secret().expect("random"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }
}
