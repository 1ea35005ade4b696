//! What the new-record forms share: one save path, field errors, and drafts kept as the user
//! types.

use super::context::t;
use crate::i18n::{tr, trf, Lang};
use crate::store::{LocalStore, StoreError};
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use tongxin_shared::schema::validate_op;

/// A form's error: which field it belongs to (`"form"` for the whole form) and the message.
pub(super) type FormError = RwSignal<Option<(&'static str, String)>>;

/// The error message shown next to `field`, when the form's error is about it.
pub(super) fn field_error(error: FormError, field: &'static str) -> impl Fn() -> Option<AnyView> {
    move || {
        error
            .get()
            .filter(|(f, _)| *f == field)
            .map(|(_, m)| view! { <p class="field-error" role="alert">{m}</p> }.into_any())
    }
}

/// A notice next to a free-text field while it holds a phone or ID number
/// (`tongxin_shared::redact`): such numbers are hidden from the levels above the community, and
/// a resident's phone belongs in the phone field. Only a notice: saving stays allowed.
pub(super) fn number_notice<F>(field: &'static str, text: F) -> impl Fn() -> Option<AnyView>
where
    F: Fn() -> Option<String> + Send + Sync + 'static,
{
    let notice = t("form.number_notice");
    move || {
        text()
            .is_some_and(|s| tongxin_shared::redact::contains_number(&s))
            .then(|| {
                view! {
                    <p class="field-notice" role="status" data-testid="number-notice"
                        data-field=field>{notice}</p>
                }
                .into_any()
            })
    }
}

/// Saves a new record's ops (checked first) in one local commit, clears the form's draft and
/// goes to `to`; a refusal or a failed write is shown on the form and nothing typed is lost.
pub(super) fn save_new(
    ops: Vec<tongxin_shared::Op>,
    draft: &'static str,
    to: &'static str,
    error: FormError,
    lang: Lang,
    navigate: impl Fn(&str, NavigateOptions) + 'static,
) {
    let Some(c) = client() else { return };
    if let Some(e) = ops.iter().find_map(|op| validate_op(op).err()) {
        error.set(Some(("form", e.message)));
        return;
    }
    spawn_local(async move {
        match c.commit(ops).await {
            Ok(()) => {
                clear_draft(draft);
                navigate(to, NavigateOptions::default());
            }
            Err(e) => error.set(Some(("form", save_failed(lang, &e)))),
        }
    });
}

/// What the user reads when a local save failed. A full device says so plainly — the record
/// was not saved, what was typed is still in the form, nothing saved before is lost, and what to
/// do — because the raw browser error ("QuotaExceededError") tells a warden nothing.
pub(super) fn save_failed(lang: Lang, e: &StoreError) -> String {
    match e {
        StoreError::Full => tr(lang, "error.storage_full"),
        other => trf(lang, "case.error.save_failed", &[("e", &other.to_string())]),
    }
}

/// Drafts: what a user typed into a new record's form is kept in their local database as they
/// type, so a reload, a crash or a closed tab loses nothing; saving the record clears it.
pub(super) fn draft_key(form: &str) -> String {
    format!("draft.{form}")
}

pub(super) async fn load_draft(form: &str) -> Option<serde_json::Value> {
    let c = client()?;
    let text = c.store.meta_get(&draft_key(form)).await.ok()??;
    serde_json::from_str(&text).ok()
}

pub(super) fn save_draft(form: &'static str, value: serde_json::Value) {
    spawn_local(async move {
        if let Some(c) = client() {
            let _ = c.store.meta_set(&draft_key(form), &value.to_string()).await;
        }
    });
}

pub(super) fn clear_draft(form: &'static str) {
    spawn_local(async move {
        if let Some(c) = client() {
            let _ = c.store.meta_delete(&draft_key(form)).await;
        }
    });
}

/// A form field a draft keeps: plain text, optional text, or a list (photos, units).
#[derive(Clone, Copy)]
pub(super) enum Draft {
    Text(RwSignal<String>),
    Opt(RwSignal<Option<String>>),
    List(RwSignal<Vec<String>>),
}

impl Draft {
    fn read(self) -> serde_json::Value {
        match self {
            Self::Text(s) => s.get().into(),
            Self::Opt(s) => s.get().map_or(serde_json::Value::Null, Into::into),
            Self::List(s) => s.get().into(),
        }
    }

    /// Puts a saved value back, unless the user (or a prefill) already filled the field.
    fn restore(self, v: &serde_json::Value) {
        match self {
            Self::Text(s) => {
                if let (true, Some(v)) = (s.get_untracked().is_empty(), v.as_str()) {
                    s.set(v.to_owned());
                }
            }
            Self::Opt(s) => {
                if let (true, Some(v)) = (s.get_untracked().is_none(), v.as_str()) {
                    s.set(Some(v.to_owned()));
                }
            }
            Self::List(s) => {
                if let (true, Some(list)) = (s.get_untracked().is_empty(), v.as_array()) {
                    s.set(
                        list.iter()
                            .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                            .collect(),
                    );
                }
            }
        }
    }
}

/// Restores a form's draft into its fields, then keeps saving them as the user types.
pub(super) fn keep_draft(form: &'static str, fields: Vec<(&'static str, Draft)>) {
    let loaded = RwSignal::new(false);
    let restore = fields.clone();
    spawn_local(async move {
        if let Some(d) = load_draft(form).await {
            for (name, field) in &restore {
                if let Some(v) = d.get(*name) {
                    field.restore(v);
                }
            }
        }
        loaded.set(true);
    });
    Effect::new(move |_| {
        let m: serde_json::Map<String, serde_json::Value> = fields
            .iter()
            .map(|(name, field)| ((*name).to_owned(), field.read()))
            .filter(|(_, v)| !v.is_null())
            .collect();
        if loaded.get() {
            save_draft(form, serde_json::Value::Object(m));
        }
    });
}
