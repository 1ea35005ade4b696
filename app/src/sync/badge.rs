//! What the sync badge says (pure, tested natively): one state from a snapshot of the sync
//! signals, its words in the user's language, and "last synced 3 min ago".
//!
//! The badge never claims more than is known: "loading" until the local counts are read,
//! "up to date" only when a round completed in this page since the last local change, with
//! nothing waiting and the last round not failed.

use crate::i18n::{tr, trf, Lang};
use serde::{Deserialize, Serialize};

/// Whether the device's own state is known yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Local {
    /// The stored session and the local counts are being read.
    #[default]
    Loading,
    /// Nobody is signed in on this device (the sign-in screen).
    NoUser,
    /// The signed-in user's local database is open and counted.
    Ready,
}

/// A completed sync round: pushed, pulled, photos sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Round {
    /// The pull cursor the round ended at.
    pub cursor: u64,
    /// When the round started and ended (device clock, ms).
    pub started_ms: u64,
    pub at_ms: u64,
}

/// The inputs of the badge.
// Independent signals read together, not a state machine: the badge's state is derived here.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Snapshot {
    pub local: Local,
    pub signed_out: bool,
    pub update_required: bool,
    pub rejected: usize,
    pub online: bool,
    pub syncing: bool,
    /// Records received so far in the running pull.
    pub received: usize,
    /// Photos sent / to send in the running round.
    pub photos: Option<(usize, usize)>,
    /// The last round failed; the next is on its way.
    pub failed: bool,
    /// It failed because the server's disk is full (507): the records wait on the device.
    pub server_full: bool,
    pub waiting: usize,
    /// Rounds completed in this page (0: none yet).
    pub rounds: u64,
    pub last_round: Option<Round>,
    /// When the user last changed something on this device (ms), if in this page.
    pub last_change_ms: u64,
}

/// The badge's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Badge {
    Loading,
    NoUser,
    SignedOut {
        waiting: usize,
    },
    Update,
    Attention {
        records: usize,
    },
    Offline {
        waiting: usize,
    },
    Photos {
        done: usize,
        total: usize,
    },
    Failed,
    /// The server's disk is full: nothing is lost, the records wait here and are retried.
    ServerFull {
        waiting: usize,
    },
    Syncing {
        received: usize,
    },
    Waiting {
        records: usize,
    },
    /// Online, nothing waiting, but no round has completed since the last change.
    NotYet,
    Synced,
}

impl Badge {
    pub fn of(s: &Snapshot) -> Self {
        match s.local {
            Local::Loading => return Self::Loading,
            Local::NoUser => return Self::NoUser,
            Local::Ready => {}
        }
        if s.signed_out {
            return Self::SignedOut { waiting: s.waiting };
        }
        if s.update_required {
            return Self::Update;
        }
        if s.rejected > 0 {
            return Self::Attention {
                records: s.rejected,
            };
        }
        if !s.online {
            return Self::Offline { waiting: s.waiting };
        }
        if let Some((done, total)) = s.photos.filter(|_| s.syncing) {
            return Self::Photos { done, total };
        }
        if s.failed && s.server_full {
            return Self::ServerFull { waiting: s.waiting };
        }
        if s.failed {
            return Self::Failed;
        }
        if s.syncing {
            return Self::Syncing {
                received: s.received,
            };
        }
        if s.waiting > 0 {
            return Self::Waiting { records: s.waiting };
        }
        let covers_last_change = s
            .last_round
            .is_some_and(|r| r.started_ms >= s.last_change_ms);
        if s.rounds > 0 && covers_last_change {
            Self::Synced
        } else {
            Self::NotYet
        }
    }

    /// The `data-state` of the badge (and its CSS class).
    pub fn state(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::NoUser => "none",
            Self::SignedOut { .. } => "signed_out",
            Self::Update | Self::Attention { .. } => "attention",
            Self::Offline { .. } => "offline",
            Self::Photos { .. } => "photos",
            Self::Failed | Self::ServerFull { .. } => "failed",
            Self::Syncing { .. } => "syncing",
            Self::Waiting { .. } => "waiting",
            Self::NotYet => "pending",
            Self::Synced => "synced",
        }
    }

    /// The badge's words. `last` is when the last round completed, with the time now.
    pub fn label(self, lang: Lang, last: Option<(u64, u64)>) -> String {
        let n = |v: usize| v.to_string();
        match self {
            Self::Loading => tr(lang, "sync.loading"),
            Self::NoUser => tr(lang, "sync.none"),
            Self::SignedOut { waiting } => trf(lang, "sync.signed_out", &[("n", &n(waiting))]),
            Self::Update => tr(lang, "sync.update"),
            Self::Attention { records } => trf(lang, "sync.attention", &[("n", &n(records))]),
            Self::Offline { waiting } => trf(lang, "sync.offline", &[("n", &n(waiting))]),
            Self::Photos { done, total } => trf(
                lang,
                "sync.photos",
                &[("done", &n(done)), ("total", &n(total))],
            ),
            Self::Failed => tr(lang, "sync.failed"),
            Self::ServerFull { waiting } => trf(lang, "sync.server_full", &[("n", &n(waiting))]),
            Self::Syncing { received: 0 } => tr(lang, "sync.syncing"),
            Self::Syncing { received } => {
                trf(lang, "sync.syncing.progress", &[("n", &n(received))])
            }
            Self::Waiting { records } => trf(lang, "sync.waiting", &[("n", &n(records))]),
            Self::NotYet => last.map_or_else(
                || tr(lang, "sync.not_yet"),
                |(at, now)| last_synced(lang, at, now),
            ),
            Self::Synced => tr(lang, "sync.synced"),
        }
    }
}

/// "last synced 3 min ago" / "上次同步 3 分钟前".
pub fn last_synced(lang: Lang, at_ms: u64, now_ms: u64) -> String {
    trf(lang, "sync.last", &[("ago", &ago(lang, at_ms, now_ms))])
}

/// How long ago `at_ms` was, in words: "just now", "3 min ago", "2 h ago", "4 days ago".
pub fn ago(lang: Lang, at_ms: u64, now_ms: u64) -> String {
    let min = now_ms.saturating_sub(at_ms) / 60_000;
    let (key, n) = match min {
        0 => return tr(lang, "time.just_now"),
        1..=59 => ("time.min_ago", min),
        60..=2879 => ("time.h_ago", min / 60),
        _ => ("time.days_ago", min / 1440),
    };
    trf(lang, key, &[("n", &n.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Snapshot {
        Snapshot {
            local: Local::Ready,
            online: true,
            ..Snapshot::default()
        }
    }

    fn round(started_ms: u64) -> Round {
        Round {
            cursor: 9,
            started_ms,
            at_ms: started_ms + 100,
        }
    }

    #[test]
    fn never_zero_waiting_before_the_counts_are_read() {
        let s = Snapshot {
            online: true,
            ..Snapshot::default()
        };
        assert_eq!(Badge::of(&s), Badge::Loading);
        assert_eq!(Badge::of(&s).label(Lang::ZhCn, None), "加载中…");
    }

    #[test]
    fn not_up_to_date_on_the_sign_in_screen_nor_before_the_first_round() {
        let none = Snapshot {
            local: Local::NoUser,
            online: true,
            ..Snapshot::default()
        };
        assert_eq!(Badge::of(&none).state(), "none");
        assert_eq!(Badge::of(&ready()), Badge::NotYet);
        // A round of an earlier page is shown as "last synced", not as up to date.
        let earlier = Snapshot {
            last_round: Some(round(1_000)),
            ..ready()
        };
        assert_eq!(Badge::of(&earlier), Badge::NotYet);
        assert_eq!(
            Badge::of(&earlier).label(Lang::En, Some((1_000, 1_000 + 3 * 60_000))),
            "Last synced 3 min ago"
        );
    }

    #[test]
    fn up_to_date_only_after_a_round_that_started_after_the_last_change() {
        let synced = Snapshot {
            rounds: 1,
            last_round: Some(round(2_000)),
            last_change_ms: 1_500,
            ..ready()
        };
        assert_eq!(Badge::of(&synced), Badge::Synced);
        let changed_since = Snapshot {
            last_change_ms: 2_500,
            ..synced
        };
        assert_eq!(Badge::of(&changed_since), Badge::NotYet);
        let failed = Snapshot {
            failed: true,
            ..synced
        };
        assert_eq!(Badge::of(&failed), Badge::Failed);
        assert_eq!(
            Badge::of(&failed).label(Lang::ZhCn, None),
            "同步失败，正在重试"
        );
        let waiting = Snapshot {
            waiting: 2,
            ..synced
        };
        assert_eq!(Badge::of(&waiting).state(), "waiting");
    }

    #[test]
    fn a_full_server_disk_is_said_and_the_records_wait_here() {
        let full = Snapshot {
            failed: true,
            server_full: true,
            waiting: 3,
            ..ready()
        };
        assert_eq!(Badge::of(&full), Badge::ServerFull { waiting: 3 });
        assert_eq!(Badge::of(&full).state(), "failed");
        assert_eq!(
            Badge::of(&full).label(Lang::ZhCn, None),
            "服务器存储已满 · 3 条保留在本机，稍后自动重试"
        );
        assert_eq!(
            Badge::of(&full).label(Lang::En, None),
            "Server storage full · 3 kept on this device, retrying"
        );
        // Once a round goes through, the reason goes with the failure.
        let recovered = Snapshot {
            failed: false,
            ..full
        };
        assert_ne!(Badge::of(&recovered), Badge::ServerFull { waiting: 3 });
    }

    #[test]
    fn photo_progress_shows_while_a_round_sends_photos() {
        let s = Snapshot {
            syncing: true,
            photos: Some((12, 60)),
            ..ready()
        };
        assert_eq!(Badge::of(&s).label(Lang::ZhCn, None), "照片 12/60");
        assert_eq!(Badge::of(&s).label(Lang::En, None), "Photos 12/60");
    }

    #[test]
    fn ago_in_words() {
        assert_eq!(ago(Lang::ZhCn, 0, 30_000), "刚刚");
        assert_eq!(ago(Lang::ZhCn, 0, 3 * 60_000), "3 分钟前");
        assert_eq!(ago(Lang::En, 0, 125 * 60_000), "2 h ago");
        assert_eq!(ago(Lang::En, 0, 3 * 1440 * 60_000), "3 days ago");
        assert_eq!(last_synced(Lang::ZhCn, 0, 3 * 60_000), "上次同步 3 分钟前");
    }
}
