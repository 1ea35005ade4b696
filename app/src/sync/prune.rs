//! Pruning on the device (docs/SYNC.md, "What each level's device holds"). A summary-profile
//! device (subdistrict and city managers) holds closed cases for 30 days and visits for 7 days
//! after their last change; time passing brings no new record to pull, so the device itself
//! deletes what [`profile::keeps`] no longer keeps — after a completed pull, at most once a
//! day (the day is kept in meta), never a record with an op waiting in the outbox. A
//! full-profile device never prunes. The figures still count what is pruned: they come from the
//! summaries.

use crate::store::{waiting_in, LocalStore, StoreError};
use std::collections::BTreeSet;
use tongxin_shared::case::DAY_MS;
use tongxin_shared::profile::{self, Profile};
use tongxin_shared::{Collection, Record, RecordId};

/// Meta key of the day (days since 1970, UTC) the device last pruned.
pub const META_PRUNED_DAY: &str = "pruned_day";

/// The collections whose records age out of the summary profile.
pub const AGEING: [Collection; 2] = [Collection::Cases, Collection::Visits];

/// The records of `records` a summary-profile device no longer keeps at `now_ms`, leaving out
/// those with ops waiting (`waiting`).
pub fn to_prune<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    waiting: &BTreeSet<(Collection, RecordId)>,
    now_ms: u64,
) -> Vec<(Collection, RecordId)> {
    records
        .into_iter()
        .filter(|r| !profile::keeps(Profile::Summary, r, now_ms))
        .map(|r| (r.collection, r.id))
        .filter(|k| !waiting.contains(k))
        .collect()
}

/// Whether a device that last pruned on the day `last` (as stored) prunes at `now_ms`: once
/// per day.
pub fn due(last: Option<&str>, now_ms: u64) -> bool {
    last.and_then(|s| s.parse::<u64>().ok()) != Some(now_ms / DAY_MS)
}

/// Prunes a device of `profile` when due; returns the records deleted.
pub async fn prune<S: LocalStore>(
    store: &S,
    profile: Profile,
    now_ms: u64,
) -> Result<Vec<(Collection, RecordId)>, StoreError> {
    if profile == Profile::Full {
        return Ok(Vec::new());
    }
    let last = store.meta_get(META_PRUNED_DAY).await?;
    if !due(last.as_deref(), now_ms) {
        return Ok(Vec::new());
    }
    let waiting = waiting_in(&store.outbox(usize::MAX).await?);
    let mut gone = Vec::new();
    for c in AGEING {
        let records = store.list(c).await?;
        let old = to_prune(&records, &waiting, now_ms);
        drop(records);
        gone.extend(store.drop_records(&old).await?);
    }
    store
        .meta_set(META_PRUNED_DAY, &(now_ms / DAY_MS).to_string())
        .await?;
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use futures::executor::block_on;
    use serde_json::json;
    use tongxin_shared::merge::apply;
    use tongxin_shared::{ActorId, Hlc, Op, OpBody, OpId, SCHEMA_VERSION};
    use uuid::Uuid;

    const T: u64 = 100 * DAY_MS;

    fn op(c: Collection, n: u128, record: u128, at: u64, fields: serde_json::Value) -> Op {
        let serde_json::Value::Object(m) = fields else {
            panic!("an object")
        };
        Op {
            id: OpId(Uuid::from_u128(n)),
            actor: ActorId(Uuid::from_u128(1)),
            hlc: Hlc::new(at, 0),
            collection: c,
            record: RecordId(Uuid::from_u128(record)),
            body: OpBody::Set {
                fields: m.into_iter().collect(),
            },
            schema: SCHEMA_VERSION,
        }
    }

    fn rec(c: Collection, record: u128, at: u64, fields: serde_json::Value) -> Record {
        let mut r = Record::new(c, RecordId(Uuid::from_u128(record)));
        apply(&mut r, &op(c, record, record, at, fields));
        r
    }

    fn id(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    #[test]
    fn old_closed_cases_and_old_visits_go_unless_waiting() {
        let records = [
            rec(Collection::Cases, 1, T, json!({"status": "closed"})),
            rec(Collection::Cases, 2, T, json!({"status": "in_progress"})),
            rec(
                Collection::Cases,
                3,
                T + 20 * DAY_MS,
                json!({"status": "closed"}),
            ),
            rec(Collection::Visits, 4, T, json!({"visited_at": T})),
            rec(
                Collection::Visits,
                5,
                T + 40 * DAY_MS,
                json!({"visited_at": T}),
            ),
            rec(Collection::Grids, 6, T, json!({"name": "g"})),
            rec(Collection::Summaries, 7, T, json!({"month": "1970-04"})),
            rec(Collection::Visits, 8, T, json!({"visited_at": T})),
        ];
        let waiting = BTreeSet::from([(Collection::Visits, id(8))]);
        let now = T + 45 * DAY_MS;
        assert_eq!(
            to_prune(&records, &waiting, now),
            vec![(Collection::Cases, id(1)), (Collection::Visits, id(4))]
        );
        // Within the windows nothing goes.
        assert_eq!(to_prune(&records, &waiting, T + 6 * DAY_MS), vec![]);
    }

    #[test]
    fn pruning_runs_once_a_day() {
        assert!(due(None, T));
        assert!(due(Some("garbage"), T));
        let today = (T / DAY_MS).to_string();
        assert!(!due(Some(&today), T + DAY_MS - 1));
        assert!(due(Some(&today), T + DAY_MS));
    }

    #[test]
    fn a_summary_device_prunes_daily_and_keeps_unsent_work() {
        block_on(async {
            let s = MemoryStore::default();
            s.apply_pull(
                &[
                    rec(Collection::Cases, 1, T, json!({"status": "closed"})),
                    rec(Collection::Cases, 2, T, json!({"status": "closed"})),
                    rec(Collection::Visits, 3, T, json!({"visited_at": T})),
                ],
                7,
            )
            .await
            .expect("pull");
            // The manager wrote on case 2 long ago; the op has not left yet.
            s.commit_local(&[op(Collection::Cases, 90, 2, T, json!({"title": "t"}))])
                .await
                .expect("commit");
            let now = T + 31 * DAY_MS;
            let full = prune(&s, Profile::Full, now).await.expect("full");
            assert!(full.is_empty());
            assert_eq!(s.count(Collection::Cases).await.expect("count"), 2);
            let gone = prune(&s, Profile::Summary, now).await.expect("prune");
            assert_eq!(
                gone,
                vec![(Collection::Cases, id(1)), (Collection::Visits, id(3))]
            );
            assert!(s
                .get(Collection::Cases, id(2))
                .await
                .expect("get")
                .is_some());
            assert_eq!(s.count(Collection::Visits).await.expect("count"), 0);
            // Once a day: a record ageing out later the same day waits for tomorrow.
            s.ack(&[OpId(Uuid::from_u128(90))]).await.expect("ack");
            assert!(prune(&s, Profile::Summary, now + 1)
                .await
                .expect("again")
                .is_empty());
            let tomorrow = now + DAY_MS;
            assert_eq!(
                prune(&s, Profile::Summary, tomorrow)
                    .await
                    .expect("next day"),
                vec![(Collection::Cases, id(2))]
            );
        });
    }
}
