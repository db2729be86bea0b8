//! Residents, households and addresses: the truth the partner extracts are
//! noisy copies of.

use std::collections::HashSet;

use wherry_core::{Date, NhsNumber, Sex};

use crate::rng::{Permutation, Rng, Weighted};
use crate::tables::{self, DISTRICTS, District};

/// Housing tenure, as district councils record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenure {
    /// Owner occupied.
    Owner,
    /// Rented from a private landlord.
    PrivateRented,
    /// Rented from the council or a housing association.
    SocialRented,
    /// A house in multiple occupation.
    Hmo,
}

impl Tenure {
    /// The code written in extracts.
    pub fn code(self) -> &'static str {
        match self {
            Tenure::Owner => "owner",
            Tenure::PrivateRented => "private_rented",
            Tenure::SocialRented => "social_rented",
            Tenure::Hmo => "hmo",
        }
    }
}

/// A postal address with its UPRN.
#[derive(Debug, Clone)]
pub struct Address {
    /// Unique Property Reference Number, 12 digits.
    pub uprn: String,
    /// House number and street, `12 Mill Road`.
    pub line1: String,
    /// Village or suburb, if any.
    pub village: Option<&'static str>,
    /// Post town.
    pub town: &'static str,
    /// Normalised postcode, `NR18 0AB`.
    pub postcode: String,
    /// Index into [`DISTRICTS`].
    pub district: usize,
}

impl Address {
    /// Lines and town, comma separated, without the postcode.
    pub fn one_line(&self) -> String {
        match self.village {
            Some(v) => format!("{}, {}, {}", self.line1, v, self.town),
            None => format!("{}, {}", self.line1, self.town),
        }
    }
}

/// What the partners, between them, know about a resident.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attributes {
    /// Smokes.
    pub smoker: bool,
    /// Lives alone.
    pub lives_alone: bool,
    /// Has limited mobility.
    pub limited_mobility: bool,
    /// Uses home oxygen.
    pub oxygen_therapy: bool,
    /// Receives a social care package.
    pub care_package: bool,
    /// A hoarding concern has been raised.
    pub hoarding_concern: bool,
    /// Has had a fire at home.
    pub previous_fire: bool,
}

/// One resident, as they really are.
#[derive(Debug, Clone)]
pub struct Resident {
    /// Ground-truth id, `E0000001`.
    pub entity_id: String,
    /// First given name.
    pub given: &'static str,
    /// Middle name, if any.
    pub middle: Option<&'static str>,
    /// Family name now.
    pub family: String,
    /// Family name before marriage, if it changed.
    pub previous_family: Option<String>,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub dob: Date,
    /// Age on the county's reference date.
    pub age: i32,
    /// NHS number.
    pub nhs: NhsNumber,
    /// Telephone, if any.
    pub phone: Option<String>,
    /// Email, if any.
    pub email: Option<String>,
    /// Attributes the partners hold.
    pub attrs: Attributes,
    /// Has home sensors (consented to technology-enabled care).
    pub sensors: bool,
}

impl Resident {
    /// Honorific a council would print.
    pub fn title(&self) -> &'static str {
        match (self.sex, self.age) {
            (Sex::Male, a) if a < 16 => "Master",
            (Sex::Male, _) => "Mr",
            (Sex::Female, a) if a < 16 => "Miss",
            (Sex::Female, _) if self.previous_family.is_some() => "Mrs",
            (Sex::Female, _) => "Ms",
            _ => "Mx",
        }
    }
}

/// A household: people living at one address.
#[derive(Debug, Clone)]
pub struct Household {
    /// Ground-truth id, `H0000001`.
    pub id: String,
    /// Where they live.
    pub address: Address,
    /// Where they lived before, if they moved in the last few years.
    pub previous_address: Option<Address>,
    /// Tenure.
    pub tenure: Tenure,
    /// Landline, if any.
    pub landline: Option<String>,
    /// The residents.
    pub residents: Vec<Resident>,
    /// Planted as a high-risk home for fire prevention.
    pub planted_risk: bool,
}

mod county;

pub use county::County;

/// One home's fire risk from its residents' true attributes: the score and
/// the factors that made it. Weights are documented in docs/synthetic-county.md.
pub fn home_risk(h: &Household) -> (u32, Vec<&'static str>) {
    let mut best = (0, Vec::new());
    for r in &h.residents {
        let mut score = 0;
        let mut factors = Vec::new();
        let mut add = |cond: bool, points: u32, name: &'static str| {
            if cond {
                score += points;
                factors.push(name);
            }
        };
        add((75..85).contains(&r.age), 2, "aged_75_84");
        add(r.age >= 85, 3, "aged_85_plus");
        add(r.attrs.lives_alone, 2, "lives_alone");
        add(r.attrs.smoker, 3, "smoker");
        add(r.attrs.limited_mobility, 2, "limited_mobility");
        add(r.attrs.oxygen_therapy, 3, "oxygen_therapy");
        add(r.attrs.hoarding_concern, 3, "hoarding_concern");
        add(r.attrs.previous_fire, 3, "previous_fire");
        add(
            matches!(h.tenure, Tenure::PrivateRented | Tenure::Hmo),
            1,
            "private_rented",
        );
        add(r.attrs.care_package, 1, "care_package");
        if score > best.0 {
            best = (score, factors);
        }
    }
    best
}

/// Homes scoring at least this are listed in `risk_truth.csv`.
pub const HIGH_RISK_SCORE: u32 = 10;
