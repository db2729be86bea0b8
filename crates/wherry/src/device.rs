//! `wherry device`: the sensors' devices. `decode` reads a payload as the
//! hub would, what a field engineer uses to check a device.

use anyhow::{Context, Result};
use wherry_lorawan::Model;

/// Arguments of `wherry device`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, clap::Subcommand)]
enum DeviceCommand {
    /// Decode a payload: prints the reading as JSON with the vendor's field
    /// names and values, or says at which byte and why it cannot.
    #[command(
        after_help = "Examples:\n  wherry device decode --model milesight_ws301 --fport 85 030001\n  \
        wherry device decode --model parametric_pcr2 --fport 14 be010400010002000300041c200ce40139\n\n\
        Models: milesight_ws52x, milesight_ws301, milesight_ws202, milesight_em300_th,\n\
        milesight_vs133, parametric_pcr2."
    )]
    Decode {
        /// The device model.
        #[arg(long)]
        model: String,
        /// The frame port the payload came on [default: the model's].
        #[arg(long)]
        fport: Option<u8>,
        /// The payload in hex (spaces between bytes allowed).
        hex: Vec<String>,
    },
}

/// Runs `wherry device`.
pub fn run(args: Args) -> Result<()> {
    match args.command {
        DeviceCommand::Decode { model, fport, hex } => {
            let model: Model = model.parse()?;
            let hex = hex.join(" ");
            let bytes = wherry_lorawan::bytes::from_hex(&hex)
                .map_err(anyhow::Error::msg)
                .context("the payload is not hex")?;
            let reading = model
                .decode(fport.unwrap_or(model.f_port()), &bytes)
                .with_context(|| format!("the payload is not a {} reading", model.id()))?;
            println!("{}", serde_json::to_string_pretty(&reading)?);
            Ok(())
        }
    }
}
