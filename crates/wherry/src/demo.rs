//! `wherry demo`: the whole hub on the embedded defaults. It generates the
//! synthetic county, initialises a SQLite store in `./wherry-demo/`,
//! ingests every partner's extract and contact events, links them, adds a
//! user for each role, and serves the API and the web UI, printing the URL
//! and each role's token.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use wherry_core::{Date, Role};
use wherry_synth::Config;

use crate::store::runtime;

/// Arguments of `wherry demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many residents in the demo county.
    #[arg(long, value_name = "N", default_value = "10000", allow_negative_numbers = true, value_parser = crate::synth::parse_count)]
    pub residents: u64,
    /// Seed for the demo county.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Where the demo lives.
    #[arg(long, value_name = "DIR", default_value = "wherry-demo")]
    pub dir: PathBuf,
    /// Where to serve the API and the web UI.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Build the hub and print the tokens, but do not start the server.
    #[arg(long)]
    pub no_serve: bool,
    /// Start afresh over a demo that exists already: its store, audit log
    /// and trail, users and stewards' decisions are deleted.
    #[arg(long)]
    pub force: bool,
}

/// The partners' manifests the demo county is sent under.
const SOURCES: &[(&str, &str)] = &[
    (
        "social_care",
        include_str!("../../../examples/sources/social_care.toml"),
    ),
    (
        "gp_registrations",
        include_str!("../../../examples/sources/gp_registrations.toml"),
    ),
    (
        "fire_rescue",
        include_str!("../../../examples/sources/fire_rescue.toml"),
    ),
    (
        "district_council",
        include_str!("../../../examples/sources/district_council.toml"),
    ),
    (
        "police_vulnerable",
        include_str!("../../../examples/sources/police_vulnerable.toml"),
    ),
    (
        "libraries",
        include_str!("../../../examples/sources/libraries.toml"),
    ),
    (
        "tec_sensors",
        include_str!("../../../examples/sources/tec_sensors.toml"),
    ),
];

/// A demo user per role.
const USERS: &[(&str, Role)] = &[
    ("demo-advisor", Role::Advisor),
    ("demo-caseworker", Role::Caseworker),
    ("demo-fire", Role::FirePrevention),
    ("demo-steward", Role::Steward),
    ("demo-analyst", Role::Analyst),
    ("demo-tec", Role::TecTeam),
    ("demo-admin", Role::Admin),
    ("demo-partner", Role::PartnerSystem),
];

/// Runs the demo.
pub fn run(args: Args) -> Result<()> {
    let db = args.dir.join("hub.db");
    let trail = PathBuf::from(format!("{}.audit", db.display()));
    if db.exists() && !args.force {
        bail!(
            "{dir} already holds a demo hub: its store ({db}), audit log and trail, users and stewards' decisions. \
             Serve it as it is with `wherry serve --database sqlite://{db}`, \
             or start afresh with `wherry demo --force`, which deletes all of them.",
            dir = args.dir.display(),
            db = db.display()
        );
    }
    // The port first: nothing is built, or deleted, for a demo that cannot
    // be served.
    let listener = if args.no_serve {
        None
    } else {
        let l = std::net::TcpListener::bind(&args.listen)
            .map_err(|e| anyhow::anyhow!("{}", crate::serve::listen_error(&args.listen, &e)))?;
        l.set_nonblocking(true)?;
        Some(l)
    };
    let county = args.dir.join("county");
    if county.exists() && !wherry_synth::is_county(&county) {
        bail!(
            "{} exists and is not a demo county; move it away or pass --dir to use another directory",
            county.display()
        );
    }
    let config = Config {
        residents: args.residents,
        seed: args.seed,
        ..Config::default()
    };
    let started = Instant::now();
    let summary = crate::synth::generate(&config, &county, true)?;
    println!("Wherry demo");
    println!();
    crate::synth::print_summary(&summary, &county, started.elapsed());
    println!();

    // Only with --force (checked above): the old store, and its audit
    // trail with it, said aloud.
    if db.exists() {
        println!(
            "Deleting the demo hub at {} (--force): its store, audit log and trail, users and decisions.",
            db.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let f = PathBuf::from(format!("{}{suffix}", db.display()));
        if f.exists() {
            std::fs::remove_file(&f).with_context(|| format!("removing {}", f.display()))?;
        }
    }
    if trail.exists() {
        std::fs::remove_dir_all(&trail).with_context(|| format!("removing {}", trail.display()))?;
    }
    let sources = args.dir.join("sources");
    std::fs::create_dir_all(&sources)?;
    let url = format!("sqlite://{}", db.display());
    runtime().block_on(async {
        let store = wherry_store::Store::connect(&url).await?;
        wherry_access::trail::open(&trail)?;
        store.migrate().await?;
        let today = Date::today_utc();
        for (id, text) in SOURCES {
            let manifest_path = sources.join(format!("{id}.toml"));
            std::fs::write(&manifest_path, text)?;
            let (manifest, _) = wherry_ingest::load_manifest(&manifest_path)?;
            let extracts = county.join("extracts");
            let mut file = extracts.join(format!("{id}.csv"));
            if !file.exists() {
                file = extracts.join(format!("{id}.jsonl"));
            }
            if !file.exists() {
                // A service without an extract (the sensor service): its
                // agreement is registered, its data come by other routes.
                wherry_ingest::register(&store, &manifest).await?;
                println!("Registered {id} (its agreement governs the home sensors' alerts and readings)");
                continue;
            }
            let events = extracts.join(format!("{id}_events.csv"));
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template("{msg:<34} [{bar:30}] {bytes}/{total_bytes}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(format!("ingesting {id}"));
            let progress = |done: u64, total: u64| {
                bar.set_length(total);
                bar.set_position(done);
            };
            let r = wherry_ingest::ingest_with(&store, &manifest, &file, events.exists().then_some(events.as_path()), "demo", today, &progress)
                .await?;
            bar.finish_and_clear();
            println!(
                "Ingested {id}: {} records stored, {} quarantined, {} contact events",
                r.counts.stored, r.counts.quarantined, r.events
            );
        }
        let bars = Arc::new(crate::link::Bars::new());
        let r = wherry_hub::link_run(&store, &wherry_hub::RunOptions::default(), bars.clone()).await?;
        bars.bar.finish_and_clear();
        println!(
            "Linked {} records into {} persons; {} pairs for the steward's review",
            r.records, r.persons, r.review
        );
        let mut tokens = Vec::new();
        for (name, role) in USERS {
            let token = wherry_access::token::new_token()?;
            // The demo's partner system is the GP practices' (it pushes
            // for their register only).
            let sources = match role {
                Role::PartnerSystem => vec!["gp_registrations".to_string()],
                _ => vec![],
            };
            let hash = wherry_access::token::token_hash(&token);
            store
                .add_user(name, role.as_str(), &hash, &sources)
                .await?;
            tokens.push((*name, *role, token));
        }
        if summary.sensors.homes > 0 {
            let access = wherry_access::Access::new(store.clone(), wherry_access::Policy::default());
            let tec = access.caller("demo-tec", Role::TecTeam, wherry_core::Purpose::DirectCare, None)?;
            let r = crate::demo_sensors::replay(&access, &tec, &county, config.as_of).await?;
            println!(
                "Home sensors: {} devices registered, {} uplinks replayed (the month moved to end today), {} alerts for the TEC team",
                r.devices, r.uplinks, r.alerts
            );
        }
        println!();
        println!("Sign in with one of these tokens (one per role, made afresh each run):");
        for (name, role, token) in &tokens {
            println!("  {:<16} {:<15} {token}", role.as_str(), name);
        }
        println!();
        let Some(listener) = listener else {
            println!("Serve it with: wherry serve --database {url}");
            store.close().await;
            return Ok(());
        };
        let matcher = wherry_hub::Matcher::open(store.clone(), wherry_link::ReviewRange::default()).await?;
        let state = Arc::new(wherry_server::AppState::new(store.clone(), Some(matcher)));
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let at = listener.local_addr()?;
        println!("Open http://{at}/ in a browser and sign in with a token above.");
        println!("The API is at http://{at}/api/v1/ (see http://{at}/openapi.json). Ctrl-C stops the demo.");
        wherry_server::serve_on(listener, state, 30).await?;
        store.close().await;
        Ok(())
    })
}
