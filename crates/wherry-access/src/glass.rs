//! Break-glass overrides after they are allowed: each request under one is
//! recorded for the data protection officer's review, a reason that
//! repeats the caller's previous override (past the hour one lasts) is
//! refused, and the officer (an admin) lists and signs them off.

use wherry_core::Role;
use wherry_store::Override;
use wherry_store::break_glass::{Use, Using};

use crate::{Access, Caller, Denied, Error};

/// How long one override's reason covers a caller's requests.
pub const OVERRIDE_WINDOW_MS: i64 = 60 * 60 * 1000;

/// Longest sign-off note.
pub const MAX_NOTE: usize = 1000;

impl Access {
    /// Records `caller`'s request under their break-glass reason, if they
    /// broke glass: refused when the reason repeats their previous
    /// override's.
    pub async fn break_glass(&self, caller: &Caller) -> Result<(), Error> {
        let Some(reason) = &caller.break_glass else {
            return Ok(());
        };
        let using = Using {
            user_name: &caller.user,
            role: caller.role.as_str(),
            purpose: caller.purpose.as_str(),
            reason,
        };
        match self
            .store
            .use_break_glass(using, self.clock.unix_ms(), OVERRIDE_WINDOW_MS)
            .await?
        {
            Use::Repeat => Err(Denied::BreakGlassRepeat.into()),
            Use::Opened | Use::Continued => Ok(()),
        }
    }

    /// The overrides (awaiting sign-off, or all), newest first, for the
    /// admin; audited (`break_glass_review`), since a reason may speak of
    /// a resident.
    pub async fn overrides(
        &self,
        caller: &Caller,
        awaiting_only: bool,
        request: &str,
    ) -> Result<Vec<Override>, Error> {
        caller.require(&[Role::Admin], "break-glass review")?;
        let list = self.store.break_glass_overrides(awaiting_only, 500).await?;
        self.record(vec![caller.entry("break_glass_review", None, request)])
            .await?;
        Ok(list)
    }

    /// Signs override `id` off with the officer's `note`; false when none
    /// awaits sign-off under that number.
    pub async fn sign_off(&self, caller: &Caller, id: i64, note: &str) -> Result<bool, Error> {
        caller.require(&[Role::Admin], "break-glass review")?;
        let note = note.trim();
        if note.is_empty() || note.chars().count() > MAX_NOTE {
            return Err(Error::Invalid(format!(
                "a sign-off needs a note of 1 to {MAX_NOTE} characters"
            )));
        }
        Ok(self
            .store
            .sign_off_break_glass(id, &caller.user, &wherry_core::clock::now(), note)
            .await?)
    }
}
