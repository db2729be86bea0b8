//! `wherry insight fire-targets` as a fire prevention officer runs it: a
//! CSV for visit planning sized by --top, a weights file applied or
//! refused with its line, and the purpose and role checked.

use crate::util::*;

#[test]
fn fire_targets_lists_homes_for_visit_planning_as_the_purpose_may_see_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok(
        dir,
        &[
            "synth",
            "--residents",
            "1500",
            "--seed",
            "9",
            "--out",
            "county",
        ],
    );
    let db = format!("sqlite://{}", dir.join("hub.db").display());
    ok(dir, &["init", "--database", &db]);
    for source in ["social_care", "fire_rescue", "district_council"] {
        let extracts = dir.join("county/extracts");
        let file = extracts.join(format!("{source}.csv")).display().to_string();
        let events = extracts
            .join(format!("{source}_events.csv"))
            .display()
            .to_string();
        ok(
            dir,
            &[
                "ingest",
                "--source",
                &manifest(source),
                &file,
                "--events",
                &events,
                "--database",
                &db,
            ],
        );
    }
    ok(dir, &["link", "run", "--database", &db]);
    ok(
        dir,
        &[
            "user",
            "add",
            "fred",
            "--role",
            "fire_prevention",
            "--database",
            &db,
        ],
    );
    ok(
        dir,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "caseworker",
            "--database",
            &db,
        ],
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "insight",
            "fire-targets",
            "--on",
            "2026-11-22",
            "--database",
            &db,
        ];
        args.extend_from_slice(extra);
        wherry(dir, &args)
    };
    let o = run(&[
        "--top",
        "20",
        "--purpose",
        "fire_prevention",
        "--operator",
        "fred",
        "--chart",
        "fire.svg",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("rank,uprn,score,ceiling,completeness,address,postcode,residents,factors,unknown")
    );
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(rows.len(), 20, "{out}");
    // The chart: the homes each factor put on the list, as the list says.
    let svg = std::fs::read_to_string(dir.join("fire.svg")).unwrap();
    assert!(svg.contains(r#"role="img""#) && svg.contains("The 20 homes listed"));
    let aged = rows
        .iter()
        .filter(|r| r[8].contains("aged_80_plus:"))
        .count();
    assert!(
        aged > 0 && svg.contains(&format!("Aged 80 or over: {aged}")),
        "{svg}"
    );
    let scores: Vec<u32> = rows.iter().map(|r| r[2].parse().unwrap()).collect();
    assert!(scores.windows(2).all(|p| p[0] >= p[1]), "{scores:?}");
    assert!(scores[0] > 0);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[0], (i + 1).to_string());
        // The points listed add up to the score.
        let points: u32 = r[8]
            .split(';')
            .filter(|f| !f.is_empty())
            .map(|f| f.rsplit_once(':').unwrap().1.parse::<u32>().unwrap())
            .sum();
        assert_eq!(points.to_string(), r[2], "{r:?}");
        // care_package is not shared with fire prevention: unknown.
        assert!(r[9].contains("care_package"), "{r:?}");
    }
    assert!(stderr(&o).contains("20 homes listed of"), "{}", stderr(&o));

    // A weights file: applied, or refused naming the line.
    std::fs::write(dir.join("zero.toml"), "[weights]\nsmoker = 0\n").unwrap();
    let o = run(&[
        "--top",
        "50",
        "--weights",
        "zero.toml",
        "--purpose",
        "fire_prevention",
        "--operator",
        "fred",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("smoker:"), "{}", stdout(&o));
    assert!(out.contains("smoker:"), "the default weighs smoking: {out}");
    std::fs::write(dir.join("bad.toml"), "[weights]\nsmoking = 3\n").unwrap();
    let refusals: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--weights",
                "bad.toml",
                "--purpose",
                "fire_prevention",
                "--operator",
                "fred",
            ],
            "bad.toml line 2: `smoking` is not a factor; the factors are aged_80_plus",
        ),
        (
            vec!["--operator", "fred"],
            "discloses personal data: name its purpose with --purpose",
        ),
        (
            vec!["--purpose", "direct_care", "--operator", "carol"],
            "fire-prevention targeting is for the fire_prevention role",
        ),
        (
            vec![
                "--weights",
                "missing.toml",
                "--purpose",
                "fire_prevention",
                "--operator",
                "fred",
            ],
            "reading the weights file missing.toml",
        ),
        (
            vec![
                "--top",
                "0",
                "--purpose",
                "fire_prevention",
                "--operator",
                "fred",
            ],
            "--top <TOP>",
        ),
    ];
    for (args, expected) in refusals {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}: nothing listed");
    }

    // Coordinated visits, as a caseworker: three or more services each,
    // a lead from a service that visits or cares.
    let o = wherry(
        dir,
        &[
            "insight",
            "visits",
            "--on",
            "2026-11-22",
            "--chart",
            "visits.svg",
            "--purpose",
            "direct_care",
            "--operator",
            "carol",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    assert!(!rows.is_empty(), "{out}");
    let svg = std::fs::read_to_string(dir.join("visits.svg")).unwrap();
    assert!(svg.contains(&format!(
        "{} residents seen by 3 or more services",
        rows.len()
    )));
    // Each service involved: the residents listed it saw, as the list says.
    let services = |r: &csv::StringRecord| -> Vec<String> {
        r[2].split(';')
            .map(|s| s.split(':').next().unwrap().to_string())
            .collect()
    };
    let involved: std::collections::BTreeSet<String> = rows.iter().flat_map(services).collect();
    assert!(involved.len() >= 3, "{involved:?}");
    for s in &involved {
        let saw = rows.iter().filter(|r| services(r).contains(s)).count();
        let said = format!("{}: {saw}", s.replace('_', " "));
        assert!(svg.contains(&said), "{said}: {svg}");
    }
    for r in &rows {
        assert!(r[2].split(';').count() >= 3, "{r:?}");
        assert!(
            r[4].is_empty() || wherry_access::lead::LEAD_SERVICES.contains(&&r[4]),
            "{r:?}"
        );
    }
    assert!(
        stderr(&o).contains("one lead each would save"),
        "{}",
        stderr(&o)
    );
    let o = wherry(
        dir,
        &[
            "insight",
            "visits",
            "--purpose",
            "planning",
            "--operator",
            "carol",
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("may not use"), "{}", stderr(&o));

    // Open data, as an analyst: each table with its CSVW metadata.
    ok(
        dir,
        &["user", "add", "ada", "--role", "analyst", "--database", &db],
    );
    let o = wherry(
        dir,
        &[
            "publish",
            "--out",
            "open",
            "--on",
            "2026-11-22",
            "--purpose",
            "planning",
            "--operator",
            "ada",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for table in [
        "contacts-by-district",
        "residents-by-district",
        "contacts-by-month",
    ] {
        let csv = std::fs::read_to_string(dir.join(format!("open/{table}.csv"))).unwrap();
        let meta: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("open/{table}.csv-metadata.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(meta["url"], format!("{table}.csv"));
        assert_eq!(meta["dc:temporal"], "2025-11/2026-10");
        let header = csv.lines().next().unwrap();
        let names: Vec<&str> = meta["tableSchema"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["titles"].as_str().unwrap())
            .collect();
        assert_eq!(header.split(',').collect::<Vec<_>>(), names, "{table}");
        let svg = std::fs::read_to_string(dir.join(format!("open/{table}.svg"))).unwrap();
        assert!(
            svg.contains(&format!("<title id=\"{table}-chart-title\">")),
            "{svg}"
        );
    }
    assert!(
        stderr(&o).contains("tables written to open"),
        "{}",
        stderr(&o)
    );
    for (args, says) in [
        (vec!["--threshold", "0"], "threshold must be at least 1"),
        (vec!["--rounding", "0"], "rounding base must be at least 1"),
    ] {
        let mut all = vec![
            "publish",
            "--out",
            "x",
            "--purpose",
            "planning",
            "--operator",
            "ada",
            "--database",
            &db,
        ];
        all.extend(args);
        let o = wherry(dir, &all);
        assert!(
            !o.status.success() && stderr(&o).contains(says),
            "{}",
            stderr(&o)
        );
    }
    let o = wherry(
        dir,
        &[
            "publish",
            "--out",
            "y",
            "--purpose",
            "direct_care",
            "--operator",
            "carol",
            "--database",
            &db,
        ],
    );
    assert!(
        !o.status.success() && stderr(&o).contains("publishing open data"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("y").exists(), "nothing written when refused");

    // The pseudonymised extract: the hub's own key by default (the same
    // pseudonyms each time), another key gives others; a bad key refused.
    let x = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "extract",
            "--out",
            out,
            "--on",
            "2026-11-22",
            "--purpose",
            "planning",
            "--operator",
            "ada",
            "--database",
            &db,
        ];
        args.extend_from_slice(extra);
        wherry(dir, &args)
    };
    let pids = |csv: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(csv)).unwrap();
        let mut p: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect();
        p.sort();
        p
    };
    let o = x("a.parquet", &["--csv", "a.csv", "--chart", "k.svg"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("k = 5"), "{}", stderr(&o));
    let svg = std::fs::read_to_string(dir.join("k.svg")).unwrap();
    let rows = pids("a.csv").len();
    assert!(
        svg.contains(&format!("k = 5: {rows} rows")) && svg.contains("In groups of 5 to 9: "),
        "{svg}"
    );
    assert!(
        std::fs::read(dir.join("a.parquet"))
            .unwrap()
            .starts_with(b"PAR1")
    );
    assert!(x("b.parquet", &["--csv", "b.csv"]).status.success());
    assert!(!pids("a.csv").is_empty());
    assert_eq!(pids("a.csv"), pids("b.csv"));
    std::fs::write(dir.join("other.key"), "ab".repeat(32)).unwrap();
    assert!(
        x("c.parquet", &["--csv", "c.csv", "--key-file", "other.key"])
            .status
            .success()
    );
    let (a, c): (std::collections::BTreeSet<_>, std::collections::BTreeSet<_>) = (
        pids("a.csv").into_iter().collect(),
        pids("c.csv").into_iter().collect(),
    );
    assert!(a.is_disjoint(&c));
    std::fs::write(dir.join("bad.key"), "not hex").unwrap();
    let o = x("d.parquet", &["--key-file", "bad.key"]);
    assert!(
        !o.status.success() && stderr(&o).contains("a pseudonym key is 64 hex digits"),
        "{}",
        stderr(&o)
    );
    let o = x("e.parquet", &["--k", "1"]);
    assert!(
        !o.status.success() && stderr(&o).contains("--k"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.join("d.parquet").exists() && !dir.join("e.parquet").exists());

    // Programme outcomes, with a chart; a reversed period refused.
    let o = wherry(
        dir,
        &[
            "insight",
            "outcomes",
            "--cohort",
            "older_people_team",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--outcome",
            "safeguarding_enquiry,welfare_check",
            "--window-days",
            "120",
            "--on",
            "2026-10-31",
            "--chart",
            "outcomes.svg",
            "--purpose",
            "planning",
            "--operator",
            "ada",
            "--database",
            &db,
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(report["pairs"].as_u64().unwrap() > 0, "{report}");
    let svg = std::fs::read_to_string(dir.join("outcomes.svg")).unwrap();
    assert!(svg.contains(r#"role="img""#) && svg.contains("outcome contacts per resident"));
    assert!(svg.contains("<title id=\"outcomes-title\">older_people_team: outcome contacts"));
    let o = wherry(
        dir,
        &[
            "insight",
            "outcomes",
            "--cohort",
            "reablement",
            "--from",
            "2025-12-31",
            "--to",
            "2025-01-01",
            "--outcome",
            "welfare_check",
            "--purpose",
            "planning",
            "--operator",
            "ada",
            "--database",
            &db,
        ],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("the period is reversed"),
        "{}",
        stderr(&o)
    );
}
