//! The suggested lead practitioner: one rule, used by the resident view
//! and by coordinated visits.
//!
//! A lead is chosen only among the services that visit or care for people
//! (the policy's lead services, [`LEAD_SERVICES`] by default, set by
//! `lead_services` in the server's configuration): a librarian who lent a
//! book last week is never put forward to lead the care of a frail
//! resident. Among their practitioners, the one with the most contacts in
//! the last [`LEAD_DAYS`] days leads (then the most recent contact, then
//! the name, so the choice is always the same); when none has had contact
//! that recently, the practitioner of the most recent contact by a lead
//! service. With no lead service involved, no lead is suggested.

use std::collections::BTreeMap;

use serde::Serialize;
use wherry_core::Date;

/// Days of contact counted when suggesting a lead practitioner.
pub const LEAD_DAYS: i64 = 90;

/// The services that visit or care for people, and so may lead: adult
/// social care's teams, primary care and fire prevention (safe and well
/// visits).
pub const LEAD_SERVICES: &[&str] = &[
    "older_people_team",
    "reablement",
    "occupational_therapy",
    "safeguarding",
    "primary_care",
    "fire_prevention",
];

/// The suggested lead practitioner, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lead {
    /// Who.
    pub practitioner: String,
    /// Their service.
    pub service: String,
    /// Why them.
    pub reason: String,
}

/// One contact, as the lead rule weighs it.
#[derive(Debug, Clone, Copy)]
pub struct Contact<'a> {
    /// `YYYY-MM-DD`.
    pub date: &'a str,
    /// The service.
    pub service: &'a str,
    /// Who made it (empty when the partner does not say).
    pub practitioner: &'a str,
}

/// The lead for a resident with `contacts` (any order), on `today`, chosen
/// among `services` (see the module docs).
pub fn suggest<'a, S: AsRef<str>>(
    contacts: impl IntoIterator<Item = Contact<'a>>,
    services: &[S],
    today: Date,
) -> Option<Lead> {
    let since = today.add_days(-LEAD_DAYS).to_string();
    let may_lead = |s: &str| services.iter().any(|x| x.as_ref() == s);
    // (practitioner, service) → (contacts since `since`, latest date)
    let mut seen: BTreeMap<(&str, &str), (usize, &str)> = BTreeMap::new();
    for c in contacts {
        if c.practitioner.is_empty() || !may_lead(c.service) {
            continue;
        }
        let e = seen
            .entry((c.practitioner, c.service))
            .or_insert((0, c.date));
        if c.date >= since.as_str() {
            e.0 += 1;
        }
        if c.date > e.1 {
            e.1 = c.date;
        }
    }
    let best = seen.into_iter().max_by(|a, b| {
        a.1.0
            .cmp(&b.1.0)
            .then_with(|| a.1.1.cmp(b.1.1))
            .then_with(|| b.0.cmp(&a.0))
    })?;
    let ((practitioner, service), (n, latest)) = best;
    let reason = if n > 0 {
        format!("most contacts in the last {LEAD_DAYS} days ({n}) of a visiting or caring service")
    } else {
        format!("the most recent contact ({latest}) of a visiting or caring service")
    };
    Some(Lead {
        practitioner: practitioner.to_string(),
        service: service.to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(date: &'a str, service: &'a str, practitioner: &'a str) -> Contact<'a> {
        Contact {
            date,
            service,
            practitioner,
        }
    }

    fn today() -> Date {
        Date::new(2026, 11, 22).unwrap()
    }

    #[test]
    fn a_librarian_never_leads_the_care_of_a_resident() {
        let contacts = [
            c("2026-11-20", "library", "L. Librarian"),
            c("2026-11-18", "library", "L. Librarian"),
            c("2026-11-15", "library", "L. Librarian"),
            c("2026-11-10", "reablement", "R. Worker"),
            c("2026-11-01", "safeguarding", "S. Officer"),
        ];
        let lead = suggest(contacts, LEAD_SERVICES, today()).unwrap();
        assert_eq!(lead.service, "reablement");
        assert_eq!(lead.practitioner, "R. Worker");
        assert!(
            lead.reason.contains("visiting or caring"),
            "{}",
            lead.reason
        );
    }

    #[test]
    fn the_busiest_then_the_latest_leads() {
        let contacts = [
            c("2026-11-20", "reablement", "R. Worker"),
            c("2026-11-01", "older_people_team", "B. Worker"),
            c("2026-10-15", "older_people_team", "B. Worker"),
        ];
        let lead = suggest(contacts, LEAD_SERVICES, today()).unwrap();
        assert_eq!(lead.practitioner, "B. Worker");
        let tie = [
            c("2026-11-20", "reablement", "R. Worker"),
            c("2026-11-01", "older_people_team", "B. Worker"),
        ];
        assert_eq!(
            suggest(tie, LEAD_SERVICES, today()).unwrap().practitioner,
            "R. Worker"
        );
    }

    #[test]
    fn without_recent_contact_the_latest_lead_service_leads_and_none_without_one() {
        let old = [
            c("2026-03-01", "primary_care", "G. Doctor"),
            c("2026-05-01", "older_people_team", "B. Worker"),
            c("2026-11-01", "library", "L. Librarian"),
        ];
        let lead = suggest(old, LEAD_SERVICES, today()).unwrap();
        assert_eq!(lead.practitioner, "B. Worker");
        assert!(lead.reason.contains("2026-05-01"), "{}", lead.reason);
        let none = [c("2026-11-01", "library", "L. Librarian")];
        assert_eq!(suggest(none, LEAD_SERVICES, today()), None);
        // The list is the policy's: a council that lets libraries lead may.
        let lead = suggest(none, &["library"], today()).unwrap();
        assert_eq!(lead.practitioner, "L. Librarian");
    }
}
