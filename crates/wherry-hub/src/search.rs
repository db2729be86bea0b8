//! Finding residents by what a caller knows of them: the search's fields
//! (one rule for the API's parameters and the UI's form) and the ranking of
//! persons by their records' best match.

use std::collections::BTreeMap;

use crate::{Error, Matcher};

/// Longest search value taken.
const MAX_TERM: usize = 100;

/// The canonical fields a search describes, from (parameter, value) pairs:
/// `name` split into given and family name, dates, postcodes and NHS
/// numbers checked as at ingest. The error names the parameter.
pub fn fields(
    terms: &[(&'static str, Option<&str>)],
) -> Result<BTreeMap<String, String>, (&'static str, String)> {
    let mut fields = BTreeMap::new();
    for (key, value) in terms {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        if v.chars().count() > MAX_TERM {
            return Err((key, format!("{key} is longer than {MAX_TERM} characters")));
        }
        let invalid = |e: wherry_core::Error| (*key, format!("{key}: {e}"));
        match *key {
            "name" => {
                let words: Vec<&str> = v.split_whitespace().collect();
                if let [first, .., last] = words.as_slice() {
                    fields
                        .entry("given_name".into())
                        .or_insert(first.to_string());
                    fields
                        .entry("family_name".into())
                        .or_insert(last.to_string());
                } else {
                    fields.entry("family_name".into()).or_insert(v.to_string());
                }
            }
            "dob" => {
                let d = wherry_core::Date::parse(v).map_err(invalid)?;
                fields.insert("dob".into(), d.to_string());
            }
            "postcode" => {
                let p = wherry_core::Postcode::parse(v).map_err(invalid)?;
                fields.insert("postcode".into(), p.as_str().to_string());
            }
            "nhs_number" => {
                let n = wherry_core::NhsNumber::parse(v).map_err(invalid)?;
                fields.insert("nhs_number".into(), n.to_string());
            }
            _ => {
                fields.insert(key.to_string(), v.to_string());
            }
        }
    }
    if fields.is_empty() {
        return Err((
            "name",
            "give at least one of name, given_name, family_name, dob, postcode, nhs_number".into(),
        ));
    }
    Ok(fields)
}

/// Persons ranked by the best match weight of their records against
/// `fields`, strongest first, at most `limit`: (person, probability, weight).
pub async fn rank(
    matcher: &Matcher,
    fields: &BTreeMap<String, String>,
    limit: usize,
) -> Result<Vec<(String, f64, f64)>, Error> {
    let found = matcher.candidates(fields, 50).await?;
    let mut best: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for c in found {
        if let Some(p) = c.person {
            let e = best.entry(p).or_insert((c.probability, c.weight));
            if c.weight > e.1 {
                *e = (c.probability, c.weight);
            }
        }
    }
    let mut ranked: Vec<(String, f64, f64)> =
        best.into_iter().map(|(p, (pr, w))| (p, pr, w)).collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(limit);
    Ok(ranked)
}
