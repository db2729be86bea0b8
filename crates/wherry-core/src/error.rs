//! The crate's one error type.
//!
//! Errors name the rule that failed, never the value that failed it: the value
//! is personal data and errors end up in logs. Callers add the file, line and
//! field they were reading.

use std::fmt;

/// Why a value was rejected by one of the UK identifier rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An NHS number broke one of its rules.
    #[error("invalid NHS number: {0}")]
    NhsNumber(NhsNumberRule),
    /// A postcode broke one of its rules.
    #[error("invalid postcode: {0}")]
    Postcode(PostcodeRule),
    /// A date broke one of its rules.
    #[error("invalid date: {0}")]
    Date(DateRule),
    /// A sex or gender code was not one Wherry knows.
    #[error("invalid sex: expected one of male, female, other, unknown (or M, F, O, U)")]
    Sex,
    /// A field name was not one of the canonical fields.
    #[error("unknown canonical field (expected one of {})", crate::Field::NAMES.join(", "))]
    UnknownField,
}

/// The NHS number rule that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NhsNumberRule {
    /// Nothing but spaces and hyphens.
    Empty,
    /// A character other than a digit, a space or a hyphen.
    NonDigit,
    /// Not exactly ten digits.
    WrongLength {
        /// How many digits there were.
        digits: usize,
    },
    /// The Modulus 11 check digit would be 10, which no NHS number has.
    CheckDigitTen,
    /// The tenth digit is not the Modulus 11 check digit of the first nine.
    CheckDigitMismatch,
}

impl fmt::Display for NhsNumberRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::NonDigit => {
                f.write_str("it contains a character other than digits, spaces and hyphens")
            }
            Self::WrongLength { digits } => write!(f, "it has {digits} digits, not 10"),
            Self::CheckDigitTen => f.write_str(
                "its first nine digits give a Modulus 11 check digit of 10, which is never issued",
            ),
            Self::CheckDigitMismatch => f.write_str(
                "the check digit does not match (Modulus 11 over the first nine digits)",
            ),
        }
    }
}

/// The postcode rule that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PostcodeRule {
    /// Nothing but white space.
    Empty,
    /// A character other than a letter, a digit or white space.
    BadCharacter,
    /// Fewer than 5 or more than 7 letters and digits.
    WrongLength,
    /// The inward code (the last three characters) is not digit, letter, letter,
    /// or uses a letter never used there (C, I, K, M, O, V).
    BadInwardCode,
    /// The outward code matches none of A9, A99, A9A, AA9, AA99, AA9A.
    BadOutwardCode,
}

impl fmt::Display for PostcodeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty",
            Self::BadCharacter => "it contains a character other than letters, digits and spaces",
            Self::WrongLength => "it has the wrong length (5 to 7 letters and digits)",
            Self::BadInwardCode => {
                "the inward code (last three characters) must be a digit then two letters, not C, I, K, M, O or V"
            }
            Self::BadOutwardCode => {
                "the outward code must be one of A9, A99, A9A, AA9, AA99, AA9A (or GIR 0AA)"
            }
        })
    }
}

/// The date rule that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DateRule {
    /// Nothing but white space.
    Empty,
    /// Not one of the accepted layouts.
    UnknownFormat,
    /// A two-digit year: Wherry does not guess the century.
    TwoDigitYear,
    /// The month is not 1 to 12.
    MonthOutOfRange,
    /// The day does not exist in that month (31/02, 29/02 outside a leap year).
    DayOutOfRange,
    /// The year is before 1850, which no living resident was born in.
    TooOld,
    /// The date is after today.
    InFuture,
}

impl fmt::Display for DateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty",
            Self::UnknownFormat => "expected YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or YYYYMMDD",
            Self::TwoDigitYear => {
                "the year has two digits; write all four (the century is not guessed)"
            }
            Self::MonthOutOfRange => "the month is not between 1 and 12",
            Self::DayOutOfRange => "that day does not exist in that month",
            Self::TooOld => "the year is before 1850",
            Self::InFuture => "the date is in the future",
        })
    }
}

/// An operating system's reason for an I/O error, without Rust's
/// "(os error N)": for one-line messages that name the file themselves.
pub fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
