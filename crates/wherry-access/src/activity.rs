//! Service activity in aggregate: contacts per partner, service and month,
//! for those who plan services (an analyst lands here). Counts only, no
//! person; a source's contacts count only where its agreement lets the
//! caller's purpose see its events; counts under [`SMALL`] are suppressed,
//! so no one resident can be picked out of a small cell.

use serde::Serialize;

use crate::{Access, Caller, Error};

/// Counts below this (but above zero) are not shown.
pub const SMALL: i64 = 5;

/// One cell: a partner's service in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The source (partner extract) the contacts came from.
    pub source: String,
    /// The partner, as its agreement names it.
    pub partner: String,
    /// The service.
    pub service: String,
    /// `YYYY-MM`.
    pub month: String,
    /// Contacts, or `None` when suppressed (fewer than [`SMALL`]).
    pub contacts: Option<i64>,
}

/// What the page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Activity {
    /// The cells, newest month first.
    pub cells: Vec<Cell>,
    /// Sources whose agreements do not share contact events for the
    /// caller's purpose (left out, and named so the reader knows).
    pub withheld: Vec<String>,
}

impl Access {
    /// Contacts per source, service and month as `caller`'s purpose may
    /// count them (see the module docs); audited (`activity_view`).
    pub async fn activity(&self, caller: &Caller, request: &str) -> Result<Activity, Error> {
        let agreements = self.agreements().await?;
        let rows = self.store().contacts_by_month().await?;
        let mut out = Activity::default();
        for (source, service, month, n) in rows {
            let terms = agreements.get(&source);
            let shared = terms
                .and_then(|t| t.agreement.grant(caller.purpose))
                .is_some_and(|g| g.events);
            if !shared {
                if !out.withheld.contains(&source) {
                    out.withheld.push(source);
                }
                continue;
            }
            out.cells.push(Cell {
                partner: terms.map(|t| t.partner.clone()).unwrap_or_default(),
                source,
                service,
                month,
                contacts: (n >= SMALL).then_some(n),
            });
        }
        self.record(vec![caller.entry("activity_view", None, request)])
            .await?;
        Ok(out)
    }
}
