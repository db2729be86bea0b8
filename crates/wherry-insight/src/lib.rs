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
//!   their sources in `docs/insight.md`;
//! - [`targets`]: the list from the hub: the county as the caller's
//!   purpose may see it (`wherry_access::Access::county`), homes by UPRN
//!   ([`targets::HomesBuilder`], pure, fed a record at a time), ranked,
//!   each resident listed audited;
//! - [`visits`]: coordinated visits: residents three or more services saw
//!   in 90 days, a lead among the services that visit or care, and the
//!   home visits one lead would save;
//! - [`demand`]: contacts per service, month and postcode district (or
//!   ward), pseudonymised, each series forecast six months ahead with
//!   intervals by [`forecast`] (and back-tested against seasonal naive);
//!   [`chart`] draws it.
//!
//! **Invariant:** the models read nothing; what they weigh comes only
//! through `wherry-access`, under the caller's purpose, and every resident
//! a report shows is recorded in the audit log before it is shown.

pub mod chart;
pub mod demand;
pub mod disclosure;
pub mod extract;
pub mod fire;
pub mod forecast;
pub mod outcomes;
pub mod parquet;
pub mod publish;
pub mod targets;
pub mod visits;
pub mod weights;
