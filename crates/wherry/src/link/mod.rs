//! `wherry link`: link records, evaluate against truth, explain a pair.

mod evaluate;
mod explain;
mod input;
mod report;
mod stored;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wherry_link::{LinkType, Model, Settings, Stage};

/// Arguments of `wherry link`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare clusters (and scored pairs) with the truth: pairwise and
    /// B-cubed precision, recall and F1, and a precision–recall curve.
    #[command(
        after_help = "Example:\n  wherry link evaluate --clusters out/clusters.csv --truth county/truth/truth.csv --pairs out/pairs.csv"
    )]
    Evaluate(evaluate::Args),
    /// Explain a pair: each comparison's level and weight, as text and a
    /// waterfall chart.
    #[command(
        after_help = "Example:\n  wherry link explain --model out/model.json --input people.csv --left 17 --right 342 --svg pair.svg"
    )]
    Explain(explain::Args),
    /// Link the store's current records: stable person ids, steward
    /// decisions as constraints, uncertain pairs to the review queue.
    #[command(
        after_help = "Example:\n  wherry link run\n  wherry link run --model linked/model.json --database postgres://wherry@127.0.0.1/wherry"
    )]
    Run(stored::RunArgs),
    /// The person change feed (created, merged, split, retired) after a sequence number.
    #[command(after_help = "Example:\n  wherry link changes --since 120 --json")]
    Changes(stored::ChangesArgs),
}

/// How records are paired.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mode {
    /// Find duplicates within and across all inputs.
    Dedupe,
    /// Only link records from different sources.
    LinkOnly,
    /// Both.
    LinkAndDedupe,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// How records are paired [default: the settings file's, or dedupe].
    #[arg(long, value_enum)]
    mode: Option<Mode>,
    /// Input CSV file (repeatable). Its header uses canonical field names or
    /// names mapped in the settings; the source is its `source` column or the
    /// file stem.
    #[arg(long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Output directory: clusters.csv, pairs.csv, model.json, summary.md.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Settings file (TOML): column mapping, comparisons, blocking rules,
    /// thresholds. Without one, Wherry configures itself for the canonical
    /// fields present.
    #[arg(long, value_name = "FILE")]
    settings: Option<PathBuf>,
    /// Match probability at or above which records join a person.
    #[arg(long)]
    threshold: Option<f64>,
    /// Seed for every sample.
    #[arg(long)]
    seed: Option<u64>,
    /// Score with this trained model instead of training.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
}

/// Runs `wherry link`.
pub fn run(args: Args) -> Result<()> {
    match args.command {
        Some(Command::Evaluate(a)) => evaluate::run(a),
        Some(Command::Explain(a)) => explain::run(a),
        Some(Command::Run(a)) => stored::run(a),
        Some(Command::Changes(a)) => stored::changes(a),
        None => link(args.run),
    }
}

/// Loads a settings file (TOML, or JSON by extension).
pub fn load_settings(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let settings: Settings = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not valid settings", path.display()))?
    } else {
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    };
    settings
        .validate()
        .with_context(|| format!("{}", path.display()))?;
    Ok(settings)
}

/// Loads a model file.
pub fn load_model(path: &Path) -> Result<Model> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let model: Model = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a Wherry model", path.display()))?;
    model
        .check()
        .with_context(|| format!("{}", path.display()))?;
    Ok(model)
}

/// The settings a run uses: the file's, or ones made for the canonical
/// columns the first input has.
fn settings_for(args: &RunArgs) -> Result<Settings> {
    let link_type = args.mode.map(|m| match m {
        Mode::Dedupe => LinkType::Dedupe,
        Mode::LinkOnly => LinkType::LinkOnly,
        Mode::LinkAndDedupe => LinkType::LinkAndDedupe,
    });
    let mut settings = match (&args.model, &args.settings) {
        (Some(m), _) => load_model(m)?.settings,
        (None, Some(path)) => load_settings(path)?,
        (None, None) => {
            let first = args
                .inputs
                .first()
                .context("no input: give at least one --input FILE.csv")?;
            let mut rdr = csv::Reader::from_path(first)
                .with_context(|| format!("cannot read {}", first.display()))?;
            let header: Vec<String> = rdr
                .headers()
                .with_context(|| format!("{}: cannot read the header", first.display()))?
                .iter()
                .map(|h| h.trim().to_string())
                .collect();
            if header.iter().all(|h| h.is_empty()) {
                bail!("{}: the file is empty (no header row)", first.display());
            }
            let present: Vec<&str> = wherry_core::Field::NAMES
                .iter()
                .copied()
                .filter(|f| header.iter().any(|h| h == f) && !["record_id", "source"].contains(f))
                .collect();
            if present.is_empty() {
                bail!(
                    "{}: no canonical columns ({}); name them so, or map them in a --settings file",
                    first.display(),
                    wherry_core::Field::NAMES.join(", ")
                );
            }
            Settings::for_canonical_columns(&present, link_type.unwrap_or_default())
        }
    };
    if let Some(t) = link_type {
        settings.link_type = t;
    }
    if let Some(t) = args.threshold {
        if !(0.0..=1.0).contains(&t) {
            bail!("--threshold {t}: must be a probability between 0 and 1");
        }
        settings.threshold = t;
    }
    if let Some(s) = args.seed {
        settings.seed = s;
    }
    Ok(settings)
}

/// Progress on the terminal: one bar, reset at each stage, and the time
/// each stage started (for the timings line).
pub(crate) struct Bars {
    pub(crate) bar: ProgressBar,
    stages: std::sync::Mutex<Vec<(&'static str, Instant)>>,
}

impl Bars {
    pub(crate) fn new() -> Self {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{msg:>28} [{bar:36}] {human_pos}/{human_len} ({elapsed})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Self {
            bar,
            stages: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn begin(&self, name: &'static str, message: &str, total: u64) {
        self.stages
            .lock()
            .expect("not poisoned")
            .push((name, Instant::now()));
        self.bar.set_message(message.to_string());
        self.bar.set_length(total);
        self.bar.set_position(0);
    }

    /// Seconds per stage, each until the next began (the last until now).
    pub(crate) fn timings(&self) -> Vec<(&'static str, f64)> {
        let stages = self.stages.lock().expect("not poisoned");
        stages
            .iter()
            .enumerate()
            .map(|(i, (name, t))| {
                let end = stages.get(i + 1).map_or_else(Instant::now, |next| next.1);
                (*name, end.duration_since(*t).as_secs_f64())
            })
            .collect()
    }
}

impl wherry_link::Progress for Bars {
    fn start(&self, stage: Stage, total: u64) {
        let (name, message) = match stage {
            Stage::Prepare => ("prepare", "preparing columns"),
            Stage::Block => ("block", "blocking (rules)"),
            Stage::Compare => ("compare", "comparing candidate pairs"),
            Stage::Train => ("train", "training (u, EM per rule, prior)"),
            Stage::Score => ("score", "scoring pairs"),
            Stage::Cluster => ("cluster", "clustering"),
            Stage::Read => ("read", "reading records"),
            Stage::Persons => ("persons", "mapping onto person ids"),
            Stage::Review => ("review", "explaining pairs for review"),
            Stage::Save => ("save", "saving"),
        };
        self.begin(name, message, total);
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}

fn link(args: RunArgs) -> Result<()> {
    let out = args.out.clone().context("give --out DIR for the results")?;
    let started = Instant::now();
    let settings = settings_for(&args)?;
    let model = args.model.as_deref().map(load_model).transpose()?;
    let bars = Bars::new();
    bars.begin("read", "reading input", 0);
    let input = input::read(&settings, &args.inputs)?;
    let records = input.records.len();
    let result = wherry_link::link(&settings, &input.columns, input.records, model, &bars)?;
    bars.begin("write", "writing results", 0);
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    write_results(&out, &result, &input.rejected)?;
    report::write(&out, &result, &input.rejected)?;
    bars.bar.finish_and_clear();
    let persons = {
        let mut c = result.clustering.cluster.clone();
        c.sort_unstable();
        c.dedup();
        c.len()
    };
    println!(
        "Linked {records} records into {persons} persons in {:.1} s: {} candidate pairs, {} rows rejected",
        started.elapsed().as_secs_f64(),
        result.candidate_pairs,
        input.rejected.len()
    );
    println!(
        "Results in {}: clusters.csv, pairs.csv, model.json, summary.md",
        out.display()
    );
    let stages: Vec<String> = bars
        .timings()
        .iter()
        .map(|(s, t)| format!("{s} {t:.2}"))
        .collect();
    println!("Seconds by stage: {}", stages.join(", "));
    Ok(())
}

/// Writes `path` through a temporary file renamed into place, so a reader
/// never sees half a file.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut f)?;
        f.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn write_results(
    out: &Path,
    r: &wherry_link::LinkResult,
    rejected: &[input::Rejected],
) -> Result<()> {
    // The two large files at once: each is mostly formatting and its own
    // sync to disk.
    std::thread::scope(|s| {
        let pairs = s.spawn(|| write_pairs(out, r));
        let clusters = write_clusters(out, r);
        let pairs = pairs.join().expect("the pairs writer does not panic");
        clusters.and(pairs)
    })?;
    write_atomically(&out.join("model.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &r.model)?;
        writeln!(w)
    })?;
    write_atomically(&out.join("rejected.csv"), |w| {
        writeln!(w, "file,line,reason")?;
        for x in rejected {
            writeln!(
                w,
                "{},{},{}",
                csv_field(&x.file.display().to_string()),
                x.line,
                csv_field(&x.reason)
            )?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Writes `x` with `places` decimal places (at most 9), as `{:.N}` would
/// but through integers: `{:.N}` takes the exact path for every float,
/// and a million of them took most of a second. A value exactly halfway
/// after scaling may round up where `{:.N}` rounds to even.
fn write_fixed(w: &mut dyn Write, x: f64, places: u32) -> std::io::Result<()> {
    let scale = 10u64.pow(places.min(9));
    let scaled = (x.abs() * scale as f64).round();
    if !x.is_finite() || scaled >= 1e18 {
        return write!(w, "{x:.*}", places as usize);
    }
    let v = scaled as u64;
    let sign = if x.is_sign_negative() { "-" } else { "" };
    write!(
        w,
        "{sign}{}.{:0width$}",
        v / scale,
        v % scale,
        width = places as usize
    )
}

/// A record's source and id as CSV fields.
fn record_name(
    ds: &wherry_link::Dataset,
    i: u32,
) -> (std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>) {
    (
        csv_field(&ds.sources[ds.source[i as usize] as usize]),
        csv_field(&ds.record_ids[i as usize]),
    )
}

/// `clusters.csv`: every record's person.
fn write_clusters(out: &Path, r: &wherry_link::LinkResult) -> Result<()> {
    write_atomically(&out.join("clusters.csv"), |w| {
        writeln!(w, "source,record_id,cluster_id")?;
        for (i, c) in r.clustering.cluster.iter().enumerate() {
            let (s, id) = record_name(&r.dataset, i as u32);
            writeln!(w, "{s},{id},P{c:08}")?;
        }
        Ok(())
    })
}

/// `pairs.csv`: the scored pairs at or above the report floor.
fn write_pairs(out: &Path, r: &wherry_link::LinkResult) -> Result<()> {
    write_atomically(&out.join("pairs.csv"), |w| {
        writeln!(
            w,
            "source_l,record_id_l,source_r,record_id_r,match_weight,match_probability"
        )?;
        for p in r
            .scored
            .iter()
            .filter(|p| p.probability >= r.model.settings.report_min_probability)
        {
            let ((sl, il), (sr, ir)) = (record_name(&r.dataset, p.a), record_name(&r.dataset, p.b));
            write!(w, "{sl},{il},{sr},{ir},")?;
            write_fixed(w, p.weight, 4)?;
            w.write_all(b",")?;
            write_fixed(w, p.probability, 6)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::write_fixed;

    fn fixed(x: f64, places: u32) -> String {
        let mut v = Vec::new();
        write_fixed(&mut v, x, places).unwrap();
        String::from_utf8(v).unwrap()
    }

    /// The same text as `{:.N}`, except where the scaled value sits
    /// exactly halfway (there it may round up where `{:.N}` rounds to even).
    #[test]
    fn fixed_places_read_as_the_standard_formatting() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 11) as f64 / (1u64 << 53) as f64 * 400.0 - 200.0;
            for (value, places) in [(v, 4), (v / 200.0, 6), (v * 1e-7, 4)] {
                let scaled = value.abs() * 10f64.powi(places as i32);
                if (scaled.fract() - 0.5).abs() < 1e-6 {
                    continue;
                }
                assert_eq!(fixed(value, places), format!("{value:.*}", places as usize));
            }
        }
        assert_eq!(fixed(0.0, 6), "0.000000");
        assert_eq!(fixed(1.0, 6), "1.000000");
        assert_eq!(fixed(-3.25, 4), "-3.2500");
        assert_eq!(fixed(f64::NEG_INFINITY, 4), "-inf");
    }
}
