//! Open data: aggregate tables of service use and demand (and whatever
//! other counts are handed in, such as the street and library counters),
//! each under disclosure control ([`crate::disclosure`]) and written as
//! CSV with W3C CSV on the Web metadata (`<table>.csv-metadata.json`:
//! title, description, the period, each column's meaning, datatype and
//! unit, and the disclosure rules applied).
//!
//! The contacts are counted in the store
//! ([`wherry_access::Access::contact_counts`], audited as `publish`): of
//! the sources whose agreements share events with the purpose, placed by
//! the postcode district the recording partner holds; only counts leave
//! the store.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use wherry_access::counts::{Areas, Count, Place};
use wherry_access::{Access, Caller};
use wherry_core::{Date, Role};

use crate::demand::month_name;
use crate::disclosure::{Published, Rules, Shown, protect};

/// Who may publish: those who plan services.
pub const ROLES: &[Role] = &[Role::Analyst];

/// Months of contacts the tables cover: the last year of whole months.
pub const MONTHS: i64 = 12;

/// How a suppressed count is written.
pub const SUPPRESSED: &str = "c";

/// A table to publish, before disclosure control.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File name without `.csv`.
    pub name: String,
    /// Title.
    pub title: String,
    /// What a count is.
    pub description: String,
    /// What is counted (the unit of every cell).
    pub unit: String,
    /// The rows' heading and labels.
    pub row_heading: String,
    /// Row labels.
    pub rows: Vec<String>,
    /// The columns' heading and labels.
    pub column_heading: String,
    /// Column labels.
    pub columns: Vec<String>,
    /// Counts, row by row.
    pub counts: Vec<Vec<u64>>,
    /// The period, `YYYY-MM/YYYY-MM` (ISO 8601 interval).
    pub period: String,
}

/// A table made from `cells` ((row, column) → count), rows and columns in
/// label order.
#[allow(clippy::too_many_arguments)]
pub fn table(
    name: &str,
    title: &str,
    description: &str,
    unit: &str,
    row_heading: &str,
    column_heading: &str,
    period: &str,
    cells: &BTreeMap<(String, String), u64>,
) -> Table {
    let rows: Vec<String> = cells
        .keys()
        .map(|k| k.0.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let columns: Vec<String> = cells
        .keys()
        .map(|k| k.1.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let counts = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| cells.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    Table {
        name: name.into(),
        title: title.into(),
        description: description.into(),
        unit: unit.into(),
        row_heading: row_heading.into(),
        rows,
        column_heading: column_heading.into(),
        columns,
        counts,
        period: period.into(),
    }
}

/// The county's tables from contacts counted over the [`MONTHS`] whole
/// months before `today`'s: `by_area` (per place and service over the
/// span, with distinct residents) and `by_month` (per service and month):
/// contacts and residents in contact per postcode district and service,
/// and contacts per service and month. Pure.
pub fn county_tables(by_area: &[Count], by_month: &[Count], today: Date) -> Vec<Table> {
    let last = today.year() as i64 * 12 + today.month() as i64 - 2;
    let period = format!("{}/{}", month_name(last - MONTHS + 1), month_name(last));
    let mut contacts: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut residents: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in by_area {
        let district = match &c.place {
            Place::Area(a) => a.clone(),
            Place::NotInLookup | Place::Unplaced => "unknown".to_string(),
        };
        let key = (district, c.service.clone());
        *contacts.entry(key.clone()).or_default() += c.contacts;
        *residents.entry(key).or_default() += c.residents;
    }
    let mut months: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in by_month {
        *months
            .entry((c.service.clone(), c.month.clone()))
            .or_default() += c.contacts;
    }
    vec![
        table(
            "contacts-by-district",
            "Contacts with public services by postcode district",
            "Contacts (visits, calls, appointments and other recorded contacts) each service had with residents, by the postcode district the recording partner holds for the resident; `unknown`: residents whose postcode the partner does not share for planning.",
            "contacts",
            "postcode district",
            "service",
            &period,
            &contacts,
        ),
        table(
            "residents-by-district",
            "Residents in contact with public services by postcode district",
            "Residents of each postcode district with at least one contact with each service (a resident in contact with two services counts once in each).",
            "residents",
            "postcode district",
            "service",
            &period,
            &residents,
        ),
        table(
            "contacts-by-month",
            "Contacts with public services by month",
            "Contacts each service had with residents of the county, month by month.",
            "contacts",
            "service",
            "month",
            &period,
            &months,
        ),
    ]
}

fn shown(s: Shown) -> String {
    match s {
        Shown::Count(v) => v.to_string(),
        Shown::Suppressed => SUPPRESSED.to_string(),
    }
}

/// The published table as CSV: a row heading column, one column per
/// column label, `total`; the last row the column totals.
pub fn to_csv(t: &Table, p: &Published) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![t.row_heading.clone()];
    header.extend(p.columns.iter().cloned());
    header.push("total".into());
    w.write_record(&header).expect("writing to memory");
    for (i, label) in p.rows.iter().enumerate() {
        let mut row = vec![label.clone()];
        row.extend(p.cells[i].iter().map(|s| shown(*s)));
        row.push(shown(p.row_totals[i]));
        w.write_record(&row).expect("writing to memory");
    }
    let mut row = vec!["total".to_string()];
    row.extend(p.column_totals.iter().map(|s| shown(*s)));
    row.push(shown(p.total));
    w.write_record(&row).expect("writing to memory");
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings")
}

/// The table's CSVW metadata (for `<name>.csv-metadata.json`).
pub fn csvw(t: &Table, p: &Published, rules: &Rules, made: Date) -> Value {
    let rules_text = format!(
        "Counts under {} are suppressed (shown as \"{SUPPRESSED}\"), zero included; the rest are rounded to the nearest multiple of {} (ties up), totals too; further counts are suppressed so that no suppressed count can be narrowed to an interval narrower than {} from the published counts and totals (checked by linear programming). Totals are of the true counts, rounded: published counts need not add up to them. {} counts were suppressed under the threshold and {} to protect them.",
        rules.threshold, rules.base, rules.threshold, p.primary, p.secondary
    );
    let mut columns = vec![json!({
        "name": slug(&t.row_heading),
        "titles": t.row_heading,
        "datatype": "string",
        "required": true,
        "dc:description": format!("The {} (`total`: the column totals).", t.row_heading),
    })];
    for c in p
        .columns
        .iter()
        .chain(std::iter::once(&"total".to_string()))
    {
        columns.push(json!({
            "name": slug(c),
            "titles": c,
            "datatype": {"base": "integer", "minimum": 0},
            "null": SUPPRESSED,
            "dc:description": if c == "total" {
                format!("The row's total {}, rounded.", t.unit)
            } else {
                format!("{} for {} {c:?}, rounded; \"{SUPPRESSED}\" where suppressed.", t.unit, t.column_heading)
            },
            "schema:unitText": t.unit,
        }));
    }
    json!({
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "url": format!("{}.csv", t.name),
        "dc:title": t.title,
        "dc:description": format!("{} {rules_text}", t.description),
        "dc:temporal": t.period,
        "dc:created": made.to_string(),
        "dc:publisher": "Wherry multi-agency information hub",
        "dc:license": {"@id": "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"},
        "rdfs:comment": rules_text,
        "tableSchema": {
            "columns": columns,
            "primaryKey": slug(&t.row_heading),
        },
    })
}

/// The published table as a chart: its column totals as published
/// (rounded; a suppressed total written "c (suppressed)"), never the true
/// counts, so the chart discloses nothing the CSV does not.
pub fn chart(t: &Table, p: &Published, rules: &Rules) -> String {
    let bars: Vec<(String, Option<f64>)> = p
        .columns
        .iter()
        .zip(&p.column_totals)
        .map(|(c, v)| (c.replace('_', " "), v.count().map(|v| v as f64)))
        .collect();
    crate::chart::rows_svg(
        &format!("{}-chart", t.name),
        &format!("{}: totals by {}", t.title, t.column_heading),
        &format!("{}, {} (rounded to {}s)", t.unit, t.period, rules.base),
        &bars,
        &format!("{SUPPRESSED} (suppressed)"),
    )
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The county's tables for `caller` (an analyst) on `today`: counted in
/// the store ([`wherry_access::Access::contact_counts`], each reading
/// audited as `publish`).
pub async fn county(
    access: &Access,
    caller: &Caller,
    today: Date,
    request: &str,
) -> Result<Vec<Table>, wherry_access::Error> {
    let this = today.year() as i64 * 12 + today.month() as i64 - 1;
    let since = format!("{}-01", month_name(this - MONTHS));
    let until = format!("{}-01", month_name(this));
    let what = "publishing open data";
    let span = (since.as_str(), until.as_str());
    let by_area = access
        .contact_counts(
            caller,
            ROLES,
            what,
            "publish",
            span,
            Areas::District,
            false,
            request,
        )
        .await?;
    let by_month = access
        .contact_counts(
            caller,
            ROLES,
            what,
            "publish",
            span,
            Areas::District,
            true,
            request,
        )
        .await?;
    Ok(county_tables(&by_area.counts, &by_month.counts, today))
}

/// A table as published: what goes in each file.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The file name without its extension.
    pub name: String,
    /// `<name>.csv`.
    pub csv: String,
    /// `<name>.csv-metadata.json`.
    pub metadata: Value,
    /// `<name>.svg`: [`chart`].
    pub svg: String,
    /// The counts as published.
    pub published: Published,
}

/// Each table under `rules`.
pub fn render(tables: &[Table], rules: &Rules, made: Date) -> Vec<Rendered> {
    tables
        .iter()
        .map(|t| {
            let p = protect(t.rows.clone(), t.columns.clone(), &t.counts, rules);
            Rendered {
                name: t.name.clone(),
                csv: to_csv(t, &p),
                metadata: csvw(t, &p, rules, made),
                svg: chart(t, &p, rules),
                published: p,
            }
        })
        .collect()
}
