//! The case lifecycle (事件/诉求): states, transitions, who may make them, deadlines, overdue and
//! escalation. Pure functions; the app uses them to offer only allowed actions, the server to
//! refuse the rest.
//!
//! reported 上报 → accepted 受理/派单 → in_progress 处置中 → resolved 已办结 → closed 销号,
//! or returned 退回 from resolved back to in_progress.

use serde::{Deserialize, Serialize};
use std::fmt;

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

    fn valid_sources(self) -> &'static [Status] {
        match self {
            Self::Accept => &[Status::Reported],
            // From reported too: a warden handles a small problem on the spot (就地处置) without
            // waiting for an assignment; the case still needs the owning level's 销号.
            Self::Start => &[Status::Reported, Status::Accepted],
            Self::Resolve => &[Status::InProgress],
            Self::Close | Self::Return => &[Status::Resolved],
        }
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

/// Default time to resolve, per category, in hours (configurable per deployment).
pub fn default_deadline_hours(category: &str) -> u64 {
    match category {
        "safety" => 24,
        "environment" | "elderly_care" | "erhai_protection" => 72,
        "neighbour_dispute" => 120,
        _ => 168,
    }
}

/// Milliseconds in an hour and a day.
pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// The deadline of a case reported at `reported_at` in `category`.
pub fn deadline(reported_at_ms: u64, category: &str) -> u64 {
    reported_at_ms + default_deadline_hours(category) * HOUR_MS
}

/// Whether an open case is past its deadline.
pub fn is_overdue(status: Status, deadline_ms: u64, now_ms: u64) -> bool {
    status.is_open() && now_ms > deadline_ms
}

/// Which level's supervision queue an overdue case sits in: overdue at all → the community
/// (level above the grid); more than 3 days over → the subdistrict; more than 7 → the city.
/// `None` while the case is on time or done.
pub fn escalation_level(status: Status, deadline_ms: u64, now_ms: u64) -> Option<Level> {
    if !is_overdue(status, deadline_ms, now_ms) {
        return None;
    }
    let over = now_ms - deadline_ms;
    Some(if over > 7 * DAY_MS {
        Level::City
    } else if over > 3 * DAY_MS {
        Level::Subdistrict
    } else {
        Level::Community
    })
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
        let t0 = 1_700_000_000_000;
        let d = deadline(t0, "safety");
        assert_eq!(d, t0 + DAY_MS);
        assert!(!is_overdue(Status::InProgress, d, d));
        assert!(is_overdue(Status::InProgress, d, d + 1));
        assert!(!is_overdue(Status::Resolved, d, d + 10 * DAY_MS));
        assert_eq!(escalation_level(Status::Reported, d, d - 1), None);
        assert_eq!(
            escalation_level(Status::Reported, d, d + 1),
            Some(Level::Community)
        );
        assert_eq!(
            escalation_level(Status::Reported, d, d + 4 * DAY_MS),
            Some(Level::Subdistrict)
        );
        assert_eq!(
            escalation_level(Status::Accepted, d, d + 8 * DAY_MS),
            Some(Level::City)
        );
        assert_eq!(escalation_level(Status::Closed, d, d + 8 * DAY_MS), None);
        assert_eq!(default_deadline_hours("unknown"), 168);
    }
}
