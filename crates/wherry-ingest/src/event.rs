//! Contact events, validated once for every path: a row of an events file
//! and an event a partner's system pushes are checked by [`check`].

use wherry_core::Date;
use wherry_store::Event;

/// Longest text taken in an event's fields.
pub const MAX_TEXT: usize = 200;

/// An event as a partner sent it.
#[derive(Debug, Clone, Copy)]
pub struct SentEvent<'a> {
    /// The partner's record id.
    pub record_id: &'a str,
    /// The date, in any layout [`Date::parse`] takes.
    pub date: &'a str,
    /// The service.
    pub service: &'a str,
    /// What kind of contact.
    pub contact_type: &'a str,
    /// Who (may be empty).
    pub practitioner: &'a str,
    /// The team that made the contact (may be empty: not shared).
    pub team: &'a str,
    /// The team's telephone number (may be empty: not shared).
    pub team_phone: &'a str,
}

/// Why an event was refused: the field and the reason (a code, a colon and
/// words; never the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field at fault.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

/// The event, trimmed and with an ISO date, or why not: record id, service
/// and contact type are required, no text is over [`MAX_TEXT`] characters
/// or holds a control or bidirectional control character, and the date is a real one no later than `today`.
pub fn check(e: &SentEvent, today: Date) -> Result<Event, Problem> {
    let problem = |field, reason: String| Problem { field, reason };
    for (field, value, required) in [
        ("record_id", e.record_id, true),
        ("service", e.service, true),
        ("contact_type", e.contact_type, true),
        ("practitioner", e.practitioner, false),
        ("team", e.team, false),
        ("team_phone", e.team_phone, false),
    ] {
        if required && value.trim().is_empty() {
            return Err(problem(field, "missing: a value is required".into()));
        }
        if let Some(code) = crate::text::refused_char(value) {
            return Err(problem(
                field,
                format!("{code}: {}", crate::text::refused_char_words(code)),
            ));
        }
        if value.chars().count() > MAX_TEXT {
            return Err(problem(
                field,
                format!("too_long: longer than {MAX_TEXT} characters"),
            ));
        }
    }
    let phone = e.team_phone.trim();
    if !phone.is_empty() && !wherry_core::looks_like_phone(phone) {
        return Err(problem(
            "team_phone",
            "invalid_phone: a telephone number is 10 to 13 digits, with spaces, +, - or brackets"
                .into(),
        ));
    }
    let shared = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    let date = match Date::parse(e.date.trim()) {
        Ok(d) if d <= today => d,
        Ok(_) => {
            return Err(problem(
                "date",
                "future_date: the date is in the future".into(),
            ));
        }
        Err(err) => return Err(problem("date", format!("impossible_date: {err}"))),
    };
    Ok(Event {
        record_id: e.record_id.trim().to_string(),
        date: date.to_string(),
        service: e.service.trim().to_string(),
        contact_type: e.contact_type.trim().to_string(),
        practitioner: e.practitioner.trim().to_string(),
        team: shared(e.team),
        team_phone: shared(e.team_phone),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sent<'a>(date: &'a str, service: &'a str) -> SentEvent<'a> {
        SentEvent {
            record_id: "R1",
            date,
            service,
            contact_type: "visit",
            practitioner: "",
            team: "",
            team_phone: "",
        }
    }

    #[test]
    fn events_are_checked_field_by_field() {
        let today = Date::new(2026, 12, 1).unwrap();
        let e = check(&sent("01/11/2026", " Falls "), today).unwrap();
        assert_eq!(
            (e.date.as_str(), e.service.as_str()),
            ("2026-11-01", "Falls")
        );
        let p = check(&sent("2027-01-01", "Falls"), today).unwrap_err();
        assert_eq!(
            (p.field, p.reason.split(':').next()),
            ("date", Some("future_date"))
        );
        let p = check(&sent("31/02/2026", "Falls"), today).unwrap_err();
        assert_eq!(
            (p.field, p.reason.split(':').next()),
            ("date", Some("impossible_date"))
        );
        let p = check(&sent("2026-01-01", " "), today).unwrap_err();
        assert_eq!(
            (p.field, p.reason.split(':').next()),
            ("service", Some("missing"))
        );
        let long = "x".repeat(MAX_TEXT + 1);
        let p = check(&sent("2026-01-01", &long), today).unwrap_err();
        assert_eq!(
            (p.field, p.reason.split(':').next()),
            ("service", Some("too_long"))
        );
    }

    proptest! {
        #[test]
        fn any_event_is_taken_or_refused_with_a_field_and_reason(
            record_id in "\\PC{0,8}", date in "\\PC{0,12}", service in "\\PC{0,8}",
            contact_type in "\\PC{0,8}", practitioner in "\\PC{0,8}",
        ) {
            let e = SentEvent { record_id: &record_id, date: &date, service: &service, contact_type: &contact_type, practitioner: &practitioner, team: &practitioner, team_phone: "" };
            match check(&e, Date::new(2026, 12, 1).unwrap()) {
                Ok(ev) => prop_assert!(!ev.record_id.is_empty() && ev.date.len() == 10),
                Err(p) => {
                    prop_assert!(["record_id", "date", "service", "contact_type", "practitioner", "team", "team_phone"].contains(&p.field));
                    prop_assert!(p.reason.contains(':'));
                }
            }
        }
    }
}
