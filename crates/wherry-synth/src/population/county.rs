//! The county's sequential state: households made one at a time, with
//! their addresses, residents, NHS numbers and UPRNs.

use super::*;

#[derive(Debug)]
struct Street {
    name: String,
    village: Option<&'static str>,
    postcode: String,
    next_number: u32,
    remaining: u32,
}

/// The county's sequential state: ids handed out so far and streets being
/// filled. Everything random comes from the household's own stream.
pub struct County {
    as_of: Date,
    districts: Weighted,
    families: Weighted,
    /// Given-name weights per sex (female, male) and era.
    given: [[Weighted; 4]; 2],
    suffixes: Weighted,
    streets: Vec<Option<Street>>,
    used_postcodes: HashSet<String>,
    nhs_perm: Permutation,
    nhs_next: u64,
    uprn_perm: Permutation,
    uprn_next: u64,
    entities: u64,
    sensor_rate: f64,
}

/// Household types with their share of households.
const HOUSEHOLD_TYPES: &[(HouseholdType, f64)] = &[
    (HouseholdType::OlderSingle, 0.17),
    (HouseholdType::OlderCouple, 0.125),
    (HouseholdType::Single, 0.14),
    (HouseholdType::Couple, 0.16),
    (HouseholdType::Family, 0.26),
    (HouseholdType::Shared, 0.04),
    (HouseholdType::MultiGeneration, 0.035),
    (HouseholdType::AdultChildren, 0.07),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HouseholdType {
    OlderSingle,
    OlderCouple,
    Single,
    Couple,
    Family,
    Shared,
    MultiGeneration,
    AdultChildren,
}

/// Weights for a decade's given names, listed from the commonest: the first
/// about six times as common as the thirtieth.
fn fashion(names: &[&str]) -> Weighted {
    Weighted::new((0..names.len()).map(|rank| 1.0 / (rank as f64 + 6.0)))
}

fn older_age(rng: &mut Rng) -> i32 {
    (65.0 + rng.exponential(11.0)).min(104.0) as i32
}

impl County {
    /// A county for `seed`, with ages taken on `as_of`.
    pub fn new(seed: u64, as_of: Date, sensor_rate: f64) -> Self {
        let mut rng = Rng::derive(seed, 0xC0, 0);
        Self {
            as_of,
            districts: Weighted::new(DISTRICTS.iter().map(|d| d.weight)),
            families: Weighted::new(tables::FAMILY.iter().map(|f| f.1)),
            given: [tables::FEMALE, tables::MALE].map(|eras| eras.map(fashion)),
            suffixes: Weighted::new(tables::STREET_SUFFIXES.iter().map(|s| s.1)),
            streets: DISTRICTS.iter().map(|_| None).collect(),
            used_postcodes: HashSet::new(),
            nhs_perm: Permutation::of_power_of_ten(100_000_000, &mut rng),
            nhs_next: 0,
            uprn_perm: Permutation::of_power_of_ten(100_000_000, &mut rng),
            uprn_next: 0,
            entities: 0,
            sensor_rate,
        }
    }

    /// The next household, with at most `max_residents` people.
    pub fn household(&mut self, index: u64, rng: &mut Rng, max_residents: usize) -> Household {
        let kind = HOUSEHOLD_TYPES
            [rng.weighted(&HOUSEHOLD_TYPES.iter().map(|h| h.1).collect::<Vec<_>>())]
        .0;
        let address = self.address(rng);
        let previous_address = rng.chance(0.12).then(|| self.address_elsewhere(rng));
        let mut residents = self.members(kind, rng);
        residents.truncate(max_residents.max(1));
        if index == 0 {
            self.plant_tour_resident(&mut residents[0]);
        }
        let tenure = match kind {
            HouseholdType::Shared => Tenure::Hmo,
            _ => match rng.weighted(&[0.64, 0.19, 0.17]) {
                0 => Tenure::Owner,
                1 => Tenure::PrivateRented,
                _ => Tenure::SocialRented,
            },
        };
        let district = &DISTRICTS[address.district];
        let landline = rng
            .chance(if residents.iter().any(|r| r.age >= 65) {
                0.75
            } else {
                0.35
            })
            .then(|| format!("{} {:06}", district.area_code, rng.range(200_000, 999_999)));
        let alone = residents.len() == 1;
        for r in &mut residents {
            r.attrs.lives_alone = alone;
            if r.phone.is_none() && r.age >= 16 {
                r.phone = landline.clone();
            }
        }
        let mut h = Household {
            id: format!("H{index:07}"),
            address,
            previous_address,
            tenure,
            landline,
            residents,
            planted_risk: false,
        };
        self.attributes(&mut h, rng);
        h
    }

    /// The README's and the search page's example is a real resident of
    /// every county: the first household's first member becomes Margaret
    /// Thrower, born 7 March 1948, with home sensors wherever the county has
    /// any (so adult social care, who arranged them, always knows her). No
    /// random draw is added, so the rest of the county is as it would be.
    fn plant_tour_resident(&self, r: &mut Resident) {
        let dob = Date::new(1948, 3, 7).expect("a real date");
        r.given = "Margaret";
        r.middle = Some("Rose");
        r.family = "Thrower".into();
        r.sex = Sex::Female;
        r.dob = dob;
        r.age = dob.years_until(self.as_of);
        r.sensors = self.sensor_rate > 0.0;
    }

    fn members(&mut self, kind: HouseholdType, rng: &mut Rng) -> Vec<Resident> {
        let family = self.family_name(rng);
        let mut out = Vec::new();
        let couple = |this: &mut Self, rng: &mut Rng, age_a: i32, out: &mut Vec<Resident>| {
            let same_sex = rng.chance(0.04);
            let sex_a = if rng.chance(0.5) {
                Sex::Male
            } else {
                Sex::Female
            };
            let sex_b = if same_sex {
                sex_a
            } else if sex_a == Sex::Male {
                Sex::Female
            } else {
                Sex::Male
            };
            let age_b = (age_a + rng.range(-6, 7) as i32).clamp(18, 104);
            let share = rng.chance(0.78);
            let a = this.person(rng, sex_a, age_a, family.clone(), None);
            let (fam_b, prev_b) = if share {
                (family.clone(), Some(this.family_name(rng)))
            } else {
                (this.family_name(rng), None)
            };
            // The one who changed name is usually the woman.
            let (a, b) = if share && sex_a == Sex::Female && sex_b == Sex::Male {
                let b = this.person(rng, sex_b, age_b, family.clone(), None);
                let mut a = a;
                a.previous_family = prev_b;
                (a, b)
            } else {
                (a, this.person(rng, sex_b, age_b, fam_b, prev_b))
            };
            out.push(a);
            out.push(b);
        };
        match kind {
            HouseholdType::OlderSingle => {
                let sex = if rng.chance(0.64) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let prev = (sex == Sex::Female && rng.chance(0.7)).then(|| self.family_name(rng));
                let age = older_age(rng);
                out.push(self.person(rng, sex, age, family.clone(), prev));
            }
            HouseholdType::OlderCouple => {
                let age = older_age(rng).min(96);
                couple(self, rng, age, &mut out);
            }
            HouseholdType::Single => {
                let sex = if rng.chance(0.5) {
                    Sex::Male
                } else {
                    Sex::Female
                };
                let prev = (sex == Sex::Female && rng.chance(0.15)).then(|| self.family_name(rng));
                let age = rng.range(18, 65) as i32;
                out.push(self.person(rng, sex, age, family.clone(), prev));
            }
            HouseholdType::Couple => {
                let age = rng.range(22, 65) as i32;
                couple(self, rng, age, &mut out);
            }
            HouseholdType::Family => {
                let age = rng.range(24, 52) as i32;
                if rng.chance(0.75) {
                    couple(self, rng, age, &mut out);
                } else {
                    let sex = if rng.chance(0.85) {
                        Sex::Female
                    } else {
                        Sex::Male
                    };
                    let prev =
                        (sex == Sex::Female && rng.chance(0.3)).then(|| self.family_name(rng));
                    out.push(self.person(rng, sex, age, family.clone(), prev));
                }
                let parent_family = out[0].family.clone();
                for _ in 0..rng.weighted(&[0.0, 0.4, 0.42, 0.13, 0.05]) {
                    let child_age = rng.range(0, (age - 17).clamp(1, 18) as i64) as i32;
                    let sex = if rng.chance(0.51) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    out.push(self.person(rng, sex, child_age, parent_family.clone(), None));
                }
            }
            HouseholdType::Shared => {
                for _ in 0..rng.range(3, 6) {
                    let sex = if rng.chance(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    let fam = self.family_name(rng);
                    let age = rng.range(18, 41) as i32;
                    out.push(self.person(rng, sex, age, fam, None));
                }
            }
            HouseholdType::MultiGeneration => {
                let age = rng.range(40, 61) as i32;
                couple(self, rng, age, &mut out);
                let sex = if rng.chance(0.7) {
                    Sex::Female
                } else {
                    Sex::Male
                };
                let prev = (sex == Sex::Female).then(|| self.family_name(rng));
                let elder_age = (age + rng.range(22, 35) as i32).min(104);
                let elder_family = if rng.chance(0.5) {
                    out[0].family.clone()
                } else {
                    self.family_name(rng)
                };
                out.push(self.person(rng, sex, elder_age, elder_family, prev));
                if rng.chance(0.4) {
                    let sex = if rng.chance(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    let fam = out[0].family.clone();
                    let child_age = rng.range(5, 18) as i32;
                    out.push(self.person(rng, sex, child_age, fam, None));
                }
            }
            HouseholdType::AdultChildren => {
                let age = rng.range(45, 66) as i32;
                couple(self, rng, age, &mut out);
                let fam = out[0].family.clone();
                for _ in 0..rng.range(1, 3) {
                    let sex = if rng.chance(0.5) {
                        Sex::Male
                    } else {
                        Sex::Female
                    };
                    let child_age = rng.range(18, 31) as i32;
                    out.push(self.person(rng, sex, child_age, fam.clone(), None));
                }
            }
        }
        out
    }

    fn person(
        &mut self,
        rng: &mut Rng,
        sex: Sex,
        age: i32,
        family: String,
        previous_family: Option<String>,
    ) -> Resident {
        self.entities += 1;
        let entity_id = format!("E{:07}", self.entities);
        // A birthday somewhere in the year that gives this age on `as_of`.
        let dob = self
            .as_of
            .add_days(-(i64::from(age) * 36525 / 100) - rng.range(0, 365));
        let age = dob.years_until(self.as_of);
        let era = tables::ERA_STARTS
            .iter()
            .rposition(|&y| dob.year() >= y)
            .unwrap_or(0);
        let given = self.given_name(rng, sex, era);
        let middle = rng
            .chance(0.55)
            .then(|| self.given_name(rng, sex, era))
            .filter(|m| *m != given);
        let nhs = self.nhs_number();
        let mobile_rate = match age {
            0..=12 => 0.0,
            13..=17 => 0.7,
            18..=69 => 0.85,
            70..=79 => 0.6,
            _ => 0.3,
        };
        let phone = rng.chance(mobile_rate).then(|| {
            format!(
                "07{:03} {:06}",
                rng.range(400, 1000),
                rng.range(0, 1_000_000)
            )
        });
        let email_rate = match age {
            0..=15 => 0.0,
            16..=69 => 0.7,
            _ => 0.3,
        };
        let email = rng.chance(email_rate).then(|| {
            let g = wherry_core::name::normalise(given).replace(' ', "");
            let f = wherry_core::name::normalise(&family).replace(' ', "");
            let domain = rng.pick(&["example.com", "example.org", "example.net"]);
            // Mailboxes are unique: the resident's number keeps namesakes apart.
            let n = self.entities;
            match rng.below(4) {
                0 => format!("{g}.{f}{n}@{domain}"),
                1 => format!("{}{f}{n}@{domain}", &g[..1]),
                2 => format!("{f}.{g}{n}@{domain}"),
                _ => format!("{g}{n}@{domain}"),
            }
        });
        let sensors = age >= 75 && rng.chance(self.sensor_rate);
        Resident {
            entity_id,
            given,
            middle,
            family,
            previous_family,
            sex,
            dob,
            age,
            nhs,
            phone,
            email,
            attrs: Attributes::default(),
            sensors,
        }
    }

    fn attributes(&mut self, h: &mut Household, rng: &mut Rng) {
        let previous_fire = rng.chance(0.008);
        for r in &mut h.residents {
            let a = &mut r.attrs;
            let adult = r.age >= 18;
            a.smoker = adult && rng.chance(if r.age >= 65 { 0.08 } else { 0.14 });
            a.limited_mobility = rng.chance(match r.age {
                0..=64 => 0.03,
                65..=79 => 0.15,
                _ => 0.4,
            });
            a.oxygen_therapy = adult && rng.chance(if r.age >= 75 { 0.02 } else { 0.002 });
            a.hoarding_concern = r.age >= 50
                && rng.chance(if a.lives_alone && r.age >= 75 {
                    0.012
                } else {
                    0.004
                });
            a.previous_fire = previous_fire;
        }
        // Plant a high-risk home: an older person alone, smoking, with limited
        // mobility, in rented housing, with more risks on top.
        if h.residents.len() == 1 && h.residents[0].age >= 75 && rng.chance(0.045) {
            h.planted_risk = true;
            if h.tenure == Tenure::Owner {
                h.tenure = Tenure::PrivateRented;
            }
            let a = &mut h.residents[0].attrs;
            a.smoker = true;
            a.limited_mobility = true;
            a.oxygen_therapy = rng.chance(0.5);
            a.hoarding_concern = rng.chance(0.5);
            a.previous_fire = a.previous_fire || rng.chance(0.3);
        }
    }

    /// A given name: mostly the decade's fashions, the commonest most often
    /// (the lists run from the commonest), sometimes a name of any decade.
    fn given_name(&self, rng: &mut Rng, sex: Sex, era: usize) -> &'static str {
        let female = sex == Sex::Female;
        if rng.chance(tables::GIVEN_ANY_SHARE) {
            let any: &[&str] = if female {
                tables::FEMALE_ANY
            } else {
                tables::MALE_ANY
            };
            return any[rng.below(any.len() as u64) as usize];
        }
        let table = if female {
            &self.given[0][era]
        } else {
            &self.given[1][era]
        };
        let names = if female {
            tables::FEMALE[era]
        } else {
            tables::MALE[era]
        };
        names[table.sample(rng)]
    }

    fn family_name(&mut self, rng: &mut Rng) -> String {
        let base = if !rng.chance(tables::TAIL_SHARE) {
            tables::FAMILY[self.families.sample(rng)].0.to_string()
        } else if rng.chance(tables::TAIL_ELSEWHERE) {
            let (stems, endings) = rng.pick(tables::ELSEWHERE);
            format!("{}{}", rng.pick(stems), rng.pick(endings))
        } else {
            format!(
                "{}{}",
                rng.pick(tables::TAIL_STEMS),
                rng.pick(tables::TAIL_ENDINGS)
            )
        };
        if rng.chance(0.02) {
            let other = tables::FAMILY[self.families.sample(rng)].0;
            if other != base {
                return format!("{base}-{other}");
            }
        }
        base
    }

    /// A unique NHS number beginning with 9: a range never issued to
    /// patients in England, so synthetic numbers cannot be anyone's.
    fn nhs_number(&mut self) -> NhsNumber {
        loop {
            assert!(
                self.nhs_next < 100_000_000,
                "ran out of synthetic NHS numbers"
            );
            let mut x = self.nhs_perm.apply(self.nhs_next);
            self.nhs_next += 1;
            let mut body = [9u8, 0, 0, 0, 0, 0, 0, 0, 0];
            for d in body[1..].iter_mut().rev() {
                *d = (x % 10) as u8;
                x /= 10;
            }
            if let Some(nhs) = NhsNumber::from_body(body) {
                return nhs;
            }
        }
    }

    fn uprn(&mut self) -> String {
        let n = self.uprn_perm.apply(self.uprn_next);
        self.uprn_next += 1;
        format!("1000{n:08}")
    }

    fn address(&mut self, rng: &mut Rng) -> Address {
        let district = self.districts.sample(rng);
        let street = match self.streets[district].take() {
            Some(s) if s.remaining > 0 => s,
            _ => self.new_street(district, rng),
        };
        let mut street = street;
        let number = street.next_number;
        street.next_number += if rng.chance(0.7) { 1 } else { 2 };
        street.remaining -= 1;
        let line1 = format!("{number} {}", street.name);
        let address = Address {
            uprn: self.uprn(),
            line1,
            village: street.village,
            town: DISTRICTS[district].town,
            postcode: street.postcode.clone(),
            district,
        };
        self.streets[district] = Some(street);
        address
    }

    /// An address somewhere else in the county, for people who moved: a
    /// house on a street that already exists there, or on a new one.
    fn address_elsewhere(&mut self, rng: &mut Rng) -> Address {
        let district = self.districts.sample(rng);
        let (name, village, postcode) = match &self.streets[district] {
            Some(s) => (s.name.clone(), s.village, s.postcode.clone()),
            None => {
                let s = self.new_street(district, rng);
                let t = (s.name.clone(), s.village, s.postcode.clone());
                self.streets[district] = Some(s);
                t
            }
        };
        Address {
            uprn: self.uprn(),
            line1: format!("{} {name}", rng.range(1, 120)),
            village,
            town: DISTRICTS[district].town,
            postcode,
            district,
        }
    }

    fn new_street(&mut self, district: usize, rng: &mut Rng) -> Street {
        let d: &District = &DISTRICTS[district];
        let name = format!(
            "{} {}",
            rng.pick(tables::STREET_STEMS),
            tables::STREET_SUFFIXES[self.suffixes.sample(rng)].0
        );
        let village = (!d.villages.is_empty() && rng.chance(0.6)).then(|| *rng.pick(d.villages));
        // A fresh postcode unit; in a district that has used most of its
        // units, a unit is shared by two streets, as short streets often are.
        let u = tables::UNIT_LETTERS;
        let mut attempts = 0;
        let postcode = loop {
            let pc = format!(
                "{} {}{}{}",
                d.code,
                rng.below(10),
                u[rng.below(u.len() as u64) as usize] as char,
                u[rng.below(u.len() as u64) as usize] as char
            );
            attempts += 1;
            if self.used_postcodes.insert(pc.clone()) || attempts >= 50 {
                break pc;
            }
        };
        Street {
            name,
            village,
            postcode,
            next_number: rng.range(1, 20) as u32,
            remaining: rng.range(6, 40) as u32,
        }
    }
}
