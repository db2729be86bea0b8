//! Records prepared for comparison.
//!
//! Each column is interned: records hold a `u32` id into a table of distinct
//! values, and everything a comparison needs (normalised text, phonetic
//! codes, the parsed date or postcode, address tokens, frequency) is worked
//! out once per distinct value. Exact agreement is then an integer test.

use std::collections::BTreeMap;

use rayon::prelude::*;
use rphonetic::DoubleMetaphone;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use wherry_core::{Date, NhsNumber, Postcode, name::normalise};

use crate::Error;
use crate::settings::{ComparisonKind, Settings};
use crate::similarity::Letters;

/// No value.
pub const NULL: u32 = u32::MAX;

/// A record as the caller hands it over: its source, its id within the
/// source, and its values in the order of the column names given alongside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// The source dataset.
    pub source: String,
    /// The record's id within its source.
    pub record_id: String,
    /// Values, aligned with the column names; `None` or blank when missing.
    pub values: Vec<Option<String>>,
}

/// What is known about one distinct value of a column.
#[derive(Debug, Clone, Default)]
pub struct ValueInfo {
    /// Normalised text.
    pub text: String,
    /// Records holding it.
    pub count: u32,
    /// Double Metaphone codes (primary, alternate) as ids in the column's
    /// phonetic table, for names.
    pub phonetic: [u32; 2],
    /// Parsed date, for dates.
    pub date: Option<Date>,
    /// Postcode sector, district and area as ids, for postcodes.
    pub parts: [u32; 3],
    /// Address tokens as sorted ids, and the house number token.
    pub tokens: Vec<u32>,
    /// The house number token id, or [`NULL`].
    pub house: u32,
    /// Shared by implausibly many records: never counts as agreement.
    pub generic: bool,
}

/// One column, prepared for one kind of comparison.
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// How it was prepared.
    pub kind: ComparisonKind,
    /// Per record: an index into `values`, or [`NULL`].
    pub ids: Vec<u32>,
    /// Distinct values.
    pub values: Vec<ValueInfo>,
    /// Records with a value.
    pub non_null: u32,
    /// Per value, for names and free text: letter counts, which bound
    /// string similarity without comparing ([`crate::similarity`]).
    /// Empty for other kinds (kept apart from [`ValueInfo`] so that columns
    /// of identifiers, with a value per record, do not carry them).
    pub letters: Vec<Letters>,
    /// Per value, for names: its alias groups
    /// ([`wherry_core::aliases::alias_groups`]). Empty for other kinds.
    pub aliases: Vec<&'static [u16]>,
    /// Normalised text → value id.
    table: FxHashMap<String, u32>,
    /// Phonetic codes, postcode parts and address tokens → ids.
    aux: FxHashMap<String, u32>,
}

impl Column {
    /// The value of record `r`, if present and not generic.
    pub fn get(&self, r: u32) -> Option<(u32, &ValueInfo)> {
        let id = self.ids[r as usize];
        if id == NULL {
            return None;
        }
        let v = &self.values[id as usize];
        (!v.generic).then_some((id, v))
    }

    /// The term frequency of value `id`: the share of records with a value
    /// that have this one.
    pub fn tf(&self, id: u32) -> f64 {
        f64::from(self.values[id as usize].count) / f64::from(self.non_null.max(1))
    }
}

/// A value treated as a placeholder, reported so a steward can fix it at
/// source. Identifier values are masked: only their last two characters show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenericValue {
    /// The column.
    pub column: String,
    /// The value (masked for identifiers).
    pub value: String,
    /// How many records hold it.
    pub count: u32,
}

/// Records prepared for linkage.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Source names.
    pub sources: Vec<String>,
    /// Per record: index into `sources`.
    pub source: Vec<u16>,
    /// Per record: the id within its source.
    pub record_ids: Vec<String>,
    /// Prepared columns.
    pub columns: Vec<Column>,
    /// Per column, how many values failed validation (unverified: compared as missing).
    pub invalid: BTreeMap<String, u64>,
    /// Placeholder values found.
    pub generic: Vec<GenericValue>,
}

/// Names that are placeholders, not names.
const PLACEHOLDER_NAMES: &[&str] = &[
    "unknown",
    "not known",
    "nk",
    "unk",
    "na",
    "n a",
    "none",
    "test",
    "xxx",
    "baby",
    "infant",
    "anon",
    "anonymous",
];

impl Dataset {
    /// Prepares `records`, whose values follow `column_names`, for the
    /// comparisons and blocking rules in `settings`.
    pub fn prepare(
        settings: &Settings,
        column_names: &[String],
        records: Vec<RawRecord>,
    ) -> Result<Self, Error> {
        settings.validate()?;
        if records.is_empty() {
            return Err(Error::NoRecords);
        }
        if records.len() >= NULL as usize {
            return Err(Error::TooManyRecords);
        }
        let missing: Vec<String> = settings
            .used_columns()
            .into_iter()
            .filter(|c| !column_names.contains(c))
            .collect();
        if !missing.is_empty() {
            return Err(Error::MissingColumns(missing));
        }
        // Sources and duplicate ids.
        let mut sources: Vec<String> = Vec::new();
        let mut source_index: FxHashMap<String, u16> = FxHashMap::default();
        let mut seen: FxHashMap<(u16, &str), ()> = FxHashMap::default();
        let mut duplicates = Vec::new();
        let mut source = Vec::with_capacity(records.len());
        for r in &records {
            let next = source_index.len() as u16;
            let s = *source_index.entry(r.source.clone()).or_insert_with(|| {
                sources.push(r.source.clone());
                next
            });
            source.push(s);
            if seen.insert((s, r.record_id.as_str()), ()).is_some() && duplicates.len() < 10 {
                duplicates.push(format!("{}/{}", r.source, r.record_id));
            }
        }
        if !duplicates.is_empty() {
            return Err(Error::DuplicateIds(duplicates));
        }
        // Which (column, kind) pairs to prepare: each comparison's, and
        // blocking-only columns as exact text.
        let mut wanted: Vec<(String, ComparisonKind)> = Vec::new();
        for c in &settings.comparisons {
            let mut want = |name: &str, kind| {
                if !wanted.contains(&(name.to_string(), kind)) {
                    wanted.push((name.to_string(), kind));
                }
            };
            want(&c.column, c.prepared_kind());
            if let Some(s) = &c.swap_with {
                want(s, ComparisonKind::Name);
            }
            for (role, col) in &c.with {
                want(col, crate::settings::ComparisonSpec::with_kind(role));
            }
        }
        for rule in &settings.blocking_rules {
            for col in rule.columns() {
                if !wanted.iter().any(|(n, _)| n == col) {
                    wanted.push((col.to_string(), ComparisonKind::Exact));
                }
            }
        }
        let mut columns = Vec::new();
        let mut invalid = BTreeMap::new();
        let mut generic = Vec::new();
        // Columns are independent: prepared in parallel, kept in order.
        let prepared: Vec<(Column, u64)> = wanted
            .par_iter()
            .map(|(name, kind)| {
                let i = column_names
                    .iter()
                    .position(|c| c == name)
                    .expect("checked above");
                prepare_column(name, *kind, &records, i, settings.generic_min_count)
            })
            .collect();
        for ((name, kind), (col, bad)) in wanted.into_iter().zip(prepared) {
            if bad > 0 {
                *invalid.entry(name.clone()).or_insert(0) += bad;
            }
            for v in col.values.iter().filter(|v| v.generic) {
                let value =
                    if matches!(kind, ComparisonKind::NhsNumber | ComparisonKind::Identifier) {
                        let keep: String = v
                            .text
                            .chars()
                            .rev()
                            .take(2)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                            .collect();
                        format!("***{keep}")
                    } else {
                        v.text.clone()
                    };
                generic.push(GenericValue {
                    column: name.clone(),
                    value,
                    count: v.count,
                });
            }
            columns.push(col);
        }
        let record_ids = records.into_iter().map(|r| r.record_id).collect();
        Ok(Self {
            sources,
            source,
            record_ids,
            columns,
            invalid,
            generic,
        })
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.record_ids.len()
    }

    /// Whether there are no records (never true: preparing refuses it).
    pub fn is_empty(&self) -> bool {
        self.record_ids.is_empty()
    }

    /// The prepared column for a comparison.
    pub fn column(&self, name: &str, kind: ComparisonKind) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name && c.kind == kind)
    }

    /// The first prepared column with this name (for blocking keys).
    pub fn column_named(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// The normalised value of one raw value, or `None` when it is missing or
/// fails validation (`Err(())`).
fn normalise_value(kind: ComparisonKind, raw: &str) -> Result<Option<String>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let text = match kind {
        ComparisonKind::Name => {
            let n = normalise(raw);
            if n.is_empty() || PLACEHOLDER_NAMES.contains(&n.as_str()) {
                return Ok(None);
            }
            n
        }
        ComparisonKind::Date => match Date::parse(raw) {
            Ok(d) => d.to_compact(),
            Err(_) => {
                // Unverified: keep its digits so a one-digit slip can still agree.
                let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
                if digits.len() == 8 {
                    format!("?{digits}")
                } else {
                    return Err(());
                }
            }
        },
        ComparisonKind::UkPostcode => match Postcode::parse(raw) {
            Ok(p) => p.as_str().to_string(),
            Err(_) => return Err(()),
        },
        ComparisonKind::NhsNumber => match NhsNumber::parse(raw) {
            Ok(n) => n.to_string(),
            Err(_) => return Err(()),
        },
        ComparisonKind::Address | ComparisonKind::Place => {
            let n = normalise(raw);
            if n.is_empty() {
                return Ok(None);
            }
            n
        }
        ComparisonKind::Phone => {
            let digits: String = raw.chars().filter(|c| c.is_ascii_digit()).collect();
            if raw.chars().any(|c| c.is_alphabetic()) || digits.len() < 6 {
                return Err(());
            }
            let national = match digits.strip_prefix("44") {
                Some(rest) if raw.trim_start().starts_with('+') || digits.len() == 12 => {
                    format!("0{rest}")
                }
                _ => digits,
            };
            // A landline belongs to the household; only mobiles are personal.
            if !(national.starts_with("07") && national.len() == 11) {
                return Ok(None);
            }
            national
        }
        ComparisonKind::Identifier => {
            let t: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_uppercase();
            if t.is_empty() {
                return Ok(None);
            }
            t
        }
        ComparisonKind::Exact | ComparisonKind::String => raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    };
    Ok(Some(text))
}

fn prepare_column(
    name: &str,
    kind: ComparisonKind,
    records: &[RawRecord],
    index: usize,
    generic_min_count: u32,
) -> (Column, u64) {
    let mut col = Column::empty(name, kind, records.len());
    let mut invalid = 0u64;
    fn value(r: &RawRecord, index: usize) -> &str {
        r.values.get(index).and_then(|v| v.as_deref()).unwrap_or("")
    }
    let raw = |r| value(r, index);
    if matches!(
        kind,
        ComparisonKind::Name | ComparisonKind::Date | ComparisonKind::UkPostcode
    ) {
        // Few distinct values, each written many times: each raw value is
        // normalised once and its outcome (id, none, or invalid) reused.
        const INVALID: u32 = NULL - 1;
        let mut seen: FxHashMap<&str, u32> = FxHashMap::default();
        for r in records {
            let text = raw(r);
            let id = match seen.get(text) {
                Some(&id) => id,
                None => {
                    let id = match normalise_value(kind, text) {
                        Ok(Some(t)) => col.intern(t),
                        Ok(None) => NULL,
                        Err(()) => INVALID,
                    };
                    seen.insert(text, id);
                    id
                }
            };
            match id {
                INVALID => {
                    invalid += 1;
                    col.ids.push(NULL);
                }
                NULL => col.ids.push(NULL),
                id => {
                    col.values[id as usize].count += 1;
                    col.non_null += 1;
                    col.ids.push(id);
                }
            }
        }
    } else {
        for r in records {
            if !col.push_raw(raw(r)) {
                invalid += 1;
            }
        }
    }
    if kind.detects_generic_values() && !col.values.is_empty() {
        let mean = f64::from(col.non_null) / col.values.len() as f64;
        for v in &mut col.values {
            v.generic = v.count > generic_min_count && f64::from(v.count) > 20.0 * mean;
        }
    }
    (col, invalid)
}

impl Column {
    fn empty(name: &str, kind: ComparisonKind, capacity: usize) -> Self {
        Self {
            name: name.to_string(),
            kind,
            ids: Vec::with_capacity(capacity),
            values: Vec::new(),
            non_null: 0,
            letters: Vec::new(),
            aliases: Vec::new(),
            table: FxHashMap::default(),
            aux: FxHashMap::default(),
        }
    }

    /// Appends one record's raw value. Returns false when the value fails
    /// validation (the record then has no value here).
    pub fn push_raw(&mut self, raw: &str) -> bool {
        let id = match normalise_value(self.kind, raw) {
            Ok(Some(text)) => self.intern(text),
            Ok(None) => NULL,
            Err(()) => {
                self.ids.push(NULL);
                return false;
            }
        };
        if id != NULL {
            self.values[id as usize].count += 1;
            self.non_null += 1;
        }
        self.ids.push(id);
        true
    }

    /// Removes the last record's value.
    pub fn pop(&mut self) {
        if let Some(id) = self.ids.pop() {
            self.forget(id);
        }
    }

    /// Clears record `r`'s value (its slot stays, empty).
    pub fn clear(&mut self, r: u32) {
        let id = std::mem::replace(&mut self.ids[r as usize], NULL);
        self.forget(id);
    }

    fn forget(&mut self, id: u32) {
        if id != NULL {
            self.values[id as usize].count -= 1;
            self.non_null -= 1;
        }
    }

    fn intern_aux(&mut self, s: String) -> u32 {
        let next = self.aux.len() as u32;
        *self.aux.entry(s).or_insert(next)
    }

    /// The id of a normalised value, analysing it when it is new.
    fn intern(&mut self, text: String) -> u32 {
        if let Some(&id) = self.table.get(&text) {
            return id;
        }
        let mut v = ValueInfo {
            phonetic: [NULL; 2],
            parts: [NULL; 3],
            house: NULL,
            ..Default::default()
        };
        match self.kind {
            ComparisonKind::Name => {
                self.letters.push(Letters::of(&text));
                self.aliases.push(wherry_core::aliases::alias_groups(&text));
                let joined: String = text.replace(' ', "");
                let code = DoubleMetaphone::default().double_metaphone(&joined);
                let (p, a) = (code.primary(), code.alternate());
                if !p.is_empty() {
                    v.phonetic[0] = self.intern_aux(p);
                }
                if !a.is_empty() {
                    v.phonetic[1] = self.intern_aux(a);
                }
            }
            ComparisonKind::String => self.letters.push(Letters::of(&text)),
            ComparisonKind::Date => v.date = Date::parse(&text).ok(),
            ComparisonKind::UkPostcode => {
                if let Ok(p) = Postcode::parse(&text) {
                    v.parts = [
                        self.intern_aux(p.sector().to_string()),
                        self.intern_aux(p.district().to_string()),
                        self.intern_aux(p.area().to_string()),
                    ];
                }
            }
            ComparisonKind::Address | ComparisonKind::Place => {
                let mut tokens: Vec<u32> = text
                    .split(' ')
                    .map(|t| self.intern_aux(t.to_string()))
                    .collect();
                if let Some(h) = text
                    .split(' ')
                    .find(|t| t.bytes().any(|b| b.is_ascii_digit()))
                {
                    v.house = self.intern_aux(h.to_string());
                }
                tokens.sort_unstable();
                tokens.dedup();
                v.tokens = tokens;
            }
            _ => {}
        }
        let id = self.values.len() as u32;
        v.text = text.clone();
        self.values.push(v);
        self.table.insert(text, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::LinkType;

    fn records(rows: &[(&str, &str, String)]) -> Vec<RawRecord> {
        rows.iter()
            .enumerate()
            .map(|(i, (g, d, n))| RawRecord {
                source: "s".into(),
                record_id: i.to_string(),
                values: vec![
                    Some(g.to_string()),
                    Some(d.to_string()),
                    Some(n.to_string()),
                ],
            })
            .collect()
    }

    fn cols() -> Vec<String> {
        vec!["given_name".into(), "dob".into(), "nhs_number".into()]
    }

    #[test]
    fn invalid_values_are_counted_and_placeholders_found() {
        let s =
            Settings::for_canonical_columns(&["given_name", "dob", "nhs_number"], LinkType::Dedupe);
        let mut rows = vec![
            ("Ann", "31/02/1950", "9434765918".to_string()),
            ("Unknown", "1950-01-02", "9434765919".to_string()),
        ];
        for _ in 0..30 {
            rows.push(("Bob", "1950-01-03", "4010232137".to_string()));
        }
        // Everyone else has a number of their own.
        let mut body = 100_000_000u32;
        while rows.len() < 232 {
            body += 1;
            let digits: Vec<u8> = body.to_string().bytes().map(|b| b - b'0').collect();
            if let Some(n) = NhsNumber::from_body(digits.try_into().unwrap()) {
                rows.push(("Cy", "1951-02-03", n.to_string()));
            }
        }
        let ds = Dataset::prepare(&s, &cols(), records(&rows)).unwrap();
        assert_eq!(ds.invalid.get("nhs_number"), Some(&1));
        assert_eq!(
            ds.invalid.get("dob"),
            None,
            "31/02/1950 keeps its digits, unverified"
        );
        let given = &ds.columns[ds.column("given_name", ComparisonKind::Name).unwrap()];
        assert_eq!(given.ids[1], NULL, "placeholder names are missing");
        assert!(
            ds.generic
                .iter()
                .any(|g| g.column == "nhs_number" && g.count == 30 && g.value == "***37")
        );
    }

    #[test]
    fn duplicate_ids_and_missing_columns_are_errors() {
        let s =
            Settings::for_canonical_columns(&["given_name", "dob", "nhs_number"], LinkType::Dedupe);
        let mut rs = records(&[("a", "", String::new()), ("b", "", String::new())]);
        rs[1].record_id = "0".into();
        assert!(matches!(
            Dataset::prepare(&s, &cols(), rs),
            Err(Error::DuplicateIds(_))
        ));
        let rs = records(&[("a", "", String::new())]);
        let e = Dataset::prepare(&s, &cols()[..2], rs).unwrap_err();
        assert!(e.to_string().contains("nhs_number"), "{e}");
        assert!(matches!(
            Dataset::prepare(&s, &cols(), vec![]),
            Err(Error::NoRecords)
        ));
    }
}
