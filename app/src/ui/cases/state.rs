//! What the case list's pieces share (`CaseListState`): a signal per filter, the sort and the
//! page, and what follows from them — the query, the cases it selects from the rows kept in
//! memory, and the first page read from the device before those rows are ready.

use crate::listing::cases::{select, CaseQuery, CaseSort, NEWEST};
use crate::listing::{Sort, Terms};
use crate::sync::Session;
use crate::ui::context::{ctx, Ctx};
use crate::ui::format::now_ms;
use crate::ui::list;
use crate::ui::list::page::{First, Selected};
use leptos::prelude::*;
use tongxin_shared::case::{Level, Status};

/// The case list's signals, handed to each piece (a `Copy` of signals).
#[derive(Clone, Copy)]
pub(super) struct CaseListState {
    // Filters, applied offline to the rows kept in memory (`listing::cases`, `ui::list::index`).
    pub(super) status: RwSignal<String>,
    pub(super) overdue: RwSignal<bool>,
    pub(super) mine: RwSignal<bool>,
    pub(super) text: RwSignal<String>,
    pub(super) category: RwSignal<String>,
    pub(super) grid: RwSignal<String>,
    pub(super) sort: RwSignal<Sort<CaseSort>>,
    pub(super) page: RwSignal<usize>,
    /// The home tiles' filters (my open cases, due within a day; see `home`), shown as chips.
    pub(super) open_only: RwSignal<bool>,
    pub(super) due_soon: RwSignal<bool>,
    /// The supervision queue: overdue cases escalated to the user's level (managers).
    pub(super) escalated: RwSignal<bool>,
    /// Until the index is built, the newest cases read straight from the device.
    pub(super) first: RwSignal<First<list::cases::Shown>>,
    /// The grids on the device (a manager's area has many), for the grid filter: from the rows'
    /// index, which has their names already (reading 1,200 grids with their boundaries from
    /// IndexedDB on every visit cost more than the list itself).
    pub(super) grids: Memo<Vec<(String, String)>>,
    /// The cases the filters select, in the order chosen (`None` until the index is built).
    pub(super) selected: Memo<Selected>,
    /// The list as it opens: newest first, nothing filtered (what the first page shows before
    /// the index is built).
    pub(super) plain: Signal<bool>,
    session: RwSignal<Option<Session>>,
}

impl CaseListState {
    /// The list unfiltered, or filtered as the link that opened it says: links from the map and
    /// the home tiles open it filtered (/cases?grid=<id>&overdue=1, /cases?mine=1&open=1,
    /// /cases?due=soon).
    pub(super) fn new() -> Self {
        let Ctx { sig, session, .. } = ctx();
        let status = RwSignal::new(String::new());
        let overdue = RwSignal::new(false);
        let mine = RwSignal::new(false);
        let text = RwSignal::new(String::new());
        let category = RwSignal::new(String::new());
        let grid = RwSignal::new(String::new());
        let sort = RwSignal::new(NEWEST);
        let page = RwSignal::new(0usize);
        let open_only = RwSignal::new(false);
        let due_soon = RwSignal::new(false);
        let query = leptos_router::hooks::use_query_map();
        query.with_untracked(|q| {
            if let Some(g) = q.get("grid") {
                grid.set(g);
            }
            let on = |k: &str, v: &str| q.get(k).is_some_and(|x| x == v);
            overdue.set(on("overdue", "1"));
            mine.set(on("mine", "1"));
            open_only.set(on("open", "1"));
            due_soon.set(on("due", "soon"));
        });
        let escalated = RwSignal::new(false);
        // Until the index is built, the newest cases are read straight from the device (first),
        // then the index is brought up to date.
        let first = list::page::first_page::<list::cases::Cases>();
        let ready = list::index::ready();
        let grids = Memo::new(move |_| {
            ready.track();
            list::index::with(|ix| ix.grids.entries())
        });
        let filter = Memo::new(move |_| {
            let some = |v: String| (!v.is_empty()).then_some(v);
            CaseQuery {
                status: Status::parse(&status.get()),
                grid: some(grid.get()),
                category: some(category.get()),
                overdue_only: overdue.get(),
                mine: mine
                    .get()
                    .then(|| session.with(|s| s.as_ref().map(|s| s.me.username.clone())))
                    .flatten(),
                queue: escalated.get().then(|| my_level(session)).flatten(),
                open_only: open_only.get(),
                due_soon: due_soon.get(),
                terms: Terms::parse(&text.get()),
            }
        });
        // A changed filter starts again at the first page.
        Effect::new(move |prev: Option<CaseQuery>| {
            let now = filter.get();
            if prev.is_some_and(|p| p != now) {
                page.set(0);
            }
            now
        });
        let selected = Memo::new(move |_| {
            if ready.get() == 0 {
                return None;
            }
            let (q, s) = (filter.get(), sort.get());
            sig.deadlines.with(|d| {
                list::index::with(|ix| {
                    let ids = select(&ix.cases.rows, &ix.grids, &ix.people, d, &q, s, now_ms());
                    Some((ix.epoch, ids, ix.live_cases))
                })
            })
        });
        let plain = Signal::derive(move || {
            filter.with(|q| *q == CaseQuery::default()) && sort.get() == NEWEST
        });
        Self {
            status,
            overdue,
            mine,
            text,
            category,
            grid,
            sort,
            page,
            open_only,
            due_soon,
            escalated,
            first,
            grids,
            selected,
            plain,
            session,
        }
    }

    /// The level of the user's supervision queue (managers only).
    pub(super) fn my_level(self) -> Option<Level> {
        my_level(self.session)
    }
}

fn my_level(session: RwSignal<Option<Session>>) -> Option<Level> {
    session.with(|s| {
        s.as_ref()
            .filter(|s| s.me.role.is_manager())
            .map(|s| s.me.role.level())
    })
}
