//! Home: what needs the signed-in user today (their open cases, due soon, overdue) and their
//! grids, read from the local database.

use super::cases::{case_deadline, case_status};
use super::context::{ctx, t, Ctx};
use super::format::now_ms;
use crate::i18n::trf;
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use tongxin_shared::case::{is_overdue, Role};
use tongxin_shared::Collection;

#[component]
pub(super) fn Home() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    let count = LocalResource::new(move || {
        sig.version.get();
        async move {
            match client() {
                Some(c) => c.store.count(Collection::Cases).await.unwrap_or(0),
                None => 0,
            }
        }
    });
    // What needs me today: open cases in my area that are mine (reported or assigned), due
    // within a day, or overdue; and my grids by name. Read from the local database, offline.
    let today = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else {
                return (Vec::new(), 0, 0, 0);
            };
            let me = c.me();
            let cases = c.store.list(Collection::Cases).await.unwrap_or_default();
            let now = now_ms();
            let (mut mine, mut soon, mut late) = (0, 0, 0);
            for r in cases.iter().filter(|r| !r.is_deleted()) {
                let Some(st) = case_status(r).filter(|s| s.is_open()) else {
                    continue;
                };
                if r.str("reporter") == Some(me.username.as_str())
                    || r.str("assignee") == Some(me.username.as_str())
                {
                    mine += 1;
                }
                match case_deadline(r) {
                    Some(d) if is_overdue(st, d, now) => late += 1,
                    Some(d) if d <= now + tongxin_shared::case::DAY_MS => soon += 1,
                    _ => {}
                }
            }
            let grids = c.store.list(Collection::Grids).await.unwrap_or_default();
            let names: Vec<String> = me
                .grids
                .iter()
                .map(|g| {
                    grids
                        .iter()
                        .find(|r| r.id == *g)
                        .and_then(|r| r.str("name"))
                        .map_or_else(|| g.to_string(), ToOwned::to_owned)
                })
                .collect();
            (names, mine, soon, late)
        }
    });
    let role = move || session.with(|s| s.as_ref().map(|s| s.me.role));
    view! {
        <section class="card">
            <p>{t("home.welcome")}</p>
            <p class="muted">{move || count.get().map(|n| trf(lang.get(), "home.cases_count", &[("n", &n.to_string())]))}</p>
            <p class="muted small">{t("home.synthetic")}</p>
        </section>
        {move || today.get().map(|(names, mine, soon, late)| view! {
            <section class="card" data-testid="today">
                <h2>{t("home.today")}</h2>
                {(!names.is_empty()).then(|| view! { <p data-testid="my-grids">{move || trf(lang.get(), "home.my_grids", &[("g", &names.join("、"))])}</p> })}
                <ul class="figures">
                    <li><a href="/cases" data-testid="today-mine" data-n=mine.to_string()><strong>{mine}</strong><span>{t("home.mine")}</span></a></li>
                    <li><a href="/cases" data-testid="today-soon" data-n=soon.to_string()><strong>{soon}</strong><span>{t("home.due_soon")}</span></a></li>
                    <li><a href="/cases" class={if late > 0 { "late" } else { "" }} data-testid="today-overdue" data-n=late.to_string()><strong>{late}</strong><span>{t("home.overdue")}</span></a></li>
                </ul>
                <div class="actions">
                    <a class="button primary" href="/cases/new">{t("nav.new_case")}</a>
                    {move || matches!(role(), Some(Role::Warden | Role::GridLeader)).then(|| view! {
                        <a class="button" href="/visits/new">{t("visits.new")}</a>
                    })}
                </div>
            </section>
        })}
    }
}
