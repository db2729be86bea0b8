//! Contacts counted in the database for reports that publish no one
//! (demand by area, open data): per area, service and month, from the
//! contact events of the sources whose agreements share events with the
//! caller's purpose, each contact placed by the postcode the recording
//! partner holds for the resident, where the agreement lets the purpose
//! see it. Only counts leave the store; the reading is audited.

use std::collections::BTreeMap;

use wherry_core::Role;
use wherry_store::shared::AreaBy;

use crate::{Access, Caller, Error};

/// How contacts are placed.
#[derive(Debug, Clone, Copy)]
pub enum Areas<'a> {
    /// By postcode district.
    District,
    /// By ward, through a lookup from postcode (as `wherry_core::Postcode`
    /// writes it) to ward.
    Ward(&'a BTreeMap<String, String>),
}

/// Where a count's contacts were.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// A district or ward.
    Area(String),
    /// A postcode the ward lookup does not hold.
    NotInLookup,
    /// No postcode the purpose may see.
    Unplaced,
}

/// One count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Where.
    pub place: Place,
    /// The service.
    pub service: String,
    /// `YYYY-MM`, or empty when counted over the whole span.
    pub month: String,
    /// Contacts.
    pub contacts: u64,
    /// Distinct residents (over the whole span only).
    pub residents: u64,
}

/// The counts, and the sources they are of.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    /// The sources whose events the purpose may see.
    pub sources: Vec<String>,
    /// The counts.
    pub counts: Vec<Count>,
}

impl Access {
    /// Contacts from `since` to before `until` (`YYYY-MM-DD`) as
    /// `caller`'s purpose may count them, for `what` (for `roles`), per
    /// place, service and month (`per_month`; otherwise over the span,
    /// with distinct residents). The reading is recorded (`action`, no
    /// person) before anything is returned.
    #[allow(clippy::too_many_arguments)]
    pub async fn contact_counts(
        &self,
        caller: &Caller,
        roles: &[Role],
        what: &'static str,
        action: &str,
        (since, until): (&str, &str),
        areas: Areas<'_>,
        per_month: bool,
        request: &str,
    ) -> Result<Counts, Error> {
        caller.require(roles, what)?;
        self.record(vec![caller.entry(action, None, request)])
            .await?;
        let agreements = self.agreements().await?;
        let mut out = Counts::default();
        let mut merged: BTreeMap<(Place, String, String), (u64, u64)> = BTreeMap::new();
        for (source, terms) in agreements.iter() {
            let view = crate::view(&terms.agreement, caller.purpose);
            if !view.events {
                continue;
            }
            out.sources.push(source.clone());
            let by = match (view.fields.contains("postcode"), areas) {
                (false, _) => AreaBy::None,
                (true, Areas::District) => AreaBy::District,
                (true, Areas::Ward(_)) => AreaBy::Postcode,
            };
            for c in self
                .store()
                .event_counts(source, since, until, by, per_month)
                .await?
            {
                let place = match (c.area, areas) {
                    (None, _) => Place::Unplaced,
                    (Some(a), Areas::District) => Place::Area(a),
                    (Some(pc), Areas::Ward(wards)) => wherry_core::Postcode::parse(&pc)
                        .ok()
                        .and_then(|p| wards.get(p.as_str()).cloned())
                        .map_or(Place::NotInLookup, Place::Area),
                };
                let e = merged.entry((place, c.service, c.month)).or_default();
                e.0 += c.contacts;
                e.1 += c.residents;
            }
        }
        out.counts = merged
            .into_iter()
            .map(|((place, service, month), (contacts, residents))| Count {
                place,
                service,
                month,
                contacts,
                residents,
            })
            .collect();
        Ok(out)
    }
}
