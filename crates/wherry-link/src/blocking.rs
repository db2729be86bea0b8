//! Blocking: candidate pairs are the pairs that agree on every key of at
//! least one rule. Each pair is produced once, by the first rule it agrees
//! on; pairs per rule are counted before any is produced, and a rule that
//! would produce too many is refused by name.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHasher;

use crate::Error;
use crate::dataset::{Dataset, NULL};
use crate::settings::{BlockingRule, LinkType};

/// A rule's key for every record ([`NO_KEY`]: the record has no key and is
/// not blocked by this rule).
#[derive(Debug, Clone)]
pub struct RuleKeys {
    /// The rule.
    pub rule: BlockingRule,
    /// Per record.
    pub keys: Vec<u64>,
}

/// A record with no key under a rule (a key part is missing). A key that
/// hashes to this value is moved to the one below it.
pub const NO_KEY: u64 = u64::MAX;

impl RuleKeys {
    /// Whether records `a` and `b` agree on this rule.
    pub fn agree(&self, a: u32, b: u32) -> bool {
        let (x, y) = (self.keys[a as usize], self.keys[b as usize]);
        x == y && x != NO_KEY
    }
}

/// One key's value for one record, before hashing.
fn key_part(ds: &Dataset, column: usize, transform: Option<&str>, r: u32) -> Option<u64> {
    let col = &ds.columns[column];
    let (id, v) = col.get(r)?;
    let mut h = FxHasher::default();
    match transform {
        None => id.hash(&mut h),
        Some("initial") => v.text.chars().next()?.hash(&mut h),
        Some("first3") => v.text.chars().take(3).collect::<String>().hash(&mut h),
        Some("metaphone") => {
            if v.phonetic[0] != NULL {
                v.phonetic[0].hash(&mut h)
            } else {
                v.text.hash(&mut h)
            }
        }
        Some("year") => match v.date {
            Some(d) => d.year().hash(&mut h),
            None => v.text.trim_start_matches('?').get(..4)?.hash(&mut h),
        },
        Some("sector") => (v.parts[0] != NULL).then_some(v.parts[0])?.hash(&mut h),
        Some("district") => (v.parts[1] != NULL).then_some(v.parts[1])?.hash(&mut h),
        Some("area") => (v.parts[2] != NULL).then_some(v.parts[2])?.hash(&mut h),
        Some(_) => return None,
    }
    Some(h.finish())
}

/// A rule's keys resolved to prepared columns and transforms.
pub type RuleParts = Vec<(usize, Option<String>)>;

/// Resolves a rule's keys against `ds`.
pub fn rule_parts(ds: &Dataset, rule: &BlockingRule) -> Result<RuleParts, Error> {
    rule.keys
        .iter()
        .map(|key| {
            let (name, transform) = match key.split_once(':') {
                Some((n, t)) => (n, Some(t.to_string())),
                None => (key.as_str(), None),
            };
            let column = ds
                .column_named(name)
                .ok_or_else(|| Error::MissingColumns(vec![name.to_string()]))?;
            Ok((column, transform))
        })
        .collect()
}

/// Record `r`'s key under a rule, or `None` when a key part is missing.
pub fn record_key(ds: &Dataset, parts: &RuleParts, r: u32) -> Option<u64> {
    let mut h = FxHasher::default();
    for (column, transform) in parts {
        key_part(ds, *column, transform.as_deref(), r)?.hash(&mut h);
    }
    Some(h.finish())
}

/// Every record's key under `rule`.
pub fn rule_keys(ds: &Dataset, rule: &BlockingRule) -> Result<RuleKeys, Error> {
    let parts = rule_parts(ds, rule)?;
    let keys = (0..ds.len() as u32)
        .into_par_iter()
        .map(|r| record_key(ds, &parts, r).map_or(NO_KEY, |k| k.min(NO_KEY - 1)))
        .collect();
    Ok(RuleKeys {
        rule: rule.clone(),
        keys,
    })
}

/// Records grouped by key: (key, record) sorted, for one rule.
fn groups(keys: &RuleKeys) -> Vec<(u64, u32)> {
    let mut v: Vec<(u64, u32)> = keys
        .keys
        .iter()
        .enumerate()
        .filter(|&(_, &k)| k != NO_KEY)
        .map(|(r, &k)| (k, r as u32))
        .collect();
    v.par_sort_unstable();
    v
}

fn group_ranges(sorted: &[(u64, u32)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        if i == sorted.len() || sorted[i].0 != sorted[start].0 {
            if i - start > 1 {
                out.push((start, i));
            }
            start = i;
        }
    }
    out
}

/// Whether a pair of records is eligible under the link type.
pub fn eligible(ds: &Dataset, link_type: LinkType, a: u32, b: u32) -> bool {
    match link_type {
        LinkType::LinkOnly => ds.source[a as usize] != ds.source[b as usize],
        LinkType::Dedupe | LinkType::LinkAndDedupe => true,
    }
}

/// How many eligible pairs the groups of one rule produce (before removing
/// pairs that earlier rules already produced).
fn count_pairs(
    ds: &Dataset,
    link_type: LinkType,
    sorted: &[(u64, u32)],
    ranges: &[(usize, usize)],
) -> u64 {
    ranges
        .par_iter()
        .map(|&(s, e)| {
            let n = (e - s) as u64;
            let all = n * (n - 1) / 2;
            match link_type {
                LinkType::LinkOnly => {
                    let mut per_source: Vec<u64> = Vec::new();
                    for &(_, r) in &sorted[s..e] {
                        let src = ds.source[r as usize] as usize;
                        if per_source.len() <= src {
                            per_source.resize(src + 1, 0);
                        }
                        per_source[src] += 1;
                    }
                    all - per_source
                        .iter()
                        .map(|k| k * k.saturating_sub(1) / 2)
                        .sum::<u64>()
                }
                _ => all,
            }
        })
        .sum()
}

/// The most blocking rules a run may have: which rules a pair agrees on is
/// kept as the bits of a `u32`.
pub const MAX_RULES: usize = 32;

/// Candidate pairs and how many each rule contributed.
#[derive(Debug, Clone)]
pub struct Blocked {
    /// Pairs `(a, b)` with `a < b`, each once, sorted.
    pub pairs: Vec<(u32, u32)>,
    /// Per pair, the rules it agrees on: bit `r` for rule `r`.
    pub agrees: Vec<u32>,
    /// Per rule: pairs it agrees on in all, and pairs it added that no
    /// earlier rule had.
    pub per_rule: Vec<RuleCount>,
    /// The rules, in order.
    pub rules: Vec<BlockingRule>,
}

/// Pairs per blocking rule.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleCount {
    /// The rule, as text.
    pub rule: String,
    /// Eligible pairs agreeing on it.
    pub pairs: u64,
    /// Of those, pairs no earlier rule produced.
    pub new_pairs: u64,
}

/// Produces the candidate pairs of `rules`, refusing any rule over
/// `max_pairs` (and more than [`MAX_RULES`] rules).
pub fn block(
    ds: &Dataset,
    link_type: LinkType,
    rules: &[BlockingRule],
    max_pairs: u64,
    progress: &dyn crate::Progress,
) -> Result<Blocked, Error> {
    if rules.len() > MAX_RULES {
        return Err(Error::Settings(format!(
            "{} blocking rules: at most {MAX_RULES}",
            rules.len()
        )));
    }
    let mut keys: Vec<RuleKeys> = Vec::new();
    let mut per_rule = Vec::new();
    let mut pairs = Vec::new();
    for rule in rules {
        let k = rule_keys(ds, rule)?;
        let sorted = groups(&k);
        let ranges = group_ranges(&sorted);
        let n = count_pairs(ds, link_type, &sorted, &ranges);
        progress.advance(1);
        if n > max_pairs {
            return Err(Error::TooManyPairs {
                rule: rule.describe(),
                pairs: n,
                max: max_pairs,
            });
        }
        let earlier = &keys[..];
        let mut new: Vec<(u32, u32)> = ranges
            .par_iter()
            .flat_map_iter(|&(s, e)| {
                let group = &sorted[s..e];
                let mut out = Vec::new();
                for x in 0..group.len() {
                    for y in x + 1..group.len() {
                        let (a, b) = (group[x].1.min(group[y].1), group[x].1.max(group[y].1));
                        if eligible(ds, link_type, a, b) && !earlier.iter().any(|e| e.agree(a, b)) {
                            out.push((a, b));
                        }
                    }
                }
                out
            })
            .collect();
        per_rule.push(RuleCount {
            rule: rule.describe(),
            pairs: n,
            new_pairs: new.len() as u64,
        });
        keys.push(k);
        progress.advance(1);
        pairs.append(&mut new);
    }
    pairs.par_sort_unstable();
    let agrees = pairs
        .par_iter()
        .map(|&(a, b)| {
            keys.iter()
                .enumerate()
                .filter(|(_, k)| k.agree(a, b))
                .fold(0u32, |m, (r, _)| m | 1 << r)
        })
        .collect();
    Ok(Blocked {
        pairs,
        agrees,
        per_rule,
        rules: rules.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::RawRecord;
    use crate::settings::Settings;

    /// Each pair's bits are the rules it agrees on, its lowest bit the rule
    /// that produced it, and the pairs are sorted and each there once.
    #[test]
    fn each_pair_carries_the_rules_it_agrees_on() {
        let people = [
            ("Ann", "Lee", "1950-01-02"),
            ("Ann", "Lee", "1950-01-02"),
            ("Anne", "Lee", "1950-01-02"),
            ("Bob", "Lee", "1961-05-06"),
            ("Bob", "Ray", "1961-05-06"),
            ("Cy", "Ray", "1970-07-08"),
            ("Cy", "Ray", ""),
        ];
        let records: Vec<RawRecord> = people
            .iter()
            .enumerate()
            .map(|(i, (g, f, d))| RawRecord {
                source: "s".into(),
                record_id: i.to_string(),
                values: [g, f, d].iter().map(|v| Some(v.to_string())).collect(),
            })
            .collect();
        let columns: Vec<String> = ["given_name", "family_name", "dob"]
            .map(String::from)
            .to_vec();
        let mut settings = Settings::for_canonical_columns(
            &["given_name", "family_name", "dob"],
            LinkType::Dedupe,
        );
        let rule = |keys: &[&str]| BlockingRule {
            keys: keys.iter().map(|k| k.to_string()).collect(),
        };
        settings.blocking_rules = vec![
            rule(&["dob"]),
            rule(&["family_name"]),
            rule(&["given_name", "family_name"]),
        ];
        let ds = Dataset::prepare(&settings, &columns, records).unwrap();
        let b = block(&ds, LinkType::Dedupe, &settings.blocking_rules, 1000, &()).unwrap();
        assert!(b.pairs.windows(2).all(|w| w[0] < w[1]), "{:?}", b.pairs);
        assert_eq!(b.pairs.len(), b.agrees.len());
        let keys: Vec<RuleKeys> = settings
            .blocking_rules
            .iter()
            .map(|r| rule_keys(&ds, r).unwrap())
            .collect();
        let mut new = vec![0u64; keys.len()];
        let mut agreeing = vec![0u64; keys.len()];
        for (&(a, b_), &mask) in b.pairs.iter().zip(&b.agrees) {
            assert_ne!(mask, 0, "({a}, {b_}) agrees on no rule");
            for (r, k) in keys.iter().enumerate() {
                assert_eq!(mask >> r & 1 == 1, k.agree(a, b_), "({a}, {b_}) rule {r}");
                agreeing[r] += u64::from(mask >> r & 1);
            }
            new[mask.trailing_zeros() as usize] += 1;
        }
        // dob: {0,1,2}, {3,4}: 4 pairs; family_name: Lee {0..3} 6, Ray {4,5,6} 3;
        // given and family: {0,1}, {5,6}.
        assert_eq!(agreeing, [4, 9, 2]);
        let counted: Vec<(u64, u64)> = b.per_rule.iter().map(|c| (c.pairs, c.new_pairs)).collect();
        assert_eq!(
            counted,
            new.iter()
                .zip(&agreeing)
                .map(|(n, a)| (*a, *n))
                .collect::<Vec<_>>()
        );
        // Every given-and-family pair agrees on an earlier rule too.
        assert_eq!(new, [4, 6, 0]);
    }
}
