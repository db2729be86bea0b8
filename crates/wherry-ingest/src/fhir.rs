//! FHIR UK Core `Patient` and Wherry's canonical fields, both ways: the
//! manifest a Patient sent to `$match` is read with (as a GP's FHIR
//! extract is read), and a Patient written from canonical fields (a
//! golden record returned by `$match`).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::Manifest;

/// UK Core Patient profile.
pub const UK_CORE_PATIENT: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
/// The NHS number identifier system.
pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// The manifest a matched `Patient` is read with: every canonical field,
/// taken as the ingest takes a GP's FHIR extract.
pub fn match_manifest() -> Manifest {
    let columns: BTreeMap<&str, &str> = wherry_core::Field::NAMES[2..]
        .iter()
        .map(|f| (*f, *f))
        .collect();
    serde_json::from_value(json!({
        "source": {"id": "fhir_match", "partner": "-", "dataset": "-", "format": "fhir-patient", "extract": "delta"},
        "columns": columns,
        "agreement": {"lawful_basis": "public_task", "retention_years": 1, "contact": "-", "review_date": "2099-01-01", "purposes": {}},
    }))
    .expect("the match manifest is well formed")
}

/// A UK Core Patient with id `id` from canonical fields (only those held),
/// the inverse of how ingest reads one.
pub fn patient(id: &str, fields: &BTreeMap<String, String>) -> Value {
    let get = |f: &str| fields.get(f).cloned();
    let mut p = json!({
        "resourceType": "Patient",
        "id": id,
        "meta": {"profile": [UK_CORE_PATIENT]},
    });
    if let Some(n) = get("nhs_number") {
        p["identifier"] = json!([{"system": NHS_NUMBER, "value": n.replace(' ', "")}]);
    }
    let mut given: Vec<String> = get("given_name").into_iter().collect();
    given.extend(
        get("middle_names")
            .into_iter()
            .flat_map(|m| m.split_whitespace().map(String::from).collect::<Vec<_>>()),
    );
    let family = get("family_name");
    if family.is_some() || !given.is_empty() {
        let mut name = json!({"use": "usual"});
        if let Some(f) = family {
            name["family"] = Value::from(f);
        }
        if !given.is_empty() {
            name["given"] = json!(given);
        }
        p["name"] = json!([name]);
    }
    if let Some(s) = get("sex").and_then(|s| s.parse::<wherry_core::Sex>().ok()) {
        p["gender"] = Value::from(s.code());
    }
    if let Some(d) = get("dob") {
        p["birthDate"] = Value::from(d);
    }
    let (line, postcode) = (get("address"), get("postcode"));
    if line.is_some() || postcode.is_some() {
        let mut a = json!({"use": "home"});
        if let Some(l) = line {
            a["line"] = json!(l.split(", ").collect::<Vec<_>>());
        }
        if let Some(pc) = postcode {
            a["postalCode"] = Value::from(pc);
        }
        p["address"] = json!([a]);
    }
    let mut telecom = Vec::new();
    if let Some(v) = get("phone") {
        telecom.push(json!({"system": "phone", "value": v}));
    }
    if let Some(v) = get("email") {
        telecom.push(json!({"system": "email", "value": v}));
    }
    if !telecom.is_empty() {
        p["telecom"] = Value::Array(telecom);
    }
    p
}

/// Residents returned by `$match` unless `count` says otherwise.
pub const DEFAULT_COUNT: usize = 10;

/// What a `$match` asks: the Patient (its id set, `match` when it has
/// none), how many residents at most, and whether only certain matches.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRequest {
    /// The Patient to match.
    pub patient: Value,
    /// Residents returned at most (1 to 100).
    pub count: usize,
    /// Only matches graded certain.
    pub only_certain: bool,
}

/// A `$match` body: a bare Patient, or a Parameters with `resource`,
/// `count` and `onlyCertainMatches`; the error says what is wrong.
pub fn match_request(input: &Value) -> Result<MatchRequest, &'static str> {
    let (mut patient, count, only_certain) = match input["resourceType"].as_str() {
        Some("Patient") => (input.clone(), DEFAULT_COUNT, false),
        Some("Parameters") => parameters(input)?,
        _ => return Err("the body must be a Patient or a Parameters resource"),
    };
    if patient["id"].as_str().is_none_or(str::is_empty) {
        patient["id"] = Value::from("match");
    }
    Ok(MatchRequest {
        patient,
        count,
        only_certain,
    })
}

fn parameters(input: &Value) -> Result<(Value, usize, bool), &'static str> {
    let mut patient = None;
    let mut count = DEFAULT_COUNT;
    let mut only_certain = false;
    for p in input["parameter"]
        .as_array()
        .ok_or("Parameters.parameter must be an array")?
    {
        match p["name"].as_str() {
            Some("resource") => patient = Some(p["resource"].clone()),
            Some("count") => {
                count = p["valueInteger"]
                    .as_u64()
                    .filter(|c| (1..=100).contains(c))
                    .ok_or("count must be a valueInteger from 1 to 100")?
                    as usize;
            }
            Some("onlyCertainMatches") => {
                only_certain = p["valueBoolean"]
                    .as_bool()
                    .ok_or("onlyCertainMatches must be a valueBoolean")?;
            }
            _ => {
                return Err(
                    "unknown parameter: $match takes resource, count and onlyCertainMatches",
                );
            }
        }
    }
    let patient = patient.ok_or("the resource parameter (a Patient) is required")?;
    if patient["resourceType"] != "Patient" {
        return Err("the resource parameter must be a Patient");
    }
    Ok((patient, count, only_certain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_bodies_are_read_or_refused_by_name() {
        let p = json!({"resourceType": "Patient", "birthDate": "1948-03-07"});
        let r = match_request(&p).unwrap();
        assert_eq!(
            (r.patient["id"].as_str(), r.count, r.only_certain),
            (Some("match"), DEFAULT_COUNT, false)
        );
        let params = json!({"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": p},
            {"name": "count", "valueInteger": 3},
            {"name": "onlyCertainMatches", "valueBoolean": true},
        ]});
        let r = match_request(&params).unwrap();
        assert_eq!((r.count, r.only_certain), (3, true));
        for (bad, says) in [
            (
                json!({"resourceType": "Observation"}),
                "Patient or a Parameters",
            ),
            (
                json!({"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 0}]}),
                "count",
            ),
            (
                json!({"resourceType": "Parameters", "parameter": [{"name": "x"}]}),
                "unknown parameter",
            ),
            (
                json!({"resourceType": "Parameters", "parameter": []}),
                "resource parameter",
            ),
        ] {
            assert!(match_request(&bad).unwrap_err().contains(says), "{bad}");
        }
    }

    #[test]
    fn a_patient_written_from_fields_reads_back_as_the_same_fields() {
        let fields: BTreeMap<String, String> = [
            ("given_name", "MARGARET"),
            ("family_name", "THROWER"),
            ("dob", "1948-03-07"),
            ("sex", "female"),
            ("postcode", "NR3 8JY"),
            ("nhs_number", "9434765919"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = patient("P000000001", &fields);
        assert_eq!(p["meta"]["profile"][0], UK_CORE_PATIENT);
        assert_eq!(p["identifier"][0]["system"], NHS_NUMBER);
        let row = crate::read::pushed_row(
            &match_manifest(),
            &p.to_string(),
            wherry_core::Date::new(2026, 12, 1).unwrap(),
        )
        .unwrap();
        for (k, v) in &fields {
            assert_eq!(row.fields.get(k), Some(v), "{k}");
        }
    }
}
