//! The canonical person record every partner's row is mapped onto.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The key under which a record's own change date (`YYYY-MM-DD`, the
/// date the partner last changed it in its own system, when its manifest
/// names where that is) is kept among the record's stored fields. Not a
/// canonical field: never disclosed as one, read by the golden record.
pub const CHANGED_AT: &str = "changed_at";

/// A canonical person field. The names are the column names Wherry's own CSV
/// files use, and what source manifests map partner columns onto.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The partner's own id for the record, unique within the source.
    RecordId,
    /// The partner dataset the record came from.
    Source,
    /// NHS number (ten digits, Modulus 11).
    NhsNumber,
    /// First given name.
    GivenName,
    /// Any further given names, space separated.
    MiddleNames,
    /// Family name (surname).
    FamilyName,
    /// Date of birth.
    Dob,
    /// Sex or gender as recorded.
    Sex,
    /// Address lines and town, comma separated, without the postcode.
    Address,
    /// UK postcode.
    Postcode,
    /// Unique Property Reference Number (up to 12 digits).
    Uprn,
    /// Telephone number.
    Phone,
    /// Email address.
    Email,
}

impl Field {
    /// Every field, in the canonical column order.
    pub const ALL: [Field; 13] = [
        Field::RecordId,
        Field::Source,
        Field::NhsNumber,
        Field::GivenName,
        Field::MiddleNames,
        Field::FamilyName,
        Field::Dob,
        Field::Sex,
        Field::Address,
        Field::Postcode,
        Field::Uprn,
        Field::Phone,
        Field::Email,
    ];

    /// The column names, in the order of [`Field::ALL`].
    pub const NAMES: [&'static str; 13] = [
        "record_id",
        "source",
        "nhs_number",
        "given_name",
        "middle_names",
        "family_name",
        "dob",
        "sex",
        "address",
        "postcode",
        "uprn",
        "phone",
        "email",
    ];

    /// The column name, `given_name`.
    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Self::ALL[i])
            .ok_or(Error::UnknownField)
    }
}

/// Administrative sex or gender as partners record it (FHIR's four codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Other.
    Other,
    /// Not known or not recorded.
    Unknown,
}

impl Sex {
    /// The FHIR code: `male`, `female`, `other`, `unknown`.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }

    /// The one-letter code partners often use: `M`, `F`, `O`, `U`.
    pub fn letter(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
            Sex::Other => "O",
            Sex::Unknown => "U",
        }
    }
}

impl FromStr for Sex {
    type Err = Error;
    /// Accepts the FHIR codes and the one-letter codes in any case, and
    /// the NHS Data Dictionary's numeric codes (1 male, 2 female, 9 other, 0 unknown).
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "m" | "male" | "1" => Ok(Sex::Male),
            "f" | "female" | "2" => Ok(Sex::Female),
            "o" | "other" | "9" | "i" | "indeterminate" => Ok(Sex::Other),
            "u" | "unknown" | "0" | "x" | "not known" => Ok(Sex::Unknown),
            _ => Err(Error::Sex),
        }
    }
}

/// A person record in canonical fields, as text: what a partner sent after
/// column mapping and trimming, before validation. Empty values are `None`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecord {
    values: [Option<String>; 13],
}

impl PersonRecord {
    /// A record with only its source and id set.
    pub fn new(source: impl Into<String>, record_id: impl Into<String>) -> Self {
        let mut r = Self::default();
        r.set(Field::Source, source.into());
        r.set(Field::RecordId, record_id.into());
        r
    }

    /// The value of `field`, if present and not blank.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }

    /// Sets `field`, trimming it; a blank value becomes `None`.
    pub fn set(&mut self, field: Field, value: impl Into<String>) {
        let v: String = value.into();
        let t = v.trim();
        self.values[field as usize] = if t.is_empty() {
            None
        } else if t.len() == v.len() {
            Some(v)
        } else {
            Some(t.to_string())
        };
    }

    /// Removes `field`'s value.
    pub fn clear(&mut self, field: Field) {
        self.values[field as usize] = None;
    }
}

/// Prints which fields are present, never their values.
impl fmt::Debug for PersonRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let present: Vec<&str> = Field::ALL
            .iter()
            .filter(|&&x| self.get(x).is_some())
            .map(|x| x.name())
            .collect();
        write!(f, "PersonRecord {{ present: {present:?} }}")
    }
}

/// Whether `s` reads as a UK telephone number: 10 to 13 digits, with
/// nothing between them but spaces, `+`, `-` and brackets.
pub fn looks_like_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    (10..=13).contains(&digits) && s.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c))
}

/// Whether `s` is a plausible UPRN: 1 to 12 digits, not all zero.
pub fn is_valid_uprn(s: &str) -> bool {
    let s = s.trim();
    (1..=12).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b != b'0')
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_phone_is_ten_to_thirteen_digits_with_only_separators_between() {
        for ok in [
            "01603 223344",
            "07700 900123",
            "+44 (0)1603 223344",
            "01603-223-344",
        ] {
            assert!(looks_like_phone(ok), "{ok}");
        }
        for bad in [
            "",
            "call us",
            "01603",
            "01603 2233 44 55 66",
            "01603 22334x",
            "01603\u{202e}223344",
        ] {
            assert!(!looks_like_phone(bad), "{bad:?}");
        }
    }

    use super::*;

    #[test]
    fn field_names_round_trip() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>().unwrap(), f);
        }
        assert_eq!("surname".parse::<Field>(), Err(Error::UnknownField));
    }

    #[test]
    fn sex_codes() {
        for (s, want) in [
            ("M", Sex::Male),
            ("female", Sex::Female),
            ("2", Sex::Female),
            (" u ", Sex::Unknown),
        ] {
            assert_eq!(s.parse::<Sex>().unwrap(), want);
        }
        assert!("yes".parse::<Sex>().is_err());
    }

    #[test]
    fn blank_values_are_absent_and_debug_hides_values() {
        let mut r = PersonRecord::new("gp", "p1");
        r.set(Field::GivenName, "  Ada ");
        r.set(Field::FamilyName, "   ");
        assert_eq!(r.get(Field::GivenName), Some("Ada"));
        assert_eq!(r.get(Field::FamilyName), None);
        let dbg = format!("{r:?}");
        assert!(dbg.contains("given_name") && !dbg.contains("Ada"), "{dbg}");
    }

    #[test]
    fn uprns() {
        assert!(is_valid_uprn("100091234567"));
        assert!(is_valid_uprn("12"));
        assert!(!is_valid_uprn("1000912345678"));
        assert!(!is_valid_uprn("10009A"));
        assert!(!is_valid_uprn("000"));
        assert!(!is_valid_uprn(""));
    }
}
