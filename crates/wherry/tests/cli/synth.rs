//! `wherry synth` and `wherry demo`: determinism and bad input.

use crate::util::*;

#[test]
fn same_seed_gives_byte_identical_output_and_another_seed_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    for (out, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
        let o = wherry(
            tmp.path(),
            &[
                "synth",
                "--residents",
                "10000",
                "--seed",
                seed,
                "--out",
                out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stdout(&o).contains("10,000"),
            "summary printed: {}",
            stdout(&o)
        );
    }
    let a = tree(&tmp.path().join("a"));
    let b = tree(&tmp.path().join("b"));
    let c = tree(&tmp.path().join("c"));
    assert!(a.len() >= 20, "a full county: {} files", a.len());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs between two runs with seed 7");
    }
    let differing = a.iter().zip(&c).filter(|((_, x), (_, y))| x != y).count();
    assert!(
        differing >= a.len() - 2,
        "seed 8 changes nearly every file ({differing} of {})",
        a.len()
    );
}

#[test]
fn bad_resident_counts_are_refused_with_a_reason() {
    let tmp = tempfile::tempdir().unwrap();
    for (value, reason) in [
        ("0", "at least 1"),
        ("-5", "not negative"),
        ("lots", "whole number"),
        ("1.5", "whole number"),
    ] {
        let o = wherry(
            tmp.path(),
            &["synth", "--residents", value, "--out", "county"],
        );
        assert!(!o.status.success(), "--residents {value} accepted");
        let e = stderr(&o);
        assert!(
            e.contains("--residents") && e.contains(reason),
            "--residents {value}: {e}"
        );
        assert!(
            !tmp.path().join("county").exists(),
            "nothing written for --residents {value}"
        );
    }
}

#[test]
fn an_unwritable_output_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, "keep me").unwrap();
    let under_file = file.join("county");
    for out in [
        under_file.to_str().unwrap(),
        "/proc/wherry-county",
        file.to_str().unwrap(),
    ] {
        let o = wherry(tmp.path(), &["synth", "--residents", "10", "--out", out]);
        assert!(!o.status.success(), "--out {out} accepted");
        assert!(
            stderr(&o).contains(out),
            "the error names {out}: {}",
            stderr(&o)
        );
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn a_non_empty_output_is_kept_unless_forced_and_only_a_county_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("county");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();

    let o = wherry(
        tmp.path(),
        &["synth", "--residents", "10", "--out", "county"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = wherry(
        tmp.path(),
        &["synth", "--residents", "10", "--out", "county", "--force"],
    );
    assert!(
        !o.status.success(),
        "--force must not delete a directory that is not a county"
    );
    assert!(
        stderr(&o).contains("not a synthetic county"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );

    let o = wherry(
        tmp.path(),
        &["synth", "--residents", "10", "--out", "fresh"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let first = std::fs::read(tmp.path().join("fresh/truth/residents.csv")).unwrap();
    let o = wherry(
        tmp.path(),
        &["synth", "--residents", "12", "--out", "fresh"],
    );
    assert!(
        !o.status.success(),
        "a county is not replaced without --force"
    );
    assert_eq!(
        std::fs::read(tmp.path().join("fresh/truth/residents.csv")).unwrap(),
        first
    );
    let o = wherry(
        tmp.path(),
        &["synth", "--residents", "12", "--out", "fresh", "--force"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let residents = std::fs::read_to_string(tmp.path().join("fresh/truth/residents.csv")).unwrap();
    assert_eq!(
        residents.lines().count(),
        13,
        "replaced by the 12-resident county"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary directories left behind");
}

#[test]
fn unknown_or_out_of_range_rates_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wherry(tmp.path(), &["synth", "--out", "c", "--rate", "typos=0.1"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("known rates: typo"), "{}", stderr(&o));
    let o = wherry(tmp.path(), &["synth", "--out", "c", "--rate", "typo=1.5"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("between 0 and 1"), "{}", stderr(&o));
    let o = wherry(
        tmp.path(),
        &[
            "synth",
            "--residents",
            "50",
            "--out",
            "c",
            "--rate",
            "typo=0.5",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = std::fs::read_to_string(tmp.path().join("c/summary.json")).unwrap();
    assert!(summary.contains("\"typo\": 0.5"), "{summary}");
}

#[test]
fn demo_generates_a_county_and_can_run_again_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&[][..], &["--force"][..]] {
        let mut all = vec!["demo", "--residents", "300", "--no-serve"];
        all.extend_from_slice(args);
        let o = wherry(tmp.path(), &all);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains("Wherry demo") && out.contains("300 in"),
            "{out}"
        );
        assert!(
            out.contains("Ingested gp_registrations") && out.contains("Linked "),
            "{out}"
        );
        let tokens: Vec<&str> = out
            .lines()
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("wherry_")))
            .collect();
        assert_eq!(tokens.len(), 8, "a token per role: {out}");
    }
    assert!(
        tmp.path()
            .join("wherry-demo/county/extracts/social_care.csv")
            .exists()
    );
}

/// Issue 13, defect 3: run again, the demo refused to touch the hub it
/// made (its store and audit trail byte for byte as they were), and a
/// busy port is found before anything is built.
#[test]
fn demo_refuses_an_existing_hub_without_force_and_checks_its_port_first() {
    let tmp = tempfile::tempdir().unwrap();
    let o = wherry(tmp.path(), &["demo", "--residents", "300", "--no-serve"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hub = tmp.path().join("wherry-demo/hub.db");
    let checkpoints = tmp.path().join("wherry-demo/hub.db.audit/audit.key");
    let before = (
        std::fs::read(&hub).unwrap(),
        std::fs::read(&checkpoints).unwrap(),
    );
    let again = wherry(tmp.path(), &["demo", "--residents", "300", "--no-serve"]);
    assert!(!again.status.success());
    let why = stderr(&again);
    assert!(
        why.contains("already holds a demo hub") && why.contains("--force"),
        "{why}"
    );
    assert_eq!(
        (
            std::fs::read(&hub).unwrap(),
            std::fs::read(&checkpoints).unwrap()
        ),
        before,
        "nothing lost"
    );

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().to_string();
    let o = wherry(
        tmp.path(),
        &[
            "demo",
            "--residents",
            "300",
            "--dir",
            "other",
            "--listen",
            &port,
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("cannot listen on {port}")),
        "{}",
        stderr(&o)
    );
    assert!(
        !tmp.path().join("other").exists(),
        "nothing built for a demo that cannot be served"
    );
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    let tmp = tempfile::tempdir().unwrap();
    let subcommands: [&[&str]; 11] = [
        &["synth"],
        &["demo"],
        &["link"],
        &["link", "evaluate"],
        &["link", "explain"],
        &["link", "run"],
        &["link", "changes"],
        &["init"],
        &["source", "check"],
        &["ingest"],
        &["review"],
    ];
    for sub in subcommands {
        let args: Vec<&str> = sub.iter().copied().chain(["--help"]).collect();
        let o = wherry(tmp.path(), &args);
        assert!(o.status.success(), "{sub:?}");
        let text = stdout(&o);
        assert!(
            text.contains("Example"),
            "{sub:?} --help has no example: {text}"
        );
        assert!(
            text.lines().next().is_some_and(|l| l.len() > 10),
            "{sub:?} --help says what it does: {text}"
        );
    }
}
