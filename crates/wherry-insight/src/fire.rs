//! Fire-prevention targeting: which homes a fire service's scarce home
//! fire safety visits should go to first, and why.
//!
//! A home's score is its home factors' points (tenure, no recent visit)
//! plus the points of its most at-risk resident (age, living alone,
//! smoking, mobility, oxygen, care, hoarding, alcohol, mental health, a
//! previous fire): a fire in the home endangers everyone in it, and the
//! resident least able to prevent or escape one decides how much a visit
//! is worth. Every point is explained ([`Reason`]).
//!
//! What the partners' agreements withhold from the caller's purpose is
//! [`Evidence::Unknown`]: it adds no points, it is listed with the home
//! ([`Scored::unknown`]), and the home's [`Scored::completeness`] says how
//! much of the model it could see; [`Scored::ceiling`] is the score the
//! home would have were every unknown factor present.

use std::collections::BTreeMap;
use std::fmt;

use crate::weights::Weights;

/// A factor the model weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Factor {
    /// Aged 80 or over.
    Aged80Plus,
    /// Aged 65 to 79.
    Aged65To79,
    /// Lives alone.
    LivesAlone,
    /// Smokes.
    Smoker,
    /// Limited mobility.
    LimitedMobility,
    /// Uses home oxygen.
    OxygenTherapy,
    /// Receives a care package.
    CarePackage,
    /// A hoarding concern was raised.
    HoardingConcern,
    /// A concern about alcohol or drug use was raised.
    AlcoholConcern,
    /// A mental-health concern was raised.
    MentalHealthConcern,
    /// Has had a fire at home.
    PreviousFire,
    /// The home is privately rented or a house in multiple occupation.
    PrivateRented,
    /// No home fire safety visit in the last three years.
    NoRecentVisit,
}

/// Whether a factor is about a resident or about the home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A resident's (the home takes its most at-risk resident's points).
    Person,
    /// The home's.
    Home,
}

impl Factor {
    /// Every factor, in the order reports list them.
    pub const ALL: [Factor; 13] = [
        Factor::Aged80Plus,
        Factor::Aged65To79,
        Factor::LivesAlone,
        Factor::Smoker,
        Factor::LimitedMobility,
        Factor::OxygenTherapy,
        Factor::CarePackage,
        Factor::HoardingConcern,
        Factor::AlcoholConcern,
        Factor::MentalHealthConcern,
        Factor::PreviousFire,
        Factor::PrivateRented,
        Factor::NoRecentVisit,
    ];

    /// The factor's name in weights files, CSV and the API.
    pub fn code(self) -> &'static str {
        match self {
            Factor::Aged80Plus => "aged_80_plus",
            Factor::Aged65To79 => "aged_65_to_79",
            Factor::LivesAlone => "lives_alone",
            Factor::Smoker => "smoker",
            Factor::LimitedMobility => "limited_mobility",
            Factor::OxygenTherapy => "oxygen_therapy",
            Factor::CarePackage => "care_package",
            Factor::HoardingConcern => "hoarding_concern",
            Factor::AlcoholConcern => "alcohol_concern",
            Factor::MentalHealthConcern => "mental_health_concern",
            Factor::PreviousFire => "previous_fire",
            Factor::PrivateRented => "private_rented",
            Factor::NoRecentVisit => "no_recent_visit",
        }
    }

    /// The factor as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Factor::Aged80Plus => "Aged 80 or over",
            Factor::Aged65To79 => "Aged 65 to 79",
            Factor::LivesAlone => "Lives alone",
            Factor::Smoker => "Smokes",
            Factor::LimitedMobility => "Limited mobility",
            Factor::OxygenTherapy => "Home oxygen",
            Factor::CarePackage => "Care package",
            Factor::HoardingConcern => "Hoarding concern",
            Factor::AlcoholConcern => "Alcohol or drug concern",
            Factor::MentalHealthConcern => "Mental-health concern",
            Factor::PreviousFire => "Previous fire at home",
            Factor::PrivateRented => "Privately rented or HMO",
            Factor::NoRecentVisit => "No fire safety visit in 3 years",
        }
    }

    /// Whose factor it is.
    pub fn scope(self) -> Scope {
        match self {
            Factor::PrivateRented | Factor::NoRecentVisit => Scope::Home,
            _ => Scope::Person,
        }
    }

    /// The factor named `code`.
    pub fn from_code(code: &str) -> Option<Factor> {
        Factor::ALL.into_iter().find(|f| f.code() == code)
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the caller's purpose lets the model know of a factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evidence {
    /// Present.
    Yes,
    /// Known to be absent.
    No,
    /// Not known: no partner that may tell this purpose says either way.
    #[default]
    Unknown,
}

impl Evidence {
    /// `Yes` or `No` from a known value.
    pub fn known(present: bool) -> Evidence {
        if present { Evidence::Yes } else { Evidence::No }
    }

    /// Two partners' evidence together: present if either says so, absent
    /// only if one says so and none says present, else unknown.
    pub fn or(self, other: Evidence) -> Evidence {
        match (self, other) {
            (Evidence::Yes, _) | (_, Evidence::Yes) => Evidence::Yes,
            (Evidence::No, _) | (_, Evidence::No) => Evidence::No,
            _ => Evidence::Unknown,
        }
    }
}

/// The age factors from an age in whole years, if the purpose may know
/// the date of birth.
pub fn age_evidence(age: Option<i32>) -> [(Factor, Evidence); 2] {
    match age {
        Some(a) => [
            (Factor::Aged80Plus, Evidence::known(a >= 80)),
            (Factor::Aged65To79, Evidence::known((65..80).contains(&a))),
        ],
        None => [
            (Factor::Aged80Plus, Evidence::Unknown),
            (Factor::Aged65To79, Evidence::Unknown),
        ],
    }
}

/// What is known of one resident: a factor not in `factors` is unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resident {
    /// The resident's id in the hub.
    pub person_id: String,
    /// Their person factors.
    pub factors: BTreeMap<Factor, Evidence>,
}

/// What is known of one home.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Home {
    /// The home's UPRN.
    pub uprn: String,
    /// Its residents.
    pub residents: Vec<Resident>,
    /// Its home factors: one not here is unknown.
    pub factors: BTreeMap<Factor, Evidence>,
}

/// One factor's points in a home's score.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reason {
    /// The factor.
    #[serde(serialize_with = "by_code")]
    pub factor: Factor,
    /// Its points.
    pub points: u32,
    /// The resident it is about (a person factor), or none (the home's).
    pub person_id: Option<String>,
}

fn by_code<S: serde::Serializer>(f: &Factor, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.code())
}

/// A home scored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scored {
    /// The home's UPRN.
    pub uprn: String,
    /// Its score: the points of [`Scored::reasons`].
    pub score: u32,
    /// The factors that gave it points, most first.
    pub reasons: Vec<Reason>,
    /// The score were every unknown factor present (of the resident whose
    /// ceiling is highest).
    pub ceiling: u32,
    /// The weighed factors unknown for the home or any of its residents.
    #[serde(serialize_with = "codes")]
    pub unknown: Vec<Factor>,
    /// The share of the home's weighed factors (the home's, and each
    /// resident's) that are known, 0 to 1.
    pub completeness: f64,
}

fn codes<S: serde::Serializer>(fs: &[Factor], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(fs.iter().map(|f| f.code()))
}

/// Scores `home` under `weights`.
pub fn score_home(weights: &Weights, home: &Home) -> Scored {
    let weighed: Vec<Factor> = Factor::ALL
        .into_iter()
        .filter(|f| weights.points(*f) > 0)
        .collect();
    let evidence =
        |map: &BTreeMap<Factor, Evidence>, f: Factor| map.get(&f).copied().unwrap_or_default();
    let (mut known, mut asked) = (0usize, 0usize);
    let mut unknown: Vec<Factor> = Vec::new();
    let mut note = |f: Factor, e: Evidence, known: &mut usize, asked: &mut usize| {
        *asked += 1;
        if e == Evidence::Unknown {
            if !unknown.contains(&f) {
                unknown.push(f);
            }
        } else {
            *known += 1;
        }
    };
    // The home's own factors.
    let mut reasons = Vec::new();
    let mut home_unknown = 0;
    for &f in weighed.iter().filter(|f| f.scope() == Scope::Home) {
        let e = evidence(&home.factors, f);
        note(f, e, &mut known, &mut asked);
        match e {
            Evidence::Yes => reasons.push(Reason {
                factor: f,
                points: weights.points(f),
                person_id: None,
            }),
            Evidence::Unknown => home_unknown += weights.points(f),
            Evidence::No => {}
        }
    }
    // Each resident's; the home takes the highest.
    let mut best: Option<(u32, Vec<Reason>)> = None;
    let mut best_ceiling = 0;
    for r in &home.residents {
        let mut points = 0;
        let mut theirs = Vec::new();
        let mut unknown_points = 0;
        for &f in weighed.iter().filter(|f| f.scope() == Scope::Person) {
            let e = evidence(&r.factors, f);
            note(f, e, &mut known, &mut asked);
            match e {
                Evidence::Yes => {
                    points += weights.points(f);
                    theirs.push(Reason {
                        factor: f,
                        points: weights.points(f),
                        person_id: Some(r.person_id.clone()),
                    });
                }
                Evidence::Unknown => unknown_points += weights.points(f),
                Evidence::No => {}
            }
        }
        // The two age bands cannot both hold: a ceiling counts the higher.
        if evidence(&r.factors, Factor::Aged80Plus) == Evidence::Unknown
            && evidence(&r.factors, Factor::Aged65To79) == Evidence::Unknown
        {
            unknown_points -= weights
                .points(Factor::Aged80Plus)
                .min(weights.points(Factor::Aged65To79));
        }
        best_ceiling = best_ceiling.max(points + unknown_points);
        if best.as_ref().is_none_or(|(p, _)| points > *p) {
            best = Some((points, theirs));
        }
    }
    if let Some((_, theirs)) = best {
        reasons.extend(theirs);
    }
    reasons.sort_by(|a, b| b.points.cmp(&a.points).then(a.factor.cmp(&b.factor)));
    let score: u32 = reasons.iter().map(|r| r.points).sum();
    let home_points = score
        - reasons
            .iter()
            .filter(|r| r.person_id.is_some())
            .map(|r| r.points)
            .sum::<u32>();
    unknown.sort();
    Scored {
        uprn: home.uprn.clone(),
        score,
        reasons,
        ceiling: home_points + home_unknown + best_ceiling,
        unknown,
        completeness: if asked == 0 {
            1.0
        } else {
            known as f64 / asked as f64
        },
    }
}

/// The `top` homes of `homes` by score (ties: the higher ceiling first,
/// then by UPRN, so the same evidence always gives the same list).
pub fn rank(weights: &Weights, homes: &[Home], top: usize) -> Vec<Scored> {
    let mut scored: Vec<Scored> = homes.iter().map(|h| score_home(weights, h)).collect();
    scored.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.ceiling.cmp(&a.ceiling))
            .then_with(|| a.uprn.cmp(&b.uprn))
    });
    scored.truncate(top);
    scored
}
