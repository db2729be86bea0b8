//! `wherry link explain`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use wherry_link::{Dataset, RawRecord};

use super::{input, load_model, write_atomically};

/// Arguments of `wherry link explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// model.json from `wherry link`.
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Input file(s) holding the two records; --left and --right are then
    /// record ids (`SOURCE/ID` when ids repeat across sources).
    #[arg(long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// The left record: an id (with --input), or a CSV row whose columns
    /// follow --header.
    #[arg(long)]
    left: String,
    /// The right record, as --left.
    #[arg(long)]
    right: String,
    /// Column names for CSV rows given as --left and --right (comma
    /// separated). Default: the model's columns, in the order its settings
    /// use them (printed when the rows do not fit).
    #[arg(long)]
    header: Option<String>,
    /// Also write the waterfall chart here (SVG).
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

fn parse_row(line: &str) -> Result<Vec<String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    let rec = rdr.records().next().context("empty CSV row")??;
    Ok(rec.iter().map(String::from).collect())
}

/// Runs `wherry link explain`.
pub fn run(a: Args) -> Result<()> {
    let model = load_model(&a.model)?;
    let settings = &model.settings;
    let (columns, records, left, right) = if a.inputs.is_empty() {
        let columns = settings.used_columns();
        let header = match a.header.as_deref() {
            Some(h) => parse_row(h)?,
            None => columns.clone(),
        };
        let record = |side: &str, row: &str| -> Result<RawRecord> {
            let values = parse_row(row)?;
            if values.len() != header.len() {
                bail!(
                    "--{side} has {} fields but the header has {}: {}",
                    values.len(),
                    header.len(),
                    header.join(",")
                );
            }
            let get = |c: &str| {
                let expr = settings.columns.get(c).map_or(c, String::as_str);
                let parts: Vec<&str> = expr
                    .split('+')
                    .filter_map(|p| {
                        header
                            .iter()
                            .position(|h| h == p.trim())
                            .map(|i| values[i].trim())
                    })
                    .filter(|v| !v.is_empty())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" "))
            };
            Ok(RawRecord {
                source: side.into(),
                record_id: side.into(),
                values: columns.iter().map(|c| get(c)).collect(),
            })
        };
        let recs = vec![record("left", &a.left)?, record("right", &a.right)?];
        (columns, recs, 0u32, 1u32)
    } else {
        let input = input::read(settings, &a.inputs)?;
        let find = |id: &str| -> Result<u32> {
            let (source, rid) = id.split_once('/').map_or((None, id), |(s, r)| (Some(s), r));
            let hits: Vec<usize> = input
                .records
                .iter()
                .enumerate()
                .filter(|(_, r)| r.record_id == rid && source.is_none_or(|s| r.source == s))
                .map(|(i, _)| i)
                .collect();
            match hits.as_slice() {
                [i] => Ok(*i as u32),
                [] => bail!("no record {id} in the input"),
                _ => bail!("record id {id} is in several sources; write it as SOURCE/{rid}"),
            }
        };
        let (l, r) = (find(&a.left)?, find(&a.right)?);
        (input.columns, input.records, l, r)
    };
    let ds = Dataset::prepare(settings, &columns, records)?;
    let e = wherry_link::explain::explain(&model, &ds, left, right);
    print!("{}", e.text());
    if let Some(path) = &a.svg {
        let svg = e.svg();
        write_atomically(path, |w| w.write_all(svg.as_bytes()))?;
        println!("Waterfall chart: {}", path.display());
    }
    Ok(())
}
