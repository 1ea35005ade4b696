//! What each level's device holds (docs/SYNC.md, "What each level's device holds"). Wardens,
//! grid leaders, community managers, unit liaisons and admins keep every record of their area
//! (the full profile). Subdistrict and city managers keep the summary profile: the hierarchy
//! and everything else in full, but cases only while open or recently changed and visits only
//! while recent, with the `summaries` collection for the figures. The server picks the profile
//! from the role; the same predicate filters the server's pull and prunes the device.

use crate::case::{Role, DAY_MS};
use crate::record::Record;
use crate::schema::Collection;
use serde::{Deserialize, Serialize};

/// How many whole days after the day of its last change the summary profile keeps a closed (or
/// deleted) case.
pub const CASE_DAYS: u64 = 30;
/// How many whole days after the day of its last change the summary profile keeps a visit.
pub const VISIT_DAYS: u64 = 7;

/// Which records a device holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Every record of the area, no summaries.
    Full,
    /// Open and recent cases, recent visits, everything else, and the summaries.
    Summary,
}

impl Profile {
    /// The profile of a role: the server's choice, never the client's.
    pub fn of(role: Role) -> Self {
        match role {
            Role::SubdistrictManager | Role::CityManager => Self::Summary,
            Role::Warden
            | Role::GridLeader
            | Role::CommunityManager
            | Role::UnitLiaison
            | Role::Admin => Self::Full,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Summary => "summary",
        }
    }
}

/// Until when (ms) the summary profile keeps `r` in full, given when it last changed
/// (`changed_ms`); `None`: for as long as it exists. A case that is not closed (销号) is kept
/// whatever its age: the map, the supervision queue and the lists act on it. Windows end at a
/// UTC midnight ([`CASE_DAYS`] or [`VISIT_DAYS`] whole days after the day of the change), so
/// records age out once a day, on the server and on the devices alike, not minute by minute.
pub fn kept_until(r: &Record, changed_ms: u64) -> Option<u64> {
    let after_days = |days: u64| (changed_ms / DAY_MS).saturating_add(days + 1) * DAY_MS;
    match r.collection {
        Collection::Cases => {
            let closed = r.is_deleted() || r.str("status") == Some("closed");
            closed.then(|| after_days(CASE_DAYS))
        }
        Collection::Visits => Some(after_days(VISIT_DAYS)),
        _ => None,
    }
}

/// When a record last changed, as its stamps tell (the device's view; the server uses the
/// later of this and its commit time).
pub fn changed_ms(r: &Record) -> u64 {
    r.last_stamp().map_or(0, |s| s.hlc.wall_ms)
}

/// Whether a device of `profile` keeps `r` at `now_ms`.
pub fn keeps(profile: Profile, r: &Record, now_ms: u64) -> bool {
    match profile {
        Profile::Full => r.collection != Collection::Summaries,
        Profile::Summary => kept_until(r, changed_ms(r)).is_none_or(|t| now_ms < t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::{Hlc, Stamp};
    use crate::ids::{ActorId, RecordId};
    use crate::record::FieldValue;
    use serde_json::{json, Value};
    use uuid::Uuid;

    fn rec(c: Collection, at: u64, fields: Value) -> Record {
        let mut r = Record::new(c, RecordId(Uuid::from_u128(1)));
        let stamp = Stamp {
            hlc: Hlc::new(at, 0),
            actor: ActorId(Uuid::nil()),
        };
        for (k, v) in fields.as_object().unwrap() {
            r.fields.insert(
                k.clone(),
                FieldValue {
                    value: v.clone(),
                    stamp,
                },
            );
        }
        r
    }

    #[test]
    fn managers_above_the_community_get_the_summary_profile() {
        assert_eq!(Profile::of(Role::CityManager), Profile::Summary);
        assert_eq!(Profile::of(Role::SubdistrictManager), Profile::Summary);
        for r in [
            Role::Warden,
            Role::GridLeader,
            Role::CommunityManager,
            Role::Admin,
        ] {
            assert_eq!(Profile::of(r), Profile::Full);
        }
    }

    #[test]
    fn open_cases_stay_closed_ones_and_visits_age_out() {
        let t = 100 * DAY_MS;
        let open = rec(Collection::Cases, t, json!({"status": "resolved"}));
        let closed = rec(Collection::Cases, t, json!({"status": "closed"}));
        let visit = rec(Collection::Visits, t, json!({"visited_at": t}));
        let grid = rec(Collection::Grids, t, json!({"name": "g"}));
        let summary = rec(Collection::Summaries, t, json!({"month": "1970-04"}));
        let later = |days: u64| t + days * DAY_MS;
        for now in [t, later(6), later(29), later(400)] {
            assert!(keeps(Profile::Summary, &open, now));
            assert!(keeps(Profile::Summary, &grid, now));
            assert!(keeps(Profile::Summary, &summary, now));
            assert!(keeps(Profile::Full, &closed, now));
            assert!(keeps(Profile::Full, &visit, now));
            assert!(!keeps(Profile::Full, &summary, now));
        }
        // Through the 30th (7th) day after the day of the change, gone at the next midnight.
        assert!(keeps(Profile::Summary, &closed, later(31) - 1));
        assert!(!keeps(Profile::Summary, &closed, later(31)));
        assert!(keeps(Profile::Summary, &visit, later(8) - 1));
        assert!(!keeps(Profile::Summary, &visit, later(8)));
        let late_in_the_day = rec(Collection::Visits, t + DAY_MS - 1, json!({"visited_at": t}));
        assert!(keeps(Profile::Summary, &late_in_the_day, later(8) - 1));
        assert!(!keeps(Profile::Summary, &late_in_the_day, later(8)));
        let mut deleted = open.clone();
        deleted.fields.insert(
            "deleted".into(),
            FieldValue {
                value: json!(true),
                stamp: deleted.fields["status"].stamp,
            },
        );
        assert!(!keeps(Profile::Summary, &deleted, later(31)));
    }
}
