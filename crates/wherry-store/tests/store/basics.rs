//! Migrations and transactions.

use wherry_store::testing::stores;

#[tokio::test]
async fn migrations_apply_once_and_an_edited_one_is_refused() {
    for t in stores().await {
        assert!(
            t.store.require_initialised().await.is_err(),
            "{}: a new store is not initialised",
            t.name
        );
        let first = t.store.migrate().await.unwrap();
        assert!(!first.is_empty(), "{}", t.name);
        assert!(
            t.store.migrate().await.unwrap().is_empty(),
            "{}: the second run applies nothing",
            t.name
        );
        t.store.require_initialised().await.unwrap();
        assert_eq!(t.store.counts().await.unwrap(), Default::default());
        // Someone edits an applied migration (here: its recorded checksum changes).
        tamper(&t.url).await;
        let e = t.store.migrate().await.unwrap_err().to_string();
        assert!(
            e.contains("edited") && e.contains(&first[0].to_string()),
            "{}: {e}",
            t.name
        );
        t.finish().await;
    }
}

async fn tamper(url: &str) {
    let sql = "UPDATE wherry_migrations SET checksum = 'x'";
    if url.starts_with("sqlite") {
        let p = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&p).await.unwrap();
        p.close().await;
    } else {
        let p = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&p).await.unwrap();
        p.close().await;
    }
}

#[tokio::test]
async fn a_transaction_not_committed_leaves_nothing() {
    for t in stores().await {
        t.store.migrate().await.unwrap();
        {
            let mut tx = t.store.begin().await.unwrap();
            tx.upsert_source("s", "Partner", "Dataset", "{}")
                .await
                .unwrap();
            let id = tx
                .new_extract("s", "f.csv", "abc", "full", "test")
                .await
                .unwrap();
            tx.write_versions(
                id,
                "s",
                &[wherry_store::NewVersion {
                    record_id: "r1".into(),
                    version: 1,
                    row_hash: "h".into(),
                    fields: "{}".into(),
                    attributes: "{}".into(),
                    raw: "[]".into(),
                }],
            )
            .await
            .unwrap();
            // Dropped without commit: rolled back.
        }
        assert_eq!(
            t.store.counts().await.unwrap(),
            Default::default(),
            "{}",
            t.name
        );
        let mut tx = t.store.begin().await.unwrap();
        tx.upsert_source("s", "Partner", "Dataset", "{}")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(t.store.counts().await.unwrap().sources, 1, "{}", t.name);
        t.finish().await;
    }
}

/// Issue 13: a review item whose two records a steward has since put with
/// one person has nothing left to decide and leaves the open queue; one
/// the matcher linked itself in the uncertain band stays, to be confirmed
/// or split.
#[tokio::test]
async fn an_item_a_steward_has_settled_elsewhere_leaves_the_open_queue() {
    use wherry_store::{Link, LinkMethod, Linkage, NewReviewItem, RecordKey, ReviewStatus};
    for t in stores().await {
        t.store.migrate().await.unwrap();
        let link = |source: &str, id: &str, person: &str, method| Link {
            source: source.into(),
            record_id: id.into(),
            person: person.into(),
            method,
            probability: None,
        };
        use LinkMethod::{Automatic, Steward};
        let item = |l: &str, r: &str| NewReviewItem {
            left: RecordKey::new("a", l),
            right: RecordKey::new("b", r),
            probability: 0.7,
            explanation: "{}".into(),
        };
        let mut tx = t.store.begin().await.unwrap();
        tx.save_linkage(&Linkage {
            created: vec![
                "P000000001".into(),
                "P000000002".into(),
                "P000000003".into(),
            ],
            links: vec![
                // Apart: to decide.
                link("a", "1", "P000000001", Automatic),
                link("b", "1", "P000000002", Automatic),
                // Put together by a steward: nothing left to decide.
                link("a", "2", "P000000001", Automatic),
                link("b", "2", "P000000001", Steward),
                // Linked by the matcher in the uncertain band: to confirm.
                link("a", "3", "P000000003", Automatic),
                link("b", "3", "P000000003", Automatic),
            ],
            review: vec![item("1", "1"), item("2", "2"), item("3", "3")],
            ..Linkage::default()
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let open = t
            .store
            .review_items(Some(ReviewStatus::Open))
            .await
            .unwrap();
        let pairs: Vec<(&str, &str)> = open
            .iter()
            .map(|i| (i.left.record_id.as_str(), i.right.record_id.as_str()))
            .collect();
        assert_eq!(
            pairs,
            vec![("1", "1"), ("3", "3")],
            "{}: a steward put a/2 and b/2 together",
            t.name
        );
        // All items are still on record.
        assert_eq!(
            t.store.review_items(None).await.unwrap().len(),
            3,
            "{}",
            t.name
        );
        t.finish().await;
    }
}
