//! Visits and patrols (走访/巡查): the list (here), and the form (`form.rs`: `VisitNew`) built
//! from named pieces — the state they share (`state.rs`), where (`place.rs`: grid and compound),
//! which household (`household.rs`: picked from the device or added on the spot).

mod form;
mod household;
mod place;
mod state;

pub(super) use form::VisitNew;

use super::context::t;
use super::list;
use crate::listing::visits::{select, VisitNames, NEWEST};
use crate::listing::Terms;
use leptos::prelude::*;

/// The visits and patrols on the device (a warden's own; a manager's whole area), newest first;
/// searched by compound, grid and warden, one page at a time.
#[component]
pub(super) fn VisitList() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let sort = RwSignal::new(NEWEST);
    let page = RwSignal::new(0usize);
    // Until the index is built, the newest visits are read straight from the device (first),
    // then the index is brought up to date.
    let first = list::page::first_page::<list::visits::Visits>();
    let ready = list::index::ready();
    let selected = Memo::new(move |_| {
        if ready.get() == 0 {
            return None;
        }
        let (terms, s) = (Terms::parse(&text.get()), sort.get());
        list::index::with(|ix| {
            let names = VisitNames {
                grids: &ix.grids,
                compounds: &ix.compounds,
                people: &ix.people,
            };
            let ids = select(&ix.visits.rows, &names, &terms, s);
            Some((ix.epoch, ids, ix.live_visits))
        })
    });
    // Which of loading / empty / the list to show (re-drawn only when that changes, so the
    // search box keeps its focus while the rows change under it).
    let state = Memo::new(move |_| list::page::live_total(selected, first).map(|n| n > 0));
    // The list as it opens: newest first, no search (what the first page shows before the
    // index is built).
    let plain =
        Signal::derive(move || text.with(|q| Terms::parse(q).is_empty()) && sort.get() == NEWEST);
    view! {
        <section class="list-screen">
            <h1>{t("visits.title")}</h1>
            <a class="button primary" href="/visits/new">{t("visits.new")}</a>
            {move || match state.get() {
                None => view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }.into_any(),
                Some(false) => view! { <p class="muted">{t("visits.empty")}</p> }.into_any(),
                Some(true) => view! {
                    <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                        <list::SearchBox query=text page label="visits.search"/>
                    </form>
                    {list::page::paged::<list::visits::Visits>(selected, first, plain, page, sort)}
                }.into_any(),
            }}
        </section>
    }
}
