//! FHIR `$match` with a UK Core Patient built by `fhir.resources` (PyPI, in
//! a virtual environment the test makes under the target directory): the
//! resident comes back first, graded `certain`, in a searchset Bundle.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};
use wherry_server::AppState;
use wherry_store::testing::stores;

use crate::push::{linked, person_of, with_matcher};
use crate::{call_raw, python};

/// The $match body fhir.resources builds from these demographics.
fn match_request(demographics: &Value) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir/uk_core_patient.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(demographics.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn post(state: &Arc<AppState>, token: &str, body: String) -> (StatusCode, Value) {
    let body = Some(("application/fhir+json", body));
    call_raw(
        state,
        "POST",
        "/fhir/Patient/$match",
        token,
        "direct_care",
        body,
    )
    .await
}

#[tokio::test]
async fn a_uk_core_patient_from_fhir_resources_matches_its_resident_as_certain() {
    for t in stores().await {
        let (partner, _, patient) = linked(&t.store).await;
        let theirs = person_of(&t.store, &patient).await;
        let state = with_matcher(&t.store).await;
        let name = &patient["name"][0];
        let address = &patient["address"][0];
        let demographics = json!({
            "nhs_number": patient["identifier"][0]["value"],
            "family": name["family"],
            "given": name["given"],
            "gender": patient["gender"],
            "birth_date": patient["birthDate"],
            "lines": address["line"],
            "postcode": address["postalCode"],
        });
        let body = match_request(&demographics);
        let (status, bundle) = post(&state, &partner, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{}: {bundle}", t.name);
        assert_eq!(
            (bundle["resourceType"].as_str(), bundle["type"].as_str()),
            (Some("Bundle"), Some("searchset"))
        );
        let first = &bundle["entry"][0];
        assert_eq!(first["resource"]["id"], theirs.as_str(), "{bundle}");
        assert_eq!(first["resource"]["resourceType"], "Patient");
        assert_eq!(
            first["search"]["extension"][0]["url"],
            "http://hl7.org/fhir/StructureDefinition/match-grade"
        );
        assert_eq!(
            first["search"]["extension"][0]["valueCode"], "certain",
            "{bundle}"
        );
        assert!(first["search"]["score"].as_f64().unwrap() >= 0.99);
        assert!(
            bundle["entry"].as_array().unwrap().len() <= 3,
            "count is honoured"
        );
        let log = t.store.audit_log(0).await.unwrap();
        assert_eq!(
            log.len(),
            bundle["entry"].as_array().unwrap().len(),
            "one audit entry per resident disclosed"
        );
        assert!(log.iter().all(|e| e.action == "fhir_match"));

        // Bad input: an OperationOutcome naming what is wrong; nothing stored.
        let before = t.store.counts().await.unwrap();
        let mut wrong = demographics.clone();
        wrong["nhs_number"] = json!("9434765918");
        let (status, outcome) = post(&state, &partner, match_request(&wrong)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{outcome}");
        assert_eq!(outcome["resourceType"], "OperationOutcome");
        assert!(
            outcome["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .starts_with("nhs_number")
        );
        for body in [
            "{",
            r#"{"resourceType": "Observation"}"#,
            r#"{"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 3}]}"#,
        ] {
            let (status, outcome) = post(&state, &partner, body.into()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {outcome}");
            assert_eq!(outcome["resourceType"], "OperationOutcome");
        }
        let (status, outcome) = post(&state, "no-token", body).await;
        assert_eq!(
            (status, outcome["issue"][0]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("login"))
        );
        assert_eq!(t.store.counts().await.unwrap(), before);
        t.finish().await;
    }
}
