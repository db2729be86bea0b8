//! `wherry synth`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use wherry_core::Date;
use wherry_synth::{Config, Rates, Stage, Summary};

/// Arguments of `wherry synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many residents (at least 1).
    #[arg(long, value_name = "N", default_value = "10000", allow_negative_numbers = true, value_parser = parse_count)]
    pub residents: u64,
    /// Seed: the same seed always gives byte-identical output.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Directory to write the county into (created if missing; must be empty
    /// unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace the output directory if it holds a previous county.
    #[arg(long)]
    pub force: bool,
    /// Reference date (YYYY-MM-DD): ages are taken and histories end on it.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Share of residents aged 75+ with home sensors.
    #[arg(long, value_name = "RATE", default_value_t = 0.01)]
    pub sensor_rate: f64,
    /// Set an error rate, e.g. --rate typo=0.05 (repeatable). Names: typo,
    /// nickname, name_swap, maiden_name, old_address, dob_swap, missing_nhs,
    /// missing_field, case_noise, duplicate, bad_row.
    #[arg(long = "rate", value_name = "NAME=VALUE")]
    pub rates: Vec<String>,
    /// Also write linkage/records.csv: every unbroken record in canonical
    /// fields, ready for `wherry link`.
    #[arg(long)]
    pub canonical: bool,
    /// A sparse county: linkage/records.csv with only these canonical
    /// fields (comma-separated, e.g. given_name,family_name,dob), as a
    /// library or a voluntary group would send; implies --canonical.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = parse_column)]
    pub columns: Vec<String>,
}

/// A canonical field a record can hold (not `record_id` or `source`,
/// which every record has).
fn parse_column(s: &str) -> Result<String, String> {
    let names = &wherry_core::Field::NAMES[2..];
    let s = s.trim();
    if names.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a canonical field; known: {}",
            names.join(", ")
        ))
    }
}

/// A whole number of at least 1, with an error that says so.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err("must be at least 1, not negative".into());
    }
    match t.parse::<u64>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("must be a whole number such as 10000".into()),
    }
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.to_string())
}

/// Applies `NAME=VALUE` settings to the default rates.
pub fn rates_from(settings: &[String]) -> Result<Rates> {
    let mut value = serde_json::to_value(Rates::default()).expect("rates serialise");
    for s in settings {
        let Some((name, v)) = s.split_once('=') else {
            bail!("--rate {s}: expected NAME=VALUE, e.g. --rate typo=0.05");
        };
        let v: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("--rate {s}: {v:?} is not a number"))?;
        let map = value.as_object_mut().expect("rates are an object");
        if !map.contains_key(name.trim()) {
            let names: Vec<&str> = Rates::default().named().iter().map(|(n, _)| *n).collect();
            bail!(
                "--rate {s}: unknown rate {name:?}; known rates: {}",
                names.join(", ")
            );
        }
        map.insert(name.trim().to_string(), serde_json::json!(v));
    }
    Ok(serde_json::from_value(value)?)
}

/// Runs `wherry synth`.
pub fn run(args: Args) -> Result<()> {
    let config = Config {
        residents: args.residents,
        seed: args.seed,
        as_of: args.as_of.unwrap_or(Config::default().as_of),
        rates: rates_from(&args.rates)?,
        sensor_rate: args.sensor_rate,
        canonical: args.canonical,
        columns: args.columns,
    };
    let started = Instant::now();
    let summary = generate(&config, &args.out, args.force)?;
    print_summary(&summary, &args.out, started.elapsed());
    Ok(())
}

/// Generates with progress bars on the terminal.
pub fn generate(config: &Config, out: &Path, force: bool) -> Result<Summary> {
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
    )
    .expect("valid template")
    .progress_chars("=> ");
    let residents = ProgressBar::new(config.residents)
        .with_style(style.clone())
        .with_prefix("residents");
    let sensors = ProgressBar::hidden();
    let mut progress = |stage: Stage, n: u64| match stage {
        Stage::Residents => residents.inc(n),
        Stage::Sensors => {
            if sensors.is_hidden() && !residents.is_hidden() {
                residents.finish();
                sensors.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                sensors.set_style(style.clone());
                sensors.set_prefix("sensor days");
                sensors.set_length(wherry_synth::sensors::SENSOR_DAYS as u64);
            }
            sensors.inc(n)
        }
    };
    let result = wherry_synth::generate(config, out, force, &mut progress);
    residents.finish_and_clear();
    sensors.finish_and_clear();
    Ok(result?)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Prints what was generated, for a person.
pub fn print_summary(s: &Summary, out: &Path, took: Duration) {
    let c = &s.config;
    println!(
        "Synthetic county written to {} (seed {}, as of {}) in {:.1} s",
        out.display(),
        c.seed,
        c.as_of,
        took.as_secs_f64()
    );
    println!(
        "  residents         {} in {} households, {:.1}% aged 65 or over",
        thousands(s.residents),
        thousands(s.households),
        100.0 * s.residents_over_65 as f64 / s.residents.max(1) as f64
    );
    println!("  partner extracts  (extracts/)");
    for src in wherry_synth::Source::ALL {
        let name = src.name();
        println!(
            "    {:<24} {:>10} rows, {:>5} broken on purpose, {:>10} contact events",
            src.file_name(),
            thousands(*s.records.get(name).unwrap_or(&0)),
            thousands(*s.bad_rows.get(name).unwrap_or(&0)),
            thousands(*s.events.get(name).unwrap_or(&0)),
        );
    }
    println!(
        "  high-risk homes   {} ({} planted) in truth/risk_truth.csv",
        thousands(s.high_risk_homes),
        thousands(s.planted_high_risk_homes)
    );
    println!(
        "  sensors           {} homes, {} devices, {} uplinks, {} planted anomalies (sensors/)",
        thousands(s.sensors.homes),
        thousands(s.sensors.devices),
        thousands(s.sensors.uplinks),
        thousands(s.sensors.anomalies)
    );
    println!(
        "  ground truth      truth/ (truth.csv, residents.csv, bad_rows.csv, ...): keep it from the linker"
    );
}
