//! A contact event a partner's system pushes, added to one of its current,
//! linked records in one transaction (as an extract of one event).

use sha2::Digest;
use wherry_store::{Event, RecordKey, Store};

use crate::Error;

/// Adds `event` (already checked by `wherry_ingest::event::check`) for a
/// record of `source`; the record's person, or `None` (nothing stored)
/// when the record is not current and linked.
pub async fn add(
    store: &Store,
    source: &str,
    by: &str,
    event: &Event,
) -> Result<Option<String>, Error> {
    let mut tx = store.begin().await?;
    if !tx.source_exists(source).await? {
        return Err(Error::UnknownSource(source.to_string()));
    }
    let current = tx
        .record_state(source, &event.record_id)
        .await?
        .is_some_and(|s| !s.withdrawn);
    let person = tx
        .person_of(&RecordKey::new(source, event.record_id.as_str()))
        .await?;
    let Some(person) = person.filter(|_| current) else {
        return Ok(None);
    };
    // The extract is named by a hash of the event, not its content.
    let hash = wherry_core::clock::hex(&sha2::Sha256::digest(format!("{event:?}").as_bytes()));
    let extract = tx.new_extract(source, "push", &hash, "push", by).await?;
    tx.events(extract, source, std::slice::from_ref(event))
        .await?;
    tx.commit().await?;
    Ok(Some(person))
}
