//! The access tests against a real `wherry serve` on SQLite and on
//! PostgreSQL, over HTTP on loopback: no token is 401; a purpose the role
//! lacks is 403 with no personal data; the fire prevention view never holds
//! a field the fire agreement withholds (checked against the manifests,
//! field by field); each successful read has exactly one audit entry; the
//! server stops cleanly on SIGTERM and the audit log verifies.

use std::path::Path;

use serde_json::Value;
use wherry_store::testing::stores;

use crate::util::*;

fn manifest(source: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"))
}

#[tokio::test]
async fn a_real_server_enforces_roles_purposes_and_agreements_and_audits_each_read() {
    let tmp = tempfile::tempdir().unwrap();
    ok(
        tmp.path(),
        &[
            "synth",
            "--residents",
            "3000",
            "--seed",
            "5",
            "--out",
            "county",
        ],
    );
    for t in stores().await {
        let db = t.url.as_str();
        ok(tmp.path(), &["init", "--database", db]);
        for (s, f) in [
            ("social_care", "social_care.csv"),
            ("fire_rescue", "fire_rescue.csv"),
            ("district_council", "district_council.csv"),
            ("police_vulnerable", "police_vulnerable.csv"),
        ] {
            let path = tmp.path().join("county/extracts").join(f);
            ok(
                tmp.path(),
                &[
                    "ingest",
                    "--source",
                    manifest(s).to_str().unwrap(),
                    path.to_str().unwrap(),
                    "--database",
                    db,
                ],
            );
        }
        ok(tmp.path(), &["link", "run", "--database", db]);
        let token = |name: &str, role: &str| {
            ok(
                tmp.path(),
                &["user", "add", name, "--role", role, "--database", db],
            )
            .lines()
            .last()
            .unwrap()
            .to_string()
        };
        let (advisor, fire) = (token("ann", "advisor"), token("fred", "fire_prevention"));
        // Residents known to the fire service and to another source.
        let mut persons: Vec<String> = Vec::new();
        let links = t.store.person_links().await.unwrap();
        for l in &links {
            let (s, p) = (&l.record.source, &l.person);
            if s == "fire_rescue"
                && links
                    .iter()
                    .any(|o| &o.person == p && o.record.source != "fire_rescue")
                && !persons.contains(p)
            {
                persons.push(p.clone());
            }
        }
        persons.truncate(10);
        assert!(persons.len() >= 5, "{}", t.name);
        // As if Fred had found each by a search: a reason to open them.
        for user in ["fred", "ann"] {
            t.store
                .relate(user, &persons, "search", i64::MAX)
                .await
                .unwrap();
        }

        let server = Server::start(tmp.path(), &["--database", db]);
        let get = |path: &str, token: Option<&str>, purpose: &str| {
            let auth = token.map(|t| format!("Bearer {t}"));
            let mut headers = vec![("Wherry-Purpose", purpose)];
            if let Some(a) = &auth {
                headers.push(("Authorization", a.as_str()));
            }
            let (status, body) = server.request("GET", path, &headers, "");
            (
                status,
                serde_json::from_str::<Value>(&body).unwrap_or_else(|_| panic!("{status}: {body}")),
            )
        };
        let first = format!("/api/v1/residents/{}", persons[0]);
        assert_eq!(get(&first, None, "contact_centre").0, 401);
        assert_eq!(get(&first, Some("wherry_forged"), "contact_centre").0, 401);
        let (status, body) = get(&first, Some(&advisor), "safeguarding");
        assert_eq!(status, 403, "{body}");
        assert_eq!(
            body.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["error", "message"],
            "no personal data in a refusal"
        );
        assert_eq!(get(&first, Some(&advisor), "gossip").0, 400);
        assert!(t.store.audit_log(0).await.unwrap().is_empty(), "{}", t.name);

        let fire_grants: std::collections::BTreeMap<String, wherry_core::PurposeGrant> = [
            "social_care",
            "fire_rescue",
            "district_council",
            "police_vulnerable",
        ]
        .into_iter()
        .map(|s| {
            let m = wherry_ingest::load_manifest(&manifest(s)).unwrap().0;
            (
                s.to_string(),
                m.agreement
                    .grant(wherry_core::Purpose::FirePrevention)
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect();
        let mut reads = 0;
        for p in &persons {
            let (status, body) = get(
                &format!("/api/v1/residents/{p}"),
                Some(&fire),
                "fire_prevention",
            );
            assert_eq!(status, 200, "{}: {body}", t.name);
            reads += 1;
            let mut shown = 0;
            for r in body["records"].as_array().unwrap() {
                let grant = &fire_grants[r["source"].as_str().unwrap()];
                for field in r["fields"].as_object().unwrap().keys() {
                    assert!(
                        grant.fields.contains(field),
                        "fire sees {}.{field}",
                        r["source"]
                    );
                    shown += 1;
                }
                for a in r["attributes"].as_object().unwrap().keys() {
                    assert!(
                        grant.attributes.contains(a),
                        "fire sees {} attribute {a}",
                        r["source"]
                    );
                }
            }
            assert!(
                shown >= 3,
                "{}: the fire view shows fields ({shown})",
                t.name
            );
            assert!(!body["golden_record"].as_object().unwrap().is_empty());
            for (field, chosen) in body["golden_record"].as_object().unwrap() {
                assert!(
                    fire_grants[chosen["source"].as_str().unwrap()]
                        .fields
                        .contains(field)
                );
            }
            assert_eq!(
                t.store.audit_log(0).await.unwrap().len(),
                reads,
                "one audit entry per read"
            );
        }
        let (status, _) = get(&first, Some(&advisor), "contact_centre");
        assert_eq!(status, 200);
        assert_eq!(
            get(
                "/api/v1/residents/P999999999",
                Some(&advisor),
                "contact_centre"
            )
            .0,
            404
        );
        assert_eq!(t.store.audit_log(0).await.unwrap().len(), reads + 1);
        let (status, metrics) = server.request("GET", "/metrics", &[], "");
        assert_eq!(status, 200);
        assert!(
            metrics.contains("route=\"/api/v1/residents/{id}\",status=\"200\"} 11"),
            "{metrics}"
        );
        assert!(server.stop(), "{}: a clean stop on SIGTERM", t.name);
        let out = ok(tmp.path(), &["audit", "verify", "--database", db]);
        assert!(
            out.contains(&format!("holds {} entries", reads + 1)),
            "{out}"
        );

        // Retention: nothing is withdrawn, so nothing is removed, however late.
        ok(
            tmp.path(),
            &["user", "add", "dpo", "--role", "admin", "--database", db],
        );
        let out = ok(
            tmp.path(),
            &[
                "retention",
                "run",
                "--today",
                "2099-01-01",
                "--operator",
                "dpo",
                "--purpose",
                "subject_rights",
                "--database",
                db,
            ],
        );
        assert!(out.contains("No record is past"), "{out}");
        let o = wherry(
            tmp.path(),
            &["retention", "run", "--today", "someday", "--database", db],
        );
        assert!(
            !o.status.success() && stderr(&o).contains("--today"),
            "{}",
            stderr(&o)
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn two_real_servers_on_one_store_share_a_web_session_and_a_restart_keeps_it() {
    let tmp = tempfile::tempdir().unwrap();
    for t in stores().await {
        let db = t.url.as_str();
        let o = wherry(tmp.path(), &["init", "--database", db]);
        assert!(o.status.success(), "{}", stderr(&o));
        let o = wherry(
            tmp.path(),
            &[
                "user",
                "add",
                "fay",
                "--role",
                "fire_prevention",
                "--database",
                db,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let token = stdout(&o).lines().last().unwrap().to_string();
        // Plain HTTP on this machine: cookies without `Secure`.
        let config = tmp.path().join(format!("plain-{}.toml", t.name));
        std::fs::write(&config, "secure_cookies = false\n").unwrap();
        let config = config.to_str().unwrap();
        let one = Server::start(tmp.path(), &["--database", db, "--config", config]);
        let two = Server::start(tmp.path(), &["--database", db, "--config", config]);

        // Sign in through the first.
        let (status, head, page) = one.exchange("GET", "/sign-in", &[], "");
        assert_eq!(status, 200);
        let form_cookie = cookie(&head, "wherry_sign_in").expect("the sign-in form's cookie");
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = &page[at..at + 64];
        let cookie_header = format!("wherry_sign_in={form_cookie}");
        let body = format!("csrf={csrf}&token={token}");
        let (status, head, _) = one.exchange(
            "POST",
            "/sign-in",
            &[
                ("Cookie", &cookie_header),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        );
        assert_eq!(status, 303, "{}: {head}", t.name);
        let session = format!(
            "wherry_session={}",
            cookie(&head, "wherry_session").unwrap()
        );

        // Continue through the second; and after the first is gone.
        let (status, _, page) = two.exchange("GET", "/search", &[("Cookie", &session)], "");
        assert_eq!(status, 200, "{}", t.name);
        assert!(page.contains("Signed in as fay"), "{page}");
        assert!(one.stop(), "the first server stops cleanly");
        let restarted = Server::start(tmp.path(), &["--database", db, "--config", config]);
        let (status, _, page) = restarted.exchange("GET", "/search", &[("Cookie", &session)], "");
        assert_eq!(status, 200);
        let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = page[at..at + 64].to_string();
        // Signed out through one: refused by the other at once.
        let (status, _, _) = two.exchange(
            "POST",
            "/sign-out",
            &[
                ("Cookie", &session),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &format!("csrf={csrf}"),
        );
        assert_eq!(status, 303);
        let (status, _, _) = restarted.exchange("GET", "/search", &[("Cookie", &session)], "");
        assert_eq!(status, 401, "{}", t.name);
        assert!(two.stop() && restarted.stop());
        t.finish().await;
    }
}

/// The value of cookie `name` set in a response head.
fn cookie(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| v.trim()))
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
