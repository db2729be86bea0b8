//! JSON Lines and FHIR Patient extracts, and the one record a partner
//! system pushes (read as one JSON line would be).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde_json::Value;
use wherry_core::Date;
use wherry_store::Quarantined;

use super::{CHUNK, Read, Row, bad, take_results, validate};
use crate::manifest::{Format, Manifest};

/// Canonical values of a FHIR Patient resource.
fn fhir_values(v: &Value) -> (String, BTreeMap<String, String>) {
    let s = |x: &Value| x.as_str().unwrap_or("").to_string();
    let mut out = BTreeMap::new();
    let nhs = v["identifier"]
        .as_array()
        .and_then(|ids| {
            ids.iter()
                .find(|i| i["system"] == "https://fhir.nhs.uk/Id/nhs-number")
        })
        .map(|i| s(&i["value"]))
        .unwrap_or_default();
    out.insert("nhs_number".into(), nhs);
    let name = &v["name"][0];
    let given: Vec<String> = name["given"]
        .as_array()
        .map(|g| g.iter().map(s).collect())
        .unwrap_or_default();
    out.insert(
        "given_name".into(),
        given.first().cloned().unwrap_or_default(),
    );
    out.insert(
        "middle_names".into(),
        given.get(1..).map(|m| m.join(" ")).unwrap_or_default(),
    );
    out.insert("family_name".into(), s(&name["family"]));
    out.insert("dob".into(), s(&v["birthDate"]));
    out.insert("sex".into(), s(&v["gender"]));
    let addr = &v["address"][0];
    let mut lines: Vec<String> = addr["line"]
        .as_array()
        .map(|l| l.iter().map(s).collect())
        .unwrap_or_default();
    if !s(&addr["city"]).is_empty() {
        lines.push(s(&addr["city"]));
    }
    out.insert("address".into(), lines.join(", "));
    out.insert("postcode".into(), s(&addr["postalCode"]));
    let uprn = addr["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["extension"].as_array().cloned().unwrap_or_default())
        .find(|e| e["url"] == "value")
        .map(|e| s(&e["valueString"]))
        .unwrap_or_default();
    out.insert("uprn".into(), uprn);
    let telecom = v["telecom"].as_array().cloned().unwrap_or_default();
    let find = |system: &str| {
        telecom
            .iter()
            .find(|t| t["system"] == system)
            .map(|t| s(&t["value"]))
            .unwrap_or_default()
    };
    out.insert("phone".into(), find("phone"));
    out.insert("email".into(), find("email"));
    (s(&v["id"]), out)
}

pub(super) fn read_jsonl(
    m: &Manifest,
    text: &str,
    today: Date,
    sink: &mut dyn FnMut(Read, usize) -> bool,
) {
    let mut lines: Vec<(u64, &str)> = Vec::with_capacity(CHUNK);
    let mut at = 0;
    let mut send = |lines: &mut Vec<(u64, &str)>, at: usize| {
        let results: Vec<Result<Row, Quarantined>> = lines
            .par_iter()
            .map(|&(line_no, line)| jsonl_row(m, line_no, line, today))
            .collect();
        let mut chunk = Read {
            rows: lines.len() as u64,
            ..Read::default()
        };
        lines.clear();
        sink(take_results(&mut chunk, results), at)
    };
    for (i, line) in text.split('\n').enumerate() {
        at += line.len() + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        lines.push((i as u64 + 1, line));
        if lines.len() >= CHUNK && !send(&mut lines, at.min(text.len())) {
            return;
        }
    }
    send(&mut lines, text.len());
}

/// One record pushed by a partner system (rather than sent in a file): a
/// JSON document in the source's layout (a FHIR Patient for `fhir-patient`
/// sources, an object keyed by the manifest's column names for the others),
/// validated and normalised as a row of an extract would be. The error is
/// what quarantine would hold: the field at fault and the reason.
pub fn pushed_row(m: &Manifest, body: &str, today: Date) -> Result<Row, Quarantined> {
    jsonl_row(m, 1, body, today)
}

/// One JSON line: a FHIR Patient, or an object whose keys the manifest maps.
fn jsonl_row(m: &Manifest, line_no: u64, line: &str, today: Date) -> Result<Row, Quarantined> {
    let v: Value = crate::text::strict_json(line)
        .map_err(|e| bad(line_no, None, "malformed_json", e, line))?;
    if !v.is_object() {
        return Err(bad(
            line_no,
            None,
            "not_an_object",
            "a record is a JSON object",
            line,
        ));
    }
    // A column's value is one string, number, true/false or null.
    let text = |column: &str| match &v[column] {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Array(_) | Value::Object(_) => Err(bad(
            line_no,
            Some(column),
            "not_a_value",
            "a list or an object where one value belongs",
            line,
        )),
        other => Ok(other.to_string()),
    };
    let (record_id, values) = if m.source.format == Format::FhirPatient {
        if v["resourceType"] != "Patient" {
            return Err(bad(
                line_no,
                None,
                "not_a_patient",
                "resourceType is not Patient",
                line,
            ));
        }
        let (id, all) = fhir_values(&v);
        (
            id,
            all.into_iter()
                .filter(|(k, _)| m.columns.contains_key(k))
                .collect(),
        )
    } else {
        let key = m.source.record_id.as_deref().unwrap_or("record_id");
        let mut values = BTreeMap::new();
        for (f, cols) in &m.columns {
            let mut parts = Vec::new();
            for c in cols.names() {
                let s = text(c)?;
                if !s.is_empty() {
                    parts.push(s);
                }
            }
            values.insert(f.clone(), parts.join(", "));
        }
        (text(key)?, values)
    };
    let mut attributes = BTreeMap::new();
    for (n, a) in &m.attributes {
        attributes.insert(n.clone(), text(&a.column)?);
    }
    let changed = match m.source.changed_at.as_deref() {
        None => None,
        Some(path) if m.source.format == Format::FhirPatient => {
            // A dotted path into the resource: `meta.lastUpdated`.
            let mut at = &v;
            for part in path.split('.') {
                at = &at[part];
            }
            at.as_str().map(str::to_string)
        }
        Some(column) => Some(text(column)?),
    };
    validate(
        m, line_no, record_id, values, attributes, changed, line, today,
    )
}
