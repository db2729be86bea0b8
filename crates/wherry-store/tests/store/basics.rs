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
