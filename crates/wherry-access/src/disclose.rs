//! What a caller may see of a person, and the audit entry for it: the one
//! place a disclosure is assembled, for the API, the web UI, the command
//! line and whatever comes next.
//!
//! Each of a person's current records is cut down to what its source's
//! agreement grants the caller's purpose (a source granting nothing is
//! named as withheld, without content); from what remains come the golden
//! record, the timeline, the services involved and the suggested lead
//! ([`crate::survivorship`]). A pseudonymised-only role sees birth year, sex
//! and postcode district, and no record ids or practitioners.
//!
//! Invariant: every function here that returns personal data has committed
//! its audit entry before it returns.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use wherry_core::{Purpose, Role};
use wherry_store::sensor_alerts::StoredAlert;
use wherry_store::{AuditEntry, LinkMethod, RecordKey, ReviewItem, ReviewStatus};

use crate::sensors::{self, Share};
use crate::survivorship::{self, Chosen, Contact, Involved, Lead, Visible};
use crate::{Access, Agreements, Caller, Denied, Error};

/// How a shown record is linked to its person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkShown {
    /// `automatic` or `steward`.
    pub method: LinkMethod,
    /// The probability that linked it, where one did.
    pub probability: Option<f64>,
}

/// One record as the caller may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordShown {
    /// Its source.
    pub source: String,
    /// Its id (empty for a pseudonymised-only role).
    pub record_id: String,
    /// Its current version.
    pub version: i64,
    /// When that version was stored.
    pub updated_at: String,
    /// How it is linked.
    pub link: LinkShown,
    /// The fields the purpose may see.
    pub fields: BTreeMap<String, Value>,
    /// The attributes the purpose may see.
    pub attributes: BTreeMap<String, Value>,
}

/// What the caller may see of one person's records.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// The records shown.
    pub records: Vec<RecordShown>,
    /// The same, for survivorship.
    pub visible: Vec<Visible>,
    /// Sources whose agreement grants the purpose nothing.
    pub withheld: BTreeSet<String>,
    /// Sources shown.
    pub sources: BTreeSet<String>,
    /// Fields and attributes shown (`attribute:NAME` for attributes).
    pub disclosed: BTreeSet<String>,
    /// Sources whose events the purpose may see.
    pub events_from: BTreeSet<String>,
    /// Every source holding a record of the person, shown or not.
    pub held: BTreeSet<String>,
}

/// The resident view as the caller may see it.
#[derive(Debug, Clone, Serialize)]
pub struct ResidentView {
    /// The person.
    pub person: String,
    /// The purpose it was shown for.
    pub purpose: Purpose,
    /// Whether it is the pseudonymised view.
    pub pseudonymised: bool,
    /// Per field, the surviving value and its provenance.
    pub golden_record: BTreeMap<String, Chosen>,
    /// The records shown.
    pub records: Vec<RecordShown>,
    /// Contact events, newest first.
    pub timeline: Vec<Contact>,
    /// Services currently involved.
    pub involved_services: Vec<Involved>,
    /// The suggested lead practitioner.
    pub lead_practitioner: Option<Lead>,
    /// Sources whose agreement grants the purpose nothing.
    pub withheld_sources: BTreeSet<String>,
    /// Sources shown whose agreement does not grant the purpose their
    /// contact events: the timeline leaves those sources' contacts out
    /// (whether this resident has any is not said, which would disclose
    /// it).
    pub contacts_withheld: BTreeSet<String>,
    /// Whether the caller broke glass.
    pub break_glass: bool,
    /// The resident's home sensor alerts (open first, most urgent first,
    /// then resolved), where the sensor service's agreement
    /// (`tec_sensors`) shares alerts with the purpose; `None` where it does
    /// not (whether the resident has any is then not said).
    pub sensor_alerts: Option<Vec<StoredAlert>>,
}

/// A resident listed in search results, named as the purpose allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Listed {
    /// The person.
    pub person: String,
    /// Given and family name, where the purpose may see them.
    pub name: Option<String>,
    /// Date of birth, where it may be seen.
    pub dob: Option<String>,
    /// Postcode, where it may be seen.
    pub postcode: Option<String>,
    /// The search's match probability.
    pub probability: f64,
}

/// One side of a review pair, cut to what the steward's purpose may see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    /// The record.
    pub record: RecordKey,
    /// Field → value, as the purpose may see them.
    pub fields: BTreeMap<String, Value>,
    /// The person it is with now, if linked.
    pub person: Option<String>,
}

/// A review item with both records as the steward may see them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewPair {
    /// The item.
    pub item: ReviewItem,
    /// Left, then right.
    pub sides: [Side; 2],
}

pub(crate) fn json_strings<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("strings serialise")
}

/// A stored JSON object of values.
pub(crate) fn object(text: &str) -> Result<BTreeMap<String, Value>, Error> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt {
        what: "a stored record",
        why: e.to_string(),
    })
}

/// The person's records cut to what `caller` may see under `agreements`,
/// or `None` when the person has no current records.
pub async fn gather(
    access: &Access,
    agreements: &Agreements,
    caller: &Caller,
    person: &str,
) -> Result<Option<Gathered>, Error> {
    let rows = access.store().linked_records(person).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let pseudonymised = caller.role.pseudonymised_only();
    let mut g = Gathered::default();
    for r in rows {
        g.held.insert(r.source.clone());
        let Some(terms) = agreements.get(&r.source) else {
            g.withheld.insert(r.source);
            continue;
        };
        let view = crate::view(&terms.agreement, caller.purpose);
        if view.is_empty() {
            g.withheld.insert(r.source);
            continue;
        }
        if view.events {
            g.events_from.insert(r.source.clone());
        }
        let stored = object(&r.fields)?;
        // The partner's own change date: read for the golden record's
        // choice, never disclosed as a field. Hidden from analysts too
        // (a precise date is identifying).
        let changed_at = stored
            .get(wherry_core::record::CHANGED_AT)
            .and_then(|v| v.as_str())
            .filter(|_| !pseudonymised)
            .map(str::to_string);
        let mut fields = view.fields_of(&stored);
        let mut attributes = view.attributes_of(&object(&r.attributes)?);
        if pseudonymised {
            fields = survivorship::pseudonymised(&fields);
            attributes.clear();
        }
        g.disclosed.extend(fields.keys().cloned());
        g.disclosed
            .extend(attributes.keys().map(|a| format!("attribute:{a}")));
        g.sources.insert(r.source.clone());
        let record_id = if pseudonymised {
            String::new()
        } else {
            r.record_id
        };
        g.visible.push(Visible {
            source: r.source.clone(),
            record_id: record_id.clone(),
            trust: terms.trust,
            updated_at: r.updated_at.clone(),
            changed_at,
            fields: fields.clone(),
        });
        g.records.push(RecordShown {
            source: r.source,
            record_id,
            version: r.version,
            updated_at: r.updated_at,
            link: LinkShown {
                method: r.method,
                probability: r.probability,
            },
            fields,
            attributes,
        });
    }
    Ok(Some(g))
}

impl Access {
    /// The resident view of `person` as `caller` may see it, audited
    /// (action `view`) before it is returned; `None` when no resident has
    /// that id. Refused without a legitimate relationship (see
    /// [`crate::relate`]).
    pub async fn resident(
        &self,
        caller: &Caller,
        person: &str,
        request: &str,
    ) -> Result<Option<ResidentView>, Error> {
        // A partner system's reason is in the records read below (one of
        // its own sources); anyone else's is looked up first.
        let partner = caller.role == Role::PartnerSystem && caller.break_glass.is_none();
        if !partner && let Err(refused) = self.require_relationship(caller, person).await {
            // No one to have a reason for: not found, as for anyone else.
            if !self.store().person_exists(person).await? {
                return Ok(None);
            }
            return Err(refused);
        }
        let agreements = self.agreements().await?;
        let Some(mut g) = gather(self, &agreements, caller, person).await? else {
            return Ok(None);
        };
        if partner && !g.held.iter().any(|s| caller.sources.contains(s)) {
            return Err(Denied::NoRelationship.into());
        }
        let pseudonymised = caller.role.pseudonymised_only();
        let golden = survivorship::golden_record(&g.visible);
        let mut timeline = Vec::new();
        if !g.events_from.is_empty() {
            for e in self.store().person_events(person).await? {
                if g.events_from.contains(&e.source) {
                    timeline.push(Contact {
                        date: e.date,
                        source: e.source,
                        service: e.service,
                        contact_type: e.contact_type,
                        practitioner: if pseudonymised {
                            String::new()
                        } else {
                            e.practitioner
                        },
                        team: e.team.filter(|_| !pseudonymised),
                        team_phone: e.team_phone.filter(|_| !pseudonymised),
                    });
                }
            }
        }
        if !timeline.is_empty() {
            g.disclosed.insert("events".into());
        }
        let sensor_alerts =
            if !pseudonymised && sensors::shares(&agreements, caller.purpose, Share::Alerts) {
                let alerts = self.store().alerts(Some(person), true).await?;
                if !alerts.is_empty() {
                    g.sources.insert(sensors::SOURCE.to_string());
                    g.disclosed.insert("sensor_alerts".into());
                }
                Some(alerts)
            } else {
                None
            };
        let (involved, lead) = survivorship::involvement(
            &timeline,
            wherry_core::Date::today_utc(),
            self.policy().lead_services(),
        );
        let lead = if pseudonymised { None } else { lead };
        // The disclosure is recorded before anything leaves.
        self.record(vec![AuditEntry {
            sources: json_strings(&g.sources),
            fields: json_strings(&g.disclosed),
            ..caller.entry("view", Some(person), request)
        }])
        .await?;
        Ok(Some(ResidentView {
            person: person.to_string(),
            purpose: caller.purpose,
            pseudonymised,
            golden_record: golden,
            records: g.records,
            timeline,
            involved_services: involved,
            lead_practitioner: lead,
            contacts_withheld: g.sources.difference(&g.events_from).cloned().collect(),
            withheld_sources: g.withheld,
            break_glass: caller.break_glass.is_some(),
            sensor_alerts,
        }))
    }

    /// Audits a search by the names of the fields `searched` (never their
    /// values) and, when `named`, lists each of the `ranked` persons
    /// (person, probability) by name, date of birth and postcode as the
    /// caller's purpose may see them, each listing audited too. Without
    /// `named` nothing but the person ids is disclosed.
    pub async fn search_results(
        &self,
        caller: &Caller,
        searched: &[&str],
        ranked: &[(String, f64)],
        named: bool,
        request: &str,
    ) -> Result<Vec<Listed>, Error> {
        caller.require_identifying("searching by identifying details")?;
        let mut entries = vec![AuditEntry {
            fields: json_strings(&searched),
            ..caller.entry("search", None, request)
        }];
        let mut out = Vec::with_capacity(ranked.len());
        let agreements = if named {
            Some(self.agreements().await?)
        } else {
            None
        };
        for (person, probability) in ranked {
            let Some(agreements) = &agreements else {
                // Only the id and the match: still a disclosure that this
                // person matched, so it names them.
                entries.push(caller.entry("search_result", Some(person), request));
                out.push(Listed {
                    person: person.clone(),
                    name: None,
                    dob: None,
                    postcode: None,
                    probability: *probability,
                });
                continue;
            };
            let Some((listed, entry)) = self
                .listing(
                    agreements,
                    caller,
                    person,
                    *probability,
                    "search_result",
                    request,
                )
                .await?
            else {
                continue;
            };
            entries.push(entry);
            out.push(listed);
        }
        let found: Vec<String> = out.iter().map(|l| l.person.clone()).collect();
        let relations = self.relations(caller, &found, "search");
        self.record_related(entries, relations).await?;
        Ok(out)
    }

    /// `person` named as `caller`'s purpose may see them (name, date of
    /// birth, postcode from the golden record of what the agreements
    /// grant), with the audit entry for it (`action`, the sources and the
    /// fields shown); `None` when the person has no current records.
    async fn listing(
        &self,
        agreements: &Agreements,
        caller: &Caller,
        person: &str,
        probability: f64,
        action: &str,
        request: &str,
    ) -> Result<Option<(Listed, AuditEntry)>, Error> {
        let Some(g) = gather(self, agreements, caller, person).await? else {
            return Ok(None);
        };
        let golden = survivorship::golden_record(&g.visible);
        let text = |f: &str| {
            golden
                .get(f)
                .and_then(|c| c.value.as_str())
                .map(str::to_string)
        };
        let name = match (text("given_name"), text("family_name")) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (g, f) => g.or(f),
        };
        let shown: Vec<&str> = ["given_name", "family_name", "dob", "postcode"]
            .into_iter()
            .filter(|f| golden.contains_key(*f))
            .collect();
        let entry = AuditEntry {
            sources: json_strings(&g.sources),
            fields: json_strings(&shown),
            ..caller.entry(action, Some(person), request)
        };
        let listed = Listed {
            person: person.to_string(),
            name,
            dob: text("dob"),
            postcode: text("postcode"),
            probability,
        };
        Ok(Some((listed, entry)))
    }

    /// Who else lives at `person`'s home: the `others` the matcher found at
    /// the address the caller's purpose may see, each named as the purpose
    /// allows (those of whom it may see no name are left out) and each
    /// listing audited (`household_listed`). Listing gives no reason on
    /// record to open them.
    pub async fn household(
        &self,
        caller: &Caller,
        person: &str,
        others: &[String],
        request: &str,
    ) -> Result<Vec<Listed>, Error> {
        caller.require_identifying("a resident's household")?;
        let agreements = self.agreements().await?;
        let mut entries = Vec::new();
        let mut out = Vec::new();
        for other in others.iter().filter(|o| *o != person) {
            if let Some((listed, entry)) = self
                .listing(&agreements, caller, other, 1.0, "household_listed", request)
                .await?
                && listed.name.is_some()
            {
                entries.push(entry);
                out.push(listed);
            }
        }
        if !entries.is_empty() {
            self.record(entries).await?;
        }
        Ok(out)
    }

    /// The review queue (items with `status`, or all), for stewards;
    /// audited (`review_list`).
    pub async fn review_list(
        &self,
        caller: &Caller,
        status: Option<ReviewStatus>,
        request: &str,
    ) -> Result<Vec<ReviewItem>, Error> {
        caller.require(&[Role::Steward], "the review queue")?;
        let items = self.store().review_items(status).await?;
        self.record(vec![caller.entry("review_list", None, request)])
            .await?;
        Ok(items)
    }

    /// Review item `id` with both records as the steward's purpose may see
    /// each source, audited (`review_view`, naming each record's person);
    /// `None` when there is no such item.
    pub async fn review_pair(
        &self,
        caller: &Caller,
        id: i64,
        request: &str,
    ) -> Result<Option<ReviewPair>, Error> {
        caller.require(&[Role::Steward], "the review queue")?;
        let Some(item) = self.store().review_item(id).await? else {
            return Ok(None);
        };
        let agreements = self.agreements().await?;
        let mut entries = Vec::new();
        let mut sides = Vec::with_capacity(2);
        for record in [&item.left, &item.right] {
            let held = self
                .store()
                .current_record(&record.source, &record.record_id)
                .await?;
            let fields = match (held, agreements.get(&record.source)) {
                (Some(h), Some(terms)) => {
                    crate::view(&terms.agreement, caller.purpose).fields_of(&object(&h.fields)?)
                }
                _ => BTreeMap::new(),
            };
            let person = self.store().person_of(record).await?;
            entries.push(AuditEntry {
                sources: json_strings(&[&record.source]),
                fields: json_strings(&fields.keys().collect::<Vec<_>>()),
                ..caller.entry("review_view", person.as_deref(), request)
            });
            sides.push(Side {
                record: record.clone(),
                fields,
                person,
            });
        }
        let shown: Vec<String> = sides.iter().filter_map(|s| s.person.clone()).collect();
        let relations = self.relations(caller, &shown, "review");
        self.record_related(entries, relations).await?;
        let [left, right]: [Side; 2] = sides.try_into().expect("two sides");
        Ok(Some(ReviewPair {
            item,
            sides: [left, right],
        }))
    }
}

/// A person matched to what a partner's system described, with the golden
/// record as the caller's purpose may see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matched {
    /// The person.
    pub person: String,
    /// The match probability.
    pub probability: f64,
    /// Their golden record, cut to the purpose.
    pub golden: BTreeMap<String, Chosen>,
}

impl Access {
    /// The golden record of each of the `ranked` persons (person,
    /// probability) as `caller` may see it, for a match answered to a
    /// partner's system; each person disclosed is audited under `action`
    /// (one entry with no person when none is).
    pub async fn matched(
        &self,
        caller: &Caller,
        ranked: &[(String, f64)],
        action: &str,
        request: &str,
    ) -> Result<Vec<Matched>, Error> {
        caller.require_identifying("matching by identifying details")?;
        let agreements = self.agreements().await?;
        let mut out = Vec::new();
        let mut entries = Vec::new();
        for (person, probability) in ranked {
            let Some(g) = gather(self, &agreements, caller, person).await? else {
                continue;
            };
            let golden = survivorship::golden_record(&g.visible);
            entries.push(AuditEntry {
                sources: json_strings(&g.sources),
                fields: json_strings(&golden.keys().collect::<Vec<_>>()),
                ..caller.entry(action, Some(person), request)
            });
            out.push(Matched {
                person: person.clone(),
                probability: *probability,
                golden,
            });
        }
        if entries.is_empty() {
            entries.push(caller.entry(action, None, request));
        }
        let found: Vec<String> = out.iter().map(|l| l.person.clone()).collect();
        let relations = self.relations(caller, &found, "search");
        self.record_related(entries, relations).await?;
        Ok(out)
    }
}
