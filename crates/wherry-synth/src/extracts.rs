//! Rendering partner records in each partner's own layout, and breaking a few
//! rows the way real extracts arrive broken.

use wherry_core::{Date, Postcode, Sex};

use crate::noise::Entry;
use crate::partners::Source;
use crate::population::{Household, Resident};
use crate::rng::Rng;

/// How a deliberately broken row is broken (the `reason` in `bad_rows.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadKind {
    /// A date of birth that does not exist (31/02) or has month 13.
    ImpossibleDate,
    /// A postcode in no valid format.
    MalformedPostcode,
    /// An NHS number whose check digit fails.
    InvalidNhsNumber,
    /// The row has one column fewer than the header.
    MissingColumn,
    /// A double quote inside an unquoted field.
    StrayQuote,
    /// A JSON line cut off part-way.
    TruncatedJson,
}

impl BadKind {
    /// The reason code written to `bad_rows.csv`.
    pub fn code(self) -> &'static str {
        match self {
            BadKind::ImpossibleDate => "impossible_date",
            BadKind::MalformedPostcode => "malformed_postcode",
            BadKind::InvalidNhsNumber => "invalid_nhs_number",
            BadKind::MissingColumn => "missing_column",
            BadKind::StrayQuote => "stray_quote",
            BadKind::TruncatedJson => "truncated_json",
        }
    }

    /// A kind of breakage that fits `source`'s format.
    pub fn pick(source: Source, rng: &mut Rng) -> Self {
        use BadKind::*;
        let kinds: &[BadKind] = match source {
            Source::Gp => &[
                ImpossibleDate,
                MalformedPostcode,
                InvalidNhsNumber,
                TruncatedJson,
            ],
            Source::SocialCare | Source::Fire => &[
                ImpossibleDate,
                MalformedPostcode,
                InvalidNhsNumber,
                MissingColumn,
                StrayQuote,
            ],
            _ => &[ImpossibleDate, MalformedPostcode, MissingColumn, StrayQuote],
        };
        *rng.pick(kinds)
    }
}

/// The header of a CSV extract.
pub fn csv_header(source: Source) -> &'static [&'static str] {
    match source {
        Source::SocialCare => &[
            "person_id",
            "nhs_number",
            "forename",
            "middle_names",
            "surname",
            "date_of_birth",
            "gender",
            "address_line_1",
            "address_line_2",
            "town",
            "postcode",
            "uprn",
            "telephone",
            "email",
            "lives_alone",
            "limited_mobility",
            "oxygen_therapy",
            "smoker",
            "care_package",
        ],
        Source::Fire => &[
            "person_ref",
            "first_name",
            "last_name",
            "dob",
            "sex",
            "address",
            "postcode",
            "uprn",
            "nhs_number",
            "phone",
            "smoker",
            "oxygen_therapy",
            "previous_fire",
        ],
        Source::District => &[
            "account_ref",
            "title",
            "forenames",
            "surname",
            "date_of_birth",
            "property_address",
            "postcode",
            "uprn",
            "tenure",
            "phone",
            "email",
            "hoarding_concern",
        ],
        Source::Police => &[
            "subject_id",
            "surname",
            "forename",
            "dob",
            "gender",
            "address",
            "postcode",
            "vulnerability",
            "recorded_on",
        ],
        Source::Libraries => &[
            "borrower_id",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "postcode",
            "home_library",
            "joined",
        ],
        Source::Gp => &[],
    }
}

/// The column index of a header name, for the fields rows are broken in.
fn col(source: Source, name: &str) -> usize {
    csv_header(source)
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| panic!("{} has no column {name}", source.name()))
}

/// Which columns hold the date of birth, postcode, NHS number and family name.
fn roles(source: Source) -> (usize, usize, Option<usize>, usize) {
    match source {
        Source::SocialCare => (
            col(source, "date_of_birth"),
            col(source, "postcode"),
            Some(col(source, "nhs_number")),
            col(source, "surname"),
        ),
        Source::Fire => (
            col(source, "dob"),
            col(source, "postcode"),
            Some(col(source, "nhs_number")),
            col(source, "last_name"),
        ),
        Source::District => (
            col(source, "date_of_birth"),
            col(source, "postcode"),
            None,
            col(source, "surname"),
        ),
        Source::Police => (
            col(source, "dob"),
            col(source, "postcode"),
            None,
            col(source, "surname"),
        ),
        Source::Libraries => (
            col(source, "date_of_birth"),
            col(source, "postcode"),
            None,
            col(source, "last_name"),
        ),
        Source::Gp => unreachable!("the GP extract is JSON"),
    }
}

/// The date layout each partner uses.
pub fn format_date(source: Source, d: Date) -> String {
    match source {
        Source::SocialCare | Source::District => d.to_uk_slashed(),
        Source::Fire | Source::Gp => d.to_string(),
        Source::Police => d.to_compact(),
        Source::Libraries => d.to_uk_dashed(),
    }
}

fn format_impossible_date(source: Source, year: i32, rng: &mut Rng) -> String {
    let (d, m) = *rng.pick(&[
        (31u8, 2u8),
        (30, 2),
        (31, 4),
        (31, 6),
        (31, 9),
        (31, 11),
        (32, 1),
        (15, 13),
    ]);
    match source {
        Source::SocialCare | Source::District => format!("{d:02}/{m:02}/{year:04}"),
        Source::Fire | Source::Gp => format!("{year:04}-{m:02}-{d:02}"),
        Source::Police => format!("{year:04}{m:02}{d:02}"),
        Source::Libraries => format!("{d:02}-{m:02}-{year:04}"),
    }
}

fn malformed_postcode(valid: &str, rng: &mut Rng) -> String {
    loop {
        let compact: String = valid.chars().filter(|c| !c.is_whitespace()).collect();
        let (out, inw) = compact.split_at(compact.len().saturating_sub(3));
        let candidate = match rng.below(4) {
            0 => format!("{out} {}", &inw[..inw.len().saturating_sub(1)]),
            1 => format!("{out} O{}", inw.get(1..).unwrap_or("")),
            2 => format!("{out} {inw}X"),
            _ => format!(
                "{out} {}{}",
                inw.get(1..).unwrap_or(""),
                inw.get(..1).unwrap_or("")
            ),
        };
        if Postcode::parse(&candidate).is_err() {
            return candidate;
        }
    }
}

fn corrupt_nhs(valid: &str, rng: &mut Rng) -> String {
    let mut d: Vec<u8> = valid.bytes().map(|b| b - b'0').collect();
    if d.len() != 10 {
        d = vec![9, 4, 3, 4, 7, 6, 5, 9, 1, 9];
    }
    let i = rng.below(10) as usize;
    d[i] = (d[i] + 1 + rng.below(9) as u8) % 10;
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

fn flag(source: Source, b: bool) -> &'static str {
    match (source, b) {
        (Source::SocialCare, true) => "Y",
        (Source::SocialCare, false) => "N",
        (Source::District, true) => "true",
        (Source::District, false) => "false",
        (_, true) => "yes",
        (_, false) => "no",
    }
}

fn sex_text(source: Source, s: Sex) -> &'static str {
    match source {
        Source::SocialCare => match s {
            Sex::Male => "Male",
            Sex::Female => "Female",
            Sex::Other => "Other",
            Sex::Unknown => "Unknown",
        },
        _ => s.letter(),
    }
}

const VULNERABILITIES: &[&str] = &[
    "frequent_caller",
    "scam_victim",
    "self_neglect",
    "missing_person_risk",
    "domestic_abuse_risk",
    "dementia",
];

/// The fields of one CSV row, in header order.
pub fn csv_fields(
    e: &Entry,
    r: &Resident,
    h: &Household,
    as_of: Date,
    rng: &mut Rng,
) -> Vec<String> {
    let s = e.source;
    let dob = e.dob.map(|d| format_date(s, d)).unwrap_or_default();
    let a = &r.attrs;
    let f = |b: bool| flag(s, b).to_string();
    match s {
        Source::SocialCare => vec![
            e.record_id.clone(),
            e.nhs.clone(),
            e.given.clone(),
            e.middle.clone(),
            e.family.clone(),
            dob,
            sex_text(s, r.sex).into(),
            e.line1.clone(),
            e.village.clone(),
            e.town.clone(),
            e.postcode.clone(),
            e.uprn.clone(),
            e.phone.clone(),
            e.email.clone(),
            f(a.lives_alone),
            f(a.limited_mobility),
            f(a.oxygen_therapy),
            f(a.smoker),
            f(a.care_package),
        ],
        Source::Fire => vec![
            e.record_id.clone(),
            e.given.clone(),
            e.family.clone(),
            dob,
            sex_text(s, r.sex).into(),
            e.address_line(),
            e.postcode.clone(),
            e.uprn.clone(),
            e.nhs.clone(),
            e.phone.clone(),
            f(a.smoker),
            f(a.oxygen_therapy),
            f(a.previous_fire),
        ],
        Source::District => {
            let forenames = if e.middle.is_empty() {
                e.given.clone()
            } else {
                format!("{} {}", e.given, e.middle)
            };
            vec![
                e.record_id.clone(),
                r.title().into(),
                forenames,
                e.family.clone(),
                dob,
                e.address_line(),
                e.postcode.clone(),
                e.uprn.clone(),
                h.tenure.code().into(),
                e.phone.clone(),
                e.email.clone(),
                f(a.hoarding_concern),
            ]
        }
        Source::Police => {
            let v = if a.hoarding_concern {
                "self_neglect"
            } else {
                rng.pick(VULNERABILITIES)
            };
            vec![
                e.record_id.clone(),
                e.family.clone(),
                e.given.clone(),
                dob,
                sex_text(s, r.sex).into(),
                e.address_line(),
                e.postcode.clone(),
                v.into(),
                as_of.add_days(-rng.range(0, 730)).to_string(),
            ]
        }
        Source::Libraries => vec![
            e.record_id.clone(),
            e.given.clone(),
            e.family.clone(),
            dob,
            e.email.clone(),
            e.phone.clone(),
            e.postcode.clone(),
            format!("{} Library", e.town),
            as_of.add_days(-rng.range(30, 7300)).to_uk_dashed(),
        ],
        Source::Gp => unreachable!("the GP extract is JSON"),
    }
}

/// Breaks a CSV row in the way `kind` says. Returns the index of a field that
/// must be written raw (the one given a stray quote).
pub fn break_csv(
    source: Source,
    fields: &mut Vec<String>,
    kind: BadKind,
    r: &Resident,
    rng: &mut Rng,
) -> Option<usize> {
    let (dob, pc, nhs, family) = roles(source);
    match kind {
        BadKind::ImpossibleDate => fields[dob] = format_impossible_date(source, r.dob.year(), rng),
        BadKind::MalformedPostcode => {
            let valid = if fields[pc].is_empty() {
                "NR1 1AA".to_string()
            } else {
                fields[pc].clone()
            };
            fields[pc] = malformed_postcode(&valid, rng);
        }
        BadKind::InvalidNhsNumber => {
            let i = nhs.expect("only sources with NHS numbers");
            fields[i] = corrupt_nhs(&r.nhs.to_string(), rng);
        }
        BadKind::MissingColumn => {
            fields.pop();
        }
        BadKind::StrayQuote => {
            let name = &mut fields[family];
            let at = name
                .char_indices()
                .nth(name.chars().count() / 2)
                .map_or(name.len(), |(i, _)| i)
                .max(1);
            let at = at.min(name.len());
            name.insert(at, '"');
            return Some(family);
        }
        BadKind::TruncatedJson => unreachable!("CSV rows are not truncated JSON"),
    }
    None
}

/// Writes one CSV line. Fields with commas, quotes or line breaks are quoted,
/// except field `raw` (a field broken with a stray quote), written as it is.
pub fn write_csv_line(out: &mut Vec<u8>, fields: &[impl AsRef<str>], raw: Option<usize>) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let f = f.as_ref();
        if raw != Some(i) && f.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(f.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(f.as_bytes());
        }
    }
    out.push(b'\n');
}

/// The GP extract as a FHIR R4 UK Core Patient.
pub mod fhir {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn csv_lines_quote_what_needs_quoting() {
        let mut out = Vec::new();
        write_csv_line(&mut out, &["a", "b,c", "d\"e"], None);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "a,\"b,c\",\"d\"\"e\"\n"
        );
        out.clear();
        write_csv_line(&mut out, &["Sm\"ith", "b,c"], Some(0));
        assert_eq!(String::from_utf8(out).unwrap(), "Sm\"ith,\"b,c\"\n");
    }

    proptest! {
        #[test]
        fn malformed_postcodes_never_parse(seed in any::<u64>(), i in 0usize..40) {
            let mut rng = crate::rng::Rng::new(seed);
            let d = crate::tables::DISTRICTS[i % crate::tables::DISTRICTS.len()];
            let bad = malformed_postcode(&format!("{} 4AB", d.code), &mut rng);
            prop_assert!(Postcode::parse(&bad).is_err(), "{}", bad);
        }

        #[test]
        fn corrupted_nhs_numbers_never_validate(seed in any::<u64>()) {
            let mut rng = crate::rng::Rng::new(seed);
            let bad = corrupt_nhs("9434765919", &mut rng);
            prop_assert!(wherry_core::NhsNumber::parse(&bad).is_err());
        }

        #[test]
        fn impossible_dates_never_parse(seed in any::<u64>(), year in 1900i32..2020) {
            let mut rng = crate::rng::Rng::new(seed);
            for s in Source::ALL {
                let d = format_impossible_date(s, year, &mut rng);
                prop_assert!(Date::parse(&d).is_err(), "{}", d);
            }
        }
    }
}
