//! Source manifests: one TOML file per partner dataset, saying what the
//! partner sends, how its columns map onto the canonical fields, and under
//! which data sharing agreement: the lawful basis, the purposes the data may
//! be used for, and for each purpose the fields, attributes and events that
//! may be disclosed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use wherry_core::{Date, Field};

/// Purposes data may be used for.
pub const PURPOSES: &[&str] = wherry_core::Purpose::NAMES;

/// UK GDPR Article 6(1) lawful bases.
pub const LAWFUL_BASES: &[&str] = &[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
];

/// UK GDPR Article 9(2) conditions for special category data.
pub const ARTICLE_9_CONDITIONS: &[&str] = &[
    "explicit_consent",
    "employment_social_security",
    "vital_interests",
    "not_for_profit_bodies",
    "made_public",
    "legal_claims",
    "substantial_public_interest",
    "health_social_care",
    "public_health",
    "archiving_research_statistics",
];

/// A partner dataset's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Who sends what, and how.
    pub source: SourceInfo,
    /// Canonical field → the partner's column (or columns, joined with ", ").
    pub columns: BTreeMap<String, Columns>,
    /// Attributes: name → where and what type.
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    /// Longest value taken, in characters, by canonical field, attribute
    /// or `record_id`, where the default ([`crate::text::default_max_length`])
    /// does not suit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_length: BTreeMap<String, usize>,
    /// The data sharing agreement.
    pub agreement: Agreement,
}

/// The dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// The source's name in Wherry (`social_care`).
    pub id: String,
    /// The partner organisation.
    pub partner: String,
    /// The dataset.
    pub dataset: String,
    /// `csv`, `jsonl` or `fhir-patient`.
    pub format: Format,
    /// Character encoding; only `utf-8` is read.
    #[serde(default = "utf8")]
    pub encoding: String,
    /// `full` (a snapshot: records absent are withdrawn) or `delta`.
    pub extract: ExtractKind,
    /// The column holding the partner's record id (CSV and JSON Lines).
    #[serde(default)]
    pub record_id: Option<String>,
    /// The file holding contact events, if the partner sends them.
    #[serde(default)]
    pub events: Option<String>,
    /// The column (CSV, JSON Lines) holding the date the partner last
    /// changed the record in its own system, or `meta.lastUpdated` for FHIR
    /// Patients. The golden record prefers the most recently changed
    /// value; without it, a record's change date is unknown.
    #[serde(default)]
    pub changed_at: Option<String>,
    /// How far the source's values are trusted when sources disagree, 1 to
    /// 100 (default 50): the resident view's golden record takes each field
    /// from the most trusted source that holds it.
    #[serde(default = "default_trust")]
    pub trust: u8,
}

/// A source's trust when its manifest does not say.
pub const DEFAULT_TRUST: u8 = 50;

fn default_trust() -> u8 {
    DEFAULT_TRUST
}

fn utf8() -> String {
    "utf-8".into()
}

/// File formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Comma-separated, header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// FHIR R4 (UK Core) Patient resources, one per line.
    FhirPatient,
}

/// Extract kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtractKind {
    /// A full snapshot.
    Full,
    /// Changes only.
    Delta,
}

/// One column or several joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    /// One column.
    One(String),
    /// Several, joined with ", " (address lines).
    Many(Vec<String>),
}

impl Columns {
    /// The column names.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// An attribute's column and type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// The partner's column.
    pub column: String,
    /// `bool`, `text`, `date` or `integer`.
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// For `bool`: the values meaning true (default: true, yes, y, 1).
    #[serde(default)]
    pub true_values: Vec<String>,
    /// For `bool`: the values meaning false (default: false, no, n, 0).
    #[serde(default)]
    pub false_values: Vec<String>,
}

/// Attribute types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Yes or no.
    Bool,
    /// Free text.
    Text,
    /// A date.
    Date,
    /// A whole number.
    Integer,
}

pub use wherry_core::purpose::{Agreement, PurposeGrant};

/// One problem in a manifest, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Line (1-based), when known.
    pub line: Option<usize>,
    /// The key at fault, dotted (`agreement.purposes.marketing`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl Manifest {
    /// The longest value taken for `name` (a canonical field, an
    /// attribute or `record_id`), in characters.
    pub fn max_length(&self, name: &str) -> usize {
        self.max_length
            .get(name)
            .copied()
            .unwrap_or_else(|| crate::text::default_max_length(name))
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}, {}: {}", self.key, self.message),
            None => write!(f, "{}: {}", self.key, self.message),
        }
    }
}

/// The line of `key` inside `[section]` (or a sub-table of it), 1-based.
fn line_of(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            current = h.trim_matches(['[', ']']).trim().to_string();
            if !key.is_empty() && current == format!("{section}.{key}") {
                return Some(i + 1);
            }
            continue;
        }
        if current == section || current.starts_with(&format!("{section}.")) {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// Line and column of a byte offset.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Manifest {
    /// Parses and checks a manifest, reporting every problem found.
    pub fn parse(text: &str) -> Result<Self, Vec<Problem>> {
        let m: Manifest = match toml::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                let line = e.span().map(|s| line_at(text, s.start));
                // The key is what stands before `=` (or the table header) on that line.
                let key = line
                    .and_then(|l| text.lines().nth(l - 1))
                    .map(|l| {
                        l.split('=')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .trim_matches(['[', ']'])
                            .to_string()
                    })
                    .unwrap_or_default();
                let message = e
                    .message()
                    .replace("expected u32", "expected a whole number");
                return Err(vec![Problem { line, key, message }]);
            }
        };
        let problems = m.check(text);
        if problems.is_empty() {
            Ok(m)
        } else {
            Err(problems)
        }
    }

    fn check(&self, text: &str) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut problem = |section: &str, key: &str, message: String| {
            let line = line_of(text, section, key);
            let dotted = if key.is_empty() {
                section.to_string()
            } else {
                format!("{section}.{key}")
            };
            out.push(Problem {
                line,
                key: dotted,
                message,
            });
        };
        let s = &self.source;
        if s.id.is_empty()
            || !s
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            problem(
                "source",
                "id",
                "must be lower case letters, digits and underscores".into(),
            );
        }
        if !s.encoding.eq_ignore_ascii_case("utf-8") && !s.encoding.eq_ignore_ascii_case("utf8") {
            problem(
                "source",
                "encoding",
                format!(
                    "{:?} is not supported: partners must send UTF-8",
                    s.encoding
                ),
            );
        }
        if s.format != Format::FhirPatient && s.record_id.is_none() {
            problem(
                "source",
                "record_id",
                "missing: which column holds the partner's record id?".into(),
            );
        }
        for field in self.columns.keys() {
            match field.parse::<Field>() {
                Ok(Field::RecordId | Field::Source) => problem(
                    "columns",
                    field,
                    "record_id and source are set in [source], not here".into(),
                ),
                Ok(_) => {}
                Err(_) => problem(
                    "columns",
                    field,
                    format!(
                        "unknown canonical field (expected one of {})",
                        Field::NAMES[2..].join(", ")
                    ),
                ),
            }
        }
        for (name, a) in &self.attributes {
            if a.kind != AttributeType::Bool
                && (!a.true_values.is_empty() || !a.false_values.is_empty())
            {
                problem(
                    "attributes",
                    name,
                    "true_values and false_values are only for type = \"bool\"".into(),
                );
            }
        }
        for (name, n) in &self.max_length {
            let known = name == "record_id"
                || self.columns.contains_key(name)
                || self.attributes.contains_key(name);
            if !known {
                problem(
                    "max_length",
                    name,
                    "names no mapped field, attribute or record_id".into(),
                );
            } else if !(1..=100_000).contains(n) {
                problem("max_length", name, "must be from 1 to 100000".into());
            }
        }
        if !(1..=100).contains(&self.source.trust) {
            problem("source", "trust", "must be from 1 to 100".into());
        }
        let ag = &self.agreement;
        if !LAWFUL_BASES.contains(&ag.lawful_basis.as_str()) {
            problem(
                "agreement",
                "lawful_basis",
                format!(
                    "{:?} is not a UK GDPR Article 6(1) basis ({})",
                    ag.lawful_basis,
                    LAWFUL_BASES.join(", ")
                ),
            );
        }
        if let Some(c) = &ag.special_category_condition {
            if !ARTICLE_9_CONDITIONS.contains(&c.as_str()) {
                problem(
                    "agreement",
                    "special_category_condition",
                    format!(
                        "{c:?} is not a UK GDPR Article 9(2) condition ({})",
                        ARTICLE_9_CONDITIONS.join(", ")
                    ),
                );
            }
        }
        if Date::parse(&ag.review_date).is_err() {
            problem("agreement", "review_date", "not a date (YYYY-MM-DD)".into());
        }
        if ag.retention_years == 0 {
            problem("agreement", "retention_years", "must be at least 1".into());
        }
        if ag.purposes.is_empty() {
            problem(
                "agreement",
                "purposes",
                "the agreement names no purpose".into(),
            );
        }
        for (purpose, grant) in &ag.purposes {
            let section = format!("agreement.purposes.{purpose}");
            if !PURPOSES.contains(&purpose.as_str()) {
                problem(
                    "agreement.purposes",
                    purpose,
                    format!("unknown purpose (expected one of {})", PURPOSES.join(", ")),
                );
            }
            for f in &grant.fields {
                if !self.columns.contains_key(f) && f != "record_id" {
                    problem(
                        &section,
                        "fields",
                        format!("{f:?} is not a field this source maps in [columns]"),
                    );
                }
            }
            for share in &grant.sensors {
                if !wherry_core::purpose::SENSOR_SHARES.contains(&share.as_str()) {
                    problem(
                        &section,
                        "sensors",
                        format!(
                            "{share:?} is not a share of the sensor service (expected {})",
                            wherry_core::purpose::SENSOR_SHARES.join(", ")
                        ),
                    );
                }
            }
            for a in &grant.attributes {
                if !self.attributes.contains_key(a) {
                    problem(
                        &section,
                        "attributes",
                        format!("{a:?} is not an attribute declared in [attributes]"),
                    );
                }
            }
        }
        out
    }

    /// The fields, attributes and events `purpose` may see, if the agreement allows it at all.
    pub fn grant(&self, purpose: &str) -> Option<&PurposeGrant> {
        self.agreement.purposes.get(purpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[source]
id = "libraries"
partner = "Norfolk Library Service"
dataset = "Library members"
format = "csv"
extract = "full"
record_id = "borrower_id"

[columns]
given_name = "first_name"
family_name = "last_name"
address = ["line_1", "town"]

[attributes.home_library]
column = "home_library"
type = "text"

[agreement]
lawful_basis = "public_task"
retention_years = 2
contact = "data.protection@example.org"
review_date = "2027-04-01"

[agreement.purposes.contact_centre]
fields = ["given_name", "family_name"]
events = true
"#;

    #[test]
    fn a_good_manifest_parses() {
        let m = Manifest::parse(GOOD).unwrap();
        assert_eq!(m.columns["address"].names(), ["line_1", "town"]);
        assert!(m.grant("contact_centre").unwrap().events);
        assert!(m.grant("fire_prevention").is_none());
    }

    fn problems(text: &str) -> Vec<String> {
        Manifest::parse(text)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn every_problem_names_its_line_and_key() {
        // GOOD starts with a blank line: [source] is line 2, [columns] line 10.
        let p =
            problems(&GOOD.replace("given_name = \"first_name\"", "given_nam = \"first_name\""));
        assert!(
            p[0].starts_with(
                "line 11, columns.given_nam: unknown canonical field (expected one of nhs_number,"
            ),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("line 26, agreement.purposes.contact_centre.fields: \"given_name\""),
            "{p:?}"
        );
        let p = problems(&GOOD.replace("retention_years = 2", "retention_years = \"two\""));
        assert!(
            p[0].starts_with("line 21, retention_years") && p[0].contains("whole number"),
            "{p:?}"
        );
        let p = problems(&GOOD.replace(
            "[agreement.purposes.contact_centre]",
            "[agreement.purposes.marketing]",
        ));
        assert!(
            p[0].starts_with("line 25, agreement.purposes.marketing: unknown purpose"),
            "{p:?}"
        );
        let p = problems(&GOOD.replace(
            "fields = [\"given_name\", \"family_name\"]",
            "fields = [\"given_name\", \"dob\"]",
        ));
        assert!(
            p[0].starts_with("line 26, agreement.purposes.contact_centre.fields")
                && p[0].contains("\"dob\""),
            "{p:?}"
        );
        let p = problems(&GOOD.replace(
            "lawful_basis = \"public_task\"",
            "lawful_basis = \"because\"",
        ));
        assert!(p[0].starts_with("line 20, agreement.lawful_basis"), "{p:?}");
        let p = problems(&GOOD.replace("type = \"text\"", "type = \"colour\""));
        assert!(
            p[0].starts_with("line 17") && p[0].contains("colour"),
            "{p:?}"
        );
        let no_agreement = &GOOD[..GOOD.find("[agreement]").unwrap()];
        let p = problems(no_agreement);
        assert!(p[0].contains("missing field `agreement`"), "{p:?}");
        let p = problems(&GOOD.replace(
            "extract = \"full\"",
            "extract = \"full\"\ncolour = \"blue\"",
        ));
        assert!(
            p[0].starts_with("line 8") && p[0].contains("colour"),
            "{p:?}"
        );
    }
}
