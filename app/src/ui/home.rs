//! The home screen: what needs me today, counted offline from the local records with the same
//! filters the case list applies, so each tile opens the list showing exactly what it counted:
//! my open cases (`/cases?mine=1&open=1`), open cases due within a day (`/cases?due=soon`),
//! overdue ones (`/cases?overdue=1`). Field roles and managers get their own words.

use super::context::{ctx, t, Ctx};
use super::format::now_ms;
use crate::i18n::trf;
use crate::store::LocalStore;
use crate::sync::client;
use crate::views::home::{welcome_key, Tile};
use leptos::prelude::*;
use tongxin_shared::case::Role;
use tongxin_shared::{Collection, Record};

/// My grids by name (their ids when not on the device).
fn grid_names(mine: &[tongxin_shared::RecordId], grids: &[Record]) -> Vec<String> {
    mine.iter()
        .map(|g| {
            grids
                .iter()
                .find(|r| r.id == *g)
                .and_then(|r| r.str("name"))
                .map_or_else(|| g.to_string(), ToOwned::to_owned)
        })
        .collect()
}

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
    // What needs me today, per tile, and my grids by name. Read from the local database, offline.
    let today = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else {
                return (Vec::new(), Vec::new());
            };
            let me = c.me();
            let cases = c.store.list(Collection::Cases).await.unwrap_or_default();
            let now = now_ms();
            let counts: Vec<(Tile, usize)> = Tile::ALL
                .into_iter()
                .map(|tile| (tile, tile.filter(&me.username).apply(&cases, now).len()))
                .collect();
            let grids = c.store.list(Collection::Grids).await.unwrap_or_default();
            (grid_names(&me.grids, &grids), counts)
        }
    });
    let role = move || session.with(|s| s.as_ref().map(|s| s.me.role));
    view! {
        <section class="card">
            <p data-testid="home-welcome">{move || crate::i18n::tr(lang.get(), welcome_key(role()))}</p>
            <p class="muted">{move || count.get().map(|n| trf(lang.get(), "home.cases_count", &[("n", &n.to_string())]))}</p>
            <p class="muted small">{t("home.synthetic")}</p>
        </section>
        {move || today.get().map(|(names, counts)| view! {
            <section class="card" data-testid="today">
                <h2>{t("home.today")}</h2>
                {(!names.is_empty()).then(|| view! { <p data-testid="my-grids">{move || trf(lang.get(), "home.my_grids", &[("g", &names.join("、"))])}</p> })}
                <ul class="figures">
                    {counts.into_iter().map(|(tile, n)| {
                        let late = tile == Tile::Overdue && n > 0;
                        view! {
                            <li><a href=tile.href() class:late=late data-testid=tile.testid() data-n=n.to_string()>
                                <strong>{n}</strong><span>{t(tile.label())}</span>
                            </a></li>
                        }
                    }).collect_view()}
                </ul>
                <div class="actions">
                    {move || (role() != Some(Role::UnitLiaison)).then(|| view! {
                        <a class="button primary" href="/cases/new">{t("nav.new_case")}</a>
                    })}
                    {move || matches!(role(), Some(Role::Warden | Role::GridLeader)).then(|| view! {
                        <a class="button" href="/visits/new">{t("visits.new")}</a>
                    })}
                    {move || role().is_some_and(Role::is_manager).then(|| view! {
                        <a class="button" href="/supervision" data-testid="home-supervision">{t("nav.supervision")}</a>
                    })}
                </div>
            </section>
        })}
    }
}
