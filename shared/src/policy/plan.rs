//! Judging and folding a batch of ops into the committed state: the whole decision of a commit,
//! pure. The server's store loads what a batch touches ([`Committed`]), calls [`plan`], and
//! writes what it says; the property tests call it directly.

use super::assign::Assignees;
use super::place::{is_hierarchy, place_of, replace_under, Hierarchy, Key};
use super::rules::{check_entry, check_field, Change};
use crate::authz::{in_write_area, writable, Denied, Place, Principal};
use crate::case::{is_system_id, Deadlines, ESCALATE, SYSTEM_ACTOR};
use crate::ids::{ActorId, OpId};
use crate::merge;
use crate::op::{Op, OpBody};
use crate::record::Record;
use crate::MAX_CLOCK_SKEW_MS;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// An op already in the op log: its seq, who pushed it, and a digest of its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownOp {
    pub seq: u64,
    /// The username of its author; `None` for the system.
    pub author: Option<String>,
    /// [`op_digest`] of the op as first stored; `None` for ops stored before digests were kept.
    pub digest: Option<String>,
}

/// What a batch is judged against: the committed state of everything it touches.
#[derive(Clone, Debug, Default)]
pub struct Committed {
    /// Op ids of the batch already in the op log.
    pub known: HashMap<OpId, KnownOp>,
    /// The stored records the batch touches, with their seqs.
    pub records: HashMap<Key, (u64, Record)>,
    /// The places of the hierarchy records the touched records refer to (and of the hierarchy
    /// records in the batch).
    pub hierarchy: Hierarchy,
    /// The users the batch's actors (device installs) are bound to: an actor id belongs to the
    /// first user who pushed under it.
    pub actors: HashMap<ActorId, String>,
    /// The people and units the batch's case ops name as `assignee`, and the assignees the
    /// touched cases hold (see [`super::assign::named_in`]); a name missing here is no one the
    /// case may be assigned to.
    pub assignees: Assignees,
}

/// The verdict on one op.
#[derive(Clone, Debug, PartialEq)]
pub enum OpSlot {
    /// Seen in an earlier commit: answered with its original seq.
    Known(u64),
    /// Applied (or a duplicate within the batch): answered with the seq of the record at
    /// `touched[i]`.
    Record(usize),
    /// Refused; nothing of it is stored.
    Denied(Denied),
}

/// A record to write, with the place it sits at after the batch.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub key: Key,
    pub record: Record,
    pub place: Place,
}

/// A hierarchy record (grid or community) whose place changed: everything below it must be
/// re-placed in the same transaction, and users who can no longer read the old place reset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub key: Key,
    pub before: Place,
    pub after: Place,
}

/// What a commit does.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Changed records, in the order their seqs are assigned.
    pub writes: Vec<Write>,
    /// Keys touched by applied ops, in first-touch order (`OpSlot::Record` indexes this).
    pub touched: Vec<Key>,
    /// Per op, its verdict.
    pub per_op: Vec<OpSlot>,
    /// Indexes of the ops to insert into the op log (new and applied ones only).
    pub new_ops: Vec<usize>,
    /// The [`op_digest`] of each op of `new_ops`, in the same order (computed once, when the
    /// op is judged).
    pub digests: Vec<String>,
    /// Hierarchy records that moved.
    pub moves: Vec<Move>,
    /// Actors seen for the first time, with the user they are now bound to.
    pub new_actors: Vec<(ActorId, String)>,
}

/// A digest of an op's whole content (id, actor, clock, record, body), to tell a re-sent op
/// from a different op under a re-used id.
pub fn op_digest(op: &Op) -> String {
    /// The op's JSON goes straight into the hash, never into a buffer of its own.
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut h = Hashing(Sha256::new());
    // An op always serialises (string keys only); were it not to, the digest of what was
    // written still tells this op from another.
    let _ = serde_json::to_writer(&mut h, op);
    hex::encode(&h.0.finalize()[..16])
}

/// Whether an op is one only the server writes (a version-5 id, the system actor, or an
/// escalation entry).
fn system_only(op: &Op) -> bool {
    let system_entry = match &op.body {
        OpBody::Append { entry } => {
            is_system_id(entry.id)
                || entry.data.get("action").and_then(Value::as_str) == Some(ESCALATE)
        }
        OpBody::Set { .. } => false,
    };
    is_system_id(op.id.0) || op.actor == SYSTEM_ACTOR || system_entry
}

/// Judges one op by a user against the record before it (`None`: not stored yet) and computes
/// the record after it. Everything the op changes is checked: the collection, the area at the
/// record's place before and after, every field that changes value, every new entry, and a
/// moved case's assignee at its new place.
pub fn judge(
    p: &Principal,
    op: &Op,
    before: Option<&Record>,
    hierarchy: &Hierarchy,
    assignees: &Assignees,
    deadlines: &Deadlines,
) -> Result<Record, Denied> {
    if system_only(op) {
        return Err(Denied::SystemOnly);
    }
    if !writable(p.role, op.collection) {
        return Err(Denied::Collection {
            role: p.role,
            collection: op.collection,
        });
    }
    let before = before.filter(|r| !r.fields.is_empty() || !r.log.is_empty());
    let before_place = before.map(|r| place_of(r, hierarchy));
    let mut after = before
        .cloned()
        .unwrap_or_else(|| Record::new(op.collection, op.record));
    if let OpBody::Append { entry } = &op.body {
        if let Some(stored) = after.log.get(&entry.id) {
            // Entries are append-only: the same entry again is a re-send, anything else under
            // a stored id is refused.
            return if stored.data == entry.data && stored.stamp == op.stamp() {
                Ok(after)
            } else {
                Err(Denied::EntryConflict)
            };
        }
    }
    merge::apply(&mut after, op);
    let place = place_of(&after, hierarchy);
    if !in_write_area(p, op.collection, &place)
        || before_place
            .as_ref()
            .is_some_and(|b| !in_write_area(p, op.collection, b))
    {
        return Err(Denied::OutOfScope);
    }
    match &op.body {
        OpBody::Set { fields } => {
            let change = Change {
                p,
                before,
                after: &after,
                place: &place,
                op_wall_ms: op.hlc.wall_ms,
                deadlines,
                assignees,
            };
            for name in fields.keys() {
                let old = before.and_then(|r| r.get(name));
                if after.get(name) != old {
                    check_field(&change, name)?;
                }
            }
        }
        OpBody::Append { entry } => check_entry(p, op.collection, before, &entry.data)?,
    }
    super::assign::check_moved(&after, before_place.as_ref(), &place, assignees)?;
    check_size(before, &after)?;
    Ok(after)
}

/// Whatever is stored must decode on every device: a record past the limits
/// (`schema::check_record_limits`) is refused, unless it was already past them and the op
/// does not make it bigger (so a record stored before the limits can still be edited or
/// deleted).
fn check_size(before: Option<&Record>, after: &Record) -> Result<(), Denied> {
    let Err(invalid) = crate::schema::check_record_limits(after) else {
        return Ok(());
    };
    let grew = before.is_none_or(|b| {
        after.log.len() > b.log.len()
            || crate::schema::record_bytes(after) > crate::schema::record_bytes(b)
    });
    if grew {
        Err(Denied::Invalid(invalid))
    } else {
        Ok(())
    }
}

/// A new op stamped more than [`MAX_CLOCK_SKEW_MS`] ahead of the server's clock `now_ms` is
/// refused (`clock_ahead`): it would win last-writer-wins over later honest edits. A stamp in
/// the past is taken whatever its age (a device offline for days).
fn check_clock(op: &Op, now_ms: u64) -> Result<(), Denied> {
    if op.hlc.wall_ms > now_ms.saturating_add(MAX_CLOCK_SKEW_MS) {
        Err(Denied::ClockAhead {
            ahead_ms: op.hlc.wall_ms - now_ms,
        })
    } else {
        Ok(())
    }
}

/// Folds `ops` into the committed records, judging each authored op (`authors[i]` pushed
/// `ops[i]`; `None` is the system, which is not judged) at the server's clock `now_ms`. An op
/// id already stored is answered with its seq when it is the same op by the same author, and
/// refused (`op_id_conflict`) otherwise; likewise within the batch. Both come before the clock:
/// an op stored earlier (through an instance whose clock was later, its answer lost) is
/// answered with its seq however far ahead of this clock its stamp is; only a new op is
/// refused `clock_ahead`.
pub fn plan(
    ops: &[Op],
    authors: &[Option<Arc<Principal>>],
    committed: &mut Committed,
    deadlines: &Deadlines,
    now_ms: u64,
) -> Plan {
    let digests: Vec<String> = ops.iter().map(op_digest).collect();
    plan_digested(ops, &digests, authors, committed, deadlines, now_ms)
}

/// [`plan`] with each op's [`op_digest`] already computed (`digests[i]` of `ops[i]`): the
/// server computes them in each push's own task, outside the single writer. A missing digest
/// is computed here.
pub fn plan_digested(
    ops: &[Op],
    digests: &[String],
    authors: &[Option<Arc<Principal>>],
    committed: &mut Committed,
    deadlines: &Deadlines,
    now_ms: u64,
) -> Plan {
    let mut p = Plan::default();
    let mut seen: HashMap<OpId, (usize, String)> = HashMap::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut changed: Vec<bool> = Vec::new();
    let loaded_hierarchy = place_stored_hierarchy(committed);
    for (i, op) in ops.iter().enumerate() {
        let author = authors.get(i).and_then(Option::as_ref);
        let author_name = author.map(|a| a.username.clone());
        let digest = digests.get(i).cloned().unwrap_or_else(|| op_digest(op));
        let earlier = Earlier {
            known: &committed.known,
            seen: &seen,
            authors,
            per_op: &p.per_op,
        };
        if let Some(slot) = earlier.verdict(op, author_name.as_deref(), &digest) {
            p.per_op.push(slot);
            continue;
        }
        seen.insert(op.id, (i, digest.clone()));
        let key = (op.collection, op.record);
        let did_change = if let Some(author) = author {
            let stored = committed.records.get(&key).map(|(_, r)| r);
            let verdict = check_clock(op, now_ms)
                .and_then(|()| {
                    judge(
                        author,
                        op,
                        stored,
                        &committed.hierarchy,
                        &committed.assignees,
                        deadlines,
                    )
                })
                .and_then(|after| match committed.actors.get(&op.actor) {
                    Some(owner) if *owner != author.username => Err(Denied::ForgedActor),
                    _ => Ok(after),
                });
            match verdict {
                Ok(after) => {
                    if let std::collections::hash_map::Entry::Vacant(v) =
                        committed.actors.entry(op.actor)
                    {
                        v.insert(author.username.clone());
                        p.new_actors.push((op.actor, author.username.clone()));
                    }
                    let did = stored != Some(&after);
                    let seq = committed.records.get(&key).map_or(0, |(s, _)| *s);
                    committed.records.insert(key, (seq, after));
                    did
                }
                Err(denied) => {
                    p.per_op.push(OpSlot::Denied(denied));
                    continue;
                }
            }
        } else {
            let entry = committed
                .records
                .entry(key)
                .or_insert_with(|| (0, Record::new(op.collection, op.record)));
            merge::apply(&mut entry.1, op)
        };
        if is_hierarchy(op.collection) {
            if let Some((_, r)) = committed.records.get(&key) {
                let place = place_of(r, &committed.hierarchy);
                let old = committed.hierarchy.get(key.0, key.1).cloned();
                if old.as_ref().is_some_and(|o| *o != place) {
                    committed.hierarchy.replace_under(key, &place);
                }
                committed.hierarchy.insert(key.0, key.1, place);
            }
        }
        let slot = *index.entry(key).or_insert_with(|| {
            p.touched.push(key);
            changed.push(false);
            p.touched.len() - 1
        });
        p.per_op.push(OpSlot::Record(slot));
        p.new_ops.push(i);
        p.digests.push(digest);
        changed[slot] |= did_change;
    }
    collect_writes(&mut p, &changed, committed, &loaded_hierarchy);
    p
}

/// Places the stored hierarchy records the batch writes as they stand (higher levels first), to
/// tell which of them the batch moves; the hierarchy as loaded and so placed.
fn place_stored_hierarchy(committed: &mut Committed) -> Hierarchy {
    let mut stored_hierarchy: Vec<(Key, Record)> = committed
        .records
        .iter()
        .filter(|(k, (seq, _))| is_hierarchy(k.0) && *seq > 0)
        .map(|(k, (_, r))| (*k, r.clone()))
        .collect();
    stored_hierarchy.sort_by_key(|(k, _)| *k);
    for (key, r) in &stored_hierarchy {
        let place = place_of(r, &committed.hierarchy);
        committed.hierarchy.insert(key.0, key.1, place);
    }
    committed.hierarchy.clone()
}

/// What an op id was answered with before: in the op log, or earlier in the batch.
struct Earlier<'a> {
    known: &'a HashMap<OpId, KnownOp>,
    seen: &'a HashMap<OpId, (usize, String)>,
    authors: &'a [Option<Arc<Principal>>],
    per_op: &'a [OpSlot],
}

impl Earlier<'_> {
    /// An op id seen before is answered as then when it is the same op by the same author
    /// (`digest`, `author_name`), and refused (`op_id_conflict`) otherwise; `None` for a new op.
    fn verdict(&self, op: &Op, author_name: Option<&str>, digest: &str) -> Option<OpSlot> {
        if let Some(known) = self.known.get(&op.id) {
            let same = known.author.as_deref() == author_name
                && known.digest.as_ref().is_none_or(|d| *d == digest);
            return Some(if same {
                OpSlot::Known(known.seq)
            } else {
                OpSlot::Denied(Denied::OpIdConflict)
            });
        }
        let (first, first_digest) = self.seen.get(&op.id)?;
        let same = *first_digest == digest
            && self
                .authors
                .get(*first)
                .and_then(Option::as_ref)
                .map(|a| a.username.as_str())
                == author_name;
        Some(if same {
            self.per_op[*first].clone()
        } else {
            OpSlot::Denied(Denied::OpIdConflict)
        })
    }
}

/// The writes of a planned batch: every touched record that changed, with its place after the
/// batch, and the stored hierarchy records whose place moved.
fn collect_writes(
    p: &mut Plan,
    changed: &[bool],
    committed: &Committed,
    loaded_hierarchy: &Hierarchy,
) {
    for (slot, key) in p.touched.iter().enumerate() {
        if !changed[slot] {
            continue;
        }
        let record = committed
            .records
            .get(key)
            .map_or_else(|| Record::new(key.0, key.1), |(_, r)| r.clone());
        let place = place_of(&record, &committed.hierarchy);
        if is_hierarchy(key.0) {
            if let Some(before) = loaded_hierarchy.get(key.0, key.1) {
                let stored = committed.records.get(key).is_some_and(|(s, _)| *s > 0);
                if stored && *before != place {
                    p.moves.push(Move {
                        key: *key,
                        before: before.clone(),
                        after: place.clone(),
                    });
                }
            }
        }
        p.writes.push(Write {
            key: *key,
            record,
            place,
        });
    }
}

/// The place of a record below a moved hierarchy record (see [`replace_under`]).
pub fn moved_place(m: &Move, old: &Place) -> Place {
    replace_under(m.key.0, &m.after, old)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;
    use crate::ids::RecordId;
    use crate::schema::Collection;
    use uuid::Uuid;

    /// The digests stored in op logs were of the op's JSON as one buffer: the streamed digest
    /// must be the same bytes, or every re-sent op would be refused `op_id_conflict`.
    #[test]
    fn the_streamed_digest_is_the_digest_of_the_ops_json() {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("title".to_owned(), serde_json::json!("路灯不亮 \"quoted\""));
        let op = Op {
            id: OpId(Uuid::from_u128(7)),
            actor: ActorId(Uuid::from_u128(8)),
            hlc: Hlc::new(1_700_000_000_000, 3),
            collection: Collection::Cases,
            record: RecordId(Uuid::from_u128(9)),
            body: OpBody::Set { fields },
            schema: crate::SCHEMA_VERSION,
        };
        let bytes = serde_json::to_vec(&op).expect("an op serialises");
        assert_eq!(op_digest(&op), hex::encode(&Sha256::digest(&bytes)[..16]));
        let mut other = op.clone();
        other.hlc = Hlc::new(1_700_000_000_000, 4);
        assert_ne!(op_digest(&op), op_digest(&other));
    }
}
