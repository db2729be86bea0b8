//! Wherry's insight: what joining the partners' data up is for.
//!
//! The models are pure functions with their inputs handed in, so each can
//! be tested and explained on its own:
//! - [`fire`]: fire-prevention targeting, a transparent points model over
//!   a home's residents ([`fire::Factor`], [`fire::score_home`],
//!   [`fire::rank`]); a factor an agreement withholds is *unknown*, never
//!   counted as absent, and each home carries its data completeness;
//! - [`weights`]: the model's points, from a TOML file a fire service can
//!   change ([`weights::Weights::from_toml`]), defaults documented with
//!   their sources in `docs/insight.md`.
//!
//! **Invariant:** nothing here reads the store or discloses anything: the
//! evidence a model weighs is gathered through `wherry-access`, under the
//! caller's purpose, by the crates that call it.

pub mod fire;
pub mod weights;
