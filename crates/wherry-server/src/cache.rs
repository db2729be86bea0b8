//! What the server keeps between requests so each one does less: the
//! audit writer, which commits the entries of requests arriving together
//! in one transaction (each request still waits for its own entries to be
//! committed before it answers), and short-lived caches of API tokens and
//! source manifests.
//!
//! Staleness is bounded: a token looked up is trusted for [`TOKEN_TTL`]
//! (a user disabled in the store is refused within that time), and the
//! manifests are re-read after [`MANIFEST_TTL`] (an ingest that changes an
//! agreement applies to reads within that time).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use wherry_core::Role;
use wherry_store::{AuditEntry, Store};

/// How long a token looked up in the store is trusted.
pub const TOKEN_TTL: Duration = Duration::from_secs(10);
/// How long the source manifests are kept before being re-read.
pub const MANIFEST_TTL: Duration = Duration::from_secs(5);
/// Most entries committed in one audit transaction.
const MAX_BATCH: usize = 256;

type Batch = (Vec<AuditEntry>, oneshot::Sender<Result<(), String>>);

/// The audit writer (started on first use, inside the server's runtime).
#[derive(Default)]
pub struct Auditor {
    queue: OnceLock<mpsc::Sender<Batch>>,
}

impl Auditor {
    /// Appends `entries` to the audit log; returns once they are committed.
    pub async fn record(&self, store: &Store, entries: Vec<AuditEntry>) -> Result<(), String> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4096);
            tokio::spawn(write(store.clone(), rx));
            tx
        });
        let (done, wait) = oneshot::channel();
        queue
            .send((entries, done))
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }
}

/// The writer: takes whatever is queued (up to [`MAX_BATCH`] entries),
/// appends it in one transaction, and tells each request how it went.
async fn write(store: Store, mut queue: mpsc::Receiver<Batch>) {
    while let Some(first) = queue.recv().await {
        let mut batches = vec![first];
        let mut n = batches[0].0.len();
        while n < MAX_BATCH {
            match queue.try_recv() {
                Ok(b) => {
                    n += b.0.len();
                    batches.push(b);
                }
                Err(_) => break,
            }
        }
        let result = commit(&store, &batches).await;
        for (_, done) in batches {
            let _ = done.send(result.clone());
        }
    }
}

async fn commit(store: &Store, batches: &[Batch]) -> Result<(), String> {
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    let all = batches
        .iter()
        .flat_map(|(e, _)| e.iter().cloned())
        .collect();
    wherry_access::audit::append_all(&mut tx, all)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// Tokens recently looked up: SHA-256 → (name, role, when).
#[derive(Debug, Default)]
pub struct Tokens {
    seen: Mutex<HashMap<String, (String, Role, Instant)>>,
}

impl Tokens {
    /// The user of a token hash, if looked up within [`TOKEN_TTL`].
    pub fn get(&self, hash: &str) -> Option<(String, Role)> {
        let seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.get(hash)
            .filter(|(_, _, at)| at.elapsed() < TOKEN_TTL)
            .map(|(n, r, _)| (n.clone(), *r))
    }

    /// Remembers a token's user.
    pub fn put(&self, hash: String, name: String, role: Role) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, (_, _, at)| at.elapsed() < TOKEN_TTL);
        }
        seen.insert(hash, (name, role, Instant::now()));
    }
}

/// The source manifests, parsed, as last read.
pub type Manifests = Arc<BTreeMap<String, wherry_ingest::Manifest>>;

/// The manifests cache.
#[derive(Debug, Default)]
pub struct ManifestCache {
    held: Mutex<Option<(Instant, Manifests)>>,
}

impl ManifestCache {
    /// The manifests if read within [`MANIFEST_TTL`].
    pub fn get(&self) -> Option<Manifests> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .filter(|(at, _)| at.elapsed() < MANIFEST_TTL)
            .map(|(_, m)| m.clone())
    }

    /// Keeps freshly read manifests.
    pub fn put(&self, m: Manifests) {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), m));
    }
}
