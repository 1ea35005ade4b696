//! Showing values to a person: the clock and dates in local time, roles and levels in words.

use crate::i18n::{tr, Lang};
use tongxin_shared::case::{Level, Role};

/// The time now, in milliseconds since the epoch, as the app reckons it: the phone's clock
/// corrected by the server's (learnt from every sync answer, `sync::clock`). Every time a user
/// records (a case's report time and deadline, a visit's time) and every "overdue" is read from
/// it, so a phone whose clock is days off still records the right times, and they agree with the
/// op's own stamp (the server refuses a report time ahead of the op's clock). Before the sync
/// client runs (sign-in), the phone's clock.
pub(crate) fn now_ms() -> u64 {
    crate::sync::client().map_or_else(|| js_sys::Date::now() as u64, |c| c.now_ms())
}

/// "2026-11-25 14:05" in local time.
pub(crate) fn when(ms: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// A role in words.
pub(crate) fn role_label(lang: Lang, role: Role) -> String {
    tr(lang, &format!("role.{}", role.as_str()))
}

/// A level of the hierarchy in words (the queue an overdue case sits in).
pub(crate) fn level_label(lang: Lang, level: Level) -> String {
    let key = match level {
        Level::Grid => "level.grid",
        Level::Community => "level.community",
        Level::Subdistrict => "level.subdistrict",
        Level::City => "level.city",
    };
    tr(lang, key)
}
