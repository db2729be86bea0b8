//! The `wherry` command: a multi-agency information hub for UK local public
//! services. Each subcommand parses its arguments, calls one library crate and
//! renders the result; the work lives in the crates.

mod demo;
mod synth;

use std::process::ExitCode;

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
    /// Run the demonstration: generate a synthetic county into ./wherry-demo/
    /// and summarise it.
    #[command(
        after_help = "Example:\n  cargo run --release -- demo\n  wherry demo --residents 2000"
    )]
    Demo(demo::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args),
        Command::Demo(args) => demo::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
