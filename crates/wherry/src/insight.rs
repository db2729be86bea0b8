//! `wherry insight`: the insight reports at the command line, as the
//! operator's role and declared purpose may see the county (the same
//! disclosures as the API's), every resident shown audited.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use wherry_core::Date;
use wherry_insight::targets::{MAX_TOP, fire_targets, to_csv};
use wherry_insight::visits::{MIN_SERVICES, coordinated_visits, to_csv as visits_csv};
use wherry_insight::weights::Weights;

use crate::store::{Database, Operator, request_id, runtime};

/// Arguments of `wherry insight`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    database: Database,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Homes ranked for home fire safety visits, each with the factors
    /// that put it there and their points, the factors the purpose cannot
    /// see and its data completeness (docs/insight.md).
    FireTargets {
        /// How many homes: a station's visiting capacity (1 to 100,000).
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=MAX_TOP as i64))]
        top: u32,
        /// `csv` (for visit planning: rank,uprn,score,…) or `json`.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// A weights file (TOML, `[weights]` points per factor); the
        /// documented defaults otherwise.
        #[arg(long, value_name = "FILE")]
        weights: Option<PathBuf>,
        /// The date the ages and the three years since a visit count
        /// from [default: today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<String>,
        /// Write a chart (SVG) of the factors that put the listed homes
        /// there.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
        #[command(flatten)]
        operator: Operator,
    },
    /// Residents three or more services saw in the last 90 days, the
    /// services involved, a suggested lead among the services that visit
    /// or care, and the home visits one lead would save (docs/insight.md).
    Visits {
        /// `csv` (person_id,name,services,lead,…) or `json`.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// The last day of the 90 [default: today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<String>,
        /// Write a chart (SVG) of the services that saw the residents
        /// listed.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
        #[command(flatten)]
        operator: Operator,
    },
    /// Contacts per service, month and postcode district (or ward), each
    /// series forecast six months ahead with 80% and 95% intervals, and
    /// the forecasts' back-test against seasonal naive (docs/insight.md).
    /// Pseudonymised: for the planning and research purposes.
    Demand {
        /// `csv` (service,area,month,kind,contacts,lo80,…) or `json`.
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// A ward lookup (CSV with `postcode` and `ward` columns): report
        /// by ward instead of postcode district.
        #[arg(long, value_name = "FILE")]
        wards: Option<PathBuf>,
        /// Write a chart per service (SVG) into this directory.
        #[arg(long, value_name = "DIR")]
        charts: Option<PathBuf>,
        /// Report as if on this day: its month is the first forecast
        /// [default: today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<String>,
        #[command(flatten)]
        operator: Operator,
    },
    /// Did a programme work? Residents with a cohort contact (say a home
    /// fire safety check) in a period against matched residents without,
    /// outcome contacts before and after: the difference in differences
    /// with a bootstrap 95% interval, and each covariate's balance
    /// (docs/insight.md). Pseudonymised: for analysts.
    Outcomes {
        /// Contact types or services that put a resident in the cohort
        /// (comma separated).
        #[arg(long, value_delimiter = ',', required = true)]
        cohort: Vec<String>,
        /// The period's first day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: String,
        /// The period's last day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: String,
        /// Contact types or services that are the outcome (comma
        /// separated).
        #[arg(long, value_delimiter = ',', required = true)]
        outcome: Vec<String>,
        /// Days counted before and after each member's first cohort contact.
        #[arg(long, default_value_t = 180)]
        window_days: i64,
        /// The data end on this day [default: today].
        #[arg(long, value_name = "YYYY-MM-DD")]
        on: Option<String>,
        /// Write a chart (SVG) of the outcome before and after, cohort
        /// and comparison, here.
        #[arg(long, value_name = "FILE")]
        chart: Option<PathBuf>,
        #[command(flatten)]
        operator: Operator,
    },
}

pub(crate) fn day(on: Option<&str>) -> Result<Date> {
    match on {
        Some(d) => Date::parse(d).map_err(|e| anyhow::anyhow!("--on {d:?}: {e}")),
        None => Ok(Date::today_utc()),
    }
}

/// Writes a report's chart to `file`.
pub(crate) fn write_chart(file: &Path, svg: &str) -> Result<()> {
    std::fs::write(file, svg).with_context(|| format!("writing the chart {}", file.display()))
}

/// Runs `wherry insight`.
pub fn run(a: Args) -> Result<()> {
    let (top, format, weights, on, chart, operator) = match a.command {
        Command::FireTargets {
            top,
            format,
            weights,
            on,
            chart,
            operator,
        } => (top, format, weights, on, chart, operator),
        Command::Visits {
            format,
            on,
            chart,
            operator,
        } => {
            return visits(
                &a.database,
                &format,
                on.as_deref(),
                chart.as_deref(),
                &operator,
            );
        }
        Command::Outcomes {
            cohort,
            from,
            to,
            outcome,
            window_days,
            on,
            chart,
            operator,
        } => {
            let date = |flag: &str, v: &str| {
                Date::parse(v).map_err(|e| anyhow::anyhow!("--{flag} {v:?}: {e}"))
            };
            let question = wherry_insight::outcomes::Question {
                cohort,
                from: date("from", &from)?,
                to: date("to", &to)?,
                outcome,
                window_days,
            };
            return crate::insight_reports::outcomes(
                &a.database,
                &question,
                on.as_deref(),
                chart.as_deref(),
                &operator,
            );
        }
        Command::Demand {
            format,
            wards,
            charts,
            on,
            operator,
        } => {
            return crate::insight_reports::demand(
                &a.database,
                &format,
                wards.as_deref(),
                charts.as_deref(),
                on.as_deref(),
                &operator,
            );
        }
    };
    let weights = match &weights {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the weights file {}", path.display()))?;
            Weights::from_toml(&path.display().to_string(), &text)?
        }
        None => Weights::default(),
    };
    let today = day(on.as_deref())?;
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let listed = async {
            let (access, caller) = operator
                .caller(&store, "wherry insight fire-targets")
                .await?;
            Ok::<_, anyhow::Error>(
                fire_targets(&access, &caller, &weights, top as usize, today, &request_id()).await?,
            )
        }
        .await;
        store.close().await;
        let listed = listed?;
        let mut out = std::io::stdout().lock();
        match format.as_str() {
            "json" => writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?,
            _ => out.write_all(to_csv(&listed).as_bytes())?,
        }
        if let Some(file) = &chart {
            write_chart(file, &wherry_insight::targets::chart(&listed))?;
        }
        eprintln!(
            "{} homes listed of {} scored ({} residents; {} with no UPRN the purpose may see, not placed){}",
            listed.targets.len(),
            listed.homes,
            listed.residents,
            listed.without_uprn,
            if listed.never_shared.is_empty() {
                String::new()
            } else {
                format!(
                    "; no partner shares with this purpose: {}",
                    listed
                        .never_shared
                        .iter()
                        .map(|f| f.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        Ok(())
    })
}

/// `wherry insight visits`.
fn visits(
    database: &Database,
    format: &str,
    on: Option<&str>,
    chart: Option<&Path>,
    operator: &Operator,
) -> Result<()> {
    let today = day(on)?;
    runtime().block_on(async {
        let store = database.open_initialised().await?;
        let listed = async {
            let (access, caller) = operator.caller(&store, "wherry insight visits").await?;
            Ok::<_, anyhow::Error>(
                coordinated_visits(&access, &caller, today, &request_id()).await?,
            )
        }
        .await;
        store.close().await;
        let listed = listed?;
        let mut out = std::io::stdout().lock();
        match format {
            "json" => writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?,
            _ => out.write_all(visits_csv(&listed).as_bytes())?,
        }
        if let Some(file) = chart {
            let label = |s: &str| s.replace('_', " ");
            write_chart(file, &wherry_insight::visits::chart(&listed, label))?;
        }
        eprintln!(
            "{} residents saw {} or more services from {} to {}; one lead each would save {} home visits{}",
            listed.residents.len(),
            MIN_SERVICES,
            listed.since,
            listed.until,
            listed.total_saved,
            if listed.sources.is_empty() {
                "; no partner shares contact events with this purpose".to_string()
            } else {
                format!(" (events of {})", listed.sources.join(", "))
            }
        );
        Ok(())
    })
}
