//! The supervision queue (督办): the overdue cases escalated to the signed-in manager's level
//! (`case::supervision_level`, the clock and the server's recorded escalations alike), most
//! overdue first, each with its days overdue, level, grid and reminders so far. Read from the
//! local records, offline. A case opens on its page, where the reminder is recorded.

use super::cases::{category_label, status_label};
use super::context::{ctx, live_records, t, Ctx};
use super::format::{level_label, now_ms};
use crate::i18n::trf;
use crate::views::supervision::{queue, Row};
use leptos::prelude::*;
use tongxin_shared::Collection;

#[component]
pub(super) fn Supervision() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let level = move || {
        session.with(|s| {
            s.as_ref()
                .filter(|s| s.me.role.is_manager())
                .map(|s| s.me.role.level())
        })
    };
    let rows = LocalResource::new(move || {
        sig.version.get();
        let deadlines = sig.deadlines.get();
        let level = level();
        async move {
            let level = level?;
            let cases = live_records(Collection::Cases).await;
            let grids = live_records(Collection::Grids).await;
            let name = |id: &str| {
                grids
                    .iter()
                    .find(|g| g.id.to_string() == id)
                    .and_then(|g| g.str("name"))
                    .map_or_else(|| id.to_owned(), ToOwned::to_owned)
            };
            Some(queue(&deadlines, &cases, level, now_ms(), name))
        }
    });
    view! {
        <section data-testid="supervision">
            <h1>{t("supervision.title")}</h1>
            {move || level().map(|l| view! {
                <p class="muted small">{move || trf(lang.get(), "supervision.intro", &[("level", &level_label(lang.get(), l))])}</p>
            })}
            {move || match (level(), rows.get().flatten()) {
                (None, _) => view! { <p class="muted">{t("supervision.managers_only")}</p> }.into_any(),
                (Some(_), None) => view! { <p class="muted">{t("cases.loading")}</p> }.into_any(),
                (Some(_), Some(list)) if list.is_empty() => view! { <p class="muted" data-testid="supervision-empty">{t("supervision.empty")}</p> }.into_any(),
                (Some(_), Some(list)) => {
                    let n = list.len().to_string();
                    let n_attr = n.clone();
                    view! {
                        <p class="muted small" data-testid="supervision-count" data-n=n_attr>{move || trf(lang.get(), "supervision.count", &[("n", &n)])}</p>
                        <ul class="list">
                            {list.into_iter().map(|row| view! { <QueueItem row=row/> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn QueueItem(row: Row) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let days = row.days.to_string();
    let days_attr = days.clone();
    let reminders = row.reminders.to_string();
    let level = row.level;
    let (category, status) = (row.category.clone(), row.status.clone());
    view! {
        <li>
            <a class="item" href=format!("/cases/{}", row.id) data-testid="supervision-item" data-id=row.id.clone()
                data-days=days_attr data-level=level.as_str()>
                <span class="item-title">{row.title.clone()}</span>
                <span class="item-meta">
                    <span class="tag tag-late">{move || trf(lang.get(), "supervision.days", &[("d", &days)])}</span>
                    " " <span class="tag">{move || level_label(lang.get(), level)}</span>
                    " · " {row.grid.clone()}
                    " · " {move || category_label(lang.get(), &category)}
                    " · " {move || status_label(lang.get(), &status)}
                    " · " {move || trf(lang.get(), "supervision.reminders", &[("n", &reminders)])}
                </span>
            </a>
        </li>
    }
}
