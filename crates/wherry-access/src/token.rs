//! API tokens: 32 random bytes from the operating system, shown once as
//! `wherry_` and 64 hex digits, and kept only as the SHA-256 of that text.
//! (A token has 256 bits of entropy, so a fast hash is enough: there is
//! nothing to guess.)

use sha2::{Digest, Sha256};

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the operating system gave no randomness: {0}")]
pub struct NoRandomness(String);

/// A new token.
pub fn new_token() -> Result<String, NoRandomness> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| NoRandomness(e.to_string()))?;
    Ok(format!("wherry_{}", wherry_core::clock::hex(&bytes)))
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    wherry_core::clock::hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_new_each_time_and_kept_only_as_hashes() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with("wherry_") && a.len() == 7 + 64);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!(!token_hash(&a).contains(&a[7..]));
    }
}
