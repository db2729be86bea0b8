//! Coordinated visits over the same linked county (run from the fire
//! test's loop, so the county is linked once per backend): three or more
//! services each, a lead only among the services that visit or care, the
//! events only of sources whose agreement shares them with the purpose
//! (read from the manifests here), every resident listed audited.

use std::collections::BTreeSet;

use wherry_access::Access;
use wherry_access::lead::LEAD_SERVICES;
use wherry_core::{Purpose, Role};
use wherry_insight::visits::{MIN_SERVICES, coordinated_visits};
use wherry_store::Store;

use super::{sources_dir, today};

/// The sources whose agreement shares contact events with `purpose`.
pub fn event_sources(purpose: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(sources_dir()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let t: toml::Table = text.parse().unwrap();
        let shares = t["agreement"]["purposes"]
            .get(purpose)
            .and_then(|g| g.get("events"))
            .and_then(|v| v.as_bool())
            == Some(true);
        if shares {
            out.insert(t["source"]["id"].as_str().unwrap().to_string());
        }
    }
    out
}

pub async fn check(store: &Store, access: &Access, name: &str) {
    let carol = access
        .caller("carol", Role::Caseworker, Purpose::DirectCare, None)
        .unwrap();
    let listed = coordinated_visits(access, &carol, today(), "r-visits")
        .await
        .unwrap();
    let expected = event_sources("direct_care");
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(
        listed.sources.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{name}"
    );
    assert!(
        listed.residents.len() >= 20,
        "{name}: {} residents",
        listed.residents.len()
    );
    // Residents a service that does not visit or care (housing, council
    // tax, benefits) has seen at least as often as the lead's service:
    // the busiest practitioner would have led them under a naive rule.
    let mut busier_not_leading = 0;
    for r in &listed.residents {
        assert!(r.services.len() >= MIN_SERVICES, "{name}: {r:?}");
        assert!(r.name.is_some(), "{name}: direct care sees names");
        for s in &r.services {
            assert!(s.last_contact.as_str() >= listed.since.as_str(), "{s:?}");
        }
        if let Some(lead) = &r.lead {
            assert!(
                LEAD_SERVICES.contains(&lead.service.as_str()),
                "{name}: {lead:?}"
            );
            assert!(r.services.iter().any(|s| s.service == lead.service));
            let others: usize = r
                .services
                .iter()
                .filter(|s| s.service != lead.service)
                .map(|s| s.home_visits)
                .sum();
            assert_eq!(r.saved, others, "{name}: {r:?}");
            let lead_contacts = r
                .services
                .iter()
                .find(|s| s.service == lead.service)
                .map(|s| s.contacts)
                .unwrap();
            if r.services.iter().any(|s| {
                !LEAD_SERVICES.contains(&s.service.as_str()) && s.contacts >= lead_contacts
            }) {
                busier_not_leading += 1;
            }
        } else {
            assert_eq!(r.saved, 0);
        }
    }
    assert!(
        busier_not_leading > 0,
        "{name}: some residents are led by a caring service though another was busier"
    );
    assert!(listed.total_saved > 0, "{name}");
    assert_eq!(
        listed.total_saved,
        listed.residents.iter().map(|r| r.saved).sum::<usize>()
    );
    // Every resident listed audited, and no one else.
    let audited: BTreeSet<String> = store
        .audit_log(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "coordinated_visits" && e.request_id == "r-visits")
        .map(|e| e.person_id.unwrap())
        .collect();
    let on_list: BTreeSet<String> = listed
        .residents
        .iter()
        .map(|r| r.person_id.clone())
        .collect();
    assert_eq!(audited, on_list, "{name}");
    // Fire prevention sees only the events its agreements share.
    let fred = access
        .caller("fred", Role::FirePrevention, Purpose::FirePrevention, None)
        .unwrap();
    let fire = coordinated_visits(access, &fred, today(), "r-visits-fire")
        .await
        .unwrap();
    assert_eq!(
        fire.sources.iter().cloned().collect::<BTreeSet<_>>(),
        event_sources("fire_prevention"),
        "{name}"
    );
    // An analyst sees pseudonymised data only: refused, nothing recorded.
    let ann = access
        .caller("ann", Role::Analyst, Purpose::Planning, None)
        .unwrap();
    let e = coordinated_visits(access, &ann, today(), "r-visits-x")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("coordinated visits"), "{e}");
    let entries = store.audit_log(0).await.unwrap();
    assert!(
        entries.iter().all(|e| e.request_id != "r-visits-x"),
        "{name}"
    );
}
