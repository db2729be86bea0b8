//! Data-entry errors: what happens to a resident's details on their way into
//! a partner's system. Each kind has its own configurable rate.

use serde::{Deserialize, Serialize};
use wherry_core::{Date, aliases, name::normalise};

use crate::partners::Source;
use crate::population::{Address, Household, Resident};
use crate::rng::Rng;
use crate::tables::keyboard_neighbours;

/// Rates of each kind of data-entry error. A rate is the probability that one
/// partner record has that error, among the records where it can happen (a
/// nickname needs a given name that has one; a day–month swap needs a day of
/// 12 or less that is not the month; a married name needs a resident whose
/// name changed; an old address needs a resident who moved).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rates {
    /// A keyboard typo in the given or the family name.
    pub typo: f64,
    /// The given name recorded as a nickname (Bill for William).
    pub nickname: f64,
    /// Given and family names swapped.
    pub name_swap: f64,
    /// The family name from before marriage.
    pub maiden_name: f64,
    /// The address from before the household moved.
    pub old_address: f64,
    /// Day and month of the date of birth swapped.
    pub dob_swap: f64,
    /// NHS number missing, in partners outside health that record it.
    pub missing_nhs: f64,
    /// Each of middle names, date of birth, postcode, phone and email missing.
    pub missing_field: f64,
    /// Names and address in capitals, lower case, or with stray spaces.
    pub case_noise: f64,
    /// A second record for the same resident in the same partner.
    pub duplicate: f64,
    /// A row the partner sends broken (listed in bad_rows.csv).
    pub bad_row: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            typo: 0.04,
            nickname: 0.10,
            name_swap: 0.01,
            maiden_name: 0.20,
            old_address: 0.30,
            dob_swap: 0.02,
            missing_nhs: 0.25,
            missing_field: 0.03,
            case_noise: 0.05,
            duplicate: 0.03,
            bad_row: 0.003,
        }
    }
}

impl Rates {
    /// Every rate with its name, for validation and reporting.
    pub fn named(&self) -> [(&'static str, f64); 11] {
        [
            ("typo", self.typo),
            ("nickname", self.nickname),
            ("name_swap", self.name_swap),
            ("maiden_name", self.maiden_name),
            ("old_address", self.old_address),
            ("dob_swap", self.dob_swap),
            ("missing_nhs", self.missing_nhs),
            ("missing_field", self.missing_field),
            ("case_noise", self.case_noise),
            ("duplicate", self.duplicate),
            ("bad_row", self.bad_row),
        ]
    }
}

/// One partner's copy of a resident, as text, after data entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The partner.
    pub source: Source,
    /// The partner's id for the record.
    pub record_id: String,
    /// Given name.
    pub given: String,
    /// Middle names (may be empty).
    pub middle: String,
    /// Family name.
    pub family: String,
    /// Date of birth, if recorded.
    pub dob: Option<Date>,
    /// House number and street.
    pub line1: String,
    /// Village (may be empty).
    pub village: String,
    /// Town.
    pub town: String,
    /// Postcode (may be empty).
    pub postcode: String,
    /// UPRN.
    pub uprn: String,
    /// NHS number, ten digits (may be empty).
    pub nhs: String,
    /// Phone (may be empty).
    pub phone: String,
    /// Email (may be empty).
    pub email: String,
    /// When the partner last changed the record in its own system.
    pub changed: Date,
}

impl Entry {
    /// A faithful copy of `r` at `address`.
    pub fn faithful(source: Source, record_id: String, r: &Resident, address: &Address) -> Self {
        Self {
            source,
            record_id,
            given: r.given.to_string(),
            middle: r.middle.unwrap_or("").to_string(),
            family: r.family.clone(),
            dob: Some(r.dob),
            line1: address.line1.clone(),
            village: address.village.unwrap_or("").to_string(),
            town: address.town.to_string(),
            postcode: address.postcode.clone(),
            uprn: address.uprn.clone(),
            nhs: if source.has_nhs_number() {
                r.nhs.to_string()
            } else {
                String::new()
            },
            phone: r.phone.clone().unwrap_or_default(),
            email: r.email.clone().unwrap_or_default(),
            changed: r.dob,
        }
    }

    /// Lines and town, comma separated.
    pub fn address_line(&self) -> String {
        let mut s = self.line1.clone();
        for part in [&self.village, &self.town] {
            if !part.is_empty() {
                s.push_str(", ");
                s.push_str(part);
            }
        }
        s
    }
}

/// When a partner last changed a record: within the three years before
/// `as_of`; four to twelve years before, for a record still holding an old
/// address or a name from before a marriage (nobody has touched it since).
/// Taken from the record's id, not the county's random stream, so every
/// other value of the county stays as it was.
fn changed_on(record_id: &str, stale: bool, as_of: Date) -> Date {
    let h = crate::rng::stable_hash(&[record_id]);
    let days = if stale {
        4 * 365 + h % (8 * 365)
    } else {
        h % (3 * 365)
    };
    as_of.add_days(-(days as i64))
}

/// Makes a partner record for `r`, with errors at `rates`; `as_of` is the
/// county's reference date (no error may move a birth date past it).
pub fn enter(
    source: Source,
    record_id: String,
    r: &Resident,
    h: &Household,
    rates: &Rates,
    as_of: Date,
    rng: &mut Rng,
) -> Entry {
    let moved = h
        .previous_address
        .as_ref()
        .filter(|_| rng.chance(rates.old_address));
    let mut e = Entry::faithful(source, record_id, r, moved.unwrap_or(&h.address));

    if rng.chance(rates.name_swap) {
        std::mem::swap(&mut e.given, &mut e.family);
    } else {
        let nicks = aliases::nicknames(&normalise(r.given));
        if !nicks.is_empty() && rng.chance(rates.nickname) {
            e.given = title_case(nicks[rng.below(nicks.len() as u64) as usize]);
        }
        if let Some(prev) = &r.previous_family {
            if rng.chance(rates.maiden_name) {
                e.family = prev.clone();
            }
        }
    }
    let stale = moved.is_some() || r.previous_family.as_ref() == Some(&e.family);
    e.changed = changed_on(&e.record_id, stale, as_of);
    if rng.chance(rates.typo) {
        if rng.chance(0.5) {
            e.given = typo(&e.given, rng);
        } else {
            e.family = typo(&e.family, rng);
        }
    }
    if r.dob.day() <= 12 && r.dob.day() != r.dob.month() && rng.chance(rates.dob_swap) {
        // A swap that would put a baby's birthday in the future is a row
        // ingest must reject, so it is not a silent data-entry error.
        let swapped = Date::new(r.dob.year(), r.dob.day(), r.dob.month()).ok();
        e.dob = swapped.filter(|d| *d <= as_of).or(e.dob);
    }
    if source.has_nhs_number() && !source.is_health() && rng.chance(rates.missing_nhs) {
        e.nhs.clear();
    }
    for field in [&mut e.middle, &mut e.postcode, &mut e.phone, &mut e.email] {
        if rng.chance(rates.missing_field) {
            field.clear();
        }
    }
    if rng.chance(rates.missing_field) {
        e.dob = None;
    }
    if rng.chance(rates.case_noise) {
        match rng.below(3) {
            0 => {
                for f in [&mut e.given, &mut e.middle, &mut e.family, &mut e.line1] {
                    *f = f.to_uppercase();
                }
            }
            1 => {
                for f in [&mut e.given, &mut e.middle, &mut e.family, &mut e.line1] {
                    *f = f.to_lowercase();
                }
            }
            _ => {
                e.given = format!(" {} ", e.given);
                e.family = format!("{}  ", e.family.replace(' ', "  "));
            }
        }
    }
    e
}

/// `bill` → `Bill`.
pub fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One keyboard slip: a neighbouring key, a dropped or doubled-up letter, or
/// two letters swapped. Always changes the name.
pub fn typo(name: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_ascii_alphabetic())
        .collect();
    if letters.len() < 2 {
        return format!("{name}{}", if name.is_empty() { "x" } else { "e" });
    }
    for _ in 0..20 {
        let mut out = chars.clone();
        let i = *rng.pick(&letters);
        let near: Vec<char> = keyboard_neighbours(chars[i]).chars().collect();
        let match_case = |c: char| {
            if chars[i].is_uppercase() {
                c.to_ascii_uppercase()
            } else {
                c
            }
        };
        match rng.below(4) {
            0 if !near.is_empty() => out[i] = match_case(*rng.pick(&near)),
            1 if letters.len() > 2 => {
                out.remove(i);
            }
            2 if !near.is_empty() => out.insert(i + 1, rng.pick(&near).to_ascii_lowercase()),
            3 if i + 1 < out.len() && out[i + 1].is_ascii_alphabetic() && out[i] != out[i + 1] => {
                out.swap(i, i + 1);
            }
            _ => continue,
        }
        let s: String = out.into_iter().collect();
        if s != name && s.to_lowercase() != name.to_lowercase() {
            return s;
        }
    }
    format!("{name}e")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn typos_always_change_the_name_by_one_or_two_edits(name in "[A-Z][a-z]{1,12}", seed in any::<u64>()) {
            let mut rng = crate::rng::Rng::new(seed);
            let t = typo(&name, &mut rng);
            prop_assert_ne!(t.to_lowercase(), name.to_lowercase());
            let d = strsim::levenshtein(&t.to_lowercase(), &name.to_lowercase());
            prop_assert!((1..=2).contains(&d), "{} -> {} ({})", name, t, d);
        }
    }
}
