//! The field table: for every field of every collection, who may write it, to what, and from
//! which state. An op is judged by what it *changes* (the record before and after the merge),
//! so a stale op that loses the merge changes nothing and needs no right.
//!
//! [`RULES`] lists every field explicitly (a test checks that no schema field is missing); the
//! app asks [`may_set`] to offer only what the server will accept.

use super::assign::{self, Assignees};
use crate::authz::{sees_personal, Denied, Place, Principal};
use crate::case::{self, Action, Deadlines, Level, Role, Status};
use crate::record::Record;
use crate::schema::{Collection, CASE_SOURCES};
use serde_json::Value;

/// Who may write a field, and under which condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Anyone who may write the record where it sits (collection and area rules).
    Area,
    /// The parent in the hierarchy: writable like [`Rule::Area`], and the area rules are checked
    /// at the record's place before *and* after (a move never leaves or enters someone else's area).
    Parent,
    /// Set when the record is created, never changed afterwards.
    OnCreate,
    /// The person who records it: on creation it must be the author; never changed afterwards.
    Author,
    /// Residents' personal data: only the handlers of the place (who see it unmasked) write it,
    /// so a masked level never overwrites a real phone number with what it cannot see.
    Personal,
    /// A case's state: only lifecycle transitions ([`case::transition`]) from the stored state,
    /// with the owner rule for closing and returning; a new case starts `reported`.
    CaseStatus,
    /// A case's deadline: on creation at most the deployment's hours for its category after
    /// `reported_at`; later only extended by a manager at the owning level, with an `extend`
    /// entry on the timeline naming the new deadline.
    CaseDeadline,
    /// When a case was reported: on creation near the op's own clock; never changed afterwards.
    ReportedAt,
    /// When a case was closed: only with the close transition (销号), by the owning level.
    ClosedAt,
    /// Who handles a case (受理派单): set by a role that may assign at the level that owns the
    /// case ([`assign::may_assign`]), to a person or unit working where the case sits
    /// ([`assign::works_at`]), or cleared.
    Assignee,
    /// Where a case came from (巡查发现, 群众诉求, 红色体检, 12345, 协商议事): one of
    /// [`CASE_SOURCES`], set when the case is created, never changed afterwards.
    CaseSource,
    /// The tombstone. Cases: the owning level's managers only (deleting is a closing path);
    /// other collections: like [`Rule::Area`].
    Deleted,
    /// Set by the system (demo seeding); a user may at most clear it (an administrator marking
    /// imported records as real data).
    System,
}

/// Every field of every collection with its rule (`deleted` and `synthetic` are common).
pub const RULES: &[(Collection, &str, Rule)] = &[
    (Collection::Subdistricts, "code", Rule::Area),
    (Collection::Subdistricts, "name", Rule::Area),
    (Collection::Subdistricts, "kind", Rule::Area),
    (Collection::Subdistricts, "boundary", Rule::Area),
    (Collection::Communities, "code", Rule::Area),
    (Collection::Communities, "name", Rule::Area),
    (Collection::Communities, "subdistrict", Rule::Parent),
    (Collection::Communities, "boundary", Rule::Area),
    (Collection::Grids, "code", Rule::Area),
    (Collection::Grids, "name", Rule::Area),
    (Collection::Grids, "community", Rule::Parent),
    (Collection::Grids, "boundary", Rule::Area),
    (Collection::Grids, "party_org", Rule::Area),
    (Collection::Compounds, "grid", Rule::Parent),
    (Collection::Compounds, "name", Rule::Area),
    (Collection::Compounds, "kind", Rule::Area),
    (Collection::Compounds, "position", Rule::Area),
    (Collection::Compounds, "households", Rule::Area),
    (Collection::Compounds, "property", Rule::Area),
    (Collection::Households, "grid", Rule::Parent),
    (Collection::Households, "compound", Rule::Area),
    (Collection::Households, "address", Rule::Area),
    (Collection::Households, "head_name", Rule::Personal),
    (Collection::Households, "phone", Rule::Personal),
    (Collection::Households, "note", Rule::Area),
    (Collection::Cases, "grid", Rule::Parent),
    (Collection::Cases, "compound", Rule::Area),
    (Collection::Cases, "title", Rule::Area),
    (Collection::Cases, "description", Rule::Area),
    (Collection::Cases, "category", Rule::Area),
    (Collection::Cases, "source", Rule::CaseSource),
    (Collection::Cases, "status", Rule::CaseStatus),
    (Collection::Cases, "reporter", Rule::Author),
    (Collection::Cases, "assignee", Rule::Assignee),
    (Collection::Cases, "reported_at", Rule::ReportedAt),
    (Collection::Cases, "deadline", Rule::CaseDeadline),
    (Collection::Cases, "closed_at", Rule::ClosedAt),
    (Collection::Cases, "position", Rule::Area),
    (Collection::Cases, "photos", Rule::Area),
    (Collection::Cases, "resident_name", Rule::Personal),
    (Collection::Cases, "resident_phone", Rule::Personal),
    (Collection::Cases, "resident_id_number", Rule::Personal),
    (Collection::Visits, "grid", Rule::Parent),
    (Collection::Visits, "compound", Rule::Area),
    (Collection::Visits, "household", Rule::Area),
    (Collection::Visits, "kind", Rule::Area),
    (Collection::Visits, "warden", Rule::Author),
    (Collection::Visits, "visited_at", Rule::OnCreate),
    (Collection::Visits, "notes", Rule::Area),
    (Collection::Visits, "appeals", Rule::Area),
    (Collection::Visits, "position", Rule::Area),
    (Collection::Visits, "photos", Rule::Area),
    (Collection::Activities, "community", Rule::Parent),
    (Collection::Activities, "title", Rule::Area),
    (Collection::Activities, "theme", Rule::Area),
    (Collection::Activities, "special", Rule::Area),
    (Collection::Activities, "date", Rule::Area),
    (Collection::Activities, "place", Rule::Area),
    (Collection::Activities, "units", Rule::Area),
    (Collection::Activities, "volunteers", Rule::Area),
    (Collection::Activities, "residents_served", Rule::Area),
    (Collection::Activities, "description", Rule::Area),
    (Collection::Activities, "photos", Rule::Area),
    (Collection::Units, "name", Rule::Area),
    (Collection::Units, "kind", Rule::Area),
    (Collection::Units, "liaison", Rule::Area),
    (Collection::Alliances, "community", Rule::Parent),
    (Collection::Alliances, "unit", Rule::Area),
    (Collection::Alliances, "since", Rule::Area),
    (Collection::ServiceCentres, "community", Rule::Parent),
    (Collection::ServiceCentres, "name", Rule::Area),
    (Collection::ServiceCentres, "level", Rule::Area),
    (Collection::ServiceCentres, "position", Rule::Area),
    (Collection::Projects, "community", Rule::Parent),
    (Collection::Projects, "title", Rule::Area),
    (Collection::Projects, "target", Rule::Area),
    (Collection::Projects, "measures", Rule::Area),
    (Collection::Projects, "deadline", Rule::Area),
    (Collection::Projects, "responsible", Rule::Area),
    (Collection::Projects, "progress", Rule::Area),
];

/// The rule of a field; `None` for a field the table does not know (refused).
pub fn rule(collection: Collection, field: &str) -> Option<Rule> {
    match field {
        "deleted" => return Some(Rule::Deleted),
        "synthetic" => return Some(Rule::System),
        _ => {}
    }
    RULES
        .iter()
        .find(|(c, f, _)| *c == collection && *f == field)
        .map(|(_, _, r)| *r)
}

/// How far a new case's `reported_at` may lie from the op's own clock: behind by a week (a form
/// kept open offline), ahead by a minute (the server's clock window).
pub const REPORTED_AT_BEHIND_MS: u64 = 7 * case::DAY_MS;
pub const REPORTED_AT_AHEAD_MS: u64 = 60_000;

/// What a rule needs besides the principal: the record before and after the op, where it sits,
/// the op's clock and the deployment's deadlines.
pub struct Change<'a> {
    pub p: &'a Principal,
    pub before: Option<&'a Record>,
    pub after: &'a Record,
    pub place: &'a Place,
    pub op_wall_ms: u64,
    pub deadlines: &'a Deadlines,
    /// The people and units the batch names as assignees.
    pub assignees: &'a Assignees,
}

impl Change<'_> {
    fn old(&self, field: &str) -> Option<&Value> {
        self.before.and_then(|r| r.get(field))
    }

    fn new_value(&self, field: &str) -> Option<&Value> {
        self.after.get(field)
    }

    /// Whether the record is being created (it had no fields before).
    fn creating(&self) -> bool {
        self.before.is_none_or(|r| r.fields.is_empty())
    }

    fn forbidden(&self, field: &str) -> Denied {
        Denied::Field {
            role: self.p.role,
            field: field.to_owned(),
        }
    }

    /// The level that owns the case as recorded (its escalations), at least the community.
    fn owner(&self) -> Level {
        self.before
            .and_then(case::recorded_escalation)
            .map_or(Level::Community, |l| l.max(Level::Community))
    }

    fn status_before(&self) -> Option<Status> {
        self.before
            .and_then(|r| r.str("status"))
            .and_then(Status::parse)
    }
}

/// Judges one changed field. `field` changed between `before` and `after`.
pub fn check_field(c: &Change<'_>, field: &str) -> Result<(), Denied> {
    let rule = rule(c.after.collection, field).ok_or_else(|| c.forbidden(field))?;
    let role = c.p.role;
    // A closed case is frozen below the level that owns it.
    if c.after.collection == Collection::Cases
        && c.status_before() == Some(Status::Closed)
        && role.level() < c.owner()
        && field != "status"
    {
        return Err(Denied::Frozen);
    }
    match rule {
        Rule::Area | Rule::Parent => Ok(()),
        Rule::OnCreate => {
            if c.creating() || c.old(field).is_none() {
                Ok(())
            } else {
                Err(Denied::Immutable {
                    field: field.to_owned(),
                })
            }
        }
        Rule::Author => {
            if !(c.creating() || c.old(field).is_none()) {
                return Err(Denied::Immutable {
                    field: field.to_owned(),
                });
            }
            match c.new_value(field).and_then(Value::as_str) {
                Some(claimed) if claimed != c.p.username => Err(Denied::ForgedAuthor {
                    claimed: claimed.to_owned(),
                    actual: c.p.username.clone(),
                }),
                _ => Ok(()),
            }
        }
        Rule::Personal => {
            if sees_personal(c.p, c.place) {
                Ok(())
            } else {
                Err(c.forbidden(field))
            }
        }
        Rule::CaseStatus => check_status(c),
        Rule::CaseDeadline => check_deadline(c),
        Rule::ReportedAt => check_reported_at(c),
        Rule::ClosedAt => {
            let closing = c.after.str("status") == Some(Status::Closed.as_str());
            if !(closing && Action::Close.roles_include(role)) {
                Err(c.forbidden(field))
            } else if role.level() < c.owner() {
                Err(Denied::NotOwner {
                    owner: c.owner().as_str(),
                })
            } else {
                Ok(())
            }
        }
        Rule::Assignee => check_assignee(c),
        Rule::CaseSource => {
            if !(c.creating() || c.old(field).is_none()) {
                return Err(Denied::Immutable {
                    field: field.to_owned(),
                });
            }
            match c.new_value(field) {
                None | Some(Value::Null) => Ok(()),
                Some(Value::String(s)) if CASE_SOURCES.contains(&s.as_str()) => Ok(()),
                Some(other) => Err(Denied::UnknownSource {
                    value: other
                        .as_str()
                        .unwrap_or_default()
                        .chars()
                        .take(64)
                        .collect(),
                }),
            }
        }
        Rule::Deleted => {
            if c.after.collection != Collection::Cases {
                return Ok(());
            }
            if role.is_manager() && role.level() >= c.owner() {
                Ok(())
            } else if role.is_manager() {
                Err(Denied::NotOwner {
                    owner: c.owner().as_str(),
                })
            } else {
                Err(c.forbidden(field))
            }
        }
        // An administrator may mark a record as real data (a grid import replacing the demo
        // city's); nobody may make a record look synthetic.
        Rule::System => {
            if role == Role::Admin && c.new_value(field) == Some(&Value::Bool(false)) {
                Ok(())
            } else {
                Err(c.forbidden(field))
            }
        }
    }
}

fn check_status(c: &Change<'_>) -> Result<(), Denied> {
    let to = c
        .after
        .str("status")
        .and_then(Status::parse)
        .ok_or_else(|| c.forbidden("status"))?;
    let Some(from) = c.status_before() else {
        // A new case starts reported.
        return if to == Status::Reported {
            Ok(())
        } else {
            Err(Denied::BadTransition {
                from: "new",
                to: to.as_str(),
            })
        };
    };
    let action = Action::ALL
        .into_iter()
        .find(|a| a.target() == to && a.valid_sources().contains(&from))
        .ok_or(Denied::BadTransition {
            from: from.as_str(),
            to: to.as_str(),
        })?;
    case::transition(from, action, c.p.role, c.owner())
        .map(|_| ())
        .map_err(|e| match e {
            case::Refused::NotOwner { owner, .. } => Denied::NotOwner {
                owner: owner.as_str(),
            },
            case::Refused::WrongRole { .. } | case::Refused::WrongState { .. } => {
                Denied::Transition {
                    role: c.p.role,
                    status: to.as_str(),
                }
            }
        })
}

fn check_assignee(c: &Change<'_>) -> Result<(), Denied> {
    let role = c.p.role;
    if !assign::may_assign(role, c.owner()) {
        return Err(if Action::Accept.roles_include(role) {
            Denied::NotOwner {
                owner: c.owner().as_str(),
            }
        } else {
            c.forbidden("assignee")
        });
    }
    let value = match c.new_value("assignee") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(c.forbidden("assignee")),
    };
    let works_here = assign::parse(value)
        .and_then(|_| c.assignees.get(value))
        .is_some_and(|who| assign::works_at(who, c.place));
    if works_here {
        Ok(())
    } else {
        Err(Denied::Assignee {
            assignee: value.chars().take(64).collect(),
        })
    }
}

fn check_deadline(c: &Change<'_>) -> Result<(), Denied> {
    let new = c.new_value("deadline").and_then(Value::as_u64);
    if c.creating() || c.old("deadline").is_none() {
        let reported = c.after.get("reported_at").and_then(Value::as_u64);
        let category = c.after.str("category").unwrap_or_default();
        return match (new, reported) {
            (Some(d), Some(r)) if d >= r && d <= case::deadline(c.deadlines, r, category) => Ok(()),
            _ => Err(Denied::Deadline {
                hours: c.deadlines.hours_for(category),
            }),
        };
    }
    // Moving an existing deadline: an extension by the owning level, recorded on the timeline.
    let role = c.p.role;
    let old = c.old("deadline").and_then(Value::as_u64).unwrap_or(0);
    let recorded = c.after.log.values().any(|e| {
        e.data.get("action").and_then(Value::as_str) == Some(EXTEND)
            && e.data.get("by").and_then(Value::as_str) == Some(c.p.username.as_str())
            && e.data.get("deadline").and_then(Value::as_u64) == new
    });
    if role.is_manager() && role.level() >= c.owner() && new.is_some_and(|d| d > old) && recorded {
        Ok(())
    } else {
        Err(Denied::Extension)
    }
}

fn check_reported_at(c: &Change<'_>) -> Result<(), Denied> {
    if !(c.creating() || c.old("reported_at").is_none()) {
        return Err(Denied::Immutable {
            field: "reported_at".into(),
        });
    }
    let at = c.new_value("reported_at").and_then(Value::as_u64);
    let lo = c.op_wall_ms.saturating_sub(REPORTED_AT_BEHIND_MS);
    let hi = c.op_wall_ms + REPORTED_AT_AHEAD_MS;
    if at.is_some_and(|t| (lo..=hi).contains(&t)) {
        Ok(())
    } else {
        Err(Denied::ReportedAt)
    }
}

/// The timeline action of a deadline extension (延期): `{action, by, deadline, note}`.
pub const EXTEND: &str = "extend";
/// A reminder (督办) by a supervising manager.
pub const REMIND: &str = "remind";
/// A free note on the timeline.
pub const NOTE: &str = "note";
/// The first entry of a case (上报).
pub const REPORT: &str = "report";

/// Judges a new timeline entry: its author is the signed-in user, and its action is one the
/// author's role may record (lifecycle steps by the roles that may take them; a reminder by a
/// manager; an extension by the owning level; escalations and hand-backs by the system only).
pub fn check_entry(
    p: &Principal,
    collection: Collection,
    before: Option<&Record>,
    data: &serde_json::Map<String, Value>,
) -> Result<(), Denied> {
    match data.get("by") {
        Some(Value::String(by)) if by == &p.username => {}
        Some(Value::String(by)) => {
            return Err(Denied::ForgedAuthor {
                claimed: by.clone(),
                actual: p.username.clone(),
            })
        }
        _ => return Err(Denied::Entry("an entry must name its author in 'by'")),
    }
    let action = data.get("action").and_then(Value::as_str).unwrap_or(NOTE);
    if action == NOTE {
        return Ok(());
    }
    if collection != Collection::Cases {
        return Err(Denied::Entry("this timeline takes notes only"));
    }
    let owner = before
        .and_then(case::recorded_escalation)
        .map_or(Level::Community, |l| l.max(Level::Community));
    let role = p.role;
    match action {
        REPORT => Ok(()),
        REMIND if role.is_manager() => Ok(()),
        EXTEND if role.is_manager() && role.level() >= owner => Ok(()),
        REMIND | EXTEND => Err(Denied::Transition {
            role,
            status: "supervision",
        }),
        case::ESCALATE | super::handback::UNASSIGN => Err(Denied::SystemOnly),
        other => match Action::parse(other) {
            Some(a) if a.roles_include(role) => {
                if matches!(a, Action::Close | Action::Return) && role.level() < owner {
                    Err(Denied::NotOwner {
                        owner: owner.as_str(),
                    })
                } else {
                    Ok(())
                }
            }
            Some(a) => Err(Denied::Transition {
                role,
                status: a.target().as_str(),
            }),
            None => Err(Denied::Entry("unknown timeline action")),
        },
    }
}

/// Whether the principal may set `field` of `record` (as it is now, at `place`) at all: what the
/// app uses to offer only editable fields. Value-dependent rules (transitions, deadlines) answer
/// whether *some* change is possible.
pub fn may_set(p: &Principal, record: &Record, place: &Place, field: &str) -> bool {
    let Some(rule) = rule(record.collection, field) else {
        return false;
    };
    let owner =
        case::recorded_escalation(record).map_or(Level::Community, |l| l.max(Level::Community));
    let frozen = record.collection == Collection::Cases
        && record.str("status") == Some(Status::Closed.as_str())
        && p.role.level() < owner;
    let exists = !record.fields.is_empty();
    let role = p.role;
    !frozen
        && match rule {
            Rule::Area | Rule::Parent => true,
            Rule::OnCreate | Rule::Author | Rule::ReportedAt | Rule::CaseSource => {
                !exists || record.get(field).is_none()
            }
            Rule::Personal => sees_personal(p, place),
            Rule::CaseStatus => record
                .str("status")
                .and_then(Status::parse)
                .is_some_and(|s| !case::allowed_actions(s, role, owner).is_empty()),
            Rule::CaseDeadline => !exists || (role.is_manager() && role.level() >= owner),
            Rule::ClosedAt => Action::Close.roles_include(role) && role.level() >= owner,
            Rule::Assignee => assign::may_assign(role, owner),
            Rule::Deleted => {
                record.collection != Collection::Cases
                    || (role.is_manager() && role.level() >= owner)
            }
            Rule::System => role == Role::Admin,
        }
}

/// Whether the principal may change `field` of `record` at `place`, its area included: what the
/// app asks before it offers an edit, a picker or a button (the server judges every op by the
/// same rules, so what is offered passes).
pub fn may_write(p: &Principal, record: &Record, place: &Place, field: &str) -> bool {
    crate::authz::writable(p.role, record.collection)
        && crate::authz::in_write_area(p, record.collection, place)
        && may_set(p, record, place, field)
}

/// Whether a role's area rules let it write the collection at all (admins and the city write
/// everything; see `authz`). Re-exported for the table's tests.
pub fn role_writes(role: Role, c: Collection) -> bool {
    crate::authz::writable(role, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_app_offers_follows_role_area_and_state() {
        use crate::ids::RecordId;
        use uuid::Uuid;
        let id = |n: u128| RecordId(Uuid::from_u128(n));
        let place = Place {
            subdistrict: Some(id(1)),
            community: Some(id(10)),
            grid: Some(id(100)),
        };
        let person = |role: Role, grids: &[u128], communities: &[u128]| Principal {
            username: "x".into(),
            role,
            grids: grids.iter().map(|n| id(*n)).collect(),
            communities: communities.iter().map(|n| id(*n)).collect(),
            subdistricts: vec![],
        };
        let case = |status: &str| {
            crate::record::test_record(
                Collection::Cases,
                7,
                &serde_json::json!({"status": status, "grid": id(100).to_string(), "source": "patrol"}),
            )
        };
        let warden = person(Role::Warden, &[100], &[10]);
        let other_warden = person(Role::Warden, &[101], &[10]);
        let manager = person(Role::CommunityManager, &[], &[10]);
        let liaison = person(Role::UnitLiaison, &[], &[10]);
        let open = case("in_progress");
        assert!(may_write(&warden, &open, &place, "title"));
        assert!(
            !may_write(&other_warden, &open, &place, "title"),
            "another grid"
        );
        assert!(
            !may_write(&liaison, &open, &place, "title"),
            "units do not edit cases"
        );
        assert!(
            !may_write(&warden, &open, &place, "assignee"),
            "wardens do not assign"
        );
        assert!(may_write(&manager, &open, &place, "assignee"));
        assert!(
            !may_write(&manager, &open, &place, "source"),
            "fixed at the report"
        );
        let closed = case("closed");
        assert!(
            !may_write(&warden, &closed, &place, "title"),
            "closed: frozen"
        );
        assert!(
            may_write(&manager, &closed, &place, "title"),
            "the owning level"
        );
    }

    #[test]
    fn every_schema_field_has_an_explicit_rule() {
        for c in Collection::ALL {
            for spec in c.fields() {
                assert!(
                    RULES.iter().any(|(rc, f, _)| *rc == c && *f == spec.name),
                    "{c}.{} has no rule",
                    spec.name
                );
            }
        }
        for (c, f, _) in RULES {
            assert!(c.field(f).is_some(), "rule for unknown field {c}.{f}");
        }
    }
}
