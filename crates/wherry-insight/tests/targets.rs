//! Fire targets over a linked synthetic county, on SQLite and PostgreSQL:
//! the planted high-risk homes near the top of the list; nothing on the
//! list that the `fire_prevention` purpose may not see (checked against
//! the manifests as this test reads them, not as the code under test
//! does); every resident listed audited, and no one else; other roles
//! refused. Coordinated visits, demand, open data, the pseudonymised
//! extract and programme outcomes are checked over the same county
//! (`targets/*.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;
use wherry_access::shared::Events;
use wherry_access::{Access, Policy};
use wherry_core::{Date, Purpose, Role};
use wherry_insight::targets::fire_targets;
use wherry_insight::weights::Weights;
use wherry_store::Store;
use wherry_store::testing::stores;

#[path = "targets/demand.rs"]
mod demand;
#[path = "targets/extract.rs"]
mod extract;
#[path = "targets/outcomes.rs"]
mod outcomes;
#[path = "targets/publish.rs"]
mod publish;
#[path = "targets/visits.rs"]
mod visits;

fn county() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("insight-county");
        let config = wherry_synth::Config {
            residents: 20_000,
            seed: 3,
            ..Default::default()
        };
        wherry_synth::generate(&config, &dir, true, &mut |_, _| {}).unwrap();
        dir
    })
}

fn sources_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sources")
}

fn today() -> Date {
    Date::new(2026, 11, 22).unwrap()
}

/// Every partner's extract and events ingested, the sensor service's
/// agreement registered, and the records linked.
async fn linked(store: &Store) {
    store.migrate().await.unwrap();
    for entry in std::fs::read_dir(sources_dir()).unwrap() {
        let path = entry.unwrap().path();
        let m = wherry_ingest::load_manifest(&path).unwrap().0;
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let extracts = county().join("extracts");
        let file = [format!("{stem}.csv"), format!("{stem}.jsonl")]
            .into_iter()
            .map(|f| extracts.join(f))
            .find(|f| f.exists());
        match file {
            Some(f) => {
                let events = extracts.join(format!("{stem}_events.csv"));
                let events = events.exists().then_some(events);
                wherry_ingest::ingest(store, &m, &f, events.as_deref(), "test", today())
                    .await
                    .unwrap();
            }
            None => wherry_ingest::register(store, &m).await.unwrap(),
        }
    }
    wherry_hub::link_run(
        store,
        &wherry_hub::RunOptions::default(),
        std::sync::Arc::new(()),
    )
    .await
    .unwrap();
}

/// What each source's agreement grants `purpose`, read from the manifests
/// here: fields and attributes by name, and whether events.
fn grants(purpose: &str) -> (BTreeSet<String>, bool) {
    let mut names = BTreeSet::new();
    let mut events = false;
    for entry in std::fs::read_dir(sources_dir()).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let t: toml::Table = text.parse().unwrap();
        let Some(g) = t["agreement"]["purposes"].get(purpose) else {
            continue;
        };
        for key in ["fields", "attributes"] {
            for v in g.get(key).and_then(|v| v.as_array()).into_iter().flatten() {
                names.insert(v.as_str().unwrap().to_string());
            }
        }
        events |= g.get("events").and_then(|v| v.as_bool()) == Some(true);
    }
    (names, events)
}

/// The data item a listed factor was read from (as the manifests name it).
fn read_from(factor: &str) -> &str {
    match factor {
        "aged_80_plus" | "aged_65_to_79" => "dob",
        "private_rented" => "tenure",
        "no_recent_visit" => "events",
        f => f,
    }
}

#[tokio::test]
async fn the_fire_list_finds_the_planted_homes_shows_only_what_the_purpose_may_see_and_is_audited()
{
    let truth: Vec<BTreeMap<String, String>> =
        csv::Reader::from_path(county().join("truth/risk_truth.csv"))
            .unwrap()
            .deserialize()
            .map(|r| r.unwrap())
            .collect();
    let planted: Vec<&String> = truth
        .iter()
        .filter(|r| r["planted"] == "true")
        .map(|r| &r["uprn"])
        .collect();
    assert!(
        planted.len() >= 10,
        "the county plants high-risk homes: {}",
        planted.len()
    );
    let (granted, events) = grants("fire_prevention");
    for t in stores().await {
        linked(&t.store).await;
        let access = Access::new(t.store.clone(), Policy::default());
        let fred = access
            .caller("fred", Role::FirePrevention, Purpose::FirePrevention, None)
            .unwrap();
        let all = fire_targets(
            &access,
            &fred,
            &Weights::default(),
            usize::MAX,
            today(),
            "r1",
        )
        .await
        .unwrap();
        assert_eq!(all.targets.len(), all.homes, "{}", t.name);
        // ≥ 90% of the planted homes in the top tenth of the list.
        let top: BTreeSet<&String> = all.targets[..all.homes / 10]
            .iter()
            .map(|x| &x.scored.uprn)
            .collect();
        let found = planted.iter().filter(|u| top.contains(*u)).count();
        assert!(
            found * 10 >= planted.len() * 9,
            "{}: {found} of {} planted homes in the top 10% ({} homes)",
            t.name,
            planted.len(),
            all.homes
        );
        // Nothing the purpose may not see: each item shown, and each
        // factor's source, granted by some agreement.
        let json = serde_json::to_value(&all).unwrap();
        let mut shown: BTreeSet<String> = BTreeSet::new();
        for x in json["targets"].as_array().unwrap() {
            shown.insert("uprn".into());
            if !x["address"].is_null() {
                shown.extend(["address".to_string(), "postcode".to_string()]);
            }
            if x["residents"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| !r["name"].is_null())
            {
                shown.extend(["given_name".to_string(), "family_name".to_string()]);
            }
            for r in x["reasons"].as_array().unwrap() {
                shown.insert(read_from(r["factor"].as_str().unwrap()).to_string());
            }
            let keys: BTreeSet<&str> = x.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                [
                    "address",
                    "ceiling",
                    "completeness",
                    "postcode",
                    "rank",
                    "reasons",
                    "residents",
                    "score",
                    "unknown",
                    "uprn"
                ]
                .into(),
                "{}: a listed home has only these",
                t.name
            );
        }
        for item in &shown {
            let ok = if item == "events" {
                events
            } else {
                granted.contains(item)
            };
            assert!(
                ok,
                "{}: {item} is on the list but not granted to fire_prevention",
                t.name
            );
        }
        // A factor no agreement shares with the purpose is unknown, for
        // every home, and never gives points.
        let withheld: Vec<&str> = ["care_package", "alcohol_concern", "mental_health_concern"]
            .into_iter()
            .filter(|f| !granted.contains(*f))
            .collect();
        assert!(!withheld.is_empty());
        for f in &withheld {
            assert!(
                json["never_shared"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|v| v == f),
                "{}: {f}",
                t.name
            );
        }
        for x in json["targets"].as_array().unwrap().iter().take(50) {
            let unknown: Vec<&Value> = x["unknown"].as_array().unwrap().iter().collect();
            for f in &withheld {
                assert!(unknown.iter().any(|v| v == f), "{}: {x}", t.name);
            }
        }
        // The chart: how many listed homes each factor put there, as the
        // list itself says; the withheld factors as not shared.
        let svg = wherry_insight::targets::chart(&all);
        let mut per: BTreeMap<String, usize> = BTreeMap::new();
        for x in json["targets"].as_array().unwrap() {
            for r in x["reasons"].as_array().unwrap() {
                *per.entry(r["factor"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        assert!(per.len() >= 5, "{}: {per:?}", t.name);
        for (code, homes) in &per {
            let label = wherry_insight::fire::Factor::from_code(code)
                .unwrap()
                .label();
            assert!(
                svg.contains(&format!("{label}: {homes};"))
                    || svg.contains(&format!("{label}: {homes}<")),
                "{}: {label}",
                t.name
            );
        }
        for f in &withheld {
            let label = wherry_insight::fire::Factor::from_code(f).unwrap().label();
            assert!(
                svg.contains(&format!("{label}: not shared")),
                "{}: {label}",
                t.name
            );
        }
        check_audit_and_refusals(&t.store, &access, &fred, t.name).await;
        visits::check(&t.store, &access, t.name).await;
        demand::check(&t.store, &access, t.name).await;
        publish::check(&t.store, &access, t.name).await;
        extract::check(&access, t.name).await;
        outcomes::check(&t.store, &access, t.name).await;
        // Read a page at a time, small pages give the same records.
        let mut whole = Vec::new();
        let roles = wherry_insight::targets::ROLES;
        access
            .county(&fred, roles, "a test", Events::since("2026-01-01"), |r| {
                whole.push(r)
            })
            .await
            .unwrap();
        let mut paged = Vec::new();
        access
            .county_in_pages(
                &fred,
                roles,
                "a test",
                Events::since("2026-01-01"),
                997,
                |r| paged.push(r),
            )
            .await
            .unwrap();
        assert!(whole.len() > 3 * 997, "{}: {} records", t.name, whole.len());
        assert_eq!(paged, whole, "{}", t.name);
        t.finish().await;
    }
}

/// Each listed resident audited, and no one else; other roles refused.
async fn check_audit_and_refusals(
    store: &Store,
    access: &Access,
    fred: &wherry_access::Caller,
    name: &str,
) {
    let listed = fire_targets(access, fred, &Weights::default(), 25, today(), "r-audit")
        .await
        .unwrap();
    assert_eq!(listed.targets.len(), 25, "{}", name);
    let on_list: BTreeSet<String> = listed
        .targets
        .iter()
        .flat_map(|x| x.residents.iter().map(|r| r.person_id.clone()))
        .collect();
    let entries = store.audit_log(0).await.unwrap();
    let audited: BTreeSet<String> = entries
        .iter()
        .filter(|e| e.action == "fire_targets" && e.request_id == "r-audit")
        .map(|e| e.person_id.clone().unwrap())
        .collect();
    assert!(!on_list.is_empty());
    assert_eq!(
        audited, on_list,
        "{}: audited exactly the residents listed",
        name
    );
    for e in entries.iter().filter(|e| e.action == "fire_targets") {
        assert_eq!(
            (e.user_name.as_str(), e.purpose.as_str()),
            ("fred", "fire_prevention")
        );
        assert!(e.fields.contains("uprn"), "{}", e.fields);
    }
    // Other roles: refused, and nothing recorded for them.
    for (role, purpose) in [
        (Role::Caseworker, Purpose::DirectCare),
        (Role::Analyst, Purpose::Planning),
    ] {
        let caller = access.caller("x", role, purpose, None).unwrap();
        let e = fire_targets(access, &caller, &Weights::default(), 10, today(), "r-x")
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("fire-prevention targeting is for the fire_prevention role"),
            "{}: {e}",
            name
        );
    }
    let entries = store.audit_log(0).await.unwrap();
    assert!(entries.iter().all(|e| e.request_id != "r-x"), "{name}");
}
