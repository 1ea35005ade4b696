//! One request, tried again by itself on a lossy link: a transient failure (no answer, 5xx, a
//! truncated body, 408/429) waits a short jittered backoff and is sent again, without ending
//! the round; anything else ends it.

use crate::api::ApiError;
use crate::sync::backoff::{request_delay_ms, REQUEST_ATTEMPTS};
use crate::sync::client::Client;
use crate::sync::error::SyncError;
use leptos::prelude::*;
use std::future::Future;

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

impl Client {
    /// Sends `call(token)` until it succeeds, fails for good, or [`REQUEST_ATTEMPTS`] are
    /// spent. Every success marks the round as having made progress.
    pub(crate) async fn request<T, F, Fut>(&self, mut call: F) -> Result<T, SyncError>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let mut attempt = 0;
        loop {
            match call(self.token()).await {
                Ok(v) => {
                    self.progress.set(true);
                    return Ok(v);
                }
                Err(e)
                    if e.is_transient()
                        && attempt + 1 < REQUEST_ATTEMPTS
                        && self.sig.online.get_untracked() =>
                {
                    attempt += 1;
                    sleep(request_delay_ms(attempt, js_sys::Math::random())).await;
                }
                Err(e) => return Err(self.api_failed(e)),
            }
        }
    }
}
