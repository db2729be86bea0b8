//! The audit trail outside the database, in the way X-Road keeps its
//! message log: a secret key and an append-only file of checkpoints, in a
//! directory the database's administrators cannot write (by default
//! beside a SQLite file, `<store>.audit/`; for PostgreSQL, under the
//! user's data directory; `WHERRY_AUDIT_DIR` sets it).
//!
//! - Each audit entry carries an HMAC-SHA256 of its hash under the key: an
//!   entry forged, or a chain recomputed, without the key does not verify.
//! - After each commit of audit entries a checkpoint line is appended to
//!   the file: the number of entries, the head's hash, the time, and an
//!   HMAC of the three. Cutting off the newest entries and moving the head
//!   back, or emptying the log, leaves fewer entries than a checkpoint saw;
//!   rewriting any entry a checkpoint covers changes the hash it saw.
//!
//! [`verify_trail`] checks the chain, every entry's MAC and every
//! checkpoint, and names what failed: an edit, an insertion, a removal, a
//! truncation, a rewrite, a forged entry or checkpoint, or a missing
//! checkpoint file.
//!
//! The key is the process's (one store's trail per process, opened once
//! with [`open`]); a process without one (a test's) writes entries without
//! MACs and no checkpoints.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};
use wherry_store::Store;

use crate::audit::{Broken, verify};

/// The trail's key and checkpoint file.
#[derive(Debug)]
pub struct Trail {
    dir: PathBuf,
    key: Vec<u8>,
    /// Held while a line is appended.
    writing: Mutex<()>,
}

static TRAIL: OnceLock<Trail> = OnceLock::new();

/// Why the trail could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("the audit trail at {dir}: {why}")]
pub struct TrailError {
    /// The directory.
    pub dir: String,
    /// Why.
    pub why: String,
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key` (at most 64 bytes), hex.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> String {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let pad = |b: u8| k.map(|x| x ^ b);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize();
    wherry_core::clock::hex(&outer)
}

/// Opens (making them when missing) the key and checkpoint file in `dir`
/// for this process. Opening the same directory again gives the same
/// trail; another is refused.
pub fn open(dir: &Path) -> Result<&'static Trail, TrailError> {
    let bad = |why: String| TrailError {
        dir: dir.display().to_string(),
        why,
    };
    if let Some(t) = TRAIL.get() {
        return if t.dir == dir {
            Ok(t)
        } else {
            Err(bad(format!(
                "this process already keeps its audit trail at {}",
                t.dir.display()
            )))
        };
    }
    std::fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
    private(dir, 0o700).map_err(|e| bad(e.to_string()))?;
    let key = key_in(dir, "audit.key").map_err(bad)?;
    let trail = Trail {
        dir: dir.to_path_buf(),
        key,
        writing: Mutex::new(()),
    };
    let _ = TRAIL.set(trail);
    open(dir)
}

/// The 32-byte key in `dir/name` (64 hex digits), made from the system's
/// randomness the first time (the file readable by its owner only).
pub fn key_in(dir: &Path, name: &str) -> Result<Vec<u8>, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    private(dir, 0o700).map_err(|e| e.to_string())?;
    let key_path = dir.join(name);
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&key_path)
    {
        Ok(mut f) => {
            private(&key_path, 0o600).map_err(|e| e.to_string())?;
            writeln!(f, "{}", wherry_core::clock::hex(&bytes))
                .and_then(|()| f.sync_all())
                .map_err(|e| e.to_string())?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = std::fs::read_to_string(&key_path).map_err(|e| e.to_string())?;
    unhex(text.trim())
        .filter(|k| k.len() == 32)
        .ok_or_else(|| format!("{name} is not 64 hex digits"))
}

#[cfg(unix)]
fn private(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn private(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// This process's trail, once opened.
pub fn get() -> Option<&'static Trail> {
    TRAIL.get()
}

/// Appends a checkpoint for the head (`seq`, `hash`) just committed, when
/// this process keeps a trail.
pub fn checkpoint(seq: i64, hash: &str) -> std::io::Result<()> {
    match get() {
        Some(t) => t.write(seq, hash),
        None => Ok(()),
    }
}

/// One checkpoint, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Its line in the file.
    pub line: usize,
    /// Entries in the log then.
    pub seq: i64,
    /// The head's hash then.
    pub hash: String,
    /// When.
    pub at: String,
}

/// What a verification found to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Entries, each chained and with its MAC.
    pub entries: usize,
    /// Checkpoints, each matching the log.
    pub checkpoints: usize,
}

impl Trail {
    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint file.
    pub fn file(&self) -> PathBuf {
        self.dir.join("checkpoints")
    }

    /// The MAC of an entry's hash.
    pub fn mac(&self, hash: &str) -> String {
        hmac_sha256(&self.key, hash.as_bytes())
    }

    /// Appends a checkpoint line for the head (`seq`, `hash`).
    pub fn write(&self, seq: i64, hash: &str) -> std::io::Result<()> {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let body = format!("{seq}\t{hash}\t{}", wherry_core::clock::now());
        let line = format!("{body}\t{}\n", hmac_sha256(&self.key, body.as_bytes()));
        // One write of one line to a file opened for appending: processes
        // sharing the file do not interleave within a line.
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(self.file())?
            .write_all(line.as_bytes())
    }

    /// Every checkpoint in the file, or the first line that is not one
    /// this key wrote.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, Broken> {
        let text = match std::fs::read_to_string(self.file()) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Broken {
                    seq: 0,
                    why: format!("the checkpoint file cannot be read: {e}"),
                });
            }
        };
        let mut out = Vec::new();
        for (i, l) in text.lines().enumerate() {
            let forged = || Broken {
                seq: 0,
                why: format!(
                    "checkpoint line {} was not written with this trail's key (altered or forged)",
                    i + 1
                ),
            };
            let (body, mac) = l.rsplit_once('\t').ok_or_else(forged)?;
            if hmac_sha256(&self.key, body.as_bytes()) != mac {
                return Err(forged());
            }
            let mut parts = body.split('\t');
            let (Some(seq), Some(hash), Some(at)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(forged());
            };
            out.push(Checkpoint {
                line: i + 1,
                seq: seq.parse().map_err(|_| forged())?,
                hash: hash.to_string(),
                at: at.to_string(),
            });
        }
        Ok(out)
    }
}

/// Checks the audit log in `store` against `trail`: the chain and head
/// ([`verify`]), every entry's MAC, and every checkpoint (the log must
/// hold at least as many entries as each saw, and the entry it ends at
/// must have the hash it saw). A log with entries and no checkpoint is
/// reported too.
pub async fn verify_trail(
    store: &Store,
    trail: &Trail,
) -> Result<Result<Verified, Broken>, wherry_store::Error> {
    let entries = store.audit_log(0).await?;
    let head = store.audit_head().await?;
    Ok(check(&entries, (head.seq, &head.hash), trail))
}

fn check(
    entries: &[wherry_store::AuditEntry],
    head: (i64, &str),
    trail: &Trail,
) -> Result<Verified, Broken> {
    let checkpoints = trail.checkpoints()?;
    verify(entries, head)?;
    for e in entries {
        if e.mac.is_empty() {
            return Err(Broken {
                seq: e.seq,
                why: "it carries no MAC: written without the audit key, or forged".into(),
            });
        }
        if trail.mac(&e.hash) != e.mac {
            return Err(Broken {
                seq: e.seq,
                why: "its MAC does not match: forged, or the chain was recomputed".into(),
            });
        }
    }
    let held = entries.len() as i64;
    for c in &checkpoints {
        if c.seq > held {
            return Err(Broken {
                seq: held + 1,
                why: format!(
                    "the log was cut short: checkpoint {} (at {}) saw {} entries, the log holds {held}",
                    c.line, c.at, c.seq
                ),
            });
        }
        if c.seq > 0 && entries[(c.seq - 1) as usize].hash != c.hash {
            return Err(Broken {
                seq: c.seq,
                why: format!(
                    "the log was rewritten: entry {} is not the one checkpoint {} (at {}) saw",
                    c.seq, c.line, c.at
                ),
            });
        }
    }
    if held > 0 && checkpoints.is_empty() {
        return Err(Broken {
            seq: 1,
            why: format!(
                "no checkpoint covers the log: {} is missing or empty",
                trail.file().display()
            ),
        });
    }
    Ok(Verified {
        entries: entries.len(),
        checkpoints: checkpoints.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231s() {
        // RFC 4231, test case 2.
        assert_eq!(
            hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
