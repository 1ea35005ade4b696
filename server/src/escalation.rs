//! The escalation sweeper (督办升级): every `--escalation-minutes` (and once at start) it reads
//! the open cases past their deadline and, for each level the clock has brought a case to
//! (`case::due_escalations`, with the configured steps) that its timeline does not record yet,
//! appends an `{"action": "escalate", "level": …, "note": …}` entry written by the system.
//!
//! The entries go through the writer like any push, so they get sequence numbers, are pulled by
//! every device in the case's area and poke the live stream. Their op and entry ids are UUIDv5
//! of the case and the level (`case::escalation_op`): several instances sweeping one database
//! make the same ops, and the store applies an op id once, so no entry is ever doubled. An
//! escalation read just before a concurrent close may land right after it; the timeline then
//! shows both, in order.

use crate::store::StoreError;
use crate::writer::WriteError;
use crate::AppState;
use std::time::Duration;
use tongxin_shared::case::due_escalation_ops;

/// Overdue cases read (and escalations committed) per round trip.
const PAGE: u32 = 500;

/// Why a sweep stopped (what it committed before stays committed; the next sweep goes on).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("reading the overdue cases failed: {0}")]
    Read(#[from] StoreError),
    #[error("committing the escalations failed: {0}")]
    Write(#[from] WriteError),
}

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Open cases past their deadline.
    pub overdue: usize,
    /// Escalation entries committed (another instance may have committed the same ones first;
    /// the store applied each once).
    pub escalations: usize,
}

/// Sweeps once as of `now_ms` (the server's clock in production; tests pass a later time).
#[tracing::instrument(skip_all)]
pub async fn sweep(state: &AppState, now_ms: u64) -> Result<Swept, SweepError> {
    let mut swept = Swept::default();
    let mut after = None;
    loop {
        let page = state.store.overdue_cases(now_ms, after, PAGE).await?;
        let ops: Vec<_> = page
            .iter()
            .flat_map(|(_, r)| due_escalation_ops(&state.deadlines, r, now_ms))
            .collect();
        swept.overdue += page.len();
        swept.escalations += ops.len();
        // The system writes (no author): through the writer, like a push.
        state.writer.submit(ops, None).await?;
        match page.last() {
            Some((due, r)) if page.len() == PAGE as usize => after = Some((*due, r.id)),
            _ => return Ok(swept),
        }
    }
}

/// Runs [`sweep`] now and then every `every` until the server closes. A failed sweep is
/// logged and the next one tries again (nothing is half-written: each commit is atomic).
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    crate::periodic::spawn_every(state.closing.clone(), every, move || {
        let state = state.clone();
        async move {
            match sweep(&state, crate::now_ms()).await {
                Ok(s) if s.escalations > 0 => tracing::info!(
                    overdue = s.overdue,
                    escalations = s.escalations,
                    "escalation sweep"
                ),
                Ok(s) => tracing::debug!(overdue = s.overdue, "escalation sweep: nothing new"),
                Err(e) => {
                    tracing::warn!(error = %e, "escalation sweep failed; the next one retries");
                }
            }
        }
    })
}
