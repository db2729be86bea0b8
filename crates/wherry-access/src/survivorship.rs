//! The resident view's rules: the golden record
//! (survivorship with provenance), the timeline, the services involved and
//! the suggested lead practitioner. Each works on what the caller's purpose
//! may already see; none widens it.
//!
//! Survivorship: for each canonical field, the records holding it are
//! grouped by value (names and text compared without regard to case and
//! spacing), and the value is chosen by, in order:
//!
//! 1. **recency**: the value whose newest record the partner changed most
//!    recently in its own system (the record's change date; a record
//!    without one counts as older than any that has one);
//! 2. **agreement**: then the value more records hold;
//! 3. **trust**: then the value held by the more trusted source (`trust` in
//!    the source's manifest, 1–100);
//!
//! then the lower source and record id, so the choice is always the same.
//! A GP's record that still holds a name from before a marriage, unchanged
//! for years, does not beat four partners who changed theirs this year.
//! The provenance names the chosen record, the partner's own change date
//! (and when the hub loaded it), the sources that agree and, value by
//! value, those that differ, so a disagreement is said plainly.
//!
//! Involvement: a service is involved when it has had contact with the
//! resident in the last [`INVOLVED_DAYS`] days. The suggested lead is
//! chosen among them by [`crate::lead`]'s rule: only services that visit
//! or care may lead.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use wherry_core::Date;

/// Days of contact that make a service "currently involved".
pub const INVOLVED_DAYS: i64 = 365;
pub use crate::lead::LEAD_DAYS;

/// One record as the caller may see it, with what survivorship needs.
#[derive(Debug, Clone)]
pub struct Visible {
    /// Its source.
    pub source: String,
    /// Its id within the source.
    pub record_id: String,
    /// The source's trust, 1–100.
    pub trust: u8,
    /// When its current version was stored (ISO 8601; compared as text).
    pub updated_at: String,
    /// When the partner last changed it in its own system (`YYYY-MM-DD`),
    /// if the partner says.
    pub changed_at: Option<String>,
    /// The fields the caller may see.
    pub fields: BTreeMap<String, Value>,
}

/// One field of the golden record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chosen {
    /// The value.
    pub value: Value,
    /// Where it came from.
    pub source: String,
    /// Which record.
    pub record_id: String,
    /// When the hub stored that record's current version.
    pub updated_at: String,
    /// When the partner last changed that record (`YYYY-MM-DD`), if it
    /// says.
    pub changed_at: Option<String>,
    /// That source's trust.
    pub trust: u8,
    /// Other records holding the same value.
    pub agreeing: usize,
    /// Records holding a different value.
    pub differing: usize,
    /// The sources of every record holding the chosen value.
    pub sources: Vec<String>,
    /// Each other value held, with the sources holding it, the most held
    /// first.
    pub others: Vec<Other>,
}

/// A value the golden record did not choose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Other {
    /// The value.
    pub value: Value,
    /// The sources of the records holding it.
    pub sources: Vec<String>,
}

/// Values compared for agreement: text without regard to case or spacing
/// (the golden record, the data-quality figures and the steward's pair all
/// call two values the same by this).
pub fn agreement_key(v: &Value) -> String {
    match v {
        Value::String(s) => s
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
        other => other.to_string(),
    }
}

/// The records holding one value of a field, each with the value as held.
type Holders<'a> = Vec<(&'a Visible, &'a Value)>;

/// The golden record over `records`: per field, the surviving value and its
/// provenance (see the module docs).
pub fn golden_record(records: &[Visible]) -> BTreeMap<String, Chosen> {
    // Field → agreement key → the records holding that value.
    let mut by_field: BTreeMap<&str, BTreeMap<String, Holders>> = BTreeMap::new();
    for r in records {
        for (field, value) in &r.fields {
            if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
                continue;
            }
            by_field
                .entry(field.as_str())
                .or_default()
                .entry(agreement_key(value))
                .or_default()
                .push((r, value));
        }
    }
    let mut out = BTreeMap::new();
    for (field, groups) in by_field {
        // Within a value, its best record: newest change, then trust, then
        // the lower source and id.
        let best_of = |holders: &[(&Visible, &Value)]| -> (Option<String>, u8, String, String) {
            holders
                .iter()
                .map(|(r, _)| {
                    (
                        r.changed_at.clone(),
                        r.trust,
                        r.source.clone(),
                        r.record_id.clone(),
                    )
                })
                .max_by(|a, b| {
                    a.0.cmp(&b.0)
                        .then(a.1.cmp(&b.1))
                        .then_with(|| b.2.cmp(&a.2))
                        .then_with(|| b.3.cmp(&a.3))
                })
                .expect("a group holds a record")
        };
        let mut ranked: Vec<(&String, &Holders)> = groups.iter().collect();
        ranked.sort_by(|(_, a), (_, b)| {
            let (ca, ta, sa, ia) = best_of(a);
            let (cb, tb, sb, ib) = best_of(b);
            cb.cmp(&ca)
                .then(b.len().cmp(&a.len()))
                .then(tb.cmp(&ta))
                .then_with(|| sa.cmp(&sb))
                .then_with(|| ia.cmp(&ib))
        });
        let (_, chosen) = ranked[0];
        let (changed_at, trust, source, record_id) = best_of(chosen);
        let record = chosen
            .iter()
            .find(|(r, _)| r.source == source && r.record_id == record_id)
            .expect("the best record is among them");
        let sources_of = |holders: &[(&Visible, &Value)]| -> Vec<String> {
            holders.iter().map(|(r, _)| r.source.clone()).collect()
        };
        let mut others: Vec<Other> = ranked[1..]
            .iter()
            .map(|(_, holders)| Other {
                value: holders[0].1.clone(),
                sources: sources_of(holders),
            })
            .collect();
        others.sort_by_key(|o| std::cmp::Reverse(o.sources.len()));
        out.insert(
            field.to_string(),
            Chosen {
                value: record.1.clone(),
                source,
                record_id,
                updated_at: record.0.updated_at.clone(),
                changed_at,
                trust,
                agreeing: chosen.len() - 1,
                differing: ranked[1..].iter().map(|(_, h)| h.len()).sum(),
                sources: sources_of(chosen),
                others,
            },
        );
    }
    out
}

/// One contact event, as the timeline shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// ISO date.
    pub date: String,
    /// The source that recorded it.
    pub source: String,
    /// The service.
    pub service: String,
    /// What kind of contact.
    pub contact_type: String,
    /// Who.
    pub practitioner: String,
    /// The team, where the partner shares it (never in the pseudonymised
    /// view).
    pub team: Option<String>,
    /// The team's telephone number, where the partner shares it.
    pub team_phone: Option<String>,
}

/// A service currently involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Involved {
    /// The service.
    pub service: String,
    /// The source recording it.
    pub source: String,
    /// Its most recent contact.
    pub last_contact: String,
    /// Its contacts in the last [`INVOLVED_DAYS`] days.
    pub contacts: usize,
    /// The practitioner of its most recent contact.
    pub practitioner: String,
}

pub use crate::lead::Lead;

/// The services with contact in the [`INVOLVED_DAYS`] up to `today`, most
/// recent first, and the suggested lead (see the module docs). `timeline`
/// is newest first.
pub fn involvement<S: AsRef<str>>(
    timeline: &[Contact],
    today: Date,
    lead_services: &[S],
) -> (Vec<Involved>, Option<Lead>) {
    let since = today.add_days(-INVOLVED_DAYS).to_string();
    let mut services: BTreeMap<(&str, &str), Involved> = BTreeMap::new();
    for c in timeline.iter().filter(|c| c.date >= since) {
        let s = services
            .entry((&c.service, &c.source))
            .or_insert_with(|| Involved {
                service: c.service.clone(),
                source: c.source.clone(),
                last_contact: c.date.clone(),
                contacts: 0,
                practitioner: c.practitioner.clone(),
            });
        s.contacts += 1;
        if c.date > s.last_contact {
            s.last_contact = c.date.clone();
            s.practitioner = c.practitioner.clone();
        }
    }
    let mut involved: Vec<Involved> = services.into_values().collect();
    involved.sort_by(|a, b| {
        b.last_contact
            .cmp(&a.last_contact)
            .then_with(|| a.service.cmp(&b.service))
    });
    let lead = crate::lead::suggest(
        timeline
            .iter()
            .filter(|c| c.date >= since)
            .map(|c| crate::lead::Contact {
                date: &c.date,
                service: &c.service,
                practitioner: &c.practitioner,
            }),
        lead_services,
        today,
    );
    (involved, lead)
}

/// A record's fields as a pseudonymised-only role sees them: year of birth,
/// sex and postcode district; nothing that names or contacts the person.
pub fn pseudonymised(fields: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(d) = fields.get("dob").and_then(Value::as_str) {
        out.insert("birth_year".into(), Value::from(d.get(..4).unwrap_or("")));
    }
    if let Some(s) = fields.get("sex") {
        out.insert("sex".into(), s.clone());
    }
    if let Some(p) = fields.get("postcode").and_then(Value::as_str) {
        let district = p.split_whitespace().next().unwrap_or("");
        out.insert("postcode_district".into(), Value::from(district));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(source: &str, trust: u8, at: &str, fields: Value) -> Visible {
        Visible {
            source: source.into(),
            record_id: "1".into(),
            trust,
            updated_at: at.into(),
            changed_at: None,
            fields: serde_json::from_value(fields).unwrap(),
        }
    }

    fn changed(mut v: Visible, on: &str) -> Visible {
        v.changed_at = Some(on.into());
        v
    }

    /// Issue 13, defect 4: a GP's record still holding a married name from
    /// years ago beat four partners who agree and changed theirs this year.
    #[test]
    fn defect_04_the_newest_change_wins_then_agreement_then_trust_and_disagreement_is_named() {
        let records = [
            changed(
                record(
                    "gp_registrations",
                    90,
                    "2026-12-01T10:00:00Z",
                    json!({"family_name": "O'Brien", "given_name": "Dorothy"}),
                ),
                "2014-05-02",
            ),
            changed(
                record(
                    "social_care",
                    80,
                    "2026-11-01T10:00:00Z",
                    json!({"family_name": "Richardson", "given_name": "Dorothy"}),
                ),
                "2026-06-01",
            ),
            changed(
                record(
                    "fire_rescue",
                    70,
                    "2026-11-01T10:00:00Z",
                    json!({"family_name": "RICHARDSON"}),
                ),
                "2026-02-11",
            ),
            changed(
                record(
                    "libraries",
                    40,
                    "2026-11-01T10:00:00Z",
                    json!({"family_name": "Richardson"}),
                ),
                "2025-09-30",
            ),
            changed(
                record(
                    "district_council",
                    60,
                    "2026-11-01T10:00:00Z",
                    json!({"family_name": "Richardson "}),
                ),
                "2026-03-15",
            ),
        ];
        let g = golden_record(&records);
        let f = &g["family_name"];
        assert_eq!(f.value, json!("Richardson"));
        assert_eq!(
            f.source, "social_care",
            "the newest change among those agreeing"
        );
        assert_eq!(
            f.changed_at.as_deref(),
            Some("2026-06-01"),
            "the partner's date, not the load time"
        );
        assert_eq!(
            (f.agreeing, f.differing),
            (3, 1),
            "case and spacing do not make a disagreement"
        );
        assert_eq!(f.sources.len(), 4);
        assert_eq!(
            f.others,
            vec![Other {
                value: json!("O'Brien"),
                sources: vec!["gp_registrations".into()]
            }]
        );
        // Where all agree, nothing differs.
        assert_eq!(
            (g["given_name"].agreeing, g["given_name"].differing),
            (1, 0)
        );
        assert!(g["given_name"].others.is_empty());

        // Equally recent: agreement decides; equally agreed: trust.
        let tie = [
            changed(record("a", 10, "x", json!({"phone": "1"})), "2026-01-01"),
            changed(record("b", 10, "x", json!({"phone": "1"})), "2025-01-01"),
            changed(record("c", 90, "x", json!({"phone": "2"})), "2026-01-01"),
        ];
        assert_eq!(
            golden_record(&tie)["phone"].value,
            json!("1"),
            "agreement before trust"
        );
        let tie = [
            changed(record("a", 10, "x", json!({"phone": "1"})), "2026-01-01"),
            changed(record("c", 90, "x", json!({"phone": "2"})), "2026-01-01"),
        ];
        assert_eq!(golden_record(&tie)["phone"].value, json!("2"), "then trust");
        // A record that says when it changed is newer than one that does not.
        let unknown = [
            record("gp", 90, "2026-12-01", json!({"email": "old@example.org"})),
            changed(
                record("lib", 10, "2020-01-01", json!({"email": "new@example.org"})),
                "2019-01-01",
            ),
        ];
        assert_eq!(
            golden_record(&unknown)["email"].value,
            json!("new@example.org")
        );
    }

    #[test]
    fn without_change_dates_agreement_then_trust_decide() {
        let records = [
            record(
                "council",
                70,
                "2026-11-01",
                json!({"family_name": "SMYTH", "phone": "01603 1"}),
            ),
            record(
                "gp",
                90,
                "2020-01-01",
                json!({"family_name": "SMITH", "phone": ""}),
            ),
            record(
                "fire",
                70,
                "2026-11-20",
                json!({"phone": "01603 2", "family_name": "SMITH"}),
            ),
        ];
        let g = golden_record(&records);
        assert_eq!(g["family_name"].value, json!("SMITH"));
        assert_eq!(
            g["family_name"].source, "gp",
            "two agree; the GP is trusted more"
        );
        assert_eq!(
            (g["family_name"].agreeing, g["family_name"].differing),
            (1, 1)
        );
        // The GP's empty phone is no value; two equal values of equal trust:
        // the lower source.
        assert_eq!(g["phone"].value, json!("01603 1"));
        assert_eq!(g["phone"].source, "council");
        assert_eq!(g["phone"].differing, 1);
    }

    #[test]
    fn the_same_records_in_any_order_give_the_same_golden_record() {
        let mut records = vec![
            record("a", 50, "2026-01-01", json!({"email": "x@example.org"})),
            record("b", 50, "2026-01-01", json!({"email": "y@example.org"})),
        ];
        let first = golden_record(&records);
        records.reverse();
        assert_eq!(golden_record(&records), first);
        assert_eq!(first["email"].source, "a");
    }

    fn contact(date: &str, service: &str, who: &str) -> Contact {
        Contact {
            date: date.into(),
            source: "s".into(),
            service: service.into(),
            contact_type: "visit".into(),
            practitioner: who.into(),
            team: None,
            team_phone: None,
        }
    }

    #[test]
    fn involved_services_are_those_seen_within_a_year_and_the_lead_is_the_busiest_lately() {
        let today = Date::new(2026, 11, 22).unwrap();
        let timeline = [
            contact("2026-11-20", "Falls", "A. Nurse"),
            contact("2026-11-01", "Adult social care", "B. Worker"),
            contact("2026-10-15", "Adult social care", "B. Worker"),
            contact("2026-01-10", "Housing", "C. Officer"),
            contact("2024-05-01", "Fire prevention", "D. Officer"),
        ];
        let leads = ["Falls", "Adult social care", "Fire prevention"];
        let (involved, lead) = involvement(&timeline, today, &leads);
        let names: Vec<&str> = involved.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(names, ["Falls", "Adult social care", "Housing"]);
        assert_eq!(involved[1].contacts, 2);
        let lead = lead.unwrap();
        assert_eq!(
            (lead.practitioner.as_str(), lead.service.as_str()),
            ("B. Worker", "Adult social care")
        );
    }

    #[test]
    fn only_a_lead_service_leads_and_only_from_the_involved_year() {
        let today = Date::new(2026, 11, 22).unwrap();
        let timeline = [
            contact("2026-03-01", "Housing", "C. Officer"),
            contact("2024-05-01", "Fire prevention", "D. Officer"),
        ];
        let (_, lead) = involvement(&timeline, today, &["Housing"]);
        assert_eq!(lead.unwrap().practitioner, "C. Officer");
        // Fire prevention may lead, but its contact is older than a year.
        assert_eq!(involvement(&timeline, today, &["Fire prevention"]).1, None);
        assert_eq!(involvement(&[], today, &["Housing"]), (vec![], None));
    }

    #[test]
    fn pseudonymised_fields_hold_nothing_that_names_or_contacts() {
        let f: BTreeMap<String, Value> = serde_json::from_value(json!({
            "given_name": "ANN", "family_name": "SMITH", "dob": "1941-03-02", "sex": "F",
            "postcode": "NR1 3QU", "nhs_number": "9434765919", "phone": "01603 1"
        }))
        .unwrap();
        let p = pseudonymised(&f);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"birth_year": "1941", "sex": "F", "postcode_district": "NR1"})
        );
    }
}
