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
            "last_updated",
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
            "last_updated",
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
            "last_updated",
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
            "last_updated",
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
            "last_updated",
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

/// The fields of one CSV row, in header order; the last is when the
/// partner last changed the record (`last_updated`, in its date layout).
pub fn csv_fields(
    e: &Entry,
    r: &Resident,
    h: &Household,
    as_of: Date,
    rng: &mut Rng,
) -> Vec<String> {
    let mut fields = csv_fields_of(e, r, h, as_of, rng);
    fields.push(format_date(e.source, e.changed));
    fields
}

/// [`csv_fields`] but the change date.
fn csv_fields_of(
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

pub mod fhir;

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
