//! Where a record sits in the hierarchy, derived only from committed hierarchy records.
//!
//! A record's [`Place`] follows from the field naming its parent (a case's `grid`, a grid's
//! `community`, a community's `subdistrict`) and the places of the hierarchy records
//! (subdistricts, communities, grids). The [`Hierarchy`] is keyed by collection *and* id, so a
//! record of another collection that happens to carry a grid's id can never stand in for it.

use crate::authz::Place;
use crate::case::Status;
use crate::ids::RecordId;
use crate::op::{Op, OpBody};
use crate::record::Record;
use crate::schema::{Collection, ScopeRule};
use std::collections::BTreeMap;

/// A record key: its collection and id.
pub type Key = (Collection, RecordId);

/// The places of hierarchy records (subdistricts, communities, grids), by collection and id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hierarchy {
    places: BTreeMap<Key, Place>,
}

impl Hierarchy {
    pub fn new() -> Self {
        Self::default()
    }

    /// The place of a hierarchy record, if it is known.
    pub fn get(&self, collection: Collection, id: RecordId) -> Option<&Place> {
        self.places.get(&(collection, id))
    }

    /// Records the place of a hierarchy record (ignored for other collections).
    pub fn insert(&mut self, collection: Collection, id: RecordId, place: Place) {
        if is_hierarchy(collection) {
            self.places.insert((collection, id), place);
        }
    }

    /// A hierarchy record moved to `new_place`: every known record below it takes the new
    /// levels above (a community that moves carries its grids along).
    pub fn replace_under(&mut self, moved: Key, new_place: &Place) {
        let Some(column) = descendant_column(moved.0) else {
            return;
        };
        for ((c, id), place) in &mut self.places {
            let below = match column {
                "grid" => false, // nothing in the hierarchy sits below a grid
                _ => *c == Collection::Grids && place.community == Some(moved.1),
            };
            if below && (*c, *id) != moved {
                *place = replace_under(moved.0, new_place, place);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }
}

impl FromIterator<(Key, Place)> for Hierarchy {
    fn from_iter<T: IntoIterator<Item = (Key, Place)>>(iter: T) -> Self {
        let mut h = Self::new();
        for ((c, id), p) in iter {
            h.insert(c, id, p);
        }
        h
    }
}

/// Subdistricts, communities and grids: the records other records' places are derived from.
pub fn is_hierarchy(c: Collection) -> bool {
    matches!(
        c,
        Collection::Subdistricts | Collection::Communities | Collection::Grids
    )
}

/// The field naming a record's parent in the hierarchy, and the parent's collection.
pub fn parent_field(c: Collection) -> Option<(&'static str, Collection)> {
    match c.scope() {
        ScopeRule::City | ScopeRule::SelfSubdistrict => None,
        ScopeRule::SelfCommunity => Some(("subdistrict", Collection::Subdistricts)),
        ScopeRule::SelfGrid => Some(("community", Collection::Communities)),
        ScopeRule::Grid(f) => Some((f, Collection::Grids)),
        ScopeRule::Community(f) => Some((f, Collection::Communities)),
    }
}

/// The parent a record points at: (collection to look up, id).
pub fn parent_ref(r: &Record) -> Option<Key> {
    let (field, parent) = parent_field(r.collection)?;
    let id = r.str(field).and_then(|s| RecordId::parse(s).ok())?;
    Some((parent, id))
}

/// The parent an op points its record at, if it sets the parent field.
pub fn op_parent_ref(op: &Op) -> Option<Key> {
    let (field, parent) = parent_field(op.collection)?;
    let OpBody::Set { fields } = &op.body else {
        return None;
    };
    let id = fields
        .get(field)
        .and_then(serde_json::Value::as_str)
        .and_then(|s| RecordId::parse(s).ok())?;
    Some((parent, id))
}

/// Whether an op may change where its record sits: it sets the field naming its parent.
pub fn moves_record(op: &Op) -> bool {
    let OpBody::Set { fields } = &op.body else {
        return false;
    };
    parent_field(op.collection).is_some_and(|(f, _)| fields.contains_key(f))
}

/// Where a record sits, given the committed hierarchy. A parent that is unknown (or not a
/// hierarchy record of the right collection) leaves the levels above it empty.
pub fn place_of(r: &Record, h: &Hierarchy) -> Place {
    let id_of = |f: &str| r.str(f).and_then(|s| RecordId::parse(s).ok());
    let parent = |c: Collection, id: Option<RecordId>| {
        id.and_then(|i| h.get(c, i)).cloned().unwrap_or_default()
    };
    match r.collection.scope() {
        ScopeRule::City => Place::default(),
        ScopeRule::SelfSubdistrict => Place {
            subdistrict: Some(r.id),
            ..Place::default()
        },
        ScopeRule::SelfCommunity => Place {
            subdistrict: id_of("subdistrict"),
            community: Some(r.id),
            grid: None,
        },
        ScopeRule::SelfGrid => {
            let community = id_of("community");
            Place {
                subdistrict: parent(Collection::Communities, community).subdistrict,
                community,
                grid: Some(r.id),
            }
        }
        ScopeRule::Grid(f) => {
            let grid = id_of(f);
            let p = parent(Collection::Grids, grid);
            Place {
                subdistrict: p.subdistrict,
                community: p.community,
                grid,
            }
        }
        ScopeRule::Community(f) => {
            let community = id_of(f);
            Place {
                subdistrict: parent(Collection::Communities, community).subdistrict,
                community,
                grid: None,
            }
        }
    }
}

/// The `due_at` column of a stored record: the deadline of an open, not deleted case; `None`
/// for everything else (so the column's partial index holds only what the sweeper reads).
pub fn due_at(r: &Record) -> Option<u64> {
    if r.collection != Collection::Cases || r.is_deleted() {
        return None;
    }
    let open = r
        .str("status")
        .and_then(Status::parse)
        .is_some_and(Status::is_open);
    if !open {
        return None;
    }
    r.get("deadline").and_then(serde_json::Value::as_u64)
}

/// The descendants a hierarchy record's move re-places: records whose `column` equals its id.
/// A grid that moves re-places what sits in the grid; a community that moves re-places what
/// sits in the community (its grids and their records included).
pub fn descendant_column(c: Collection) -> Option<&'static str> {
    match c {
        Collection::Grids => Some("grid"),
        Collection::Communities => Some("community"),
        _ => None,
    }
}

/// The place of a record below a moved hierarchy record: its own levels below the moved one
/// kept, the levels from the moved one up taken from the moved record's new place.
pub fn replace_under(moved: Collection, new_place: &Place, old: &Place) -> Place {
    match moved {
        Collection::Grids => Place {
            subdistrict: new_place.subdistrict,
            community: new_place.community,
            grid: old.grid,
        },
        Collection::Communities => Place {
            subdistrict: new_place.subdistrict,
            community: old.community,
            grid: old.grid,
        },
        _ => old.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::test_record;
    use serde_json::json;
    use uuid::Uuid;

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    #[test]
    fn a_colliding_id_of_another_collection_is_not_a_parent() {
        let mut h = Hierarchy::new();
        let real = Place {
            subdistrict: Some(id(1)),
            community: Some(id(10)),
            grid: Some(id(100)),
        };
        h.insert(Collection::Grids, id(100), real.clone());
        // A community whose id equals the grid's: a different key.
        h.insert(
            Collection::Communities,
            id(100),
            Place {
                subdistrict: Some(id(2)),
                community: Some(id(100)),
                grid: None,
            },
        );
        // Households are not hierarchy records: ignored.
        h.insert(Collection::Households, id(100), Place::default());
        let case = test_record(Collection::Cases, 5, &json!({"grid": id(100).to_string()}));
        assert_eq!(place_of(&case, &h), real);
    }

    #[test]
    fn a_move_keeps_the_levels_below_it() {
        let new = Place {
            subdistrict: Some(id(2)),
            community: Some(id(20)),
            grid: Some(id(100)),
        };
        let old = Place {
            subdistrict: Some(id(1)),
            community: Some(id(10)),
            grid: Some(id(100)),
        };
        assert_eq!(replace_under(Collection::Grids, &new, &old), new);
        let community_new = Place {
            subdistrict: Some(id(3)),
            community: Some(id(10)),
            grid: None,
        };
        assert_eq!(
            replace_under(Collection::Communities, &community_new, &old),
            Place {
                subdistrict: Some(id(3)),
                community: Some(id(10)),
                grid: Some(id(100)),
            }
        );
    }
}
