//! The IndexedDB backend passes the same suite as the memory backend, in headless Chromium
//! (`cargo test -p tongxin-app --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use tongxin_app::idb::IdbStore;
use tongxin_app::store::suite;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn indexeddb_store_passes_the_suite() {
    let name = format!("tongxin-test-{}", uuid::Uuid::new_v4());
    let store = IdbStore::open(&name).await.expect("open");
    suite::run(&store).await;
}

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
