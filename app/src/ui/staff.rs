//! The wardens and grid leaders of the user's area (`GET /api/v1/staff`), for the map's grid
//! panel and the dashboards. Fetched when online and kept in the local meta store, so a manager
//! offline still sees the last list.

use crate::api;
use crate::store::LocalStore;
use crate::sync::client;
use std::collections::BTreeMap;
use tongxin_shared::wire::StaffMember;
use tongxin_shared::RecordId;

const META_KEY: &str = "staff";

/// The staff list: fresh from the server when it answers, else the last one kept.
pub(super) async fn staff() -> Vec<StaffMember> {
    let Some(c) = client() else {
        return Vec::new();
    };
    if let Ok(list) = api::staff(&c.token()).await {
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

/// The staff list kept on the device, fetched only when none is kept yet: for showing names,
/// where a city manager's list (thousands of people) is not worth downloading on every page.
pub(super) async fn staff_kept() -> Vec<StaffMember> {
    let Some(c) = client() else {
        return Vec::new();
    };
    let kept: Option<Vec<StaffMember>> = c
        .store
        .meta_get(META_KEY)
        .await
        .ok()
        .flatten()
        .and_then(|t: String| serde_json::from_str(&t).ok());
    match kept {
        Some(list) => list,
        None => staff().await,
    }
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
