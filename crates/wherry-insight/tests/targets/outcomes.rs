//! Programme outcomes over the same linked county (run from the fire
//! test's loop): a cohort from the county's reablement contacts matched
//! like with like (the risk factors balanced exactly), the interval
//! around the estimate, the reading audited; a reversed period, an empty
//! cohort and another role refused plainly.

use wherry_access::Access;
use wherry_core::{Date, Purpose, Role};
use wherry_insight::outcomes::{Question, ReportError, outcomes};
use wherry_store::Store;

use super::today;

pub async fn check(store: &Store, access: &Access, name: &str) {
    let ada = access
        .caller("ada", Role::Analyst, Purpose::Planning, None)
        .unwrap();
    let q = Question {
        cohort: vec!["reablement".into()],
        from: Date::new(2025, 6, 1).unwrap(),
        to: Date::new(2025, 12, 31).unwrap(),
        outcome: vec!["safeguarding_enquiry".into(), "welfare_check".into()],
        window_days: 180,
    };
    let o = outcomes(access, &ada, &q, today(), "r-outcomes")
        .await
        .unwrap();
    assert!(o.cohort >= 50 && o.pairs >= 20, "{name}: {o:?}");
    assert_eq!(o.cohort, o.pairs + o.unmatched + o.too_recent);
    assert!(o.ci95.0 <= o.did && o.did <= o.ci95.1, "{name}: {o:?}");
    assert!(o.balance.len() >= 2, "{name}: {:?}", o.balance);
    for b in o.balance.iter().skip(1) {
        assert!(
            b.after_matching.abs() < 1e-9,
            "{name}: matched exactly: {b:?}"
        );
    }
    let audited = store
        .audit_log(0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.request_id == "r-outcomes")
        .count();
    assert_eq!(audited, 1, "{name}");
    let reversed = Question {
        from: q.to,
        to: q.from,
        ..q.clone()
    };
    let e = outcomes(access, &ada, &reversed, today(), "r-o2")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the period is reversed"), "{e}");
    let nobody = Question {
        cohort: vec!["no_such_service".into()],
        ..q.clone()
    };
    let e = outcomes(access, &ada, &nobody, today(), "r-o3")
        .await
        .unwrap_err();
    assert!(matches!(e, ReportError::Outcome(_)), "{e}");
    assert!(e.to_string().contains("the cohort is empty"), "{e}");
    let carol = access
        .caller("carol", Role::Caseworker, Purpose::DirectCare, None)
        .unwrap();
    let e = outcomes(access, &carol, &q, today(), "r-o4")
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("programme outcomes is for the analyst role"),
        "{e}"
    );
}
