//! Handing cases back (退回待派) whose assignee no longer works where they sit: the pure rule is
//! `tongxin_shared::policy::handback`; this reads the open cases a page at a time, loads the
//! assignees they name as a commit would (`Store::assignees`), and commits the hand-backs as
//! system writes through the writer, like the escalation sweeper.
//!
//! It runs for one user's cases after an administrator changes their area or role or disables
//! them (`auth::update_user`), for the cases of moved grids and communities after a commit that
//! may have moved them (a push or a grid import: [`after_commit`]), and over every open case on
//! the escalation sweeper's interval, as a safety net (a run that failed, another instance, a
//! user edited through the CLI). Its op ids are deterministic, so overlapping runs write each
//! hand-back once.

use crate::escalation::SweepError;
use crate::store::OpOutcome;
use crate::AppState;
use std::time::Duration;
use tongxin_shared::policy::handback::{due_handbacks, held_assignee, Only};
use tongxin_shared::policy::place::parent_field;
use tongxin_shared::{Collection, Op, OpBody, RecordId};

/// Open cases read (and hand-backs committed) per round trip.
const PAGE: u32 = 500;

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HandedBack {
    /// Open cases read.
    pub open: usize,
    /// Cases handed back (another instance may have committed the same ops first; the store
    /// applied each once).
    pub cases: usize,
}

/// Hands back the open cases `only` covers whose assignee no longer qualifies, as of `now_ms`.
#[tracing::instrument(skip_all)]
pub async fn run(state: &AppState, only: Only<'_>, now_ms: u64) -> Result<HandedBack, SweepError> {
    let mut done = HandedBack::default();
    let mut after = None;
    loop {
        let page = state.store.open_cases(after, PAGE).await?;
        done.open += page.len();
        let mut names: Vec<String> = page
            .iter()
            .filter(|(_, place, r)| only.covers(r, place))
            .filter_map(|(_, _, r)| held_assignee(r).map(ToOwned::to_owned))
            .collect();
        names.sort();
        names.dedup();
        if !names.is_empty() {
            let assignees = state.store.assignees(&names).await?;
            let ops = due_handbacks(
                page.iter().map(|(_, place, r)| (place, r)),
                only,
                &assignees,
                now_ms,
            );
            done.cases += ops.len() / 2;
            if !ops.is_empty() {
                // The system writes (no author): through the writer, like a push.
                state.writer.submit(ops, None).await?;
            }
        }
        match page.last() {
            Some((due, _, r)) if page.len() == PAGE as usize => after = Some((*due, r.id)),
            _ => return Ok(done),
        }
    }
}

/// [`run`] now, logging rather than failing: the caller's own write has succeeded, and the
/// periodic run tries again.
pub async fn run_logged(state: &AppState, only: Only<'_>) {
    match run(state, only, crate::now_ms()).await {
        Ok(d) if d.cases > 0 => tracing::info!(cases = d.cases, "cases handed back"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "handing cases back failed; the sweep retries"),
    }
}

/// The grid or community whose parent field (a grid's community, a community's subdistrict)
/// `op` sets: a move, or a new one (whose run finds nothing to hand back).
pub fn parent_set(op: &Op) -> Option<RecordId> {
    let sets = matches!(op.collection, Collection::Grids | Collection::Communities)
        && parent_field(op.collection).is_some_and(|(field, _)| match &op.body {
            OpBody::Set { fields } => fields.contains_key(field),
            OpBody::Append { .. } => false,
        });
    sets.then_some(op.record)
}

/// After a commit of ops whose [`parent_set`] were `parents` and whose outcomes were
/// `outcomes`: hands back the cases of the grids and communities the applied ops moved.
pub async fn after_commit(state: &AppState, parents: &[Option<RecordId>], outcomes: &[OpOutcome]) {
    let mut moved: Vec<RecordId> = parents
        .iter()
        .zip(outcomes)
        .filter_map(|(p, o)| p.filter(|_| o.is_ok()))
        .collect();
    moved.sort();
    moved.dedup();
    if !moved.is_empty() {
        run_logged(state, Only::In(&moved)).await;
    }
}

/// Runs [`run`] over every open case now and then every `every` until the server closes.
pub fn spawn(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    crate::periodic::spawn_every(state.closing.clone(), every, move || {
        let state = state.clone();
        async move { run_logged(&state, Only::All).await }
    })
}
