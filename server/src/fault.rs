//! Test-only fault hooks: a test holds the server at a precise point of a commit, so that a
//! SIGKILL lands there for certain (`server/tests/crash_loop.rs`).
//!
//! Compiled in only with the cargo feature `fault-hooks`, which this crate's own tests turn on
//! (a dev-dependency on itself); a normal or release build has empty hooks. Even with the
//! feature, nothing happens unless `TONGXIN_FAULT_DIR` names a directory: at a hook point
//! `STAGE`, when the file `DIR/pause-STAGE` exists the server removes it (one pause per
//! request), writes the ids of the commit's ops, one a line, to `DIR/paused-STAGE` (written
//! whole, then renamed into place) and waits there forever — the test kills it.
//!
//! Stages: `before-commit` (every row of the commit written, the transaction not committed)
//! and `after-commit` (committed, not yet acknowledged to anyone).
//!
//! `TONGXIN_FAULT_CLOCK_OFFSET_MS=N` (may be negative) sets this process's clock N ms off, so
//! that a test runs server instances whose clocks disagree (`server/tests/clock_skew.rs`).

use tongxin_shared::Op;

/// A hook point of a commit.
#[cfg(feature = "fault-hooks")]
pub async fn pause_point(stage: &str, ops: &[Op]) {
    use std::path::PathBuf;
    use std::sync::OnceLock;
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    let Some(dir) = DIR.get_or_init(|| std::env::var_os("TONGXIN_FAULT_DIR").map(PathBuf::from))
    else {
        return;
    };
    if std::fs::remove_file(dir.join(format!("pause-{stage}"))).is_err() {
        return;
    }
    let ids: String = ops.iter().map(|o| o.id.to_string() + "\n").collect();
    let part = dir.join(format!("paused-{stage}.part"));
    if std::fs::write(&part, ids).is_ok() {
        let _ = std::fs::rename(&part, dir.join(format!("paused-{stage}")));
    }
    tracing::warn!(
        stage,
        "fault hook: holding this commit until the process is killed"
    );
    std::future::pending::<()>().await;
}

/// The server's clock reading, moved by `TONGXIN_FAULT_CLOCK_OFFSET_MS`.
#[cfg(feature = "fault-hooks")]
pub fn skew_clock(ms: u64) -> u64 {
    use std::sync::OnceLock;
    static OFFSET: OnceLock<i64> = OnceLock::new();
    let offset = *OFFSET.get_or_init(|| {
        std::env::var("TONGXIN_FAULT_CLOCK_OFFSET_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    });
    ms.saturating_add_signed(offset)
}

/// The server's clock reading (no hooks in this build).
#[cfg(not(feature = "fault-hooks"))]
#[inline]
pub fn skew_clock(ms: u64) -> u64 {
    ms
}

/// A hook point of a commit (no hooks in this build).
#[cfg(not(feature = "fault-hooks"))]
#[allow(clippy::unused_async)] // the same signature as the hooked build
pub async fn pause_point(_stage: &str, _ops: &[Op]) {}
