//! Coordinated visits: residents three or more services have been in
//! contact with in the last [`WINDOW_DAYS`] days, the services involved, a
//! suggested lead practitioner (only among services that visit or care:
//! [`wherry_access::lead`], the same rule as the resident view) and the
//! home visits a single lead would save.
//!
//! The visits saved for a resident are the home visits ([`HOME_VISITS`])
//! made in the window by services other than the lead's: the visits the
//! lead could have made on their own rounds. A resident with no lead
//! service involved is listed with no lead and nothing saved: someone has
//! to agree who leads.
//!
//! The events are those the caller's purpose may see: only sources whose
//! agreement shares contact events with the purpose count
//! ([`wherry_access::Access::county`]); a purpose that sees none lists no
//! one, and says so.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wherry_access::lead::{self, Lead};
use wherry_access::shared::{Events, SharedEvent, Shown};
use wherry_access::{Access, Caller};
use wherry_core::{Date, Role};

/// Who may list coordinated visits: caseworkers, fire prevention and the
/// technology-enabled care team, each as their purpose's agreements allow.
pub const ROLES: &[Role] = &[Role::Caseworker, Role::FirePrevention, Role::TecTeam];

/// The window, in days.
pub const WINDOW_DAYS: i64 = 90;

/// Services in the window that make a resident's care worth coordinating.
pub const MIN_SERVICES: usize = 3;

/// Contact types that take a practitioner to the resident's home.
pub const HOME_VISITS: &[&str] = &[
    "home_visit",
    "assessment",
    "review",
    "safeguarding_enquiry",
    "safe_and_well_visit",
    "home_fire_safety_check",
    "smoke_alarm_fitting",
    "tenancy_visit",
    "environmental_health_visit",
    "welfare_check",
    "home_library_service",
];

/// One service's contact with a resident in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceContact {
    /// The service.
    pub service: String,
    /// Its contacts.
    pub contacts: usize,
    /// Of which home visits.
    pub home_visits: usize,
    /// Its latest contact, `YYYY-MM-DD`.
    pub last_contact: String,
}

/// A resident whose care is worth coordinating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coordinated {
    /// Their id in the hub.
    pub person_id: String,
    /// Their name, where the purpose may see it.
    pub name: Option<String>,
    /// The services, most contacts first.
    pub services: Vec<ServiceContact>,
    /// The suggested lead.
    pub lead: Option<Lead>,
    /// Home visits in the window.
    pub home_visits: usize,
    /// Home visits a single lead would save.
    pub saved: usize,
}

/// The list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visits {
    /// From, `YYYY-MM-DD` (the window's first day).
    pub since: String,
    /// To, `YYYY-MM-DD`.
    pub until: String,
    /// The sources whose events the purpose may see.
    pub sources: Vec<String>,
    /// The residents, most visits saved first.
    pub residents: Vec<Coordinated>,
    /// Home visits a single lead would save, over all residents listed.
    pub total_saved: usize,
}

/// The residents among `events` (those in the window up to `today`) with
/// [`MIN_SERVICES`] or more services, each with its lead among
/// `lead_services` and the visits saved; most saved first, then most
/// services, then by id. Pure.
pub fn coordinate<S: AsRef<str>>(
    events: &[SharedEvent],
    lead_services: &[S],
    today: Date,
) -> Vec<Coordinated> {
    let since = today.add_days(-WINDOW_DAYS).to_string();
    let until = today.to_string();
    let mut by_person: BTreeMap<&str, Vec<&SharedEvent>> = BTreeMap::new();
    for e in events {
        if e.date >= since && e.date <= until {
            by_person.entry(&e.person).or_default().push(e);
        }
    }
    let mut out = Vec::new();
    for (person, evs) in by_person {
        let mut services: BTreeMap<&str, ServiceContact> = BTreeMap::new();
        for e in &evs {
            let s = services
                .entry(&e.service)
                .or_insert_with(|| ServiceContact {
                    service: e.service.clone(),
                    contacts: 0,
                    home_visits: 0,
                    last_contact: e.date.clone(),
                });
            s.contacts += 1;
            s.home_visits += usize::from(HOME_VISITS.contains(&e.contact_type.as_str()));
            if e.date > s.last_contact {
                s.last_contact = e.date.clone();
            }
        }
        if services.len() < MIN_SERVICES {
            continue;
        }
        let lead = lead::suggest(
            evs.iter().map(|e| lead::Contact {
                date: &e.date,
                service: &e.service,
                practitioner: &e.practitioner,
            }),
            lead_services,
            today,
        );
        let home_visits = services.values().map(|s| s.home_visits).sum();
        let saved = lead.as_ref().map_or(0, |l| {
            services
                .values()
                .filter(|s| s.service != l.service)
                .map(|s| s.home_visits)
                .sum()
        });
        let mut services: Vec<ServiceContact> = services.into_values().collect();
        services.sort_by(|a, b| {
            b.contacts
                .cmp(&a.contacts)
                .then_with(|| a.service.cmp(&b.service))
        });
        out.push(Coordinated {
            person_id: person.to_string(),
            name: None,
            services,
            lead,
            home_visits,
            saved,
        });
    }
    out.sort_by(|a, b| {
        b.saved
            .cmp(&a.saved)
            .then_with(|| b.services.len().cmp(&a.services.len()))
            .then_with(|| a.person_id.cmp(&b.person_id))
    });
    out
}

/// The coordinated-visits list for `caller` on `today` (names where the
/// purpose may see them), every resident listed recorded in the audit log
/// (`coordinated_visits`) before it is returned.
pub async fn coordinated_visits(
    access: &Access,
    caller: &Caller,
    today: Date,
    request: &str,
) -> Result<Visits, wherry_access::Error> {
    let since = today.add_days(-WINDOW_DAYS);
    let mut names: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    let county = access
        .county(
            caller,
            ROLES,
            "coordinated visits",
            Events::since(&since.to_string()),
            |r| {
                let name = [r.fields.get("given_name"), r.fields.get("family_name")]
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let e = names.entry(r.person).or_default();
                if e.0.is_empty() && !name.is_empty() {
                    e.0 = name;
                }
                e.1.insert(r.source);
            },
        )
        .await?;
    let mut residents = coordinate(&county.events, access.policy().lead_services(), today);
    let mut shown = Vec::new();
    for r in &mut residents {
        let (name, _) = names.remove(&r.person_id).unwrap_or_default();
        let mut fields: BTreeSet<String> = ["events".to_string()].into();
        if !name.is_empty() {
            fields.extend(["given_name".to_string(), "family_name".to_string()]);
            r.name = Some(name);
        }
        let sources = county
            .events
            .iter()
            .filter(|e| e.person == r.person_id)
            .map(|e| e.source.clone())
            .collect();
        shown.push(Shown {
            person: r.person_id.clone(),
            sources,
            fields,
        });
    }
    access
        .record_shown(caller, "coordinated_visits", &shown, request)
        .await?;
    Ok(Visits {
        since: since.to_string(),
        until: today.to_string(),
        sources: county
            .views
            .iter()
            .filter(|(_, v)| v.events)
            .map(|(s, _)| s.clone())
            .collect(),
        total_saved: residents.iter().map(|r| r.saved).sum(),
        residents,
    })
}

/// The list as a chart: for each service involved, how many listed
/// residents it saw (most first), services named by `label`.
pub fn chart(v: &Visits, label: impl Fn(&str) -> String) -> String {
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &v.residents {
        for s in &r.services {
            *per.entry(s.service.as_str()).or_default() += 1;
        }
    }
    let mut bars: Vec<(String, Option<f64>)> = per
        .into_iter()
        .map(|(s, n)| (label(s), Some(n as f64)))
        .collect();
    bars.sort_by(|a, b| b.1.unwrap_or(0.0).total_cmp(&a.1.unwrap_or(0.0)));
    crate::chart::rows_svg(
        "visits-chart",
        &format!(
            "{} residents seen by {MIN_SERVICES} or more services: who saw them",
            v.residents.len()
        ),
        &format!(
            "residents listed the service saw, {} to {} (one lead each would save {} home visits)",
            v.since, v.until, v.total_saved
        ),
        &bars,
        "",
    )
}

/// The list as CSV: `person_id,name,services,lead,lead_service,
/// home_visits,saved` (services as `service:contacts`, `;` separated).
pub fn to_csv(v: &Visits) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "person_id",
        "name",
        "services",
        "lead",
        "lead_service",
        "home_visits",
        "saved",
    ];
    w.write_record(header).expect("writing to memory");
    for r in &v.residents {
        let services: Vec<String> = r
            .services
            .iter()
            .map(|s| format!("{}:{}", s.service, s.contacts))
            .collect();
        w.write_record([
            r.person_id.clone(),
            r.name.clone().unwrap_or_default(),
            services.join(";"),
            r.lead
                .as_ref()
                .map(|l| l.practitioner.clone())
                .unwrap_or_default(),
            r.lead
                .as_ref()
                .map(|l| l.service.clone())
                .unwrap_or_default(),
            r.home_visits.to_string(),
            r.saved.to_string(),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(person: &str, date: &str, service: &str, kind: &str, who: &str) -> SharedEvent {
        SharedEvent {
            person: person.into(),
            source: "s".into(),
            date: date.into(),
            service: service.into(),
            contact_type: kind.into(),
            practitioner: who.into(),
        }
    }

    #[test]
    fn three_services_in_ninety_days_are_coordinated_under_a_caring_lead() {
        let today = Date::new(2026, 11, 22).unwrap();
        let events = [
            // An 84-year-old with reablement and safeguarding visits, and a
            // librarian who lends books every week.
            ev("P1", "2026-11-20", "library", "loan", "L. Librarian"),
            ev("P1", "2026-11-13", "library", "loan", "L. Librarian"),
            ev(
                "P1",
                "2026-11-06",
                "library",
                "home_library_service",
                "L. Librarian",
            ),
            ev("P1", "2026-11-10", "reablement", "home_visit", "R. Worker"),
            ev("P1", "2026-11-03", "reablement", "home_visit", "R. Worker"),
            ev(
                "P1",
                "2026-10-20",
                "safeguarding",
                "safeguarding_enquiry",
                "S. Officer",
            ),
            // Two services only: not listed.
            ev("P2", "2026-11-20", "reablement", "home_visit", "R. Worker"),
            ev("P2", "2026-11-19", "library", "loan", "L. Librarian"),
            // Three services, but one outside the window.
            ev("P3", "2026-11-20", "reablement", "home_visit", "R. Worker"),
            ev("P3", "2026-11-19", "library", "loan", "L. Librarian"),
            ev("P3", "2026-07-01", "housing", "tenancy_visit", "H. Officer"),
        ];
        let listed = coordinate(&events, lead::LEAD_SERVICES, today);
        assert_eq!(listed.len(), 1, "{listed:?}");
        let p1 = &listed[0];
        assert_eq!(p1.person_id, "P1");
        assert_eq!(p1.services.len(), 3);
        assert_eq!(p1.services[0].service, "library");
        let lead = p1.lead.as_ref().unwrap();
        assert_eq!(
            (lead.practitioner.as_str(), lead.service.as_str()),
            ("R. Worker", "reablement")
        );
        // Home visits: 2 reablement, 1 safeguarding, 1 home library.
        assert_eq!(p1.home_visits, 4);
        assert_eq!(p1.saved, 2, "the safeguarding and home-library visits");

        // The chart: each service involved, the residents it saw.
        let mut events = events.to_vec();
        events.push(ev("P4", "2026-11-01", "reablement", "home_visit", "R"));
        events.push(ev("P4", "2026-11-02", "housing", "tenancy_visit", "H"));
        events.push(ev("P4", "2026-11-03", "library", "loan", "L"));
        let residents = coordinate(&events, lead::LEAD_SERVICES, today);
        let v = Visits {
            since: "2026-08-25".into(),
            until: "2026-11-22".into(),
            sources: vec![],
            total_saved: residents.iter().map(|r| r.saved).sum(),
            residents,
        };
        let svg = chart(&v, |s| s.to_uppercase());
        assert!(
            svg.contains("2 residents seen by 3 or more services"),
            "{svg}"
        );
        assert!(
            svg.contains("LIBRARY: 2; REABLEMENT: 2; HOUSING: 1; SAFEGUARDING: 1"),
            "most first: {svg}"
        );
        assert!(svg.contains(&format!("would save {} home visits", v.total_saved)));
    }

    #[test]
    fn no_lead_service_means_no_lead_and_nothing_saved() {
        let today = Date::new(2026, 11, 22).unwrap();
        let events = [
            ev("P1", "2026-11-20", "library", "home_library_service", "L"),
            ev("P1", "2026-11-19", "housing", "tenancy_visit", "H"),
            ev(
                "P1",
                "2026-11-18",
                "neighbourhood_policing",
                "welfare_check",
                "P",
            ),
        ];
        let listed = coordinate(&events, lead::LEAD_SERVICES, today);
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].lead, None);
        assert_eq!((listed[0].home_visits, listed[0].saved), (3, 0));
        assert!(coordinate(&[], lead::LEAD_SERVICES, today).is_empty());
    }
}
