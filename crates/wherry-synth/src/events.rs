//! Contact events: each partner's contacts with a resident over the last two
//! years, with winter pressure and quieter weekends, and a practitioner who
//! is usually the same person for one resident.

use wherry_core::Date;

use crate::noise::Entry;
use crate::partners::Source;
use crate::population::Resident;
use crate::rng::Rng;
use crate::tables;

/// Days of history before the reference date.
pub const HISTORY_DAYS: i64 = 730;

/// The header of every events file.
pub const HEADER: [&str; 8] = [
    "source",
    "record_id",
    "date",
    "service",
    "contact_type",
    "practitioner",
    "team",
    "team_phone",
];

/// The team a partner's service works from in `town`, and the team's
/// telephone number, for the partners that share them (the GP practices
/// do not: their columns are empty). Made from the names alone, with no
/// random draw, so nothing else in the county changes.
pub fn team_of(source: Source, service: &str, town: &str) -> Option<(String, String)> {
    if source == Source::Gp {
        return None;
    }
    let name = match service {
        "older_people_team" => "Older People's Team",
        "occupational_therapy" => "Occupational Therapy",
        "reablement" => "Reablement Service",
        "safeguarding" => "Adult Safeguarding",
        "fire_prevention" => "Community Safety",
        "operational_response" => "Fire Control",
        "housing" => "Housing Options",
        "benefits" => "Benefits Team",
        "council_tax" => "Council Tax",
        "environmental_health" => "Environmental Health",
        "neighbourhood_policing" => "Safer Neighbourhood Team",
        "library" => "Library Service",
        _ => "Customer Services",
    };
    let h = crate::rng::stable_hash(&[source.name(), service, town]);
    Some((
        format!("{name}, {town}"),
        format!("01603 {:06}", 200_000 + h % 800_000),
    ))
}

/// One contact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    /// When.
    pub date: Date,
    /// Which service.
    pub service: &'static str,
    /// What kind of contact.
    pub contact_type: &'static str,
    /// Who made it.
    pub practitioner: String,
}

/// Staff of each partner, named like residents are.
#[derive(Debug, Clone)]
pub struct Practitioners {
    pools: Vec<Vec<String>>,
}

impl Practitioners {
    /// Staff pools sized for a county of `residents`.
    pub fn new(seed: u64, residents: u64) -> Self {
        let pools = Source::ALL
            .iter()
            .map(|&s| {
                let per_staff = match s {
                    Source::SocialCare => 400,
                    Source::Gp => 1500,
                    Source::Fire => 2500,
                    Source::District => 1500,
                    Source::Police => 3000,
                    Source::Libraries => 2500,
                };
                let n = (residents / per_staff).max(4);
                let mut rng = Rng::derive(seed, 0x57AF, s as u64);
                (0..n)
                    .map(|_| {
                        let names = if rng.chance(0.5) {
                            tables::FEMALE[2]
                        } else {
                            tables::MALE[2]
                        };
                        let family =
                            tables::FAMILY[rng.below(tables::FAMILY.len() as u64) as usize].0;
                        format!("{} {}", rng.pick(names), family)
                    })
                    .collect()
            })
            .collect();
        Self { pools }
    }

    fn pool(&self, s: Source) -> &[String] {
        &self.pools[Source::ALL
            .iter()
            .position(|x| *x == s)
            .expect("known source")]
    }
}

/// Services and contact types per partner, with relative weights.
fn kinds(source: Source) -> &'static [(&'static str, &'static str, f64)] {
    match source {
        Source::SocialCare => &[
            ("older_people_team", "home_visit", 4.0),
            ("older_people_team", "phone_call", 5.0),
            ("older_people_team", "review", 2.0),
            ("older_people_team", "assessment", 1.5),
            ("reablement", "home_visit", 2.0),
            ("occupational_therapy", "assessment", 1.0),
            ("safeguarding", "safeguarding_enquiry", 0.4),
        ],
        Source::Gp => &[
            ("primary_care", "telephone_consultation", 4.0),
            ("primary_care", "home_visit", 1.0),
            ("primary_care", "social_prescribing", 1.0),
        ],
        Source::Fire => &[
            ("fire_prevention", "safe_and_well_visit", 3.0),
            ("fire_prevention", "home_fire_safety_check", 2.0),
            ("fire_prevention", "smoke_alarm_fitting", 1.0),
        ],
        Source::District => &[
            ("housing", "repair_request", 3.0),
            ("housing", "tenancy_visit", 1.0),
            ("council_tax", "council_tax_enquiry", 3.0),
            ("benefits", "benefits_claim", 1.5),
            ("environmental_health", "environmental_health_visit", 0.3),
        ],
        Source::Police => &[
            ("neighbourhood_policing", "welfare_check", 2.0),
            ("neighbourhood_policing", "incident", 2.0),
            ("neighbourhood_policing", "scam_advice", 1.0),
        ],
        Source::Libraries => &[
            ("library", "visit", 6.0),
            ("library", "loan", 5.0),
            ("library", "digital_help", 1.0),
            ("library", "home_library_service", 0.3),
        ],
    }
}

/// Mean contacts a year for one record.
fn yearly_rate(source: Source, r: &Resident) -> f64 {
    match source {
        Source::SocialCare => 3.0 + if r.attrs.care_package { 8.0 } else { 0.0 },
        Source::Gp => 0.4 + if r.age >= 75 { 1.0 } else { 0.0 },
        Source::Fire => 0.4,
        Source::District => 0.8,
        Source::Police => 1.5,
        Source::Libraries => 4.0,
    }
}

/// How much busier than average a day is: winter pressure for health and
/// care, summer for libraries, quiet weekends for office services.
pub fn day_factor(source: Source, d: Date) -> f64 {
    let day_of_year =
        d.days_since_epoch() - Date::new(d.year(), 1, 1).expect("1 Jan").days_since_epoch();
    // Peaks in mid-January.
    let winter = (std::f64::consts::TAU * (day_of_year as f64 - 15.0) / 365.25).cos();
    let (amplitude, weekend) = match source {
        Source::SocialCare => (0.35, 0.3),
        Source::Gp => (0.4, 0.1),
        Source::Fire => (0.25, 1.0),
        Source::District => (0.1, 0.1),
        Source::Police => (-0.1, 1.0),
        Source::Libraries => (-0.15, 0.6),
    };
    let season = 1.0 + amplitude * winter;
    if d.weekday() >= 5 {
        season * weekend
    } else {
        season
    }
}

/// The contacts of one partner record, oldest first.
pub fn events_for(
    e: &Entry,
    r: &Resident,
    as_of: Date,
    staff: &Practitioners,
    rng: &mut Rng,
) -> Vec<Event> {
    let source = e.source;
    let pool = staff.pool(source);
    let lead = rng.pick(pool).clone();
    let n = rng.poisson(yearly_rate(source, r) * HISTORY_DAYS as f64 / 365.25);
    let weights: Vec<f64> = kinds(source).iter().map(|k| k.2).collect();
    let mut out = Vec::with_capacity(n as usize + 1);
    if source == Source::Fire && r.attrs.previous_fire {
        out.push(Event {
            date: as_of.add_days(-rng.range(30, HISTORY_DAYS)),
            service: "operational_response",
            contact_type: "incident_attendance",
            practitioner: rng.pick(pool).clone(),
        });
    }
    for _ in 0..n {
        let date = loop {
            let d = as_of.add_days(-rng.range(0, HISTORY_DAYS));
            if rng.f64() * 1.4 < day_factor(source, d) {
                break d;
            }
        };
        let (service, contact_type, _) = kinds(source)[rng.weighted(&weights)];
        let practitioner = if rng.chance(0.8) {
            lead.clone()
        } else {
            rng.pick(pool).clone()
        };
        out.push(Event {
            date,
            service,
            contact_type,
            practitioner,
        });
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winter_is_busier_than_summer_for_care_and_weekends_are_quiet() {
        let jan = Date::new(2026, 1, 14).unwrap(); // a Wednesday
        let jul = Date::new(2026, 7, 15).unwrap(); // a Wednesday
        assert!(day_factor(Source::SocialCare, jan) > 1.25 * day_factor(Source::SocialCare, jul));
        let sat = Date::new(2026, 1, 17).unwrap();
        assert!(day_factor(Source::SocialCare, sat) < day_factor(Source::SocialCare, jan));
        assert!(day_factor(Source::Libraries, jul) > day_factor(Source::Libraries, jan));
    }
}
