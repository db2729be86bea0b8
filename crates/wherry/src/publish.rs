//! `wherry publish`: open data with disclosure control
//! (`wherry_insight::publish`): the county's service use and demand read
//! pseudonymised for the operator's purpose (audited), the street and
//! library counters' monthly counts, each table as CSV with its CSV on the
//! Web metadata.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use wherry_core::Date;
use wherry_insight::disclosure::Rules;
use wherry_insight::publish::{MONTHS, Table, county, render, table};
use wherry_store::Store;

use crate::insight::day;
use crate::store::{Database, Operator, request_id, runtime};

/// Arguments of `wherry publish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to write the tables into (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Counts under this are suppressed.
    #[arg(long, default_value_t = 10)]
    threshold: u64,
    /// Published counts are rounded to a multiple of this.
    #[arg(long, default_value_t = 5)]
    rounding: u64,
    /// The tables cover the twelve whole months before this day's month
    /// [default: today].
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<String>,
    #[command(flatten)]
    operator: Operator,
    #[command(flatten)]
    database: Database,
}

/// The counters' counts (both ways) per place and month, over the same
/// months. Counters count public places, never a person.
async fn counters(store: &Store, today: Date) -> Result<Option<Table>> {
    use wherry_core::localtime::local_to_utc;
    use wherry_sensors::counters::{CounterReading, aggregate};
    let last = Date::new(today.year(), today.month(), 1)?;
    let first = {
        let m = today.year() as i64 * 12 + today.month() as i64 - 1 - MONTHS;
        Date::new(m.div_euclid(12) as i32, (m.rem_euclid(12) + 1) as u8, 1)?
    };
    let rows = store
        .counter_uplinks(local_to_utc(first, 0) * 1000, local_to_utc(last, 0) * 1000)
        .await?;
    let mut places: BTreeMap<String, String> = BTreeMap::new();
    let mut readings = Vec::new();
    for r in rows {
        let Ok(use_kind) = r.use_kind.parse::<wherry_sensors::Use>() else {
            continue;
        };
        places.insert(
            r.dev_eui.clone(),
            if r.place.is_empty() {
                r.dev_eui.clone()
            } else {
                r.place.clone()
            },
        );
        readings.push(CounterReading {
            dev_eui: r.dev_eui,
            use_kind,
            at_ms: r.time_ms,
            reading: serde_json::from_str(&r.reading).unwrap_or(serde_json::Value::Null),
        });
    }
    if readings.is_empty() {
        return Ok(None);
    }
    let mut cells: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in aggregate(&readings, true) {
        let place = places.get(&c.dev_eui).cloned().unwrap_or(c.dev_eui);
        let month = c.period.get(..7).unwrap_or(&c.period).to_string();
        *cells.entry((place, month)).or_default() += c.a + c.b;
    }
    let period = format!(
        "{}/{}",
        &first.to_string()[..7],
        &last.add_days(-1).to_string()[..7]
    );
    Ok(Some(table(
        "counters-by-month",
        "People and vehicles counted by street and library counters, by month",
        "Passes counted by each street (traffic) and library (footfall) counter, both ways together, month by month (UK local time).",
        "passes",
        "place",
        "month",
        &period,
        &cells,
    )))
}

/// Arguments of `wherry extract`.
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The Parquet file to write.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the extract as CSV here.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write a chart (SVG) of the k-anonymity report: what was
    /// suppressed, and the rows by the size of their group.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
    /// Every combination of year of birth, sex and postcode district
    /// occurs at least this many times (rarer ones are suppressed).
    #[arg(long, default_value_t = wherry_insight::extract::K as u32, value_parser = clap::value_parser!(u32).range(2..=1000))]
    k: u32,
    /// The pseudonym key (64 hex digits) [default: the hub's own,
    /// `pseudonym.key` in the audit directory, made the first time].
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Contacts are counted over the year before this day [default: today].
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<String>,
    #[command(flatten)]
    operator: Operator,
    #[command(flatten)]
    database: Database,
}

/// The pseudonym key: `file`'s, or the hub's own in `audit_dir`.
fn pseudonym_key(file: Option<&std::path::Path>, audit_dir: &std::path::Path) -> Result<Vec<u8>> {
    match file {
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("reading the pseudonym key {}", f.display()))?;
            let text = text.trim();
            let key: Option<Vec<u8>> = (text.len() == 64)
                .then(|| {
                    (0..32)
                        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
                        .collect()
                })
                .flatten();
            key.with_context(|| format!("{}: a pseudonym key is 64 hex digits", f.display()))
        }
        None => wherry_access::trail::key_in(audit_dir, "pseudonym.key").map_err(|e| {
            anyhow::anyhow!("the hub's pseudonym key in {}: {e}", audit_dir.display())
        }),
    }
}

/// Runs `wherry extract`.
pub fn extract(a: ExtractArgs) -> Result<()> {
    use wherry_insight::extract::{extract as make, to_csv, to_parquet};
    let today = day(a.on.as_deref())?;
    let key = pseudonym_key(a.key_file.as_deref(), &a.database.audit_dir())?;
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let made = async {
            let (access, caller) = a.operator.caller(&store, "wherry extract").await?;
            Ok::<_, anyhow::Error>(make(&access, &caller, &key, a.k as usize, today, &request_id()).await?)
        }
        .await;
        store.close().await;
        let x = made?;
        std::fs::write(&a.out, to_parquet(&x)).with_context(|| format!("writing {}", a.out.display()))?;
        if let Some(csv) = &a.csv {
            std::fs::write(csv, to_csv(&x)).with_context(|| format!("writing {}", csv.display()))?;
        }
        if let Some(file) = &a.chart {
            crate::insight::write_chart(file, &wherry_insight::extract::chart(&x))?;
        }
        let r = &x.report;
        eprintln!(
            "{} rows of {} residents written to {}; k = {}: years of birth suppressed {}, postcode districts {}, sexes {}, rows left out {}; {} groups, the smallest {}",
            r.rows,
            r.residents,
            a.out.display(),
            r.k,
            r.birth_year_suppressed,
            r.postcode_district_suppressed,
            r.sex_suppressed,
            r.rows_left_out,
            r.groups,
            r.smallest_group
        );
        Ok(())
    })
}

/// Runs `wherry publish`.
pub fn run(a: Args) -> Result<()> {
    let rules = Rules::new(a.threshold, a.rounding).map_err(anyhow::Error::msg)?;
    let today = day(a.on.as_deref())?;
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let made = async {
            let (access, caller) = a.operator.caller(&store, "wherry publish").await?;
            let mut tables = county(&access, &caller, today, &request_id()).await?;
            tables.extend(counters(&store, today).await?);
            Ok::<_, anyhow::Error>(tables)
        }
        .await;
        store.close().await;
        let tables = made?;
        std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
        let bar = indicatif::ProgressBar::new(tables.len() as u64).with_message("disclosure control");
        for r in render(&tables, &rules, Date::today_utc()) {
            let (name, published) = (&r.name, &r.published);
            for (ext, text) in [
                ("csv", r.csv.clone()),
                ("csv-metadata.json", serde_json::to_string_pretty(&r.metadata)? + "\n"),
                ("svg", r.svg.clone()),
            ] {
                let file = a.out.join(format!("{name}.{ext}"));
                std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
            }
            bar.inc(1);
            bar.suspend(|| {
                eprintln!(
                    "{name}.csv: {} rows × {} columns; {} counts suppressed under {}, {} more to protect them",
                    published.rows.len(),
                    published.columns.len(),
                    published.primary,
                    rules.threshold,
                    published.secondary
                )
            });
        }
        bar.finish_and_clear();
        eprintln!("{} tables written to {} with their CSVW metadata and a chart each", tables.len(), a.out.display());
        Ok(())
    })
}
