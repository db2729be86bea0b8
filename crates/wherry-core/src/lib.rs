//! Wherry's domain: the canonical person record and the UK identifiers every
//! other crate relies on.
//!
//! - [`NhsNumber`]: ten digits with a Modulus 11 check digit.
//! - [`Postcode`]: every UK format, normalised, with area, district and sector.
//! - [`Date`]: the layouts partners send, impossible and future dates refused.
//! - [`Name`]: the original kept beside a normalised form; [`aliases`] knows
//!   that Peggy is Margaret.
//! - [`PersonRecord`] and [`Field`]: the canonical fields.
//! - [`Purpose`], [`Role`] and [`Agreement`]: what data may be used for, by
//!   whom, and what each purpose may see of a source.
//! - [`PersonId`] and [`PersonChange`]: a resident's id in the hub, and the
//!   change feed's entries (created, merged, split, retired).
//! - [`clock`]: the time as the store and audit log keep it, and hex;
//!   [`localtime`]: UK local time (GMT or BST), which routines are lived in.
//!
//! Invariant: this crate does no I/O (the one exception is the clock, read
//! by [`clock::now`] and [`Date::today_utc`]). Errors name the rule that
//! failed and never the value, which is personal data.
//!
//! ```
//! use wherry_core::{Date, NhsNumber, Postcode};
//! assert!(NhsNumber::parse("943 476 5919").is_ok());
//! assert_eq!(Postcode::parse("nr13ab").unwrap().district(), "NR1");
//! let today = Date::new(2026, 11, 21).unwrap();
//! assert!(Date::parse_birth_date("31/02/1948", today).is_err());
//! ```

pub mod aliases;
pub mod clock;
pub mod date;
pub mod error;
pub mod localtime;
pub mod name;
pub mod nhs;
pub mod person;
pub mod postcode;
pub mod purpose;
pub mod record;

pub use date::Date;
pub use error::{DateRule, Error, NhsNumberRule, PostcodeRule};
pub use name::Name;
pub use nhs::NhsNumber;
pub use person::{PersonChange, PersonId};
pub use postcode::Postcode;
pub use purpose::{Agreement, Purpose, PurposeGrant, Role};
pub use record::{Field, PersonRecord, Sex, is_valid_uprn, looks_like_phone};
