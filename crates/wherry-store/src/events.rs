//! Contact events: a partner's record of a contact with one of its records
//! (date, service, contact type, practitioner, and the team with its
//! telephone number where the partner shares them), loaded with an extract
//! or pushed one at a time.

use serde::Serialize;

use crate::copy::copy_lines;
use crate::{BATCH, Error, SMALL, Store, Tx, TxInner};

/// One contact event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The partner's record id.
    pub record_id: String,
    /// ISO date.
    pub date: String,
    /// Service.
    pub service: String,
    /// Contact type.
    pub contact_type: String,
    /// Practitioner.
    pub practitioner: String,
    /// The team, where the partner shares it.
    pub team: Option<String>,
    /// The team's telephone number, where the partner shares it.
    pub team_phone: Option<String>,
}

/// One contact event of one of a person's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactEvent {
    /// The record's source.
    pub source: String,
    /// The record's id.
    pub record_id: String,
    /// ISO date.
    pub date: String,
    /// Service.
    pub service: String,
    /// Contact type.
    pub contact_type: String,
    /// Practitioner.
    pub practitioner: String,
    /// The team, where the partner shares it.
    pub team: Option<String>,
    /// The team's telephone number, where the partner shares it.
    pub team_phone: Option<String>,
}

impl Store {
    /// The contact events of every record linked to a person, newest first.
    pub async fn person_events(&self, person: &str) -> Result<Vec<ContactEvent>, Error> {
        let sql = "SELECT e.source_id AS source, e.record_id, e.event_date AS date, e.service, e.contact_type,
                          e.practitioner, e.team, e.team_phone
                   FROM person_links l
                   JOIN contact_events e ON e.source_id = l.source_id AND e.record_id = l.record_id
                   WHERE l.person_id = $1
                   ORDER BY e.event_date DESC, e.source_id, e.record_id, e.id";
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> =
            dispatch!(&self.pool, p => sqlx::query_as(sql).bind(person).fetch_all(p).await)?;
        Ok(rows
            .into_iter()
            .map(|r| ContactEvent {
                source: r.0,
                record_id: r.1,
                date: r.2,
                service: r.3,
                contact_type: r.4,
                practitioner: r.5,
                team: r.6.filter(|t| !t.is_empty()),
                team_phone: r.7.filter(|t| !t.is_empty()),
            })
            .collect())
    }
}

impl Store {
    /// Contacts per source, service and month (`YYYY-MM`), newest month
    /// first: counts only, no person.
    pub async fn contacts_by_month(&self) -> Result<Vec<(String, String, String, i64)>, Error> {
        let sql = "SELECT source_id, service, substr(event_date, 1, 7) AS month, COUNT(*)
                   FROM contact_events
                   GROUP BY source_id, service, substr(event_date, 1, 7)
                   ORDER BY month DESC, source_id, service";
        Ok(dispatch!(&self.pool, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }
}

impl Tx {
    /// Stores contact events.
    pub async fn events(
        &mut self,
        extract: i64,
        source: &str,
        rows: &[Event],
    ) -> Result<(), Error> {
        // COPY for bulk; a few rows (a push) by INSERT, which needs one
        // round trip where COPY's exchange waits on delayed
        // acknowledgements (~90 ms a push on PostgreSQL).
        if let (TxInner::Postgres(t), true) = (&mut self.inner, rows.len() > SMALL) {
            return copy_events(t, extract, source, rows).await;
        }
        for chunk in rows.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO contact_events (extract_id, source_id, record_id, event_date, service, contact_type, practitioner, team, team_phone) VALUES ",
            );
            sql.push_str(&self.tuples(chunk.len(), 9, ""));
            dispatch_tx!(&mut self.inner, t => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
                for e in chunk {
                    q = q.bind(extract).bind(source).bind(&e.record_id).bind(&e.date).bind(&e.service).bind(&e.contact_type).bind(&e.practitioner).bind(&e.team).bind(&e.team_phone);
                }
                q.execute(&mut **t).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}

/// PostgreSQL: contact events by COPY.
async fn copy_events(
    t: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    extract: i64,
    source: &str,
    rows: &[Event],
) -> Result<(), Error> {
    let ext = extract.to_string();
    copy_lines(
        t,
        // Every field is quoted, so a team not shared is stored as '' here
        // and NULL by INSERT: read back, both are none.
        "COPY contact_events (extract_id, source_id, record_id, event_date, service, contact_type, practitioner, team, team_phone) FROM STDIN WITH (FORMAT csv)",
        rows.iter().map(|e| {
            vec![ext.as_str(), source, e.record_id.as_str(), e.date.as_str(), e.service.as_str(), e.contact_type.as_str(), e.practitioner.as_str(),
                 e.team.as_deref().unwrap_or(""), e.team_phone.as_deref().unwrap_or("")]
        }),
    )
    .await
}
