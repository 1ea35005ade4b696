//! What the case screens say about a case: its category and status in words, its status and
//! deadline read from the record, and the deadline with how late an open case is.

use crate::i18n::{tr, trf, Lang};
use crate::ui::format::{now_ms, when};
use tongxin_shared::case::{is_overdue, Status};
use tongxin_shared::Record;

pub(crate) fn category_label(lang: Lang, c: &str) -> String {
    if c.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("category.{c}"))
    }
}

pub(crate) fn status_label(lang: Lang, s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("status.{s}"))
    }
}

pub(crate) fn case_status(r: &Record) -> Option<Status> {
    r.str("status").and_then(Status::parse)
}

pub(crate) fn case_deadline(r: &Record) -> Option<u64> {
    r.get("deadline").and_then(serde_json::Value::as_u64)
}

/// The deadline, and how late an open case is.
pub(crate) fn deadline_text(lang: Lang, r: Option<&Record>) -> String {
    let Some((d, status)) = r.and_then(|r| Some((case_deadline(r)?, case_status(r)?))) else {
        return String::new();
    };
    if is_overdue(status, d, now_ms()) {
        trf(lang, "case.overdue", &[("d", &when(d))])
    } else {
        when(d)
    }
}
