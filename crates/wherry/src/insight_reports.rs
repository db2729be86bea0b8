//! `wherry insight demand`: the pseudonymised reports at the command line
//! (for the planning and research purposes), with their charts.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use wherry_insight::chart::forecast_svg;
use wherry_insight::demand::{demand as report, service_totals, to_csv, ward_lookup};

use crate::insight::day;
use crate::store::{Database, Operator, request_id, runtime};

/// `wherry insight demand`.
pub fn demand(
    database: &Database,
    format: &str,
    wards: Option<&Path>,
    charts: Option<&Path>,
    on: Option<&str>,
    operator: &Operator,
) -> Result<()> {
    let today = day(on)?;
    let lookup = match wards {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the ward lookup {}", path.display()))?;
            Some(ward_lookup(&path.display().to_string(), &text)?)
        }
        None => None,
    };
    runtime().block_on(async {
        let store = database.open_initialised().await?;
        let made = async {
            let (access, caller) = operator.caller(&store, "wherry insight demand").await?;
            Ok::<_, anyhow::Error>(
                report(&access, &caller, lookup.as_ref(), today, &request_id()).await?,
            )
        }
        .await;
        store.close().await;
        let d = made?;
        let mut out = std::io::stdout().lock();
        match format {
            "json" => writeln!(out, "{}", serde_json::to_string_pretty(&d)?)?,
            _ => out.write_all(to_csv(&d).as_bytes())?,
        }
        if let Some(dir) = charts {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating {}", dir.display()))?;
            for (service, history, forecast) in service_totals(&d) {
                let svg = forecast_svg(
                    &format!("demand-{service}"),
                    &format!("Contacts a month: {}", service.replace('_', " ")),
                    "contacts a month",
                    &d.months,
                    &history,
                    &d.forecast_months,
                    &forecast,
                );
                crate::insight::write_chart(&dir.join(format!("demand-{service}.svg")), &svg)?;
            }
        }
        let area = if d.area == "ward" { "wards" } else { "postcode districts" };
        let areas: std::collections::BTreeSet<&str> = d.series.iter().map(|s| s.area.as_str()).collect();
        eprintln!(
            "{} series ({} services, {} {area}) over {} months{}; forecast {} to {}{}",
            d.series.len(),
            d.series.iter().map(|s| s.service.as_str()).collect::<std::collections::BTreeSet<_>>().len(),
            areas.len(),
            d.months.len(),
            match (d.months.first(), d.months.last()) {
                (Some(a), Some(b)) => format!(" ({a} to {b})"),
                _ => String::new(),
            },
            d.forecast_months.first().map_or("", String::as_str),
            d.forecast_months.last().map_or("", String::as_str),
            match &d.backtest {
                Some(b) => format!(
                    "; back-test MASE {:.3} (seasonal naive {:.3}) over {} forecasts",
                    b.mase_wherry, b.mase_seasonal_naive, b.trials
                ),
                None => "; too little history to back-test".to_string(),
            }
        );
        if d.unplaced > 0 {
            eprintln!("{} contacts of residents with no area the purpose may see: not placed", d.unplaced);
        }
        if d.not_in_lookup > 0 {
            eprintln!("{} contacts of residents whose postcode the ward lookup does not hold: counted as {:?}", d.not_in_lookup, wherry_insight::demand::NOT_IN_LOOKUP);
        }
        if d.sources.is_empty() {
            eprintln!("no partner shares contact events with this purpose: nothing to count");
        }
        Ok(())
    })
}

/// `wherry insight outcomes`.
pub fn outcomes(
    database: &Database,
    question: &wherry_insight::outcomes::Question,
    on: Option<&str>,
    chart: Option<&Path>,
    operator: &Operator,
) -> Result<()> {
    let today = day(on)?;
    runtime().block_on(async {
        let store = database.open_initialised().await?;
        let made = async {
            let (access, caller) = operator.caller(&store, "wherry insight outcomes").await?;
            Ok::<_, anyhow::Error>(
                wherry_insight::outcomes::outcomes(&access, &caller, question, today, &request_id())
                    .await?,
            )
        }
        .await;
        store.close().await;
        let o = made?;
        println!("{}", serde_json::to_string_pretty(&o)?);
        if let Some(file) = chart {
            let w = question.window_days;
            let svg = wherry_insight::chart::bars_svg(
                "outcomes",
                &format!(
                    "{}: outcome contacts per resident, {w} days before and after",
                    question.cohort.join(", ")
                ),
                "outcome contacts per resident",
                "group and window",
                &[
                    ("Cohort, before".to_string(), o.cohort_before),
                    ("Cohort, after".to_string(), o.cohort_after),
                    ("Comparison, before".to_string(), o.comparison_before),
                    ("Comparison, after".to_string(), o.comparison_after),
                ],
            );
            crate::insight::write_chart(file, &svg)?;
        }
        eprintln!(
            "{} cohort members, {} matched pairs ({} too recent to follow up, {} with no one like them); outcome contacts per resident in the {} days before and after: cohort {:.3} to {:.3}, comparison {:.3} to {:.3}; difference in differences {:.3} (95% interval {:.3} to {:.3})",
            o.cohort,
            o.pairs,
            o.too_recent,
            o.unmatched,
            question.window_days,
            o.cohort_before,
            o.cohort_after,
            o.comparison_before,
            o.comparison_after,
            o.did,
            o.ci95.0,
            o.ci95.1
        );
        Ok(())
    })
}
