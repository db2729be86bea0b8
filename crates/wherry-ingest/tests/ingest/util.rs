//! Shared set-up: a synthetic county and the example manifests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use wherry_core::Date;
use wherry_ingest::{Manifest, Report};
use wherry_store::Store;

/// The sources of the synthetic county, with their extract file names.
pub const SOURCES: [(&str, &str); 6] = [
    ("social_care", "social_care.csv"),
    ("gp_registrations", "gp_registrations.jsonl"),
    ("fire_rescue", "fire_rescue.csv"),
    ("district_council", "district_council.csv"),
    ("police_vulnerable", "police_vulnerable.csv"),
    ("libraries", "libraries.csv"),
];

/// A county of 10,000 residents (as issue 4 asks) with one row in fifty sent
/// broken, made once.
pub fn county() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ingest-county");
        let mut config = wherry_synth::Config {
            residents: 10_000,
            seed: 5,
            ..Default::default()
        };
        config.rates.bad_row = 0.02;
        wherry_synth::generate(&config, &dir, true, &mut |_, _| {}).unwrap();
        dir
    })
}

/// An example manifest by source name.
pub fn manifest(source: &str) -> Manifest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/sources")
        .join(format!("{source}.toml"));
    wherry_ingest::load_manifest(&path).unwrap().0
}

/// The day the tests run as (after the county's reference date).
pub fn today() -> Date {
    Date::new(2026, 11, 22).unwrap()
}

/// Loads one file.
pub async fn load(
    store: &Store,
    source: &str,
    file: &Path,
) -> Result<Report, wherry_ingest::Error> {
    wherry_ingest::ingest(store, &manifest(source), file, None, "test", today()).await
}
