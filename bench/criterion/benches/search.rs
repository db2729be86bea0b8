//! Resident search by a name alone, the way a call-centre advisor meets
//! it: a synthetic county of 100,000 residents ingested into SQLite and
//! linked exactly as `wherry demo` does, then 200 residents sampled from
//! the county's ground truth searched for through `wherry_hub::search`
//! (the path the API and the web UI take: the real-time index, then the
//! store for each record's person). Prints how often the right resident
//! comes first by exact name and by a name with one typo; the ceiling a
//! name alone allows (a resident who shares their full name with k others
//! can come first only one time in k+1 however good the search: the sum
//! of 1/(k+1) over the sample); how often they are in the first ten (from
//! where the advisor adds a date of birth); and the p50, p95 and maximum
//! time of a search.
//!
//! cargo bench -p wherry-bench --bench search                # 100,000 residents
//! WHERRY_BENCH_RESIDENTS=10000 WHERRY_BENCH_SEED=7 cargo bench -p wherry-bench --bench search   # the demo county

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use wherry_core::Date;
use wherry_hub::{Matcher, RunOptions, link_run};
use wherry_store::{RecordKey, Store};

/// Residents sampled.
const SAMPLE: usize = 200;

#[tokio::main]
async fn main() {
    let residents: u64 = std::env::var("WHERRY_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let seed: u64 = std::env::var("WHERRY_BENCH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(31);
    // Made afresh each run: a county kept from an earlier build would be
    // measured against whatever the synthetic county's tables were then.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("search-{residents}-{seed}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("the previous run's county removed");
    }
    let county = dir.join("county");
    let config = wherry_synth::Config {
        residents,
        seed,
        ..Default::default()
    };
    wherry_synth::generate(&config, &county, true, &mut |_, _| {}).expect("county");
    let db = dir.join("hub.db");
    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("store");
    let started = Instant::now();
    store.migrate().await.expect("migrate");
    ingest_all(&store, &county).await;
    link_run(&store, &RunOptions::default(), Arc::new(()))
        .await
        .expect("linked");
    eprintln!(
        "ingested and linked {residents} residents in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let matcher = Matcher::open(store.clone(), wherry_link::ReviewRange::default())
        .await
        .expect("matcher");

    let (sample, namesakes) = sample(&county);
    let ceiling: f64 = sample
        .iter()
        .map(|(_, g, f)| 1.0 / namesakes[&(g.clone(), f.clone())] as f64)
        .sum::<f64>()
        / sample.len() as f64;
    let persons = persons_of(&store, &county, &sample).await;
    for (label, typo) in [("exact name", false), ("one typo", true)] {
        let mut right = 0;
        let mut in_ten = 0;
        let mut times = Vec::with_capacity(sample.len());
        for (i, (entity, given, family)) in sample.iter().enumerate() {
            let (given, family) = if typo {
                if i % 2 == 0 {
                    (one_typo(given, i), family.clone())
                } else {
                    (given.clone(), one_typo(family, i))
                }
            } else {
                (given.clone(), family.clone())
            };
            let name = format!("{given} {family}");
            let fields = wherry_hub::search::fields(&[("name", Some(name.as_str()))])
                .expect("a valid search");
            let t = Instant::now();
            let found = wherry_hub::search::rank(&matcher, &fields, 10)
                .await
                .expect("searched");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if found
                .ranked
                .first()
                .is_some_and(|r| persons[entity].contains(&r.person))
            {
                right += 1;
            }
            if found
                .ranked
                .iter()
                .any(|r| persons[entity].contains(&r.person))
            {
                in_ten += 1;
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        let n = sample.len() as f64;
        println!(
            "{residents} residents (seed {seed}), {label}: right resident first {right}/{} ({:.1}%; a name alone allows {:.1}%), in the first ten {:.1}%; p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            sample.len(),
            100.0 * right as f64 / n,
            100.0 * ceiling,
            100.0 * in_ten as f64 / n,
            at(0.5),
            at(0.95),
            times[times.len() - 1]
        );
    }
}

/// Every shipped example source's extract (and events) ingested.
async fn ingest_all(store: &Store, county: &Path) {
    let today = Date::today_utc();
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/sources");
    let mut manifests: Vec<_> = std::fs::read_dir(&sources)
        .expect("examples")
        .map(|e| e.expect("entry").path())
        .collect();
    manifests.sort();
    for path in manifests {
        let (manifest, _) = wherry_ingest::load_manifest(&path).expect("manifest");
        let id = path.file_stem().unwrap().to_string_lossy().to_string();
        let extracts = county.join("extracts");
        let mut file = extracts.join(format!("{id}.csv"));
        if !file.exists() {
            file = extracts.join(format!("{id}.jsonl"));
        }
        wherry_ingest::ingest(store, &manifest, &file, None, "bench", today)
            .await
            .expect("ingested");
    }
}

/// Every `n`th resident of the ground truth with at least one record:
/// (entity, given name, family name); and how many residents bear each
/// full name.
#[allow(clippy::type_complexity)]
fn sample(
    county: &Path,
) -> (
    Vec<(String, String, String)>,
    HashMap<(String, String), usize>,
) {
    let mut held: HashMap<String, usize> = HashMap::new();
    let mut truth = csv::Reader::from_path(county.join("truth/truth.csv")).expect("truth");
    for r in truth.records() {
        *held.entry(r.expect("row")[2].to_string()).or_default() += 1;
    }
    let mut rdr = csv::Reader::from_path(county.join("truth/residents.csv")).expect("residents");
    let all: Vec<(String, String, String)> = rdr
        .records()
        .map(|r| {
            let r = r.expect("row");
            (r[0].to_string(), r[2].to_string(), r[4].to_string())
        })
        .filter(|(e, ..)| held.contains_key(e))
        .collect();
    let mut namesakes: HashMap<(String, String), usize> = HashMap::new();
    for (_, g, f) in &all {
        *namesakes.entry((g.clone(), f.clone())).or_default() += 1;
    }
    let step = (all.len() / SAMPLE).max(1);
    (
        all.into_iter().step_by(step).take(SAMPLE).collect(),
        namesakes,
    )
}

/// For each sampled entity, the persons its records were linked to.
async fn persons_of(
    store: &Store,
    county: &Path,
    sample: &[(String, String, String)],
) -> HashMap<String, Vec<String>> {
    let wanted: HashMap<&str, ()> = sample.iter().map(|(e, ..)| (e.as_str(), ())).collect();
    let mut keys: BTreeMap<String, Vec<RecordKey>> = BTreeMap::new();
    let mut truth = csv::Reader::from_path(county.join("truth/truth.csv")).expect("truth");
    for r in truth.records() {
        let r = r.expect("row");
        if wanted.contains_key(&r[2]) {
            keys.entry(r[2].to_string())
                .or_default()
                .push(RecordKey::new(&r[0], &r[1]));
        }
    }
    let mut out = HashMap::new();
    for (entity, keys) in keys {
        let persons = store.persons_of(&keys).await.expect("persons");
        out.insert(entity, persons.into_values().collect());
    }
    out
}

/// `name` with one deliberate slip, varied by `i`: a letter swapped for
/// another, a letter left out, or two letters transposed.
fn one_typo(name: &str, i: usize) -> String {
    let mut c: Vec<char> = name.chars().collect();
    if c.len() < 3 {
        return name.to_string();
    }
    let at = 1 + (i / 2) % (c.len() - 2);
    match (i / 2) % 3 {
        0 => c[at] = if c[at] == 'e' { 'a' } else { 'e' },
        1 => {
            c.remove(at);
        }
        _ => c.swap(at, at + 1),
    }
    c.into_iter().collect()
}
