//! The partner datasets, who each of them knows, and the ids they give.

use crate::population::{Household, Resident};
use crate::rng::{Permutation, Rng};

/// A partner dataset. Its name is the file stem of its extract and the
/// `source` in `truth.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Adult social care case management system (CSV).
    SocialCare,
    /// GP registrations as FHIR R4 UK Core Patient resources (JSON Lines).
    Gp,
    /// Fire and rescue prevention and incident records (CSV).
    Fire,
    /// District council housing and council tax (CSV).
    District,
    /// Police vulnerable-person notes (CSV).
    Police,
    /// Library members (CSV).
    Libraries,
}

impl Source {
    /// Every partner dataset.
    pub const ALL: [Source; 6] = [
        Source::SocialCare,
        Source::Gp,
        Source::Fire,
        Source::District,
        Source::Police,
        Source::Libraries,
    ];

    /// The source name and file stem, `social_care`.
    pub fn name(self) -> &'static str {
        match self {
            Source::SocialCare => "social_care",
            Source::Gp => "gp_registrations",
            Source::Fire => "fire_rescue",
            Source::District => "district_council",
            Source::Police => "police_vulnerable",
            Source::Libraries => "libraries",
        }
    }

    /// The extract's file name, `social_care.csv`.
    pub fn file_name(self) -> String {
        match self {
            Source::Gp => format!("{}.jsonl", self.name()),
            _ => format!("{}.csv", self.name()),
        }
    }

    /// The contact events file name, `social_care_events.csv`.
    pub fn events_file_name(self) -> String {
        format!("{}_events.csv", self.name())
    }

    /// Whether the extract carries NHS numbers.
    pub fn has_nhs_number(self) -> bool {
        matches!(self, Source::SocialCare | Source::Gp | Source::Fire)
    }

    /// Whether the partner is the NHS (whose NHS numbers are never missing).
    pub fn is_health(self) -> bool {
        self == Source::Gp
    }

    /// Whether the partner would know this resident.
    pub fn knows(
        self,
        r: &Resident,
        h: &Household,
        index_in_household: usize,
        rng: &mut Rng,
    ) -> bool {
        let a = &r.attrs;
        match self {
            Source::Gp => rng.chance(0.97),
            Source::SocialCare => {
                if r.sensors || (h.planted_risk && r.age >= 75) {
                    return true;
                }
                let base = match r.age {
                    0..=17 => 0.0,
                    18..=64 => 0.02,
                    65..=74 => 0.1,
                    75..=84 => 0.25,
                    _ => 0.5,
                };
                rng.chance(if a.limited_mobility {
                    (base + 0.3f64).min(0.9)
                } else {
                    base
                })
            }
            Source::Fire => {
                if a.previous_fire {
                    return rng.chance(0.9);
                }
                if h.planted_risk {
                    return rng.chance(0.1);
                }
                rng.chance(match r.age {
                    0..=17 => 0.0,
                    18..=64 => 0.02,
                    _ => 0.12,
                })
            }
            Source::District => {
                if r.age < 18 {
                    return false;
                }
                if h.planted_risk {
                    return true;
                }
                rng.chance(match index_in_household {
                    0 => 0.95,
                    1 => 0.5,
                    _ => 0.1,
                })
            }
            Source::Police => {
                if r.age < 16 {
                    return false;
                }
                let p = if a.hoarding_concern {
                    0.2
                } else if r.age >= 80 && a.lives_alone {
                    0.05
                } else {
                    0.008
                };
                rng.chance(p)
            }
            Source::Libraries => rng.chance(match r.age {
                0..=4 => 0.05,
                5..=17 => 0.25,
                18..=64 => 0.16,
                _ => 0.22,
            }),
        }
    }
}

/// Hands out a partner's record ids: unique, and in no telling order.
#[derive(Debug, Clone)]
pub struct IdAllocator {
    source: Source,
    perm: Permutation,
    next: u64,
}

impl IdAllocator {
    /// An allocator for `source` under `seed`.
    pub fn new(source: Source, seed: u64) -> Self {
        let mut rng = Rng::derive(seed, 0x1D, source as u64);
        Self {
            source,
            perm: Permutation::of_power_of_ten(100_000_000, &mut rng),
            next: 0,
        }
    }

    /// The next id (GP ids are UUIDs drawn from `rng`).
    pub fn next(&mut self, rng: &mut Rng) -> String {
        let n = self.perm.apply(self.next);
        self.next += 1;
        match self.source {
            Source::SocialCare => format!("{n:08}"),
            Source::Gp => rng.uuid(),
            Source::Fire => format!("NFRS-{n:08}"),
            Source::District => format!("CT{n:08}"),
            Source::Police => format!("PV{n:08}"),
            Source::Libraries => format!("29{n:08}"),
        }
    }
}
