//! `GET /api/v1/staff`: the wardens and grid leaders of the caller's area, so that a manager's
//! map can name a grid's wardens and the dashboards can count them. Staff are not residents:
//! their names are not masked, but only people working in the caller's area are listed, each
//! with only the grids the caller may see.

use crate::auth::Authed;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use std::collections::BTreeSet;
use tongxin_shared::authz::can_read;
use tongxin_shared::case::Role;
use tongxin_shared::wire::StaffMember;
use tongxin_shared::RecordId;

/// `GET /api/v1/staff`, ordered by username. Disabled accounts are left out.
pub async fn staff(
    State(state): State<AppState>,
    authed: Authed,
) -> Result<Json<Vec<StaffMember>>, ApiError> {
    let users = state.store.users().await?;
    let field: Vec<_> = users
        .into_iter()
        .filter(|u| !u.disabled && matches!(u.role, Role::Warden | Role::GridLeader))
        .collect();
    let grid_ids: Vec<RecordId> = field
        .iter()
        .flat_map(|u| u.grids.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let places = state.store.places(&grid_ids).await?;
    let visible: BTreeSet<RecordId> = places
        .iter()
        .filter(|(_, place)| can_read(&authed.principal, place))
        .map(|(id, _)| *id)
        .collect();
    let out = field
        .into_iter()
        .filter_map(|u| {
            let grids: Vec<RecordId> = u
                .grids
                .iter()
                .copied()
                .filter(|g| visible.contains(g))
                .collect();
            (!grids.is_empty()).then_some(StaffMember {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                grids,
            })
        })
        .collect();
    Ok(Json(out))
}
