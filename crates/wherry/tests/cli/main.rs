//! The `wherry` binary run as a user would run it.

mod util;

mod access;
mod device;
mod errors;
mod hub;
mod ingest;
mod insight;
mod link;
mod serve;
mod synth;
