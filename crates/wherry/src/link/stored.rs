//! `wherry link run` and `wherry link changes`: linkage over the store, with
//! stable person ids, steward decisions as constraints and a review queue.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use std::io::Write;

use anyhow::{Result, bail};
use wherry_core::Field;
use wherry_link::persons::{PersonEvent, assign};
use wherry_link::{Constraints, LinkType, RawRecord, Settings};
use wherry_store::Linkage;

use crate::hub::{Database, runtime};

/// Arguments of `wherry link run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Score with this trained model instead of training.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Match probability at or above which records join a person.
    #[arg(long)]
    threshold: Option<f64>,
    /// Pairs with a probability from this …
    #[arg(long, default_value_t = 0.5)]
    review_low: f64,
    /// … up to (not including) this go to the steward's review queue.
    #[arg(long, default_value_t = 0.95)]
    review_high: f64,
    #[command(flatten)]
    database: Database,
}

/// Arguments of `wherry link changes`.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// Show changes after this sequence number (0: all).
    #[arg(long, default_value_t = 0)]
    since: i64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: Database,
}

type Key = (String, String);

/// Runs `wherry link run`.
pub fn run(a: RunArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&a.review_low)
        || !(0.0..=1.0).contains(&a.review_high)
        || a.review_low > a.review_high
    {
        bail!("--review-low and --review-high must be probabilities with low ≤ high");
    }
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let mut stages: Vec<(&str, std::time::Instant)> = vec![("read", std::time::Instant::now())];
        let rows = store.current_records().await?;
        if rows.is_empty() {
            bail!("the store holds no records: ingest partner extracts first (wherry ingest)");
        }
        // Values in canonical order, moved (not copied) into the engine's
        // records; columns no record has are left out.
        let all: &[&str] = &Field::NAMES[2..];
        let mut present = vec![false; all.len()];
        let mut keys: Vec<Key> = Vec::with_capacity(rows.len());
        let mut values: Vec<Vec<Option<String>>> = Vec::with_capacity(rows.len());
        for (s, r, f) in rows {
            let mut fields: BTreeMap<String, String> = serde_json::from_str(&f)?;
            let v: Vec<Option<String>> = all
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let x = fields.remove(*c);
                    present[i] |= x.is_some();
                    x
                })
                .collect();
            keys.push((s, r));
            values.push(v);
        }
        let columns: Vec<String> =
            all.iter().zip(&present).filter(|(_, p)| **p).map(|(c, _)| c.to_string()).collect();
        let index: HashMap<Key, u32> = keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u32)).collect();
        let records: Vec<RawRecord> = keys
            .iter()
            .zip(values)
            .map(|((s, r), v)| RawRecord {
                source: s.clone(),
                record_id: r.clone(),
                values: v.into_iter().zip(&present).filter(|(_, p)| **p).map(|(x, _)| x).collect(),
            })
            .collect();
        let model = a.model.as_deref().map(super::load_model).transpose()?;
        let present: Vec<&str> = columns.iter().map(String::as_str).collect();
        let mut settings = Settings::for_canonical_columns(&present, LinkType::Dedupe);
        if let Some(t) = a.threshold {
            settings.threshold = t;
        }
        settings.report_min_probability = settings.report_min_probability.min(a.review_low);
        let mut constraints = Constraints::default();
        for (kind, sl, rl, sr, rr) in store.decisions().await? {
            if let (Some(&x), Some(&y)) = (index.get(&(sl, rl)), index.get(&(sr, rr))) {
                if kind == "must_link" { constraints.must_link.push((x, y)) } else { constraints.cannot_link.push((x, y)) }
            }
        }
        stages.push(("link", std::time::Instant::now()));
        let result = wherry_link::link_with(&settings, &columns, records, model, &constraints, &())?;
        stages.push(("ids and review", std::time::Instant::now()));
        // Clusters, in order of their first record.
        let mut clusters: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for (i, c) in result.clustering.cluster.iter().enumerate() {
            clusters.entry(*c).or_default().push(i as u32);
        }
        let clusters: Vec<Vec<u32>> = clusters.into_values().collect();
        // Previous links by record index; records no longer current get keys
        // past the end, so their persons retire unless others take them.
        let mut previous: HashMap<u32, String> = HashMap::new();
        let mut gone: Vec<Key> = Vec::new();
        for (s, r, p) in store.person_links().await? {
            let key = (s, r);
            match index.get(&key) {
                Some(&i) => previous.insert(i, p),
                None => {
                    gone.push(key);
                    previous.insert(u32::MAX - gone.len() as u32, p)
                }
            };
        }
        let mut next = store.person_ids().await?.iter().filter_map(|p| p.trim_start_matches('P').parse::<u64>().ok()).max().unwrap_or(0);
        let assignment = assign(&previous, &clusters, || {
            next += 1;
            format!("P{next:09}")
        });
        // Only links that are new or changed are written.
        let mut linkage = Linkage {
            links: keys
                .iter()
                .enumerate()
                .filter(|(i, _)| previous.get(&(*i as u32)) != assignment.links.get(&(*i as u32)))
                .map(|(i, (s, r))| (s.clone(), r.clone(), assignment.links[&(i as u32)].clone()))
                .collect(),
            unlinked: gone,
            ..Linkage::default()
        };
        for e in &assignment.events {
            let (kind, person, others) = match e {
                PersonEvent::Created { person } => ("created", person, vec![]),
                PersonEvent::Merged { person, absorbed } => ("merged", person, absorbed.clone()),
                PersonEvent::Split { person, into } => ("split", person, into.clone()),
                PersonEvent::Retired { person } => ("retired", person, vec![]),
            };
            match e {
                PersonEvent::Created { person } => linkage.created.push(person.clone()),
                PersonEvent::Retired { person } => linkage.retired.push(person.clone()),
                _ => {}
            }
            linkage.history.push((kind.into(), person.clone(), serde_json::to_string(&others)?, serde_json::to_string(e)?));
        }
        let ds = &result.dataset;
        let key = |i: u32| (ds.sources[ds.source[i as usize] as usize].clone(), ds.record_ids[i as usize].clone());
        for p in result.scored.iter().filter(|p| p.probability >= a.review_low && p.probability < a.review_high) {
            let (l, r) = (key(p.a), key(p.b));
            let explanation = wherry_link::explain::explain(&result.model, ds, p.a, p.b).text();
            linkage.review.push((l.0, l.1, r.0, r.1, p.probability, explanation));
        }
        stages.push(("save", std::time::Instant::now()));
        let mut tx = store.begin().await?;
        tx.save_linkage(&linkage).await?;
        tx.commit().await?;
        stages.push(("end", std::time::Instant::now()));
        let count = |k: &str| linkage.history.iter().filter(|h| h.0 == k).count();
        println!(
            "Linked {} records into {} persons: {} created, {} merged, {} split, {} retired; {} pairs for review",
            keys.len(),
            assignment.persons.len(),
            count("created"),
            count("merged"),
            count("split"),
            count("retired"),
            linkage.review.len()
        );
        let timings: Vec<String> =
            stages.windows(2).map(|w| format!("{} {:.2}", w[0].0, w[1].1.duration_since(w[0].1).as_secs_f64())).collect();
        println!("Seconds by stage: {}", timings.join(", "));
        store.close().await;
        Ok(())
    })
}

/// Runs `wherry link changes`.
pub fn changes(a: ChangesArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let mut out = std::io::stdout().lock();
        for (seq, kind, person, others, at, _detail) in store.changes(a.since).await? {
            let line = if a.json {
                let others: serde_json::Value = serde_json::from_str(&others)?;
                serde_json::json!({"seq": seq, "kind": kind, "person": person, "others": others, "at": at}).to_string()
            } else {
                format!("{seq}\t{at}\t{kind}\t{person}\t{others}")
            };
            // A reader that stops early (| head) is not an error.
            if writeln!(out, "{line}").is_err() {
                break;
            }
        }
        store.close().await;
        Ok(())
    })
}
