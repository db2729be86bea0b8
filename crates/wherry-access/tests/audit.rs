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
             request_id, break_glass, prev_hash, hash FROM audit_log WHERE seq = 3",
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
