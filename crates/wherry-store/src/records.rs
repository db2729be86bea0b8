//! Partners' records: each a chain of versions (canonical fields,
//! attributes, the row as sent), a pointer to the current one with the
//! row's hash (so an unchanged row is told apart without reading fields),
//! and a withdrawn mark for records a full extract no longer holds.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use wherry_core::clock::now;

use crate::copy::{Cell, copy_binary};
use crate::{BATCH, Error, Pool, SMALL, Store, Tx, TxInner};

/// A record's state, as ingest and the real-time matcher read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordState {
    /// Its current version.
    pub version: i64,
    /// The hash of the row that made it.
    pub row_hash: String,
    /// Whether its partner no longer holds it.
    pub withdrawn: bool,
}

/// What a row does to its record: the one rule, for extracts and pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Write {
    /// A new record: version 1.
    Stored,
    /// A changed (or withdrawn and sent again) record: a new version.
    Updated,
    /// The same as the current version: nothing to store.
    Unchanged,
}

impl Write {
    /// What a row with `row_hash` does to a record in `current` state (or
    /// none), and the version the record is then at.
    pub fn of(current: Option<&RecordState>, row_hash: &str) -> (Self, i64) {
        match current {
            None => (Self::Stored, 1),
            Some(s) if !s.withdrawn && s.row_hash == row_hash => (Self::Unchanged, s.version),
            Some(s) => (Self::Updated, s.version + 1),
        }
    }
}

/// One of a source's records, for listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSummary {
    /// Its id within the source.
    pub record_id: String,
    /// Its current version.
    pub version: i64,
    /// Whether it is withdrawn.
    pub withdrawn: bool,
}

/// One version's canonical fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The version number, from 1.
    pub version: i64,
    /// Canonical fields, JSON.
    pub fields: String,
}

/// A record's current fields and attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields {
    /// Canonical fields, JSON.
    pub fields: String,
    /// Typed attributes, JSON.
    pub attributes: String,
}

impl Store {
    /// A source's records, by id.
    pub async fn records(&self, source: &str) -> Result<Vec<RecordSummary>, Error> {
        let sql = "SELECT record_id, current_version, withdrawn FROM records WHERE source_id = $1 ORDER BY record_id";
        let rows: Vec<(String, i64, i64)> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(source).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|(record_id, version, w)| RecordSummary {
                record_id,
                version,
                withdrawn: w != 0,
            })
            .collect())
    }

    /// Every version of one record, oldest first.
    pub async fn versions(&self, source: &str, record_id: &str) -> Result<Vec<Version>, Error> {
        let sql = "SELECT version, fields FROM record_versions WHERE source_id = $1 AND record_id = $2 ORDER BY version";
        let rows: Vec<(i64, String)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(version, fields)| Version { version, fields })
            .collect())
    }

    /// One record's current fields and attributes, if it is held.
    pub async fn current_record(
        &self,
        source: &str,
        record_id: &str,
    ) -> Result<Option<RecordFields>, Error> {
        let sql = "SELECT v.fields, v.attributes FROM records r
                   JOIN record_versions v ON v.source_id = r.source_id AND v.record_id = r.record_id
                        AND v.version = r.current_version
                   WHERE r.source_id = $1 AND r.record_id = $2";
        let row: Option<(String, String)> = dispatch!(&self.pool, p => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_optional(p).await
        })?;
        Ok(row.map(|(fields, attributes)| RecordFields { fields, attributes }))
    }

    /// Every current (not withdrawn) record with its canonical fields and
    /// the person it is linked to, in no particular order.
    ///
    /// On SQLite the rows come in JSON batches of 8,192 built by SQLite
    /// itself: its driver hands rows over one at a time between threads,
    /// which made reading a million records take 13 s instead of 4.
    pub async fn current_records(&self) -> Result<Vec<CurrentRecord>, Error> {
        const FROM: &str = "FROM records r JOIN record_versions v
                   ON v.source_id = r.source_id AND v.record_id = r.record_id AND v.version = r.current_version
                   LEFT JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id
                   WHERE r.withdrawn = 0";
        let bad = |e: serde_json::Error| Error::Corrupt {
            table: "record_versions",
            detail: format!("a record's fields: {e}"),
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                let sql = format!(
                    "SELECT json_group_array(json_array(r.source_id, r.record_id, json(v.fields), l.person_id)) {FROM}
                     GROUP BY r.rowid >> 13"
                );
                let batches: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .fetch_all(p)
                    .await?;
                // Parsed on every core.
                let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
                let per = batches.len().div_ceil(threads).max(1);
                let parsed: Vec<Result<Vec<CurrentRecord>, Error>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = batches
                        .chunks(per)
                        .map(|chunk| {
                            scope.spawn(move || {
                                let mut out = Vec::new();
                                for (json,) in chunk {
                                    // Each element is [source, record id, fields, person].
                                    let rows: Vec<CurrentRecord> =
                                        serde_json::from_str(json).map_err(bad)?;
                                    out.extend(rows);
                                }
                                Ok(out)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("parsing does not panic"))
                        .collect()
                });
                let mut out = Vec::new();
                for part in parsed {
                    out.extend(part?);
                }
                Ok(out)
            }
            Pool::Postgres(p) => {
                let sql = format!("SELECT r.source_id, r.record_id, v.fields, l.person_id {FROM}");
                let rows: Vec<(String, String, String, Option<String>)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .fetch_all(p)
                        .await?;
                rows.into_iter()
                    .map(|(source, record_id, fields, person)| {
                        let mut de = serde_json::Deserializer::from_str(&fields);
                        let values = canonical_values(&mut de).map_err(bad)?;
                        Ok(CurrentRecord {
                            source,
                            record_id,
                            values,
                            person,
                        })
                    })
                    .collect()
            }
        }
    }
}

impl Tx {
    /// A source's records: record id → state.
    pub async fn current(&mut self, source: &str) -> Result<HashMap<String, RecordState>, Error> {
        let sql = "SELECT record_id, current_version, row_hash, withdrawn FROM records WHERE source_id = $1";
        let rows: Vec<(String, i64, String, i64)> = dispatch_tx!(&mut self.inner, t => sqlx::query_as(sql).bind(source).fetch_all(&mut **t).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, version, row_hash, w)| {
                (
                    id,
                    RecordState {
                        version,
                        row_hash,
                        withdrawn: w != 0,
                    },
                )
            })
            .collect())
    }

    /// One record's state, if it is held.
    pub async fn record_state(
        &mut self,
        source: &str,
        record_id: &str,
    ) -> Result<Option<RecordState>, Error> {
        let sql = "SELECT current_version, row_hash, withdrawn FROM records WHERE source_id = $1 AND record_id = $2";
        let row: Option<(i64, String, i64)> = dispatch_tx!(&mut self.inner, t => {
            sqlx::query_as(sql).bind(source).bind(record_id).fetch_optional(&mut **t).await
        })?;
        Ok(row.map(|(version, row_hash, w)| RecordState {
            version,
            row_hash,
            withdrawn: w != 0,
        }))
    }

    /// Stores new versions and points each record at its newest.
    pub async fn write_versions(
        &mut self,
        extract: i64,
        source: &str,
        rows: &[NewVersion],
    ) -> Result<(), Error> {
        // COPY for bulk; a few rows (a push) by INSERT, which needs one
        // round trip where COPY's exchange waits on delayed
        // acknowledgements (~90 ms a push on PostgreSQL).
        if let (TxInner::Postgres(t), true) = (&mut self.inner, rows.len() > SMALL) {
            return copy_versions(t, extract, source, rows).await;
        }
        let at = now();
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO record_versions (source_id, record_id, version, extract_id, fields, attributes, raw, created_at) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 8, ""));
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(source).bind(&r.record_id).bind(r.version).bind(extract).bind(&r.fields).bind(&r.attributes).bind(&r.raw).bind(&at);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
            let mut sql = String::from(
                "INSERT INTO records (source_id, record_id, current_version, row_hash, withdrawn) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 4, ",0"));
            sql.push_str(
                " ON CONFLICT (source_id, record_id) DO UPDATE SET current_version = excluded.current_version,
                  row_hash = excluded.row_hash, withdrawn = 0",
            );
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for r in chunk {
                    q = q.bind(source).bind(&r.record_id).bind(r.version).bind(&r.row_hash);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Marks records withdrawn (kept, not deleted).
    pub async fn withdraw(&mut self, source: &str, ids: &[String]) -> Result<(), Error> {
        for id in ids {
            dispatch_tx!(&mut self.inner, t => {
                sqlx::query("UPDATE records SET withdrawn = 1 WHERE source_id = $1 AND record_id = $2")
                    .bind(source)
                    .bind(id)
                    .execute(&mut **t)
                    .await.map(|_| ())
            })?;
        }
        Ok(())
    }
}

/// A current record, as linkage reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CurrentRecord {
    /// Its source.
    pub source: String,
    /// Its id within the source.
    pub record_id: String,
    /// Its canonical fields' values, in the order of
    /// `wherry_core::Field::NAMES[2..]` (`None` where absent).
    #[serde(deserialize_with = "canonical_values")]
    pub values: Vec<Option<String>>,
    /// The person it is linked to, if any.
    pub person: Option<String>,
}

/// A record's canonical fields (a JSON object) as values in field order,
/// without a string made for each field's name.
fn canonical_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Option<String>>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<Option<String>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object of canonical fields")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            let names = &wherry_core::Field::NAMES[2..];
            let mut values = vec![None; names.len()];
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match names.iter().position(|n| *n == key) {
                    Some(i) => values[i] = Some(map.next_value()?),
                    None => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(values)
        }
    }
    d.deserialize_map(Visitor)
}

/// One new record version to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The record's id within its source.
    pub record_id: String,
    /// The version number.
    pub version: i64,
    /// Hash of the row's content, to tell unchanged rows.
    pub row_hash: String,
    /// Canonical fields, JSON.
    pub fields: String,
    /// Typed attributes, JSON.
    pub attributes: String,
    /// The row as sent, JSON.
    pub raw: String,
}

/// PostgreSQL: record versions by COPY, then the records' pointers by one
/// upsert from arrays.
async fn copy_versions(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    extract: i64,
    source: &str,
    rows: &[NewVersion],
) -> Result<(), Error> {
    let at = now();
    copy_binary(
        t,
        "COPY record_versions (source_id, record_id, version, extract_id, fields, attributes, raw, created_at) FROM STDIN WITH (FORMAT binary)",
        rows.iter().map(|r| {
            vec![
                Cell::Text(source),
                Cell::Text(&r.record_id),
                Cell::Int(r.version),
                Cell::Int(extract),
                Cell::Text(&r.fields),
                Cell::Text(&r.attributes),
                Cell::Text(&r.raw),
                Cell::Text(&at),
            ]
        }),
    )
    .await?;
    // The records' pointers in one statement, from arrays.
    let ids: Vec<&str> = rows.iter().map(|r| r.record_id.as_str()).collect();
    let numbers: Vec<i64> = rows.iter().map(|r| r.version).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.row_hash.as_str()).collect();
    sqlx::query(
        "INSERT INTO records (source_id, record_id, current_version, row_hash, withdrawn)
         SELECT $1, * , 0 FROM unnest($2::TEXT[], $3::BIGINT[], $4::TEXT[])
         ON CONFLICT (source_id, record_id) DO UPDATE SET current_version = excluded.current_version,
         row_hash = excluded.row_hash, withdrawn = 0",
    )
    .bind(source)
    .bind(&ids)
    .bind(&numbers)
    .bind(&hashes)
    .execute(&mut **t)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_a_new_version_only_when_it_changed_or_came_back() {
        let state = |withdrawn| RecordState {
            version: 3,
            row_hash: "h".into(),
            withdrawn,
        };
        assert_eq!(Write::of(None, "h"), (Write::Stored, 1));
        assert_eq!(Write::of(Some(&state(false)), "h"), (Write::Unchanged, 3));
        assert_eq!(Write::of(Some(&state(false)), "g"), (Write::Updated, 4));
        assert_eq!(Write::of(Some(&state(true)), "h"), (Write::Updated, 4));
    }
}
