//! Who is asking, and why: a [`Caller`] is a user with a role, the purpose
//! they declared (which the role must be allowed to use, unless they break
//! glass with a written reason), and the gates each kind of request passes.

use wherry_core::{Purpose, Role};
use wherry_store::AuditEntry;

use crate::Policy;

/// Longest break-glass reason taken.
pub const MAX_REASON: usize = 500;
/// Shortest break-glass reason taken, in characters (and it must be at
/// least [`MIN_REASON_WORDS`] words).
pub const MIN_REASON: usize = 20;
/// Fewest words in a break-glass reason.
pub const MIN_REASON_WORDS: usize = 4;

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
    /// A break-glass reason that is too short, too long or not words.
    #[error(
        "a break-glass override needs a written reason: at least {MIN_REASON_WORDS} words, {MIN_REASON} to {MAX_REASON} characters, saying why"
    )]
    BreakGlassReason,
    /// The role may break glass, but not into this purpose.
    #[error("the {role} role may not override into the purpose {purpose}")]
    BreakGlassPurpose {
        /// The role.
        role: Role,
        /// The purpose.
        purpose: Purpose,
    },
    /// The reason repeats the caller's previous break-glass reason, past
    /// the hour one override lasts.
    #[error("that reason was given for an earlier override: write why this override is needed now")]
    BreakGlassRepeat,
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
    /// No reason on record to open this resident.
    #[error(
        "you have no reason on record to open this resident: find them by search first, or open them from your team's caseload (or break glass with a reason)"
    )]
    NoRelationship,
    /// A source's agreement does not share this with the purpose.
    #[error("the {id} agreement does not share {what} for the purpose {purpose}")]
    Agreement {
        /// The source.
        id: &'static str,
        /// What was asked for.
        what: &'static str,
        /// The caller's purpose.
        purpose: Purpose,
    },
    /// A pseudonymised-only role asked for something that identifies.
    #[error("{what} is not open to a pseudonymised-only role")]
    PseudonymisedOnly {
        /// What was asked for.
        what: &'static str,
    },
    /// The request is for other purposes.
    #[error("{what} is for the purpose {}", .purposes.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(" or "))]
    ForPurposes {
        /// What was asked for.
        what: &'static str,
        /// The purposes it is for.
        purposes: Vec<Purpose>,
    },
}

/// Whether a break-glass reason reads as one: long enough, in words with
/// letters, not a run of one character.
fn meaningful(reason: &str) -> bool {
    let chars = reason.chars().count();
    let words = reason
        .split_whitespace()
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .count();
    let distinct: std::collections::BTreeSet<char> = reason
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    (MIN_REASON..=MAX_REASON).contains(&chars) && words >= MIN_REASON_WORDS && distinct.len() >= 5
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
    /// not an analyst, who sees pseudonymised data only) breaks glass into
    /// a purpose the policy lets their role override into, with a written
    /// reason of some words, which every audit entry of theirs then
    /// carries (that it does not repeat an earlier override's reason is
    /// checked against the store, by `Access::break_glass`).
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
            (Err(_), Some(_)) if !policy.break_glass(role).any(|p| p == purpose) => {
                return Err(Denied::BreakGlassPurpose { role, purpose });
            }
            (Err(_), Some(r)) if !meaningful(r) => {
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

    /// Refuses `what` unless the caller acts for one of `purposes`.
    pub fn require_purpose(&self, purposes: &[Purpose], what: &'static str) -> Result<(), Denied> {
        if purposes.contains(&self.purpose) {
            Ok(())
        } else {
            Err(Denied::ForPurposes {
                what,
                purposes: purposes.to_vec(),
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
            Some(" caller says the child is at risk tonight "),
        )
        .unwrap();
        assert_eq!(
            glass.break_glass.as_deref(),
            Some("caller says the child is at risk tonight")
        );
        for reason in [
            "  ",
            ".",
            "child at risk",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
            "a a a a a a a a a a a a",
            &"why ".repeat(200),
        ] {
            assert_eq!(
                Caller::authorise(
                    &p,
                    "ann",
                    Role::Advisor,
                    Purpose::Safeguarding,
                    Some(reason)
                ),
                Err(Denied::BreakGlassReason),
                "{reason:?}"
            );
        }
        assert_eq!(
            Caller::authorise(
                &p,
                "ann",
                Role::Advisor,
                Purpose::Research,
                Some("I would like to see the research view")
            ),
            Err(Denied::BreakGlassPurpose {
                role: Role::Advisor,
                purpose: Purpose::Research
            }),
            "an advisor may override into safeguarding only"
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
