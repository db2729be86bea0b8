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
        for (name, csv, meta, published) in render(&tables, &rules, Date::today_utc()) {
            let file = a.out.join(format!("{name}.csv"));
            std::fs::write(&file, csv).with_context(|| format!("writing {}", file.display()))?;
            let file = a.out.join(format!("{name}.csv-metadata.json"));
            std::fs::write(&file, serde_json::to_string_pretty(&meta)? + "\n")
                .with_context(|| format!("writing {}", file.display()))?;
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
        eprintln!("{} tables written to {} with their CSVW metadata", tables.len(), a.out.display());
        Ok(())
    })
}
