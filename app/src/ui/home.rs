//! The home screen: what needs me today, counted offline from the rows the case list selects from
//! (kept in memory: `list::index`) with the list's own filters, so each tile opens the list
//! showing exactly what it counted:
//! my open cases (`/cases?mine=1&open=1`), open cases due within a day (`/cases?due=soon`),
//! overdue ones (`/cases?overdue=1`). Field roles and managers get their own words.

use super::context::{ctx, t, Ctx};
use super::format::now_ms;
use super::list::index;
use crate::i18n::trf;
use crate::listing::cases::{select, CaseQuery, NEWEST};
use crate::views::home::{welcome_key, Tile};
use leptos::prelude::*;
use tongxin_shared::case::Role;
use tongxin_shared::RecordId;

/// How long the home screen leaves the rows' index to the page's first sync round (which builds
/// it once done, `index::keep_warm`) before asking for it itself (`index::want`: built when sync
/// is quiet, never while a round pulls): in a tab that does not sync (another tab does) or
/// offline no round comes. Not asked for at once: building it right after a reload competed
/// with a list opened at once (its first page waited behind the build).
const ASK_AFTER_MS: u32 = 3_000;

/// My grids as the lists show them, code and name (their ids when not on the device).
fn grid_names(mine: &[RecordId], ix: &index::ListIndex) -> Vec<String> {
    mine.iter()
        .map(|g| {
            let id = g.to_string();
            let shown = ix.grids.shown(ix.grids.get(&id));
            if shown.is_empty() {
                id
            } else {
                shown.to_owned()
            }
        })
        .collect()
}

#[component]
pub(super) fn Home() -> impl IntoView {
    let Ctx {
        lang, sig, session, ..
    } = ctx();
    // What needs me today, counted from the rows kept in memory (`list::index`, shared with the
    // case list and updated record by record) with the list's own filter, so a tile counts
    // what the list it opens shows. (Decoding every case record on each visit and each sync
    // change held a city manager's page for seconds, and a list opened from here waited.)
    let ready = index::ready();
    if ready.get_untracked() == 0 {
        let asked = gloo_timers::callback::Timeout::new(ASK_AFTER_MS, index::want);
        // Dropped with the screen (a timeout dropped is cancelled).
        let asked = StoredValue::new_local(Some(asked));
        on_cleanup(move || asked.set_value(None));
    }
    let today = Memo::new(move |_| {
        if ready.get() == 0 {
            return None;
        }
        let (me, mine) = session.with(|s| {
            s.as_ref()
                .map(|s| (s.me.username.clone(), s.me.grids.clone()))
                .unwrap_or_default()
        });
        let now = now_ms();
        sig.deadlines.with(|d| {
            index::with(|ix| {
                let counts: Vec<(Tile, usize)> = Tile::ALL
                    .into_iter()
                    .map(|tile| {
                        let q = CaseQuery::of_filter(&tile.filter(&me));
                        let n = select(&ix.cases.rows, &ix.grids, &ix.people, d, &q, NEWEST, now);
                        (tile, n.len())
                    })
                    .collect();
                Some((grid_names(&mine, ix), counts, ix.live_cases))
            })
        })
    });
    let role = move || session.with(|s| s.as_ref().map(|s| s.me.role));
    view! {
        <section class="card">
            <p data-testid="home-welcome">{move || crate::i18n::tr(lang.get(), welcome_key(role()))}</p>
            <p class="muted">{move || today.with(|t| t.as_ref().map(|t| trf(lang.get(), "home.cases_count", &[("n", &t.2.to_string())])))}</p>
            <p class="muted small">{t("home.synthetic")}</p>
        </section>
        {move || today.get().map(|(names, counts, _)| view! {
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
