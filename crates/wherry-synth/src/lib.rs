//! A synthetic county for Wherry: residents living in households, the
//! extracts each partner would send about them (with realistic data-entry
//! errors and a few broken rows), the ground truth kept apart, contact events,
//! and sensor uplinks.
//!
//! Invariant: the output is a pure function of the [`Config`]: the same seed
//! gives byte-identical files, on any machine. Generation streams household by
//! household (and sensor data day by day), so memory stays bounded however
//! many residents are asked for.
//!
//! ```
//! use wherry_synth::{Config, generate};
//! let out = std::env::temp_dir().join(format!("wherry-synth-doc-{}", std::process::id()));
//! let config = Config { residents: 300, seed: 7, ..Config::default() };
//! let summary = generate(&config, &out, true, &mut |_, _| {}).unwrap();
//! assert_eq!(summary.residents, 300);
//! assert!(out.join("extracts/social_care.csv").exists());
//! # std::fs::remove_dir_all(&out).unwrap();
//! ```
//!
//! The layout of every file is documented in `docs/synthetic-county.md`.

pub mod events;
pub mod extracts;
pub mod noise;
pub mod partners;
pub mod population;
pub mod rng;
pub mod sensors;
pub mod tables;

mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use wherry_core::Date;

pub use noise::Rates;
pub use partners::Source;
pub use writer::write_county;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// How many residents.
    pub residents: u64,
    /// The seed: the same seed gives the same county.
    pub seed: u64,
    /// The reference date: ages are taken, and event and sensor histories
    /// end, on this day. Fixed by default so that output depends only on the seed.
    pub as_of: Date,
    /// Data-entry error rates.
    pub rates: Rates,
    /// Share of residents aged 75 or over who consent to home sensors.
    pub sensor_rate: f64,
    /// Also write `linkage/records.csv`: every unbroken partner record in
    /// the canonical fields, as ingest would hand them to the linker.
    #[serde(default)]
    pub canonical: bool,
    /// Only these canonical fields in `linkage/records.csv` (besides
    /// `record_id` and `source`): a sparse county, as partners that hold
    /// little send it (for example `given_name`, `family_name`, `dob`).
    /// Empty: every field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// The default reference date.
pub const DEFAULT_AS_OF: (i32, u8, u8) = (2026, 10, 31);

impl Default for Config {
    fn default() -> Self {
        let (y, m, d) = DEFAULT_AS_OF;
        Self {
            residents: 10_000,
            seed: 7,
            as_of: Date::new(y, m, d).expect("valid default date"),
            rates: Rates::default(),
            sensor_rate: 0.01,
            canonical: false,
            columns: Vec::new(),
        }
    }
}

impl Config {
    /// Checks the numbers before anything is written.
    pub fn validate(&self) -> Result<(), Error> {
        if self.residents == 0 {
            return Err(Error::NoResidents);
        }
        if self.residents > MAX_RESIDENTS {
            return Err(Error::TooManyResidents { max: MAX_RESIDENTS });
        }
        let rates = self.rates.named();
        for (name, value) in rates.into_iter().chain([("sensor_rate", self.sensor_rate)]) {
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::BadRate { name, value });
            }
        }
        Ok(())
    }
}

/// The most residents one county may have (the synthetic NHS number range
/// holds about nine million).
pub const MAX_RESIDENTS: u64 = 8_000_000;

/// Why a county could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Zero residents were asked for.
    #[error("the number of residents must be at least 1")]
    NoResidents,
    /// More residents than the id ranges hold.
    #[error("the number of residents must be at most {max}")]
    TooManyResidents {
        /// The limit.
        max: u64,
    },
    /// A rate outside 0–1.
    #[error("rate {name} is {value}, but rates must be between 0 and 1")]
    BadRate {
        /// Which rate.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// The output directory already holds files.
    #[error("{}: the output directory exists and is not empty; choose another or pass --force to replace it", .path.display())]
    OutputNotEmpty {
        /// The directory.
        path: PathBuf,
    },
    /// `--force` was given for a directory that is not a previous county.
    #[error("{}: refusing to replace a directory that is not a synthetic county (it has no summary.json from wherry synth)", .path.display())]
    NotACounty {
        /// The directory.
        path: PathBuf,
    },
    /// The output path exists and is a file.
    #[error("{}: the output path exists and is not a directory", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Reading or writing a file failed (the operating system's reason is
    /// this error's source).
    #[error("cannot write {}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
}

impl Error {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Which part of the work a progress tick is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Residents written (ticks count residents).
    Residents,
    /// Sensor days written (ticks count days).
    Sensors,
}

/// What was generated, also written to `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Always `"wherry synth"`: marks a directory this command made.
    pub generator: String,
    /// The configuration used.
    pub config: Config,
    /// Residents.
    pub residents: u64,
    /// Households.
    pub households: u64,
    /// Residents aged 65 or over.
    pub residents_over_65: u64,
    /// Rows per extract, by source name.
    pub records: BTreeMap<String, u64>,
    /// Deliberately broken rows, by source name.
    pub bad_rows: BTreeMap<String, u64>,
    /// Contact events, by source name.
    pub events: BTreeMap<String, u64>,
    /// Homes at or above the high-risk score.
    pub high_risk_homes: u64,
    /// Of those, homes planted as high risk.
    pub planted_high_risk_homes: u64,
    /// Sensor homes, devices, uplinks and anomalies.
    pub sensors: sensors::SensorCounts,
}

/// The marker in `summary.json`.
pub const GENERATOR: &str = "wherry synth";

/// Generates a county into `out`.
///
/// The county is written to a temporary directory beside `out` and renamed
/// into place at the end, so `out` never holds half a county. An existing
/// non-empty `out` is an error unless `force` is set, and even then only a
/// previous county (a directory with this command's `summary.json`) is
/// replaced.
pub fn generate(
    config: &Config,
    out: &Path,
    force: bool,
    progress: &mut dyn FnMut(Stage, u64),
) -> Result<Summary, Error> {
    config.validate()?;
    let replace = check_output(out, force)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(Error::io(out))?;
    let name = out
        .file_name()
        .map_or("county".into(), |n| n.to_string_lossy().into_owned());
    remove_stale_partials(&parent, &name);
    let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(out))?;
    }
    // Errors name the path the caller asked for, not the temporary one.
    let in_out = |e: Error| match e {
        Error::Io { path, source } => {
            let path = path
                .strip_prefix(&tmp)
                .map_or(path.clone(), |rel| out.join(rel));
            Error::Io { path, source }
        }
        other => other,
    };
    std::fs::create_dir(&tmp).map_err(Error::io(out))?;
    let summary = match write_county(config, &tmp, progress) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(in_out(e));
        }
    };
    if replace {
        std::fs::remove_dir_all(out).map_err(Error::io(out))?;
    }
    std::fs::rename(&tmp, out).map_err(Error::io(out))?;
    Ok(summary)
}

/// Removes temporary directories left beside `out` by runs that were killed
/// (their process no longer exists).
fn remove_stale_partials(parent: &Path, name: &str) {
    let prefix = format!(".{name}.partial-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        if !alive && Path::new("/proc/self").exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether `out` exists and must be replaced; an error if it may not be.
fn check_output(out: &Path, force: bool) -> Result<bool, Error> {
    if !out.exists() {
        return Ok(false);
    }
    if !out.is_dir() {
        return Err(Error::NotADirectory {
            path: out.to_path_buf(),
        });
    }
    let empty = std::fs::read_dir(out)
        .map_err(Error::io(out))?
        .next()
        .is_none();
    if empty {
        return Ok(true);
    }
    if !force {
        return Err(Error::OutputNotEmpty {
            path: out.to_path_buf(),
        });
    }
    if !is_county(out) {
        return Err(Error::NotACounty {
            path: out.to_path_buf(),
        });
    }
    Ok(true)
}

/// Whether `dir` holds a county written by this crate.
pub fn is_county(dir: &Path) -> bool {
    std::fs::read(dir.join("summary.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|v| v.get("generator").and_then(|g| g.as_str()) == Some(GENERATOR))
}
