//! Bulk reads for the insight reports: every current record linked to a
//! person, of the sources asked for, and their contact events since a
//! date. Personal data: read only through `wherry-access`, which cuts
//! each record to what the caller's purpose may see and audits the
//! residents a report shows.

use crate::{Error, Store};

/// A current record linked to a person, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedRow {
    /// The person.
    pub person: String,
    /// The source.
    pub source: String,
    /// The record's id in its source.
    pub record_id: String,
    /// Its canonical fields, JSON.
    pub fields: String,
    /// Its attributes, JSON.
    pub attributes: String,
}

/// A contact event of a record linked to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedEvent {
    /// The person.
    pub person: String,
    /// The source.
    pub source: String,
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// The service.
    pub service: String,
    /// The kind of contact.
    pub contact_type: String,
    /// Who made it (staff, not the resident; empty when not said).
    pub practitioner: String,
}

/// `$from, …, $to` (numbered parameters: few here).
fn marks(from: usize, to: usize) -> String {
    (from..=to)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// A page of the current (not withdrawn) records of `sources` linked
    /// to a person: up to `limit`, in (source, record id) order, after the
    /// record `after` (from the start without one). A county is read page
    /// by page, so that no more than a page's rows are held at once.
    pub async fn linked_current(
        &self,
        sources: &[String],
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<LinkedRow>, Error> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT l.person_id, r.source_id, r.record_id, v.fields, v.attributes
               FROM records r
               JOIN record_versions v ON v.source_id = r.source_id
                    AND v.record_id = r.record_id AND v.version = r.current_version
               JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id
              WHERE r.withdrawn = 0 AND (r.source_id, r.record_id) > ($1, $2)
                AND r.source_id IN ({})
              ORDER BY r.source_id, r.record_id
              LIMIT $3",
            marks(4, sources.len() + 3)
        );
        let (after_source, after_record) = after.unwrap_or(("", ""));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(String, String, String, String, String)> = dispatch!(&self.pool, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(after_source)
                .bind(after_record)
                .bind(limit);
            for s in sources {
                q = q.bind(s);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(person, source, record_id, fields, attributes)| LinkedRow {
                    person,
                    source,
                    record_id,
                    fields,
                    attributes,
                },
            )
            .collect())
    }

    /// The contact events of `sources` on or after `since` (`YYYY-MM-DD`)
    /// whose record is current and linked to a person.
    pub async fn linked_events(
        &self,
        sources: &[String],
        since: &str,
    ) -> Result<Vec<LinkedEvent>, Error> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT l.person_id, e.source_id, e.event_date, e.service, e.contact_type,
                    e.practitioner
               FROM contact_events e
               JOIN records r ON r.source_id = e.source_id AND r.record_id = e.record_id
               JOIN person_links l ON l.source_id = e.source_id AND l.record_id = e.record_id
              WHERE r.withdrawn = 0 AND e.event_date >= $1 AND e.source_id IN ({})",
            marks(2, sources.len() + 1)
        );
        type Row = (String, String, String, String, String, String);
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since);
            for s in sources {
                q = q.bind(s);
            }
            q.fetch_all(p).await
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(person, source, date, service, contact_type, practitioner)| LinkedEvent {
                    person,
                    source,
                    date,
                    service,
                    contact_type,
                    practitioner,
                },
            )
            .collect())
    }
}
