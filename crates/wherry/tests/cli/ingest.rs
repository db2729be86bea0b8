//! `wherry ingest` as a process: killed part-way, it leaves the store as it
//! was; run again, the store equals a clean single run.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use wherry_store::testing::stores;

use crate::util::*;

fn manifest(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(name)
        .display()
        .to_string()
}

/// `wherry ingest` of `extract` under manifest `source` into the store at `url`.
fn load(dir: &Path, source: &str, extract: &str, url: &str) -> std::process::Output {
    wherry(
        dir,
        &[
            "ingest",
            "--source",
            source,
            extract,
            "--database",
            url,
            "--json",
        ],
    )
}

/// Whether the ingest process is visibly writing: for SQLite its write-ahead
/// log has grown past 4 MiB; for PostgreSQL it is copying or inserting
/// record versions.
async fn writing(url: &str) -> bool {
    if let Some(path) = url.strip_prefix("sqlite://") {
        return std::fs::metadata(format!("{path}-wal"))
            .map(|m| m.len() > 4 << 20)
            .unwrap_or(false);
    }
    let db = url.rsplit('/').next().unwrap();
    let admin = url.replace(&format!("/{db}"), "/postgres");
    let Ok(pool) = sqlx::PgPool::connect(&admin).await else {
        return false;
    };
    let n: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND (query LIKE 'INSERT INTO record_versions%' OR query LIKE 'COPY record_versions%')",
    )
    .bind(db)
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n.0 > 0
}

#[tokio::test]
async fn a_killed_ingest_leaves_nothing_and_a_rerun_equals_a_clean_run() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wherry(
        tmp.path(),
        &[
            "synth",
            "--residents",
            "60000",
            "--seed",
            "3",
            "--out",
            "county",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let extract = tmp
        .path()
        .join("county/extracts/gp_registrations.jsonl")
        .display()
        .to_string();
    let gp = manifest("gp_registrations.toml");
    for t in stores().await {
        let init = wherry(tmp.path(), &["init", "--database", &t.url]);
        assert!(init.status.success(), "{}", stderr(&init));
        let mut child = crate::util::command(
            tmp.path(),
            &["ingest", "--source", &gp, &extract, "--database", &t.url],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let started = Instant::now();
        while !writing(&t.url).await {
            assert!(
                child.try_wait().unwrap().is_none(),
                "{}: the ingest finished before it could be killed",
                t.name
            );
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{}: the ingest never started writing",
                t.name
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let after_kill = t.store.counts().await.unwrap();
        assert_eq!(
            after_kill,
            Default::default(),
            "{}: a killed ingest left {after_kill:?}",
            t.name
        );
        let o = load(tmp.path(), &gp, &extract, &t.url);
        assert!(o.status.success(), "{}: {}", t.name, stderr(&o));
        let rerun = t.store.counts().await.unwrap();
        let rerun_records = t.store.records("gp_registrations").await.unwrap();
        let backend = t.name;
        t.finish().await;
        // A clean single run on a fresh store of the same backend.
        let clean = stores()
            .await
            .into_iter()
            .find(|c| c.name == backend)
            .unwrap();
        let init = wherry(tmp.path(), &["init", "--database", &clean.url]);
        assert!(init.status.success());
        let o = load(tmp.path(), &gp, &extract, &clean.url);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(rerun, clean.store.counts().await.unwrap(), "{}", clean.name);
        assert_eq!(
            rerun_records,
            clean.store.records("gp_registrations").await.unwrap(),
            "{}",
            clean.name
        );
        assert!(rerun.records > 50_000, "{}: {rerun:?}", clean.name);
        clean.finish().await;
    }
}
