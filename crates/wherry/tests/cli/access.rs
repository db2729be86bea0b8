//! `wherry user` and `wherry audit` on SQLite and PostgreSQL: a token is
//! shown once and kept only as a hash; the audit log verifies until a row is
//! edited or deleted, and then the command fails naming it.

use wherry_store::AuditEntry;
use wherry_store::testing::stores;

use crate::util::*;

#[tokio::test]
async fn tokens_are_shown_once_and_the_audit_chain_names_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    for t in stores().await {
        let db = t.url.as_str();
        let o = wherry(tmp.path(), &["init", "--database", db]);
        assert!(o.status.success(), "{}", stderr(&o));

        let o = wherry(
            tmp.path(),
            &[
                "user",
                "add",
                "alice",
                "--role",
                "caseworker",
                "--database",
                db,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let token = out.lines().last().unwrap().to_string();
        assert!(token.starts_with("wherry_"), "{out}");
        assert!(out.contains("direct_care, safeguarding"), "{out}");
        let user = t
            .store
            .user_by_token(&wherry_access::token::token_hash(&token))
            .await
            .unwrap();
        let user = user.expect("the token finds its user");
        assert_eq!(
            (user.name.as_str(), user.role.as_str()),
            ("alice", "caseworker")
        );
        assert_eq!(
            t.store.user_by_token(&token).await.unwrap(),
            None,
            "the token itself is not stored"
        );
        let o = wherry(tmp.path(), &["user", "list", "--database", db]);
        assert!(!stdout(&o).contains(&token), "never listed");

        // Disabled: the token no longer names anyone; twice is an error.
        let o = wherry(tmp.path(), &["user", "disable", "alice", "--database", db]);
        assert!(o.status.success(), "{}", stderr(&o));
        let hash = wherry_access::token::token_hash(&token);
        assert_eq!(t.store.user_by_token(&hash).await.unwrap(), None);
        let o = wherry(tmp.path(), &["user", "disable", "alice", "--database", db]);
        assert!(
            !o.status.success() && stderr(&o).contains("no enabled user"),
            "{}",
            stderr(&o)
        );

        let o = wherry(
            tmp.path(),
            &[
                "user",
                "add",
                "alice",
                "--role",
                "advisor",
                "--database",
                db,
            ],
        );
        assert!(
            !o.status.success() && stderr(&o).contains("exists already"),
            "{}",
            stderr(&o)
        );
        let o = wherry(
            tmp.path(),
            &[
                "user",
                "add",
                "bob",
                "--role",
                "superuser",
                "--database",
                db,
            ],
        );
        assert!(
            stderr(&o).contains("unknown role") && stderr(&o).contains("fire_prevention"),
            "{}",
            stderr(&o)
        );

        let o = wherry(tmp.path(), &["audit", "verify", "--database", db]);
        assert!(
            o.status.success() && stdout(&o).contains("holds 0 entries"),
            "{}",
            stdout(&o)
        );
        for i in 0..4 {
            let mut tx = t.store.begin().await.unwrap();
            let e = AuditEntry {
                user_name: "alice".into(),
                role: "caseworker".into(),
                purpose: "direct_care".into(),
                action: "view".into(),
                person_id: Some(format!("P00000000{i}")),
                sources: "[]".into(),
                fields: "[]".into(),
                request_id: format!("r{i}"),
                ..AuditEntry::default()
            };
            wherry_access::audit::append(&mut tx, e).await.unwrap();
            tx.commit().await.unwrap();
        }
        // Written here, without the store's audit key: not vouched for.
        let o = wherry(tmp.path(), &["audit", "verify", "--database", db]);
        assert!(
            !o.status.success() && stderr(&o).contains("entry 1: it carries no MAC"),
            "{}",
            stderr(&o)
        );
        t.execute("UPDATE audit_log SET person_id = 'P000000009' WHERE seq = 2")
            .await;
        let o = wherry(tmp.path(), &["audit", "verify", "--database", db]);
        assert!(!o.status.success(), "{}: an edit is found", t.name);
        assert!(stderr(&o).contains("entry 2"), "{}", stderr(&o));
        t.execute("DELETE FROM audit_log WHERE seq = 2").await;
        let o = wherry(tmp.path(), &["audit", "verify", "--database", db]);
        assert!(
            stderr(&o).contains("entry 2") && stderr(&o).contains("removed"),
            "{}",
            stderr(&o)
        );
        t.finish().await;
    }
}
