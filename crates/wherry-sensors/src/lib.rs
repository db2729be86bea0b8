//! Wherry's sensors: LoRaWAN devices in consenting residents' homes and on
//! streets and in libraries.
//!
//! - [`registry`]: what each device is ([`Use`], model, resident and
//!   consent, or site), checked before it is stored.
//! - [`intake`]: one network-server event in, as named steps: decode the
//!   event → de-duplicate → resolve the device → check consent → decode the
//!   payload with the device's model → persist. Every rejection has a
//!   reason and is counted ([`intake::Counters`]); unknown devices are
//!   listed, not dropped.
//! - [`mqtt`]: the same events from a broker (ChirpStack's and The Things
//!   Stack's topics), persistent session, QoS 1, acknowledged after the
//!   intake has taken each.
//!
//! Routines, alert rules and the alert lifecycle are issue 14's next steps.
//!
//! Invariants: nothing about a home device is logged or put in an error
//! message in clear (a reading says when a resident is at home); an uplink
//! is stored once however often it is delivered (the store's transaction
//! decides); an uplink from a device whose consent is withdrawn is refused
//! and nothing of it is stored.

pub mod alert;
pub mod chart;
pub mod counters;
pub mod detection;
pub mod intake;
pub mod monitor;
pub mod mqtt;
pub mod notify;
pub mod registry;
pub mod routine;
pub mod watch;

pub use intake::{Counters, Intake, Outcome, Rejection};
pub use monitor::{Alert, AlertKind, Home, Seen};
pub use registry::{NewDevice, RegistryError, Use};
pub use routine::{Routine, Thresholds};
pub use watch::Watch;
