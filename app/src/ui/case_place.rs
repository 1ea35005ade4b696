//! Where a case sits, read from the hierarchy records on the device (its grid, that grid's
//! community and subdistrict), and the signed-in user as the policy sees them: what the case
//! screens pass to `shared::policy::rules::may_write` to offer only what the server accepts.

use super::context::live_records;
use tongxin_shared::authz::{Place, Principal};
use tongxin_shared::wire::Me;
use tongxin_shared::{Collection, Record, RecordId};

/// The signed-in user as the rules see them.
pub(crate) fn principal(me: &Me) -> Principal {
    Principal {
        username: me.username.clone(),
        role: me.role,
        grids: me.grids.clone(),
        communities: me.communities.clone(),
        subdistricts: me.subdistricts.clone(),
    }
}

/// A case's place, with its grid's label ("code name") when the grid is on the device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CasePlace {
    pub place: Place,
    pub grid_label: String,
}

fn id_of(r: &Record, field: &str) -> Option<RecordId> {
    r.str(field).and_then(|s| RecordId::parse(s).ok())
}

/// The place of a case from the hierarchy on this device.
pub(crate) async fn case_place(case: &Record) -> CasePlace {
    let Some(grid_id) = id_of(case, "grid") else {
        return CasePlace::default();
    };
    let grids = live_records(Collection::Grids).await;
    let grid = grids.iter().find(|g| g.id == grid_id);
    let community = grid.and_then(|g| id_of(g, "community"));
    let subdistrict = match community {
        Some(c) => live_records(Collection::Communities)
            .await
            .iter()
            .find(|r| r.id == c)
            .and_then(|r| id_of(r, "subdistrict")),
        None => None,
    };
    let grid_label = grid.map_or_else(
        || grid_id.to_string(),
        |g| {
            let code = g.str("code").unwrap_or_default();
            let name = g.str("name").unwrap_or_default();
            format!("{code} {name}").trim().to_owned()
        },
    );
    CasePlace {
        place: Place {
            subdistrict,
            community,
            grid: Some(grid_id),
        },
        grid_label,
    }
}
