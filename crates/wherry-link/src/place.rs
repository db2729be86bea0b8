//! Where one record goes: the placement rule that honours the steward's
//! decisions, written once and used by the real-time matcher (one pushed
//! record) with the review range the batch relink uses too.
//!
//! The rule, in order:
//!
//! 1. a record already linked keeps its person (only a linkage run or a
//!    steward moves a link);
//! 2. a record with a steward's must-link joins the other record's person;
//! 3. otherwise the strongest candidate whose person holds no record this
//!    one has a cannot-link with decides: at or above the threshold the
//!    record joins that person; below it a new person is made.
//!
//! A pair is queued for review when that best candidate's probability is in
//! the [`ReviewRange`], unless a steward's must-link placed the record or it
//! was already with the candidate's person.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::relink::Key;

/// Match probabilities a steward should look at: `[low, high)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRange {
    /// From this probability (included) …
    pub low: f64,
    /// … up to this one (excluded).
    pub high: f64,
}

impl Default for ReviewRange {
    /// `[0.5, 0.95)`.
    fn default() -> Self {
        Self {
            low: 0.5,
            high: 0.95,
        }
    }
}

impl ReviewRange {
    /// The range `[low, high)`, refused unless both are probabilities and
    /// `low ≤ high`.
    pub fn new(low: f64, high: f64) -> Result<Self, Error> {
        let r = Self { low, high };
        r.check()?;
        Ok(r)
    }

    /// Refuses a range whose ends are not probabilities with `low ≤ high`.
    pub fn check(&self) -> Result<(), Error> {
        if (0.0..=1.0).contains(&self.low)
            && (0.0..=1.0).contains(&self.high)
            && self.low <= self.high
        {
            Ok(())
        } else {
            Err(Error::Settings(
                "the review range must be probabilities with low ≤ high".into(),
            ))
        }
    }

    /// Whether a pair with this probability goes to review.
    pub fn contains(&self, probability: f64) -> bool {
        probability >= self.low && probability < self.high
    }
}

/// A record the new one might be, with the person it is linked to now.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The candidate record.
    pub key: Key,
    /// Its person, if it is linked.
    pub person: Option<String>,
    /// Match probability.
    pub probability: f64,
}

/// The steward's decisions about the record, resolved to persons.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Steward {
    /// A must-link: the other record and its person (the newest decision).
    pub must: Option<(Key, String)>,
    /// Persons holding a record it has a cannot-link with.
    pub barred: Vec<String>,
}

/// How the record comes to its person.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// It was linked already and keeps `person`.
    Keep {
        /// Its person.
        person: String,
    },
    /// It joins an existing person: by match (with its probability) or by a
    /// steward's must-link (no probability).
    Join {
        /// The person.
        person: String,
        /// The match probability, when a match decided.
        probability: Option<f64>,
        /// The record it matched, or the must-link's other record.
        with: Key,
    },
    /// No person was close enough: a new one is to be made.
    Create,
}

/// What [`decide`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Where the record goes.
    pub placement: Placement,
    /// The pair to queue for review: the other record and the probability.
    pub review: Option<(Key, f64)>,
}

/// Places a record (see the module docs). `current` is its person now, if
/// linked; `candidates` are strongest first and exclude the record itself.
pub fn decide(
    current: Option<&str>,
    candidates: &[Candidate],
    steward: &Steward,
    threshold: f64,
    review: ReviewRange,
) -> Decision {
    let best = candidates.iter().find_map(|c| {
        c.person
            .as_deref()
            .filter(|p| !steward.barred.iter().any(|b| b == p))
            .map(|p| (c, p))
    });
    let placement = match (current, &steward.must, best) {
        (Some(p), _, _) => Placement::Keep {
            person: p.to_string(),
        },
        (None, Some((with, p)), _) => Placement::Join {
            person: p.clone(),
            probability: None,
            with: with.clone(),
        },
        (None, None, Some((c, p))) if c.probability >= threshold => Placement::Join {
            person: p.to_string(),
            probability: Some(c.probability),
            with: c.key.clone(),
        },
        (None, None, _) => Placement::Create,
    };
    let review = best.and_then(|(c, p)| {
        let settled = match &placement {
            Placement::Keep { person } => person == p,
            Placement::Join { probability, .. } => probability.is_none(),
            Placement::Create => false,
        };
        (review.contains(c.probability) && !settled).then(|| (c.key.clone(), c.probability))
    });
    Decision { placement, review }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, person: Option<&str>, p: f64) -> Candidate {
        Candidate {
            key: ("s".into(), id.into()),
            person: person.map(str::to_string),
            probability: p,
        }
    }

    fn check(
        current: Option<&str>,
        candidates: &[Candidate],
        steward: Steward,
        expect: (Placement, Option<f64>),
    ) {
        let d = decide(current, candidates, &steward, 0.9, ReviewRange::default());
        assert_eq!(d.placement, expect.0);
        assert_eq!(d.review.map(|r| r.1), expect.1);
    }

    #[test]
    fn a_strong_match_joins_and_a_weak_one_makes_a_person() {
        check(
            None,
            &[cand("1", Some("P1"), 0.99)],
            Steward::default(),
            (
                Placement::Join {
                    person: "P1".into(),
                    probability: Some(0.99),
                    with: ("s".into(), "1".into()),
                },
                None,
            ),
        );
        check(
            None,
            &[cand("1", Some("P1"), 0.7)],
            Steward::default(),
            (Placement::Create, Some(0.7)),
        );
        check(None, &[], Steward::default(), (Placement::Create, None));
    }

    #[test]
    fn steward_decisions_win() {
        let barred = Steward {
            barred: vec!["P1".into()],
            ..Steward::default()
        };
        // The barred person is passed over for the next candidate.
        check(
            None,
            &[cand("1", Some("P1"), 0.99), cand("2", Some("P2"), 0.93)],
            barred,
            (
                Placement::Join {
                    person: "P2".into(),
                    probability: Some(0.93),
                    with: ("s".into(), "2".into()),
                },
                Some(0.93),
            ),
        );
        let must = Steward {
            must: Some((("t".into(), "9".into()), "P9".into())),
            ..Steward::default()
        };
        check(
            None,
            &[cand("1", Some("P1"), 0.7)],
            must,
            (
                Placement::Join {
                    person: "P9".into(),
                    probability: None,
                    with: ("t".into(), "9".into()),
                },
                None,
            ),
        );
    }

    #[test]
    fn a_linked_record_keeps_its_person() {
        check(
            Some("P5"),
            &[cand("1", Some("P5"), 0.7)],
            Steward::default(),
            (
                Placement::Keep {
                    person: "P5".into(),
                },
                None,
            ),
        );
        check(
            Some("P5"),
            &[cand("1", Some("P1"), 0.7)],
            Steward::default(),
            (
                Placement::Keep {
                    person: "P5".into(),
                },
                Some(0.7),
            ),
        );
    }

    #[test]
    fn the_review_range_is_checked() {
        assert!(ReviewRange::new(0.2, 0.1).is_err());
        assert!(ReviewRange::new(-0.1, 0.5).is_err());
        let r = ReviewRange::default();
        assert!(r.contains(0.5) && !r.contains(0.95) && !r.contains(0.49));
    }
}
