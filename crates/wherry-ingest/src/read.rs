//! Reading an extract: every row becomes a validated, normalised record or a
//! quarantined row with its line, field and reason. Faults of the whole file
//! (wrong encoding, a line over 1 MiB, no header, missing columns) are errors.

use std::collections::BTreeMap;
use std::path::Path;

use rayon::prelude::*;
use serde_json::Value;
use wherry_core::record::CHANGED_AT;
use wherry_core::{Date, DateRule, Field, NhsNumber, Postcode, Sex, is_valid_uprn};
use wherry_store::Quarantined;

use crate::Error;
use crate::manifest::{AttributeType, Format, Manifest};

mod json;

pub use json::pushed_row;
use json::read_jsonl;

/// Longest line read (a longer one is not a record a partner meant to send).
pub const MAX_LINE: usize = 1 << 20;

/// A row that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Line in the file.
    pub line: u64,
    /// The partner's record id.
    pub record_id: String,
    /// Canonical field → normalised value (absent when empty).
    pub fields: BTreeMap<String, String>,
    /// Attribute → typed value.
    pub attributes: BTreeMap<String, Value>,
    /// The row as sent.
    pub raw: String,
    /// `fields` as JSON.
    pub fields_json: String,
    /// `attributes` as JSON.
    pub attributes_json: String,
    /// Hash of the normalised content, to tell changed rows from unchanged.
    pub hash: String,
}

/// What reading a file gave.
#[derive(Debug, Default)]
pub struct Read {
    /// Rows (records) in the file.
    pub rows: u64,
    /// Valid rows.
    pub valid: Vec<Row>,
    /// Quarantined rows.
    pub quarantined: Vec<Quarantined>,
}

/// The SHA-256 of `bytes` (hex) and [`text_of`] them, side by side on two
/// threads.
pub fn hash_and_text(path: &Path, bytes: Vec<u8>) -> Result<(String, String), Error> {
    let (sha, checked) = std::thread::scope(|scope| {
        let hash = scope.spawn(|| crate::sha256_hex(&bytes));
        let checked = check_lines(path, &bytes);
        (hash.join().expect("hashing does not panic"), checked)
    });
    checked?;
    Ok((sha, into_text(path, bytes)?))
}

/// Checks the bytes are UTF-8 with no over-long line; returns the text.
pub fn text_of(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    check_lines(path, &bytes)?;
    into_text(path, bytes)
}

/// Every line is at most [`MAX_LINE`] bytes and the whole is UTF-8 (the
/// first line that is not is named).
fn check_lines(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let file = || path.display().to_string();
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        return Err(Error::Encoding {
            file: file(),
            line: line as u64 + 1,
        });
    }
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.len() > MAX_LINE {
            return Err(Error::LineTooLong {
                file: file(),
                line: i as u64 + 1,
                bytes: line.len(),
            });
        }
    }
    Ok(())
}

/// Checked bytes as text, without a byte-order mark.
fn into_text(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    let mut text = String::from_utf8(bytes).expect("checked to be UTF-8");
    if text.trim().is_empty() {
        return Err(Error::Empty {
            file: path.display().to_string(),
        });
    }
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

fn bad(
    line: u64,
    field: Option<&str>,
    code: &str,
    detail: impl std::fmt::Display,
    raw: &str,
) -> Quarantined {
    Quarantined {
        line: line as i64,
        field: field.map(String::from),
        reason: format!("{code}: {detail}"),
        raw: raw.to_string(),
    }
}

/// A double quote inside a field that does not start with one.
fn stray_quote(line: &str) -> bool {
    let mut in_quotes = false;
    let mut field_start = true;
    let mut quoted_field = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_quotes {
            if c == '"' {
                if chars.get(i + 1) == Some(&'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else if c == ',' {
            field_start = true;
            quoted_field = false;
            i += 1;
            continue;
        } else if c == '"' {
            if field_start {
                in_quotes = true;
                quoted_field = true;
            } else if !quoted_field {
                return true;
            }
        }
        field_start = false;
        i += 1;
    }
    false
}

/// A partner's change date: `2026-03-01`, `01/03/2026`, or an ISO 8601
/// time (`2026-03-01T09:30:00Z`, whose date is taken).
pub fn changed_date(v: &str) -> Result<Date, String> {
    let date_part = match v.find('T') {
        Some(10) => &v[..10],
        _ => v,
    };
    Date::parse(date_part).map_err(|e| format!("not a date: {e}"))
}

/// Validates and normalises one record's canonical values and attributes.
#[allow(clippy::too_many_arguments)]
fn validate(
    m: &Manifest,
    line: u64,
    record_id: String,
    values: BTreeMap<String, String>,
    attributes: BTreeMap<String, String>,
    changed: Option<String>,
    raw: &str,
    today: Date,
) -> Result<Row, Quarantined> {
    if record_id.trim().is_empty() {
        return Err(bad(
            line,
            Some("record_id"),
            "missing_record_id",
            "the row has no record id",
            raw,
        ));
    }
    let text_ok = |name: &str, v: &str| -> Result<(), Quarantined> {
        if let Some(code) = crate::text::refused_char(v) {
            return Err(bad(
                line,
                Some(name),
                code,
                crate::text::refused_char_words(code),
                raw,
            ));
        }
        let max = m.max_length(name);
        if v.chars().count() > max {
            return Err(bad(
                line,
                Some(name),
                "too_long",
                format!("longer than {max} characters"),
                raw,
            ));
        }
        Ok(())
    };
    text_ok("record_id", &record_id)?;
    for (name, value) in values.iter().chain(attributes.iter()) {
        text_ok(name, value)?;
    }
    let mut fields = BTreeMap::new();
    for (name, value) in values {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let field: Field = name.parse().expect("checked by the manifest");
        let normal = match field {
            Field::NhsNumber => NhsNumber::parse(v)
                .map(|n| n.to_string())
                .map_err(|e| bad(line, Some(&name), "invalid_nhs_number", e, raw))?,
            Field::Dob => Date::parse_birth_date(v, today)
                .map(|d| d.to_string())
                .map_err(|e| {
                    let code = match e {
                        wherry_core::Error::Date(DateRule::InFuture) => "future_date",
                        wherry_core::Error::Date(DateRule::TwoDigitYear) => "two_digit_year",
                        wherry_core::Error::Date(DateRule::UnknownFormat) => "unknown_date_format",
                        wherry_core::Error::Date(DateRule::TooOld) => "implausible_date",
                        _ => "impossible_date",
                    };
                    bad(line, Some(&name), code, e, raw)
                })?,
            Field::Postcode => Postcode::parse(v)
                .map(|p| p.as_str().to_string())
                .map_err(|e| bad(line, Some(&name), "malformed_postcode", e, raw))?,
            Field::Sex => v
                .parse::<Sex>()
                .map(|s| s.code().to_string())
                .map_err(|e| bad(line, Some(&name), "invalid_sex", e, raw))?,
            Field::Uprn if !is_valid_uprn(v) => {
                return Err(bad(
                    line,
                    Some(&name),
                    "invalid_uprn",
                    "a UPRN is 1 to 12 digits",
                    raw,
                ));
            }
            _ => v.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        fields.insert(name, normal);
    }
    let mut attrs = BTreeMap::new();
    for (name, value) in attributes {
        let a = &m.attributes[&name];
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let typed = match a.kind {
            AttributeType::Text => Value::String(v.to_string()),
            AttributeType::Integer => v.parse::<i64>().map(Value::from).map_err(|_| {
                bad(
                    line,
                    Some(&name),
                    "invalid_attribute",
                    "not a whole number",
                    raw,
                )
            })?,
            AttributeType::Date => Date::parse(v)
                .map(|d| Value::String(d.to_string()))
                .map_err(|e| bad(line, Some(&name), "invalid_attribute", e, raw))?,
            AttributeType::Bool => {
                let lower = v.to_lowercase();
                let yes = |set: &[String], default: &[&str]| {
                    if set.is_empty() {
                        default.contains(&lower.as_str())
                    } else {
                        set.iter().any(|s| s.to_lowercase() == lower)
                    }
                };
                if yes(&a.true_values, &["true", "yes", "y", "1"]) {
                    Value::Bool(true)
                } else if yes(&a.false_values, &["false", "no", "n", "0"]) {
                    Value::Bool(false)
                } else {
                    return Err(bad(
                        line,
                        Some(&name),
                        "invalid_attribute",
                        format!("{v:?} is not a yes/no value"),
                        raw,
                    ));
                }
            }
        };
        attrs.insert(name, typed);
    }
    if let Some(v) = changed.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        let column = m.source.changed_at.as_deref().unwrap_or(CHANGED_AT);
        let d = changed_date(v)
            .map_err(|why| bad(line, Some(column), "invalid_changed_date", why, raw))?;
        if d > today {
            return Err(bad(
                line,
                Some(column),
                "invalid_changed_date",
                format!("the record is said to have changed on {d}, after today"),
                raw,
            ));
        }
        fields.insert(CHANGED_AT.to_string(), d.to_string());
    }
    let fields_json = serde_json::to_string(&fields).expect("strings serialise");
    let attributes_json = serde_json::to_string(&attrs).expect("values serialise");
    let hash = crate::sha256_hex(format!("{fields_json}\u{1f}{attributes_json}").as_bytes());
    Ok(Row {
        line,
        record_id: record_id.trim().to_string(),
        fields,
        attributes: attrs,
        raw: raw.to_string(),
        fields_json,
        attributes_json,
        hash,
    })
}

/// Rows handed over at a time by [`read_chunks`].
pub const CHUNK: usize = 16_384;

/// Reads an extract of `m`'s format whole.
pub fn read(m: &Manifest, path: &Path, text: &str, today: Date) -> Result<Read, Error> {
    let mut all = Read::default();
    read_chunks(m, path, text, today, &mut |chunk, _| {
        all.rows += chunk.rows;
        all.valid.extend(chunk.valid);
        all.quarantined.extend(chunk.quarantined);
        true
    })?;
    Ok(all)
}

/// Reads an extract of `m`'s format in chunks of about [`CHUNK`] rows (each
/// validated on every core), handing each to `sink` with the number of
/// bytes of `text` read so far; stops when `sink` returns false. Faults of
/// the whole file (an unreadable header, missing columns) are returned
/// before any chunk is handed over.
pub fn read_chunks(
    m: &Manifest,
    path: &Path,
    text: &str,
    today: Date,
    sink: &mut dyn FnMut(Read, usize) -> bool,
) -> Result<(), Error> {
    match m.source.format {
        Format::Csv => read_csv(m, path, text, today, sink),
        Format::Jsonl | Format::FhirPatient => {
            read_jsonl(m, text, today, sink);
            Ok(())
        }
    }
}

/// A CSV reader over `text` (rows may have any number of fields, so short
/// rows can be quarantined) and its trimmed header.
pub fn csv_reader<'a>(
    file: &str,
    text: &'a str,
) -> Result<(csv::Reader<&'a [u8]>, Vec<String>), Error> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(|e| Error::Malformed {
            file: file.to_string(),
            line: 1,
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    Ok((rdr, header))
}

fn read_csv(
    m: &Manifest,
    path: &Path,
    text: &str,
    today: Date,
    sink: &mut dyn FnMut(Read, usize) -> bool,
) -> Result<(), Error> {
    let file = path.display().to_string();
    let (mut rdr, header) = csv_reader(&file, text)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let mut missing = Vec::new();
    let id_col = m.source.record_id.as_deref().and_then(col);
    if id_col.is_none() {
        missing.push(m.source.record_id.clone().unwrap_or_default());
    }
    let changed_col = match m.source.changed_at.as_deref() {
        Some(c) => match col(c) {
            Some(i) => Some(i),
            None => {
                missing.push(c.to_string());
                None
            }
        },
        None => None,
    };
    let mut fields: Vec<(String, Vec<usize>)> = Vec::new();
    for (f, cols) in &m.columns {
        let mut idx = Vec::new();
        for c in cols.names() {
            match col(c) {
                Some(i) => idx.push(i),
                None => missing.push(c.to_string()),
            }
        }
        fields.push((f.clone(), idx));
    }
    let mut attrs: Vec<(String, usize)> = Vec::new();
    for (name, a) in &m.attributes {
        match col(&a.column) {
            Some(i) => attrs.push((name.clone(), i)),
            None => missing.push(a.column.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            file,
            columns: missing,
        });
    }
    let id_col = id_col.expect("checked");
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Read::default();
    let mut record = csv::StringRecord::new();
    let mut tokenised: Vec<(u64, csv::StringRecord)> = Vec::new();
    let validate_record = |(line, record): &(u64, csv::StringRecord)| {
        let values = fields
            .iter()
            .map(|(f, idx)| {
                let parts: Vec<&str> = idx
                    .iter()
                    .map(|&i| record[i].trim())
                    .filter(|v| !v.is_empty())
                    .collect();
                (f.clone(), parts.join(", "))
            })
            .collect();
        let attributes = attrs
            .iter()
            .map(|(n, i)| (n.clone(), record[*i].to_string()))
            .collect();
        let raw_json =
            serde_json::to_string(&record.iter().collect::<Vec<_>>()).expect("strings serialise");
        validate(
            m,
            *line,
            record[id_col].to_string(),
            values,
            attributes,
            changed_col.map(|i| record[i].to_string()),
            &raw_json,
            today,
        )
    };
    loop {
        if tokenised.len() >= CHUNK {
            let chunk = std::mem::take(&mut tokenised);
            let results: Vec<Result<Row, Quarantined>> =
                chunk.par_iter().map(validate_record).collect();
            let at = rdr.position().byte() as usize;
            if !sink(take_results(&mut out, results), at) {
                return Ok(());
            }
        }
        let before = rdr.position().line();
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                out.rows += 1;
                let raw = lines.get(before as usize - 1).copied().unwrap_or("");
                out.quarantined
                    .push(bad(before, None, "malformed_csv", e, raw));
                continue;
            }
        }
        out.rows += 1;
        let line = record.position().map_or(before, |p| p.line());
        let raw = lines.get(line as usize - 1).copied().unwrap_or("");
        if record.len() != header.len() {
            let code = if record.len() < header.len() {
                "missing_column"
            } else {
                "extra_column"
            };
            out.quarantined.push(bad(
                line,
                None,
                code,
                format!("expected {} fields, found {}", header.len(), record.len()),
                raw,
            ));
            continue;
        }
        if stray_quote(raw) {
            out.quarantined.push(bad(
                line,
                None,
                "stray_quote",
                "a double quote inside an unquoted field",
                raw,
            ));
            continue;
        }
        tokenised.push((line, record.clone()));
    }
    let results: Vec<Result<Row, Quarantined>> =
        tokenised.par_iter().map(validate_record).collect();
    sink(take_results(&mut out, results), text.len());
    Ok(())
}

/// The rows and quarantined rows counted in `out` so far, with `results`,
/// as one chunk (`out` starts again).
fn take_results(out: &mut Read, results: Vec<Result<Row, Quarantined>>) -> Read {
    let mut chunk = std::mem::take(out);
    for r in results {
        match r {
            Ok(row) => chunk.valid.push(row),
            Err(q) => chunk.quarantined.push(q),
        }
    }
    chunk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_quotes_are_found_and_quoted_fields_are_not() {
        assert!(stray_quote(r#"a,Car"ter,b"#));
        assert!(!stray_quote(r#"a,"Car""ter",b"#));
        assert!(!stray_quote(r#"a,"1 Mill Road, Holt",b"#));
        assert!(!stray_quote("a,b,c"));
    }
}
