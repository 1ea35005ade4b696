//! The sync client: pushes the outbox, pulls the caller's records, listens to the live stream,
//! keeps the device clock honest, uploads photos, and exposes a status the user can trust. One
//! part per job:
//!
//! - `client`: the `Client` (what it holds, start, local commits and counts);
//! - `round`: the loop of the elected tab (push → pull → clock_ahead re-send → photos);
//! - `retry` / `backoff`: one request retried on a lossy link; the jittered delays (pure);
//! - `push`, `pull` (with `page`: reading a page, shrinking and skipping, pure), `photos`;
//! - `prune`: a summary-profile device deleting the records its profile no longer keeps;
//! - `live`: the EventSource, reopened after any error;
//! - `clock`: HLC readings corrected by the server's time;
//! - `account`: the user's role and area, the deployment's settings;
//! - `people`: the people directory (names instead of login ids), kept for offline use;
//! - `tabs`: online/offline, the other tabs of the user, the Web Lock election;
//! - `session`: the stored session, sign-in and sign-out;
//! - `signals` / `badge`: the reactive state and what the badge says (pure);
//! - `reasons`: each refusal code's explanation in the user's language (pure);
//! - `skew`: a phone clock that is off, explained in the user's language (pure).
//!
//! Every HTTP request goes through `crate::api`.

pub mod backoff;
pub mod badge;
pub mod page;
pub mod prune;
pub mod reasons;
pub mod seen;
pub mod skew;

#[cfg(target_arch = "wasm32")]
mod account;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod clock;
#[cfg(target_arch = "wasm32")]
mod error;
#[cfg(target_arch = "wasm32")]
mod live;
#[cfg(target_arch = "wasm32")]
mod people;
#[cfg(target_arch = "wasm32")]
mod photos;
#[cfg(target_arch = "wasm32")]
mod pull;
#[cfg(target_arch = "wasm32")]
mod push;
#[cfg(target_arch = "wasm32")]
mod retry;
#[cfg(target_arch = "wasm32")]
mod round;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
mod signals;
#[cfg(target_arch = "wasm32")]
mod tabs;

#[cfg(target_arch = "wasm32")]
pub use client::{client, Client};
#[cfg(target_arch = "wasm32")]
pub use session::{
    clear_session, data_db_name, load_session, save_session, sign_in, sign_out_remote, LoginError,
    Session, SESSION_DB,
};
#[cfg(target_arch = "wasm32")]
pub use signals::{Changes, SyncSignals};
