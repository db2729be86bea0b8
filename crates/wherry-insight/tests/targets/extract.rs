//! The pseudonymised extract over the same linked county (run from the
//! fire test's loop), its Parquet file read by pyarrow (an independent
//! reader, installed from PyPI into a venv under the target directory the
//! first time): no column holds a name, NHS number, date of birth, full
//! postcode, phone number or email; the same key gives the same
//! pseudonyms, another key others; every combination of the
//! quasi-identifiers occurs at least k times.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use wherry_access::Access;
use wherry_core::{NhsNumber, Postcode, Purpose, Role};
use wherry_insight::extract::{extract, to_csv, to_parquet};

use super::{county, today};

/// A Python with pyarrow: a venv under the target directory.
fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("py-pyarrow");
        let py = venv.join("bin/python");
        let has = |py: &Path| {
            Command::new(py)
                .args(["-c", "import pyarrow.parquet"])
                .status()
                .is_ok_and(|s| s.success())
        };
        if !has(&py) {
            let made = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .expect("python3 (with venv) to read the extract independently");
            assert!(made.success(), "python3 -m venv failed");
            let pip = Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "pyarrow"])
                .status()
                .unwrap();
            assert!(pip.success(), "pip install pyarrow failed");
        }
        assert!(has(&py), "pyarrow in {}", venv.display());
        py
    })
}

/// Every column of the Parquet file as pyarrow reads it.
fn read_parquet(file: &Path) -> BTreeMap<String, Vec<Value>> {
    let out = Command::new(python())
        .args([
            "-c",
            "import json, sys, pyarrow.parquet as pq\n\
             t = pq.read_table(sys.argv[1])\n\
             print(json.dumps({c: t.column(c).to_pylist() for c in t.column_names}))",
        ])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every name, phone number and email in the county's extracts (read here
/// from the partner files, as CSV).
fn identifiers() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let dir = county().join("extracts");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") || path.to_string_lossy().contains("_events")
        {
            continue;
        }
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&path)
            .unwrap();
        let headers = r.headers().unwrap().clone();
        let wanted: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| {
                [
                    "name",
                    "forename",
                    "surname",
                    "phone",
                    "telephone",
                    "email",
                    "mobile",
                ]
                .iter()
                .any(|w| h.to_lowercase().contains(w))
            })
            .map(|(i, _)| i)
            .collect();
        for row in r.records().flatten() {
            for i in &wanted {
                if let Some(v) = row.get(*i).map(str::trim).filter(|v| v.len() > 2) {
                    out.insert(v.to_uppercase());
                }
            }
        }
    }
    out
}

pub async fn check(access: &Access, name: &str) {
    let ada = access
        .caller("ada", Role::Analyst, Purpose::Planning, None)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let write = |x: &wherry_insight::extract::Extract, file: &str| {
        let path = dir.path().join(file);
        std::fs::write(&path, to_parquet(x)).unwrap();
        path
    };
    let key_a = [7u8; 32];
    let key_b = [8u8; 32];
    let a1 = extract(access, &ada, &key_a, 5, today(), "r-x1")
        .await
        .unwrap();
    let a2 = extract(access, &ada, &key_a, 5, today(), "r-x2")
        .await
        .unwrap();
    let b = extract(access, &ada, &key_b, 5, today(), "r-x3")
        .await
        .unwrap();
    assert!(a1.rows.len() > 1000, "{name}: {} rows", a1.rows.len());
    let cols = read_parquet(&write(&a1, "a1.parquet"));
    let n = a1.rows.len();
    assert!(cols.values().all(|v| v.len() == n), "{name}");
    for c in [
        "pid",
        "birth_year",
        "sex",
        "postcode_district",
        "contacts_12m",
    ] {
        assert!(cols.contains_key(c), "{name}: {c} in {:?}", cols.keys());
    }
    // No direct identifier in any column.
    let ids = identifiers();
    assert!(ids.len() > 1000, "the county's names: {}", ids.len());
    let date = |s: &str| s.len() >= 8 && wherry_core::Date::parse(s).is_ok();
    for (col, values) in &cols {
        for v in values {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => continue,
            };
            assert!(
                !ids.contains(&s.to_uppercase()),
                "{name}: {col} holds a name, phone or email: {s}"
            );
            assert!(!s.contains('@'), "{name}: {col} holds an email: {s}");
            assert!(
                NhsNumber::parse(&s).is_err(),
                "{name}: {col} holds an NHS number: {s}"
            );
            assert!(!date(&s), "{name}: {col} holds a date: {s}");
            let full_postcode = Postcode::parse(&s).is_ok_and(|p| p.as_str() != p.district());
            assert!(!full_postcode, "{name}: {col} holds a postcode: {s}");
        }
    }
    // Same key, same pseudonyms (and rows); another key, none the same.
    let pids = |cols: &BTreeMap<String, Vec<Value>>| -> BTreeSet<String> {
        cols["pid"]
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let again = read_parquet(&write(&a2, "a2.parquet"));
    assert_eq!(pids(&again), pids(&cols), "{name}");
    assert_eq!(again, cols, "{name}: the same extract");
    let other = read_parquet(&write(&b, "b.parquet"));
    assert!(pids(&other).is_disjoint(&pids(&cols)), "{name}");
    assert_eq!(other["pid"].len(), n);
    // k-anonymity, counted from what pyarrow read.
    let mut groups: HashMap<(String, String, String), usize> = HashMap::new();
    let column = |c: &str| cols[c].iter().map(Value::to_string);
    for key in column("birth_year")
        .zip(column("sex"))
        .zip(column("postcode_district"))
    {
        *groups.entry((key.0.0, key.0.1, key.1)).or_default() += 1;
    }
    let smallest = groups.values().copied().min().unwrap();
    assert!(
        smallest >= 5,
        "{name}: a combination occurs {smallest} times"
    );
    assert_eq!(a1.report.smallest_group, smallest);
    // The chart: rows by group size, as pyarrow's read counts them.
    let svg = wherry_insight::extract::chart(&a1);
    let in_groups =
        |lo: usize, hi: usize| -> usize { groups.values().filter(|g| (lo..hi).contains(*g)).sum() };
    for (label, rows) in [
        ("In groups of 5 to 9", in_groups(5, 10)),
        ("In groups of 10 to 49", in_groups(10, 50)),
        ("In groups of 100 or more", in_groups(100, usize::MAX)),
        ("Year of birth suppressed", a1.report.birth_year_suppressed),
    ] {
        assert!(
            svg.contains(&format!("{label}: {rows}")),
            "{name}: {label} {rows}: {svg}"
        );
    }
    assert_eq!(in_groups(0, usize::MAX), n, "{name}");
    assert!(
        a1.report.birth_year_suppressed > 0,
        "{name}: {:?}",
        a1.report
    );
    // The CSV says the same.
    let csv = to_csv(&a1);
    assert_eq!(csv.lines().count(), n + 1);
    assert!(
        csv.starts_with("pid,birth_year,sex,postcode_district,"),
        "{csv:.200}"
    );
    // Other purposes and roles refused: an analyst cannot even act for
    // subject rights; a caseworker's purpose is not research or planning.
    let e = access
        .caller("x", Role::Analyst, Purpose::SubjectRights, None)
        .unwrap_err();
    assert!(e.to_string().contains("may not use"), "{e}");
    let carol = access
        .caller("carol", Role::Caseworker, Purpose::DirectCare, None)
        .unwrap();
    let e = extract(access, &carol, &key_a, 5, today(), "r-x4")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("a pseudonymised extract is for the purpose research or planning"),
        "{e}"
    );
}
