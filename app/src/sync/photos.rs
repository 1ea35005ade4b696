//! Uploading the photos not on the server yet, after the records, a few at a time. A photo
//! whose earlier upload in this page got no clear answer is asked about first (HEAD): the
//! server may hold it already, and 160 KB are not sent twice on a poor link.

use crate::api::{self, ApiError};
use crate::store::LocalStore;
use crate::sync::client::Client;
use crate::sync::error::SyncError;
use futures::StreamExt;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

/// Photos sent at once.
const PARALLEL_UPLOADS: usize = 3;

/// How one photo ended.
enum Sent {
    Uploaded,
    /// Refused for good (not an image, too large): kept on the device, retried next round.
    Kept,
}

impl Client {
    /// Uploads every waiting photo, [`PARALLEL_UPLOADS`] at a time, showing progress on the
    /// badge. A photo the server refuses stays on the device; it never blocks the records.
    pub(crate) async fn upload_photos(&self) -> Result<(), SyncError> {
        let pending = self.store.pending_blobs().await?;
        if pending.is_empty() {
            return Ok(());
        }
        let total = pending.len();
        let mut done = 0;
        self.sig.photos.set(Some((done, total)));
        let mut uploads = futures::stream::iter(pending)
            .map(|sha| async move {
                let r = self.upload_photo(&sha).await;
                (sha, r)
            })
            .buffer_unordered(PARALLEL_UPLOADS);
        let mut failure = None;
        while let Some((sha, result)) = uploads.next().await {
            match result {
                Ok(Sent::Uploaded) => {
                    done += 1;
                    self.sig.photos.set(Some((done, total)));
                    self.sig.version.update(|v| *v += 1);
                }
                Ok(Sent::Kept) => {}
                // The others go on; the round reports the first failure at the end.
                Err(e) => {
                    web_sys::console::warn_1(&JsValue::from_str(&format!(
                        "tongxin sync: photo {sha} not sent yet: {e}"
                    )));
                    failure.get_or_insert(e);
                }
            }
        }
        drop(uploads);
        self.refresh_counts().await;
        failure.map_or(Ok(()), Err)
    }

    async fn upload_photo(&self, sha: &str) -> Result<Sent, SyncError> {
        let Some(blob) = self.store.get_blob(sha).await? else {
            return Ok(Sent::Kept);
        };
        let tried = !self.photos_tried.borrow_mut().insert(sha.to_owned());
        if tried {
            let held = self
                .request(|token| async move { api::blob_exists(&token, sha).await })
                .await?;
            if held {
                self.store.mark_uploaded(sha).await?;
                return Ok(Sent::Uploaded);
            }
        }
        let sent = self
            .request(|token| {
                let blob = &blob;
                async move { api::put_blob(&token, sha, &blob.content_type, &blob.bytes).await }
            })
            .await;
        match sent {
            Ok(()) => {
                self.store.mark_uploaded(sha).await?;
                Ok(Sent::Uploaded)
            }
            Err(SyncError::Api(e @ ApiError::Refused { .. })) if !e.is_transient() => {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "tongxin sync: photo {sha} refused ({e}); kept on the device"
                )));
                Ok(Sent::Kept)
            }
            Err(e) => Err(e),
        }
    }
}
