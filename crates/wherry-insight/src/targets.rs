//! Fire targets from the hub: the county as the caller's purpose may see
//! it ([`wherry_access::Access::county`], a record at a time), its
//! residents grouped into homes by UPRN, each factor's evidence taken from
//! what the partners that share with the purpose say ([`HomesBuilder`],
//! pure), the homes
//! ranked ([`crate::fire::rank`]), and every resident of a listed home
//! recorded in the audit log before the list leaves ([`fire_targets`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use wherry_access::shared::{County, Events, Shared, Shown};
use wherry_access::{Access, Caller};
use wherry_core::{Date, Role};

use crate::fire::{Evidence, Factor, Home, Resident, Scope, Scored, age_evidence, rank};
use crate::weights::Weights;

/// The roles that may list fire targets: fire prevention's own staff.
pub const ROLES: &[Role] = &[Role::FirePrevention];

/// The most homes one list may hold (the CLI and the API refuse more,
/// and fewer than one).
pub const MAX_TOP: usize = 100_000;

/// Contact types that are a home fire safety visit.
pub const VISIT_TYPES: &[&str] = &["home_fire_safety_check", "safe_and_well_visit"];

/// How far back a visit counts (three years).
pub const VISIT_YEARS: i64 = 3;

/// Tenure codes that count as privately rented (`private_rented`).
pub const RENTED: &[&str] = &["private_rented", "hmo"];

/// A home on the list, with what a visit planner needs to find it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Target {
    /// Its place on the list, from 1.
    pub rank: usize,
    /// The score and its reasons.
    #[serde(flatten)]
    pub scored: Scored,
    /// The address, where the purpose may see one.
    pub address: Option<String>,
    /// The postcode, where the purpose may see it.
    pub postcode: Option<String>,
    /// The residents (their names where the purpose may see them).
    pub residents: Vec<Named>,
}

/// A resident of a listed home.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Named {
    /// Their id in the hub.
    pub person_id: String,
    /// Their name, where the purpose may see it.
    pub name: Option<String>,
}

/// The list and what it was drawn from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Targets {
    /// Homes scored.
    pub homes: usize,
    /// Residents placed in a home.
    pub residents: usize,
    /// Residents with records the purpose may see but no UPRN: not placed.
    pub without_uprn: usize,
    /// Factors no partner shares with the purpose (unknown for every home).
    #[serde(serialize_with = "codes")]
    pub never_shared: Vec<Factor>,
    /// The homes listed, highest score first.
    pub targets: Vec<Target>,
}

fn codes<S: serde::Serializer>(fs: &[Factor], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(fs.iter().map(|f| f.code()))
}

/// What is known of each home, and how to name it.
#[derive(Debug, Clone, Default)]
pub struct Homes {
    /// The homes, by UPRN.
    pub homes: Vec<Home>,
    /// Each home's address and postcode, by UPRN.
    pub places: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Each resident's name (of those placed in a home).
    pub names: BTreeMap<String, Option<String>>,
    /// Each resident's sources, as a set of positions in
    /// [`Homes::source_names`] (a bit each: a million residents' sources
    /// in a few megabytes).
    pub sources: BTreeMap<String, u64>,
    /// The sources' names, by position.
    pub source_names: Vec<String>,
    /// Residents with records but no UPRN.
    pub without_uprn: usize,
    /// Factors no source shares with the purpose.
    pub never_shared: Vec<Factor>,
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The value most of `values` agree on (ties: the least, so the same
/// records give the same answer).
pub(crate) fn agreed<T: Ord + Clone>(values: &[T]) -> Option<T> {
    let mut counts: BTreeMap<&T, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let most = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == most)
        .map(|(v, _)| v.clone())
}

impl Homes {
    /// `person`'s sources, by name.
    pub fn sources_of(&self, person: &str) -> BTreeSet<String> {
        let mask = self.sources.get(person).copied().unwrap_or(0);
        self.source_names
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << (*i).min(63)) != 0)
            .map(|(_, s)| s.clone())
            .collect()
    }
}

/// What the records say of one resident, kept while the county is read
/// (only what the model and the list need: data minimisation, and a
/// million residents in little memory).
#[derive(Default)]
struct Person {
    uprns: Vec<String>,
    dobs: Vec<Date>,
    names: Vec<String>,
    address: Option<(String, Option<String>)>,
    factors: BTreeMap<Factor, Evidence>,
    rented: Evidence,
    sources: u64,
}

/// The homes, built record by record as the county is read
/// ([`HomesBuilder::add`]), then grouped ([`HomesBuilder::finish`]).
#[derive(Default)]
pub struct HomesBuilder {
    people: BTreeMap<String, Person>,
    source_names: Vec<String>,
}

impl HomesBuilder {
    /// One record as the purpose may see it: each person factor from the
    /// attribute of the same name (true or false; a source that shares it
    /// but holds no value for the resident says nothing), the tenure from
    /// `tenure`, the UPRN, date of birth, name and address kept.
    pub fn add(&mut self, r: Shared) {
        let p = self.people.entry(r.person).or_default();
        if let Some(u) = text(r.fields.get("uprn")) {
            p.uprns.push(u);
        }
        if let Some(d) = text(r.fields.get("dob")) {
            // Kept as a date (a few bytes, not a string): a million
            // residents' dates of birth in little memory.
            p.dobs.extend(Date::parse(&d).ok());
        }
        let name = [r.fields.get("given_name"), r.fields.get("family_name")]
            .into_iter()
            .filter_map(text)
            .collect::<Vec<_>>()
            .join(" ");
        if !name.is_empty() {
            p.names.push(name);
        }
        if p.address.is_none()
            && let Some(a) = text(r.fields.get("address"))
        {
            p.address = Some((a, text(r.fields.get("postcode"))));
        }
        for (name, value) in &r.attributes {
            let evidence = match value {
                Value::Bool(b) => Evidence::known(*b),
                _ => Evidence::Unknown,
            };
            if let Some(f) = Factor::from_code(name).filter(|f| f.scope() == Scope::Person) {
                let e = p.factors.get(&f).copied().unwrap_or_default();
                p.factors.insert(f, e.or(evidence));
            }
            if name == "tenure"
                && let Some(t) = value.as_str()
            {
                p.rented = p.rented.or(Evidence::known(RENTED.contains(&t)));
            }
        }
        let at = match self.source_names.iter().position(|s| *s == r.source) {
            Some(at) => at,
            None => {
                self.source_names.push(r.source);
                self.source_names.len() - 1
            }
        };
        // (A county has a handful of partners; past 64 the rest share a bit.)
        p.sources |= 1 << at.min(63);
    }

    /// The homes on `today`: residents grouped by the UPRN their records
    /// agree on, the age bands from the date of birth, and a recent visit
    /// from `county`'s contact events (known only where a source shares
    /// events with the purpose).
    pub fn finish(self, county: &County, today: Date) -> Homes {
        let shared = |name: &str| county.views.values().any(|v| v.attributes.contains(name));
        let dob_shared = county.views.values().any(|v| v.fields.contains("dob"));
        let events_shared = county.views.values().any(|v| v.events);
        let never_shared: Vec<Factor> = Factor::ALL
            .into_iter()
            .filter(|f| match f {
                Factor::Aged80Plus | Factor::Aged65To79 => !dob_shared,
                Factor::PrivateRented => !shared("tenure"),
                Factor::NoRecentVisit => !events_shared,
                f => !shared(f.code()),
            })
            .collect();
        let since = today.add_days(-365 * VISIT_YEARS).to_string();
        let visited: BTreeSet<&str> = county
            .events
            .iter()
            .filter(|e| VISIT_TYPES.contains(&e.contact_type.as_str()) && e.date >= since)
            .map(|e| e.person.as_str())
            .collect();
        let mut out = Homes {
            never_shared,
            source_names: self.source_names,
            ..Default::default()
        };
        let mut by_uprn: BTreeMap<String, Home> = BTreeMap::new();
        for (person, p) in self.people {
            let Some(uprn) = agreed(&p.uprns) else {
                out.without_uprn += 1;
                continue;
            };
            // Names and sources only of those placed in a home: only they
            // can be listed.
            out.names.insert(person.clone(), agreed(&p.names));
            out.sources.insert(person.clone(), p.sources);
            let age = agreed(&p.dobs).map(|d| d.years_until(today));
            let mut factors = p.factors;
            factors.extend(age_evidence(age));
            let home = by_uprn.entry(uprn.clone()).or_insert_with(|| Home {
                uprn: uprn.clone(),
                ..Default::default()
            });
            let rented = home
                .factors
                .get(&Factor::PrivateRented)
                .copied()
                .unwrap_or_default();
            home.factors
                .insert(Factor::PrivateRented, rented.or(p.rented));
            if events_shared {
                // No visit to the home: no visit to any of its residents.
                let none_yet = home.factors.get(&Factor::NoRecentVisit) != Some(&Evidence::No);
                let none = none_yet && !visited.contains(person.as_str());
                home.factors
                    .insert(Factor::NoRecentVisit, Evidence::known(none));
            }
            let place = out.places.entry(uprn).or_default();
            if place.0.is_none()
                && let Some((a, pc)) = p.address
            {
                *place = (Some(a), pc);
            }
            home.residents.push(Resident {
                person_id: person,
                factors,
            });
        }
        out.homes = by_uprn.into_values().collect();
        out
    }
}

/// Where a factor's evidence is read, as the audit log names a field
/// shown: the date of birth, an attribute, or contact events.
pub fn evidence_field(f: Factor) -> String {
    match f {
        Factor::Aged80Plus | Factor::Aged65To79 => "dob".into(),
        Factor::PrivateRented => "attribute:tenure".into(),
        Factor::NoRecentVisit => "events".into(),
        f => format!("attribute:{}", f.code()),
    }
}

/// The `top` homes for `caller` (a fire prevention user, for the
/// `fire_prevention` purpose or another their role may use: the model
/// sees what that purpose may), scored with `weights` on `today`; each
/// resident of a listed home recorded in the audit log
/// (`fire_targets`) before the list is returned.
pub async fn fire_targets(
    access: &Access,
    caller: &Caller,
    weights: &Weights,
    top: usize,
    today: Date,
    request: &str,
) -> Result<Targets, wherry_access::Error> {
    let since = today.add_days(-365 * VISIT_YEARS).to_string();
    let mut builder = HomesBuilder::default();
    let county = access
        .county(
            caller,
            ROLES,
            "fire-prevention targeting",
            Events::of_types(&since, VISIT_TYPES),
            |r| builder.add(r),
        )
        .await?;
    let homes = builder.finish(&county, today);
    let ranked = rank(weights, &homes.homes, top);
    let residents: BTreeMap<&str, &Home> =
        homes.homes.iter().map(|h| (h.uprn.as_str(), h)).collect();
    let mut targets = Vec::new();
    let mut shown = Vec::new();
    for (i, scored) in ranked.into_iter().enumerate() {
        let home = residents[scored.uprn.as_str()];
        let (address, postcode) = homes.places.get(&scored.uprn).cloned().unwrap_or_default();
        let mut named = Vec::new();
        for r in &home.residents {
            let name = homes.names.get(&r.person_id).cloned().flatten();
            let mut fields: BTreeSet<String> = ["uprn".to_string()].into();
            if name.is_some() {
                fields.extend(["given_name".to_string(), "family_name".to_string()]);
            }
            if address.is_some() {
                fields.extend(["address".to_string(), "postcode".to_string()]);
            }
            fields.extend(
                scored
                    .reasons
                    .iter()
                    .filter(|x| {
                        x.person_id.is_none()
                            || x.person_id.as_deref() == Some(r.person_id.as_str())
                    })
                    .map(|x| evidence_field(x.factor)),
            );
            shown.push(Shown {
                person: r.person_id.clone(),
                sources: homes.sources_of(&r.person_id),
                fields,
            });
            named.push(Named {
                person_id: r.person_id.clone(),
                name,
            });
        }
        targets.push(Target {
            rank: i + 1,
            scored,
            address,
            postcode,
            residents: named,
        });
    }
    access
        .record_shown(caller, "fire_targets", &shown, request)
        .await?;
    Ok(Targets {
        homes: homes.homes.len(),
        residents: homes.homes.iter().map(|h| h.residents.len()).sum(),
        without_uprn: homes.without_uprn,
        never_shared: homes.never_shared,
        targets,
    })
}

/// The list as a chart: for each factor, how many listed homes it gave
/// points (most first); the factors no partner shares with the purpose
/// last, written "not shared" (never drawn as none).
pub fn chart(listed: &Targets) -> String {
    let mut bars: Vec<(String, Option<f64>)> = Factor::ALL
        .into_iter()
        .map(|f| {
            let homes = listed
                .targets
                .iter()
                .filter(|t| t.scored.reasons.iter().any(|r| r.factor == f))
                .count();
            let shown = (!listed.never_shared.contains(&f)).then_some(homes as f64);
            (f.label().to_string(), shown)
        })
        .collect();
    bars.sort_by(|a, b| b.1.unwrap_or(-1.0).total_cmp(&a.1.unwrap_or(-1.0)));
    crate::chart::rows_svg(
        "fire-targets-chart",
        &format!(
            "The {} homes listed: the factors that put them there",
            listed.targets.len()
        ),
        "homes listed with the factor",
        &bars,
        "not shared",
    )
}

/// The list as CSV for visit planning: `rank,uprn,score,ceiling,
/// completeness,address,postcode,residents,factors,unknown` (residents as
/// `Name (P…)`; factors as `code:points` and unknown factors as codes,
/// `;` separated).
pub fn to_csv(listed: &Targets) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "rank",
        "uprn",
        "score",
        "ceiling",
        "completeness",
        "address",
        "postcode",
        "residents",
        "factors",
        "unknown",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.map(str::to_string).to_vec()];
    for t in &listed.targets {
        let residents: Vec<String> = t
            .residents
            .iter()
            .map(|r| match &r.name {
                Some(n) => format!("{n} ({})", r.person_id),
                None => r.person_id.clone(),
            })
            .collect();
        let factors: Vec<String> = t
            .scored
            .reasons
            .iter()
            .map(|r| format!("{}:{}", r.factor.code(), r.points))
            .collect();
        let unknown: Vec<&str> = t.scored.unknown.iter().map(|f| f.code()).collect();
        rows.push(vec![
            t.rank.to_string(),
            t.scored.uprn.clone(),
            t.scored.score.to_string(),
            t.scored.ceiling.to_string(),
            format!("{:.2}", t.scored.completeness),
            t.address.clone().unwrap_or_default(),
            t.postcode.clone().unwrap_or_default(),
            residents.join("; "),
            factors.join(";"),
            unknown.join(";"),
        ]);
    }
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of strings")
}
