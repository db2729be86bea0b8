//! Issue 13, defect 6: each way a new user meets a wrong store, file or
//! address gets one line naming what, where and what to do, within a few
//! seconds, and nothing is left behind (no empty `wherry.db`).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{stderr, wherry};

/// Runs `args` in `dir`, expecting failure: its one line of error, and how
/// long it took.
fn fails(dir: &Path, args: &[&str]) -> (String, Duration) {
    let started = Instant::now();
    let o = wherry(dir, args);
    let took = started.elapsed();
    assert!(!o.status.success(), "{args:?} should fail");
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line, not:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    (lines[0].to_string(), took)
}

/// No phrase said twice: the repeated causes the defect found.
fn said_once(line: &str, phrase: &str) {
    assert_eq!(
        line.matches(phrase).count(),
        1,
        "{phrase:?} once in: {line}"
    );
}

fn manifest() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources/social_care.toml")
        .display()
        .to_string()
}

#[test]
fn defect_06_a_store_that_is_not_there_is_named_with_what_to_do_and_never_made() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rows.csv"), "a,b\n1,2\n").unwrap();
    let m = manifest();
    for args in [
        vec!["ingest", "--source", m.as_str(), "rows.csv"],
        vec!["serve", "--listen", "127.0.0.1:0"],
        vec!["user", "list"],
        vec!["review", "list", "--purpose", "record_matching"],
    ] {
        let (line, took) = fails(d, &args);
        assert!(
            line.contains("there is no store at wherry.db")
                && line.contains("wherry init --database sqlite://wherry.db"),
            "{args:?}: {line}"
        );
        assert!(took < Duration::from_secs(5), "{args:?}: {took:?}");
        assert!(
            !d.join("wherry.db").exists(),
            "{args:?} left an empty store behind"
        );
    }
    // A store in a directory that does not exist.
    let (line, _) = fails(d, &["init", "--database", "sqlite://no/such/dir/hub.db"]);
    assert!(
        line.contains("the directory no/such/dir does not exist"),
        "{line}"
    );
    // A directory given as the store.
    std::fs::create_dir(d.join("adir")).unwrap();
    let (line, _) = fails(d, &["init", "--database", "sqlite://adir"]);
    assert!(
        line.contains("adir is a directory, not a store file"),
        "{line}"
    );
    // A file that is no database: SQLite's reason once, and what to check.
    std::fs::write(d.join("notes.db"), vec![b'x'; 4096]).unwrap();
    let (line, _) = fails(d, &["user", "list", "--database", "sqlite://notes.db"]);
    assert!(line.contains("notes.db"), "{line}");
    said_once(&line, "not a database");
}

#[test]
fn defect_06_an_ingest_of_a_missing_file_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(wherry(d, &["init"]).status.success());
    let m = manifest();
    let (line, _) = fails(d, &["ingest", "--source", m.as_str(), "missing.csv"]);
    assert!(line.contains("missing.csv"), "{line}");
    said_once(&line, "No such file or directory");
    let (line, _) = fails(d, &["ingest", "--source", "nope.toml", "missing.csv"]);
    assert!(line.contains("nope.toml"), "{line}");
    said_once(&line, "No such file or directory");
}

#[test]
fn defect_06_postgresql_that_is_not_there_is_said_within_seconds() {
    let base = match std::env::var("WHERRY_TEST_DATABASE_URL") {
        Ok(u) if u == "none" => return eprintln!("notice: PostgreSQL half skipped (=none)"),
        Ok(u) if !u.is_empty() => u,
        _ => wherry_store::testing::LOCAL_POSTGRES.to_string(),
    };
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = base.rsplit_once('/').unwrap();
    let missing = format!("{server}/wherry_no_such_database");
    let (line, took) = fails(dir.path(), &["user", "list", "--database", &missing]);
    assert!(
        line.contains("has no database \"wherry_no_such_database\"") && line.contains("createdb"),
        "{line}"
    );
    assert!(!line.contains(" at line "), "no source positions: {line}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let wrong = format!("postgres://postgres@127.0.0.1:{port}/test");
    let (line, took) = fails(dir.path(), &["user", "list", "--database", &wrong]);
    assert!(
        line.contains(&format!("does not answer at 127.0.0.1:{port}"))
            || line.contains(&format!("did not answer at 127.0.0.1:{port}")),
        "{line}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn defect_06_serve_listen_with_a_port_alone_says_how_to_write_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(wherry(d, &["init"]).status.success());
    let (line, _) = fails(d, &["serve", "--listen", "8080"]);
    assert!(
        line.contains("--listen takes an address with its port, such as 127.0.0.1:8080"),
        "{line}"
    );
}
