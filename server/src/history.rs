//! `GET /api/v1/history`: a grid's older cases or visits for a manager whose device does not
//! keep them (the summary profile, docs/SYNC.md): read in the caller's area, masked by role like
//! a pull, shown by the app while online and never stored on the device.

use crate::auth::Authed;
use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::store::Scope;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use tongxin_shared::wire::{HistoryPage, HistoryQuery};
use tongxin_shared::Collection;

/// Records per page unless asked for fewer.
const DEFAULT_LIMIT: u32 = 20;
/// The most a page holds.
const MAX_LIMIT: u32 = 100;

pub async fn history(
    State(state): State<AppState>,
    authed: Authed,
    AppQuery(q): AppQuery<HistoryQuery>,
) -> Result<Json<HistoryPage>, ApiError> {
    if !matches!(q.collection, Collection::Cases | Collection::Visits) {
        return Err(ApiError::bad(
            "bad_collection",
            "only cases and visits have older history; other records are all on the device",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let before = q.before.unwrap_or(i64::MAX as u64).min(i64::MAX as u64);
    let principal = &authed.principal;
    let page = state
        .store
        .history(&Scope::of(principal), q.collection, q.grid, before, limit)
        .await?;
    let records = crate::seen::as_seen_by(principal, page.records, page.places);
    Ok(Json(HistoryPage {
        records,
        next: page.more.then_some(page.cursor),
    }))
}
