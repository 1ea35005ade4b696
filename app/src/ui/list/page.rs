//! One page of a list of the rows kept in memory ([`super::index`]): the count and the pager,
//! then a table with sortable headers on a wide screen or cards with a sort menu on a phone.
//! The case and visit lists are this page with their own columns ([`PagedRows`]).
//!
//! Until the index is built (a city's 55,000 rows, seconds after a reload), the list in its
//! default order (newest first, nothing filtered) shows its first page read straight from the
//! device ([`first_page`]), with the count; another order, a filter, a search or another page
//! waits for the index.

use super::index::{self, ListIndex};
use super::{history_note, Pager, SortSelect};
use crate::listing::{page_range, Sort};
use crate::ui::context::t;
use crate::ui::layout::use_wide;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::Collection;

/// The rows a query selected: the index epoch the positions belong to, the positions in order,
/// and how many live records of the list the device holds (`None` until the index is built).
pub(crate) type Selected = Option<(u64, Vec<u32>, usize)>;

/// The first page read before the index is built: its rows ready to draw, and how many live
/// records of the list the device holds.
pub(crate) type First<S> = Option<(Vec<S>, usize)>;

/// A kind of row a [`paged`] list draws.
pub(crate) trait PagedRows: 'static {
    /// A row on screen, with the names of what it refers to.
    type Shown: Clone + PartialEq + Send + Sync + 'static;
    /// The columns it sorts by.
    type Key: Copy + PartialEq + Send + Sync + 'static;
    /// `data-testid` of the count line.
    const COUNT_TESTID: &'static str;
    /// The records listed.
    const COLLECTION: Collection;
    /// How many rows of this kind `ix` holds (deleted ones included).
    fn len(ix: &ListIndex) -> usize;
    /// The orders a phone offers in its sort menu (a table sorts by its headers).
    const PHONE_SORTS: &'static [(Sort<Self::Key>, &'static str)];
    /// The rows at `positions` of the index, ready to draw.
    fn shown(ix: &ListIndex, positions: &[u32]) -> Vec<Self::Shown>;
    /// The page as a table with sortable headers.
    fn table(
        rows: Vec<Self::Shown>,
        page: RwSignal<usize>,
        sort: RwSignal<Sort<Self::Key>>,
    ) -> AnyView;
    /// The page as cards.
    fn cards(rows: Vec<Self::Shown>) -> AnyView;
}

/// Asks for the index to be brought up to date (`index::refresh`), and when it has not been
/// built yet, first reads the first page of the list of kind `L` from the device (`None` until
/// read, and for good once the index is built: the list then selects from it). The index is
/// asked for after that page is read and painted, so neither the page's few reads nor its
/// drawing wait behind the rows.
pub(crate) fn first_page<L: PagedRows>() -> RwSignal<First<L::Shown>> {
    let first = RwSignal::new(None);
    if index::ready().get_untracked() == 0 {
        spawn_local(async move {
            if let Some((ix, total)) = index::first_page(L::COLLECTION).await {
                let positions: Vec<u32> = (0..L::len(&ix))
                    .filter_map(|i| u32::try_from(i).ok())
                    .collect();
                if first
                    .try_set(Some((L::shown(&ix, &positions), total)))
                    .is_none()
                {
                    after_paint().await;
                }
            }
            index::refresh();
        });
    } else {
        index::refresh();
    }
    first
}

/// Until the next frame has been painted (at most 100 ms: no frames come in a hidden tab).
async fn after_paint() {
    let (painted, frame) = futures::channel::oneshot::channel::<()>();
    request_animation_frame(move || {
        let _ = painted.send(());
    });
    let limit = gloo_timers::future::TimeoutFuture::new(100);
    futures::future::select(frame, limit).await;
    // The frame's callbacks run before its paint; a task queued from them runs after it.
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// How many live records the list shows: from the index once built, else from the first page.
pub(crate) fn live_total<S: Send + Sync + 'static>(
    selected: Memo<Selected>,
    first: RwSignal<First<S>>,
) -> Option<usize> {
    selected
        .with(|s| s.as_ref().map(|s| s.2))
        .or_else(|| first.with(|f| f.as_ref().map(|f| f.1)))
}

/// The count, the pager and one page of the `selected` rows of kind `L`; before the index is
/// built, the `first` page when the list is `plain` (default order, nothing filtered) and on its
/// first page, else a loading line.
pub(crate) fn paged<L: PagedRows>(
    selected: Memo<Selected>,
    first: RwSignal<First<L::Shown>>,
    plain: Signal<bool>,
    page: RwSignal<usize>,
    sort: RwSignal<Sort<L::Key>>,
) -> impl IntoView {
    let wide = use_wide();
    // (rows matched, live rows on the device, the page's rows); `None`: not known yet.
    let shown = Memo::new(move |_| {
        selected.with(|s| match s {
            Some((epoch, ids, live)) => {
                let range = page_range(ids.len(), page.get());
                let rows = index::with(|ix| {
                    if ix.epoch == *epoch {
                        L::shown(ix, &ids[range])
                    } else {
                        Vec::new()
                    }
                });
                Some((ids.len(), *live, rows))
            }
            None if plain.get() && page.get() == 0 => {
                first.with(|f| f.as_ref().map(|(rows, live)| (*live, *live, rows.clone())))
            }
            None => None,
        })
    });
    let known = Memo::new(move |_| shown.with(Option::is_some));
    let matched = Signal::derive(move || shown.with(|s| s.as_ref().map_or(0, |s| s.0)));
    let total = Signal::derive(move || shown.with(|s| s.as_ref().map_or(0, |s| s.1)));
    // Drawn again only when the page's rows change (not when only the count does).
    let rows =
        Memo::new(move |_| shown.with(|s| s.as_ref().map(|s| s.2.clone()).unwrap_or_default()));
    view! {
        <Show when=move || known.get()
            fallback=|| view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }>
            <Pager page matched total testid=L::COUNT_TESTID/>
            {history_note()}
            {move || if wide.get() {
                L::table(rows.get(), page, sort)
            } else {
                view! {
                    <SortSelect sort page options=L::PHONE_SORTS/>
                    {L::cards(rows.get())}
                }.into_any()
            }}
        </Show>
    }
}
