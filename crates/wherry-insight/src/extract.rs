//! Pseudonymised analysis extracts for the `research` and `planning`
//! purposes: one row per resident, with a keyed-hash pseudonym
//! (HMAC-SHA-256 of the hub's person id under a key the hub holds), no
//! direct identifier (no name, NHS number, date of birth, postcode, phone
//! or email: year of birth and postcode district instead), the attributes
//! the purpose may see, and contacts in the last twelve months; as CSV and
//! Parquet ([`crate::parquet`]).
//!
//! **k-anonymity.** The quasi-identifiers are year of birth, sex and
//! postcode district. A row whose combination is shared by fewer than `k`
//! rows (default 5) has its year of birth suppressed; then, among rows
//! still in too small a group, the postcode district; then sex; a row
//! still alone after all three is left out. Every combination in the
//! extract (a suppressed value counting as its own value) then occurs at
//! least `k` times; the report says how many values each step suppressed,
//! how many rows were left out, and the smallest group.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;
use wherry_access::shared::Events;
use wherry_access::{Access, Caller, Error};
use wherry_core::{Date, Purpose, Role};

use crate::parquet::{self, Values};
use crate::targets::agreed;

/// Who may take an extract: analysts.
pub const ROLES: &[Role] = &[Role::Analyst];

/// The purposes an extract may be for.
pub const PURPOSES: &[Purpose] = &[Purpose::Research, Purpose::Planning];

/// The default k.
pub const K: usize = 5;

/// One resident's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The keyed-hash pseudonym.
    pub pid: String,
    /// Year of birth.
    pub birth_year: Option<i64>,
    /// Sex.
    pub sex: Option<String>,
    /// Postcode district.
    pub postcode_district: Option<String>,
    /// Attributes the purpose may see (`true`, `false`, a code such as a
    /// tenure, or not known).
    pub attributes: BTreeMap<String, Option<String>>,
    /// Contacts in the last twelve months.
    pub contacts_12m: i64,
}

/// What k-anonymity did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// k.
    pub k: usize,
    /// Residents before.
    pub residents: usize,
    /// Rows in the extract.
    pub rows: usize,
    /// Years of birth suppressed.
    pub birth_year_suppressed: usize,
    /// Postcode districts suppressed.
    pub postcode_district_suppressed: usize,
    /// Sexes suppressed.
    pub sex_suppressed: usize,
    /// Rows left out (alone even with all three suppressed).
    pub rows_left_out: usize,
    /// Distinct combinations of the quasi-identifiers.
    pub groups: usize,
    /// The smallest group's size.
    pub smallest_group: usize,
}

type Quasi = (Option<i64>, Option<String>, Option<String>);

fn quasi(r: &Row) -> Quasi {
    (r.birth_year, r.sex.clone(), r.postcode_district.clone())
}

fn group_sizes(rows: &[Row]) -> HashMap<Quasi, usize> {
    let mut n = HashMap::new();
    for r in rows {
        *n.entry(quasi(r)).or_insert(0) += 1;
    }
    n
}

/// `rows` made k-anonymous over year of birth, sex and postcode district
/// (see the module docs). Pure.
pub fn anonymise(mut rows: Vec<Row>, k: usize) -> (Vec<Row>, Report) {
    let k = k.max(1);
    let mut report = Report {
        k,
        residents: rows.len(),
        ..Default::default()
    };
    for step in 0..3 {
        let sizes = group_sizes(&rows);
        for r in &mut rows {
            if sizes[&quasi(r)] >= k {
                continue;
            }
            match step {
                0 if r.birth_year.take().is_some() => report.birth_year_suppressed += 1,
                1 if r.postcode_district.take().is_some() => {
                    report.postcode_district_suppressed += 1
                }
                2 if r.sex.take().is_some() => report.sex_suppressed += 1,
                _ => {}
            }
        }
    }
    let sizes = group_sizes(&rows);
    let before = rows.len();
    rows.retain(|r| sizes[&quasi(r)] >= k);
    report.rows_left_out = before - rows.len();
    let sizes = group_sizes(&rows);
    report.rows = rows.len();
    report.groups = sizes.len();
    report.smallest_group = sizes.values().copied().min().unwrap_or(0);
    (rows, report)
}

/// The extract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extract {
    /// The attribute columns, in order.
    pub attributes: Vec<String>,
    /// The rows, by pseudonym.
    pub rows: Vec<Row>,
    /// What k-anonymity did.
    pub report: Report,
}

#[derive(Default)]
struct Person {
    years: Vec<String>,
    sexes: Vec<String>,
    districts: Vec<String>,
    attributes: BTreeMap<String, Option<String>>,
}

/// The extract for `caller` (an analyst, for research or planning) on
/// `today`, pseudonyms keyed with `key`, k-anonymous at `k`; the reading
/// audited (`pseudonymised_extract`, no person).
pub async fn extract(
    access: &Access,
    caller: &Caller,
    key: &[u8],
    k: usize,
    today: Date,
    request: &str,
) -> Result<Extract, Error> {
    caller.require_purpose(PURPOSES, "a pseudonymised extract")?;
    let since = today.add_days(-365).to_string();
    let mut people: HashMap<String, Person> = HashMap::new();
    let county = access
        .county_pseudonymised(
            caller,
            ROLES,
            "a pseudonymised extract",
            "pseudonymised_extract",
            Events::since(&since),
            request,
            |r| {
                let p = people.entry(r.person).or_default();
                let text = |k: &str| {
                    r.fields
                        .get(k)
                        .and_then(Value::as_str)
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
                p.years.extend(text("birth_year"));
                p.sexes.extend(text("sex"));
                p.districts.extend(text("postcode_district"));
                for (name, v) in &r.attributes {
                    let e = p.attributes.entry(name.clone()).or_default();
                    // A flag any partner says is true is true.
                    let said = match v {
                        Value::Bool(b) => Some(b.to_string()),
                        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
                        _ => None,
                    };
                    if said.is_some() && e.as_deref() != Some("true") {
                        *e = said;
                    }
                }
            },
        )
        .await?;
    let attributes: Vec<String> = county
        .views
        .values()
        .flat_map(|v| v.attributes.iter().cloned())
        .filter(|a| people.values().any(|p| p.attributes.contains_key(a)))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut contacts: HashMap<&str, i64> = HashMap::new();
    for e in &county.events {
        *contacts.entry(e.person.as_str()).or_default() += 1;
    }
    let mut rows: Vec<Row> = people
        .iter()
        .map(|(person, p)| Row {
            pid: wherry_access::trail::hmac_sha256(key, person.as_bytes()),
            birth_year: agreed(&p.years).and_then(|y| y.parse().ok()),
            sex: agreed(&p.sexes),
            postcode_district: agreed(&p.districts),
            attributes: attributes
                .iter()
                .map(|a| (a.clone(), p.attributes.get(a).cloned().flatten()))
                .collect(),
            contacts_12m: contacts.get(person.as_str()).copied().unwrap_or(0),
        })
        .collect();
    rows.sort_by(|a, b| a.pid.cmp(&b.pid));
    let (rows, report) = anonymise(rows, k);
    Ok(Extract {
        attributes,
        rows,
        report,
    })
}

/// The extract's columns: `pid, birth_year, sex, postcode_district`, each
/// attribute, `contacts_12m`.
pub fn columns(x: &Extract) -> Vec<(String, Values)> {
    let text = |f: &dyn Fn(&Row) -> Option<String>| Values::Text(x.rows.iter().map(f).collect());
    let mut out = vec![
        ("pid".to_string(), text(&|r| Some(r.pid.clone()))),
        (
            "birth_year".to_string(),
            Values::Int(x.rows.iter().map(|r| r.birth_year).collect()),
        ),
        ("sex".to_string(), text(&|r| r.sex.clone())),
        (
            "postcode_district".to_string(),
            text(&|r| r.postcode_district.clone()),
        ),
    ];
    for a in &x.attributes {
        out.push((a.clone(), text(&|r| r.attributes.get(a).cloned().flatten())));
    }
    out.push((
        "contacts_12m".to_string(),
        Values::Int(x.rows.iter().map(|r| Some(r.contacts_12m)).collect()),
    ));
    out
}

/// Group sizes the chart counts rows in: from k up to each bound.
const GROUP_BOUNDS: [usize; 4] = [10, 50, 100, usize::MAX];

/// The k-anonymity report as a chart: the rows whose year of birth,
/// postcode district or sex was suppressed, those left out, and the rows
/// by the size of the group of residents they cannot be told apart from.
pub fn chart(x: &Extract) -> String {
    let r = &x.report;
    let mut bars: Vec<(String, Option<f64>)> = vec![
        (
            "Year of birth suppressed".into(),
            Some(r.birth_year_suppressed as f64),
        ),
        (
            "Postcode district suppressed".into(),
            Some(r.postcode_district_suppressed as f64),
        ),
        ("Sex suppressed".into(), Some(r.sex_suppressed as f64)),
        (
            "Left out (unique even so)".into(),
            Some(r.rows_left_out as f64),
        ),
    ];
    let sizes = group_sizes(&x.rows);
    let mut lo = r.k;
    for hi in GROUP_BOUNDS {
        if hi <= lo {
            continue;
        }
        let rows: usize = sizes.values().filter(|n| (lo..hi).contains(*n)).sum();
        let label = if hi == usize::MAX {
            format!("In groups of {lo} or more")
        } else {
            format!("In groups of {lo} to {}", hi - 1)
        };
        bars.push((label, Some(rows as f64)));
        lo = hi;
    }
    crate::chart::rows_svg(
        "extract-chart",
        &format!(
            "Pseudonymised extract, k = {}: {} rows of {} residents",
            r.k, r.rows, r.residents
        ),
        "rows (residents)",
        &bars,
        "",
    )
}

/// The extract as CSV (empty cells where suppressed or not known).
pub fn to_csv(x: &Extract) -> String {
    let cols = columns(x);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cols.iter().map(|c| c.0.as_str()))
        .expect("writing to memory");
    for i in 0..x.rows.len() {
        let row: Vec<String> = cols
            .iter()
            .map(|(_, v)| match v {
                Values::Text(t) => t[i].clone().unwrap_or_default(),
                Values::Int(n) => n[i].map(|n| n.to_string()).unwrap_or_default(),
            })
            .collect();
        w.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings")
}

/// The extract as Parquet.
pub fn to_parquet(x: &Extract) -> Vec<u8> {
    parquet::write(&columns(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: &str, year: i64, sex: &str, district: &str) -> Row {
        Row {
            pid: pid.into(),
            birth_year: Some(year),
            sex: Some(sex.into()),
            postcode_district: Some(district.into()),
            attributes: BTreeMap::new(),
            contacts_12m: 0,
        }
    }

    #[test]
    fn rare_combinations_lose_year_then_district_then_sex_then_the_row() {
        let mut rows: Vec<Row> = (0..5)
            .map(|i| row(&format!("a{i}"), 1950, "F", "NR1"))
            .collect();
        rows.extend((0..3).map(|i| row(&format!("b{i}"), 1940, "F", "NR2")));
        rows.extend((0..2).map(|i| row(&format!("c{i}"), 1930, "F", "NR2")));
        rows.push(row("d", 1920, "M", "NR9"));
        let (out, rep) = anonymise(rows, 5);
        // The five of 1950 stay whole; the NR2 five lose their year and
        // share (F, NR2); the one man loses year, district and sex, and is
        // still alone: left out.
        assert_eq!(rep.rows_left_out, 1);
        assert_eq!(rep.birth_year_suppressed, 6);
        assert_eq!(rep.postcode_district_suppressed, 1);
        assert_eq!(rep.sex_suppressed, 1);
        assert_eq!(out.len(), 10);
        assert_eq!(rep.smallest_group, 5);
        let sizes = group_sizes(&out);
        assert!(sizes.values().all(|n| *n >= 5));
        assert_eq!(anonymise(Vec::new(), 5).1.rows, 0);
    }
}
