//! What only the IndexedDB backend and the stored session do, in headless Chromium (`cargo test
//! -p tongxin-app --target wasm32-unknown-unknown`); the behaviours every backend shares are in
//! `store_suite.rs`.
#![cfg(target_arch = "wasm32")]

use tongxin_app::idb::IdbStore;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn data_survives_reopening_the_database() {
    use tongxin_app::store::LocalStore;
    let name = format!("tongxin-test-{}", uuid::Uuid::new_v4());
    {
        let store = IdbStore::open(&name).await.expect("open");
        store.meta_set("cursor", "7").await.expect("meta");
    }
    let again = IdbStore::open(&name).await.expect("reopen");
    assert_eq!(
        again.meta_get("cursor").await.expect("meta").as_deref(),
        Some("7")
    );
}

/// A case op for `record`, titled `title`.
fn case_op(n: u128, title: &str) -> tongxin_shared::Op {
    use tongxin_shared::{ActorId, Collection, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};
    let mut fields = std::collections::BTreeMap::new();
    fields.insert("title".to_owned(), serde_json::Value::from(title));
    Op {
        id: OpId(uuid::Uuid::from_u128(n)),
        actor: ActorId(uuid::Uuid::from_u128(1)),
        hlc: Hlc::new(1_732_500_000_000, n as u32),
        collection: Collection::Cases,
        record: RecordId(uuid::Uuid::from_u128(n)),
        body: OpBody::Set { fields },
        schema: SCHEMA_VERSION,
    }
}

#[wasm_bindgen_test]
async fn each_user_has_their_own_database() {
    use tongxin_app::store::LocalStore;
    use tongxin_app::sync::data_db_name;
    use tongxin_shared::Collection;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (a, b) = (format!("a{run}"), format!("b{run}"));
    assert_ne!(data_db_name(&a), data_db_name(&b));
    let store_a = IdbStore::open(&data_db_name(&a)).await.expect("open a");
    store_a
        .commit_local(&[case_op(1, "A's draft")])
        .await
        .expect("commit");
    // User B on the same browser: nothing of A's, not even the waiting op.
    let store_b = IdbStore::open(&data_db_name(&b)).await.expect("open b");
    assert!(store_b
        .list(Collection::Cases)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(store_b.outbox_len().await.expect("outbox"), 0);
    // A's data is still there when A comes back.
    let again = IdbStore::open(&data_db_name(&a)).await.expect("reopen a");
    assert_eq!(again.list(Collection::Cases).await.expect("list").len(), 1);
    assert_eq!(again.outbox_len().await.expect("outbox"), 1);
}

#[wasm_bindgen_test]
async fn the_session_survives_and_sign_out_forgets_only_it() {
    use tongxin_app::sync::{clear_session, load_session, save_session, Session};
    use tongxin_shared::case::Role;
    use tongxin_shared::wire::Me;
    let session = Session {
        token: "ab".repeat(32),
        expires_at_ms: 1_735_000_000_000,
        me: Me {
            username: "w0001".into(),
            display_name: "网格员".into(),
            role: Role::Warden,
            grids: vec![],
            communities: vec![],
            subdistricts: vec![],
            scope: "s1".into(),
        },
        me_fresh: true,
    };
    save_session(&session).await.expect("save");
    // Read back as stored: its account is no longer "just answered", so the round asks again.
    let stored = Session {
        me_fresh: false,
        ..session.clone()
    };
    assert_eq!(load_session().await, Some(stored));
    clear_session().await.expect("clear");
    assert_eq!(load_session().await, None);
}
