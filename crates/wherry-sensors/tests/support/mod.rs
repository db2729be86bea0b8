//! What the sensor tests share: a TEC team member to change the registry
//! as, and a resident's home with devices registered.

#![allow(dead_code)]

use wherry_access::{Access, Caller, Policy};
use wherry_core::{Purpose, Role};
use wherry_sensors::registry::{self, NewDevice};
use wherry_store::Store;
use wherry_store::testing::TestStore;

/// The resident the tests' homes belong to.
pub const PERSON: &str = "P000000001";

/// Tina of the TEC team, for direct care.
pub fn tec(store: &Store) -> (Access, Caller) {
    let access = Access::new(store.clone(), Policy::default());
    let tina = access
        .caller("tina", Role::TecTeam, Purpose::DirectCare, None)
        .unwrap();
    (access, tina)
}

/// A fresh store with resident [`PERSON`] whose home has `devices`
/// (devEUI, model, use), registered with consent.
pub async fn home(t: &TestStore, devices: &[(&str, &str, &str)]) {
    t.store.migrate().await.unwrap();
    t.execute("INSERT INTO persons (id, created_at) VALUES ('P000000001', '2026-12-01T00:00:00Z')")
        .await;
    let (access, tina) = tec(&t.store);
    for (eui, model, use_kind) in devices {
        let d = NewDevice {
            dev_eui: eui.to_string(),
            model: model.to_string(),
            use_kind: use_kind.to_string(),
            resident: Some(PERSON.into()),
            consent_ref: Some("TEC-2026-0042".into()),
            ..Default::default()
        };
        registry::add(&access, &tina, &d, "test").await.unwrap();
    }
}
