//! Demand by area over the same linked county (run from the fire test's
//! loop): pseudonymised (no person id, no full postcode in the report),
//! every contact the planning purpose may see counted once (placed or
//! said to be unplaced), forecasts with ordered intervals that beat
//! seasonal naive in the back-test, by ward with a lookup (postcodes it
//! does not hold labelled, not dropped), the reading audited, other roles
//! refused.

use std::collections::BTreeSet;

use wherry_access::Access;
use wherry_core::{Postcode, Purpose, Role};
use wherry_insight::demand::{NOT_IN_LOOKUP, demand, ward_lookup};
use wherry_insight::forecast::HORIZON;
use wherry_store::Store;

use super::visits::event_sources;
use super::{county, today};

pub async fn check(store: &Store, access: &Access, name: &str) {
    let ada = access
        .caller("ada", Role::Analyst, Purpose::Planning, None)
        .unwrap();
    let d = demand(access, &ada, None, today(), "r-demand")
        .await
        .unwrap();
    assert_eq!(d.area, "postcode_district");
    let sources = event_sources("planning");
    assert_eq!(
        d.sources.iter().cloned().collect::<BTreeSet<_>>(),
        sources,
        "{name}"
    );
    assert!(d.months.len() >= 23, "{name}: {:?}", d.months);
    assert_eq!(
        d.forecast_months,
        [
            "2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04"
        ]
    );
    assert!(d.series.len() >= 20, "{name}: {} series", d.series.len());
    // Pseudonymised: areas are districts, and nothing names a person.
    let text = serde_json::to_string(&d).unwrap();
    for s in &d.series {
        assert!(
            !s.area.contains(' ') && s.area.len() <= 4,
            "{name}: area {:?}",
            s.area
        );
        assert_eq!(s.contacts.len(), d.months.len());
        assert_eq!(s.forecast.len(), HORIZON);
        for f in &s.forecast {
            assert!(f.lo95 <= f.lo80 && f.lo80 <= f.mean && f.mean <= f.hi80 && f.hi80 <= f.hi95);
        }
    }
    let person_like = text
        .as_bytes()
        .windows(10)
        .any(|w| w[0] == b'P' && w[1..].iter().all(u8::is_ascii_digit));
    assert!(!person_like, "{name}: a person id in the report");
    // Every contact of the months counted, counted once: read here from
    // the store, not through the code under test.
    let sources: Vec<String> = sources.into_iter().collect();
    let first = format!("{}-01", d.months[0]);
    let last = d.months.last().unwrap().clone();
    let expected = store
        .linked_events(&sources, &first, &[])
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.date[..7] <= *last)
        .count() as u64;
    let counted: u64 = d.series.iter().flat_map(|s| &s.contacts).sum::<u64>() + d.unplaced;
    assert_eq!(counted, expected, "{name}");
    // The back-test: beats seasonal naive.
    let b = d.backtest.as_ref().unwrap();
    assert!(b.trials > 1000, "{b:?}");
    assert!(b.mase_wherry < b.mase_seasonal_naive, "{name}: {b:?}");
    // The reading audited, with no person.
    let audited: Vec<_> = store
        .audit_log(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.request_id == "r-demand")
        .collect();
    assert_eq!(audited.len(), 1, "{name}");
    assert_eq!(
        (audited[0].action.as_str(), audited[0].person_id.as_deref()),
        ("demand_report", None)
    );

    // By ward: every postcode of the social care extract in a ward named
    // by its sector, but for NR1's, which the lookup does not hold.
    let mut csv = String::from("postcode,ward\n");
    // (The extract plants malformed rows: read flexibly, skip what fails.)
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(county().join("extracts/social_care.csv"))
        .unwrap();
    let col = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "postcode")
        .unwrap();
    let mut seen = BTreeSet::new();
    for row in r.records().flatten() {
        if let Some(Ok(p)) = row.get(col).map(Postcode::parse)
            && p.district() != "NR1"
            && seen.insert(p.as_str().to_string())
        {
            csv.push_str(&format!("{},Ward {}\n", p.as_str(), p.sector()));
        }
    }
    let wards = ward_lookup("wards.csv", &csv).unwrap();
    let w = demand(access, &ada, Some(&wards), today(), "r-demand-w")
        .await
        .unwrap();
    assert_eq!(w.area, "ward");
    assert!(
        w.series.iter().any(|s| s.area.starts_with("Ward ")),
        "{name}"
    );
    assert!(
        w.not_in_lookup > 0,
        "{name}: NR1's residents are not in the lookup"
    );
    assert!(w.series.iter().any(|s| s.area == NOT_IN_LOOKUP));
    let total = |d: &wherry_insight::demand::Demand| {
        d.series.iter().flat_map(|s| &s.contacts).sum::<u64>() + d.unplaced
    };
    assert_eq!(total(&w), total(&d), "{name}: the same contacts, by ward");

    // Other roles: refused, and nothing recorded.
    let carol = access
        .caller("carol", Role::Caseworker, Purpose::DirectCare, None)
        .unwrap();
    let e = demand(access, &carol, None, today(), "r-demand-x")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("demand by area"), "{e}");
    let entries = store.audit_log(0).await.unwrap();
    assert!(
        entries.iter().all(|e| e.request_id != "r-demand-x"),
        "{name}"
    );
}
