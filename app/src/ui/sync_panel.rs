//! The sync badge in the header and the sync panel it opens: what waits, what the server
//! refused (each reason in the user's language, by its code), records this app could not read,
//! when the device last synced.

use super::browser::{offline_ready, on_worker_change};
use super::context::{ctx, t, Ctx};
use crate::i18n::{tr, trf, Lang};
use crate::store::{LocalStore, RejectedOp};
use crate::sync::badge::last_synced;
use crate::sync::client;
use crate::sync::reasons::rejection_key;
use crate::sync::skew::clock_offset_text;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// The time now, ticking every 15 s (for "last synced 3 min ago").
fn ticking_now() -> RwSignal<u64> {
    let now = RwSignal::new(now_ms());
    let _ = set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(15));
    now
}

/// The header's badge: its state from the first frame (`data-state`), the completed rounds of
/// this page (`data-round`), the last completed round's time and cursor.
#[component]
pub(super) fn SyncBadge() -> impl IntoView {
    let Ctx {
        lang, sig, panel, ..
    } = ctx();
    let now = ticking_now();
    let last = move || sig.last_round.get().map(|r| (r.at_ms, now.get()));
    let label = move || sig.badge().label(lang.get(), last());
    let title = move || {
        sig.last_round
            .get()
            .map(|r| last_synced(lang.get(), r.at_ms, now.get()))
    };
    view! {
        <button
            type="button"
            class=move || format!("badge badge-{}", sig.badge().state())
            data-testid="sync-badge"
            data-state=move || sig.badge().state()
            data-waiting=move || sig.waiting.get().to_string()
            data-rejected=move || sig.rejected.get().to_string()
            data-round=move || sig.rounds.get().to_string()
            data-last-synced-ms=move || sig.last_round.get().map(|r| r.at_ms.to_string())
            data-cursor=move || sig.last_round.get().map(|r| r.cursor.to_string())
            title=title
            // The visible state is the button's name (a screen reader reads what is seen); it
            // opens the sync panel.
            aria-haspopup="dialog"
            aria-expanded=move || panel.get().to_string()
            on:click=move |_| panel.update(|p| *p = !*p)
        >
            {label}
        </button>
    }
}

/// The panel's status line: failed (if so) · when the last round completed (or not yet).
fn status_line(l: Lang, failed: bool, last_at_ms: Option<u64>, now_ms: u64) -> String {
    let mut parts = Vec::new();
    if failed {
        parts.push(tr(l, "sync.failed"));
    }
    match last_at_ms {
        Some(at) => parts.push(last_synced(l, at, now_ms)),
        None => parts.push(tr(l, "sync.not_yet")),
    }
    parts.join(" · ")
}

/// The ops the server refused, as kept on the device.
async fn rejected_ops() -> Vec<RejectedOp> {
    match client() {
        Some(c) => c.store.rejected().await.unwrap_or_default(),
        None => Vec::new(),
    }
}

/// What this origin uses of what the browser grants it, in MB.
async fn storage_estimate() -> Option<(u64, u64)> {
    let promise = web_sys::window()?.navigator().storage().estimate().ok()?;
    let estimate: web_sys::StorageEstimate = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .into();
    let mb = |v: Option<f64>| (v.unwrap_or(0.0) / 1_048_576.0).round() as u64;
    Some((mb(estimate.get_usage()), mb(estimate.get_quota())))
}

/// Whether the app would open here without a connection: a warden checks it before going out
/// of signal, since a phone that went offline before the app was stored cannot reload it.
#[component]
fn OfflineReady() -> impl IntoView {
    let lang = ctx().lang;
    let ready = RwSignal::new(offline_ready());
    on_worker_change(move || ready.set(offline_ready()));
    let text = move || {
        let key = match ready.get() {
            Some(true) => "sync.panel.offline_ready",
            Some(false) => "sync.panel.offline_pending",
            None => "sync.panel.offline_unsupported",
        };
        tr(lang.get(), key)
    };
    view! {
        <p class="muted small" data-testid="offline-ready"
            data-ready=move || ready.get().unwrap_or(false).to_string()>{text}</p>
    }
}

#[component]
pub(super) fn SyncPanel() -> impl IntoView {
    let Ctx {
        lang, sig, panel, ..
    } = ctx();
    let now = ticking_now();
    // The storage meter: what this origin uses of what the browser grants it.
    let storage = LocalResource::new(move || {
        panel.get();
        storage_estimate()
    });
    let rejected = LocalResource::new(move || {
        sig.version.get();
        panel.get();
        rejected_ops()
    });
    let skipped = LocalResource::new(move || {
        sig.version.get();
        panel.get();
        async move {
            match client() {
                Some(c) => c.skipped().await,
                None => Vec::new(),
            }
        }
    });
    let status = move || {
        status_line(
            lang.get(),
            sig.failed.get(),
            sig.last_round.get().map(|r| r.at_ms),
            now.get(),
        )
    };
    view! {
        <Show when=move || panel.get()>
            <aside class="panel" role="dialog" aria-label=move || tr(lang.get(), "sync.panel.title")>
                <h2>{t("sync.panel.title")}</h2>
                <p data-testid="last-synced" data-state=move || sig.badge().state()>{status}</p>
                <p>{move || trf(lang.get(), "sync.panel.waiting", &[("n", &sig.waiting.get().to_string())])}</p>
                <p data-testid="photos-waiting" data-n=move || sig.photos_waiting.get().to_string()>{move || trf(lang.get(), "sync.panel.photos", &[("n", &sig.photos_waiting.get().to_string())])}</p>
                <OfflineReady/>
                {move || storage.get().flatten().map(|(used, quota)| view! {
                    <p class="muted small" data-testid="storage-meter">{move || trf(lang.get(), "sync.panel.storage", &[("used", &used.to_string()), ("quota", &quota.to_string())])}</p>
                })}
                {move || clock_offset_text(lang.get(), sig.clock_offset_ms.get()).map(|text| view! {
                    <p class="field-notice" role="status" data-testid="clock-offset"
                        data-offset-ms=move || sig.clock_offset_ms.get().to_string()>{text}</p>
                })}
                <Show when=move || sig.update_required.get()>
                    <p class="error">{t("sync.panel.update")}</p>
                </Show>
                <h3>{t("sync.panel.rejected")}</h3>
                {move || {
                    let list: Vec<RejectedOp> = rejected.get().unwrap_or_default();
                    if list.is_empty() {
                        view! { <p class="muted">{t("sync.panel.none")}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="list">
                                {list.into_iter().map(|r| {
                                    let id = r.op.id;
                                    view! {
                                        <li class="rejected" data-testid="rejected-item" data-code=r.code.clone()>
                                            <strong>{format!("{} · {}", r.op.collection, r.code)}</strong>
                                            {
                                                let (code, message) = (r.code.clone(), r.message.clone());
                                                move || rejection_text(lang.get(), &code, &message)
                                            }
                                            <button type="button" on:click=move |_| spawn_local(async move { if let Some(c) = client() { let _ = c.retry(id).await; } })>{t("sync.panel.retry")}</button>
                                            <button type="button" on:click=move |_| spawn_local(async move { if let Some(c) = client() { let _ = c.dismiss(id).await; } })>{t("sync.panel.dismiss")}</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
                {move || {
                    let list = skipped.get().unwrap_or_default();
                    (!list.is_empty()).then(|| view! {
                        <h3>{t("sync.panel.skipped")}</h3>
                        <ul class="list">
                            {list.into_iter().map(|s| {
                                let seq = s.seq.to_string();
                                let attr = seq.clone();
                                view! {
                                    <li class="rejected" data-testid="skipped-item" data-seq=attr>
                                        <strong>{move || trf(lang.get(), "sync.panel.skipped.item", &[("seq", &seq)])}</strong>
                                        <p class="muted small">{s.error.clone()}</p>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })
                }}
                <button type="button" on:click=move |_| panel.set(false)>{t("sync.panel.close")}</button>
            </aside>
        </Show>
    }
}

/// Why an op was refused, for a person: the explanation of its code in the user's language
/// (from the locale files), and the server's own words below it, smaller.
fn rejection_text(lang: Lang, code: &str, message: &str) -> impl IntoView {
    let key = rejection_key(code);
    view! {
        <p data-testid="rejected-reason">{tr(lang, &key)}</p>
        <p class="muted small" data-testid="rejected-detail">{message.to_owned()}</p>
    }
}
