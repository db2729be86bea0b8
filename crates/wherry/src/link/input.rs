//! Reading linkage input: CSV files whose header uses the canonical field
//! names, or names mapped in the settings' `columns` table (`family_name =
//! "surname"`, or several columns joined: `address = "street_number +
//! address_1"`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use wherry_link::{RawRecord, Settings};

/// A row that could not be read, kept for `rejected.csv`.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The file.
    pub file: PathBuf,
    /// Its line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// What was read from the inputs.
#[derive(Debug, Default)]
pub struct Input {
    /// Column names, aligned with every record's values.
    pub columns: Vec<String>,
    /// The records.
    pub records: Vec<RawRecord>,
    /// Rows skipped, with their reasons.
    pub rejected: Vec<Rejected>,
}

/// How one logical column is found in a file: the header positions to join.
fn resolve(settings: &Settings, column: &str, header: &[String]) -> Option<Vec<usize>> {
    let expr = settings.columns.get(column).map_or(column, String::as_str);
    expr.split('+')
        .map(|part| header.iter().position(|h| h == part.trim()))
        .collect()
}

/// Reads every input file.
pub fn read(settings: &Settings, files: &[PathBuf]) -> Result<Input> {
    if files.is_empty() {
        bail!("no input: give at least one --input FILE.csv");
    }
    let columns = settings.used_columns();
    let mut input = Input {
        columns: columns.clone(),
        ..Default::default()
    };
    for file in files {
        read_file(settings, file, &columns, &mut input)?;
    }
    if input.records.is_empty() {
        bail!(
            "the input has no records to link ({} file(s), all empty)",
            files.len()
        );
    }
    Ok(input)
}

fn read_file(
    settings: &Settings,
    file: &Path,
    columns: &[String],
    input: &mut Input,
) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let header_bytes = rdr
        .byte_headers()
        .with_context(|| format!("{}: cannot read the header", file.display()))?
        .clone();
    if header_bytes.is_empty() {
        bail!("{}: the file is empty (no header row)", file.display());
    }
    let mut header = Vec::new();
    for h in header_bytes.iter() {
        match std::str::from_utf8(h) {
            Ok(s) => header.push(s.trim().trim_start_matches('\u{feff}').to_string()),
            Err(_) => bail!("{} line 1: the header is not UTF-8", file.display()),
        }
    }
    let mut missing = Vec::new();
    let mut positions = Vec::new();
    for c in columns {
        match resolve(settings, c, &header) {
            Some(p) => positions.push(p),
            None => missing.push(
                settings
                    .columns
                    .get(c)
                    .map_or(c.clone(), |e| format!("{c} (from {e})")),
            ),
        }
    }
    let Some(id_pos) = resolve(settings, "record_id", &header) else {
        missing.insert(0, "record_id".into());
        bail!(
            "{}: missing columns: {}",
            file.display(),
            missing.join(", ")
        );
    };
    if !missing.is_empty() {
        bail!(
            "{}: missing columns: {}",
            file.display(),
            missing.join(", ")
        );
    }
    let source_pos = resolve(settings, "source", &header);
    let stem = file
        .file_stem()
        .map_or_else(|| "input".to_string(), |s| s.to_string_lossy().into_owned());
    let mut rows = 0;
    let mut record = csv::ByteRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                input.rejected.push(Rejected {
                    file: file.to_path_buf(),
                    line,
                    reason: format!("malformed CSV: {e}"),
                });
                continue;
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        if record.len() != header.len() {
            input.rejected.push(Rejected {
                file: file.to_path_buf(),
                line,
                reason: format!("expected {} fields, found {}", header.len(), record.len()),
            });
            continue;
        }
        let mut text = Vec::with_capacity(record.len());
        for (i, f) in record.iter().enumerate() {
            match std::str::from_utf8(f) {
                Ok(s) => text.push(s),
                Err(_) => bail!(
                    "{} line {line}: column {} is not UTF-8; convert the file to UTF-8",
                    file.display(),
                    header[i]
                ),
            }
        }
        let join = |p: &[usize]| {
            if let [i] = p {
                // One header column (almost always): no joining.
                let t = text[*i].trim();
                return (!t.is_empty()).then(|| t.to_string());
            }
            let parts: Vec<&str> = p
                .iter()
                .map(|&i| text[i].trim())
                .filter(|s| !s.is_empty())
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        let Some(record_id) = join(&id_pos) else {
            input.rejected.push(Rejected {
                file: file.to_path_buf(),
                line,
                reason: "no record_id".into(),
            });
            continue;
        };
        let source = source_pos
            .as_deref()
            .and_then(join)
            .unwrap_or_else(|| stem.clone());
        input.records.push(RawRecord {
            source,
            record_id,
            values: positions.iter().map(|p| join(p)).collect(),
        });
        rows += 1;
    }
    if rows == 0 && !input.rejected.iter().any(|r| r.file == file) {
        bail!("{}: the file has a header but no records", file.display());
    }
    Ok(())
}
