//! Comparisons: for each column, ordered levels from best agreement to none,
//! each a condition and a human label. Level 0 is always "missing on either
//! side", which carries no weight.

use serde::{Deserialize, Serialize};
use wherry_core::aliases::share_a_group;

use crate::dataset::{Dataset, NULL, ValueInfo};
use crate::settings::{ComparisonKind, ComparisonSpec};
use crate::similarity::jaro_winkler_from;

/// A comparison bound to a prepared dataset.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// What it compares.
    pub spec: ComparisonSpec,
    /// Level labels; index 0 is the null level.
    pub labels: Vec<String>,
    column: usize,
    swap: Option<usize>,
    postcode: Option<usize>,
    uprn: Option<usize>,
}

/// A place comparison's "same postcode" level: below "same home" (1) and
/// "same address, near enough" (2), so between records that both hold an
/// address it means a different home at the same postcode.
pub const PLACE_SAME_POSTCODE: usize = 3;

/// The label of each level, in order, for a kind of comparison.
pub fn level_labels(spec: &ComparisonSpec) -> Vec<String> {
    let c = &spec.column;
    let mut l = vec![format!("{c} missing on either side")];
    match spec.kind {
        ComparisonKind::Name => {
            l.push(format!("exact {c}"));
            if let Some(s) = &spec.swap_with {
                l.push(format!("{c} and {s} swapped"));
            }
            l.push(format!("{c} a nickname of the other"));
            l.push(format!("{c} one typo apart"));
            l.push(format!("Jaro–Winkler ≥ 0.92 on {c}"));
            l.push(format!("same Double Metaphone code for {c}"));
            l.push(format!("Jaro–Winkler ≥ 0.80 on {c}"));
        }
        ComparisonKind::Date => {
            l.push(format!("exact {c}"));
            l.push(format!("{c} with day and month swapped"));
            l.push(format!("{c} one digit off"));
            l.push(format!("{c} in the same year and month"));
        }
        ComparisonKind::UkPostcode => {
            l.push(format!("exact {c}"));
            l.push(format!("same {c} sector"));
            l.push(format!("same {c} district"));
            l.push(format!("same {c} area"));
        }
        ComparisonKind::Address => {
            l.push(format!("exact {c}"));
            l.push(format!(
                "{c} tokens overlap ≥ 0.8 and the house number agrees"
            ));
            l.push(format!("{c} tokens overlap ≥ 0.5"));
            l.push(format!("{c} house number agrees and a token is shared"));
        }
        ComparisonKind::Place => {
            l.push(format!("same home (UPRN or exact {c})"));
            l.push(format!(
                "{c} tokens overlap ≥ 0.8 and the house number agrees"
            ));
            l.push("same postcode".into());
            l.push("same postcode sector".into());
            l.push("same postcode district".into());
        }
        ComparisonKind::NhsNumber | ComparisonKind::Identifier | ComparisonKind::Phone => {
            l.push(format!("exact {c}"));
            l.push(format!("{c} one character off"));
        }
        ComparisonKind::Exact => l.push(format!("exact {c}")),
        ComparisonKind::String => {
            l.push(format!("exact {c}"));
            l.push(format!("Jaro–Winkler ≥ 0.92 on {c}"));
            l.push(format!("Jaro–Winkler ≥ 0.80 on {c}"));
        }
    }
    l.push(format!("{c} different"));
    l
}

/// Whether `a` and `b` are one edit apart: one substitution, insertion,
/// deletion, or swap of two adjacent characters (optimal string alignment
/// distance 1). Equal strings are not.
pub fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a == b || a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            ra[1..] == rb[1..]
                || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..])
        }
        std::cmp::Ordering::Greater => ra[1..] == *rb,
        std::cmp::Ordering::Less => *ra == rb[1..],
    }
}

/// How many ids two sorted, deduplicated token lists share (one merge).
fn shared_tokens(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

impl Comparison {
    /// Binds `spec` to `ds`.
    pub fn new(spec: &ComparisonSpec, ds: &Dataset) -> Self {
        let column = ds
            .column(&spec.column, spec.prepared_kind())
            .expect("prepared for this comparison");
        let swap = spec
            .swap_with
            .as_ref()
            .and_then(|s| ds.column(s, ComparisonKind::Name));
        let with = |role: &str| {
            spec.with
                .get(role)
                .and_then(|c| ds.column(c, ComparisonSpec::with_kind(role)))
        };
        Self {
            spec: spec.clone(),
            labels: level_labels(spec),
            column,
            swap,
            postcode: with("postcode"),
            uprn: with("uprn"),
        }
    }

    /// `place`: one ladder over address, postcode and UPRN.
    fn place_level(&self, ds: &Dataset, a: u32, b: u32) -> u8 {
        let get = |c: Option<usize>| c.map(|c| (ds.columns[c].get(a), ds.columns[c].get(b)));
        let mut comparable = false;
        if let Some((Some((x, _)), Some((y, _)))) = get(self.uprn) {
            comparable = true;
            if x == y {
                return 1;
            }
        }
        if let Some((Some((x, va)), Some((y, vb)))) = get(Some(self.column)) {
            comparable = true;
            if x == y {
                return 1;
            }
            // The house number first: it decides most pairs without
            // counting tokens.
            if va.house != NULL && va.house == vb.house {
                let shared = shared_tokens(&va.tokens, &vb.tokens);
                let union = va.tokens.len() + vb.tokens.len() - shared;
                if shared as f64 >= 0.8 * union as f64 {
                    return 2;
                }
            }
        }
        if let Some((Some((x, va)), Some((y, vb)))) = get(self.postcode) {
            comparable = true;
            if x == y {
                return 3;
            }
            for (i, l) in [(0usize, 4u8), (1, 5)] {
                if va.parts[i] != NULL && va.parts[i] == vb.parts[i] {
                    return l;
                }
            }
        }
        if comparable {
            (self.labels.len() - 1) as u8
        } else {
            0
        }
    }

    /// For a place comparison: whether record `r` holds neither the
    /// address nor the UPRN, so that reaching [`PLACE_SAME_POSTCODE`] says
    /// only that the postcodes agree, not that the homes differ.
    pub fn knows_only_postcode(&self, ds: &Dataset, r: u32) -> bool {
        self.spec.kind == ComparisonKind::Place
            && ds.columns[self.column].get(r).is_none()
            && self.uprn.is_none_or(|c| ds.columns[c].get(r).is_none())
    }

    /// Number of levels, the null level included.
    pub fn levels(&self) -> usize {
        self.labels.len()
    }

    /// The index of the prepared column.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The level records `a` and `b` reach.
    pub fn level(&self, ds: &Dataset, a: u32, b: u32) -> u8 {
        if self.spec.kind == ComparisonKind::Place {
            return self.place_level(ds, a, b);
        }
        let col = &ds.columns[self.column];
        let (Some((x, va)), Some((y, vb))) = (col.get(a), col.get(b)) else {
            return 0;
        };
        let last = (self.labels.len() - 1) as u8;
        if x == y {
            return 1;
        }
        let (s, t) = (va.text.as_str(), vb.text.as_str());
        match self.spec.kind {
            ComparisonKind::Name => {
                let mut level = 2u8;
                if let Some(sw) = self.swap {
                    let other = &ds.columns[sw];
                    // Swapped, each name as it is or with a typo or two:
                    // the other column's value of one record against this
                    // column's value (`id`) of the other.
                    let close = |r: u32, id: u32| {
                        let o = other.ids[r as usize];
                        o != NULL && {
                            let (p, q) = (
                                &other.values[o as usize].text,
                                &col.values[id as usize].text,
                            );
                            p == q
                                || one_edit_apart(p, q)
                                || jaro_winkler_from(
                                    p,
                                    &other.letters[o as usize],
                                    q,
                                    &col.letters[id as usize],
                                    0.92,
                                ) >= 0.92
                        }
                    };
                    if close(b, x) && close(a, y) {
                        return 2;
                    }
                    level += 1;
                }
                if share_a_group(col.aliases[x as usize], col.aliases[y as usize]) {
                    return level;
                }
                if one_edit_apart(s, t) {
                    return level + 1;
                }
                let (lx, ly) = (&col.letters[x as usize], &col.letters[y as usize]);
                let jw = jaro_winkler_from(s, lx, t, ly, 0.80);
                if jw >= 0.92 {
                    return level + 2;
                }
                let p = |i: usize, v: &ValueInfo| v.phonetic[i];
                let phon = p(0, va) != NULL
                    && (p(0, va) == p(0, vb)
                        || p(0, va) == p(1, vb)
                        || (p(1, va) != NULL && p(1, va) == p(0, vb)));
                if phon {
                    return level + 3;
                }
                if jw >= 0.80 {
                    return level + 4;
                }
                last
            }
            ComparisonKind::Date => {
                if let (Some(d), Some(e)) = (va.date, vb.date) {
                    if d.year() == e.year() && d.day() == e.month() && d.month() == e.day() {
                        return 2;
                    }
                }
                fn digits(x: &str) -> &str {
                    x.trim_start_matches('?')
                }
                if one_edit_apart(digits(s), digits(t)) {
                    return 3;
                }
                if let (Some(d), Some(e)) = (va.date, vb.date) {
                    if d.year() == e.year() && d.month() == e.month() {
                        return 4;
                    }
                }
                last
            }
            ComparisonKind::UkPostcode => {
                for (i, level) in [(0usize, 2u8), (1, 3), (2, 4)] {
                    if va.parts[i] != NULL && va.parts[i] == vb.parts[i] {
                        return level;
                    }
                }
                last
            }
            ComparisonKind::Address => {
                let (ta, tb) = (&va.tokens, &vb.tokens);
                let shared = shared_tokens(ta, tb);
                let union = ta.len() + tb.len() - shared;
                let jaccard = shared as f64 / union.max(1) as f64;
                let house = va.house != NULL && va.house == vb.house;
                if jaccard >= 0.8 && house {
                    2
                } else if jaccard >= 0.5 {
                    3
                } else if house && shared >= 2 {
                    4
                } else {
                    last
                }
            }
            ComparisonKind::Place => unreachable!("handled above"),
            ComparisonKind::NhsNumber | ComparisonKind::Identifier | ComparisonKind::Phone => {
                if one_edit_apart(s, t) {
                    2
                } else {
                    last
                }
            }
            ComparisonKind::Exact => last,
            ComparisonKind::String => {
                let (lx, ly) = (&col.letters[x as usize], &col.letters[y as usize]);
                let jw = jaro_winkler_from(s, lx, t, ly, 0.80);
                if jw >= 0.92 {
                    2
                } else if jw >= 0.8 {
                    3
                } else {
                    last
                }
            }
        }
    }
}

/// Every comparison's level for a pair, packed four bits each.
pub fn pattern(comparisons: &[Comparison], ds: &Dataset, a: u32, b: u32) -> u64 {
    comparisons.iter().enumerate().fold(0u64, |p, (i, c)| {
        p | (u64::from(c.level(ds, a, b)) << (4 * i))
    })
}

/// The level of comparison `i` in a packed pattern.
pub fn level_of(pattern: u64, i: usize) -> usize {
    ((pattern >> (4 * i)) & 0xF) as usize
}

/// A level's m and u probabilities and weight, as shown to people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelSummary {
    /// The label.
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match).
    pub u: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::RawRecord;
    use crate::settings::{LinkType, Settings};

    #[test]
    fn one_edit() {
        for (a, b, want) in [
            ("smith", "smyth", true),
            ("smith", "smih", true),
            ("smith", "smitth", true),
            ("smith", "msith", true),
            ("smith", "smith", false),
            ("smith", "smiht", true),
            ("smith", "simht", false),
            ("19480307", "19480703", false),
            ("19480307", "19480308", true),
            ("", "a", true),
        ] {
            assert_eq!(one_edit_apart(a, b), want, "{a} {b}");
            assert_eq!(one_edit_apart(b, a), want, "{b} {a}");
        }
    }

    /// `check` takes pairs of (given, family, dob, postcode) and the label each comparison should reach.
    fn check(a: [&str; 4], b: [&str; 4], expect: [&str; 4]) {
        let cols = ["given_name", "family_name", "dob", "postcode"];
        let settings = Settings::for_canonical_columns(&cols, LinkType::Dedupe);
        let rec = |id: &str, v: [&str; 4]| RawRecord {
            source: "s".into(),
            record_id: id.into(),
            values: v.iter().map(|x| Some(x.to_string())).collect(),
        };
        let names: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        let ds = Dataset::prepare(&settings, &names, vec![rec("a", a), rec("b", b)]).unwrap();
        for (spec, want) in settings.comparisons.iter().zip(expect) {
            let c = Comparison::new(spec, &ds);
            let got = &c.labels[c.level(&ds, 0, 1) as usize];
            assert_eq!(got, want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn every_level_is_reachable() {
        let base = ["William", "Thrower", "1948-03-07", "NR1 3AB"];
        check(
            base,
            base,
            [
                "exact given_name",
                "exact family_name",
                "exact dob",
                "exact postcode",
            ],
        );
        check(
            base,
            ["Thrower", "William", "07/03/1948", "nr13ab"],
            [
                "given_name and family_name swapped",
                "family_name different",
                "exact dob",
                "exact postcode",
            ],
        );
        check(
            base,
            ["Bill", "Throwr", "1948-07-03", "NR1 3XY"],
            [
                "given_name a nickname of the other",
                "family_name one typo apart",
                "dob with day and month swapped",
                "same postcode sector",
            ],
        );
        check(
            base,
            ["Wiliam", "Thrwoer", "1948-03-08", "NR1 4AB"],
            [
                "given_name one typo apart",
                "family_name one typo apart",
                "dob one digit off",
                "same postcode district",
            ],
        );
        check(
            ["Catherine", "Thompson", "1948-03-07", "NR1 3AB"],
            ["Kathryn", "Tomson", "1948-03-27", "NR2 1AB"],
            [
                "same Double Metaphone code for given_name",
                "Jaro–Winkler ≥ 0.92 on family_name",
                "dob one digit off",
                "same postcode area",
            ],
        );
        check(
            ["Margaret", "Smith", "1948-03-07", "NR1 3AB"],
            ["Marjorie", "Jones", "1948-03-19", "PE30 1AB"],
            [
                "Jaro–Winkler ≥ 0.80 on given_name",
                "family_name different",
                "dob in the same year and month",
                "postcode different",
            ],
        );
        check(
            base,
            ["", "Zog", "1951-01-01", "bad"],
            [
                "given_name missing on either side",
                "family_name different",
                "dob different",
                "postcode missing on either side",
            ],
        );
    }

    /// Levels of one comparison of `kind` on columns `cols` for two rows.
    fn labels_for(spec: ComparisonSpec, cols: &[&str], a: &[&str], b: &[&str]) -> String {
        let mut settings = Settings::for_canonical_columns(&["dob"], LinkType::Dedupe);
        settings.comparisons = vec![spec];
        settings.blocking_rules = vec![crate::settings::BlockingRule {
            keys: vec![cols[0].to_string()],
        }];
        let rec = |id: &str, v: &[&str]| RawRecord {
            source: "s".into(),
            record_id: id.into(),
            values: v.iter().map(|x| Some(x.to_string())).collect(),
        };
        let names: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        let ds = Dataset::prepare(&settings, &names, vec![rec("a", a), rec("b", b)]).unwrap();
        let c = Comparison::new(&settings.comparisons[0], &ds);
        c.labels[c.level(&ds, 0, 1) as usize].clone()
    }

    #[test]
    fn every_level_of_the_other_kinds_is_reachable() {
        use crate::settings::ComparisonKind::*;
        let one = |column: &str, kind, a: &str, b: &str| {
            labels_for(ComparisonSpec::new(column, kind), &[column], &[a], &[b])
        };
        let cases: &[(&str, ComparisonKind, &str, &str, &str)] = &[
            (
                "address",
                Address,
                "12 Mill Road, Holt",
                "12 mill road holt",
                "exact address",
            ),
            (
                "address",
                Address,
                "12 Mill Road, Holt, Norfolk",
                "12 Mill Road, Holt",
                "address tokens overlap ≥ 0.8 and the house number agrees",
            ),
            (
                "address",
                Address,
                "12 Mill Road, Holt, Norfolk",
                "14 Mill Road, Holt",
                "address tokens overlap ≥ 0.5",
            ),
            (
                "address",
                Address,
                "12 Mill Lane, Cromer",
                "12 Mill Road, Holt",
                "address house number agrees and a token is shared",
            ),
            (
                "address",
                Address,
                "3 Quay Street, Wells",
                "12 Mill Road, Holt",
                "address different",
            ),
            (
                "nhs_number",
                NhsNumber,
                "943 476 5919",
                "9434765919",
                "exact nhs_number",
            ),
            (
                "nhs_number",
                NhsNumber,
                "9434765919",
                "4010232137",
                "nhs_number different",
            ),
            (
                "nhs_number",
                NhsNumber,
                "9434765919",
                "9434765918",
                "nhs_number missing on either side",
            ),
            ("id", Identifier, "AB-123", "ab123", "exact id"),
            ("id", Identifier, "AB123", "AB132", "id one character off"),
            ("id", Identifier, "AB123", "ZZ999", "id different"),
            (
                "phone",
                Phone,
                "07700 900123",
                "+44 7700 900123",
                "exact phone",
            ),
            (
                "phone",
                Phone,
                "07700 900123",
                "07700 900132",
                "phone one character off",
            ),
            (
                "phone",
                Phone,
                "07700 900123",
                "07911 123456",
                "phone different",
            ),
            (
                "phone",
                Phone,
                "01603 123456",
                "01603 123456",
                "phone missing on either side",
            ),
            ("sex", Exact, "Female", "female", "exact sex"),
            ("sex", Exact, "male", "female", "sex different"),
            (
                "town",
                String,
                "Great Yarmouth",
                "great yarmouth",
                "exact town",
            ),
            (
                "town",
                String,
                "Sheringham",
                "Sheringam",
                "Jaro–Winkler ≥ 0.92 on town",
            ),
            (
                "town",
                String,
                "Dereham",
                "Deerham Market",
                "Jaro–Winkler ≥ 0.80 on town",
            ),
            ("town", String, "Cromer", "Thetford", "town different"),
        ];
        for (column, kind, a, b, want) in cases {
            assert_eq!(one(column, *kind, a, b), *want, "{kind:?}: {a:?} vs {b:?}");
        }
    }

    #[test]
    fn place_counts_address_postcode_and_uprn_once() {
        let mut spec = ComparisonSpec::new("address", ComparisonKind::Place);
        spec.with.insert("postcode".into(), "postcode".into());
        spec.with.insert("uprn".into(), "uprn".into());
        let cols = ["address", "postcode", "uprn"];
        let place = |a: [&str; 3], b: [&str; 3]| labels_for(spec.clone(), &cols, &a, &b);
        assert_eq!(
            place(
                ["12 Mill Rd", "NR1 3AB", "1001"],
                ["Flat 9", "PE30 1AB", "1001"]
            ),
            "same home (UPRN or exact address)"
        );
        assert_eq!(
            place(["12 Mill Road", "NR1 3AB", ""], ["12 mill road", "", ""]),
            "same home (UPRN or exact address)"
        );
        assert_eq!(
            place(
                ["12 Mill Road Holt Norfolk", "", "1001"],
                ["12 Mill Road Holt", "", "1002"]
            ),
            "address tokens overlap ≥ 0.8 and the house number agrees"
        );
        assert_eq!(
            place(["3 Quay St", "NR1 3AB", ""], ["9 Mill Rd", "NR1 3AB", ""]),
            "same postcode"
        );
        assert_eq!(
            place(["3 Quay St", "NR1 3AB", ""], ["9 Mill Rd", "NR1 3XY", ""]),
            "same postcode sector"
        );
        assert_eq!(
            place(["3 Quay St", "NR1 3AB", ""], ["9 Mill Rd", "NR1 5XY", ""]),
            "same postcode district"
        );
        assert_eq!(
            place(["3 Quay St", "NR1 3AB", ""], ["9 Mill Rd", "PE30 5XY", ""]),
            "address different"
        );
        assert_eq!(
            place(["", "", ""], ["9 Mill Rd", "PE30 5XY", "7"]),
            "address missing on either side"
        );
    }

    #[test]
    fn a_placeholder_value_never_counts_as_agreement() {
        // One NHS number on 40 records among 200 that each have their own.
        let mut rows: Vec<String> = (0..40).map(|_| "9434765919".to_string()).collect();
        let mut body = 100_000_000u32;
        while rows.len() < 240 {
            body += 1;
            let d: Vec<u8> = body.to_string().bytes().map(|b| b - b'0').collect();
            if let Some(n) = wherry_core::NhsNumber::from_body(d.try_into().unwrap()) {
                rows.push(n.to_string());
            }
        }
        let mut settings = Settings::for_canonical_columns(&["nhs_number"], LinkType::Dedupe);
        settings.blocking_rules = vec![crate::settings::BlockingRule {
            keys: vec!["nhs_number".into()],
        }];
        let records = rows
            .iter()
            .enumerate()
            .map(|(i, n)| RawRecord {
                source: "s".into(),
                record_id: i.to_string(),
                values: vec![Some(n.clone())],
            })
            .collect();
        let ds = Dataset::prepare(&settings, &["nhs_number".to_string()], records).unwrap();
        let c = Comparison::new(&settings.comparisons[0], &ds);
        assert_eq!(
            c.level(&ds, 0, 1),
            0,
            "the shared number is treated as missing"
        );
        assert_eq!(ds.generic.len(), 1);
    }
}
