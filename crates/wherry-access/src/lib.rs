//! Wherry's access rules.
//!
//! - [`Policy`]: which purposes each role may use (the defaults of
//!   [`Role::default_purposes`], configurable).
//! - [`view`]: what a purpose may see of one source under its data sharing
//!   agreement: the fields, attributes and events granted, nothing else.
//! - [`token`]: API tokens, made from the operating system's randomness and
//!   kept only as SHA-256 hashes.
//! - [`audit`]: the hash-chained audit log: every disclosure appended before
//!   it leaves, and a verification that names the first entry edited,
//!   inserted or removed.
//!
//! Invariant: no disclosure without a purpose the role may use; the
//! agreement decides, per source, what that purpose sees.

pub mod audit;
pub mod oidc;
pub mod token;

use std::collections::{BTreeMap, BTreeSet};

use wherry_core::{Agreement, Purpose, Role};

/// Why access was refused (no personal data in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    /// The role may not use the purpose.
    #[error("the {role} role may not use the purpose {purpose}")]
    Purpose {
        /// The role.
        role: Role,
        /// The purpose.
        purpose: Purpose,
    },
}

/// Which purposes each role may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    purposes: BTreeMap<Role, BTreeSet<Purpose>>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            purposes: Role::ALL
                .iter()
                .map(|r| (*r, r.default_purposes().iter().copied().collect()))
                .collect(),
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
