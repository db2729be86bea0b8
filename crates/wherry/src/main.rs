//! The `wherry` command: a multi-agency information hub for UK local public
//! services. Each subcommand parses its arguments, calls one library crate and
//! renders the result; the work lives in the crates.

mod demo;
mod demo_sensors;
mod device;
mod ingest;
mod insight;
mod insight_reports;
mod link;
mod publish;
mod resident;
mod review;
mod serve;
mod store;
mod synth;
mod users;

use std::process::ExitCode;

/// mimalloc: rows are made on one thread and freed on another throughout
/// ingest and linkage, which glibc's allocator does slowly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Wherry: one lawful view of each resident across a council and its partners.
#[derive(Debug, Parser)]
#[command(name = "wherry", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a synthetic county: residents, partner extracts with realistic
    /// errors, ground truth, contact events and sensor uplinks.
    #[command(
        after_help = "Example:\n  wherry synth --residents 10000 --seed 7 --out data/county\n\n\
        Files and columns are described in docs/synthetic-county.md."
    )]
    Synth(synth::Args),
    /// Link records into persons: blocking, comparisons trained by EM,
    /// scoring, clustering; and evaluate or explain the result.
    #[command(
        after_help = "Examples:\n  wherry link --mode dedupe --input a.csv --input b.csv --out linked\n  \
        wherry link --input febrl3.csv --settings bench/febrl3.toml --out out\n  \
        wherry link evaluate --clusters out/clusters.csv --truth truth.csv --pairs out/pairs.csv\n\n\
        Settings files are described in docs/linkage.md."
    )]
    Link(link::Args),
    /// Create or upgrade the store (idempotent): apply the migrations not yet applied.
    #[command(
        after_help = "Examples:\n  wherry init\n  wherry init --database postgres://wherry@127.0.0.1:5432/wherry"
    )]
    Init(ingest::InitArgs),
    /// Partner source manifests.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Load a partner extract into the store: validate every row, store
    /// changed rows as new versions, quarantine the rest with a reason.
    #[command(
        after_help = "Example:\n  wherry ingest --source examples/sources/social_care.toml data/county/extracts/social_care.csv \\\n      --events data/county/extracts/social_care_events.csv"
    )]
    Ingest(ingest::IngestArgs),
    /// The steward's review queue: list, show, accept or reject uncertain
    /// pairs (as a named operator, for a declared purpose, audited).
    #[command(
        after_help = "Examples:\n  wherry review list --purpose record_matching --operator sam\n  wherry review show 12 --purpose record_matching\n  wherry review reject 12 --purpose record_matching --reason \"different dates of birth, twins\""
    )]
    Review(review::Args),
    /// One resident's view, as your role and purpose may see it (audited).
    #[command(
        after_help = "Example:\n  wherry resident show P000000002 --purpose direct_care --operator carol"
    )]
    Resident(resident::Args),
    /// Users and their API tokens.
    #[command(
        after_help = "Examples:\n  wherry user add alice --role caseworker\n  wherry user list"
    )]
    User(users::UserArgs),
    /// Serve the web UI (open the address in a browser and sign in) and the
    /// HTTP API, on one address: the resident view, by role, purpose and
    /// agreement, every disclosure audited.
    #[command(
        after_help = "Examples:\n  wherry serve --listen 127.0.0.1:8080      # then open http://127.0.0.1:8080/\n  \
        wherry serve --config wherry.toml          # sign-in provider, limits, TLS proxy (docs/access.md)\n  curl -H \"Authorization: Bearer $TOKEN\" -H \"Wherry-Purpose: contact_centre\" \\\n      http://127.0.0.1:8080/api/v1/residents/P000000001"
    )]
    Serve(serve::ServeArgs),
    /// The audit log of every disclosure.
    #[command(after_help = "Example:\n  wherry audit verify")]
    Audit(users::AuditArgs),
    /// Remove records past their data sharing agreement's retention period
    /// (withdrawn by the partner, nothing newer than `retention_years`),
    /// with a tombstone in the audit log for each source.
    #[command(
        after_help = "Example:\n  wherry retention run --purpose subject_rights --operator dpo"
    )]
    Retention(users::RetentionArgs),
    /// Run the whole hub on a synthetic county: generate it into
    /// ./wherry-demo/, ingest every partner's extract into a SQLite store
    /// there, link them, add a user per role, and serve the web UI and the
    /// API, printing each role's sign-in token. Refuses a directory holding
    /// a demo hub unless --force (which deletes that hub).
    #[command(
        after_help = "Examples:\n  cargo run --release -- demo\n  wherry demo --residents 2000 --listen 127.0.0.1:8090\n  \
        wherry serve --database sqlite://wherry-demo/hub.db    # the demo hub again, as it was left\n  \
        wherry demo --force                                    # a fresh demo: deletes the old hub"
    )]
    Demo(demo::Args),
    /// Sensor devices: decode a payload as the hub reads it; register,
    /// list and remove devices; record a withdrawn consent; list devices
    /// heard but not registered.
    #[command(
        after_help = "Examples:\n  wherry device decode --model milesight_ws301 --fport 85 030001\n  wherry device list --json\n\n\
        Models, uses and fields are described in docs/sensors.md."
    )]
    Device(device::Args),
    /// Insight over the county: homes ranked for home fire safety visits,
    /// coordinated visits, demand by area with forecasts (as your role and
    /// purpose may see the partners' records; every resident listed
    /// audited).
    #[command(
        after_help = "Examples:\n  wherry insight fire-targets --top 500 --purpose fire_prevention --operator fred > visits.csv\n  \
        wherry insight fire-targets --weights weights.toml --format json --purpose fire_prevention\n  \
        wherry insight visits --purpose direct_care --operator carol\n  \
        wherry insight demand --purpose planning --operator ada --charts charts > demand.csv\n\n\
        The models, their factors and default weights are described in docs/insight.md."
    )]
    Insight(insight::Args),
    /// Publish open data: aggregate tables of service use, demand and the
    /// street and library counters, as CSV with CSV on the Web metadata,
    /// small counts suppressed, the rest rounded, and further counts
    /// suppressed so that none can be worked out from the totals.
    #[command(
        after_help = "Example:\n  wherry publish --out open-data --purpose planning --operator ada\n\n\
        The tables and the disclosure rules are described in docs/insight.md."
    )]
    Publish(publish::Args),
    /// A pseudonymised extract for research or planning: one row per
    /// resident with a keyed-hash pseudonym, year of birth, sex, postcode
    /// district, the attributes the purpose may see and contacts in the
    /// last year, k-anonymous; Parquet (and CSV).
    #[command(
        after_help = "Example:\n  wherry extract --out county.parquet --csv county.csv --purpose planning --operator ada\n\n\
        The columns and the k-anonymity rules are described in docs/insight.md."
    )]
    Extract(publish::ExtractArgs),
}

#[derive(Debug, Subcommand)]
enum SourceCommand {
    /// Check manifests: report every problem with its line and key.
    #[command(after_help = "Example:\n  wherry source check examples/sources/*.toml")]
    Check(ingest::CheckArgs),
    /// Register sources and their agreements without an extract (the
    /// sensor service's `tec_sensors`, whose agreement governs alerts and
    /// readings).
    #[command(after_help = "Example:\n  wherry source register examples/sources/tec_sensors.toml")]
    Register(ingest::RegisterArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Link(args) => link::run(args),
        Command::Init(args) => ingest::init(args),
        Command::Source(SourceCommand::Check(args)) => ingest::check(args),
        Command::Source(SourceCommand::Register(args)) => ingest::register(args),
        Command::Ingest(args) => ingest::ingest(args),
        Command::Review(args) => review::run(args),
        Command::Resident(args) => resident::run(args),
        Command::User(args) => users::user(args),
        Command::Audit(args) => users::audit(args),
        Command::Serve(args) => serve::serve(args),
        Command::Retention(args) => users::retention(args),
        Command::Device(args) => device::run(args),
        Command::Insight(args) => insight::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Extract(args) => publish::extract(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
