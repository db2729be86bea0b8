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
            "phone" => {
                if !wherry_core::looks_like_phone(v) {
                    return Err((
                        key,
                        format!("{key}: give a UK telephone number, for example 07700 900123"),
                    ));
                }
                fields.insert("phone".into(), v.to_string());
            }
            _ => {
                fields.insert(key.to_string(), v.to_string());
            }
        }
    }
    if fields.is_empty() {
        return Err((
            "name",
            "give at least one of name, given_name, family_name, dob, postcode, nhs_number, phone"
                .into(),
        ));
    }
    Ok(fields)
}

/// Records looked at for one search.
const SEARCHED_RECORDS: usize = 500;

/// A candidate resident for a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// The person.
    pub person: String,
    /// The chance this is the resident described, if the hub knows them:
    /// the candidate's share of the evidence across every candidate found
    /// (each person's strongest record counts).
    pub probability: f64,
    /// The strongest match weight of the person's records, in bits.
    pub weight: f64,
}

/// What a search found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// The strongest candidates, at most the limit asked for.
    pub ranked: Vec<Ranked>,
    /// How many candidates there were before the limit.
    pub total: usize,
}

/// Candidates below this share of the evidence (0% when shown) are not
/// listed: listing them would disclose residents who are not the one asked
/// about.
pub const MIN_SHARE: f64 = 0.005;

/// Most persons listed when the last place is tied (see [`rank`]).
pub const MAX_TIED: usize = 60;

/// Persons who may be the resident `fields` describe, strongest first, at
/// most `limit` (see [`Matcher::search`]), except that a tie is never cut:
/// everyone exactly as likely as the last listed is listed too, up to
/// [`MAX_TIED`] (a postcode alone is shared by some forty people, and which
/// of them fell off the page would otherwise depend on their ids).
/// Candidates share a name's sound or first letters, a date of birth, a
/// postcode, an NHS number or a phone number with the search; each
/// person's probability is their share of the evidence among all
/// candidates, and those under [`MIN_SHARE`] are left out.
pub async fn rank(
    matcher: &Matcher,
    fields: &BTreeMap<String, String>,
    limit: usize,
) -> Result<Found, Error> {
    let found = matcher.search(fields, SEARCHED_RECORDS).await?;
    let mut best: BTreeMap<String, f64> = BTreeMap::new();
    for c in found {
        if let Some(p) = c.person {
            let e = best.entry(p).or_insert(c.weight);
            *e = e.max(c.weight);
        }
    }
    let top = best.values().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = best.values().map(|w| (w - top).exp2()).sum();
    let mut ranked: Vec<Ranked> = best
        .into_iter()
        .map(|(person, weight)| Ranked {
            probability: (weight - top).exp2() / sum,
            person,
            weight,
        })
        .filter(|r| r.probability >= MIN_SHARE)
        .collect();
    ranked.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.person.cmp(&b.person))
    });
    let total = ranked.len();
    let mut keep = limit.min(total);
    if let Some(last) = keep.checked_sub(1).map(|i| ranked[i].weight) {
        while keep < total.min(MAX_TIED) && ranked[keep].weight == last {
            keep += 1;
        }
    }
    ranked.truncate(keep);
    Ok(Found { ranked, total })
}
