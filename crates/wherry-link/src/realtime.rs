//! Real-time matching: an in-memory index from blocking keys to records that
//! scores one new record against everything indexed, in milliseconds, and
//! takes inserts and removals. For the server's search and partner pushes.
//!
//! The index uses a trained [`Model`] as it is: no retraining. Term
//! frequencies follow the indexed records as they change.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::Error;
use crate::blocking::{RuleParts, record_key, rule_parts};
use crate::compare::{Comparison, PLACE_SAME_POSTCODE, level_of, pattern};
use crate::dataset::{Dataset, RawRecord};
use crate::explain::{Explanation, explain};
use crate::model::{Model, probability};
use crate::score::{pattern_weight, tf_adjustment};

/// One candidate for a queried record.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The candidate's source.
    pub source: String,
    /// The candidate's id within its source.
    pub record_id: String,
    /// Match weight in bits.
    pub weight: f64,
    /// Match probability.
    pub probability: f64,
}

/// The keys a search is blocked on, each of one thing a caller may know:
/// any one of them finds candidates, so a name alone, a misspelt name, a
/// date of birth, a postcode, an NHS number or a phone number each find
/// someone. A misspelling usually keeps a name's sound (metaphone) or its
/// first three letters; a rule whose columns the model lacks is left out.
pub const SEARCH_RULES: &[&[&str]] = &[
    &["nhs_number"],
    &["uprn"],
    &["dob"],
    &["postcode"],
    &["phone"],
    &["family_name:metaphone"],
    &["family_name:first3"],
    &["given_name:metaphone", "family_name:initial"],
    &["given_name:first3", "family_name:initial"],
];

/// A search bucket holding more records than this (a very common surname
/// in a very large county) is not scored: the other keys narrow instead.
const MAX_SEARCH_BUCKET: usize = 50_000;

/// The index.
pub struct RealtimeIndex {
    model: Model,
    comparisons: Vec<Comparison>,
    table: Vec<Vec<f64>>,
    tf_columns: Vec<usize>,
    ds: Dataset,
    /// For each prepared column, the position of its values in a [`RawRecord`].
    positions: Vec<usize>,
    rules: Vec<RuleParts>,
    buckets: Vec<FxHashMap<u64, Vec<u32>>>,
    /// The search's keys (see [`SEARCH_RULES`]) and their buckets.
    search_rules: Vec<RuleParts>,
    search_buckets: Vec<FxHashMap<u64, Vec<u32>>>,
    live: Vec<bool>,
    by_id: FxHashMap<(String, String), u32>,
}

impl RealtimeIndex {
    /// Indexes `records` (values in the order of `column_names`) for `model`.
    pub fn build(
        model: Model,
        column_names: &[String],
        records: Vec<RawRecord>,
    ) -> Result<Self, Error> {
        model.check()?;
        let ds = Dataset::prepare(&model.settings, column_names, records)?;
        let positions = ds
            .columns
            .iter()
            .map(|c| {
                column_names
                    .iter()
                    .position(|n| *n == c.name)
                    .expect("prepared from these columns")
            })
            .collect();
        let comparisons = model
            .settings
            .comparisons
            .iter()
            .map(|s| Comparison::new(s, &ds))
            .collect();
        let rules = model
            .settings
            .blocking_rules
            .iter()
            .map(|r| rule_parts(&ds, r))
            .collect::<Result<Vec<_>, _>>()?;
        let search_rules: Vec<RuleParts> = SEARCH_RULES
            .iter()
            .filter_map(|keys| {
                let rule = crate::settings::BlockingRule {
                    keys: keys.iter().map(|k| k.to_string()).collect(),
                };
                rule_parts(&ds, &rule).ok()
            })
            .collect();
        let mut index = Self {
            table: model.weight_table(),
            tf_columns: (0..model.comparisons.len())
                .filter(|&i| model.comparisons[i].tf)
                .collect(),
            model,
            comparisons,
            positions,
            buckets: vec![FxHashMap::default(); rules.len()],
            rules,
            search_buckets: vec![FxHashMap::default(); search_rules.len()],
            search_rules,
            live: vec![true; ds.len()],
            by_id: FxHashMap::default(),
            ds,
        };
        for r in 0..index.ds.len() as u32 {
            index.add_keys(r);
            let key = (
                index.source_of(r).to_string(),
                index.ds.record_ids[r as usize].clone(),
            );
            index.by_id.insert(key, r);
        }
        Ok(index)
    }

    /// Records indexed (removals excluded).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn source_of(&self, r: u32) -> &str {
        &self.ds.sources[self.ds.source[r as usize] as usize]
    }

    fn add_keys(&mut self, r: u32) {
        for (i, parts) in self.rules.iter().enumerate() {
            if let Some(k) = record_key(&self.ds, parts, r) {
                self.buckets[i].entry(k).or_default().push(r);
            }
        }
        for (i, parts) in self.search_rules.iter().enumerate() {
            if let Some(k) = record_key(&self.ds, parts, r) {
                self.search_buckets[i].entry(k).or_default().push(r);
            }
        }
    }

    /// Appends a record's values to the prepared columns (not yet keyed).
    fn append(&mut self, record: &RawRecord) -> u32 {
        let source = match self.ds.sources.iter().position(|s| *s == record.source) {
            Some(i) => i as u16,
            None => {
                self.ds.sources.push(record.source.clone());
                (self.ds.sources.len() - 1) as u16
            }
        };
        self.ds.source.push(source);
        self.ds.record_ids.push(record.record_id.clone());
        for (c, &pos) in self.ds.columns.iter_mut().zip(&self.positions) {
            let raw = record
                .values
                .get(pos)
                .and_then(|v| v.as_deref())
                .unwrap_or("");
            c.push_raw(raw);
        }
        self.live.push(true);
        (self.ds.len() - 1) as u32
    }

    fn unappend(&mut self) {
        self.ds.source.pop();
        self.ds.record_ids.pop();
        for c in &mut self.ds.columns {
            c.pop();
        }
        self.live.pop();
    }

    /// Adds a record; an error if its `(source, record_id)` is indexed already.
    pub fn insert(&mut self, record: RawRecord) -> Result<(), Error> {
        let key = (record.source.clone(), record.record_id.clone());
        if self.by_id.contains_key(&key) {
            return Err(Error::DuplicateIds(vec![format!("{}/{}", key.0, key.1)]));
        }
        let r = self.append(&record);
        self.add_keys(r);
        self.by_id.insert(key, r);
        Ok(())
    }

    /// Removes a record; whether it was indexed.
    pub fn remove(&mut self, source: &str, record_id: &str) -> bool {
        let Some(r) = self
            .by_id
            .remove(&(source.to_string(), record_id.to_string()))
        else {
            return false;
        };
        for (rules, buckets) in [
            (&self.rules, &mut self.buckets),
            (&self.search_rules, &mut self.search_buckets),
        ] {
            for (i, parts) in rules.iter().enumerate() {
                if let Some(k) = record_key(&self.ds, parts, r) {
                    if let Some(bucket) = buckets[i].get_mut(&k) {
                        bucket.retain(|&x| x != r);
                    }
                }
            }
        }
        self.live[r as usize] = false;
        for c in &mut self.ds.columns {
            c.clear(r);
        }
        true
    }

    /// The trained model the index scores with.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Why `record` (not indexed) matches the indexed record
    /// (`source`, `record_id`): every comparison's level and weight. `None`
    /// when that record is not indexed.
    pub fn explain(
        &mut self,
        record: &RawRecord,
        source: &str,
        record_id: &str,
    ) -> Option<Explanation> {
        let r = *self
            .by_id
            .get(&(source.to_string(), record_id.to_string()))?;
        let q = self.append(record);
        let e = explain(&self.model, &self.ds, q, r);
        self.unappend();
        Some(e)
    }

    /// The best `limit` candidates for `record`, strongest first (ties by
    /// source and id). The record itself is not indexed.
    pub fn best_matches(&mut self, record: &RawRecord, limit: usize) -> Vec<Candidate> {
        let q = self.append(record);
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        for (i, parts) in self.rules.iter().enumerate() {
            if let Some(k) = record_key(&self.ds, parts, q) {
                if let Some(bucket) = self.buckets[i].get(&k) {
                    seen.extend(bucket.iter().copied().filter(|&r| self.live[r as usize]));
                }
            }
        }
        let scored = seen.into_iter().map(|r| (self.weight(q, r), r)).collect();
        let result = self.strongest(scored, limit);
        self.unappend();
        result
    }

    /// The indexed records at the same home as `record`: those sharing a
    /// search key with it (its postcode or UPRN) whose place comparison
    /// reaches "same home" or "same address" (not merely the same
    /// postcode, which in a model trained on partners' differing address
    /// layouts can weigh for a match). At most `limit`, strongest first.
    pub fn same_home(&mut self, record: &RawRecord, limit: usize) -> Vec<Candidate> {
        let Some(place) = self
            .comparisons
            .iter()
            .position(|c| c.spec.kind == crate::settings::ComparisonKind::Place)
        else {
            return Vec::new();
        };
        let q = self.append(record);
        let seen = self.search_candidates(q);
        let scored = seen
            .into_iter()
            .filter(|&r| {
                let level = level_of(pattern(&self.comparisons, &self.ds, q, r), place);
                level == 1 || level == 2
            })
            .map(|r| (self.weight(q, r), r))
            .collect();
        let result = self.strongest(scored, limit);
        self.unappend();
        result
    }

    /// Records sharing any [`SEARCH_RULES`] key with the appended query `q`.
    fn search_candidates(&self, q: u32) -> FxHashSet<u32> {
        let mut seen: FxHashSet<u32> = FxHashSet::default();
        for (i, parts) in self.search_rules.iter().enumerate() {
            if let Some(k) = record_key(&self.ds, parts, q) {
                if let Some(bucket) = self.search_buckets[i].get(&k) {
                    if bucket.len() <= MAX_SEARCH_BUCKET {
                        seen.extend(bucket.iter().copied().filter(|&r| self.live[r as usize]));
                    }
                }
            }
        }
        seen
    }

    /// A search for the resident `record` describes, however little it
    /// holds: candidates share any one [`SEARCH_RULES`] key with it and
    /// have more evidence for than against them (a match weight above the
    /// prior's), strongest first, at most `limit`. Fields the search
    /// leaves out count neither way.
    pub fn search(&mut self, record: &RawRecord, limit: usize) -> Vec<Candidate> {
        let q = self.append(record);
        let seen = self.search_candidates(q);
        let prior = self.model.prior_weight();
        let table = self.search_table(q);
        let scored = seen
            .into_iter()
            .map(|r| (self.weight_with(&table, q, r), r))
            .filter(|(w, _)| *w > prior)
            .collect();
        let result = self.strongest(scored, limit);
        self.unappend();
        result
    }

    /// The weight table for a search `q`: as trained, except that a place
    /// the search gives only by its postcode agrees at "same postcode"
    /// with every record there, whatever their address; that level then
    /// weighs as the union of the levels it stands for (same home, same
    /// address, same postcode), not as "a different home at the postcode",
    /// which counts against.
    fn search_table(&self, q: u32) -> std::borrow::Cow<'_, [Vec<f64>]> {
        let mut table = std::borrow::Cow::Borrowed(self.table.as_slice());
        for (i, c) in self.comparisons.iter().enumerate() {
            if c.knows_only_postcode(&self.ds, q)
                && self.model.comparisons[i].levels.len() > PLACE_SAME_POSTCODE
            {
                let levels = &self.model.comparisons[i].levels;
                let (m, u) = levels[1..=PLACE_SAME_POSTCODE]
                    .iter()
                    .fold((0.0, 0.0), |(m, u), l| (m + l.m, u + l.u));
                if m > 0.0 && u > 0.0 {
                    table.to_mut()[i][PLACE_SAME_POSTCODE] = (m / u).log2();
                }
            }
        }
        table
    }

    /// The match weight of the pair (`q`, `r`), term frequencies included.
    fn weight(&self, q: u32, r: u32) -> f64 {
        self.weight_with(&self.table, q, r)
    }

    /// [`Self::weight`] with another weight table.
    fn weight_with(&self, table: &[Vec<f64>], q: u32, r: u32) -> f64 {
        let p = pattern(&self.comparisons, &self.ds, q, r);
        let mut w = pattern_weight(&self.model, table, p);
        for &i in &self.tf_columns {
            if level_of(p, i) == 1 {
                w += tf_adjustment(&self.model, &self.ds, i, r);
            }
        }
        w
    }

    /// The `limit` strongest of `scored`, ties by source and id.
    fn strongest(&self, mut scored: Vec<(f64, u32)>, limit: usize) -> Vec<Candidate> {
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0).then_with(|| {
                (self.source_of(a.1), &self.ds.record_ids[a.1 as usize])
                    .cmp(&(self.source_of(b.1), &self.ds.record_ids[b.1 as usize]))
            })
        });
        scored.truncate(limit);
        scored
            .into_iter()
            .map(|(weight, r)| Candidate {
                source: self.source_of(r).to_string(),
                record_id: self.ds.record_ids[r as usize].clone(),
                weight,
                probability: probability(weight),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{LinkType, Settings};

    fn cols() -> Vec<String> {
        ["given_name", "family_name", "dob", "postcode"]
            .map(String::from)
            .to_vec()
    }

    fn rec(source: &str, id: &str, v: [&str; 4]) -> RawRecord {
        RawRecord {
            source: source.into(),
            record_id: id.into(),
            values: v.iter().map(|x| Some(x.to_string())).collect(),
        }
    }

    /// A small population: varied names, dates and postcodes; a third of
    /// people have a second record in source "b", sometimes with a typo.
    fn people() -> Vec<RawRecord> {
        let given = [
            "Ann", "Bob", "Cyril", "Dora", "Edna", "Frank", "Gwen", "Harold", "Ivy", "Jack",
            "Kath", "Len",
        ];
        let family = [
            "Smith", "Thrower", "Gotts", "Nobbs", "Yaxley", "Pegg", "Bunn", "Howes", "Rix", "Tuck",
            "Dack", "Seago",
        ];
        let mut x: u64 = 42;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut records = Vec::new();
        for i in 0..1200 {
            let g = given[next(12) as usize];
            let f = format!(
                "{}{}",
                family[next(12) as usize],
                ["", "son", "ley", "ton"][next(4) as usize]
            );
            let d = format!(
                "19{:02}-{:02}-{:02}",
                20 + next(80),
                1 + next(12),
                1 + next(28)
            );
            let p = format!(
                "NR{} {}{}{}",
                1 + next(30),
                next(10),
                ["A", "B", "D", "E"][next(4) as usize],
                ["F", "G", "H", "J"][next(4) as usize]
            );
            records.push(rec("a", &format!("a{i}"), [g, &f, &d, &p]));
            if i % 3 == 0 {
                let f2 = if next(5) == 0 {
                    format!("{f}e")
                } else {
                    f.clone()
                };
                records.push(rec("b", &format!("b{i}"), [g, &f2, &d, &p]));
            }
        }
        records
    }

    fn index() -> (RealtimeIndex, Vec<RawRecord>) {
        let records = people();
        let settings = Settings::for_canonical_columns(
            &["given_name", "family_name", "dob", "postcode"],
            LinkType::Dedupe,
        );
        let result = crate::link(&settings, &cols(), records.clone(), None, &()).unwrap();
        (
            RealtimeIndex::build(result.model, &cols(), records.clone()).unwrap(),
            records,
        )
    }

    #[test]
    fn finds_the_record_it_matches_and_forgets_removed_ones() {
        let (mut ix, records) = index();
        let n = ix.len();
        let a0 = &records[0];
        let query = RawRecord {
            source: "new".into(),
            record_id: "q1".into(),
            values: a0.values.clone(),
        };
        let best = ix.best_matches(&query, 3);
        assert!(best.iter().any(|c| c.record_id == "a0"), "{best:?}");
        assert!(best[0].probability > 0.9, "{best:?}");
        assert_eq!(ix.len(), n, "a query does not insert");
        assert!(ix.remove("a", "a0"));
        assert!(!ix.remove("a", "a0"));
        assert_eq!(ix.len(), n - 1);
        let best = ix.best_matches(&query, 3);
        assert!(best.iter().all(|c| c.record_id != "a0"), "{best:?}");
        ix.insert(query.clone()).unwrap();
        assert!(ix.insert(query.clone()).is_err(), "the same id twice");
        let again = RawRecord {
            record_id: "q2".into(),
            ..query
        };
        let best = ix.best_matches(&again, 5);
        let q1 = best
            .iter()
            .find(|c| c.record_id == "q1")
            .expect("the inserted record is found");
        assert_eq!(q1.weight, best[0].weight, "as strong as the best: {best:?}");
    }

    #[test]
    fn a_withdrawn_duplicate_is_found_again_with_the_batch_weight() {
        let (mut ix, records) = index();
        // b3 is the second record of a3.
        let b3 = records
            .iter()
            .find(|r| r.record_id == "b3")
            .unwrap()
            .clone();
        ix.remove("b", "b3");
        let best = ix.best_matches(&b3, 1);
        assert_eq!(best[0].record_id, "a3", "{best:?}");
        assert!(best[0].probability > 0.9, "{best:?}");
    }

    fn query(values: [&str; 4]) -> RawRecord {
        RawRecord {
            source: "q".into(),
            record_id: "q".into(),
            values: values
                .iter()
                .map(|v| Some(v.to_string()).filter(|v| !v.is_empty()))
                .collect(),
        }
    }

    #[test]
    fn a_search_finds_by_any_one_field_and_by_a_misspelt_name() {
        let (mut ix, records) = index();
        let a9 = records.iter().find(|r| r.record_id == "a9").unwrap();
        let v: Vec<&str> = a9.values.iter().map(|v| v.as_deref().unwrap()).collect();
        let (given, family, dob, postcode) = (v[0], v[1], v[2], v[3]);
        let misspelt: String = family.chars().rev().collect::<String>();
        let typo = format!("{}{}", &family[..family.len() - 1], "x");
        for (q, what) in [
            (query([given, family, "", ""]), "the name alone"),
            (query([given, &typo, "", ""]), "a misspelt family name"),
            (query(["", "", dob, ""]), "the date of birth alone"),
            (query(["", "", "", postcode]), "the postcode alone"),
        ] {
            let found = ix.search(&q, 200);
            assert!(
                found.iter().any(|c| c.record_id == "a9"),
                "{what}: {found:?}"
            );
            let prior = ix.model().prior_weight();
            assert!(found.iter().all(|c| c.weight > prior), "{what}");
        }
        // The full matcher's blocking finds nothing from a name alone.
        assert!(
            ix.best_matches(&query([given, family, "", ""]), 5)
                .is_empty(),
            "best_matches needs more than a name"
        );
        // A reversed name shares no key: nothing, rather than noise.
        let found = ix.search(&query(["", &misspelt, "", ""]), 200);
        assert!(found.iter().all(|c| c.record_id != "a9"), "{found:?}");
        // A removed record is not found by search either.
        ix.remove("a", "a9");
        let found = ix.search(&query([given, family, dob, postcode]), 200);
        assert!(found.iter().all(|c| c.record_id != "a9"), "{found:?}");
    }
}
