//! Routing a case (受理派单): who may assign it, and to whom. A case is assigned to a person who
//! works where it sits (a warden or grid leader of its grid, a manager of its community) or to
//! an alliance unit paired with its community (同心圆). The store knows the people and the
//! pairings; it loads the ones a batch names into [`Assignees`] and the rules judge with them.

use crate::authz::Place;
use crate::case::{Action, Level, Role};
use crate::ids::RecordId;
use crate::record::Record;
use crate::schema::Collection;
use std::collections::HashMap;

/// How an assignee that is a unit is written in a case's `assignee` field: `unit:<id>`.
pub const UNIT_PREFIX: &str = "unit:";

/// Someone a case may be assigned to, as the store knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignable {
    /// A user account (not disabled): their role and area.
    Person {
        role: Role,
        grids: Vec<RecordId>,
        communities: Vec<RecordId>,
    },
    /// An alliance unit: the communities it is paired with (its live alliances).
    Unit { communities: Vec<RecordId> },
}

/// The assignees a batch names, by the text of the `assignee` field.
pub type Assignees = HashMap<String, Assignable>;

/// What an `assignee` value names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeRef<'a> {
    Person(&'a str),
    Unit(RecordId),
}

/// Reads an `assignee` value; `None` for `unit:` followed by something that is not an id.
pub fn parse(value: &str) -> Option<AssigneeRef<'_>> {
    match value.strip_prefix(UNIT_PREFIX) {
        Some(id) => RecordId::parse(id).ok().map(AssigneeRef::Unit),
        None => Some(AssigneeRef::Person(value)),
    }
}

/// The `assignee` value naming a unit.
pub fn unit_value(unit: RecordId) -> String {
    format!("{UNIT_PREFIX}{unit}")
}

/// Whether a role may (re)assign a case owned by level `owner`: the roles that accept (受理),
/// at the owning level or above; a grid leader while the case is still the community's (not
/// escalated). Wardens never assign.
pub fn may_assign(role: Role, owner: Level) -> bool {
    Action::Accept.roles_include(role)
        && (role.level() >= owner || (role == Role::GridLeader && owner == Level::Community))
}

/// Whether `who` works where a case at `place` sits.
pub fn works_at(who: &Assignable, place: &Place) -> bool {
    let has = |ids: &[RecordId], id: Option<RecordId>| id.is_some_and(|id| ids.contains(&id));
    match who {
        Assignable::Person {
            role: Role::Warden | Role::GridLeader,
            grids,
            ..
        } => has(grids, place.grid),
        Assignable::Person {
            role: Role::CommunityManager,
            communities,
            ..
        }
        | Assignable::Unit { communities } => has(communities, place.community),
        Assignable::Person { .. } => false,
    }
}

/// The communities each unit is paired with, from alliance records (deleted ones left out).
pub fn unit_pairings<'a>(
    alliances: impl IntoIterator<Item = &'a Record>,
) -> HashMap<RecordId, Vec<RecordId>> {
    let mut out: HashMap<RecordId, Vec<RecordId>> = HashMap::new();
    for r in alliances {
        if r.collection != Collection::Alliances || r.is_deleted() {
            continue;
        }
        let id = |f: &str| r.str(f).and_then(|s| RecordId::parse(s).ok());
        if let (Some(unit), Some(community)) = (id("unit"), id("community")) {
            let list = out.entry(unit).or_default();
            if !list.contains(&community) {
                list.push(community);
            }
        }
    }
    out
}

/// The `assignee` values a batch's judgement needs (to look up before judging it): those its
/// case ops set, and those the cases it touches already hold (a case moved to another grid keeps
/// its assignee only if they work there too, see [`check_moved`]). `stored` may hold more records
/// than the batch touches; only the touched cases' assignees are taken.
pub fn named_in<'a>(
    ops: &'a [crate::Op],
    stored: impl IntoIterator<Item = &'a Record>,
) -> Vec<String> {
    let cases: Vec<RecordId> = ops
        .iter()
        .filter(|o| o.collection == Collection::Cases)
        .map(|o| o.record)
        .collect();
    let set = ops
        .iter()
        .filter(|o| o.collection == Collection::Cases)
        .filter_map(|o| match &o.body {
            crate::OpBody::Set { fields } => fields
                .get("assignee")
                .and_then(serde_json::Value::as_str)
                .map(ToOwned::to_owned),
            crate::OpBody::Append { .. } => None,
        });
    let held = stored
        .into_iter()
        .filter(|r| r.collection == Collection::Cases && cases.contains(&r.id))
        .filter_map(|r| r.str("assignee").map(ToOwned::to_owned));
    let mut out: Vec<String> = set.chain(held).collect();
    out.sort();
    out.dedup();
    out
}

/// A case that moved (its place before is not its place after) keeps its assignee only if they
/// work at the new place: a warden of the old grid could not even read it there. The move must
/// reassign or clear the assignee in the same op (which [`super::rules`] judges as an
/// assignment); a move that leaves them is refused as a bad assignee. Also true of a move that
/// does not change the assignee field at all.
pub fn check_moved(
    after: &Record,
    before_place: Option<&Place>,
    place: &Place,
    assignees: &Assignees,
) -> Result<(), crate::authz::Denied> {
    if after.collection != Collection::Cases || before_place.is_none_or(|b| b == place) {
        return Ok(());
    }
    let Some(value) = after.str("assignee").filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    if assignees.get(value).is_some_and(|who| works_at(who, place)) {
        Ok(())
    } else {
        Err(crate::authz::Denied::Assignee {
            assignee: value.chars().take(64).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    #[test]
    fn assignees_are_people_of_the_grid_or_community_and_paired_units() {
        let place = Place {
            subdistrict: Some(id(1)),
            community: Some(id(10)),
            grid: Some(id(100)),
        };
        let warden = |g: u128| Assignable::Person {
            role: Role::Warden,
            grids: vec![id(g)],
            communities: vec![id(10)],
        };
        assert!(works_at(&warden(100), &place));
        assert!(!works_at(&warden(101), &place), "another grid's warden");
        let manager = |c: u128| Assignable::Person {
            role: Role::CommunityManager,
            grids: vec![],
            communities: vec![id(c)],
        };
        assert!(works_at(&manager(10), &place));
        assert!(!works_at(&manager(11), &place));
        let city = Assignable::Person {
            role: Role::CityManager,
            grids: vec![],
            communities: vec![],
        };
        assert!(!works_at(&city, &place), "the city does not handle cases");
        assert!(works_at(
            &Assignable::Unit {
                communities: vec![id(10)]
            },
            &place
        ));
        assert!(!works_at(
            &Assignable::Unit {
                communities: vec![id(11)]
            },
            &place
        ));
    }

    #[test]
    fn who_may_assign_follows_the_owning_level() {
        assert!(!may_assign(Role::Warden, Level::Community));
        assert!(!may_assign(Role::UnitLiaison, Level::Community));
        assert!(may_assign(Role::GridLeader, Level::Community));
        assert!(may_assign(Role::CommunityManager, Level::Community));
        assert!(!may_assign(Role::GridLeader, Level::Subdistrict));
        assert!(!may_assign(Role::CommunityManager, Level::Subdistrict));
        assert!(may_assign(Role::SubdistrictManager, Level::Subdistrict));
        assert!(may_assign(Role::CityManager, Level::City));
    }

    #[test]
    fn values_name_people_or_units() {
        assert_eq!(parse("w0001"), Some(AssigneeRef::Person("w0001")));
        let v = unit_value(id(7));
        assert_eq!(parse(&v), Some(AssigneeRef::Unit(id(7))));
        assert_eq!(parse("unit:nope"), None);
        assert!(v.len() <= 64, "fits the field");
    }
}
