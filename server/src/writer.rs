//! The single writer per process: pushes queue here and are committed in groups (group commit),
//! one transaction per group. Serialising commits is what keeps sequence numbers in commit order
//! (see `store`); grouping is what makes that fast under many concurrent pushers.

use crate::live::CommitLog;
use crate::store::{AnyStore, Commit, OpOutcome, StoreError};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot, watch};
use tongxin_shared::authz::Principal;
use tongxin_shared::case::Deadlines;
use tongxin_shared::policy::op_digest;
use tongxin_shared::Op;

/// Why the writer could not commit a batch. Nothing of the batch was applied in either case:
/// the sender may send it again.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer task has stopped (the server is shutting down).
    #[error("the writer has stopped")]
    Stopped,
    /// The transaction holding the batch failed (shared by every batch of its group).
    #[error("the commit failed: {0}")]
    Commit(Arc<StoreError>),
}

/// Most ops committed in one transaction.
const MAX_GROUP_OPS: usize = 5000;

struct Job {
    ops: Vec<Op>,
    /// `op_digest` of each op, computed by the submitter's task, not the writer's.
    digests: Vec<String>,
    /// Who wrote the ops (checked inside the commit); `None` for the system.
    author: Option<Arc<Principal>>,
    reply: oneshot::Sender<Result<Vec<OpOutcome>, WriteError>>,
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    /// The deployment's deadlines, which the policy judges new cases' deadlines by.
    deadlines: Arc<RwLock<Arc<Deadlines>>>,
}

impl Writer {
    /// Starts the writer. `committed` is raised to the last seq after every commit, and the
    /// commit is recorded in `commits` with the places it wrote (the live stream's pokes).
    pub fn spawn(
        store: Arc<AnyStore>,
        committed: watch::Sender<u64>,
        commits: Arc<CommitLog>,
    ) -> Self {
        let (tx, mut rx) = mpsc::channel::<Job>(1024);
        let deadlines: Arc<RwLock<Arc<Deadlines>>> = Arc::default();
        let in_force = deadlines.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut n = first.ops.len();
                let mut jobs = vec![first];
                while n < MAX_GROUP_OPS {
                    match rx.try_recv() {
                        Ok(job) => {
                            n += job.ops.len();
                            jobs.push(job);
                        }
                        Err(_) => break,
                    }
                }
                let mut all: Vec<Op> = Vec::with_capacity(n);
                let mut digests: Vec<String> = Vec::with_capacity(n);
                let mut authors = Vec::with_capacity(n);
                let mut replies = Vec::with_capacity(jobs.len());
                for job in jobs {
                    replies.push((job.ops.len(), job.reply));
                    authors.extend(std::iter::repeat_n(job.author, job.ops.len()));
                    all.extend(job.ops);
                    digests.extend(job.digests);
                }
                let deadlines = in_force
                    .read()
                    .map_or_else(|e| e.into_inner().clone(), |d| d.clone());
                match store
                    .commit_digested(&all, &digests, &authors, &deadlines, crate::now_ms())
                    .await
                {
                    Ok(Commit {
                        outcomes: seqs,
                        places,
                    }) => {
                        if let Some(max) =
                            seqs.iter().filter_map(|s| s.as_ref().ok()).copied().max()
                        {
                            committed.send_if_modified(|v| {
                                let raise = max > *v;
                                *v = (*v).max(max);
                                raise
                            });
                            // After the raise, so a woken stream pokes with the new seq. A
                            // batch of only known ops wrote nowhere and pokes nobody.
                            commits.record(places);
                        }
                        let mut rest = seqs.as_slice();
                        for (len, reply) in replies {
                            let (mine, tail) = rest.split_at(len);
                            rest = tail;
                            let _ = reply.send(Ok(mine.to_vec()));
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, ops = all.len(), "commit failed");
                        let e = Arc::new(e);
                        for (_, reply) in replies {
                            let _ = reply.send(Err(WriteError::Commit(e.clone())));
                        }
                    }
                }
            }
        });
        Self { tx, deadlines }
    }

    /// Sets the deadlines the policy judges new cases by (from `--deadlines`).
    pub fn set_deadlines(&self, deadlines: Arc<Deadlines>) {
        match self.deadlines.write() {
            Ok(mut d) => *d = deadlines,
            Err(e) => *e.into_inner() = deadlines,
        }
    }

    /// Commits `ops` (validated) written by `author` and returns, per op, its seq or why the
    /// rules refused it, after the commit.
    pub async fn submit(
        &self,
        ops: Vec<Op>,
        author: Option<Arc<Principal>>,
    ) -> Result<Vec<OpOutcome>, WriteError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        // Hashed here, in the pusher's task: the writer's time is every pusher's wait.
        let digests = ops.iter().map(op_digest).collect();
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                ops,
                digests,
                author,
                reply,
            })
            .await
            .map_err(|_| WriteError::Stopped)?;
        rx.await.map_err(|_| WriteError::Stopped)?
    }
}
