//! The API's one error: a status and a JSON body that names the reason and
//! never personal data or internal text. The store's, the hub's and the
//! access rules' errors map in with `From` impls that name every variant,
//! so a new kind of failure forces a decision here; a 5xx is logged with
//! the request's id.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wherry_access::Denied;

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
    retry_after: Option<u64>,
    /// What failed, for the log (never sent).
    internal: Option<String>,
}

impl ApiError {
    /// A refusal with a status, a code and a message for the caller.
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            internal: None,
        }
    }

    /// Adds `Retry-After`.
    pub(crate) fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A failure of ours: the caller hears only that it failed; the log
    /// (written with the request id by [`crate::request::layer`]) hears
    /// `why`, which names tables, rules and paths, never values.
    pub(crate) fn internal(why: impl std::fmt::Display) -> Self {
        Self {
            internal: Some(why.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the request could not be completed",
            )
        }
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no {what} has that id"),
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The internal cause of a 5xx, carried to the request layer for its log.
#[derive(Debug, Clone)]
pub(crate) struct Internal(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "message": self.message});
        let mut response = (self.status, Json(body)).into_response();
        response.extensions_mut().insert(crate::security::Refused {
            code: self.code,
            reason: self.message.clone(),
        });
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(s));
        }
        if let Some(why) = self.internal {
            response.extensions_mut().insert(Internal(why));
        }
        response
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        let code = match &d {
            Denied::Purpose { .. } => "purpose_not_allowed",
            Denied::BreakGlassNotAllowed { .. } => "break_glass_not_allowed",
            Denied::BreakGlassReason => "break_glass_reason",
            Denied::BreakGlassPurpose { .. } => "break_glass_purpose",
            Denied::BreakGlassRepeat => "break_glass_repeat",
            Denied::Role { .. } => "role_not_allowed",
            Denied::Source { .. } => "source_not_allowed",
            Denied::Agreement { .. } => "agreement_does_not_share",
            Denied::NoRelationship => "no_relationship",
            Denied::PseudonymisedOnly { .. } => "pseudonymised_only",
            Denied::ForPurposes { .. } => "purpose_not_allowed",
        };
        let status = if matches!(d, Denied::BreakGlassReason | Denied::BreakGlassRepeat) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::FORBIDDEN
        };
        Self::new(status, code, d.to_string())
    }
}

impl From<wherry_store::Error> for ApiError {
    fn from(e: wherry_store::Error) -> Self {
        use wherry_store::Error as E;
        match e {
            E::NotInitialised => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_initialised",
                "the store has not been initialised",
            ),
            e if e.is_overloaded() => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "the service is busy: try again in a moment",
            )
            .retry_after(1),
            E::UnknownScheme { .. }
            | E::MigrationEdited { .. }
            | E::DatabaseNewer { .. }
            | E::Corrupt { .. }
            | E::Open(_)
            | E::Database(_) => Self::internal(e),
        }
    }
}

impl From<wherry_access::Error> for ApiError {
    fn from(e: wherry_access::Error) -> Self {
        use wherry_access::Error as E;
        match e {
            E::Denied(d) => d.into(),
            E::NotFound(what) => Self::not_found(what),
            E::Store(s) => s.into(),
            E::Invalid(why) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", why),
            E::Corrupt { .. } | E::Audit(_) => Self::internal(e),
        }
    }
}

impl From<wherry_hub::Error> for ApiError {
    fn from(e: wherry_hub::Error) -> Self {
        use wherry_hub::Error as E;
        match e {
            E::Store(s) => s.into(),
            E::Access(a) => a.into(),
            E::Denied(d) => d.into(),
            E::NotLinked(..) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_linked_record",
                "a record named is not a current, linked record",
            ),
            E::ReasonTooLong { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason_too_long",
                e.to_string(),
            ),
            E::SameRecord => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "same_record",
                "left and right name the same record",
            ),
            E::UnknownSource(_) => Self::new(
                StatusCode::NOT_FOUND,
                "unknown_source",
                "no source has that id",
            ),
            E::NoModel | E::NoRecords => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "not_linked",
                "no linkage run has been made yet: run `wherry link run`, then restart the server",
            ),
            E::Link(_) | E::Corrupt { .. } | E::Task(_) => Self::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_too_busy_to_answer_is_503_with_retry_after_not_500() {
        let busy: ApiError = wherry_store::Error::Database(sqlx_pool_timed_out()).into();
        assert_eq!(
            (busy.status, busy.code),
            (StatusCode::SERVICE_UNAVAILABLE, "overloaded")
        );
        let r = busy.into_response();
        assert_eq!(r.headers()["retry-after"], "1");
        let other: ApiError = wherry_store::Error::NotInitialised.into();
        assert_ne!(other.code, "overloaded");
    }

    fn sqlx_pool_timed_out() -> wherry_store::SqlxError {
        wherry_store::SqlxError::PoolTimedOut
    }
}
