//! `wherry demo`: the whole hub on the embedded defaults. For now it
//! generates the synthetic county; later stages (ingest, link, serve) join it
//! as they are built.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use wherry_synth::Config;

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
}

/// Runs the demo.
pub fn run(args: Args) -> Result<()> {
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
    println!("Try:");
    println!("  head -3 {}/extracts/social_care.csv", county.display());
    println!(
        "  head -c 600 {}/extracts/gp_registrations.jsonl",
        county.display()
    );
    println!("  wherry synth --help");
    Ok(())
}
