//! Demand by area: contacts per service per month per postcode district
//! (or per ward, given a lookup from postcode to ward), each series with
//! a forecast of the next [`HORIZON`] months and prediction intervals
//! ([`crate::forecast`]), and the forecasts' rolling-origin back-test.
//!
//! For those who plan services (the analyst, who sees pseudonymised data
//! only): the contacts are counted in the store
//! ([`wherry_access::Access::contact_counts`]): those of the sources whose
//! agreements share events with the purpose, each placed by the postcode
//! the recording partner holds for the resident where the purpose may
//! see it; only counts reach the report. A contact with no postcode the
//! purpose may see is counted as unplaced; one whose postcode the ward
//! lookup does not hold, as not in the lookup: both are said, neither
//! dropped silently.
//!
//! The months: every whole month from the first with contacts to the one
//! before `today`'s; a first month with less than half the median month's
//! contacts is taken to be part-covered (the partners' history starting
//! mid-month) and left out, and so are last months with less than half
//! (the partners' extracts not yet reaching them): the forecast starts
//! after the last month with its contacts in.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wherry_access::counts::{Areas, Place};
use wherry_access::{Access, Caller};
use wherry_core::{Date, Postcode, Role};

use crate::forecast::{self, Forecast, HORIZON};

/// Who may see demand: those who plan services.
pub const ROLES: &[Role] = &[Role::Analyst];

/// How far back contacts are read, months.
pub const HISTORY_MONTHS: i64 = 36;

/// The area of a lookup that does not hold a resident's postcode.
pub const NOT_IN_LOOKUP: &str = "(not in the ward lookup)";

/// A bad ward lookup file: where and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file} line {line}: {message}")]
pub struct LookupError {
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Postcode → ward, from a CSV file with `postcode` and `ward` columns
/// (others ignored; ONS's lookups can be cut to these two).
pub fn ward_lookup(file: &str, text: &str) -> Result<BTreeMap<String, String>, LookupError> {
    let err = |line: usize, message: String| LookupError {
        file: file.to_string(),
        line,
        message,
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = r
        .headers()
        .map_err(|e| err(1, format!("not CSV: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(pc), Some(ward)) = (col("postcode"), col("ward")) else {
        return Err(err(
            1,
            format!(
                "the header needs `postcode` and `ward` columns; it has: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let mut out = BTreeMap::new();
    for (i, row) in r.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| err(line, e.to_string()))?;
        let raw = row.get(pc).unwrap_or("");
        let postcode = Postcode::parse(raw)
            .map_err(|e| err(line, format!("postcode {raw:?} is not a UK postcode: {e}")))?;
        let name = row.get(ward).unwrap_or("").trim();
        if name.is_empty() {
            return Err(err(line, format!("postcode {raw:?} has no ward")));
        }
        if let Some(before) = out.insert(postcode.as_str().to_string(), name.to_string())
            && before != name
        {
            return Err(err(
                line,
                format!("postcode {raw:?} is in two wards: {before:?} and {name:?}"),
            ));
        }
    }
    if out.is_empty() {
        return Err(err(1, "no postcodes: the lookup is empty".into()));
    }
    Ok(out)
}

/// `YYYY-MM` of a month number (`year * 12 + month − 1`).
pub fn month_name(m: i64) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

fn month_of(date: &str) -> Option<i64> {
    let y: i64 = date.get(..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    Some(y * 12 + m - 1)
}

/// One area's contacts with one service, month by month, and the forecast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The service.
    pub service: String,
    /// The postcode district or ward.
    pub area: String,
    /// Contacts in each of [`Demand::months`].
    pub contacts: Vec<u64>,
    /// The next [`HORIZON`] months (see [`Demand::forecast_months`]).
    pub forecast: Vec<Forecast>,
}

/// The back-test's result (see [`crate::forecast`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Backtest {
    /// Forecasts compared with what happened.
    pub trials: usize,
    /// Wherry's mean absolute scaled error.
    pub mase_wherry: f64,
    /// Seasonal naive's.
    pub mase_seasonal_naive: f64,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    /// `postcode_district` or `ward`.
    pub area: String,
    /// The whole months counted, `YYYY-MM`, oldest first.
    pub months: Vec<String>,
    /// The months forecast.
    pub forecast_months: Vec<String>,
    /// The sources whose contacts are counted.
    pub sources: Vec<String>,
    /// Each service and area.
    pub series: Vec<Series>,
    /// Contacts in the months counted of residents with no area the
    /// purpose may see.
    pub unplaced: u64,
    /// Contacts of residents whose postcode the ward lookup does not hold
    /// (counted under [`NOT_IN_LOOKUP`]).
    pub not_in_lookup: u64,
    /// The back-test, where there is enough history.
    pub backtest: Option<Backtest>,
}

/// The report from `counts` (place, service, `YYYY-MM`, contacts), up to
/// the month before `today`. Pure.
pub fn build<'a>(
    counts: impl IntoIterator<Item = (&'a Place, &'a str, &'a str, u64)>,
    today: Date,
    by_ward: bool,
) -> Demand {
    let last = today.year() as i64 * 12 + today.month() as i64 - 2;
    let mut cells: BTreeMap<(String, String), BTreeMap<i64, u64>> = BTreeMap::new();
    let mut totals: BTreeMap<i64, u64> = BTreeMap::new();
    let mut unplaced: BTreeMap<i64, u64> = BTreeMap::new();
    for (place, service, month, n) in counts {
        let Some(m) = month_of(&format!("{month}-01")).filter(|m| *m <= last) else {
            continue;
        };
        *totals.entry(m).or_default() += n;
        let area = match place {
            Place::Area(a) => a.clone(),
            Place::NotInLookup => NOT_IN_LOOKUP.to_string(),
            Place::Unplaced => {
                *unplaced.entry(m).or_default() += n;
                continue;
            }
        };
        *cells
            .entry((service.to_string(), area))
            .or_default()
            .entry(m)
            .or_default() += n;
    }
    let mut first = totals.keys().next().copied().unwrap_or(last + 1);
    let mut sorted: Vec<u64> = totals.values().copied().collect();
    sorted.sort_unstable();
    let mut last = last;
    if let Some(&median) = sorted.get(sorted.len() / 2) {
        let short = |m: i64| totals.get(&m).copied().unwrap_or(0) * 2 < median;
        if short(first) {
            first += 1;
        }
        // Recent months the partners' extracts have not yet reached.
        while last > first && short(last) {
            last -= 1;
        }
    }
    let months: Vec<i64> = (first..=last).collect();
    let series_of = |by_month: &BTreeMap<i64, u64>| -> Vec<u64> {
        months
            .iter()
            .map(|m| by_month.get(m).copied().unwrap_or(0))
            .collect()
    };
    let mut series: Vec<Series> = cells
        .iter()
        .map(|((service, area), by_month)| Series {
            service: service.clone(),
            area: area.clone(),
            contacts: series_of(by_month),
            forecast: Vec::new(),
        })
        .filter(|s| s.contacts.iter().any(|c| *c > 0))
        .collect();
    // Forecast and back-test service by service (the seasonal shape is
    // the service's).
    let position = first.rem_euclid(12) as usize;
    let services: BTreeSet<String> = series.iter().map(|s| s.service.clone()).collect();
    let mut trials = Vec::new();
    for service in &services {
        let members: Vec<usize> = (0..series.len())
            .filter(|i| &series[*i].service == service)
            .collect();
        let ys: Vec<Vec<f64>> = members
            .iter()
            .map(|i| series[*i].contacts.iter().map(|c| *c as f64).collect())
            .collect();
        let totals: Vec<f64> = (0..months.len())
            .map(|t| ys.iter().map(|y| y[t]).sum())
            .collect();
        let seasonal = forecast::seasonal_indices(&totals, position);
        for (k, i) in members.iter().enumerate() {
            series[*i].forecast = forecast::forecast(&ys[k], position, &seasonal, HORIZON);
        }
        trials.extend(forecast::backtest(&ys, position));
    }
    let backtest = forecast::mase(&trials).map(|(w, n)| Backtest {
        trials: trials.len(),
        mase_wherry: w,
        mase_seasonal_naive: n,
    });
    let not_in_lookup = series
        .iter()
        .filter(|s| s.area == NOT_IN_LOOKUP)
        .map(|s| s.contacts.iter().sum::<u64>())
        .sum();
    Demand {
        area: if by_ward { "ward" } else { "postcode_district" }.into(),
        months: months.iter().map(|m| month_name(*m)).collect(),
        forecast_months: (1..=HORIZON as i64).map(|h| month_name(last + h)).collect(),
        sources: Vec::new(),
        series,
        unplaced: months
            .iter()
            .map(|m| unplaced.get(m).copied().unwrap_or(0))
            .sum(),
        not_in_lookup,
        backtest,
    }
}

/// Each service's county-wide contacts (all areas) with their own
/// forecast, for charts: (service, contacts a month, forecast).
pub fn service_totals(d: &Demand) -> Vec<(String, Vec<f64>, Vec<Forecast>)> {
    let position = d
        .months
        .first()
        .and_then(|m| month_of(&format!("{m}-01")))
        .map_or(0, |m| m.rem_euclid(12) as usize);
    let mut by: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in &d.series {
        let t = by
            .entry(&s.service)
            .or_insert_with(|| vec![0.0; d.months.len()]);
        for (x, c) in t.iter_mut().zip(&s.contacts) {
            *x += *c as f64;
        }
    }
    by.into_iter()
        .map(|(service, totals)| {
            let seasonal = forecast::seasonal_indices(&totals, position);
            let f = forecast::forecast(&totals, position, &seasonal, HORIZON);
            (service.to_string(), totals, f)
        })
        .collect()
}

/// The demand report for `caller` (an analyst) on `today`, by ward when
/// `wards` is given: contacts counted in the store
/// ([`wherry_access::Access::contact_counts`]), the reading audited
/// (`demand_report`, no person).
pub async fn demand(
    access: &Access,
    caller: &Caller,
    wards: Option<&BTreeMap<String, String>>,
    today: Date,
    request: &str,
) -> Result<Demand, wherry_access::Error> {
    let this = today.year() as i64 * 12 + today.month() as i64 - 1;
    let since = format!("{}-01", month_name(this - HISTORY_MONTHS));
    let until = format!("{}-01", month_name(this));
    let areas = match wards {
        Some(w) => Areas::Ward(w),
        None => Areas::District,
    };
    let counted = access
        .contact_counts(
            caller,
            ROLES,
            "demand by area",
            "demand_report",
            (&since, &until),
            areas,
            true,
            request,
        )
        .await?;
    let mut report = build(
        counted
            .counts
            .iter()
            .map(|c| (&c.place, c.service.as_str(), c.month.as_str(), c.contacts)),
        today,
        wards.is_some(),
    );
    report.sources = counted.sources;
    Ok(report)
}

/// The report as CSV, one row per service, area and month, history then
/// forecast: `service,area,month,kind,contacts,lo80,hi80,lo95,hi95`
/// (`kind` is `actual` or `forecast`; a forecast's contacts are its mean,
/// to one decimal place).
pub fn to_csv(d: &Demand) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "service", "area", "month", "kind", "contacts", "lo80", "hi80", "lo95", "hi95",
    ])
    .expect("writing to memory");
    for s in &d.series {
        for (m, c) in d.months.iter().zip(&s.contacts) {
            w.write_record([
                &s.service,
                &s.area,
                m,
                "actual",
                &c.to_string(),
                "",
                "",
                "",
                "",
            ])
            .expect("writing to memory");
        }
        for (m, f) in d.forecast_months.iter().zip(&s.forecast) {
            let x = |v: f64| format!("{v:.1}");
            w.write_record([
                s.service.as_str(),
                &s.area,
                m,
                "forecast",
                &x(f.mean),
                &x(f.lo80),
                &x(f.hi80),
                &x(f.lo95),
                &x(f.hi95),
            ])
            .expect("writing to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_bad_ward_lookup_is_refused_naming_the_line() {
        let ok = ward_lookup(
            "w.csv",
            "postcode,ward,x\nnr1 1aa,Thorpe,1\nNR2 1AB,Eaton,2\n",
        )
        .unwrap();
        assert_eq!(ok.get("NR1 1AA").map(String::as_str), Some("Thorpe"));
        for (text, line, says) in [
            (
                "postcode,ward\nNR1 1AA,Thorpe\nnot a postcode,Eaton\n",
                3,
                "is not a UK postcode",
            ),
            (
                "postcode,area\nNR1 1AA,Thorpe\n",
                1,
                "needs `postcode` and `ward`",
            ),
            ("postcode,ward\n", 1, "the lookup is empty"),
            ("", 1, "needs `postcode` and `ward`"),
            ("postcode,ward\nNR1 1AA,\n", 2, "has no ward"),
            ("postcode,ward\nNR1 1AA,A\nnr11aa,B\n", 3, "is in two wards"),
            (
                "postcode,ward\nNR1 1AA,A,extra\n",
                2,
                "found record with 3 fields",
            ),
        ] {
            let e = ward_lookup("w.csv", text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(
                e.to_string().starts_with(&format!("w.csv line {line}: ")),
                "{e}"
            );
            assert!(e.message.contains(says), "{text:?}: {e}");
        }
    }

    #[test]
    fn partial_first_months_unreached_last_months_and_the_current_month_are_left_out() {
        let nr1 = Place::Area("NR1".into());
        let mut counts = vec![(nr1.clone(), "2025-01".to_string(), 1)];
        for m in 2..=12 {
            counts.push((nr1.clone(), format!("2025-{m:02}"), 10));
        }
        counts.push((Place::Unplaced, "2025-06".to_string(), 1));
        counts.push((nr1.clone(), "2026-01".to_string(), 1));
        let d = build(
            counts.iter().map(|(p, m, n)| (p, "s", m.as_str(), *n)),
            Date::new(2026, 1, 20).unwrap(),
            false,
        );
        assert_eq!(d.months.first().map(String::as_str), Some("2025-02"));
        assert_eq!(d.months.last().map(String::as_str), Some("2025-12"));
        assert_eq!(d.unplaced, 1);
        assert_eq!(d.series[0].contacts.iter().sum::<u64>(), 110);
        assert_eq!(d.forecast_months[0], "2026-01");
        assert_eq!(d.series[0].forecast.len(), HORIZON);
        // Reported in March, with nothing yet for February: the history
        // ends in December and the forecast starts in January.
        let d = build(
            counts.iter().map(|(p, m, n)| (p, "s", m.as_str(), *n)),
            Date::new(2026, 3, 2).unwrap(),
            false,
        );
        assert_eq!(d.months.last().map(String::as_str), Some("2025-12"));
        assert_eq!(d.forecast_months[0], "2026-01");
        // Nothing at all: an empty report, said plainly.
        let e = build(std::iter::empty(), Date::new(2026, 1, 20).unwrap(), false);
        assert!(e.series.is_empty() && e.months.is_empty() && e.backtest.is_none());
    }

    proptest! {
        #[test]
        fn any_lookup_text_is_read_or_refused_with_a_line(text in "[a-zA-Z0-9 ,\"\n]{0,200}") {
            match ward_lookup("f.csv", &text) {
                Ok(map) => prop_assert!(!map.is_empty()),
                Err(e) => prop_assert!(e.line >= 1 && !e.message.is_empty()),
            }
        }
    }
}
