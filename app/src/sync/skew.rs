//! What the sync panel says about a phone clock that is off (pure, tested natively): the
//! offset to the server's clock, learnt from every sync answer, in words. Every time the app
//! records follows the server's clock already (`sync::clock`); this tells the user why the times
//! they see differ from the phone's, and that they should set the time automatically.

use crate::i18n::{trf, Lang};
use tongxin_shared::MAX_CLOCK_SKEW_MS;

/// The explanation for a learnt offset (`server − phone`, ms), or `None` when the phone's clock
/// is within the server's window.
pub fn clock_offset_text(lang: Lang, offset_ms: i64) -> Option<String> {
    let off = offset_ms.unsigned_abs();
    if off <= MAX_CLOCK_SKEW_MS {
        return None;
    }
    // The server is ahead of the phone: the phone's clock is behind.
    let key = if offset_ms > 0 {
        "sync.clock.behind"
    } else {
        "sync.clock.ahead"
    };
    Some(trf(lang, key, &[("d", &span(lang, off))]))
}

/// A span of time in words, to the nearest minute: "5 min", "3 h 20 min", "2 days 4 h". (A
/// learnt offset is off by the answer's travel time: 3 days less 2 s is "3 days 0 h".)
fn span(lang: Lang, ms: u64) -> String {
    let min = (ms + 30_000) / 60_000;
    let (days, hours, mins) = (min / 1440, (min % 1440) / 60, min % 60);
    let n = |v: u64| v.to_string();
    if days > 0 {
        trf(lang, "time.span.days", &[("d", &n(days)), ("h", &n(hours))])
    } else if hours > 0 {
        trf(
            lang,
            "time.span.hours",
            &[("h", &n(hours)), ("m", &n(mins))],
        )
    } else {
        trf(lang, "time.span.minutes", &[("m", &n(mins.max(1)))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn within_the_window_nothing_is_said() {
        assert_eq!(clock_offset_text(Lang::En, 0), None);
        assert_eq!(clock_offset_text(Lang::En, 60_000), None);
        assert_eq!(clock_offset_text(Lang::En, -60_000), None);
    }

    #[test]
    fn a_phone_ahead_or_behind_is_told_by_how_much() {
        // The phone two days and 3 h ahead: the server's clock is behind it.
        let ahead = clock_offset_text(Lang::En, -(2 * DAY + 3 * 3_600_000)).expect("said");
        assert!(
            ahead.contains("ahead") && ahead.contains("2 days 3 h"),
            "{ahead}"
        );
        let behind = clock_offset_text(Lang::En, 5 * 60_000 + 20_000).expect("said");
        assert!(
            behind.contains("behind") && behind.contains("5 min"),
            "{behind}"
        );
        let zh = clock_offset_text(Lang::ZhCn, 3 * 3_600_000 + 20 * 60_000).expect("said");
        assert!(zh.contains("慢") && zh.contains("3 小时 20 分钟"), "{zh}");
        // Three days less the answer's travel time.
        let days = clock_offset_text(Lang::En, 3 * DAY - 2_000).expect("said");
        assert!(days.contains("3 days 0 h"), "{days}");
    }
}
