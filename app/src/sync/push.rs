//! Pushing the outbox, oldest first, in batches; and sending again by themselves the ops the
//! server refused only because the device clock was ahead, once the clock follows the server's.

use crate::api::{self, ApiError};
use crate::store::LocalStore;
use crate::sync::client::Client;
use crate::sync::error::SyncError;
use tongxin_shared::wire::{OpResult, PushRequest};
use tongxin_shared::PROTOCOL_VERSION;

/// Most ops per push.
const PUSH_BATCH: usize = 200;
/// The code of an op refused for a stamp too far ahead of the server's clock.
pub const CLOCK_AHEAD: &str = "clock_ahead";

impl Client {
    /// Pushes every op in the outbox. Acked ops leave it; refused ops move to `rejected` with
    /// the server's code and message; a request refused as a whole keeps every op, refused.
    pub(crate) async fn push_all(&self) -> Result<(), SyncError> {
        loop {
            let batch = self.store.outbox(PUSH_BATCH).await?;
            if batch.is_empty() {
                return Ok(());
            }
            let body = PushRequest {
                protocol: PROTOCOL_VERSION,
                actor: self.actor,
                ops: batch.clone(),
            };
            let answer = self
                .request(|token| {
                    let body = &body;
                    async move { api::push(&token, body).await }
                })
                .await;
            match answer {
                Ok(answer) => {
                    self.learn(answer.server_time_ms);
                    let mut acked = Vec::new();
                    for r in answer.results {
                        match r {
                            OpResult::Acked { op_id, .. } => acked.push(op_id),
                            OpResult::Rejected { op_id, rejected } => {
                                if let Some(op) = batch.iter().find(|o| o.id == op_id) {
                                    self.store
                                        .reject(op, &rejected.code, &rejected.message)
                                        .await?;
                                }
                            }
                        }
                    }
                    self.store.ack(&acked).await?;
                    self.changed().await;
                }
                Err(SyncError::Api(e @ ApiError::Refused { .. })) if !e.is_transient() => {
                    let ApiError::Refused { code, message, .. } = e else {
                        unreachable!("matched above")
                    };
                    // The whole request was refused (400, 413, 422): keep every op, visible
                    // with the reason.
                    let code = if code.is_empty() {
                        "refused".into()
                    } else {
                        code
                    };
                    for op in &batch {
                        self.store.reject(op, &code, &message).await?;
                    }
                    self.changed().await;
                }
                Err(e) => return Err(e),
            }
            if batch.len() < PUSH_BATCH {
                return Ok(());
            }
        }
    }

    /// Ops refused as `clock_ahead` go back to the outbox with a reading of the corrected
    /// clock, once this page has learnt the server's time; then the outbox is pushed again.
    /// Their local records carry the new stamps too, so device and server agree.
    pub(crate) async fn resend_clock_ahead(&self) -> Result<(), SyncError> {
        if !self.clock_learned.get() {
            return Ok(());
        }
        let ahead: Vec<_> = self
            .store
            .rejected()
            .await?
            .into_iter()
            .filter(|r| r.code == CLOCK_AHEAD)
            .collect();
        if ahead.is_empty() {
            return Ok(());
        }
        self.rewind_if_ahead();
        for r in ahead {
            self.store.restamp(r.op.id, self.next_hlc()).await?;
        }
        self.changed().await;
        self.push_all().await
    }
}
