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
    /// Every current (not withdrawn) record of `sources` linked to a
    /// person, in (source, record id) order, handed to `each` as read: a
    /// county is read `page` records at a time, so no more than a page's
    /// rows are held at once, all on one connection (one memory map and
    /// one page cache, however many pages). `each`'s error stops the
    /// reading.
    pub async fn each_linked_current<E: From<Error>>(
        &self,
        sources: &[String],
        page: usize,
        mut each: impl FnMut(LinkedRow) -> Result<(), E>,
    ) -> Result<(), E> {
        if sources.is_empty() {
            return Ok(());
        }
        let page = page.max(1);
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
        let limit = i64::try_from(page).unwrap_or(i64::MAX);
        let mut after = (String::new(), String::new());
        type Row = (String, String, String, String, String);
        dispatch!(&self.pool, p => {
            let mut conn = p.acquire().await.map_err(Error::from)?;
            loop {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(after.0.as_str())
                    .bind(after.1.as_str())
                    .bind(limit);
                for s in sources {
                    q = q.bind(s);
                }
                let rows: Vec<Row> = q.fetch_all(&mut *conn).await.map_err(Error::from)?;
                let full = rows.len() == page;
                for (person, source, record_id, fields, attributes) in rows {
                    after = (source.clone(), record_id.clone());
                    each(LinkedRow {
                        person,
                        source,
                        record_id,
                        fields,
                        attributes,
                    })?;
                }
                if !full {
                    break;
                }
            }
        });
        Ok(())
    }

    /// The contact events of `sources` on or after `since` (`YYYY-MM-DD`)
    /// whose record is current and linked to a person; of the contact
    /// types `types` only, when it names any (a report that needs a few
    /// kinds of contact reads only those).
    pub async fn linked_events(
        &self,
        sources: &[String],
        since: &str,
        types: &[&str],
    ) -> Result<Vec<LinkedEvent>, Error> {
        if sources.is_empty() {
            return Ok(Vec::new());
        }
        let of_types = if types.is_empty() {
            String::new()
        } else {
            format!(
                " AND e.contact_type IN ({})",
                marks(sources.len() + 2, sources.len() + types.len() + 1)
            )
        };
        let sql = format!(
            "SELECT l.person_id, e.source_id, e.event_date, e.service, e.contact_type,
                    e.practitioner
               FROM contact_events e
               JOIN records r ON r.source_id = e.source_id AND r.record_id = e.record_id
               JOIN person_links l ON l.source_id = e.source_id AND l.record_id = e.record_id
              WHERE r.withdrawn = 0 AND e.event_date >= $1 AND e.source_id IN ({}){of_types}",
            marks(2, sources.len() + 1)
        );
        type Row = (String, String, String, String, String, String);
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since);
            for s in sources {
                q = q.bind(s);
            }
            for t in types {
                q = q.bind(*t);
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

    /// Contacts of `source`'s current records (linked to a person when
    /// residents are counted) from `since` to before `until`
    /// (`YYYY-MM-DD`), counted in the database: per area
    /// (`by`: the record's postcode, its district, or none), service and
    /// month (`per_month`; otherwise over the whole span, with the
    /// distinct residents too). Counts only: no person leaves the store.
    pub async fn event_counts(
        &self,
        source: &str,
        since: &str,
        until: &str,
        by: AreaBy,
        per_month: bool,
    ) -> Result<Vec<EventCount>, Error> {
        let postgres = matches!(self.pool, crate::Pool::Postgres(_));
        let postcode = if postgres {
            "(v.fields::json ->> 'postcode')"
        } else {
            "json_extract(v.fields, '$.postcode')"
        };
        let area = match by {
            AreaBy::Postcode => postcode.to_string(),
            AreaBy::District if postgres => format!("split_part({postcode}, ' ', 1)"),
            AreaBy::District => format!("substr({postcode}, 1, instr({postcode} || ' ', ' ') - 1)"),
            AreaBy::None => "CAST(NULL AS TEXT)".to_string(),
        };
        let (month, residents) = if per_month {
            ("substr(e.event_date, 1, 7)", "CAST(0 AS BIGINT)")
        } else {
            ("''", "count(DISTINCT rp.person_id)")
        };
        // Counting residents needs each record's person; counting
        // contacts does not, and is spared a lookup per record.
        let (person, links) = if per_month {
            ("CAST(NULL AS TEXT)", "")
        } else {
            (
                "l.person_id",
                "JOIN person_links l ON l.source_id = r.source_id AND l.record_id = r.record_id",
            )
        };
        let sql = format!(
            "WITH rp AS MATERIALIZED (
                SELECT r.record_id, {person} AS person_id, {area} AS area
                  FROM records r
                  JOIN record_versions v ON v.source_id = r.source_id
                       AND v.record_id = r.record_id AND v.version = r.current_version
                  {links}
                 WHERE r.withdrawn = 0 AND r.source_id = $1)
             SELECT rp.area, e.service, {month} AS month, count(*), {residents}
               FROM contact_events e JOIN rp ON rp.record_id = e.record_id
              WHERE e.source_id = $1 AND e.event_date >= $2 AND e.event_date < $3
              GROUP BY 1, 2, 3"
        );
        type Row = (Option<String>, String, String, i64, i64);
        let rows: Vec<Row> = dispatch!(&self.pool, p => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(source)
                .bind(since)
                .bind(until)
                .persistent(false)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(area, service, month, contacts, residents)| EventCount {
                area: area.filter(|a| !a.is_empty()),
                service,
                month,
                contacts: contacts.max(0) as u64,
                residents: residents.max(0) as u64,
            })
            .collect())
    }
}

/// What contacts are counted by ([`Store::event_counts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaBy {
    /// The record's postcode.
    Postcode,
    /// The record's postcode district.
    District,
    /// No area.
    None,
}

/// Contacts counted in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCount {
    /// The area, where the record has one.
    pub area: Option<String>,
    /// The service.
    pub service: String,
    /// `YYYY-MM`, or empty when counted over the whole span.
    pub month: String,
    /// Contacts.
    pub contacts: u64,
    /// Distinct residents (over the whole span only; 0 per month).
    pub residents: u64,
}
