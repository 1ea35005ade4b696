//! Why a sync round stopped (it is tried again with backoff).

use crate::api::ApiError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(ApiError),
    #[error("the app must be updated")]
    Upgrade,
    #[error("the session ended; sign in again")]
    SignedOut,
    #[error("the server kept asking for a reset")]
    Resets,
    #[error("a pull page cannot be read: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// The server's disk is full (507): a server failure like any other (retried, the outbox
    /// kept), which the badge names.
    pub fn is_server_full(&self) -> bool {
        matches!(self, Self::Api(e) if e.status() == Some(507))
    }
}
