//! When a growing PostgreSQL database's planner statistics are refreshed.
//!
//! A commit looks its ops and records up by id in batches (`op_id IN (…)`, `collection = … AND
//! id IN (…)`). Planned with no statistics, or with statistics from when a table was a tenth of
//! its size, PostgreSQL guesses that `collection = 'cases'` selects a few rows and reads every
//! case through the index to filter the ids, or scans the whole ops table: a cost that grows
//! with every row ever stored. Autovacuum refreshes statistics at most once a minute
//! (`autovacuum_naptime`), so a fresh database loaded in bulk (the demo city, an import, a
//! morning's first pushes after a deploy) is planned blind meanwhile. The backend counts the rows
//! its commits write and runs `ANALYZE` in the background each time that count has doubled since
//! the last analysis (from [`MIN_ROWS`]). On a database filled by this instance that is each
//! time the tables double: a handful of analyses, each of a sample. After a restart on a large
//! database it is a few early analyses (the count starts again), then ever rarer ones, with
//! autovacuum's own in between. (Analysing at autovacuum's tenth instead took 40% of
//! PostgreSQL's CPU during the ingest bench.)

use std::sync::Mutex;

/// Rows written before the first analysis, and the least between two.
const MIN_ROWS: u64 = 1_000;

#[derive(Debug, Default)]
pub(super) struct Statistics {
    inner: Mutex<Growth>,
}

#[derive(Debug, Default)]
struct Growth {
    /// Rows written up to the last analysis that completed.
    analysed: u64,
    /// Rows written since.
    since: u64,
    /// An analysis is running.
    running: bool,
}

impl Statistics {
    /// Counts `rows` written by a commit. When an analysis is due and none is running, marks one
    /// running and returns the rows it covers, to be given back to [`Self::done`].
    pub fn wrote(&self, rows: u64) -> Option<u64> {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.since += rows;
        let due = g.since >= MIN_ROWS.max(g.analysed);
        (due && !g.running).then(|| {
            g.running = true;
            g.since
        })
    }

    /// The analysis covering `covered` rows ended; if it failed, the rows stay due and the next
    /// commit tries again.
    pub fn done(&self, covered: u64, ok: bool) {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.running = false;
        if ok {
            g.analysed += covered;
            g.since -= covered;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_is_due_when_the_rows_double_one_at_a_time() {
        let s = Statistics::default();
        assert_eq!(s.wrote(600), None);
        assert_eq!(s.wrote(500), Some(1_100), "the first at MIN_ROWS");
        assert_eq!(s.wrote(5_000), None, "one at a time");
        s.done(1_100, true);
        assert_eq!(s.wrote(0), Some(5_000), "what came in meanwhile is due");
        s.done(5_000, true);
        // 6,100 analysed: the next is due at 6,100 more.
        assert_eq!(s.wrote(6_099), None);
        assert_eq!(s.wrote(1), Some(6_100));
        s.done(6_100, true);
        assert_eq!(s.wrote(12_199), None);
        assert_eq!(s.wrote(1), Some(12_200));
    }

    #[test]
    fn a_failed_analysis_leaves_the_rows_due() {
        let s = Statistics::default();
        assert_eq!(s.wrote(2_000), Some(2_000));
        s.done(2_000, false);
        assert_eq!(s.wrote(1), Some(2_001), "tried again at the next commit");
    }
}
