//! The audit chain on SQLite and PostgreSQL: entries appended in
//! transactions verify; editing, inserting or deleting a row in the
//! database, the newest included, makes verification fail and name it.

use wherry_access::audit::{Broken, append, append_all, verify_store};
use wherry_store::AuditEntry;
use wherry_store::testing::stores;

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        user_name: format!("user{}", i % 3),
        role: "caseworker".into(),
        purpose: "direct_care".into(),
        action: "view".into(),
        person_id: Some(format!("P{i:09}")),
        sources: r#"["social_care"]"#.into(),
        fields: r#"["given_name","dob"]"#.into(),
        request_id: format!("req-{i}"),
        break_glass: (i == 4).then(|| "urgent safeguarding call".to_string()),
        ..AuditEntry::default()
    }
}

#[tokio::test]
async fn tampering_with_any_entry_is_found_and_named() {
    for t in stores().await {
        t.store.migrate().await.unwrap();
        for i in 1..=6 {
            let mut tx = t.store.begin().await.unwrap();
            let e = append(&mut tx, entry(i)).await.unwrap();
            assert_eq!(e.seq, i as i64);
            tx.commit().await.unwrap();
        }
        // Several at once (as the server's audit writer appends them) chain
        // on from the single ones, and single ones chain on after them.
        let mut tx = t.store.begin().await.unwrap();
        let many = append_all(&mut tx, (7..=9).map(entry).collect())
            .await
            .unwrap();
        assert_eq!(many.iter().map(|e| e.seq).collect::<Vec<_>>(), [7, 8, 9]);
        assert_eq!(many[1].prev_hash, many[0].hash);
        append(&mut tx, entry(10)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(verify_store(&t.store).await.unwrap(), Ok(10), "{}", t.name);
        t.execute("DELETE FROM audit_log WHERE seq > 6").await;
        t.execute("UPDATE audit_head SET seq = 6, hash = (SELECT hash FROM audit_log WHERE seq = 6) WHERE id = 1")
            .await;
        // An entry appended in a transaction that rolls back leaves no trace.
        let mut tx = t.store.begin().await.unwrap();
        append(&mut tx, entry(99)).await.unwrap();
        drop(tx);
        assert_eq!(verify_store(&t.store).await.unwrap(), Ok(6), "{}", t.name);

        let broken = |seq: i64| move |r: Result<usize, Broken>| r.unwrap_err().seq == seq;
        t.execute("UPDATE audit_log SET purpose = 'safeguarding' WHERE seq = 3")
            .await;
        let r = verify_store(&t.store).await.unwrap();
        assert!(broken(3)(r.clone()), "{}: edited: {r:?}", t.name);
        t.execute("UPDATE audit_log SET purpose = 'direct_care' WHERE seq = 3")
            .await;
        assert_eq!(verify_store(&t.store).await.unwrap(), Ok(6), "put back");

        t.execute("DELETE FROM audit_log WHERE seq = 2").await;
        let r = verify_store(&t.store).await.unwrap();
        assert!(broken(2)(r.clone()), "{}: deleted: {r:?}", t.name);
        t.execute(
            "INSERT INTO audit_log SELECT 2, at, user_name, role, purpose, action, person_id, sources, fields,
             request_id, break_glass, prev_hash, hash, mac FROM audit_log WHERE seq = 3",
        )
        .await;
        let r = verify_store(&t.store).await.unwrap();
        assert!(
            broken(2)(r.clone()),
            "{}: forged in its place: {r:?}",
            t.name
        );
        t.execute("DELETE FROM audit_log WHERE seq = 2").await;

        // The newest entry removed: the head gives it away.
        t.execute("DELETE FROM audit_log WHERE seq >= 6").await;
        let r = verify_store(&t.store).await.unwrap();
        assert!(r.is_err(), "{}: the newest removed: {r:?}", t.name);
        t.finish().await;
    }
}

/// SQL of the test's own, made at run time (the harness takes statements
/// that live for the whole run).
fn sql(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The entry's chain rewritten as someone without the key would: new
/// hashes over edited content from `from` on, and the head moved to the
/// last.
async fn rechain(t: &wherry_store::testing::TestStore, from: i64, edit: &str) {
    let mut entries = t.store.audit_log(0).await.unwrap();
    let mut prev = String::new();
    for e in entries.iter_mut() {
        if e.seq >= from {
            e.user_name = format!("{}{edit}", e.user_name);
            e.prev_hash = prev.clone();
            e.hash = wherry_access::audit::hash_of(e);
            t.execute(sql(format!(
                "UPDATE audit_log SET user_name = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                e.user_name, e.prev_hash, e.hash, e.seq
            )))
            .await;
        }
        prev = e.hash.clone();
    }
    let last = entries.last().unwrap();
    t.execute(sql(format!(
        "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
        last.seq, last.hash
    )))
    .await;
}

#[tokio::test]
async fn with_its_key_and_checkpoints_the_log_shows_every_one_of_the_attacks_sixteen_tamperings() {
    let dir = std::env::temp_dir().join(format!("wherry-audit-trail-{}", std::process::id()));
    let trail = wherry_access::trail::open(&dir).unwrap();
    let cases: [(&str, &str); 16] = [
        ("edit a middle entry", "edited"),
        ("edit the first entry", "edited"),
        ("edit the newest entry", "edited"),
        ("edit an entry and re-hash it", "does not follow"),
        (
            "edit an entry and re-hash the rest of the chain and the head",
            "MAC",
        ),
        ("delete a middle entry", "removed"),
        ("delete the first entry", "removed"),
        ("delete the newest entry", "missing"),
        (
            "delete the newest entries and move the head back",
            "cut short",
        ),
        ("insert a copied entry in the middle", "does not follow"),
        ("append a forged entry with a valid chain and head", "MAC"),
        ("swap two entries", "follow"),
        ("change the head only", "head"),
        (
            "truncate to the first half and move the head back",
            "cut short",
        ),
        ("empty the log and reset the head", "cut short"),
        ("rewrite the whole log with a recomputed chain", "MAC"),
    ];
    for (case, expect) in cases {
        for t in stores().await {
            t.store.migrate().await.unwrap();
            std::fs::write(trail.file(), "").unwrap();
            for i in 1..=8 {
                let mut tx = t.store.begin().await.unwrap();
                let e = append(&mut tx, entry(i)).await.unwrap();
                tx.commit().await.unwrap();
                wherry_access::trail::checkpoint(e.seq, &e.hash).unwrap();
            }
            let v = wherry_access::trail::verify_trail(&t.store, trail)
                .await
                .unwrap();
            assert_eq!(
                v.map(|v| (v.entries, v.checkpoints)),
                Ok((8, 8)),
                "{}: untouched",
                t.name
            );
            match case {
                "edit a middle entry" => {
                    t.execute("UPDATE audit_log SET user_name = 'mallory' WHERE seq = 4")
                        .await
                }
                "edit the first entry" => {
                    t.execute("UPDATE audit_log SET purpose = 'research' WHERE seq = 1")
                        .await
                }
                "edit the newest entry" => {
                    t.execute("UPDATE audit_log SET person_id = 'P000000999' WHERE seq = 8")
                        .await
                }
                "edit an entry and re-hash it" => {
                    let mut e = t.store.audit_log(3).await.unwrap().remove(0);
                    e.user_name = "mallory".into();
                    let h = wherry_access::audit::hash_of(&e);
                    t.execute(sql(format!(
                        "UPDATE audit_log SET user_name = 'mallory', hash = '{h}' WHERE seq = 4"
                    )))
                    .await;
                }
                "edit an entry and re-hash the rest of the chain and the head" => {
                    rechain(&t, 4, "x").await
                }
                "delete a middle entry" => t.execute("DELETE FROM audit_log WHERE seq = 5").await,
                "delete the first entry" => t.execute("DELETE FROM audit_log WHERE seq = 1").await,
                "delete the newest entry" => t.execute("DELETE FROM audit_log WHERE seq = 8").await,
                "delete the newest entries and move the head back" => {
                    t.execute("DELETE FROM audit_log WHERE seq > 6").await;
                    t.execute("UPDATE audit_head SET seq = 6, hash = (SELECT hash FROM audit_log WHERE seq = 6) WHERE id = 1").await;
                }
                "insert a copied entry in the middle" => {
                    t.execute("UPDATE audit_log SET seq = -seq WHERE seq >= 5")
                        .await;
                    t.execute("UPDATE audit_log SET seq = 1 - seq WHERE seq < 0")
                        .await;
                    t.execute(
                        "INSERT INTO audit_log SELECT 5, at, user_name, role, purpose, action, person_id, sources, fields,
                         request_id, break_glass, prev_hash, hash, mac FROM audit_log WHERE seq = 4",
                    )
                    .await;
                }
                "append a forged entry with a valid chain and head" => {
                    let last = t.store.audit_log(7).await.unwrap().remove(0);
                    let mut e = entry(9);
                    e.seq = 9;
                    e.at = last.at.clone();
                    e.prev_hash = last.hash.clone();
                    e.hash = wherry_access::audit::hash_of(&e);
                    t.execute(sql(format!(
                        "INSERT INTO audit_log (seq, at, user_name, role, purpose, action, person_id, sources, fields, request_id, prev_hash, hash)
                         VALUES (9, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
                        e.at, e.user_name, e.role, e.purpose, e.action, e.person_id.clone().unwrap(), e.sources, e.fields, e.request_id, e.prev_hash, e.hash
                    )))
                    .await;
                    t.execute(sql(format!(
                        "UPDATE audit_head SET seq = 9, hash = '{}' WHERE id = 1",
                        e.hash
                    )))
                    .await;
                }
                "swap two entries" => {
                    t.execute("UPDATE audit_log SET seq = -3 WHERE seq = 3")
                        .await;
                    t.execute("UPDATE audit_log SET seq = 3 WHERE seq = 4")
                        .await;
                    t.execute("UPDATE audit_log SET seq = 4 WHERE seq = -3")
                        .await;
                }
                "change the head only" => {
                    t.execute("UPDATE audit_head SET hash = 'feed' WHERE id = 1")
                        .await
                }
                "truncate to the first half and move the head back" => {
                    t.execute("DELETE FROM audit_log WHERE seq > 4").await;
                    t.execute("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4) WHERE id = 1").await;
                }
                "empty the log and reset the head" => {
                    t.execute("DELETE FROM audit_log").await;
                    t.execute("UPDATE audit_head SET seq = 0, hash = '' WHERE id = 1")
                        .await;
                }
                "rewrite the whole log with a recomputed chain" => rechain(&t, 1, "y").await,
                _ => unreachable!(),
            }
            let r = wherry_access::trail::verify_trail(&t.store, trail)
                .await
                .unwrap();
            let broken = r.expect_err(&format!("{}: {case}: not detected", t.name));
            assert!(broken.why.contains(expect), "{}: {case}: {broken}", t.name);
            t.finish().await;
        }
    }
    // Without its checkpoints, a log is not vouched for; a forged
    // checkpoint line is named.
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let mut tx = t.store.begin().await.unwrap();
        let e = append(&mut tx, entry(1)).await.unwrap();
        tx.commit().await.unwrap();
        std::fs::write(trail.file(), "").unwrap();
        let r = wherry_access::trail::verify_trail(&t.store, trail)
            .await
            .unwrap();
        assert!(r.unwrap_err().why.contains("no checkpoint"), "{}", t.name);
        std::fs::write(
            trail.file(),
            format!("1\t{}\t2026-12-02T00:00:00Z\tnot-a-mac\n", e.hash),
        )
        .unwrap();
        let r = wherry_access::trail::verify_trail(&t.store, trail)
            .await
            .unwrap();
        assert!(r.unwrap_err().why.contains("forged"), "{}", t.name);
        t.finish().await;
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
