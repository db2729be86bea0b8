//! Declarative settings: which columns are compared and how, which blocking
//! rules produce candidate pairs, and the thresholds. Serde-versioned, so a
//! settings file (TOML or JSON) and a trained model's copy of it round-trip.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The current settings format.
pub const SETTINGS_VERSION: u32 = 1;

/// Which pairs are candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkType {
    /// Pairs within and across all sources (one dataset with duplicates).
    #[default]
    Dedupe,
    /// Only pairs whose records come from different sources.
    LinkOnly,
    /// Pairs within and across sources (the same as `dedupe`, named as Splink does).
    LinkAndDedupe,
}

/// How a column is compared, which fixes its levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComparisonKind {
    /// Personal names: exact, (names swapped), nickname, one typo,
    /// Jaro–Winkler ≥ 0.92, same Double Metaphone, Jaro–Winkler ≥ 0.8, else.
    Name,
    /// Dates: exact, day and month swapped, one digit off, same year and month, else.
    Date,
    /// UK postcodes: full, sector, district, area, else.
    UkPostcode,
    /// Addresses: same tokens, most tokens and the house number, half the
    /// tokens, the house number and a token, else.
    Address,
    /// Where someone lives, from the address and (in `with`) the `postcode`
    /// and `uprn` columns together, because they are one fact and must count
    /// once: same UPRN or address, most address tokens and the house number,
    /// same postcode, same sector, same district, else.
    Place,
    /// Telephone numbers, UK mobiles only (07…): a landline belongs to the
    /// household, which `place` already counts. Exact, one digit off, else.
    Phone,
    /// NHS numbers (Modulus 11 checked; invalid ones are unverified):
    /// exact, one digit off, else.
    NhsNumber,
    /// Any identifier: exact, one character off, else.
    Identifier,
    /// Exact or not (sex, email, phone).
    Exact,
    /// Free text: exact, Jaro–Winkler ≥ 0.92, Jaro–Winkler ≥ 0.8, else.
    String,
}

impl ComparisonKind {
    /// Whether one value shared by implausibly many records is a placeholder
    /// rather than a fact (an NHS number on dozens of records).
    pub fn detects_generic_values(self) -> bool {
        matches!(
            self,
            Self::NhsNumber | Self::Identifier | Self::Exact | Self::Date
        )
    }
}

/// One comparison: a column and how to compare it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComparisonSpec {
    /// The column (a canonical field name or a name from `columns`).
    pub column: String,
    /// How to compare it.
    pub kind: ComparisonKind,
    /// Term-frequency adjustment: agreeing on a rare value counts more.
    #[serde(default)]
    pub tf: bool,
    /// For a name: the column it may be swapped with (given ↔ family).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap_with: Option<String>,
    /// Further columns by role, for comparisons that read several
    /// (`place`: `postcode`, `uprn`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub with: BTreeMap<String, String>,
}

impl ComparisonSpec {
    /// A comparison of one column.
    pub fn new(column: &str, kind: ComparisonKind) -> Self {
        Self {
            column: column.into(),
            kind,
            tf: false,
            swap_with: None,
            with: BTreeMap::new(),
        }
    }

    /// Every column it reads.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.column.as_str())
            .chain(self.swap_with.as_deref())
            .chain(self.with.values().map(String::as_str))
    }

    /// The kind the main column is prepared as.
    pub fn prepared_kind(&self) -> ComparisonKind {
        match self.kind {
            ComparisonKind::Place => ComparisonKind::Address,
            k => k,
        }
    }

    /// The kind each further column is prepared as.
    pub fn with_kind(role: &str) -> ComparisonKind {
        match role {
            "postcode" => ComparisonKind::UkPostcode,
            "uprn" => ComparisonKind::Identifier,
            _ => ComparisonKind::Exact,
        }
    }
}

/// One blocking rule: candidate pairs agree on every key.
///
/// A key is a column, optionally with a transform after a colon: `dob`,
/// `postcode`, `given_name:initial`, `family_name:metaphone`, `dob:year`,
/// `postcode:district`, `postcode:sector`, `family_name:first3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockingRule {
    /// The keys.
    pub keys: Vec<String>,
}

impl BlockingRule {
    /// The rule as text, `dob & given_name:initial`.
    pub fn describe(&self) -> String {
        self.keys.join(" & ")
    }

    /// The columns the rule uses.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.split(':').next().unwrap_or(k))
    }
}

/// Everything that configures a linkage run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Format version ([`SETTINGS_VERSION`]).
    #[serde(default = "default_version")]
    pub version: u32,
    /// Which pairs are candidates.
    #[serde(default)]
    pub link_type: LinkType,
    /// Input column for each column name used below, where they differ
    /// (`family_name = "surname"`). Used by callers that read files.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Comparisons, in the order their weights are shown.
    pub comparisons: Vec<ComparisonSpec>,
    /// Blocking rules; candidate pairs are their union, each pair once.
    pub blocking_rules: Vec<BlockingRule>,
    /// A blocking rule producing more pairs than this is refused.
    #[serde(default = "default_max_pairs")]
    pub max_pairs_per_rule: u64,
    /// Match probability at or above which pairs join a cluster.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Pairs below this match probability are not reported.
    #[serde(default = "default_report")]
    pub report_min_probability: f64,
    /// Random pairs sampled to estimate u-probabilities.
    #[serde(default = "default_u_pairs")]
    pub u_sample_pairs: u64,
    /// Most pairs per blocking rule used by EM (a seeded sample above it).
    #[serde(default = "default_em_pairs")]
    pub em_max_pairs: u64,
    /// EM iterations at most.
    #[serde(default = "default_em_iterations")]
    pub em_max_iterations: u32,
    /// EM stops when no m-probability moves more than this.
    #[serde(default = "default_em_tolerance")]
    pub em_tolerance: f64,
    /// An identifier or date value on more records than this is generic
    /// (a placeholder) and never counts as agreement.
    #[serde(default = "default_generic")]
    pub generic_min_count: u32,
    /// Two clusters holding different valid NHS numbers are joined only by a
    /// pair with at least this match weight (bits).
    #[serde(default = "default_overwhelming")]
    pub conflict_override_weight: f64,
    /// Seed for every sample.
    #[serde(default)]
    pub seed: u64,
}

fn default_version() -> u32 {
    SETTINGS_VERSION
}
fn default_max_pairs() -> u64 {
    200_000_000
}
fn default_threshold() -> f64 {
    0.9
}
fn default_report() -> f64 {
    0.01
}
fn default_u_pairs() -> u64 {
    2_000_000
}
fn default_em_pairs() -> u64 {
    2_000_000
}
fn default_em_iterations() -> u32 {
    40
}
fn default_em_tolerance() -> f64 {
    1e-5
}
fn default_generic() -> u32 {
    20
}
fn default_overwhelming() -> f64 {
    40.0
}

impl Settings {
    /// Settings for whichever canonical fields are present, as Wherry would
    /// configure itself with no settings file.
    pub fn for_canonical_columns(present: &[&str], link_type: LinkType) -> Self {
        use ComparisonKind::*;
        let has = |c: &str| present.contains(&c);
        let mut comparisons = Vec::new();
        let add =
            |comparisons: &mut Vec<ComparisonSpec>, column: &str, kind, tf, swap: Option<&str>| {
                if has(column) {
                    let mut c = ComparisonSpec::new(column, kind);
                    c.tf = tf;
                    c.swap_with = swap.filter(|s| has(s)).map(std::string::String::from);
                    comparisons.push(c);
                }
            };
        add(&mut comparisons, "nhs_number", NhsNumber, false, None);
        add(
            &mut comparisons,
            "given_name",
            Name,
            true,
            Some("family_name"),
        );
        add(&mut comparisons, "middle_names", Name, false, None);
        // With nothing but names and a date of birth, swapped names are
        // evidence in both name comparisons (not a strong disagreement in
        // one of them).
        let sparse = ![
            "nhs_number",
            "postcode",
            "address",
            "uprn",
            "phone",
            "email",
        ]
        .iter()
        .any(|c| has(c));
        add(
            &mut comparisons,
            "family_name",
            Name,
            true,
            sparse.then_some("given_name"),
        );
        add(&mut comparisons, "dob", Date, false, None);
        add(&mut comparisons, "sex", Exact, false, None);
        // Address, postcode and UPRN are one fact, where someone lives: one
        // comparison, so it counts once.
        if has("address") {
            let mut c = ComparisonSpec::new("address", Place);
            for role in ["postcode", "uprn"] {
                if has(role) {
                    c.with.insert(role.into(), role.into());
                }
            }
            comparisons.push(c);
        } else {
            add(&mut comparisons, "postcode", UkPostcode, false, None);
            add(&mut comparisons, "uprn", Identifier, false, None);
        }
        add(&mut comparisons, "phone", Phone, false, None);
        add(&mut comparisons, "email", Exact, false, None);
        let mut blocking_rules = Vec::new();
        let mut rule = |keys: &[&str]| {
            if keys.iter().all(|k| has(k.split(':').next().unwrap_or(k))) {
                blocking_rules.push(BlockingRule {
                    keys: keys.iter().map(|k| k.to_string()).collect(),
                });
            }
        };
        // Each rule is narrow enough for a county of a million records and
        // catches pairs the others miss: a wrong date of birth, a moved
        // address, a nickname or married name, swapped names.
        rule(&["nhs_number"]);
        rule(&["dob", "given_name:initial"]);
        rule(&["dob", "family_name:initial"]);
        rule(&["dob", "postcode:district"]);
        rule(&["postcode", "given_name:initial"]);
        rule(&["family_name:metaphone", "given_name:initial", "dob:year"]);
        rule(&["given_name", "family_name", "postcode:district"]);
        rule(&["uprn", "given_name:initial"]);
        rule(&["phone"]);
        rule(&["email"]);
        // With nothing but names and a date of birth (a library's or a
        // voluntary group's extract), rules that still find pairs with a
        // wrong date of birth, a misspelt initial or swapped names: the date
        // alone, names that sound alike, a name and the year of birth.
        if sparse {
            rule(&["dob"]);
            rule(&["given_name:metaphone", "family_name:metaphone"]);
            rule(&["family_name", "dob:year"]);
            rule(&["given_name", "dob:year"]);
        }
        // With too few columns for any rule above, block on the first one compared.
        if blocking_rules.is_empty() {
            if let Some(c) = comparisons.first() {
                blocking_rules.push(BlockingRule {
                    keys: vec![c.column.clone()],
                });
            }
        }
        Self {
            version: SETTINGS_VERSION,
            link_type,
            columns: BTreeMap::new(),
            comparisons,
            blocking_rules,
            max_pairs_per_rule: default_max_pairs(),
            threshold: default_threshold(),
            report_min_probability: default_report(),
            u_sample_pairs: default_u_pairs(),
            em_max_pairs: default_em_pairs(),
            em_max_iterations: default_em_iterations(),
            em_tolerance: default_em_tolerance(),
            generic_min_count: default_generic(),
            conflict_override_weight: default_overwhelming(),
            seed: 0,
        }
    }

    /// Checks the settings make sense on their own.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| Err(Error::Settings(why));
        if self.version != SETTINGS_VERSION {
            return bad(format!(
                "version {} is not supported (expected {SETTINGS_VERSION})",
                self.version
            ));
        }
        if self.comparisons.is_empty() {
            return bad("no comparisons".into());
        }
        if self.comparisons.len() > 16 {
            return bad("at most 16 comparisons".into());
        }
        for c in &self.comparisons {
            for role in c.with.keys() {
                if c.kind != ComparisonKind::Place || !["postcode", "uprn"].contains(&role.as_str())
                {
                    return bad(format!(
                        "comparison of {}: `with.{role}` is not a role this kind reads",
                        c.column
                    ));
                }
            }
        }
        if self.blocking_rules.is_empty() {
            return bad("no blocking rules".into());
        }
        if self.blocking_rules.len() > crate::blocking::MAX_RULES {
            return bad(format!(
                "{} blocking rules: at most {}",
                self.blocking_rules.len(),
                crate::blocking::MAX_RULES
            ));
        }
        for (name, p) in [
            ("threshold", self.threshold),
            ("report_min_probability", self.report_min_probability),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return bad(format!("{name} is {p}, not a probability between 0 and 1"));
            }
        }
        for rule in &self.blocking_rules {
            if rule.keys.is_empty() {
                return bad("a blocking rule has no keys".into());
            }
            for key in &rule.keys {
                let transform = key.split_once(':').map(|(_, t)| t);
                if let Some(t) = transform {
                    if !KEY_TRANSFORMS.contains(&t) {
                        return bad(format!(
                            "blocking key {key}: unknown transform {t:?} (known: {})",
                            KEY_TRANSFORMS.join(", ")
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Every column the settings read.
    pub fn used_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |c: &str| {
            if !out.iter().any(|x| x == c) {
                out.push(c.to_string());
            }
        };
        for c in &self.comparisons {
            for col in c.columns() {
                push(col);
            }
        }
        for r in &self.blocking_rules {
            for c in r.columns() {
                push(c);
            }
        }
        out
    }
}

/// Transforms a blocking key may apply.
pub const KEY_TRANSFORMS: &[&str] = &[
    "initial",
    "first3",
    "metaphone",
    "year",
    "sector",
    "district",
    "area",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_cover_the_present_columns_only() {
        let s = Settings::for_canonical_columns(
            &["given_name", "family_name", "dob"],
            LinkType::Dedupe,
        );
        let cols: Vec<&str> = s.comparisons.iter().map(|c| c.column.as_str()).collect();
        assert_eq!(cols, ["given_name", "family_name", "dob"]);
        assert_eq!(s.comparisons[0].swap_with.as_deref(), Some("family_name"));
        assert!(
            s.blocking_rules
                .iter()
                .all(|r| r.columns().all(|c| cols.contains(&c)))
        );
        s.validate().unwrap();
    }

    #[test]
    fn settings_round_trip_through_json() {
        let s =
            Settings::for_canonical_columns(&["given_name", "dob", "postcode"], LinkType::LinkOnly);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Settings>(&json).unwrap(), s);
    }

    #[test]
    fn unknown_transforms_are_refused() {
        let mut s = Settings::for_canonical_columns(&["dob"], LinkType::Dedupe);
        s.blocking_rules[0].keys[0] = "dob:decade".into();
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("decade") && e.contains("year"), "{e}");
    }

    /// Which rules a pair agrees on is kept in 32 bits.
    #[test]
    fn more_blocking_rules_than_the_bits_are_refused() {
        let mut s = Settings::for_canonical_columns(&["dob"], LinkType::Dedupe);
        let rule = s.blocking_rules[0].clone();
        s.blocking_rules = vec![rule; crate::blocking::MAX_RULES];
        s.validate().unwrap();
        s.blocking_rules.push(s.blocking_rules[0].clone());
        let e = s.validate().unwrap_err().to_string();
        assert!(e.contains("33 blocking rules: at most 32"), "{e}");
    }
}
