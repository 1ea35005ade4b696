//! One page of a list of the rows kept in memory ([`super::index`]): the count and the pager,
//! then a table with sortable headers on a wide screen or cards with a sort menu on a phone.
//! The case and visit lists are this page with their own columns ([`PagedRows`]).

use super::index::{self, ListIndex};
use super::{Pager, SortSelect};
use crate::listing::{page_range, Sort};
use crate::ui::layout::use_wide;
use leptos::prelude::*;

/// The rows a query selected: the index epoch the positions belong to, the positions in order,
/// and how many live records of the list the device holds (`None` until the index is built).
pub(crate) type Selected = Option<(u64, Vec<u32>, usize)>;

/// A kind of row a [`paged`] list draws.
pub(crate) trait PagedRows: 'static {
    /// A row on screen, with the names of what it refers to.
    type Shown: Clone + PartialEq + Send + Sync + 'static;
    /// The columns it sorts by.
    type Key: Copy + PartialEq + Send + Sync + 'static;
    /// `data-testid` of the count line.
    const COUNT_TESTID: &'static str;
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

/// The count, the pager and one page of the `selected` rows of kind `L`.
pub(crate) fn paged<L: PagedRows>(
    selected: Memo<Selected>,
    page: RwSignal<usize>,
    sort: RwSignal<Sort<L::Key>>,
) -> impl IntoView {
    let wide = use_wide();
    let matched = Signal::derive(move || selected.with(|s| s.as_ref().map_or(0, |s| s.1.len())));
    let total = Signal::derive(move || selected.with(|s| s.as_ref().map_or(0, |s| s.2)));
    let rows = Memo::new(move |_| {
        selected.with(|s| {
            let Some((epoch, ids, _)) = s else {
                return Vec::new();
            };
            let range = page_range(ids.len(), page.get());
            index::with(|ix| {
                if ix.epoch == *epoch {
                    L::shown(ix, &ids[range])
                } else {
                    Vec::new()
                }
            })
        })
    });
    view! {
        <Pager page matched total testid=L::COUNT_TESTID/>
        {move || if wide.get() {
            L::table(rows.get(), page, sort)
        } else {
            view! {
                <SortSelect sort page options=L::PHONE_SORTS/>
                {L::cards(rows.get())}
            }.into_any()
        }}
    }
}
