//! The audit log: every disclosure (who, role, purpose, action, person,
//! sources, fields, request id, break-glass reason, when) is appended in
//! the transaction of the request that makes it, before the response
//! leaves. Each entry holds the hash of the one before, and the chain's head
//! (last seq and hash) is kept apart, so [`verify`] finds any entry edited,
//! inserted or removed, the newest included, and names the first.

use sha2::{Digest, Sha256};
use wherry_store::{AuditEntry, Store, Tx};

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log is broken at entry {seq}: {why}")]
pub struct Broken {
    /// The first entry that does not hold.
    pub seq: i64,
    /// Why.
    pub why: &'static str,
}

/// An entry's hash: SHA-256 over every field but the hash itself.
pub fn hash_of(e: &AuditEntry) -> String {
    let parts = serde_json::json!([
        e.seq,
        e.at,
        e.user_name,
        e.role,
        e.purpose,
        e.action,
        e.person_id,
        e.sources,
        e.fields,
        e.request_id,
        e.break_glass,
        e.prev_hash
    ]);
    wherry_core::clock::hex(&Sha256::digest(parts.to_string().as_bytes()))
}

/// Appends `entry` (its seq, time and hashes are filled in) in `tx`.
pub async fn append(tx: &mut Tx, entry: AuditEntry) -> Result<AuditEntry, wherry_store::Error> {
    tx.append_audit(entry, hash_of).await
}

/// Appends `entries` in order (seq, time and hashes filled in) in `tx`,
/// with three statements however many there are.
pub async fn append_all(
    tx: &mut Tx,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AuditEntry>, wherry_store::Error> {
    tx.append_audits(entries, hash_of).await
}

/// Checks `entries` (oldest first) against each other and the `head`
/// (last seq and hash); returns how many entries hold.
pub fn verify(entries: &[AuditEntry], head: (i64, &str)) -> Result<usize, Broken> {
    let mut prev = "";
    for (i, e) in entries.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.seq != expected {
            return Err(Broken {
                seq: expected.min(e.seq),
                why: if e.seq > expected {
                    "an entry before it was removed"
                } else {
                    "an entry was inserted"
                },
            });
        }
        if e.prev_hash != prev {
            return Err(Broken {
                seq: e.seq,
                why: "it does not follow the entry before it",
            });
        }
        if hash_of(e) != e.hash {
            return Err(Broken {
                seq: e.seq,
                why: "it was edited after it was written",
            });
        }
        prev = &e.hash;
    }
    let last = entries.len() as i64;
    if head.0 != last || head.1 != prev {
        return Err(Broken {
            seq: (last + 1).min(head.0.max(1)),
            why: "entries written after it are missing, or the head was changed",
        });
    }
    Ok(entries.len())
}

/// Verifies the whole audit log in `store`.
pub async fn verify_store(store: &Store) -> Result<Result<usize, Broken>, wherry_store::Error> {
    let entries = store.audit_log(0).await?;
    let head = store.audit_head().await?;
    Ok(verify(&entries, (head.seq, &head.hash)))
}
