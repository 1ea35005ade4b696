//! The wardens and grid leaders of the user's area (`GET /api/v1/staff`), for the map's grid
//! panel and the dashboards. Fetched when online and kept in the local meta store, so a manager
//! offline still sees the last list.

use crate::store::LocalStore;
use crate::sync::client;
use std::collections::BTreeMap;
use tongxin_shared::wire::StaffMember;
use tongxin_shared::wire::PROTOCOL_HEADER;
use tongxin_shared::{RecordId, PROTOCOL_VERSION};

const META_KEY: &str = "staff";

/// The staff list: fresh from the server when it answers, else the last one kept.
pub(super) async fn staff() -> Vec<StaffMember> {
    let Some(c) = client() else {
        return Vec::new();
    };
    let fresh = async {
        let res = gloo_net::http::Request::get("/api/v1/staff")
            .header("authorization", &c.bearer())
            .header(PROTOCOL_HEADER, &PROTOCOL_VERSION.to_string())
            .send()
            .await
            .ok()?;
        if !res.ok() {
            return None;
        }
        res.json::<Vec<StaffMember>>().await.ok()
    };
    if let Some(list) = fresh.await {
        if let Ok(text) = serde_json::to_string(&list) {
            let _ = c.store.meta_set(META_KEY, &text).await;
        }
        return list;
    }
    c.store
        .meta_get(META_KEY)
        .await
        .ok()
        .flatten()
        .and_then(|t: String| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Display names of the staff by grid.
pub(super) fn by_grid(list: &[StaffMember]) -> BTreeMap<RecordId, Vec<String>> {
    let mut out: BTreeMap<RecordId, Vec<String>> = BTreeMap::new();
    for m in list {
        for g in &m.grids {
            out.entry(*g).or_default().push(m.display_name.clone());
        }
    }
    out
}
