//! Who is asking, and why: a [`Caller`] is a user with a role, the purpose
//! they declared (which the role must be allowed to use, unless they break
//! glass with a written reason), and the gates each kind of request passes.

use wherry_core::{Purpose, Role};
use wherry_store::AuditEntry;

use crate::Policy;

/// Longest break-glass reason taken.
pub const MAX_REASON: usize = 500;

/// Why access was refused (no personal data in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive: the server maps each variant to a status by name.
pub enum Denied {
    /// The role may not use the purpose.
    #[error("the {role} role may not use the purpose {purpose}")]
    Purpose {
        /// The role.
        role: Role,
        /// The purpose.
        purpose: Purpose,
    },
    /// The role may not break glass at all.
    #[error("the {role} role may not override its purposes")]
    BreakGlassNotAllowed {
        /// The role.
        role: Role,
    },
    /// A break-glass reason that is empty or too long.
    #[error("a break-glass override needs a written reason of 1 to {MAX_REASON} characters")]
    BreakGlassReason,
    /// The request is for other roles.
    #[error("{what} is for the {} role", .roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or "))]
    Role {
        /// What was asked for.
        what: &'static str,
        /// The roles it is for.
        roles: Vec<Role>,
    },
    /// A partner system's account asked to write for a source it is not
    /// registered for.
    #[error("this account is not registered to push for the source {id}")]
    Source {
        /// The source asked for.
        id: String,
    },
    /// A pseudonymised-only role asked for something that identifies.
    #[error("{what} is not open to a pseudonymised-only role")]
    PseudonymisedOnly {
        /// What was asked for.
        what: &'static str,
    },
}

/// A user acting for a purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Who (a user's name, or `cli:NAME` for an operator at the command line).
    pub user: String,
    /// In which role.
    pub role: Role,
    /// For which purpose.
    pub purpose: Purpose,
    /// The written reason, when the role's purposes were overridden.
    pub break_glass: Option<String>,
    /// The sources a partner system's account is registered for (none for
    /// a person).
    pub sources: Vec<String>,
}

impl Caller {
    /// `user` in `role` acting for `purpose`: allowed when the policy lets
    /// the role use the purpose, or when a person (not a partner's system,
    /// not an analyst, who sees pseudonymised data only) breaks glass with a
    /// written reason, which every audit entry of theirs then carries.
    pub fn authorise(
        policy: &Policy,
        user: impl Into<String>,
        role: Role,
        purpose: Purpose,
        break_glass: Option<&str>,
    ) -> Result<Self, Denied> {
        let break_glass = match (policy.check(role, purpose), break_glass.map(str::trim)) {
            (Ok(()), _) => None,
            (Err(e), None) => return Err(e),
            (Err(_), Some(_)) if matches!(role, Role::PartnerSystem | Role::Analyst) => {
                return Err(Denied::BreakGlassNotAllowed { role });
            }
            (Err(_), Some(r)) if r.is_empty() || r.chars().count() > MAX_REASON => {
                return Err(Denied::BreakGlassReason);
            }
            (Err(_), Some(r)) => Some(r.to_string()),
        };
        Ok(Self {
            user: user.into(),
            role,
            purpose,
            break_glass,
            sources: Vec::new(),
        })
    }

    /// This caller, bound to the sources its account is registered for.
    pub fn with_sources(mut self, sources: Vec<String>) -> Self {
        self.sources = sources;
        self
    }

    /// Refuses a caller not registered for `source` (a partner system
    /// writes only for its own).
    pub fn require_source(&self, source: &str) -> Result<(), Denied> {
        if self.sources.iter().any(|s| s == source) {
            Ok(())
        } else {
            Err(Denied::Source {
                id: source.to_string(),
            })
        }
    }

    /// Refuses a caller whose role is not one of `roles`.
    pub fn require(&self, roles: &[Role], what: &'static str) -> Result<(), Denied> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(Denied::Role {
                what,
                roles: roles.to_vec(),
            })
        }
    }

    /// Refuses a pseudonymised-only caller `what` (searching or matching by
    /// identifying details).
    pub fn require_identifying(&self, what: &'static str) -> Result<(), Denied> {
        if self.role.pseudonymised_only() {
            Err(Denied::PseudonymisedOnly { what })
        } else {
            Ok(())
        }
    }

    /// An audit entry for this caller's request: who, role, purpose,
    /// break-glass reason, `action`, `person`, the request id; no sources
    /// or fields (set them where something is disclosed).
    pub fn entry(&self, action: &str, person: Option<&str>, request: &str) -> AuditEntry {
        AuditEntry {
            user_name: self.user.clone(),
            role: self.role.to_string(),
            purpose: self.purpose.to_string(),
            action: action.into(),
            person_id: person.map(str::to_string),
            sources: "[]".into(),
            fields: "[]".into(),
            request_id: request.into(),
            break_glass: self.break_glass.clone(),
            ..AuditEntry::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_glass_needs_a_person_and_a_reason() {
        let p = Policy::default();
        let ok = Caller::authorise(&p, "ann", Role::Advisor, Purpose::ContactCentre, None).unwrap();
        assert_eq!(ok.break_glass, None);
        assert_eq!(
            Caller::authorise(&p, "ann", Role::Advisor, Purpose::Safeguarding, None),
            Err(Denied::Purpose {
                role: Role::Advisor,
                purpose: Purpose::Safeguarding
            })
        );
        let glass = Caller::authorise(
            &p,
            "ann",
            Role::Advisor,
            Purpose::Safeguarding,
            Some(" child at risk "),
        )
        .unwrap();
        assert_eq!(glass.break_glass.as_deref(), Some("child at risk"));
        assert_eq!(
            Caller::authorise(&p, "ann", Role::Advisor, Purpose::Safeguarding, Some("  ")),
            Err(Denied::BreakGlassReason)
        );
        assert_eq!(
            Caller::authorise(
                &p,
                "sys",
                Role::PartnerSystem,
                Purpose::Safeguarding,
                Some("why")
            ),
            Err(Denied::BreakGlassNotAllowed {
                role: Role::PartnerSystem
            })
        );
    }

    #[test]
    fn gates_name_the_roles_a_request_is_for() {
        let c = Caller::authorise(
            &Policy::default(),
            "a",
            Role::Analyst,
            Purpose::Planning,
            None,
        )
        .unwrap();
        let e = c
            .require(&[Role::Steward, Role::Admin], "the review queue")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the review queue is for the steward or admin role"
        );
        assert!(c.require_identifying("search").is_err());
        assert!(c.require(&[Role::Analyst], "x").is_ok());
    }
}
