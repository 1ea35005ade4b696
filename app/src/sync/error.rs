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
