//! `wherry init`, `wherry source check` and `wherry ingest`: the store and
//! what partners send into it.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::store::{Database, redact, runtime};
use indicatif::{ProgressBar, ProgressStyle};
use wherry_core::Date;

/// Arguments of `wherry init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry init`.
pub fn init(a: InitArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open().await?;
        let applied = store.migrate().await?;
        let trail = wherry_access::trail::get().expect("opened with the store");
        let seen = trail.checkpoints().map_err(anyhow::Error::msg)?;
        if store.audit_head().await?.seq == 0 && seen.iter().any(|c| c.seq > 0) {
            bail!(
                "the audit directory {} holds checkpoints of another store (this one's audit log is empty): give this store its own with --audit-dir or WHERRY_AUDIT_DIR",
                trail.dir().display()
            );
        }
        if applied.is_empty() {
            println!("The store at {} is up to date.", redact(&a.database.url()));
        } else {
            println!(
                "Initialised the store at {}: applied migrations {:?}.",
                redact(&a.database.url()),
                applied
            );
        }
        println!("Its audit trail (key and checkpoints) is in {}.", trail.dir().display());
        store.close().await;
        Ok(())
    })
}

/// Arguments of `wherry source check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Manifest files (TOML).
    #[arg(required = true, value_name = "FILE.toml")]
    files: Vec<PathBuf>,
}

/// Runs `wherry source check`.
pub fn check(a: CheckArgs) -> Result<()> {
    let mut failed = 0;
    for f in &a.files {
        match wherry_ingest::load_manifest(f) {
            Ok((m, _)) => println!(
                "{}: ok ({} from {}; {} fields, {} attributes, purposes: {})",
                f.display(),
                m.source.id,
                m.source.partner,
                m.columns.len(),
                m.attributes.len(),
                m.agreement
                    .purposes
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(wherry_ingest::Error::Manifest { file, problems }) => {
                failed += 1;
                for p in problems {
                    eprintln!("{file}: {p}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} manifests have problems", a.files.len());
    }
    Ok(())
}

/// Arguments of `wherry source register`.
#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// Manifest files (TOML).
    #[arg(required = true, value_name = "FILE.toml")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry source register`: each manifest checked, then its source
/// and agreement registered (no extract).
pub fn register(a: RegisterArgs) -> Result<()> {
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        for f in &a.files {
            let (m, _) = wherry_ingest::load_manifest(f)?;
            wherry_ingest::register(&store, &m).await?;
            println!("Registered {} ({}).", m.source.id, m.source.partner);
        }
        store.close().await;
        Ok(())
    })
}

/// Arguments of `wherry ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// The source's manifest (TOML).
    #[arg(long, value_name = "FILE.toml")]
    source: PathBuf,
    /// The extract.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A contact events file for the same source
    /// (source,record_id,date,service,contact_type,practitioner).
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Print the counts as one JSON object (for scripts).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    database: Database,
}

/// Runs `wherry ingest`.
pub fn ingest(a: IngestArgs) -> Result<()> {
    let (manifest, _) = wherry_ingest::load_manifest(&a.source)?;
    runtime().block_on(async {
        let store = a.database.open_initialised().await?;
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{msg} [{bar:36}] {bytes}/{total_bytes} ({elapsed}, {eta} left)")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("loading into {}", manifest.source.id));
        let by = std::env::var("USER").unwrap_or_else(|_| "wherry".into());
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let result = wherry_ingest::ingest_with(
            &store,
            &manifest,
            &a.file,
            a.events.as_deref(),
            &by,
            Date::today_utc(),
            &progress,
        )
        .await;
        bar.finish_and_clear();
        store.close().await;
        let r = result?;
        if a.json {
            println!("{}", serde_json::to_string(&r)?);
        } else if r.already_loaded {
            println!("{}: already loaded for {}; nothing changed.", r.file, r.source);
        } else {
            println!(
                "{} into {}: {} rows: {} stored, {} unchanged, {} updated, {} withdrawn, {} quarantined",
                r.file, r.source, r.counts.rows, r.counts.stored, r.counts.unchanged, r.counts.updated, r.counts.withdrawn, r.counts.quarantined
            );
            if a.events.is_some() {
                println!("contact events: {} stored, {} quarantined", r.events, r.events_quarantined);
            }
        }
        Ok(())
    })
}
