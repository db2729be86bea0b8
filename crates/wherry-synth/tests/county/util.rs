//! The harness: generate a county once per test binary and read its files.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wherry_synth::{Config, Rates, Source, Summary};

/// The rates the tests configure: high enough that every kind of error
/// happens a few hundred times, so a 20% tolerance is many standard errors.
pub fn test_rates() -> Rates {
    Rates {
        typo: 0.05,
        nickname: 0.15,
        name_swap: 0.03,
        maiden_name: 0.25,
        old_address: 0.3,
        dob_swap: 0.06,
        missing_nhs: 0.3,
        missing_field: 0.04,
        case_noise: 0.06,
        duplicate: 0.05,
        bad_row: 0.01,
    }
}

/// A county of 20,000 residents with [`test_rates`], generated once.
pub fn county() -> &'static (PathBuf, Summary) {
    static COUNTY: OnceLock<(PathBuf, Summary)> = OnceLock::new();
    COUNTY.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synth-readback-county");
        let config = Config {
            residents: 20_000,
            seed: 11,
            rates: test_rates(),
            ..Config::default()
        };
        let summary =
            wherry_synth::generate(&config, &dir, true, &mut |_, _| {}).expect("county generates");
        (dir, summary)
    })
}

/// One row of a partner extract, mapped to canonical fields (raw text).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub line: u64,
    pub record_id: String,
    pub given: String,
    /// The whole field the given name came from, untrimmed.
    pub given_raw: String,
    pub middle: Option<String>,
    pub family: String,
    pub dob: String,
    pub postcode: String,
    pub uprn: Option<String>,
    pub nhs: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// How many fields the row had, against the header's count.
    pub fields: usize,
    pub expected_fields: usize,
    pub raw: String,
}

/// Reads every row of a source's extract, broken ones included.
pub fn read_extract(dir: &Path, source: Source) -> Vec<Row> {
    let path = dir.join("extracts").join(source.file_name());
    let text = std::fs::read_to_string(&path).unwrap();
    if source == Source::Gp {
        return text
            .lines()
            .enumerate()
            .map(|(i, l)| fhir_row(i as u64 + 1, l))
            .collect();
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(&path)
        .unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let line = rec.position().unwrap().line();
        let get = |name: &str| col(name).and_then(|i| rec.get(i)).map(String::from);
        let req = |names: &[&str]| names.iter().find_map(|n| get(n)).unwrap_or_default();
        let given_raw = req(&["forenames", "forename", "first_name"]);
        let (given, middle) = match source {
            Source::District => {
                let f = req(&["forenames"]);
                let t = f.trim();
                match t.split_once(' ') {
                    Some((g, _)) => (g.to_string(), None),
                    None => (t.to_string(), None),
                }
            }
            _ => (req(&["forename", "first_name"]), get("middle_names")),
        };
        out.push(Row {
            line,
            record_id: rec.get(0).unwrap().to_string(),
            given,
            given_raw,
            middle,
            family: req(&["surname", "last_name"]),
            dob: req(&["date_of_birth", "dob"]),
            postcode: req(&["postcode"]),
            uprn: get("uprn"),
            nhs: get("nhs_number"),
            phone: get("telephone").or_else(|| get("phone")),
            email: get("email"),
            fields: rec.len(),
            expected_fields: header.len(),
            raw: lines[line as usize - 1].to_string(),
        });
    }
    out
}

fn fhir_row(line: u64, l: &str) -> Row {
    let mut row = Row {
        line,
        raw: l.to_string(),
        fields: 1,
        expected_fields: 1,
        ..Row::default()
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(l) else {
        row.fields = 0;
        return row;
    };
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    row.record_id = s(&v["id"]);
    let name = &v["name"][0];
    row.given = s(&name["given"][0]);
    row.given_raw = row.given.clone();
    row.middle = Some(s(&name["given"][1]));
    row.family = s(&name["family"]);
    row.dob = s(&v["birthDate"]);
    let addr = &v["address"][0];
    row.postcode = s(&addr["postalCode"]);
    row.uprn = Some(s(&addr["extension"][0]["extension"][1]["valueString"]));
    row.nhs = v["identifier"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["system"] == "https://fhir.nhs.uk/Id/nhs-number")
        .map(|i| s(&i["value"]));
    let telecom = v["telecom"].as_array().cloned().unwrap_or_default();
    let find = |system: &str| {
        telecom
            .iter()
            .find(|t| t["system"] == system)
            .map(|t| s(&t["value"]))
    };
    row.phone = Some(find("phone").unwrap_or_default());
    row.email = Some(find("email").unwrap_or_default());
    row
}

/// `(source, record_id) → entity_id`.
pub fn read_truth(dir: &Path) -> HashMap<(String, String), String> {
    let mut rdr = csv::Reader::from_path(dir.join("truth/truth.csv")).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[1].to_string()), r[2].to_string())
        })
        .collect()
}

/// `(source, line) → reason`.
pub fn read_bad_rows(dir: &Path) -> HashMap<(String, u64), String> {
    let mut rdr = csv::Reader::from_path(dir.join("truth/bad_rows.csv")).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            ((r[0].to_string(), r[1].parse().unwrap()), r[2].to_string())
        })
        .collect()
}

/// The true residents, by entity id, as header → value maps.
pub fn read_residents(dir: &Path) -> HashMap<String, HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(dir.join("truth/residents.csv")).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let map: HashMap<String, String> = header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect();
            (map["entity_id"].clone(), map)
        })
        .collect()
}

/// Lines listed as broken for one source.
pub fn bad_lines(bad: &HashMap<(String, u64), String>, source: Source) -> HashSet<u64> {
    bad.keys()
        .filter(|(s, _)| s == source.name())
        .map(|(_, l)| *l)
        .collect()
}

/// Lower case with white space collapsed.
pub fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}
