//! `GET /api/v1/staff`: the wardens, grid leaders and community managers of the caller's area, so
//! that a manager's map can name a grid's wardens, the dashboards can count them and the
//! assignee picker (受理派单) can offer everyone a case may be assigned to
//! (`policy::assign::works_at`). Staff are not residents: their names are not masked, but only
//! people working in the caller's area are listed, each with only the grids or communities the
//! caller may see.

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
        .filter(|u| {
            !u.disabled
                && matches!(
                    u.role,
                    Role::Warden | Role::GridLeader | Role::CommunityManager
                )
        })
        .collect();
    // The grids and communities they work in, placed, and those of them the caller may read.
    let area_ids: Vec<RecordId> = field
        .iter()
        .flat_map(|u| area_of(u.role, &u.grids, &u.communities).iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let places = state.store.places(&area_ids).await?;
    let visible: BTreeSet<RecordId> = places
        .iter()
        .filter(|(_, place)| can_read(&authed.principal, place))
        .map(|(id, _)| *id)
        .collect();
    let seen = |ids: &[RecordId]| -> Vec<RecordId> {
        ids.iter()
            .copied()
            .filter(|g| visible.contains(g))
            .collect()
    };
    let out = field
        .into_iter()
        .filter_map(|u| {
            let (grids, communities) = if u.role == Role::CommunityManager {
                (Vec::new(), seen(&u.communities))
            } else {
                (seen(&u.grids), Vec::new())
            };
            (!grids.is_empty() || !communities.is_empty()).then_some(StaffMember {
                username: u.username,
                display_name: u.display_name,
                role: u.role,
                grids,
                communities,
            })
        })
        .collect();
    Ok(Json(out))
}

/// Where a listed person works: a community manager's communities, anyone else's grids.
fn area_of<'a>(role: Role, grids: &'a [RecordId], communities: &'a [RecordId]) -> &'a [RecordId] {
    if role == Role::CommunityManager {
        communities
    } else {
        grids
    }
}
