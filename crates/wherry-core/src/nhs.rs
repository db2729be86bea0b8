//! NHS numbers: ten digits, the last a Modulus 11 check digit.
//!
//! Invariant: an [`NhsNumber`] value always holds ten ASCII digits whose check
//! digit is right; the only way to make one is [`NhsNumber::parse`] or
//! [`NhsNumber::from_body`].

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, NhsNumberRule};

/// A valid NHS number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NhsNumber([u8; 10]);

/// The Modulus 11 check digit of nine digits, or `None` when it would be 10
/// (such numbers are never issued).
///
/// Weights 10 down to 2; the check digit is 11 minus the remainder of the
/// weighted sum by 11, with 11 becoming 0.
pub fn check_digit(body: &[u8; 9]) -> Option<u8> {
    let sum: u32 = body
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - (sum % 11) {
        11 => Some(0),
        10 => None,
        c => Some(c as u8),
    }
}

impl NhsNumber {
    /// Parses an NHS number, accepting spaces and hyphens between digits
    /// (`943 476 5919`, `943-476-5919`).
    ///
    /// ```
    /// use wherry_core::NhsNumber;
    /// let n = NhsNumber::parse("943 476 5919").unwrap();
    /// assert_eq!(n.to_string(), "9434765919");
    /// assert_eq!(n.formatted(), "943 476 5919");
    /// assert!(NhsNumber::parse("943 476 5918").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Self, Error> {
        let fail = |rule| Err(Error::NhsNumber(rule));
        let mut digits = [0u8; 10];
        let mut n = 0usize;
        for c in input.trim().chars() {
            match c {
                ' ' | '-' => {}
                '0'..='9' => {
                    if n < 10 {
                        digits[n] = c as u8 - b'0';
                    }
                    n += 1;
                }
                _ => return fail(NhsNumberRule::NonDigit),
            }
        }
        if n == 0 {
            return fail(NhsNumberRule::Empty);
        }
        if n != 10 {
            return fail(NhsNumberRule::WrongLength { digits: n });
        }
        let body: [u8; 9] = digits[..9].try_into().expect("nine digits");
        match check_digit(&body) {
            None => fail(NhsNumberRule::CheckDigitTen),
            Some(c) if c != digits[9] => fail(NhsNumberRule::CheckDigitMismatch),
            Some(_) => Ok(Self(digits)),
        }
    }

    /// Completes nine digits (each 0–9) with their check digit, or `None` when
    /// the check digit would be 10.
    pub fn from_body(body: [u8; 9]) -> Option<Self> {
        if body.iter().any(|&d| d > 9) {
            return None;
        }
        let c = check_digit(&body)?;
        let mut digits = [0u8; 10];
        digits[..9].copy_from_slice(&body);
        digits[9] = c;
        Some(Self(digits))
    }

    /// The ten digits, each 0–9.
    pub fn digits(&self) -> [u8; 10] {
        self.0
    }

    /// The number in the NHS's display layout, `3 3 4` digits: `943 476 5919`.
    pub fn formatted(&self) -> String {
        let s = self.to_string();
        format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// Deliberately does not print the number: it is personal data.
impl fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NhsNumber(***)")
    }
}

impl FromStr for NhsNumber {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl serde::Serialize for NhsNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for NhsNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(input: &str) -> NhsNumberRule {
        match NhsNumber::parse(input) {
            Err(Error::NhsNumber(r)) => r,
            other => panic!("{input:?} should fail, got {other:?}"),
        }
    }

    #[test]
    fn accepts_known_valid_numbers_in_every_layout() {
        for s in ["9434765919", "943 476 5919", "943-476-5919", " 9434765919 "] {
            assert_eq!(
                NhsNumber::parse(s).unwrap().to_string(),
                "9434765919",
                "{s}"
            );
        }
        // Weighted sum 9 + 2 = 11: remainder 0, so the check digit is 0, not 11.
        assert!(NhsNumber::parse("0100000010").is_ok());
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(rule(""), NhsNumberRule::Empty);
        assert_eq!(rule(" - "), NhsNumberRule::Empty);
        assert_eq!(rule("943476591X"), NhsNumberRule::NonDigit);
        assert_eq!(rule("943476591"), NhsNumberRule::WrongLength { digits: 9 });
        assert_eq!(
            rule("94347659190"),
            NhsNumberRule::WrongLength { digits: 11 }
        );
        assert_eq!(rule("9434765918"), NhsNumberRule::CheckDigitMismatch);
        // 123456789: sum = 10+18+24+28+30+30+28+24+18 = 210, 210 % 11 = 1, 11-1 = 10.
        assert_eq!(rule("1234567890"), NhsNumberRule::CheckDigitTen);
    }

    #[test]
    fn messages_say_which_rule_failed() {
        let msg = NhsNumber::parse("9434765918").unwrap_err().to_string();
        assert!(msg.contains("check digit"), "{msg}");
        let msg = NhsNumber::parse("94347").unwrap_err().to_string();
        assert!(msg.contains("5 digits, not 10"), "{msg}");
    }

    #[test]
    fn debug_does_not_leak_the_number() {
        let n = NhsNumber::parse("9434765919").unwrap();
        assert!(!format!("{n:?}").contains("943"));
    }

    fn valid_nhs() -> impl Strategy<Value = NhsNumber> {
        proptest::array::uniform9(0u8..10).prop_filter_map("check digit 10", NhsNumber::from_body)
    }

    proptest! {
        #[test]
        fn every_generated_number_round_trips(n in valid_nhs()) {
            prop_assert_eq!(NhsNumber::parse(&n.to_string()).unwrap(), n);
            prop_assert_eq!(NhsNumber::parse(&n.formatted()).unwrap(), n);
            let hyphened = n.formatted().replace(' ', "-");
            prop_assert_eq!(NhsNumber::parse(&hyphened).unwrap(), n);
        }

        #[test]
        fn every_single_digit_change_is_rejected(n in valid_nhs(), pos in 0usize..10, delta in 1u8..10) {
            let mut d = n.digits();
            d[pos] = (d[pos] + delta) % 10;
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            prop_assert!(NhsNumber::parse(&s).is_err(), "{} accepted", s);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = NhsNumber::parse(&s);
        }

        #[test]
        fn adjacent_transpositions_of_different_digits_are_rejected(n in valid_nhs(), pos in 0usize..9) {
            let mut d = n.digits();
            prop_assume!(d[pos] != d[pos + 1]);
            d.swap(pos, pos + 1);
            let s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            prop_assert!(NhsNumber::parse(&s).is_err());
        }
    }
}
