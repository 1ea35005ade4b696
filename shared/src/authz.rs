//! Who may see and write what — in one place, pure. The server calls [`check_op`] on every op and
//! [`can_read`] on every pulled record; the app uses the same rules to offer only what will pass.
//!
//! A record's [`Place`] is where it sits in the hierarchy (computed by the server from the
//! record's fields, see `Collection::scope`). A [`Principal`] is the signed-in user with their
//! role and the places assigned to them.

use crate::case::{is_system_id, Level, Role, Status, ESCALATE};
use crate::ids::RecordId;
use crate::op::{Op, OpBody};
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}

impl Denied {
    /// Stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Collection { .. } => "forbidden_collection",
            Self::OutOfScope => "out_of_scope",
            Self::ForgedAuthor { .. } => "forged_author",
            Self::Transition { .. } => "forbidden_transition",
            Self::SystemOnly => "system_only",
            Self::NotOwner { .. } => "not_owner",
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
fn writable(role: Role, c: Collection) -> bool {
    use Collection as C;
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
fn in_write_area(p: &Principal, collection: Collection, place: &Place) -> bool {
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

/// Fields that name a person as the author of what they record: they must be the signed-in user.
const AUTHOR_FIELDS: [(Collection, &str); 2] = [
    (Collection::Cases, "reporter"),
    (Collection::Visits, "warden"),
];

/// Checks one op against the rules. `place` is where the record sits after the op (for a new
/// record, where the op puts it); `before` is where it sat before (None for a new record), so an
/// op cannot move a record out of someone else's area into one's own.
pub fn check_op(
    p: &Principal,
    op: &Op,
    place: &Place,
    before: Option<&Place>,
) -> Result<(), Denied> {
    // Escalations are the server's (`case::escalation_op`): a user may neither write one nor
    // take the deterministic id of one before the server does (which would suppress it).
    let system_entry = match &op.body {
        OpBody::Append { entry } => {
            is_system_id(entry.id)
                || entry.data.get("action").and_then(Value::as_str) == Some(ESCALATE)
        }
        OpBody::Set { .. } => false,
    };
    if is_system_id(op.id.0) || system_entry {
        return Err(Denied::SystemOnly);
    }
    if !writable(p.role, op.collection) {
        return Err(Denied::Collection {
            role: p.role,
            collection: op.collection,
        });
    }
    if !in_write_area(p, op.collection, place)
        || before.is_some_and(|b| !in_write_area(p, op.collection, b))
    {
        return Err(Denied::OutOfScope);
    }
    match &op.body {
        OpBody::Set { fields } => {
            for (c, field) in AUTHOR_FIELDS {
                if c != op.collection || p.role.is_manager() {
                    continue;
                }
                if let Some(Value::String(claimed)) = fields.get(field) {
                    if claimed != &p.username {
                        return Err(Denied::ForgedAuthor {
                            claimed: claimed.clone(),
                            actual: p.username.clone(),
                        });
                    }
                }
            }
            if op.collection == Collection::Cases {
                if let Some(status) = fields
                    .get("status")
                    .and_then(Value::as_str)
                    .and_then(Status::parse)
                {
                    check_status(p.role, status)?;
                }
            }
        }
        OpBody::Append { entry } => {
            if let Some(Value::String(by)) = entry.data.get("by") {
                if by != &p.username && !p.role.is_manager() {
                    return Err(Denied::ForgedAuthor {
                        claimed: by.clone(),
                        actual: p.username.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Closing (销号) an escalated case is for the level it was escalated to or above: `stored` is
/// the case as stored before the op (its timeline holds the server's escalation entries).
/// Only escalations already recorded count, so the check is the same on every instance.
pub fn check_owner(p: &Principal, op: &Op, stored: Option<&Record>) -> Result<(), Denied> {
    let closes = op.collection == Collection::Cases
        && matches!(&op.body, OpBody::Set { fields }
            if fields.get("status").and_then(Value::as_str) == Some(Status::Closed.as_str()));
    let Some(owner) = stored
        .filter(|_| closes)
        .and_then(crate::case::recorded_escalation)
    else {
        return Ok(());
    };
    if p.role.level() >= owner {
        Ok(())
    } else {
        Err(Denied::NotOwner {
            owner: owner.as_str(),
        })
    }
}

/// Which roles may put a case into a state. The from-state is not checked here: offline work is
/// not refused because someone else moved the case meanwhile (both moves stay in the timeline).
fn check_status(role: Role, status: Status) -> Result<(), Denied> {
    let ok = match status {
        Status::Reported | Status::InProgress | Status::Resolved => role != Role::UnitLiaison,
        Status::Accepted => !matches!(role, Role::Warden | Role::UnitLiaison),
        Status::Closed => role.is_manager() || role == Role::Admin,
    };
    if ok {
        Ok(())
    } else {
        Err(Denied::Transition {
            role,
            status: status.as_str(),
        })
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

/// The lowest level a principal works at (for supervision queues).
pub fn level(p: &Principal) -> Level {
    p.role.level()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::ids::{ActorId, OpId};
    use serde_json::json;
    use std::collections::BTreeMap;
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
    fn set(collection: Collection, fields: serde_json::Value) -> Op {
        let serde_json::Value::Object(m) = fields else {
            panic!()
        };
        Op {
            id: OpId(Uuid::from_u128(1)),
            actor: ActorId(Uuid::from_u128(2)),
            hlc: Hlc::new(1, 0),
            collection,
            record: id(999),
            body: OpBody::Set {
                fields: m.into_iter().collect::<BTreeMap<_, _>>(),
            },
            schema: 1,
        }
    }

    #[test]
    fn a_warden_writes_only_in_their_grid() {
        let op = set(Collection::Cases, json!({"title": "x", "reporter": "w1"}));
        assert_eq!(check_op(&warden(), &op, &place(C1, Some(G1)), None), Ok(()));
        assert_eq!(
            check_op(&warden(), &op, &place(C1, Some(G2)), None),
            Err(Denied::OutOfScope)
        );
        // Moving a case from another grid into one's own is refused too.
        assert_eq!(
            check_op(
                &warden(),
                &op,
                &place(C1, Some(G1)),
                Some(&place(C1, Some(G2)))
            ),
            Err(Denied::OutOfScope)
        );
        let grid = set(Collection::Grids, json!({"name": "x"}));
        assert_eq!(
            check_op(&warden(), &grid, &place(C1, Some(G1)), None)
                .unwrap_err()
                .code(),
            "forbidden_collection"
        );
    }

    #[test]
    fn authors_cannot_be_forged_and_wardens_cannot_close() {
        let forged = set(Collection::Cases, json!({"reporter": "w2"}));
        assert_eq!(
            check_op(&warden(), &forged, &place(C1, Some(G1)), None)
                .unwrap_err()
                .code(),
            "forged_author"
        );
        let close = set(Collection::Cases, json!({"status": "closed"}));
        assert_eq!(
            check_op(&warden(), &close, &place(C1, Some(G1)), None)
                .unwrap_err()
                .code(),
            "forbidden_transition"
        );
        assert_eq!(
            check_op(&manager(), &close, &place(C1, Some(G1)), None),
            Ok(())
        );
        assert_eq!(
            check_op(&manager(), &close, &place(C2, Some(G2)), None),
            Err(Denied::OutOfScope)
        );
    }

    #[test]
    fn only_the_server_escalates_or_uses_its_ids() {
        let here = place(C1, Some(G1));
        let case = id(999);
        let system = crate::case::escalation_op(
            &crate::case::Deadlines::default(),
            case,
            Level::Community,
            Status::Reported,
            1,
        );
        // The server's own op, pushed by a user (even a city manager): refused.
        let city = Principal {
            role: Role::CityManager,
            ..manager()
        };
        assert_eq!(
            check_op(&city, &system, &here, Some(&here)),
            Err(Denied::SystemOnly)
        );
        // An escalate entry under a device id, or a note under the server's op id: refused.
        let mut own_id = system.clone();
        own_id.id = OpId(Uuid::now_v7());
        if let OpBody::Append { entry } = &mut own_id.body {
            entry.id = Uuid::now_v7();
        }
        assert_eq!(
            check_op(&manager(), &own_id, &here, Some(&here)).map_err(|d| d.code()),
            Err("system_only")
        );
        let mut squat = set(Collection::Cases, json!({"title": "x"}));
        squat.id = system.id;
        assert_eq!(
            check_op(&warden(), &squat, &here, Some(&here)),
            Err(Denied::SystemOnly)
        );
        // A reminder (督办) by a manager is theirs to write.
        let mut remind = own_id;
        if let OpBody::Append { entry } = &mut remind.body {
            entry.data.insert("action".into(), json!("remind"));
            entry.data.insert("by".into(), json!("c1"));
        }
        assert_eq!(check_op(&manager(), &remind, &here, Some(&here)), Ok(()));
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
}
