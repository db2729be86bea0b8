//! The audit writer: commits the entries of disclosures made together in
//! one transaction (each caller still waits for its own entries to be
//! committed before it answers), so a busy server appends with a few
//! statements per batch rather than per request.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};
use wherry_store::relationships::Relation;
use wherry_store::{AuditEntry, Store};

/// Most entries committed in one audit transaction.
const MAX_BATCH: usize = 256;

/// What one disclosure commits: its audit entries, and the reasons on
/// record it gives its caller (a search's results).
type Writes = (Vec<AuditEntry>, Vec<Relation>);

type Batch = (Writes, oneshot::Sender<Result<(), String>>);

/// The audit writer (its task starts on first use, inside the caller's
/// tokio runtime).
#[derive(Default)]
pub struct Writer {
    queue: OnceLock<mpsc::Sender<Batch>>,
}

impl Writer {
    /// Appends `entries` to the audit log and records `relations`;
    /// returns once they are committed.
    pub async fn record(
        &self,
        store: &Store,
        entries: Vec<AuditEntry>,
        relations: Vec<Relation>,
    ) -> Result<(), String> {
        if entries.is_empty() && relations.is_empty() {
            return Ok(());
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4096);
            tokio::spawn(write(store.clone(), rx));
            tx
        });
        let (done, wait) = oneshot::channel();
        queue
            .send(((entries, relations), done))
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }
}

/// The writer: takes whatever is queued (up to [`MAX_BATCH`] entries),
/// appends it in one transaction, and tells each caller how it went.
async fn write(store: Store, mut queue: mpsc::Receiver<Batch>) {
    while let Some(first) = queue.recv().await {
        let mut batches = vec![first];
        let mut n = batches[0].0.0.len();
        while n < MAX_BATCH {
            match queue.try_recv() {
                Ok(b) => {
                    n += b.0.0.len();
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
        .flat_map(|((e, _), _)| e.iter().cloned())
        .collect();
    let relations: Vec<Relation> = batches
        .iter()
        .flat_map(|((_, r), _)| r.iter().cloned())
        .collect();
    let written = crate::audit::append_all(&mut tx, all)
        .await
        .map_err(|e| e.to_string())?;
    tx.relate(&relations).await.map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    if let Some(last) = written.last() {
        crate::trail::checkpoint(last.seq, &last.hash)
            .map_err(|e| format!("the audit checkpoint could not be written: {e}"))?;
    }
    Ok(())
}
