//! `wherry device`: the sensors' devices. `decode` reads a payload as the
//! hub would (what a field engineer uses to check a device); `add`,
//! `list`, `remove`, `withdraw-consent` and `unregistered` keep the
//! registry.

use anyhow::{Context, Result};
use wherry_lorawan::Model;
use wherry_sensors::registry::{self, NewDevice};

use crate::store::{Database, Operator, request_id, runtime};

/// Arguments of `wherry device`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: DeviceCommand,
    #[command(flatten)]
    database: Database,
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
    /// Register a device. A home device (kettle, medication_drawer,
    /// front_door, motion, room_temperature) needs the resident and their
    /// recorded consent; a counter (footfall, traffic) its site.
    #[command(
        after_help = "Examples:\n  wherry device add --dev-eui 70b3d57ed0045388 --model milesight_ws301 --use medication_drawer \\\n      --resident P000000001 --consent-ref TEC-2026-0042 --operator tina\n  \
        wherry device add --dev-eui 70b3d57ed0045391 --model parametric_pcr2 --use traffic \\\n      --place \"Wymondham, London Road\" --lat 52.57 --lon 1.11 --operator tina"
    )]
    Add {
        /// The device's EUI: 16 hex digits.
        #[arg(long = "dev-eui")]
        dev_eui: String,
        /// The device model (see `wherry device decode --help`).
        #[arg(long)]
        model: String,
        /// kettle, medication_drawer, front_door, motion, room_temperature,
        /// footfall or traffic.
        #[arg(long = "use")]
        use_kind: String,
        /// Home devices: the resident's person id.
        #[arg(long)]
        resident: Option<String>,
        /// Home devices: the reference of the resident's recorded consent.
        #[arg(long = "consent-ref")]
        consent_ref: Option<String>,
        /// Counters: the site's name.
        #[arg(long)]
        place: Option<String>,
        /// Counters: latitude.
        #[arg(long, allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Counters: longitude.
        #[arg(long, allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Who registers it (a tec_team or admin user) and for what purpose.
        #[command(flatten)]
        who: Operator,
    },
    /// List registered devices: model, use, last seen, uplinks stored, battery.
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
        /// Who lists them (a tec_team or admin user; the list names
        /// residents) and for what purpose.
        #[command(flatten)]
        who: Operator,
    },
    /// Remove a device from the registry (its stored readings stay until
    /// their retention ends).
    Remove {
        /// The device's EUI.
        dev_eui: String,
        /// Who removes it (a tec_team or admin user) and for what purpose.
        #[command(flatten)]
        who: Operator,
    },
    /// Record that the resident withdrew consent: from now on nothing the
    /// device sends is processed.
    WithdrawConsent {
        /// The device's EUI.
        dev_eui: String,
        /// Who records it (a tec_team or admin user) and for what purpose.
        #[command(flatten)]
        who: Operator,
    },
    /// Devices the hub has heard but that are not registered, with counts.
    Unregistered,
    /// Register a synthetic county's devices (`wherry synth`'s sensors/)
    /// and replay its month of uplinks through the intake and the alert
    /// rules, moved on to end today.
    #[command(
        after_help = "Example:\n  wherry device replay county --operator tina --purpose direct_care"
    )]
    Replay {
        /// The county directory `wherry synth` wrote.
        county: std::path::PathBuf,
        /// Who registers the devices (a tec_team or admin user) and for what purpose.
        #[command(flatten)]
        who: Operator,
    },
}

/// Runs `wherry device`.
pub fn run(args: Args) -> Result<()> {
    if let DeviceCommand::Decode { model, fport, hex } = &args.command {
        let model: Model = model.parse()?;
        let bytes = wherry_lorawan::bytes::from_hex(&hex.join(" "))
            .map_err(anyhow::Error::msg)
            .context("the payload is not hex")?;
        let reading = model
            .decode(fport.unwrap_or(model.f_port()), &bytes)
            .with_context(|| format!("the payload is not a {} reading", model.id()))?;
        println!("{}", serde_json::to_string_pretty(&reading)?);
        return Ok(());
    }
    runtime().block_on(registry_command(args))
}

async fn registry_command(args: Args) -> Result<()> {
    let store = args.database.open_initialised().await?;
    match args.command {
        DeviceCommand::Decode { .. } => unreachable!("decoded above"),
        DeviceCommand::Add {
            dev_eui,
            model,
            use_kind,
            resident,
            consent_ref,
            place,
            lat,
            lon,
            who,
        } => {
            let (access, caller) = who.caller(&store, "registering a device").await?;
            let d = NewDevice {
                dev_eui,
                model,
                use_kind,
                resident,
                consent_ref,
                place,
                lat,
                lon,
            };
            let device = registry::add(&access, &caller, &d, &request_id()).await?;
            println!(
                "Registered {} ({} as {}).",
                device.dev_eui, device.model, device.use_kind
            );
        }
        DeviceCommand::List { json, who } => {
            let (access, caller) = who.caller(&store, "listing devices").await?;
            let devices = access.sensor_devices(&caller, &request_id()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&devices)?);
            } else {
                println!("dev_eui\tmodel\tuse\tlast seen\tuplinks\tbattery");
                for d in devices {
                    let seen = d
                        .last_seen_ms
                        .map(|ms| wherry_core::clock::rfc3339(ms.div_euclid(1000)))
                        .unwrap_or_else(|| "never".into());
                    let battery = d
                        .battery
                        .map(|b| format!("{b:.0}%"))
                        .unwrap_or_else(|| "-".into());
                    println!(
                        "{}\t{}\t{}\t{seen}\t{}\t{battery}",
                        d.device.dev_eui, d.device.model, d.device.use_kind, d.uplinks
                    );
                }
            }
        }
        DeviceCommand::Remove { dev_eui, who } => {
            let (access, caller) = who.caller(&store, "removing a device").await?;
            registry::remove(&access, &caller, &dev_eui, &request_id()).await?;
            println!("Removed {dev_eui} from the registry.");
        }
        DeviceCommand::WithdrawConsent { dev_eui, who } => {
            let (access, caller) = who.caller(&store, "withdrawing consent").await?;
            registry::withdraw_consent(&access, &caller, &dev_eui, &request_id()).await?;
            println!(
                "Consent withdrawn for {}: nothing it sends is processed from now on.",
                dev_eui.trim().to_ascii_lowercase()
            );
        }
        DeviceCommand::Replay { county, who } => {
            let (access, caller) = who.caller(&store, "registering devices").await?;
            let summary: wherry_synth::Summary = serde_json::from_str(
                &std::fs::read_to_string(county.join("summary.json")).with_context(|| {
                    format!("{} is not a county `wherry synth` wrote", county.display())
                })?,
            )?;
            let r = crate::demo_sensors::replay(&access, &caller, &county, summary.config.as_of)
                .await?;
            println!(
                "{} devices registered, {} uplinks replayed, {} alerts raised.",
                r.devices, r.uplinks, r.alerts
            );
        }
        DeviceCommand::Unregistered => {
            println!("dev_eui\tnetwork\tfirst heard\tlast heard\tuplinks");
            for u in store.unregistered_devices().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.dev_eui,
                    u.network,
                    wherry_core::clock::rfc3339(u.first_ms.div_euclid(1000)),
                    wherry_core::clock::rfc3339(u.last_ms.div_euclid(1000)),
                    u.uplinks
                );
            }
        }
    }
    Ok(())
}
