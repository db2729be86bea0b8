//! Wherry's access rules: every disclosure of personal data is decided and
//! audited here, whichever path asks (the HTTP API, the web UI, the
//! command line, and the sensor and insight crates to come).
//!
//! - [`Caller`]: a user, their role, the purpose they declared (checked
//!   against the role by [`Policy`]) and any break-glass reason; the gates
//!   each kind of request passes ([`Caller::require`]).
//! - [`Agreements`]: each source's data sharing agreement and trust, typed,
//!   read from the store's register of sources.
//! - [`view`]: what a purpose may see of one source: the fields,
//!   attributes and events its agreement grants, nothing else.
//! - [`Access`]: the disclosures, each audited before it returns: the
//!   resident view ([`Access::resident`]), search results, the review
//!   queue and pairs, the change feed, the subject access export; with
//!   [`survivorship`] (golden record, timeline, involvement, lead,
//!   pseudonymisation) and [`rights`] (erasure and retention);
//!   [`activity`]: contacts per service and month in aggregate, small
//!   counts suppressed, for planning; [`quality`]: the data team's
//!   extracts, quarantine and per-source figures; [`sensors`]: home
//!   sensors' alerts, readings and devices under the sensor service's own
//!   agreement (`tec_sensors`), and changes to them, audited.
//! - [`audit`]: the hash-chained audit log and its [`writer::Writer`];
//!   [`token`] and [`oidc`]: who a caller is.
//!
//! Invariant: no disclosure without a purpose the role may use (or a
//! written break-glass reason); the agreement decides, per source, what
//! that purpose sees; the audit entry is committed before the disclosure
//! is returned.
//!
//! ```
//! use wherry_access::{Caller, Policy};
//! use wherry_core::{Purpose, Role};
//! let policy = Policy::default();
//! let ann = Caller::authorise(&policy, "ann", Role::Advisor, Purpose::ContactCentre, None).unwrap();
//! assert!(ann.require(&[Role::Steward], "the review queue").is_err());
//! assert!(Caller::authorise(&policy, "ann", Role::Advisor, Purpose::Safeguarding, None).is_err());
//! ```

pub mod activity;
pub mod agreements;
pub mod audit;
pub mod caller;
pub mod counts;
pub mod disclose;
pub mod glass;
pub mod lead;
pub mod limits;
pub mod oidc;
pub mod quality;
pub mod relate;
pub mod rights;
mod sar;
pub mod sensors;
pub mod shared;
pub mod survivorship;
pub mod token;
pub mod trail;
pub mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use wherry_core::clock::Clock;
use wherry_core::{Agreement, Purpose, Role};
use wherry_store::{AuditEntry, AuditFilter, Change, Store};

pub use agreements::{Agreements, Terms};
pub use caller::{Caller, Denied};
pub use disclose::{Listed, Matched, ResidentView, ReviewPair};

/// Why an access operation failed.
#[derive(Debug, thiserror::Error)]
// Exhaustive: the server maps each variant to a status by name.
pub enum Error {
    /// The caller may not do this.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// What was named does not exist.
    #[error("no {0} has that id")]
    NotFound(&'static str),
    /// The store said no.
    #[error(transparent)]
    Store(#[from] wherry_store::Error),
    /// A stored value this version cannot read.
    #[error("the store holds {what} this version of Wherry cannot read: {why}")]
    Corrupt {
        /// What.
        what: &'static str,
        /// Why.
        why: String,
    },
    /// A request that cannot be taken as it is (the words say why).
    #[error("{0}")]
    Invalid(String),
    /// The audit log could not be written: nothing was disclosed.
    #[error("the audit log could not be written: {0}")]
    Audit(String),
}

/// Which purposes each role may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    purposes: BTreeMap<Role, BTreeSet<Purpose>>,
    break_glass: BTreeMap<Role, BTreeSet<Purpose>>,
    lead_services: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            purposes: Role::ALL
                .iter()
                .map(|r| (*r, r.default_purposes().iter().copied().collect()))
                .collect(),
            break_glass: Role::ALL
                .iter()
                .map(|r| (*r, r.default_break_glass().iter().copied().collect()))
                .collect(),
            lead_services: lead::LEAD_SERVICES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Policy {
    /// Replaces a role's purposes.
    pub fn set(&mut self, role: Role, purposes: impl IntoIterator<Item = Purpose>) {
        self.purposes.insert(role, purposes.into_iter().collect());
    }

    /// The purposes `role` may use.
    pub fn purposes(&self, role: Role) -> impl Iterator<Item = Purpose> + '_ {
        self.purposes.get(&role).into_iter().flatten().copied()
    }

    /// The purposes `role` may break glass into.
    pub fn break_glass(&self, role: Role) -> impl Iterator<Item = Purpose> + '_ {
        self.break_glass.get(&role).into_iter().flatten().copied()
    }

    /// The defaults with the roles named in `roles` (role → purposes, by
    /// name, as in a configuration file) replaced; the error names the
    /// role or purpose that is not known.
    pub fn with_roles<'a>(
        roles: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
    ) -> Result<Self, String> {
        let mut policy = Self::default();
        for (role, purposes) in named("roles", roles)? {
            policy.set(role, purposes);
        }
        Ok(policy)
    }

    /// This policy with the purposes the roles named may break glass into
    /// replaced (`[break_glass]` in the configuration). A partner system or
    /// an analyst may never break glass.
    pub fn with_break_glass<'a>(
        mut self,
        roles: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
    ) -> Result<Self, String> {
        for (role, purposes) in named("break_glass", roles)? {
            if matches!(role, Role::PartnerSystem | Role::Analyst) && !purposes.is_empty() {
                return Err(format!(
                    "[break_glass] {role}: this role may never break glass"
                ));
            }
            self.break_glass
                .insert(role, purposes.into_iter().collect());
        }
        Ok(self)
    }

    /// The services that may lead a resident's care ([`lead`]).
    pub fn lead_services(&self) -> &[String] {
        &self.lead_services
    }

    /// This policy with the services that may lead replaced
    /// (`lead_services` in the configuration); none is refused.
    pub fn with_lead_services(mut self, services: Vec<String>) -> Result<Self, String> {
        if services.iter().all(|s| s.trim().is_empty()) {
            return Err("lead_services: name at least one service that visits or cares".into());
        }
        self.lead_services = services;
        Ok(self)
    }

    /// Whether `role` may use `purpose`.
    pub fn check(&self, role: Role, purpose: Purpose) -> Result<(), Denied> {
        if self
            .purposes
            .get(&role)
            .is_some_and(|p| p.contains(&purpose))
        {
            Ok(())
        } else {
            Err(Denied::Purpose { role, purpose })
        }
    }
}

/// Role → purposes by name, read: the error names the table and what is
/// not known.
fn named<'a>(
    table: &str,
    roles: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
) -> Result<Vec<(Role, Vec<Purpose>)>, String> {
    roles
        .into_iter()
        .map(|(role, purposes)| {
            let role: Role = role
                .parse()
                .map_err(|e| format!("[{table}] {role:?}: {e}"))?;
            let purposes = purposes
                .iter()
                .map(|p| {
                    p.parse::<Purpose>()
                        .map_err(|e| format!("[{table}] {role}: {p:?}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((role, purposes))
        })
        .collect()
}

/// What a purpose may see of one source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    /// Canonical fields.
    pub fields: BTreeSet<String>,
    /// Attributes.
    pub attributes: BTreeSet<String>,
    /// Whether contact events.
    pub events: bool,
}

impl View {
    /// Whether nothing at all may be seen (the source is withheld).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.attributes.is_empty() && !self.events
    }

    /// Of `values` (name → value), only those this view allows.
    pub fn fields_of<V: Clone>(&self, values: &BTreeMap<String, V>) -> BTreeMap<String, V> {
        values
            .iter()
            .filter(|(k, _)| self.fields.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Of `values`, only the attributes this view allows.
    pub fn attributes_of<V: Clone>(&self, values: &BTreeMap<String, V>) -> BTreeMap<String, V> {
        values
            .iter()
            .filter(|(k, _)| self.attributes.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// What `purpose` may see of a source shared under `agreement`.
pub fn view(agreement: &Agreement, purpose: Purpose) -> View {
    match agreement.grant(purpose) {
        Some(g) => View {
            fields: g.fields.iter().cloned().collect(),
            attributes: g.attributes.iter().cloned().collect(),
            events: g.events,
        },
        None => View::default(),
    }
}

/// The disclosures over a store: the policy, the agreements (re-read every
/// [`agreements::AGREEMENTS_TTL`]) and the audit writer.
pub struct Access {
    store: Store,
    policy: Policy,
    clock: Clock,
    agreements: agreements::Cached,
    writer: writer::Writer,
}

impl Access {
    /// Disclosures from `store` under `policy`.
    pub fn new(store: Store, policy: Policy) -> Self {
        Self::with_clock(store, policy, Clock::system())
    }

    /// [`Access::new`] with a clock of the caller's (a test's manual clock).
    pub fn with_clock(store: Store, policy: Policy, clock: Clock) -> Self {
        Self {
            store,
            policy,
            clock,
            agreements: agreements::Cached::default(),
            writer: writer::Writer::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// `user` in `role` for `purpose` (see [`Caller::authorise`]).
    pub fn caller(
        &self,
        user: impl Into<String>,
        role: Role,
        purpose: Purpose,
        break_glass: Option<&str>,
    ) -> Result<Caller, Denied> {
        Caller::authorise(&self.policy, user, role, purpose, break_glass)
    }

    /// Every source's terms, as last read.
    pub async fn agreements(&self) -> Result<Arc<Agreements>, Error> {
        self.agreements.get(&self.store, &self.clock).await
    }

    /// Appends `entries` to the audit log; returns once committed.
    pub async fn record(&self, entries: Vec<AuditEntry>) -> Result<(), Error> {
        self.record_related(entries, Vec::new()).await
    }

    /// Appends `entries` to the audit log and records the reasons on
    /// record a disclosure gives its caller, in the same transaction;
    /// returns once committed.
    pub(crate) async fn record_related(
        &self,
        entries: Vec<AuditEntry>,
        relations: Vec<wherry_store::relationships::Relation>,
    ) -> Result<(), Error> {
        self.writer
            .record(&self.store, entries, relations)
            .await
            .map_err(Error::Audit)
    }

    /// The change feed after `since` (at most `limit` entries), for partner
    /// systems and stewards; audited (`changes`).
    pub async fn changes(
        &self,
        caller: &Caller,
        since: i64,
        limit: usize,
        request: &str,
    ) -> Result<Vec<Change>, Error> {
        caller.require(&[Role::PartnerSystem, Role::Steward], "the change feed")?;
        let rows = self.store.changes(since, limit).await?;
        self.record(vec![caller.entry("changes", None, request)])
            .await?;
        Ok(rows)
    }

    /// The newest `limit` audit entries matching `filter`, for the admin;
    /// audited (`audit_view`).
    pub async fn audit_entries(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        limit: i64,
        request: &str,
    ) -> Result<Vec<AuditEntry>, Error> {
        caller.require(&[Role::Admin], "the audit log")?;
        let found = self.store.audit_search(filter, limit).await?;
        // Reading who looked at whom is itself recorded: one entry for the
        // page, naming the resident when the admin asked about one.
        let person = Some(filter.person.trim()).filter(|p| !p.is_empty());
        self.record(vec![caller.entry("audit_view", person, request)])
            .await?;
        Ok(found)
    }

    /// Erases `person` (see [`rights::erase_person`]).
    pub async fn erase(
        &self,
        caller: &Caller,
        person: &str,
        reason: &str,
        request: &str,
    ) -> Result<rights::Removed, Error> {
        rights::erase_person(&self.store, caller, person, reason, request).await
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use wherry_core::PurposeGrant;

    fn agreement() -> Agreement {
        Agreement {
            lawful_basis: "public_task".into(),
            special_category_condition: None,
            retention_years: 6,
            contact: "dpo@example.org".into(),
            review_date: "2027-01-01".into(),
            purposes: [(
                "fire_prevention".to_string(),
                PurposeGrant {
                    fields: vec!["given_name".into(), "address".into()],
                    attributes: vec!["lives_alone".into()],
                    events: false,
                    sensors: Vec::new(),
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn roles_use_only_their_purposes() {
        let mut p = Policy::default();
        assert!(p.check(Role::Advisor, Purpose::ContactCentre).is_ok());
        let denied = p.check(Role::Advisor, Purpose::Safeguarding).unwrap_err();
        assert_eq!(
            denied.to_string(),
            "the advisor role may not use the purpose safeguarding"
        );
        assert!(p.check(Role::Admin, Purpose::DirectCare).is_err());
        p.set(Role::Advisor, [Purpose::Safeguarding]);
        assert!(p.check(Role::Advisor, Purpose::Safeguarding).is_ok());
        assert!(p.check(Role::Advisor, Purpose::ContactCentre).is_err());
    }

    #[test]
    fn a_purpose_sees_only_what_the_agreement_grants() {
        let a = agreement();
        let v = view(&a, Purpose::FirePrevention);
        let values: BTreeMap<String, String> = [
            ("given_name", "Ann"),
            ("nhs_number", "9434765919"),
            ("address", "1 Mill Road"),
        ]
        .into_iter()
        .map(|(k, x)| (k.to_string(), x.to_string()))
        .collect();
        let shown = v.fields_of(&values);
        assert_eq!(
            shown.keys().collect::<Vec<_>>(),
            ["address", "given_name"],
            "the NHS number is withheld"
        );
        assert!(!v.events);
        assert!(
            view(&a, Purpose::Research).is_empty(),
            "an ungranted purpose sees nothing"
        );
    }
}
