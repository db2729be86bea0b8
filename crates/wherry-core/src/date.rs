//! Calendar dates as partners write them, and dates of birth.
//!
//! Accepted layouts: ISO `1948-03-07`, `07/03/1948`, `07-03-1948` and
//! `19480307` (day and month may have one digit in the slashed and dashed
//! layouts). A two-digit year is an error, never a guess.

use std::fmt;
use std::str::FromStr;

use crate::error::{DateRule, Error};

/// A valid proleptic Gregorian calendar date.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// The earliest year of birth Wherry accepts.
pub const EARLIEST_BIRTH_YEAR: i32 = 1850;

fn fail<T>(rule: DateRule) -> Result<T, Error> {
    Err(Error::Date(rule))
}

/// Whether `year` is a leap year.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date from its parts, checking the month and the day.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, Error> {
        if !(1..=12).contains(&month) {
            return fail(DateRule::MonthOutOfRange);
        }
        if day == 0 || day > days_in_month(year, month) {
            return fail(DateRule::DayOutOfRange);
        }
        Ok(Self { year, month, day })
    }

    /// Parses any accepted layout (see the module docs).
    ///
    /// ```
    /// use wherry_core::Date;
    /// for s in ["1948-03-07", "07/03/1948", "07-03-1948", "19480307", "7/3/1948"] {
    ///     assert_eq!(Date::parse(s).unwrap().to_string(), "1948-03-07");
    /// }
    /// assert!(Date::parse("31/02/1948").is_err());
    /// assert!(Date::parse("07/03/48").is_err());
    /// ```
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.trim();
        if s.is_empty() {
            return fail(DateRule::Empty);
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.len() {
                8 => Self::from_parts(&s[..4], &s[4..6], &s[6..]),
                6 => fail(DateRule::TwoDigitYear),
                _ => fail(DateRule::UnknownFormat),
            };
        }
        let sep = if s.contains('/') { '/' } else { '-' };
        let parts: Vec<&str> = s.split(sep).collect();
        let digits =
            |p: &&str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit());
        if parts.len() != 3 || !parts.iter().all(digits) {
            return fail(DateRule::UnknownFormat);
        }
        let (a, b, c) = (parts[0], parts[1], parts[2]);
        let short = |p: &str| p.len() <= 2;
        match (a.len(), c.len()) {
            (4, _) if short(b) && short(c) => Self::from_parts(a, b, c),
            (_, 4) if short(a) && short(b) => Self::from_parts(c, b, a),
            (1 | 2, 1 | 2) if short(b) => fail(DateRule::TwoDigitYear),
            _ => fail(DateRule::UnknownFormat),
        }
    }

    /// Parses a date of birth: any accepted layout, not after `today` and not
    /// before [`EARLIEST_BIRTH_YEAR`].
    pub fn parse_birth_date(input: &str, today: Date) -> Result<Self, Error> {
        let d = Self::parse(input)?;
        if d > today {
            return fail(DateRule::InFuture);
        }
        if d.year < EARLIEST_BIRTH_YEAR {
            return fail(DateRule::TooOld);
        }
        Ok(d)
    }

    fn from_parts(y: &str, m: &str, d: &str) -> Result<Self, Error> {
        let num = |s: &str| {
            s.parse::<u32>()
                .map_err(|_| Error::Date(DateRule::UnknownFormat))
        };
        let (y, m, d) = (num(y)?, num(m)?, num(d)?);
        let month = u8::try_from(m).map_err(|_| Error::Date(DateRule::MonthOutOfRange))?;
        let day = u8::try_from(d).map_err(|_| Error::Date(DateRule::DayOutOfRange))?;
        Self::new(y as i32, month, day)
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// The date `days` later (earlier when negative).
    pub fn add_days(&self, days: i64) -> Self {
        Self::from_days_since_epoch(self.days_since_epoch() + days)
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(&self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }

    /// Whole years from `self` to `on` (an age, when `self` is a birth date).
    pub fn years_until(&self, on: Date) -> i32 {
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }

    /// Today's date in UTC, from the system clock.
    pub fn today_utc() -> Self {
        Self::from_days_since_epoch(crate::clock::unix_seconds().div_euclid(86_400))
    }

    /// `DD/MM/YYYY`.
    pub fn to_uk_slashed(&self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// `DD-MM-YYYY`.
    pub fn to_uk_dashed(&self) -> String {
        format!("{:02}-{:02}-{:04}", self.day, self.month, self.year)
    }

    /// `YYYYMMDD`.
    pub fn to_compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

/// ISO 8601, `1948-03-07`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl FromStr for Date {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(input: &str) -> DateRule {
        match Date::parse(input) {
            Err(Error::Date(r)) => r,
            other => panic!("{input:?} should fail, got {other:?}"),
        }
    }

    #[test]
    fn every_layout_parses_to_the_same_date() {
        for s in [
            "1948-03-07",
            "07/03/1948",
            "07-03-1948",
            "19480307",
            "7/3/1948",
            " 1948-3-7 ",
        ] {
            assert_eq!(
                Date::parse(s).unwrap(),
                Date::new(1948, 3, 7).unwrap(),
                "{s}"
            );
        }
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(rule(""), DateRule::Empty);
        assert_eq!(rule("31/02/1948"), DateRule::DayOutOfRange);
        assert_eq!(rule("29/02/1900"), DateRule::DayOutOfRange);
        assert_eq!(rule("1948-13-01"), DateRule::MonthOutOfRange);
        assert_eq!(rule("00/03/1948"), DateRule::DayOutOfRange);
        assert_eq!(rule("07/03/48"), DateRule::TwoDigitYear);
        assert_eq!(rule("07-03-48"), DateRule::TwoDigitYear);
        assert_eq!(rule("070348"), DateRule::TwoDigitYear);
        assert_eq!(rule("7th March 1948"), DateRule::UnknownFormat);
        assert_eq!(rule("1948/03-07"), DateRule::UnknownFormat);
        assert_eq!(rule("1948-03-07-01"), DateRule::UnknownFormat);
        assert!(Date::parse("29/02/2000").is_ok());
    }

    #[test]
    fn birth_dates_must_be_in_the_past_and_plausible() {
        let today = Date::new(2026, 11, 21).unwrap();
        assert!(Date::parse_birth_date("21/11/2026", today).is_ok());
        assert_eq!(
            Date::parse_birth_date("22/11/2026", today),
            Err(Error::Date(DateRule::InFuture))
        );
        assert_eq!(
            Date::parse_birth_date("1849-12-31", today),
            Err(Error::Date(DateRule::TooOld))
        );
    }

    #[test]
    fn weekdays_and_ages() {
        assert_eq!(Date::new(2026, 11, 21).unwrap().weekday(), 5); // a Saturday
        let dob = Date::new(1948, 3, 7).unwrap();
        assert_eq!(dob.years_until(Date::new(2026, 3, 6).unwrap()), 77);
        assert_eq!(dob.years_until(Date::new(2026, 3, 7).unwrap()), 78);
    }

    fn valid_date() -> impl Strategy<Value = Date> {
        (1850i32..2100, 1u8..=12, 1u8..=31)
            .prop_filter_map("no such day", |(y, m, d)| Date::new(y, m, d).ok())
    }

    proptest! {
        #[test]
        fn every_layout_round_trips(d in valid_date()) {
            for s in [d.to_string(), d.to_uk_slashed(), d.to_uk_dashed(), d.to_compact()] {
                prop_assert_eq!(Date::parse(&s).unwrap(), d);
            }
        }

        #[test]
        fn day_counts_round_trip(days in -80_000i64..80_000) {
            let d = Date::from_days_since_epoch(days);
            prop_assert_eq!(d.days_since_epoch(), days);
            prop_assert!(Date::new(d.year(), d.month(), d.day()).is_ok());
            prop_assert_eq!(d.add_days(1) > d, true);
        }

        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Date::parse(&s);
        }
    }
}
