//! Who may see and write what — in one place, pure. The server calls [`check_op`] on every op and
//! [`can_read`] on every pulled record; the app uses the same rules to offer only what will pass.
//!
//! A record's [`Place`] is where it sits in the hierarchy (computed by the server from the
//! record's fields, see `Collection::scope`). A [`Principal`] is the signed-in user with their
//! role and the places assigned to them.

use crate::case::{Level, Role};
use crate::ids::RecordId;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};

/// Where a record sits: its grid, community and subdistrict (each `None` above its level).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Place {
    pub subdistrict: Option<RecordId>,
    pub community: Option<RecordId>,
    pub grid: Option<RecordId>,
}

/// A signed-in user as the rules see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub username: String,
    pub role: Role,
    /// Grids of a warden or grid leader.
    #[serde(default)]
    pub grids: Vec<RecordId>,
    /// The community of a community manager, or the communities an alliance unit is paired with.
    #[serde(default)]
    pub communities: Vec<RecordId>,
    /// The subdistrict of a subdistrict manager.
    #[serde(default)]
    pub subdistricts: Vec<RecordId>,
}

/// Why an op is refused by the rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("{role} may not write {collection} records")]
    Collection { role: Role, collection: Collection },
    #[error("this record lies outside your area; you may not change it")]
    OutOfScope,
    #[error("the op names '{claimed}' as its author, but you are signed in as '{actual}'")]
    ForgedAuthor { claimed: String, actual: String },
    #[error("{role} may not move a case to '{status}'")]
    Transition { role: Role, status: &'static str },
    #[error("only the server records escalations and uses version 5 ids")]
    SystemOnly,
    #[error("this case was escalated to the {owner} level; only that level or above may close it")]
    NotOwner { owner: &'static str },
    #[error("{role} may not change the field '{field}' of this record")]
    Field { role: Role, field: String },
    #[error("this case is closed (销号); only the level that owns it may change it")]
    Frozen,
    #[error("the field '{field}' is set when the record is created and cannot be changed")]
    Immutable { field: String },
    #[error("a case cannot go from '{from}' to '{to}' (it may have moved meanwhile)")]
    BadTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("the deadline must follow from the category: at most {hours} hours after the report")]
    Deadline { hours: u32 },
    #[error("a deadline is moved only by the owning level's manager, later than before, with an 'extend' entry on the timeline")]
    Extension,
    #[error("the report time is too far from the device's clock")]
    ReportedAt,
    #[error("{0}")]
    Entry(&'static str),
    #[error(
        "a timeline entry with this id is already stored with other content; entries never change"
    )]
    EntryConflict,
    #[error("an op with this id is already stored with other content or by another user")]
    OpIdConflict,
    #[error("this device id belongs to another user; sign in again on this device")]
    ForgedActor,
    #[error("'{value}' is not a known case source")]
    UnknownSource { value: String },
    #[error("'{assignee}' is not a person or unit working where this case sits; pick one of the case's grid or community")]
    Assignee { assignee: String },
    #[error("{}", .0.message)]
    Invalid(crate::schema::Invalid),
    /// Stamped more than [`crate::MAX_CLOCK_SKEW_MS`] ahead of the server's clock, by
    /// `ahead_ms`.
    #[error(
        "the device clock is about {} ahead of the server; set the phone's time automatically, then it is sent again",
        about(*ahead_ms)
    )]
    ClockAhead { ahead_ms: u64 },
}

/// How far ahead a clock is, in words: seconds up to two minutes, then minutes.
fn about(ahead_ms: u64) -> String {
    let s = (ahead_ms + 500) / 1000;
    if s < 120 {
        format!("{s} seconds")
    } else {
        format!("{} minutes", (s + 30) / 60)
    }
}

impl Denied {
    /// Stable code for the wire.
    pub fn code(&self) -> &str {
        match self {
            Self::Collection { .. } => "forbidden_collection",
            Self::OutOfScope => "out_of_scope",
            Self::ForgedAuthor { .. } => "forged_author",
            Self::Transition { .. } => "forbidden_transition",
            Self::SystemOnly => "system_only",
            Self::NotOwner { .. } => "not_owner",
            Self::Field { .. } => "forbidden_field",
            Self::Frozen => "case_closed",
            Self::Immutable { .. } => "immutable_field",
            Self::BadTransition { .. } => "bad_transition",
            Self::Deadline { .. } => "bad_deadline",
            Self::Extension => "forbidden_extension",
            Self::ReportedAt => "bad_reported_at",
            Self::Entry(_) => "bad_entry",
            Self::EntryConflict => "entry_conflict",
            Self::OpIdConflict => "op_id_conflict",
            Self::ForgedActor => "forged_actor",
            Self::UnknownSource { .. } => "unknown_source",
            Self::Assignee { .. } => "bad_assignee",
            Self::Invalid(i) => i.code.as_str(),
            Self::ClockAhead { .. } => "clock_ahead",
        }
    }
}

fn contains(ids: &[RecordId], id: Option<RecordId>) -> bool {
    id.is_some_and(|id| ids.contains(&id))
}

/// Whether the principal's area includes the place (what they may pull and see).
pub fn can_read(p: &Principal, place: &Place) -> bool {
    match p.role {
        Role::CityManager | Role::Admin => true,
        Role::SubdistrictManager => {
            contains(&p.subdistricts, place.subdistrict)
                // City-wide records (units).
                || (place.subdistrict.is_none() && place.community.is_none() && place.grid.is_none())
        }
        Role::CommunityManager | Role::UnitLiaison => {
            contains(&p.communities, place.community)
                // City-wide records (units) and the subdistrict records above are visible to all.
                || (place.community.is_none() && place.grid.is_none())
        }
        Role::Warden | Role::GridLeader => {
            contains(&p.grids, place.grid)
                // Their community's shared records (activities, alliances, centres) and the
                // hierarchy records above them.
                || (place.grid.is_none() && (place.community.is_none() || contains(&p.communities, place.community)))
        }
    }
}

/// The collections a role may write at all.
pub fn writable(role: Role, c: Collection) -> bool {
    use Collection as C;
    if c == C::Summaries {
        // Derived by the server from the cases and visits it counts.
        return false;
    }
    match role {
        Role::Admin | Role::CityManager => true,
        Role::SubdistrictManager => !matches!(c, C::Subdistricts | C::Units),
        Role::CommunityManager => !matches!(c, C::Subdistricts | C::Communities | C::Units),
        Role::Warden | Role::GridLeader => {
            matches!(
                c,
                C::Cases | C::Visits | C::Households | C::Compounds | C::Activities
            )
        }
        Role::UnitLiaison => matches!(c, C::Activities),
    }
}

/// Whether the principal may write a record at this place.
pub fn in_write_area(p: &Principal, collection: Collection, place: &Place) -> bool {
    match p.role {
        Role::CityManager | Role::Admin => true,
        Role::SubdistrictManager => contains(&p.subdistricts, place.subdistrict),
        Role::CommunityManager | Role::UnitLiaison => contains(&p.communities, place.community),
        Role::Warden | Role::GridLeader => {
            if collection == Collection::Activities {
                contains(&p.communities, place.community)
            } else {
                contains(&p.grids, place.grid)
            }
        }
    }
}

/// Whether the principal handles records at this place and so sees residents' personal data
/// unmasked: the grid's wardens and leader, and the community's managers. Levels above see masks.
pub fn sees_personal(p: &Principal, place: &Place) -> bool {
    match p.role {
        Role::Warden | Role::GridLeader => contains(&p.grids, place.grid),
        Role::CommunityManager => contains(&p.communities, place.community),
        _ => false,
    }
}

/// Whether `viewer` may see `other` in the people directory (`GET /api/v1/people`): the names
/// shown instead of login ids on timelines, visits and tables. Staff names are not residents'
/// personal data, but the directory still lists only the colleagues one works with: the city
/// level and administrators see everyone and are seen by everyone; anyone else sees those whose
/// area overlaps theirs at the coarser of the two levels (a warden sees the wardens and managers
/// of their community and their subdistrict's managers; a community manager the people of their
/// community and their subdistrict's managers). Areas are complete upwards (a warden's
/// communities and subdistricts follow from their grids), as the admin API keeps them.
pub fn sees_colleague(viewer: &Principal, other: &Principal) -> bool {
    let city = |p: &Principal| p.role.level() == Level::City;
    if city(viewer) || city(other) || viewer.username == other.username {
        return true;
    }
    let overlap = |a: &[RecordId], b: &[RecordId]| a.iter().any(|x| b.contains(x));
    // Grid-level pairs compare communities: a case moved between grids of one community keeps
    // its earlier wardens' names on its timeline.
    match viewer.role.level().max(other.role.level()) {
        Level::Subdistrict | Level::City => overlap(&viewer.subdistricts, &other.subdistricts),
        Level::Community | Level::Grid => overlap(&viewer.communities, &other.communities),
    }
}

/// The lowest level a principal works at (for supervision queues).
pub fn level(p: &Principal) -> Level {
    p.role.level()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }
    const SD: u128 = 1;
    const C1: u128 = 10;
    const C2: u128 = 11;
    const G1: u128 = 100;
    const G2: u128 = 101;

    fn place(c: u128, g: Option<u128>) -> Place {
        Place {
            subdistrict: Some(id(SD)),
            community: Some(id(c)),
            grid: g.map(id),
        }
    }
    fn warden() -> Principal {
        Principal {
            username: "w1".into(),
            role: Role::Warden,
            grids: vec![id(G1)],
            communities: vec![id(C1)],
            subdistricts: vec![id(SD)],
        }
    }
    fn manager() -> Principal {
        Principal {
            username: "c1".into(),
            role: Role::CommunityManager,
            grids: vec![],
            communities: vec![id(C1)],
            subdistricts: vec![id(SD)],
        }
    }
    #[test]
    fn reading_follows_the_area_and_personal_data_the_handlers() {
        assert!(can_read(&warden(), &place(C1, Some(G1))));
        assert!(!can_read(&warden(), &place(C1, Some(G2))));
        assert!(
            can_read(&warden(), &place(C1, None)),
            "own community's activities"
        );
        assert!(!can_read(&warden(), &place(C2, None)));
        assert!(can_read(&manager(), &place(C1, Some(G2))));
        assert!(!can_read(&manager(), &place(C2, Some(G2))));
        assert!(can_read(&warden(), &Place::default()), "city-wide records");
        assert!(sees_personal(&warden(), &place(C1, Some(G1))));
        assert!(!sees_personal(&warden(), &place(C1, Some(G2))));
        let city = Principal {
            username: "city".into(),
            role: Role::CityManager,
            grids: vec![],
            communities: vec![],
            subdistricts: vec![],
        };
        assert!(can_read(&city, &place(C2, Some(G2))));
        assert!(!sees_personal(&city, &place(C2, Some(G2))));
    }

    #[test]
    fn colleagues_are_those_whose_areas_overlap() {
        let p = |name: &str, role: Role, c: &[u128], s: &[u128]| Principal {
            username: name.into(),
            role,
            grids: vec![],
            communities: c.iter().copied().map(id).collect(),
            subdistricts: s.iter().copied().map(id).collect(),
        };
        let w1 = warden();
        let w_same_community = Principal {
            username: "w2".into(),
            grids: vec![id(G2)],
            ..warden()
        };
        let w_other = p("w3", Role::Warden, &[C2], &[SD]);
        let cm1 = manager();
        let cm2 = p("c2", Role::CommunityManager, &[C2], &[SD]);
        let sd = p("s1", Role::SubdistrictManager, &[], &[SD]);
        let sd_other = p("s2", Role::SubdistrictManager, &[], &[2]);
        let city = p("city", Role::CityManager, &[], &[]);
        assert!(sees_colleague(&w1, &w_same_community));
        assert!(!sees_colleague(&w1, &w_other), "another community's warden");
        assert!(sees_colleague(&w1, &cm1) && sees_colleague(&cm1, &w1));
        assert!(!sees_colleague(&w1, &cm2) && !sees_colleague(&cm2, &w1));
        assert!(sees_colleague(&w1, &sd) && sees_colleague(&sd, &w_other));
        assert!(!sees_colleague(&w1, &sd_other) && !sees_colleague(&sd_other, &w1));
        assert!(sees_colleague(&w1, &city) && sees_colleague(&city, &sd_other));
        assert!(!sees_colleague(&cm1, &cm2));
    }
}
