//! Reports over the whole county (the insight reports): every current
//! linked record of the sources whose agreements share with the caller's
//! purpose, each cut to what that purpose may see of it ([`crate::view`],
//! the same rule as the resident view), and their contact events where
//! the agreement shares events. Reading is not yet disclosing: a report
//! records each resident it shows, with the sources and fields shown
//! ([`Access::record_shown`]), before it is shown.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wherry_core::Role;

use crate::disclose::{json_strings, object};
use crate::{Access, Caller, Error, View};

/// A current record linked to a person, as the purpose may see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    /// The person.
    pub person: String,
    /// The source.
    pub source: String,
    /// The fields the purpose may see.
    pub fields: BTreeMap<String, Value>,
    /// The attributes the purpose may see.
    pub attributes: BTreeMap<String, Value>,
}

/// Which contact events a reading of the county brings with it: those on
/// or after `since` (`YYYY-MM-DD`), and of the contact types `types` only
/// when it names any (a million residents' years of contacts are
/// gigabytes; a report that needs a few kinds reads only those).
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    /// The first day.
    pub since: &'a str,
    /// The contact types, or every type when empty.
    pub types: &'a [&'a str],
}

impl<'a> Events<'a> {
    /// Every contact event from `since`.
    pub fn since(since: &'a str) -> Self {
        Self { since, types: &[] }
    }

    /// The contact events of `types` from `since`.
    pub fn of_types(since: &'a str, types: &'a [&'a str]) -> Self {
        Self { since, types }
    }
}

/// A contact event the purpose may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedEvent {
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

/// The county as a purpose may see it, but for its records, which are
/// handed over one at a time ([`Access::county`]).
#[derive(Debug, Clone, Default)]
pub struct County {
    /// What the purpose may see of each source that shares anything with
    /// it (a source not here shares nothing).
    pub views: BTreeMap<String, View>,
    /// The events since the date asked for.
    pub events: Vec<SharedEvent>,
}

/// How the county is read: as the purpose may see it, or pseudonymised.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Identified,
    Pseudonymised,
}

/// Records read from the store a page at a time.
pub const PAGE: usize = 20_000;

/// A resident a report showed: the sources and fields (attributes as
/// `attribute:NAME`) it showed of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    /// The person.
    pub person: String,
    /// The sources their shown data came from.
    pub sources: BTreeSet<String>,
    /// The fields shown.
    pub fields: BTreeSet<String>,
}

impl Access {
    /// The county as `caller`'s purpose may see it, for `what` (a report
    /// of identified residents, for `roles`), with the contact events
    /// `events` asks for; each record, cut to what the purpose
    /// may see, is handed to `record` as it is read (a page of the store
    /// at a time: a county of a million residents is never held whole).
    /// Refused to other roles and to those who see pseudonymised data only.
    pub async fn county(
        &self,
        caller: &Caller,
        roles: &[Role],
        what: &'static str,
        events: Events<'_>,
        record: impl FnMut(Shared),
    ) -> Result<County, Error> {
        self.county_in_pages(caller, roles, what, events, PAGE, record)
            .await
    }

    /// [`Access::county`], reading `page` records at a time.
    pub async fn county_in_pages(
        &self,
        caller: &Caller,
        roles: &[Role],
        what: &'static str,
        events: Events<'_>,
        page_size: usize,
        record: impl FnMut(Shared),
    ) -> Result<County, Error> {
        caller.require(roles, what)?;
        caller.require_identifying(what)?;
        self.read_county(caller, events, page_size, Mode::Identified, record)
            .await
    }

    /// The county for a report that publishes no one: aggregates, or a
    /// pseudonymised extract (for `what`, for `roles`). Each record is cut
    /// to what the purpose may see and then pseudonymised
    /// ([`crate::survivorship::pseudonymised`]: year of birth, sex,
    /// postcode district; attributes as the agreement grants them), so
    /// nothing that names, contacts or exactly dates a person reaches the
    /// report. The person id is the hub's internal id, for counting and
    /// keyed hashing only: a report must never show it. The reading is
    /// recorded in the audit log (`action`, no person) before anything is
    /// handed over.
    #[allow(clippy::too_many_arguments)]
    pub async fn county_pseudonymised(
        &self,
        caller: &Caller,
        roles: &[Role],
        what: &'static str,
        action: &str,
        events: Events<'_>,
        request: &str,
        record: impl FnMut(Shared),
    ) -> Result<County, Error> {
        caller.require(roles, what)?;
        self.record(vec![caller.entry(action, None, request)])
            .await?;
        self.read_county(caller, events, PAGE, Mode::Pseudonymised, record)
            .await
    }

    async fn read_county(
        &self,
        caller: &Caller,
        events: Events<'_>,
        page_size: usize,
        mode: Mode,
        mut record: impl FnMut(Shared),
    ) -> Result<County, Error> {
        let agreements = self.agreements().await?;
        let views: BTreeMap<String, View> = agreements
            .iter()
            .map(|(source, terms)| {
                (
                    source.clone(),
                    crate::view(&terms.agreement, caller.purpose),
                )
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let sources: Vec<String> = views.keys().cloned().collect();
        self.store()
            .each_linked_current(&sources, page_size, |row| {
                let Some(view) = views.get(&row.source) else {
                    return Ok::<_, Error>(());
                };
                let mut fields = view.fields_of(&object(&row.fields)?);
                if mode == Mode::Pseudonymised {
                    fields = crate::survivorship::pseudonymised(&fields);
                }
                record(Shared {
                    fields,
                    attributes: view.attributes_of(&object(&row.attributes)?),
                    person: row.person,
                    source: row.source,
                });
                Ok(())
            })
            .await?;
        let with_events: Vec<String> = views
            .iter()
            .filter(|(_, v)| v.events)
            .map(|(s, _)| s.clone())
            .collect();
        let events = self
            .store()
            .linked_events(&with_events, events.since, events.types)
            .await?
            .into_iter()
            .map(|e| SharedEvent {
                person: e.person,
                source: e.source,
                date: e.date,
                service: e.service,
                contact_type: e.contact_type,
                practitioner: match mode {
                    Mode::Identified => e.practitioner,
                    Mode::Pseudonymised => String::new(),
                },
            })
            .collect();
        Ok(County { views, events })
    }

    /// Records that a report (`action`) shows `shown` to `caller`: one
    /// audit entry a resident, committed before the report leaves.
    pub async fn record_shown(
        &self,
        caller: &Caller,
        action: &str,
        shown: &[Shown],
        request: &str,
    ) -> Result<(), Error> {
        let entries = shown
            .iter()
            .map(|s| wherry_store::AuditEntry {
                sources: json_strings(&s.sources),
                fields: json_strings(&s.fields),
                ..caller.entry(action, Some(&s.person), request)
            })
            .collect();
        self.record(entries).await
    }
}
