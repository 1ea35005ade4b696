//! The supervision queue (督办) of a level: its overdue cases, most late first, with days
//! overdue and reminders so far (`ui::supervision`).

use tongxin_shared::case::{supervision_level, Deadlines, Level, DAY_MS, ESCALATE};
use tongxin_shared::policy::rules::REMIND;
use tongxin_shared::Record;

/// One row of the queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub category: String,
    pub status: String,
    pub grid: String,
    pub level: Level,
    /// Whole days past the deadline (0 on the first day late).
    pub days: u64,
    /// Reminders and escalation notices on the timeline.
    pub reminders: usize,
}

/// The cases in `level`'s queue at `now_ms`, most overdue first; grid ids named by `grid_name`.
pub fn queue(
    deadlines: &Deadlines,
    cases: &[Record],
    level: Level,
    now_ms: u64,
    grid_name: impl Fn(&str) -> String,
) -> Vec<Row> {
    let mut rows: Vec<Row> = cases
        .iter()
        .filter(|r| supervision_level(deadlines, r, now_ms) == Some(level))
        .map(|r| {
            let deadline = r
                .get("deadline")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(now_ms);
            let text = |f: &str| r.str(f).unwrap_or_default().to_owned();
            Row {
                id: r.id.to_string(),
                title: text("title"),
                category: text("category"),
                status: text("status"),
                grid: grid_name(r.str("grid").unwrap_or_default()),
                level,
                days: now_ms.saturating_sub(deadline) / DAY_MS,
                reminders: r
                    .log
                    .values()
                    .filter(|e| {
                        matches!(
                            e.data.get("action").and_then(|a| a.as_str()),
                            Some(a) if a == REMIND || a == ESCALATE
                        )
                    })
                    .count(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.days.cmp(&a.days).then_with(|| a.title.cmp(&b.title)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use tongxin_shared::case::escalation_op;
    use tongxin_shared::{Collection, FieldValue, Hlc, RecordId, Stamp};
    use uuid::Uuid;

    fn case(n: u128, title: &str, status: &str, deadline: u64) -> Record {
        let stamp = Stamp {
            hlc: Hlc::new(1, 0),
            actor: tongxin_shared::ActorId(Uuid::from_u128(1)),
        };
        let mut r = Record::new(Collection::Cases, RecordId(Uuid::from_u128(n)));
        for (k, v) in [
            ("title", serde_json::json!(title)),
            ("status", serde_json::json!(status)),
            ("deadline", serde_json::json!(deadline)),
            ("grid", serde_json::json!("g1")),
        ] {
            r.fields.insert(k.into(), FieldValue { value: v, stamp });
        }
        r
    }

    #[test]
    fn the_queue_holds_the_levels_overdue_cases_most_late_first() {
        let dl = Deadlines::default();
        let now = 100 * DAY_MS;
        let mut escalated = case(4, "recorded", "accepted", now - DAY_MS / 2);
        let op = escalation_op(
            &dl,
            escalated.id,
            Level::Subdistrict,
            tongxin_shared::case::Status::Accepted,
            now,
        );
        tongxin_shared::merge::apply(&mut escalated, &op);
        let cases = vec![
            case(1, "one day", "reported", now - DAY_MS - 1),
            case(2, "two days", "in_progress", now - 2 * DAY_MS - 1),
            case(3, "five days", "reported", now - 5 * DAY_MS),
            case(5, "on time", "reported", now + 1),
            case(6, "done", "resolved", now - 2 * DAY_MS),
            escalated,
        ];
        let community = queue(&dl, &cases, Level::Community, now, |g| format!("grid {g}"));
        let titles: Vec<&str> = community.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec!["two days", "one day"]);
        assert_eq!(community[0].days, 2);
        assert_eq!(community[0].grid, "grid g1");
        let subdistrict = queue(&dl, &cases, Level::Subdistrict, now, ToOwned::to_owned);
        let titles: Vec<&str> = subdistrict.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec!["five days", "recorded"]);
        assert_eq!(
            subdistrict[1].reminders, 1,
            "the server's escalation notice"
        );
    }
}
