//! Real-time matching: one new record against an index of about 1,000,000
//! records. Criterion measures the mean; the set-up also times 20,000
//! queries one by one and prints p50, p95, p99 and the maximum, the figure
//! the issue sets (p99 ≤ 5 ms).
//!
//! cargo bench -p wherry-bench --bench realtime

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use wherry_link::realtime::RealtimeIndex;
use wherry_link::{LinkType, Settings};

fn realtime(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let residents: u64 = std::env::var("WHERRY_BENCH_RESIDENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(540_000);
    let (columns, records) = wherry_bench::county_records(dir, residents);
    let present: Vec<&str> = columns.iter().map(String::as_str).collect();
    let settings = Settings::for_canonical_columns(&present, LinkType::Dedupe);
    let started = Instant::now();
    let model = wherry_link::link(&settings, &columns, records.clone(), None, &())
        .expect("links")
        .model;
    eprintln!(
        "trained on {} records in {:.1} s",
        records.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut index = RealtimeIndex::build(model, &columns, records.clone()).expect("index builds");
    eprintln!(
        "indexed {} records in {:.1} s",
        index.len(),
        started.elapsed().as_secs_f64()
    );
    // Queries: 2,000 records taken out of the index, as new partner records.
    let queries: Vec<_> = records
        .iter()
        .step_by(records.len() / 2_000)
        .take(2_000)
        .cloned()
        .collect();
    for q in &queries {
        index.remove(&q.source, &q.record_id);
    }
    let mut times: Vec<f64> = Vec::with_capacity(20_000);
    for i in 0..20_000 {
        let t = Instant::now();
        let best = index.best_matches(&queries[i % queries.len()], 10);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(best);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    eprintln!(
        "best_matches against {} records: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        index.len(),
        at(0.50),
        at(0.95),
        at(0.99),
        times[times.len() - 1]
    );
    let mut i = 0;
    c.bench_function("realtime best_matches (1M records)", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.best_matches(&queries[i], 10)
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = realtime
}
criterion_main!(benches);
