//! Writes every file of a county, streaming household by household.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::events::{self, Practitioners};
use crate::extracts::{self, BadKind, fhir};
use crate::noise;
use crate::partners::{IdAllocator, Source};
use crate::population::{self, County, Household};
use crate::rng::Rng;
use crate::sensors::{self, SensorHome};
use crate::{Config, Error, GENERATOR, Stage, Summary};

/// A buffered file that remembers its path (for errors) and counts lines.
struct Out {
    path: PathBuf,
    w: BufWriter<File>,
    lines: u64,
}

impl Out {
    fn create(path: PathBuf) -> Result<Self, Error> {
        let f = File::create(&path).map_err(Error::io(&path))?;
        Ok(Self {
            w: BufWriter::with_capacity(1 << 18, f),
            path,
            lines: 0,
        })
    }

    fn bytes(&mut self, b: &[u8]) -> Result<(), Error> {
        self.lines += b.iter().filter(|&&c| c == b'\n').count() as u64;
        self.w.write_all(b).map_err(Error::io(&self.path))
    }

    fn row(&mut self, fields: &[impl AsRef<str>]) -> Result<(), Error> {
        let mut buf = Vec::with_capacity(256);
        extracts::write_csv_line(&mut buf, fields, None);
        self.bytes(&buf)
    }

    fn finish(mut self) -> Result<(), Error> {
        self.w.flush().map_err(Error::io(&self.path))
    }
}

const RESIDENT_HEADER: &[&str] = &[
    "entity_id",
    "household_id",
    "given_name",
    "middle_names",
    "family_name",
    "previous_family_name",
    "sex",
    "dob",
    "nhs_number",
    "address",
    "postcode",
    "uprn",
    "previous_address",
    "previous_postcode",
    "previous_uprn",
    "phone",
    "email",
    "tenure",
    "smoker",
    "lives_alone",
    "limited_mobility",
    "oxygen_therapy",
    "care_package",
    "hoarding_concern",
    "previous_fire",
    "sensors",
];

/// Writes a county into the existing, empty directory `dir`.
pub fn write_county(
    config: &Config,
    dir: &Path,
    progress: &mut dyn FnMut(Stage, u64),
) -> Result<Summary, Error> {
    let extracts_dir = dir.join("extracts");
    let truth_dir = dir.join("truth");
    let sensors_dir = dir.join("sensors");
    for d in [&extracts_dir, &truth_dir, &sensors_dir] {
        std::fs::create_dir_all(d).map_err(Error::io(d))?;
    }
    let mut extract_out = Vec::new();
    let mut event_out = Vec::new();
    for s in Source::ALL {
        let mut o = Out::create(extracts_dir.join(s.file_name()))?;
        if s != Source::Gp {
            o.row(extracts::csv_header(s))?;
        }
        extract_out.push(o);
        let mut e = Out::create(extracts_dir.join(s.events_file_name()))?;
        e.row(&events::HEADER)?;
        event_out.push(e);
    }
    let mut truth = Out::create(truth_dir.join("truth.csv"))?;
    truth.row(&["source", "record_id", "entity_id"])?;
    let mut bad = Out::create(truth_dir.join("bad_rows.csv"))?;
    bad.row(&["source", "line", "reason"])?;
    let mut residents_out = Out::create(truth_dir.join("residents.csv"))?;
    residents_out.row(RESIDENT_HEADER)?;
    let mut risk = Out::create(truth_dir.join("risk_truth.csv"))?;
    risk.row(&[
        "household_id",
        "uprn",
        "postcode",
        "entity_ids",
        "score",
        "factors",
        "planted",
    ])?;

    // The canonical fields written: all, or record_id, source and those
    // `columns` names.
    let kept: Vec<usize> = wherry_core::Field::NAMES
        .iter()
        .enumerate()
        .filter(|(i, n)| {
            config.columns.is_empty() || *i < 2 || config.columns.iter().any(|c| c == *n)
        })
        .map(|(i, _)| i)
        .collect();
    let keep = |row: Vec<String>| -> Vec<String> { kept.iter().map(|&i| row[i].clone()).collect() };
    let mut canonical = if config.canonical || !config.columns.is_empty() {
        let d = dir.join("linkage");
        std::fs::create_dir_all(&d).map_err(Error::io(&d))?;
        let mut o = Out::create(d.join("records.csv"))?;
        o.row(&keep(wherry_core::Field::NAMES.map(String::from).to_vec()))?;
        Some(o)
    } else {
        None
    };
    let mut county = County::new(config.seed, config.as_of, config.sensor_rate);
    let mut ids: Vec<IdAllocator> = Source::ALL
        .iter()
        .map(|&s| IdAllocator::new(s, config.seed))
        .collect();
    let staff = Practitioners::new(config.seed, config.residents);
    let mut summary = Summary {
        generator: GENERATOR.into(),
        config: config.clone(),
        residents: 0,
        households: 0,
        residents_over_65: 0,
        records: BTreeMap::new(),
        bad_rows: BTreeMap::new(),
        events: BTreeMap::new(),
        high_risk_homes: 0,
        planted_high_risk_homes: 0,
        sensors: Default::default(),
    };
    let mut sensor_homes = Vec::new();
    let mut line = Vec::with_capacity(2048);
    let mut index = 0u64;
    while summary.residents < config.residents {
        let mut rng = Rng::derive(config.seed, 0x40, index);
        let remaining = (config.residents - summary.residents) as usize;
        let mut h = county.household(index, &mut rng, remaining);
        index += 1;

        // Who knows whom; social care decides care packages.
        let mut known: Vec<Vec<Source>> = Vec::with_capacity(h.residents.len());
        let mut has_sensors = false;
        for i in 0..h.residents.len() {
            if h.residents[i].sensors {
                if has_sensors {
                    h.residents[i].sensors = false;
                }
                has_sensors = true;
            }
            let sources: Vec<Source> = Source::ALL
                .iter()
                .copied()
                .filter(|s| s.knows(&h.residents[i], &h, i, &mut rng))
                .collect();
            if sources.contains(&Source::SocialCare) {
                let r = &mut h.residents[i];
                r.attrs.care_package = r.sensors || rng.chance(0.55);
            }
            known.push(sources);
        }

        for (i, r) in h.residents.iter().enumerate() {
            for &s in &known[i] {
                let copies = 1 + usize::from(rng.chance(config.rates.duplicate));
                for _ in 0..copies {
                    let si = s as usize;
                    let record_id = ids[si].next(&mut rng);
                    if r.sensors
                        && s == Source::SocialCare
                        && !sensor_homes
                            .iter()
                            .any(|x: &SensorHome| x.entity_id == r.entity_id)
                    {
                        sensor_homes.push(SensorHome {
                            entity_id: r.entity_id.clone(),
                            social_care_record_id: record_id.clone(),
                            uprn: h.address.uprn.clone(),
                            postcode: h.address.postcode.clone(),
                            district: h.address.district,
                        });
                    }
                    let entry =
                        noise::enter(s, record_id, r, &h, &config.rates, config.as_of, &mut rng);
                    let broken = rng
                        .chance(config.rates.bad_row)
                        .then(|| BadKind::pick(s, &mut rng));
                    line.clear();
                    if s == Source::Gp {
                        line.extend_from_slice(
                            fhir::patient_line(&entry, r, broken, &mut rng).as_bytes(),
                        );
                        line.push(b'\n');
                    } else {
                        let mut fields =
                            extracts::csv_fields(&entry, r, &h, config.as_of, &mut rng);
                        let raw = broken.and_then(|kind| {
                            extracts::break_csv(s, &mut fields, kind, r, &mut rng)
                        });
                        extracts::write_csv_line(&mut line, &fields, raw);
                    }
                    let out = &mut extract_out[si];
                    out.bytes(&line)?;
                    if let Some(kind) = broken {
                        bad.row(&[s.name(), &out.lines.to_string(), kind.code()])?;
                        *summary.bad_rows.entry(s.name().into()).or_default() += 1;
                    }
                    *summary.records.entry(s.name().into()).or_default() += 1;
                    if let (Some(o), None) = (canonical.as_mut(), broken) {
                        o.row(&keep(canonical_row(&entry, r)))?;
                    }
                    truth.row(&[s.name(), entry.record_id.as_str(), r.entity_id.as_str()])?;
                    for ev in events::events_for(&entry, r, config.as_of, &staff, &mut rng) {
                        let (team, phone) =
                            events::team_of(s, ev.service, &entry.town).unwrap_or_default();
                        event_out[si].row(&[
                            s.name(),
                            entry.record_id.as_str(),
                            &ev.date.to_string(),
                            ev.service,
                            ev.contact_type,
                            &ev.practitioner,
                            &team,
                            &phone,
                        ])?;
                        *summary.events.entry(s.name().into()).or_default() += 1;
                    }
                }
            }
            write_resident(&mut residents_out, r, &h)?;
            summary.residents += 1;
            summary.residents_over_65 += u64::from(r.age >= 65);
        }
        let (score, factors) = population::home_risk(&h);
        if score >= population::HIGH_RISK_SCORE {
            let ids: Vec<&str> = h.residents.iter().map(|r| r.entity_id.as_str()).collect();
            risk.row(&[
                h.id.as_str(),
                h.address.uprn.as_str(),
                h.address.postcode.as_str(),
                &ids.join(";"),
                &score.to_string(),
                &factors.join(";"),
                if h.planted_risk { "true" } else { "false" },
            ])?;
            summary.high_risk_homes += 1;
            summary.planted_high_risk_homes += u64::from(h.planted_risk);
        }
        summary.households += 1;
        progress(Stage::Residents, h.residents.len() as u64);
    }
    for o in extract_out.into_iter().chain(event_out) {
        o.finish()?;
    }
    for o in [truth, bad, residents_out, risk]
        .into_iter()
        .chain(canonical)
    {
        o.finish()?;
    }

    let mut devices = Out::create(sensors_dir.join("devices.csv"))?;
    let mut uplinks = Out::create(sensors_dir.join("uplinks.jsonl"))?;
    let mut sensor_truth = Out::create(truth_dir.join("sensor_truth.csv"))?;
    let uplinks_path = uplinks.path.clone();
    summary.sensors = sensors::generate(
        config.seed,
        config.as_of,
        config.residents,
        &sensor_homes,
        sensors::SensorFiles {
            devices: &mut devices.w,
            uplinks: &mut uplinks.w,
            truth: &mut sensor_truth.w,
        },
        &mut |days| progress(Stage::Sensors, days),
    )
    .map_err(Error::io(&uplinks_path))?;
    for o in [devices, uplinks, sensor_truth] {
        o.finish()?;
    }

    let path = dir.join("summary.json");
    let mut json = serde_json::to_vec_pretty(&summary).expect("serialisable summary");
    json.push(b'\n');
    std::fs::write(&path, json).map_err(Error::io(&path))?;
    Ok(summary)
}

/// A partner record in the canonical fields, keeping what that partner
/// does not hold empty (police hold no phone, libraries no street address)
/// and its own date layout; sex is mapped to its FHIR code, as ingest does.
fn canonical_row(e: &noise::Entry, r: &population::Resident) -> Vec<String> {
    use wherry_core::{Field, PersonRecord};
    let s = e.source;
    let holds = |sources: &[Source]| sources.contains(&s);
    let mut rec = PersonRecord::new(s.name(), e.record_id.as_str());
    rec.set(Field::NhsNumber, e.nhs.as_str());
    rec.set(Field::GivenName, e.given.as_str());
    if holds(&[Source::SocialCare, Source::Gp, Source::District]) {
        rec.set(Field::MiddleNames, e.middle.as_str());
    }
    rec.set(Field::FamilyName, e.family.as_str());
    if let Some(d) = e.dob {
        rec.set(Field::Dob, extracts::format_date(s, d));
    }
    if !holds(&[Source::Libraries, Source::District]) {
        rec.set(Field::Sex, r.sex.code());
    }
    if s != Source::Libraries {
        rec.set(Field::Address, e.address_line());
    }
    rec.set(Field::Postcode, e.postcode.as_str());
    if holds(&[
        Source::SocialCare,
        Source::Gp,
        Source::Fire,
        Source::District,
    ]) {
        rec.set(Field::Uprn, e.uprn.as_str());
    }
    if s != Source::Police {
        rec.set(Field::Phone, e.phone.as_str());
    }
    if holds(&[
        Source::SocialCare,
        Source::Gp,
        Source::District,
        Source::Libraries,
    ]) {
        rec.set(Field::Email, e.email.as_str());
    }
    Field::ALL
        .iter()
        .map(|&f| rec.get(f).unwrap_or("").to_string())
        .collect()
}

fn write_resident(out: &mut Out, r: &population::Resident, h: &Household) -> Result<(), Error> {
    let yes = |b: bool| if b { "true" } else { "false" };
    let prev = h.previous_address.as_ref();
    let a = &r.attrs;
    out.row(&[
        r.entity_id.as_str(),
        h.id.as_str(),
        r.given,
        r.middle.unwrap_or(""),
        r.family.as_str(),
        r.previous_family.as_deref().unwrap_or(""),
        r.sex.code(),
        &r.dob.to_string(),
        &r.nhs.to_string(),
        &h.address.one_line(),
        h.address.postcode.as_str(),
        h.address.uprn.as_str(),
        &prev.map(|p| p.one_line()).unwrap_or_default(),
        prev.map_or("", |p| p.postcode.as_str()),
        prev.map_or("", |p| p.uprn.as_str()),
        r.phone.as_deref().unwrap_or(""),
        r.email.as_deref().unwrap_or(""),
        h.tenure.code(),
        yes(a.smoker),
        yes(a.lives_alone),
        yes(a.limited_mobility),
        yes(a.oxygen_therapy),
        yes(a.care_package),
        yes(a.hoarding_concern),
        yes(a.previous_fire),
        yes(r.sensors),
    ])
}
