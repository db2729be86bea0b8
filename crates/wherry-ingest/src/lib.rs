//! Wherry's ingest: partner extracts into the store, losing nothing.
//!
//! A [`manifest::Manifest`] says what a partner sends and under which data
//! sharing agreement. [`ingest`] reads an extract, validates every row with
//! the core rules and the manifest's types, normalises it, and in one
//! transaction stores a new record version only where a row changed, marks
//! records absent from a full extract as withdrawn, and quarantines every row
//! it cannot take with its line, field and reason.
//!
//! Invariant: every row is stored, unchanged, or quarantined: rows =
//! stored + updated + unchanged + quarantined. Invariant: an extract commits
//! whole or not at all; loading the same file again changes nothing.
//!
//! ```
//! let problems = wherry_ingest::Manifest::parse("[source]\nid = \"x\"\n").unwrap_err();
//! assert!(problems[0].to_string().contains("missing field"));
//! ```

pub mod event;
pub mod fhir;
pub mod manifest;
pub mod read;
pub mod text;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use wherry_core::Date;
use wherry_store::{Event, ExtractCounts, NewVersion, Quarantined, Store, Write};

pub use manifest::Manifest;

/// Why an extract could not be loaded (the store is untouched).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read (the reason is in the message, once,
    /// not repeated as a source).
    #[error("cannot read {file}: {}", wherry_core::error::os_reason(.reason))]
    Io {
        /// The file.
        file: String,
        /// Why.
        reason: std::io::Error,
    },
    /// Bytes that are not UTF-8.
    #[error(
        "{file} line {line}: not UTF-8; the manifest says the partner sends UTF-8 (convert the file, or correct the manifest)"
    )]
    Encoding {
        /// The file.
        file: String,
        /// The line.
        line: u64,
    },
    /// A line too long to be a record.
    #[error("{file} line {line}: {bytes} bytes long, over the 1 MiB a line may be")]
    LineTooLong {
        /// The file.
        file: String,
        /// The line.
        line: u64,
        /// Its length.
        bytes: usize,
    },
    /// No content.
    #[error("{file}: the file is empty")]
    Empty {
        /// The file.
        file: String,
    },
    /// An events file whose rows say they are another source's.
    #[error(
        "{file} line {line}: this events file is {found}'s, not {expected}'s; ingest it with {found}'s extract and manifest (nothing was stored)"
    )]
    EventsOfAnotherSource {
        /// The file.
        file: String,
        /// The first row naming another source.
        line: u64,
        /// The source it names.
        found: String,
        /// The source being ingested.
        expected: String,
    },
    /// Columns the manifest names are not in the header.
    #[error("{file} line 1: missing columns the manifest maps: {}", .columns.join(", "))]
    MissingColumns {
        /// The file.
        file: String,
        /// The missing columns.
        columns: Vec<String>,
    },
    /// The file cannot be parsed at all.
    #[error("{file} line {line}: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// The line.
        line: u64,
        /// Why.
        reason: String,
    },
    /// The manifest has problems.
    #[error("{file}: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Manifest {
        /// The manifest file.
        file: String,
        /// Every problem.
        problems: Vec<manifest::Problem>,
    },
    /// The store said no.
    #[error(transparent)]
    Store(#[from] wherry_store::Error),
    /// The reading task stopped (a bug: it should not panic).
    #[error("reading the extract stopped: {0}")]
    Stopped(String),
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The source.
    pub source: String,
    /// The file.
    pub file: String,
    /// Rows read, and what became of them.
    #[serde(flatten)]
    pub counts: ExtractCounts,
    /// Contact events stored (with `--events`).
    pub events: i64,
    /// Contact event rows quarantined.
    pub events_quarantined: i64,
    /// This exact file had been loaded before: nothing was changed.
    pub already_loaded: bool,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    wherry_core::clock::hex(&Sha256::digest(bytes))
}

/// The manifest `source` was last ingested under, as the store keeps it
/// (`None` when no such source is registered).
pub async fn stored_manifest(store: &Store, source: &str) -> Result<Option<Manifest>, Error> {
    let Some(row) = store.sources().await?.into_iter().find(|r| r.id == source) else {
        return Ok(None);
    };
    serde_json::from_str(&row.manifest).map(Some).map_err(|e| {
        Error::Store(wherry_store::Error::Corrupt {
            table: "sources",
            detail: format!("{source}'s manifest: {e}"),
        })
    })
}

/// Reads and checks a manifest file.
pub fn load_manifest(path: &Path) -> Result<(Manifest, String), Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|reason| Error::Io {
        file: file.clone(),
        reason,
    })?;
    let m = Manifest::parse(&text).map_err(|problems| Error::Manifest { file, problems })?;
    Ok((m, text))
}

/// Loads `path` (an extract of `m`) and, optionally, a contact events file,
/// into `store` in one transaction. `by` is who loads it; `today` bounds
/// dates of birth.
pub async fn ingest(
    store: &Store,
    m: &Manifest,
    path: &Path,
    events: Option<&Path>,
    by: &str,
    today: Date,
) -> Result<Report, Error> {
    ingest_with(store, m, path, events, by, today, &|_, _| {}).await
}

/// Registers a source and its agreement without an extract (a service
/// whose agreement governs what it sends by other routes, such as the
/// sensor service's `tec_sensors`); an extract ingested later updates it.
pub async fn register(store: &Store, m: &Manifest) -> Result<(), Error> {
    let mut tx = store.begin().await?;
    let manifest_json = serde_json::to_string(m).expect("manifests serialise");
    tx.upsert_source(
        &m.source.id,
        &m.source.partner,
        &m.source.dataset,
        &manifest_json,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`ingest`], telling `progress` the bytes of the extract handled so far
/// and in all.
///
/// The extract is read in chunks while earlier chunks are written, inside
/// the one transaction: reading and validating on every core overlaps the
/// database's writing, and only a few chunks are held at a time.
pub async fn ingest_with(
    store: &Store,
    m: &Manifest,
    path: &Path,
    events: Option<&Path>,
    by: &str,
    today: Date,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Report, Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|reason| Error::Io {
        file: file.clone(),
        reason,
    })?;
    let (sha, text) = read::hash_and_text(path, bytes)?;
    let total = text.len() as u64;
    let event_rows = match events {
        Some(p) => Some(read_events(p, today, &m.source.id)?),
        None => None,
    };
    let name = path
        .file_name()
        .map_or(file.clone(), |n| n.to_string_lossy().into_owned());
    let mut report = Report {
        source: m.source.id.clone(),
        file: name.clone(),
        counts: ExtractCounts::default(),
        events: 0,
        events_quarantined: 0,
        already_loaded: false,
    };

    // Chunks are read and validated on a blocking thread (and rayon's)
    // while this task writes the ones before; two wait at most.
    let (sender, mut chunks) = tokio::sync::mpsc::channel::<(read::Read, usize)>(2);
    let reader = {
        let (m, path, text) = (m.clone(), path.to_path_buf(), Arc::new(text));
        tokio::task::spawn_blocking(move || {
            read::read_chunks(&m, &path, &text, today, &mut |chunk, at| {
                sender.blocking_send((chunk, at)).is_ok()
            })
        })
    };

    let mut tx = store.begin().await?;
    let manifest_json = serde_json::to_string(m).expect("manifests serialise");
    tx.upsert_source(
        &m.source.id,
        &m.source.partner,
        &m.source.dataset,
        &manifest_json,
    )
    .await?;
    let already_loaded = tx.seen_file(&m.source.id, &sha).await?;
    let kind = match m.source.extract {
        manifest::ExtractKind::Full => "full",
        manifest::ExtractKind::Delta => "delta",
    };
    let (extract, current) = if already_loaded {
        (0, HashMap::new())
    } else {
        let extract = tx.new_extract(&m.source.id, &name, &sha, kind, by).await?;
        tx.bump_generation().await?;
        (extract, tx.current(&m.source.id).await?)
    };
    let mut seen: HashSet<String> = HashSet::new();
    while let Some((chunk, at)) = chunks.recv().await {
        progress(at as u64, total);
        report.counts.rows += chunk.rows as i64;
        if already_loaded {
            // Nothing is written; the counts still add up to the rows read.
            report.counts.unchanged += chunk.valid.len() as i64;
            report.counts.quarantined += chunk.quarantined.len() as i64;
            continue;
        }
        let mut quarantined = chunk.quarantined;
        let mut versions = Vec::with_capacity(chunk.valid.len());
        for row in chunk.valid {
            if !seen.insert(row.record_id.clone()) {
                quarantined.push(Quarantined {
                    line: row.line as i64,
                    field: Some("record_id".into()),
                    reason: "duplicate_record_id: this record id is earlier in the same file"
                        .into(),
                    raw: row.raw,
                });
                continue;
            }
            let version = match Write::of(current.get(&row.record_id), &row.hash) {
                (Write::Stored, v) => {
                    report.counts.stored += 1;
                    v
                }
                (Write::Unchanged, _) => {
                    report.counts.unchanged += 1;
                    continue;
                }
                (Write::Updated, v) => {
                    report.counts.updated += 1;
                    v
                }
            };
            versions.push(NewVersion {
                record_id: row.record_id,
                version,
                row_hash: row.hash,
                fields: row.fields_json,
                attributes: row.attributes_json,
                raw: row.raw,
            });
        }
        report.counts.quarantined += quarantined.len() as i64;
        tx.write_versions(extract, &m.source.id, &versions).await?;
        tx.quarantine(extract, &m.source.id, &name, &quarantined)
            .await?;
    }
    // A fault of the whole file ends reading before any chunk: the
    // transaction is dropped, and with it everything above.
    reader.await.map_err(|e| Error::Stopped(e.to_string()))??;
    if report.counts.rows == 0 {
        return Err(Error::Empty { file });
    }
    if already_loaded {
        report.already_loaded = true;
        return Ok(report);
    }
    if m.source.extract == manifest::ExtractKind::Full {
        let gone: Vec<String> = current
            .iter()
            .filter(|(id, state)| !state.withdrawn && !seen.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        report.counts.withdrawn = gone.len() as i64;
        tx.withdraw(&m.source.id, &gone).await?;
    }
    if let Some((read, mut bad, events_file)) = event_rows {
        // An event of a record the source does not hold is quarantined, not
        // filed under a record that is not there.
        let held: HashSet<String> = if already_loaded {
            tx.current(&m.source.id).await?.into_keys().collect()
        } else {
            current
                .keys()
                .cloned()
                .chain(seen.iter().cloned())
                .collect()
        };
        let mut events = Vec::with_capacity(read.len());
        for (line, raw, e) in read {
            if held.contains(&e.record_id) {
                events.push(e);
            } else {
                bad.push(Quarantined {
                    line,
                    field: Some("record_id".into()),
                    reason: "unknown_record: the source holds no valid record with this id".into(),
                    raw,
                });
            }
        }
        report.events = events.len() as i64;
        report.events_quarantined = bad.len() as i64;
        tx.events(extract, &m.source.id, &events).await?;
        tx.quarantine(extract, &m.source.id, &events_file, &bad)
            .await?;
    }
    let counts = report.counts;
    tx.finish_extract(extract, &counts).await?;
    tx.commit().await?;
    store.analyze().await?;
    Ok(report)
}

/// An event read, with its line and the row as sent.
type ReadEvent = (i64, String, Event);

/// Reads a contact events file of `source`:
/// `source,record_id,date,service,contact_type,practitioner` (a file whose
/// `source` column names another source is refused whole).
fn read_events(
    path: &Path,
    today: Date,
    source: &str,
) -> Result<(Vec<ReadEvent>, Vec<Quarantined>, String), Error> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|reason| Error::Io {
        file: file.clone(),
        reason,
    })?;
    let text = read::text_of(path, bytes)?;
    let (mut rdr, header) = read::csv_reader(&file, &text)?;
    let need = [
        "record_id",
        "date",
        "service",
        "contact_type",
        "practitioner",
    ];
    let col: BTreeMap<&str, usize> = need
        .iter()
        .filter_map(|n| header.iter().position(|h| h == n).map(|i| (*n, i)))
        .collect();
    let missing: Vec<String> = need
        .iter()
        .filter(|n| !col.contains_key(*n))
        .map(|n| n.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            file,
            columns: missing,
        });
    }
    let team_col = header.iter().position(|h| h == "team");
    let team_phone_col = header.iter().position(|h| h == "team_phone");
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for rec in rdr.records() {
        // A row the CSV reader cannot take is quarantined, as in extracts.
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line()) as i64;
                let raw = e
                    .position()
                    .and_then(|p| text.get(p.byte() as usize..))
                    .and_then(|t| t.lines().next())
                    .unwrap_or("");
                bad.push(Quarantined {
                    line,
                    field: None,
                    reason: format!("malformed_csv: {e}"),
                    raw: raw.to_string(),
                });
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line()) as i64;
        let raw =
            serde_json::to_string(&rec.iter().collect::<Vec<_>>()).expect("strings serialise");
        if rec.len() != header.len() {
            bad.push(Quarantined {
                line,
                field: None,
                reason: format!(
                    "missing_column: expected {} fields, found {}",
                    header.len(),
                    rec.len()
                ),
                raw,
            });
            continue;
        }
        if let Some(i) = header.iter().position(|h| h == "source") {
            let named = rec[i].trim();
            if !named.is_empty() && named != source {
                return Err(Error::EventsOfAnotherSource {
                    file,
                    line: line as u64,
                    found: named.to_string(),
                    expected: source.to_string(),
                });
            }
        }
        let sent = event::SentEvent {
            record_id: &rec[col["record_id"]],
            date: &rec[col["date"]],
            service: &rec[col["service"]],
            contact_type: &rec[col["contact_type"]],
            practitioner: &rec[col["practitioner"]],
            // Optional columns: a partner that shares its teams sends them.
            team: team_col.map_or("", |i| &rec[i]),
            team_phone: team_phone_col.map_or("", |i| &rec[i]),
        };
        match event::check(&sent, today) {
            Ok(e) => good.push((line, raw, e)),
            Err(p) => bad.push(Quarantined {
                line,
                field: Some(p.field.into()),
                reason: p.reason,
                raw,
            }),
        }
    }
    let name = path
        .file_name()
        .map_or(file, |n| n.to_string_lossy().into_owned());
    Ok((good, bad, name))
}
