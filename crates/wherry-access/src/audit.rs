//! The audit log: every disclosure (who, role, purpose, action, person,
//! sources, fields, request id, break-glass reason, when) is appended in
//! the transaction of the request that makes it, before the response
//! leaves. Each entry holds the hash of the one before, and the chain's head
//! (last seq and hash) is kept apart, so [`verify`] finds any entry edited,
//! inserted or removed, the newest included, and names the first.
//!
//! Against someone who can write to the database (who could recompute the
//! whole chain and its head, or cut off its newest entries and move the
//! head back), the [`trail`](crate::trail) keeps a key and a file of
//! checkpoints outside the database: each entry carries an HMAC of its
//! hash under the key, and after each commit a line (entries, head hash,
//! time, HMAC) is appended to the file; [`crate::trail::verify_trail`]
//! checks all three.

use sha2::{Digest, Sha256};
use wherry_store::{AuditEntry, Store, Tx};

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log is broken at entry {seq}: {why}")]
pub struct Broken {
    /// The first entry that does not hold.
    pub seq: i64,
    /// Why.
    pub why: String,
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

/// Sets an entry's hash and, when this process has the audit key, its MAC.
fn seal(e: &mut AuditEntry) {
    e.hash = hash_of(e);
    e.mac = crate::trail::get().map_or_else(String::new, |t| t.mac(&e.hash));
}

/// Appends `entry` (its seq, time, hashes and MAC are filled in) in `tx`.
/// Once `tx` commits, call [`crate::trail::checkpoint`] with it.
pub async fn append(tx: &mut Tx, entry: AuditEntry) -> Result<AuditEntry, wherry_store::Error> {
    tx.append_audit(entry, seal).await
}

/// Appends `entries` in order (seq, time, hashes and MACs filled in) in
/// `tx`, with three statements however many there are.
pub async fn append_all(
    tx: &mut Tx,
    entries: Vec<AuditEntry>,
) -> Result<Vec<AuditEntry>, wherry_store::Error> {
    tx.append_audits(entries, seal).await
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
                }
                .into(),
            });
        }
        if e.prev_hash != prev {
            return Err(Broken {
                seq: e.seq,
                why: "it does not follow the entry before it".into(),
            });
        }
        if hash_of(e) != e.hash {
            return Err(Broken {
                seq: e.seq,
                why: "it was edited after it was written".into(),
            });
        }
        prev = &e.hash;
    }
    let last = entries.len() as i64;
    if head.0 != last || head.1 != prev {
        return Err(Broken {
            seq: (last + 1).min(head.0.max(1)),
            why: "entries written after it are missing, or the head was changed".into(),
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
