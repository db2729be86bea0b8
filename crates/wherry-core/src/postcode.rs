//! UK postcodes: every valid format, normalised to upper case with one space.
//!
//! A postcode is an outward code (area letters, district digits and maybe a
//! letter) and an inward code (sector digit, unit letters): `NR1 3AB` has area
//! `NR`, district `NR1`, sector `NR1 3` and unit `AB`.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, PostcodeRule};

/// A valid, normalised UK postcode such as `NR1 3AB`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Postcode {
    /// Upper case, one space before the inward code.
    text: String,
}

/// Letters never used in the inward code's unit.
const BAD_UNIT_LETTERS: &[u8] = b"CIKMOV";

impl Postcode {
    /// Parses a postcode in any case and spacing (`nr13ab`, ` NR1  3AB `).
    ///
    /// ```
    /// use wherry_core::Postcode;
    /// let p = Postcode::parse("nr13ab").unwrap();
    /// assert_eq!(p.as_str(), "NR1 3AB");
    /// assert_eq!(p.area(), "NR");
    /// assert_eq!(p.district(), "NR1");
    /// assert_eq!(p.sector(), "NR1 3");
    /// assert!(Postcode::parse("NR1 3A").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Self, Error> {
        let fail = |rule| Err(Error::Postcode(rule));
        let mut compact = Vec::with_capacity(7);
        for c in input.chars() {
            if c.is_whitespace() {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return fail(PostcodeRule::BadCharacter);
            }
            compact.push(c.to_ascii_uppercase() as u8);
        }
        if compact.is_empty() {
            return fail(PostcodeRule::Empty);
        }
        if !(5..=7).contains(&compact.len()) {
            return fail(PostcodeRule::WrongLength);
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if outward == b"GIR" && inward == b"0AA" {
            return Ok(Self {
                text: "GIR 0AA".into(),
            });
        }
        let inward_ok = inward[0].is_ascii_digit()
            && inward[1..]
                .iter()
                .all(|c| c.is_ascii_alphabetic() && !BAD_UNIT_LETTERS.contains(c));
        if !inward_ok {
            return fail(PostcodeRule::BadInwardCode);
        }
        if !outward_ok(outward) {
            return fail(PostcodeRule::BadOutwardCode);
        }
        let mut text = String::with_capacity(8);
        text.push_str(std::str::from_utf8(outward).expect("ASCII"));
        text.push(' ');
        text.push_str(std::str::from_utf8(inward).expect("ASCII"));
        Ok(Self { text })
    }

    /// The whole postcode, `NR1 3AB`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The outward code, `NR1` (the same as [`Postcode::district`]).
    pub fn outward(&self) -> &str {
        self.district()
    }

    /// The inward code, `3AB`.
    pub fn inward(&self) -> &str {
        &self.text[self.text.len() - 3..]
    }

    /// The postcode area: the leading letters, `NR`.
    pub fn area(&self) -> &str {
        let district = self.district();
        let end = district
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(district.len());
        &district[..end]
    }

    /// The postcode district (outward code), `NR1`.
    pub fn district(&self) -> &str {
        &self.text[..self.text.len() - 4]
    }

    /// The postcode sector, `NR1 3`.
    pub fn sector(&self) -> &str {
        &self.text[..self.text.len() - 2]
    }
}

/// A9, A99, A9A, AA9, AA99, AA9A.
fn outward_ok(o: &[u8]) -> bool {
    let a = |c: u8| c.is_ascii_alphabetic();
    let d = |c: u8| c.is_ascii_digit();
    match *o {
        [x, y] => a(x) && d(y),
        [x, y, z] => (a(x) && d(y) && (d(z) || a(z))) || (a(x) && a(y) && d(z)),
        [w, x, y, z] => a(w) && a(x) && d(y) && (d(z) || a(z)),
        _ => false,
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Prints only the district: a full postcode narrows a person to a few homes.
impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Postcode({} ***)", self.district())
    }
}

impl FromStr for Postcode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl serde::Serialize for Postcode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Postcode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(input: &str) -> PostcodeRule {
        match Postcode::parse(input) {
            Err(Error::Postcode(r)) => r,
            other => panic!("{input:?} should fail, got {other:?}"),
        }
    }

    #[test]
    fn every_format_is_accepted_and_split() {
        // (input, normalised, area, district, sector)
        let cases = [
            ("M1 1AE", "M1 1AE", "M", "M1", "M1 1"),
            ("B33 8TH", "B33 8TH", "B", "B33", "B33 8"),
            ("W1A 0AX", "W1A 0AX", "W", "W1A", "W1A 0"),
            ("CR2 6XH", "CR2 6XH", "CR", "CR2", "CR2 6"),
            ("DN55 1PT", "DN55 1PT", "DN", "DN55", "DN55 1"),
            ("EC1A 1BB", "EC1A 1BB", "EC", "EC1A", "EC1A 1"),
            ("gir0aa", "GIR 0AA", "GIR", "GIR", "GIR 0"),
            ("nr13ab", "NR1 3AB", "NR", "NR1", "NR1 3"),
            ("  pe30   1ab ", "PE30 1AB", "PE", "PE30", "PE30 1"),
        ];
        for (input, text, area, district, sector) in cases {
            let p = Postcode::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(p.as_str(), text);
            assert_eq!(p.area(), area, "{input}");
            assert_eq!(p.district(), district, "{input}");
            assert_eq!(p.sector(), sector, "{input}");
        }
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(rule("   "), PostcodeRule::Empty);
        assert_eq!(rule("NR1-3AB"), PostcodeRule::BadCharacter);
        assert_eq!(rule("NR13A"), PostcodeRule::BadInwardCode);
        assert_eq!(rule("NR1 3A"), PostcodeRule::BadInwardCode);
        assert_eq!(rule("NR1"), PostcodeRule::WrongLength);
        assert_eq!(rule("NR1 3ABCD"), PostcodeRule::WrongLength);
        assert_eq!(rule("NR1 AAB"), PostcodeRule::BadInwardCode);
        assert_eq!(rule("NR1 3CB"), PostcodeRule::BadInwardCode);
        assert_eq!(rule("1R1 3AB"), PostcodeRule::BadOutwardCode);
        assert_eq!(rule("NRR1 3AB"), PostcodeRule::BadOutwardCode);
        assert_eq!(rule("N1RA 3AB"), PostcodeRule::BadOutwardCode);
    }

    const LETTERS: &str = "[A-Z]";
    const UNIT: &str = "[ABDEFGHJLNPQRSTUWXYZ]";

    fn valid_postcode() -> impl Strategy<Value = String> {
        let re = |s: String| proptest::string::string_regex(&s).expect("regex");
        let outward = prop_oneof![
            re(format!("{LETTERS}[0-9]")),
            re(format!("{LETTERS}[0-9][0-9]")),
            re(format!("{LETTERS}[0-9]{LETTERS}")),
            re(format!("{LETTERS}{LETTERS}[0-9]")),
            re(format!("{LETTERS}{LETTERS}[0-9][0-9]")),
            re(format!("{LETTERS}{LETTERS}[0-9]{LETTERS}")),
        ];
        (outward, re(format!("[0-9]{UNIT}{UNIT}"))).prop_map(|(o, i)| format!("{o} {i}"))
    }

    proptest! {
        #[test]
        fn valid_postcodes_round_trip_in_any_case_and_spacing(p in valid_postcode(), lower in any::<bool>(), squash in any::<bool>()) {
            let mut input = if lower { p.to_lowercase() } else { p.clone() };
            if squash { input = input.replace(' ', ""); }
            let parsed = Postcode::parse(&input).unwrap();
            prop_assert_eq!(parsed.as_str(), p.as_str());
            prop_assert_eq!(Postcode::parse(parsed.as_str()).unwrap(), parsed.clone());
            prop_assert!(parsed.as_str().starts_with(parsed.sector()));
            prop_assert!(parsed.sector().starts_with(parsed.district()));
            prop_assert!(parsed.district().starts_with(parsed.area()));
        }

        #[test]
        fn dropping_the_last_character_is_rejected(p in valid_postcode()) {
            prop_assert!(Postcode::parse(&p[..p.len() - 1]).is_err());
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Postcode::parse(&s);
        }
    }
}
