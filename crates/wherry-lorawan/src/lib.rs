//! LoRaWAN for Wherry, with no I/O: what the network servers send and what
//! the devices say.
//!
//! - [`chirpstack`] and [`tts`]: ChirpStack v4 and The Things Stack v3
//!   events (HTTP integration or webhook bodies, MQTT messages) parsed into
//!   one [`Event`]: an [`Uplink`], a [`Status`] (battery) or a [`Join`].
//! - [`Model`]: the devices Wherry reads (Milesight WS52x, WS301, WS202,
//!   EM300-TH, VS133; Parametric PCR2) and [`Model::decode`], which turns a
//!   payload into a [`Reading`] with the vendor decoder's field names;
//!   [`encode`] writes a reading as the device would (the synthetic
//!   county's uplinks, and the decoders' round-trip tests).
//! - [`DedupKey`]: one uplink however many times it is delivered.
//!
//! Invariants: decoding never panics, whatever the bytes; every error names
//! the byte offset or field where it stopped and never a value (a home
//! sensor's reading is personal data); the decoders are written from the
//! vendors' published codec descriptions, not copied.
//!
//! ```
//! use wherry_lorawan::{Model, bytes::from_hex};
//! let reading = Model::MilesightWs301.decode(85, &from_hex("0175640300 01").unwrap()).unwrap();
//! let json = serde_json::to_value(&reading).unwrap();
//! assert_eq!(json["door"], "open");
//! assert_eq!(json["battery"], 100);
//! ```

pub mod bytes;
pub mod chirpstack;
pub mod event;
pub mod milesight;
pub mod model;
pub mod parametric;
pub mod reading;
mod serde_util;
pub mod tts;

pub use bytes::{DecodeError, DecodeErrorKind};
pub use event::{DedupKey, DevEui, Event, EventError, Join, Network, Reception, Status, Uplink};
pub use model::{Model, UnknownModel, encode};
pub use reading::Reading;
