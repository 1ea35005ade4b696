//! The case lifecycle (事件/诉求): states, transitions, who may make them, deadlines, overdue and
//! escalation. Pure functions; the app uses them to offer only allowed actions, the server to
//! refuse the rest.
//!
//! reported 上报 → accepted 受理/派单 → in_progress 处置中 → resolved 已办结 → closed 销号,
//! or returned 退回 from resolved back to in_progress.

pub use crate::deadlines::Deadlines;
use crate::hlc::Hlc;
use crate::ids::{ActorId, OpId, RecordId};
use crate::op::{Entry, Op, OpBody};
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use uuid::Uuid;

/// A user's role (DOMAIN.md "Who uses it").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 网格员
    Warden,
    /// 网格长
    GridLeader,
    /// 社区
    CommunityManager,
    /// 街道(镇)
    SubdistrictManager,
    /// 市级
    CityManager,
    /// 联盟单位联络员
    UnitLiaison,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Self::Warden,
        Self::GridLeader,
        Self::CommunityManager,
        Self::SubdistrictManager,
        Self::CityManager,
        Self::UnitLiaison,
        Self::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warden => "warden",
            Self::GridLeader => "grid_leader",
            Self::CommunityManager => "community_manager",
            Self::SubdistrictManager => "subdistrict_manager",
            Self::CityManager => "city_manager",
            Self::UnitLiaison => "unit_liaison",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The level of the hierarchy the role works at.
    pub fn level(self) -> Level {
        match self {
            Self::Warden | Self::GridLeader => Level::Grid,
            Self::CommunityManager | Self::UnitLiaison => Level::Community,
            Self::SubdistrictManager => Level::Subdistrict,
            Self::CityManager | Self::Admin => Level::City,
        }
    }

    /// Whether the role manages (supervises, assigns, closes) rather than works in the field.
    pub fn is_manager(self) -> bool {
        self.level() >= Level::Community && self != Self::UnitLiaison
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Levels of the hierarchy, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Grid,
    Community,
    Subdistrict,
    City,
}

impl Level {
    pub const ALL: [Level; 4] = [Self::Grid, Self::Community, Self::Subdistrict, Self::City];

    /// The wire name (an escalation entry's `level`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Community => "community",
            Self::Subdistrict => "subdistrict",
            Self::City => "city",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A case's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Reported,
    Accepted,
    InProgress,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Self::Reported,
        Self::Accepted,
        Self::InProgress,
        Self::Resolved,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reported => "reported",
            Self::Accepted => "accepted",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the case still needs work (counts towards open and overdue figures).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Resolved | Self::Closed)
    }
}

/// A step of the lifecycle, recorded as a timeline entry `{"action": …}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 受理/派单: accept and assign.
    Accept,
    /// 处置中: start handling.
    Start,
    /// 已办结: the handler reports it resolved.
    Resolve,
    /// 销号: verified and closed by the owning level.
    Close,
    /// 退回: verification failed, back to handling.
    Return,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Self::Accept,
        Self::Start,
        Self::Resolve,
        Self::Close,
        Self::Return,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Start => "start",
            Self::Resolve => "resolve",
            Self::Close => "close",
            Self::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The state the action leaves the case in.
    pub fn target(self) -> Status {
        match self {
            Self::Accept => Status::Accepted,
            Self::Start | Self::Return => Status::InProgress,
            Self::Resolve => Status::Resolved,
            Self::Close => Status::Closed,
        }
    }

    /// The states the action may start from.
    pub fn valid_sources(self) -> &'static [Status] {
        match self {
            Self::Accept => &[Status::Reported],
            // From reported too: a warden handles a small problem on the spot (就地处置) without
            // waiting for an assignment; the case still needs the owning level's 销号.
            Self::Start => &[Status::Reported, Status::Accepted],
            Self::Resolve => &[Status::InProgress],
            Self::Close | Self::Return => &[Status::Resolved],
        }
    }

    /// Whether `role` may take this action (the owner rule aside, see [`transition`]).
    pub fn roles_include(self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    fn roles(self) -> &'static [Role] {
        use Role::{Admin, CityManager, CommunityManager, GridLeader, SubdistrictManager, Warden};
        match self {
            // A grid leader or the community assigns.
            Self::Accept => &[
                GridLeader,
                CommunityManager,
                SubdistrictManager,
                CityManager,
                Admin,
            ],
            // A warden reports and handles.
            Self::Start | Self::Resolve => &[
                Warden,
                GridLeader,
                CommunityManager,
                SubdistrictManager,
                CityManager,
                Admin,
            ],
            // Only the level that owns a case closes it (销号) or returns it.
            Self::Close | Self::Return => {
                &[CommunityManager, SubdistrictManager, CityManager, Admin]
            }
        }
    }
}

/// Why a transition is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("a case that is {from} cannot be moved by '{action}'")]
    WrongState {
        from: &'static str,
        action: &'static str,
    },
    #[error("the role {role} may not '{action}' a case")]
    WrongRole { role: Role, action: &'static str },
    #[error("this case is owned by the {owner:?} level; {role} may not close or return it")]
    NotOwner { role: Role, owner: Level },
}

impl Refused {
    /// Stable code for the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongState { .. } => "bad_transition",
            Self::WrongRole { .. } | Self::NotOwner { .. } => "forbidden_transition",
        }
    }
}

/// Checks a transition: from `from`, by `role`, on a case owned by level `owner` (the level the
/// case has been escalated to; `Community` by default). Returns the new state.
pub fn transition(
    from: Status,
    action: Action,
    role: Role,
    owner: Level,
) -> Result<Status, Refused> {
    if !action.valid_sources().contains(&from) {
        return Err(Refused::WrongState {
            from: from.as_str(),
            action: action.as_str(),
        });
    }
    if !action.roles().contains(&role) {
        return Err(Refused::WrongRole {
            role,
            action: action.as_str(),
        });
    }
    if matches!(action, Action::Close | Action::Return) && role.level() < owner {
        return Err(Refused::NotOwner { role, owner });
    }
    Ok(action.target())
}

/// The actions a role may take on a case now (what the app offers as buttons).
pub fn allowed_actions(from: Status, role: Role, owner: Level) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| transition(from, *a, role, owner).is_ok())
        .collect()
}

/// Milliseconds in an hour and a day.
pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// The deadline of a case reported at `reported_at` in `category`, with the deployment's
/// configured hours.
pub fn deadline(deadlines: &Deadlines, reported_at_ms: u64, category: &str) -> u64 {
    reported_at_ms + u64::from(deadlines.hours_for(category)) * HOUR_MS
}

/// Whether an open case is past its deadline.
pub fn is_overdue(status: Status, deadline_ms: u64, now_ms: u64) -> bool {
    status.is_open() && now_ms > deadline_ms
}

/// Which level's supervision queue an overdue case belongs in by the clock: overdue at all → the
/// community (level above the grid); more than the configured subdistrict step (3 days by
/// default) over → the subdistrict; more than the city step (7 days) → the city. `None` while
/// the case is on time or done.
pub fn escalation_level(
    deadlines: &Deadlines,
    status: Status,
    deadline_ms: u64,
    now_ms: u64,
) -> Option<Level> {
    if !is_overdue(status, deadline_ms, now_ms) {
        return None;
    }
    let over = now_ms - deadline_ms;
    let steps = deadlines.escalation;
    Some(if over > u64::from(steps.city_after_days) * DAY_MS {
        Level::City
    } else if over > u64::from(steps.subdistrict_after_days) * DAY_MS {
        Level::Subdistrict
    } else {
        Level::Community
    })
}

/// The timeline action of an escalation entry, written by the server's sweeper only.
pub const ESCALATE: &str = "escalate";

/// The levels a case escalates through, lowest first.
pub const ESCALATION_LEVELS: [Level; 3] = [Level::Community, Level::Subdistrict, Level::City];

/// The highest level a case's timeline records it was escalated to (its `escalate` entries).
pub fn recorded_escalation(r: &Record) -> Option<Level> {
    r.log
        .values()
        .filter(|e| e.data.get("action").and_then(Value::as_str) == Some(ESCALATE))
        .filter_map(|e| {
            e.data
                .get("level")
                .and_then(Value::as_str)
                .and_then(Level::parse)
        })
        .max()
}

fn status_and_deadline(r: &Record) -> Option<(Status, u64)> {
    let status = r.str("status").and_then(Status::parse)?;
    let deadline = r.get("deadline").and_then(Value::as_u64)?;
    Some((status, deadline))
}

/// The supervision queue an overdue case sits in now: the higher of what the clock says (with
/// the configured steps) and what its timeline records (an escalation stays when the steps are
/// later made longer). `None` while the case is on time, done, or deleted.
pub fn supervision_level(deadlines: &Deadlines, r: &Record, now_ms: u64) -> Option<Level> {
    if r.is_deleted() {
        return None;
    }
    let (status, deadline) = status_and_deadline(r)?;
    let by_clock = escalation_level(deadlines, status, deadline, now_ms)?;
    Some(by_clock.max(recorded_escalation(r).unwrap_or(by_clock)))
}

/// The level that owns a case (and so may close or return it, see [`transition`]): the highest
/// level it has been escalated to — recorded in its timeline, or due by the clock and not yet
/// recorded — else the community.
pub fn owner_level(deadlines: &Deadlines, r: &Record, now_ms: u64) -> Level {
    let recorded = recorded_escalation(r);
    let by_clock = status_and_deadline(r)
        .and_then(|(status, deadline)| escalation_level(deadlines, status, deadline, now_ms));
    recorded
        .max(by_clock)
        .map_or(Level::Community, |l| l.max(Level::Community))
}

/// The escalations a case is due and has not had: every level from the one above its highest
/// recorded escalation up to the level the clock puts it at (a case found a week late gets the
/// community's, the subdistrict's and the city's, in that order). Empty for a case that is on
/// time, done, deleted, or without a deadline.
pub fn due_escalations(deadlines: &Deadlines, r: &Record, now_ms: u64) -> Vec<Level> {
    if r.is_deleted() || r.collection != Collection::Cases {
        return Vec::new();
    }
    let Some((status, deadline)) = status_and_deadline(r) else {
        return Vec::new();
    };
    let Some(reached) = escalation_level(deadlines, status, deadline, now_ms) else {
        return Vec::new();
    };
    let recorded = recorded_escalation(r);
    ESCALATION_LEVELS
        .into_iter()
        .filter(|l| *l <= reached && recorded.is_none_or(|x| *l > x))
        .collect()
}

/// The ops that record a case's due escalations ([`due_escalations`], [`escalation_op`]): what
/// the server's sweeper commits for each overdue case it reads.
pub fn due_escalation_ops(deadlines: &Deadlines, r: &Record, now_ms: u64) -> Vec<Op> {
    let Some(status) = r.str("status").and_then(Status::parse) else {
        return Vec::new();
    };
    due_escalations(deadlines, r, now_ms)
        .into_iter()
        .map(|level| escalation_op(deadlines, r.id, level, status, now_ms))
        .collect()
}

/// The actor of ops the server writes by itself (escalations).
pub const SYSTEM_ACTOR: ActorId =
    ActorId(Uuid::from_u128(0x7076_0000_0000_4000_8000_0000_0000_0001));

/// The namespace of the server's deterministic (version 5) ids. Devices make version 7 ids;
/// `authz` refuses version 5 ids from users, so nobody can take an id the server will need.
pub const SYSTEM_NAMESPACE: Uuid = Uuid::from_u128(0x2f9c_1d3e_7a41_4b6e_9c0d_5e8f_a1b2_c3d4);

/// Whether an id is one the server makes (version 5), not a device.
pub fn is_system_id(id: Uuid) -> bool {
    id.get_version_num() == 5
}

/// The op that records that case `case` was escalated to `level`: an `escalate` timeline entry
/// by the system (no user), stamped `now_ms`. Its op id and entry id are UUIDv5 of the case and
/// the level, so every server instance that sweeps the same database makes the same op, which
/// the store applies once.
pub fn escalation_op(
    deadlines: &Deadlines,
    case: RecordId,
    level: Level,
    status: Status,
    now_ms: u64,
) -> Op {
    let name = |kind: &str| format!("{kind}/{case}/{}", level.as_str());
    let steps = deadlines.escalation;
    let note = match level {
        Level::Grid | Level::Community => "超过办理时限，转社区督办".to_owned(),
        Level::Subdistrict => format!(
            "超过办理时限{}天以上，升级至街道(镇)督办",
            steps.subdistrict_after_days
        ),
        Level::City => format!(
            "超过办理时限{}天以上，升级至市级督办",
            steps.city_after_days
        ),
    };
    let mut data = Map::new();
    data.insert("action".into(), ESCALATE.into());
    data.insert("level".into(), level.as_str().into());
    data.insert("from".into(), status.as_str().into());
    data.insert("to".into(), status.as_str().into());
    data.insert("note".into(), note.into());
    Op {
        id: OpId(Uuid::new_v5(
            &SYSTEM_NAMESPACE,
            name("escalate-op").as_bytes(),
        )),
        actor: SYSTEM_ACTOR,
        // The counter orders the entries of one sweep: community, subdistrict, city.
        hlc: Hlc::new(now_ms, level as u32),
        collection: Collection::Cases,
        record: case,
        body: OpBody::Append {
            entry: Entry {
                id: Uuid::new_v5(&SYSTEM_NAMESPACE, name("escalate-entry").as_bytes()),
                data,
            },
        },
        schema: crate::SCHEMA_VERSION,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transition_is_allowed_or_refused_as_designed() {
        use Action::*;
        use Status::*;
        // (from, action) pairs that are valid state moves.
        let valid = [
            (Reported, Accept),
            (Reported, Start),
            (Accepted, Start),
            (InProgress, Resolve),
            (Resolved, Close),
            (Resolved, Return),
        ];
        for from in Status::ALL {
            for action in Action::ALL {
                for role in Role::ALL {
                    let got = transition(from, action, role, Level::Community);
                    let state_ok = valid.contains(&(from, action));
                    let role_ok = match action {
                        Accept => !matches!(role, Role::Warden | Role::UnitLiaison),
                        Start | Resolve => role != Role::UnitLiaison,
                        Close | Return => role.is_manager() || role == Role::Admin,
                    };
                    match (state_ok, role_ok) {
                        (true, true) => {
                            assert_eq!(got, Ok(action.target()), "{from:?} {action:?} {role:?}");
                        }
                        (false, _) => assert_eq!(got.unwrap_err().code(), "bad_transition"),
                        (true, false) => {
                            assert_eq!(got.unwrap_err().code(), "forbidden_transition");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_warden_may_not_close_and_an_escalated_case_needs_the_higher_level() {
        assert!(transition(
            Status::Resolved,
            Action::Close,
            Role::Warden,
            Level::Community
        )
        .is_err());
        assert!(transition(
            Status::Resolved,
            Action::Close,
            Role::GridLeader,
            Level::Community
        )
        .is_err());
        assert_eq!(
            transition(
                Status::Resolved,
                Action::Close,
                Role::CommunityManager,
                Level::Subdistrict
            ),
            Err(Refused::NotOwner {
                role: Role::CommunityManager,
                owner: Level::Subdistrict
            })
        );
        assert!(transition(
            Status::Resolved,
            Action::Close,
            Role::SubdistrictManager,
            Level::Subdistrict
        )
        .is_ok());
        assert_eq!(
            allowed_actions(Status::Resolved, Role::CommunityManager, Level::Community),
            vec![Action::Close, Action::Return]
        );
        // A warden cannot assign, but may handle on the spot.
        assert_eq!(
            allowed_actions(Status::Reported, Role::Warden, Level::Community),
            vec![Action::Start]
        );
        assert_eq!(
            allowed_actions(Status::Reported, Role::UnitLiaison, Level::Community),
            vec![]
        );
    }

    #[test]
    fn deadlines_overdue_and_escalation() {
        let dl = Deadlines::default();
        let t0 = 1_700_000_000_000;
        let d = deadline(&dl, t0, "safety");
        assert_eq!(d, t0 + DAY_MS);
        assert_eq!(deadline(&dl, t0, "unknown"), t0 + 7 * DAY_MS);
        assert!(!is_overdue(Status::InProgress, d, d));
        assert!(is_overdue(Status::InProgress, d, d + 1));
        assert!(!is_overdue(Status::Resolved, d, d + 10 * DAY_MS));
        assert_eq!(escalation_level(&dl, Status::Reported, d, d - 1), None);
        assert_eq!(
            escalation_level(&dl, Status::Reported, d, d + 1),
            Some(Level::Community)
        );
        assert_eq!(
            escalation_level(&dl, Status::Reported, d, d + 3 * DAY_MS),
            Some(Level::Community)
        );
        assert_eq!(
            escalation_level(&dl, Status::Reported, d, d + 4 * DAY_MS),
            Some(Level::Subdistrict)
        );
        assert_eq!(
            escalation_level(&dl, Status::Accepted, d, d + 8 * DAY_MS),
            Some(Level::City)
        );
        assert_eq!(
            escalation_level(&dl, Status::Closed, d, d + 8 * DAY_MS),
            None
        );
    }

    #[test]
    fn configured_deadlines_and_steps_are_used() {
        let dl = Deadlines::from_json(
            r#"{"hours": {"safety": 6}, "escalation": {"subdistrict_after_days": 1, "city_after_days": 2}}"#,
        )
        .unwrap();
        let t0 = 1_700_000_000_000;
        assert_eq!(deadline(&dl, t0, "safety"), t0 + 6 * HOUR_MS);
        let d = t0;
        let at = |days: u64| escalation_level(&dl, Status::InProgress, d, d + days * DAY_MS + 1);
        assert_eq!(at(0), Some(Level::Community));
        assert_eq!(at(1), Some(Level::Subdistrict));
        assert_eq!(at(2), Some(Level::City));
    }

    fn case_record(status: &str, deadline_ms: u64) -> Record {
        crate::record::test_record(
            Collection::Cases,
            42,
            &serde_json::json!({"status": status, "deadline": deadline_ms}),
        )
    }

    fn record_escalations(r: &mut Record, dl: &Deadlines, levels: &[Level], now: u64) {
        for l in levels {
            let op = escalation_op(dl, r.id, *l, Status::Reported, now);
            crate::merge::apply(r, &op);
        }
    }

    #[test]
    fn due_escalations_are_the_levels_reached_and_not_recorded() {
        let dl = Deadlines::default();
        let d = 1_700_000_000_000;
        let mut r = case_record("reported", d);
        assert_eq!(due_escalations(&dl, &r, d), vec![]);
        assert_eq!(due_escalations(&dl, &r, d + 1), vec![Level::Community]);
        // Found a week late: every level on the way, lowest first.
        let late = d + 8 * DAY_MS;
        assert_eq!(due_escalations(&dl, &r, late), ESCALATION_LEVELS.to_vec());
        record_escalations(&mut r, &dl, &[Level::Community], d + 1);
        assert_eq!(recorded_escalation(&r), Some(Level::Community));
        assert_eq!(due_escalations(&dl, &r, d + 2), vec![]);
        assert_eq!(
            due_escalations(&dl, &r, late),
            vec![Level::Subdistrict, Level::City]
        );
        record_escalations(&mut r, &dl, &[Level::Subdistrict, Level::City], late);
        assert_eq!(due_escalations(&dl, &r, late + DAY_MS), vec![]);
        // Done, deleted, or without a deadline: nothing.
        assert_eq!(
            due_escalations(&dl, &case_record("resolved", d), late),
            vec![]
        );
        assert_eq!(
            due_escalations(&dl, &case_record("closed", d), late),
            vec![]
        );
        let mut deleted = case_record("reported", d);
        let deleted_id = deleted.id;
        crate::merge::apply(
            &mut deleted,
            &Op {
                id: OpId(Uuid::from_u128(9)),
                actor: ActorId(Uuid::from_u128(9)),
                hlc: Hlc::new(2, 0),
                collection: Collection::Cases,
                record: deleted_id,
                body: OpBody::Set {
                    fields: [("deleted".to_owned(), Value::Bool(true))].into(),
                },
                schema: 1,
            },
        );
        assert_eq!(due_escalations(&dl, &deleted, late), vec![]);
        let no_deadline = crate::record::test_record(
            Collection::Cases,
            43,
            &serde_json::json!({"status": "reported"}),
        );
        assert_eq!(due_escalations(&dl, &no_deadline, late), vec![]);
    }

    #[test]
    fn escalation_ops_are_deterministic_per_case_and_level() {
        let dl = Deadlines::default();
        let case = RecordId(Uuid::from_u128(42));
        let a = escalation_op(&dl, case, Level::Subdistrict, Status::Accepted, 1_000);
        let b = escalation_op(&dl, case, Level::Subdistrict, Status::InProgress, 2_000);
        assert_eq!(a.id, b.id, "same case and level: same op, whenever made");
        let OpBody::Append { entry } = &a.body else {
            panic!("an append")
        };
        let OpBody::Append { entry: entry_b } = &b.body else {
            panic!("an append")
        };
        assert_eq!(entry.id, entry_b.id);
        assert!(is_system_id(a.id.0) && is_system_id(entry.id));
        assert_eq!(a.actor, SYSTEM_ACTOR);
        assert_eq!(entry.data["action"], ESCALATE);
        assert_eq!(entry.data["level"], "subdistrict");
        assert!(
            !entry.data.contains_key("by"),
            "written by the system, no user"
        );
        assert!(entry.data["note"].as_str().unwrap().contains('3'));
        let other_level = escalation_op(&dl, case, Level::City, Status::Accepted, 1_000);
        let other_case = escalation_op(
            &dl,
            RecordId(Uuid::from_u128(43)),
            Level::Subdistrict,
            Status::Accepted,
            1_000,
        );
        assert_ne!(a.id, other_level.id);
        assert_ne!(a.id, other_case.id);
        assert!(!is_system_id(Uuid::now_v7()));
        assert_eq!(crate::schema::validate_op(&a), Ok(()));
    }

    #[test]
    fn the_queue_and_the_owner_follow_recorded_escalations() {
        let dl = Deadlines::default();
        let d = 1_700_000_000_000;
        let mut r = case_record("in_progress", d);
        assert_eq!(supervision_level(&dl, &r, d - 1), None);
        assert_eq!(owner_level(&dl, &r, d - 1), Level::Community);
        assert_eq!(
            supervision_level(&dl, &r, d + 4 * DAY_MS),
            Some(Level::Subdistrict)
        );
        assert_eq!(owner_level(&dl, &r, d + 4 * DAY_MS), Level::Subdistrict);
        record_escalations(
            &mut r,
            &dl,
            &[Level::Community, Level::Subdistrict],
            d + 4 * DAY_MS,
        );
        // Longer steps later do not take a recorded escalation back.
        let longer = Deadlines::from_json(
            r#"{"escalation": {"subdistrict_after_days": 10, "city_after_days": 20}}"#,
        )
        .unwrap();
        assert_eq!(
            supervision_level(&longer, &r, d + 4 * DAY_MS),
            Some(Level::Subdistrict)
        );
        // Resolved: out of every queue, but still owned by the level it reached.
        let mut resolved = r.clone();
        crate::merge::apply(
            &mut resolved,
            &Op {
                id: OpId(Uuid::from_u128(10)),
                actor: ActorId(Uuid::from_u128(9)),
                hlc: Hlc::new(d + 5 * DAY_MS, 0),
                collection: Collection::Cases,
                record: r.id,
                body: OpBody::Set {
                    fields: [("status".to_owned(), Value::from("resolved"))].into(),
                },
                schema: 1,
            },
        );
        assert_eq!(supervision_level(&dl, &resolved, d + 5 * DAY_MS), None);
        assert_eq!(
            owner_level(&dl, &resolved, d + 5 * DAY_MS),
            Level::Subdistrict
        );
        assert!(transition(
            Status::Resolved,
            Action::Close,
            Role::CommunityManager,
            owner_level(&dl, &resolved, d + 5 * DAY_MS)
        )
        .is_err());
    }

    #[test]
    fn levels_have_wire_names() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(l));
            assert_eq!(serde_json::to_value(l).unwrap(), l.as_str());
        }
        assert_eq!(Level::parse("town"), None);
    }
}
