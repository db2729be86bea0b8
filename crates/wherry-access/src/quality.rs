//! The data team's views: each extract as loaded, the rows it quarantined
//! (line, field and reason, to send back to the partner), and per source
//! the figures a steward watches. Steward only, each view audited. The
//! quarantine lists no row as sent: a line number is enough for the
//! partner to find it, and the hub need show no one the rest.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use wherry_core::Role;
use wherry_store::{ExtractRow, QuarantinedRow, ReviewStatus};

use crate::{Access, Caller, Error};

/// Fields whose disagreement across sources the data-quality page counts.
pub const COMPARED: [&str; 4] = ["given_name", "family_name", "dob", "postcode"];

/// One source's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceFigures {
    /// The source.
    pub source: String,
    /// The partner, as its agreement names it.
    pub partner: String,
    /// Current records.
    pub records: i64,
    /// Rows quarantined, every extract.
    pub quarantined: i64,
    /// Records linked with another source's records.
    pub matched: i64,
    /// Open review items involving the source.
    pub review_backlog: usize,
    /// Of the matched records, those holding a name, date of birth or
    /// postcode another source's record of the same person holds
    /// differently.
    pub disagreeing: i64,
}

impl SourceFigures {
    /// `matched` over `records`, 0 to 1.
    pub fn match_rate(&self) -> f64 {
        ratio(self.matched, self.records)
    }

    /// `disagreeing` over `matched`, 0 to 1.
    pub fn disagreement_rate(&self) -> f64 {
        ratio(self.disagreeing, self.matched)
    }
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A held text value as compared for agreement; `None` when absent or empty.
fn normal(v: &serde_json::Value) -> Option<String> {
    v.as_str()
        .filter(|s| !s.trim().is_empty())
        .map(|_| crate::survivorship::agreement_key(v))
}

/// Per source, how many of its records (one row per record of a person
/// held by several sources: person, source, fields JSON) disagree with
/// another source's record of the same person on a [`COMPARED`] field.
pub fn disagreeing(rows: &[(String, String, String)]) -> BTreeMap<String, i64> {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    let mut start = 0;
    while start < rows.len() {
        let person = &rows[start].0;
        let end = rows[start..]
            .iter()
            .position(|r| &r.0 != person)
            .map_or(rows.len(), |n| start + n);
        let records: Vec<(&str, HashMap<&str, String>)> = rows[start..end]
            .iter()
            .map(|(_, source, fields)| {
                let v: serde_json::Value = serde_json::from_str(fields).unwrap_or_default();
                let values = COMPARED
                    .iter()
                    .filter_map(|f| normal(&v[*f]).map(|n| (*f, n)))
                    .collect();
                (source.as_str(), values)
            })
            .collect();
        for (i, (source, mine)) in records.iter().enumerate() {
            let differs = records.iter().enumerate().any(|(j, (other, theirs))| {
                j != i
                    && other != source
                    && mine
                        .iter()
                        .any(|(f, v)| theirs.get(f).is_some_and(|t| t != v))
            });
            if differs {
                *out.entry(source.to_string()).or_default() += 1;
            }
        }
        start = end;
    }
    out
}

impl Access {
    /// Every extract, newest first (steward; audited).
    pub async fn extracts(&self, caller: &Caller, request: &str) -> Result<Vec<ExtractRow>, Error> {
        caller.require(&[Role::Steward], "the extracts")?;
        let list = self.store().extracts().await?;
        self.record(vec![caller.entry("extracts_view", None, request)])
            .await?;
        Ok(list)
    }

    /// One extract and the rows it quarantined, each field named by the
    /// partner's own column (steward; audited with the source, since a
    /// reason may quote a value).
    pub async fn quarantine(
        &self,
        caller: &Caller,
        extract: i64,
        request: &str,
    ) -> Result<Option<(ExtractRow, Vec<QuarantinedRow>)>, Error> {
        caller.require(&[Role::Steward], "the quarantine")?;
        let Some(e) = self.store().extract(extract).await? else {
            return Ok(None);
        };
        // The field as the partner names it: its own column, from the
        // manifest the extract was loaded under (read afresh: the source
        // may be new since the agreements were last cached).
        let agreements = crate::Agreements::load(self.store()).await?;
        let columns = agreements.get(&e.source).map(|t| &t.columns);
        let rows = self
            .store()
            .quarantined_in(extract)
            .await?
            .into_iter()
            .map(|mut q| {
                if let Some(c) = q.field.as_ref().and_then(|f| columns?.get(f)) {
                    q.field = Some(c.clone());
                }
                q
            })
            .collect();
        let sources = serde_json::to_string(&[&e.source]).expect("strings serialise");
        self.record(vec![crate::AuditEntry {
            sources,
            ..caller.entry("quarantine_view", None, request)
        }])
        .await?;
        Ok(Some((e, rows)))
    }

    /// Per source, the data team's figures (steward; audited).
    pub async fn data_quality(
        &self,
        caller: &Caller,
        request: &str,
    ) -> Result<Vec<SourceFigures>, Error> {
        caller.require(&[Role::Steward], "data quality")?;
        let agreements = self.agreements().await?;
        let store = self.store();
        let quality = store.source_quality().await?;
        let open = store.review_items(Some(ReviewStatus::Open)).await?;
        let disagree = disagreeing(&store.shared_persons_fields().await?);
        let mut sources: BTreeSet<String> = quality.keys().cloned().collect();
        sources.extend(agreements.iter().map(|(s, _)| s.clone()));
        let out = sources
            .into_iter()
            .map(|s| {
                let q = quality.get(&s).cloned().unwrap_or_default();
                SourceFigures {
                    partner: agreements
                        .get(&s)
                        .map(|t| t.partner.clone())
                        .unwrap_or_default(),
                    records: q.records,
                    quarantined: q.quarantined,
                    matched: q.matched,
                    review_backlog: open
                        .iter()
                        .filter(|i| i.left.source == s || i.right.source == s)
                        .count(),
                    disagreeing: disagree.get(&s).copied().unwrap_or(0),
                    source: s,
                }
            })
            .collect();
        self.record(vec![caller.entry("data_quality_view", None, request)])
            .await?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(person: &str, source: &str, fields: &str) -> (String, String, String) {
        (person.into(), source.into(), fields.into())
    }

    #[test]
    fn a_record_disagrees_when_another_source_holds_a_compared_field_differently() {
        let rows = [
            row(
                "P1",
                "gp",
                r#"{"family_name":"O'Brien","dob":"1950-01-01"}"#,
            ),
            row(
                "P1",
                "sc",
                r#"{"family_name":"Richardson","dob":"1950-01-01"}"#,
            ),
            row("P1", "fire", r#"{"family_name":"richardson ","phone":"1"}"#),
            row("P2", "gp", r#"{"given_name":"Ann"}"#),
            row("P2", "sc", r#"{"given_name":"ANN","postcode":"NR1 1AA"}"#),
        ];
        let d = disagreeing(&rows);
        // P1: every record differs from another's family name (the GP
        // from both; social care and fire from the GP). P2 agrees.
        assert_eq!(d.get("gp"), Some(&1));
        assert_eq!(d.get("sc"), Some(&1));
        assert_eq!(d.get("fire"), Some(&1));
        assert_eq!(disagreeing(&rows[3..]).len(), 0, "case and spacing agree");
    }
}
