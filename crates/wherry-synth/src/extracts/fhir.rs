//! The GP extract as a FHIR R4 UK Core Patient.

use serde::Serialize;

use super::*;

/// UK Core Patient profile.
pub const UK_CORE_PATIENT: &str = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-Patient";
/// The NHS number identifier system.
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Patient<'a> {
    resource_type: &'static str,
    id: &'a str,
    meta: Meta,
    identifier: Vec<Identifier>,
    active: bool,
    name: Vec<HumanName<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    telecom: Vec<ContactPoint<'a>>,
    gender: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    address: Vec<FhirAddress>,
    general_practitioner: Vec<Reference>,
}

#[derive(Serialize)]
struct Meta {
    #[serde(rename = "lastUpdated")]
    last_updated: String,
    profile: [&'static str; 1],
}

#[derive(Serialize)]
struct Identifier {
    extension: [Extension; 1],
    system: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Extension {
    url: &'static str,
    value_codeable_concept: CodeableConcept,
}

#[derive(Serialize)]
struct CodeableConcept {
    coding: [Coding; 1],
}

#[derive(Serialize)]
struct Coding {
    system: &'static str,
    code: &'static str,
    display: &'static str,
}

#[derive(Serialize)]
struct HumanName<'a> {
    #[serde(rename = "use")]
    use_: &'static str,
    family: &'a str,
    given: Vec<&'a str>,
    prefix: [&'static str; 1],
}

#[derive(Serialize)]
struct ContactPoint<'a> {
    system: &'static str,
    value: &'a str,
    #[serde(rename = "use")]
    use_: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FhirAddress {
    extension: [AddressKey; 1],
    #[serde(rename = "use")]
    use_: &'static str,
    line: Vec<String>,
    city: String,
    district: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    postal_code: String,
}

#[derive(Serialize)]
struct AddressKey {
    url: &'static str,
    extension: [AddressKeyPart; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressKeyPart {
    url: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_coding: Option<KeyType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_string: Option<String>,
}

#[derive(Serialize)]
struct KeyType {
    system: &'static str,
    code: &'static str,
}

#[derive(Serialize)]
struct Reference {
    identifier: OdsIdentifier,
}

#[derive(Serialize)]
struct OdsIdentifier {
    system: &'static str,
    value: String,
}

/// One JSON line (without the newline), broken as `bad` says.
pub fn patient_line(e: &Entry, r: &Resident, bad: Option<BadKind>, rng: &mut Rng) -> String {
    let mut nhs = e.nhs.clone();
    let mut birth_date = e.dob.map(|d| d.to_string());
    let mut postal_code = e.postcode.clone();
    match bad {
        Some(BadKind::ImpossibleDate) => {
            birth_date = Some(format_impossible_date(Source::Gp, r.dob.year(), rng))
        }
        Some(BadKind::MalformedPostcode) => {
            let valid = if postal_code.is_empty() {
                "NR1 1AA".to_string()
            } else {
                postal_code.clone()
            };
            postal_code = malformed_postcode(&valid, rng);
        }
        Some(BadKind::InvalidNhsNumber) => nhs = corrupt_nhs(&r.nhs.to_string(), rng),
        _ => {}
    }
    let mut given = vec![e.given.as_str()];
    if !e.middle.is_empty() {
        given.push(e.middle.as_str());
    }
    let mut telecom = Vec::new();
    if !e.phone.is_empty() {
        let use_ = if e.phone.starts_with("07") {
            "mobile"
        } else {
            "home"
        };
        telecom.push(ContactPoint {
            system: "phone",
            value: &e.phone,
            use_,
        });
    }
    if !e.email.is_empty() {
        telecom.push(ContactPoint {
            system: "email",
            value: &e.email,
            use_: "home",
        });
    }
    let mut line = vec![e.line1.clone()];
    if !e.village.is_empty() {
        line.push(e.village.clone());
    }
    let patient = Patient {
        resource_type: "Patient",
        id: &e.record_id,
        meta: Meta {
            // FHIR's instant: the practice system's last change.
            last_updated: format!("{}T09:00:00Z", e.changed),
            profile: [UK_CORE_PATIENT],
        },
        identifier: vec![Identifier {
            extension: [Extension {
                url: "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
                value_codeable_concept: CodeableConcept {
                    coding: [Coding {
                        system: "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                        code: "01",
                        display: "Number present and verified",
                    }],
                },
            }],
            system: NHS_NUMBER_SYSTEM,
            value: nhs,
        }],
        active: true,
        name: vec![HumanName {
            use_: "official",
            family: &e.family,
            given,
            prefix: [r.title()],
        }],
        telecom,
        gender: r.sex.code(),
        birth_date,
        address: vec![FhirAddress {
            extension: [AddressKey {
                url: "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-AddressKey",
                extension: [
                    AddressKeyPart {
                        url: "type",
                        value_coding: Some(KeyType {
                            system: "https://fhir.hl7.org.uk/CodeSystem/UKCore-AddressKeyType",
                            code: "uprn",
                        }),
                        value_string: None,
                    },
                    AddressKeyPart {
                        url: "value",
                        value_coding: None,
                        value_string: Some(e.uprn.clone()),
                    },
                ],
            }],
            use_: "home",
            line,
            city: e.town.clone(),
            district: "Norfolk",
            postal_code,
        }],
        general_practitioner: vec![Reference {
            identifier: OdsIdentifier {
                system: "https://fhir.nhs.uk/Id/ods-organization-code",
                value: format!(
                    "D82{:03}",
                    r.nhs.digits()[8] as u32 * 7 + r.nhs.digits()[7] as u32
                ),
            },
        }],
    };
    let json = serde_json::to_string(&patient).expect("serialisable");
    if bad == Some(BadKind::TruncatedJson) {
        let cut = json
            .char_indices()
            .nth(json.chars().count() / 2)
            .map_or(0, |(i, _)| i);
        return json[..cut].to_string();
    }
    json
}
