//! Wherry's own identifiers for residents, and what happens to them.
//!
//! A [`PersonId`] is `P` and nine digits (`P000000123`): zero-padded so
//! that text order is number order, and handed out in sequence by the hub.
//! A [`PersonChange`] is one entry of the person change feed: created,
//! merged, split or retired.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A resident's id in the hub: `P` and nine digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonId(u64);

impl PersonId {
    /// The largest number a person id can hold.
    pub const MAX: u64 = 999_999_999;

    /// The id with this number (from 1).
    pub fn new(number: u64) -> Self {
        Self(number)
    }

    /// Its number.
    pub fn number(self) -> u64 {
        self.0
    }

    /// The id after this one.
    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    /// The number of the greatest of `ids` that parse (0 when none do):
    /// where the next id starts from.
    pub fn last_number<'a>(ids: impl IntoIterator<Item = &'a str>) -> u64 {
        ids.into_iter()
            .filter_map(|s| s.parse::<PersonId>().ok())
            .map(PersonId::number)
            .max()
            .unwrap_or(0)
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{:09}", self.0)
    }
}

/// Why text is not a person id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a person id is P and nine digits, for example P000000123")]
pub struct NotAPersonId;

impl FromStr for PersonId {
    type Err = NotAPersonId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix('P').ok_or(NotAPersonId)?;
        if digits.len() != 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NotAPersonId);
        }
        digits.parse().map(Self).map_err(|_| NotAPersonId)
    }
}

impl Serialize for PersonId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PersonId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What happened to persons: one entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PersonChange {
    /// A new person.
    Created {
        /// Their id.
        person: String,
    },
    /// Records of `absorbed` persons now belong to `person`.
    Merged {
        /// The person who kept their id.
        person: String,
        /// Persons whose records joined them.
        absorbed: Vec<String>,
    },
    /// Some of `person`'s records now belong to `into`.
    Split {
        /// The person who kept their id.
        person: String,
        /// The persons the other records went to.
        into: Vec<String>,
    },
    /// A person with no records left.
    Retired {
        /// Their id.
        person: String,
    },
}

impl PersonChange {
    /// `created`, `merged`, `split` or `retired`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Created { .. } => "created",
            Self::Merged { .. } => "merged",
            Self::Split { .. } => "split",
            Self::Retired { .. } => "retired",
        }
    }

    /// The person the change is about.
    pub fn person(&self) -> &str {
        match self {
            Self::Created { person }
            | Self::Merged { person, .. }
            | Self::Split { person, .. }
            | Self::Retired { person } => person,
        }
    }

    /// The other persons involved (absorbed, or split into).
    pub fn others(&self) -> &[String] {
        match self {
            Self::Merged { absorbed, .. } => absorbed,
            Self::Split { into, .. } => into,
            Self::Created { .. } | Self::Retired { .. } => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn person_ids_are_p_and_nine_digits() {
        assert_eq!(PersonId::new(123).to_string(), "P000000123");
        assert_eq!("P000000123".parse::<PersonId>(), Ok(PersonId::new(123)));
        for bad in [
            "",
            "P",
            "P12",
            "p000000123",
            "P0000001234",
            "P00000012x",
            "Q000000123",
        ] {
            assert_eq!(bad.parse::<PersonId>(), Err(NotAPersonId), "{bad:?}");
        }
        assert_eq!(PersonId::last_number(["P000000007", "P000000012", "x"]), 12);
        assert_eq!(PersonId::last_number([]), 0);
    }

    #[test]
    fn changes_serialise_with_their_kind() {
        let c = PersonChange::Merged {
            person: "P000000001".into(),
            absorbed: vec!["P000000002".into()],
        };
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"kind":"merged","person":"P000000001","absorbed":["P000000002"]}"#
        );
        assert_eq!(
            (c.kind(), c.person(), c.others().len()),
            ("merged", "P000000001", 1)
        );
    }

    proptest! {
        #[test]
        fn every_id_round_trips(n in 0u64..=PersonId::MAX) {
            let id = PersonId::new(n);
            prop_assert_eq!(id.to_string().parse::<PersonId>(), Ok(id));
            prop_assert_eq!(id.to_string().len(), 10);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,12}") {
            let _ = s.parse::<PersonId>();
        }
    }
}
