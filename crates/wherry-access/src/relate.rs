//! Legitimate relationships: a caller opens a resident's view only with a
//! reason on record. A search that returned the person, or a review item
//! that showed them, is a reason for [`RELATED_FOR_MS`]; a person on the
//! caller's team's caseload is one until taken off; a partner system has
//! one with each person linked to a record of its own sources; the TEC
//! team has one with each resident who has a home sensor registered with
//! their consent standing (the service they consented to). Breaking
//! glass (with its reason, reviewed by the data protection officer) needs
//! none; nor does an analyst, who sees pseudonymised data only.
//!
//! The unusual-access review flags users for the data protection
//! officer: far more residents opened than their role's peers, bulk
//! reading out of hours, and breaking glass.

use wherry_core::Role;
use wherry_store::relationships::{Caseload, Reads, Relation};

use crate::{Access, Caller, Denied, Error};

/// How long a search result or a review item stays a reason to open the
/// person: 30 minutes.
pub const RELATED_FOR_MS: i64 = 30 * 60 * 1000;

/// The roles that keep a caseload.
pub const CASELOAD_ROLES: &[Role] = &[Role::Caseworker, Role::TecTeam, Role::Steward];

/// Residents opened in the window from which a user is flagged when it is
/// also three times their role's median.
pub const MANY_RESIDENTS: i64 = 50;

/// Residents opened out of hours (before 07:00, from 19:00 UTC) in the
/// window from which a user is flagged.
pub const OUT_OF_HOURS_RESIDENTS: i64 = 20;

/// A user flagged for the officer, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Flag {
    /// Who.
    pub user_name: String,
    /// In which role.
    pub role: String,
    /// Why, in words.
    pub why: String,
}

impl Access {
    /// Refuses `caller` the view of `person` without a reason on record.
    pub async fn require_relationship(&self, caller: &Caller, person: &str) -> Result<(), Error> {
        if caller.break_glass.is_some() || caller.role.pseudonymised_only() {
            return Ok(());
        }
        if caller.role == Role::PartnerSystem {
            let held = self.store().person_sources(person).await?;
            if held.iter().any(|s| caller.sources.contains(s)) {
                return Ok(());
            }
            return Err(Denied::NoRelationship.into());
        }
        if caller.role == Role::TecTeam
            && self
                .store()
                .devices_of(person)
                .await?
                .iter()
                .any(|d| d.consent_withdrawn_ms.is_none())
        {
            return Ok(());
        }
        match self
            .store()
            .relationship(&caller.user, person, self.clock.unix_ms())
            .await?
        {
            Some(_) => Ok(()),
            None => Err(Denied::NoRelationship.into()),
        }
    }

    /// The reasons on record that showing `persons` to `caller` (by a
    /// search, `search`, or a review item, `review`) gives them, for
    /// [`RELATED_FOR_MS`]; none for a partner system.
    pub(crate) fn relations(
        &self,
        caller: &Caller,
        persons: &[String],
        why: &str,
    ) -> Vec<Relation> {
        if caller.role == Role::PartnerSystem {
            return Vec::new();
        }
        let until_ms = self.clock.unix_ms() + RELATED_FOR_MS;
        persons
            .iter()
            .map(|p| Relation {
                user: caller.user.clone(),
                person: p.clone(),
                reason: why.to_string(),
                until_ms,
            })
            .collect()
    }

    /// Puts `person` on the caller's team's caseload (or, `add` false,
    /// takes them off). The caller must have a reason to open them now;
    /// audited (`caseload_add`, `caseload_remove`). False when nothing
    /// changed.
    pub async fn caseload_change(
        &self,
        caller: &Caller,
        person: &str,
        add: bool,
        request: &str,
    ) -> Result<bool, Error> {
        caller.require(CASELOAD_ROLES, "a team's caseload")?;
        if !self.store().person_exists(person).await? {
            return Err(Error::NotFound("resident"));
        }
        let team = self.store().team_of(&caller.user).await?;
        let changed = if add {
            self.require_relationship(caller, person).await?;
            let at = wherry_core::clock::now();
            self.store()
                .add_to_caseload(&team, person, &caller.user, &at)
                .await?
        } else {
            self.store().remove_from_caseload(&team, person).await?
        };
        let action = if add {
            "caseload_add"
        } else {
            "caseload_remove"
        };
        self.record(vec![caller.entry(action, Some(person), request)])
            .await?;
        Ok(changed)
    }

    /// The caller's team's caseload (ids only: no one's details).
    pub async fn caseload(&self, caller: &Caller) -> Result<(String, Vec<Caseload>), Error> {
        caller.require(CASELOAD_ROLES, "a team's caseload")?;
        let team = self.store().team_of(&caller.user).await?;
        let list = self.store().caseload(&team).await?;
        Ok((team, list))
    }

    /// Users to look at, from the audit log since `since` (RFC 3339) and
    /// the break-glass overrides awaiting sign-off; for the admin, audited
    /// (`unusual_access_review`).
    pub async fn unusual_access(
        &self,
        caller: &Caller,
        since: &str,
        request: &str,
    ) -> Result<(Vec<Flag>, Vec<Reads>), Error> {
        caller.require(&[Role::Admin], "the unusual-access review")?;
        let reads = self.store().reads_since(since).await?;
        let mut flags = flags(&reads);
        for o in self.store().break_glass_overrides(true, 500).await? {
            flags.push(Flag {
                user_name: o.user_name,
                role: o.role,
                why: format!(
                    "broke glass into {} ({} requests): \"{}\", not yet signed off",
                    o.purpose, o.uses, o.reason
                ),
            });
        }
        self.record(vec![caller.entry("unusual_access_review", None, request)])
            .await?;
        Ok((flags, reads))
    }
}

/// The users whose reads stand out: far more residents than the median of
/// their role's users (three times, and at least [`MANY_RESIDENTS`]), or at
/// least [`OUT_OF_HOURS_RESIDENTS`] out of hours.
pub fn flags(reads: &[Reads]) -> Vec<Flag> {
    let mut out = Vec::new();
    for r in reads {
        let mut peers: Vec<i64> = reads
            .iter()
            .filter(|p| p.role == r.role)
            .map(|p| p.persons)
            .collect();
        peers.sort_unstable();
        let median = peers[peers.len() / 2];
        if r.persons >= MANY_RESIDENTS && r.persons > 3 * median {
            out.push(Flag {
                user_name: r.user_name.clone(),
                role: r.role.clone(),
                why: format!(
                    "opened {} residents, against a median of {median} for the {} role",
                    r.persons, r.role
                ),
            });
        }
        if r.out_of_hours >= OUT_OF_HOURS_RESIDENTS {
            out.push(Flag {
                user_name: r.user_name.clone(),
                role: r.role.clone(),
                why: format!(
                    "opened {} residents out of hours (before 07:00 or from 19:00 UTC)",
                    r.out_of_hours
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(user: &str, role: &str, persons: i64, out_of_hours: i64) -> Reads {
        Reads {
            user_name: user.into(),
            role: role.into(),
            persons,
            out_of_hours,
        }
    }

    #[test]
    fn a_user_far_above_their_peers_or_reading_at_night_is_flagged() {
        let all = [
            reads("a", "advisor", 12, 0),
            reads("b", "advisor", 15, 1),
            reads("c", "advisor", 14, 0),
            reads("bulk", "advisor", 900, 0),
            reads("night", "caseworker", 30, 25),
            reads("d", "caseworker", 40, 0),
        ];
        let f = flags(&all);
        let who: Vec<(&str, bool)> = f
            .iter()
            .map(|f| (f.user_name.as_str(), f.why.contains("out of hours")))
            .collect();
        assert_eq!(who, [("bulk", false), ("night", true)]);
        assert!(f[0].why.contains("median of 15"), "{}", f[0].why);
        assert!(flags(&[]).is_empty());
    }
}
