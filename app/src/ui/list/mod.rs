//! Lists at city scale, the screen part: the rows kept in memory ([`index`]), and the pieces
//! every long list is made of — a search box that waits for the typing to pause, sortable column
//! headers, the count with the page shown, and the pager. The case and visit lists are one paged
//! list ([`page`]) with their own columns ([`cases`], [`visits`]); the user list ([`users`]) is
//! the admin's. Each draws one page: cards on a phone, a table on a wide screen (`super::layout`). What matches and in what order is `crate::listing`'s (pure, tested natively).

pub(crate) mod cases;
pub(crate) mod index;
pub(crate) mod page;
pub(crate) mod users;
pub(crate) mod visits;

use crate::i18n::{tr, trf};
use crate::listing::{page_count, page_range, Sort};
use crate::ui::context::{ctx, profile, t, Ctx};
use leptos::prelude::*;
use tongxin_shared::profile::{Profile, CASE_DAYS, VISIT_DAYS};

/// On a summary-profile device (subdistrict and city managers), a muted line under a list of
/// cases or visits: closed cases and visits past the profile's days are not on the device
/// (`shared::profile`), and the figures count them all the same (from the summaries).
pub(crate) fn history_note() -> impl IntoView {
    let lang = ctx().lang;
    (profile() == Profile::Summary).then(|| {
        let text = move || {
            trf(
                lang.get(),
                "profile.history_note",
                &[
                    ("cases", &CASE_DAYS.to_string()),
                    ("visits", &VISIT_DAYS.to_string()),
                ],
            )
        };
        view! { <p class="muted small" data-testid="history-note">{text}</p> }
    })
}

/// How long the search waits after the last keystroke.
const DEBOUNCE_MS: u32 = 200;

/// A search box: `query` follows what is typed once the typing pauses (so a city's rows are
/// searched once per pause, not once per keystroke); the page goes back to the first.
#[component]
pub(crate) fn SearchBox(
    query: RwSignal<String>,
    page: RwSignal<usize>,
    /// The locale key of the box's label and placeholder.
    label: &'static str,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let typed = RwSignal::new(query.get_untracked());
    let timer = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
    let on_input = move |ev| {
        let text = event_target_value(&ev);
        typed.set(text.clone());
        // Dropping the previous timeout cancels it.
        timer.set_value(Some(gloo_timers::callback::Timeout::new(
            DEBOUNCE_MS,
            move || {
                let _ = query.try_set(text);
                let _ = page.try_set(0);
            },
        )));
    };
    view! {
        <input name="q" type="search" data-testid="list-search"
            aria-label=move || tr(lang.get(), label) placeholder=move || tr(lang.get(), label)
            prop:value=move || typed.get() on:input=on_input/>
    }
}

/// A sortable column's header: a button that sorts by it (again: the other way), with
/// `aria-sort` telling a screen reader the current order.
#[component]
pub(crate) fn SortTh<K: Copy + PartialEq + Send + Sync + 'static>(
    sort: RwSignal<Sort<K>>,
    page: RwSignal<usize>,
    column: K,
    /// The first click's direction (newest first for times).
    natural_desc: bool,
    label: &'static str,
    /// Names the column for tests: `data-sort=<name>`.
    name: &'static str,
) -> impl IntoView {
    let state = move || {
        let s = sort.get();
        match (s.key == column, s.desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        }
    };
    view! {
        <th scope="col" aria-sort=state>
            <button type="button" class="sort" data-sort=name data-state=state
                on:click=move |_| { sort.update(|s| *s = s.toggled(column, natural_desc)); page.set(0); }>
                {t(label)}
                <span class="sort-mark" aria-hidden="true">{move || match state() {
                    "descending" => "▼",
                    "ascending" => "▲",
                    _ => "",
                }}</span>
            </button>
        </th>
    }
}

/// The count ("共 8,405 条 · 第 1–50 条") and the pager. `data-shown` is how many rows match,
/// `data-total` how many the device holds, `data-from`/`data-to` the rows on this page.
#[component]
pub(crate) fn Pager(
    page: RwSignal<usize>,
    matched: Signal<usize>,
    total: Signal<usize>,
    /// `data-testid` of the count line (tests wait on its attributes).
    testid: &'static str,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let range = move || page_range(matched.get(), page.get());
    let pages = move || page_count(matched.get());
    let current = move || page.get().min(pages() - 1);
    let summary = move || {
        let r = range();
        let (n, all) = (matched.get(), total.get());
        let key = match (n == all, r.is_empty()) {
            (_, true) => "list.none_shown",
            (true, false) => "list.count",
            (false, false) => "list.count_filtered",
        };
        trf(
            lang.get(),
            key,
            &[
                ("n", &group(n)),
                ("total", &group(all)),
                ("from", &group(r.start + 1)),
                ("to", &group(r.end)),
            ],
        )
    };
    let go = move |to: usize| {
        page.set(to);
        // Back to the top of the list, where the new page starts.
        if let Some(w) = web_sys::window() {
            w.scroll_to_with_x_and_y(0.0, 0.0);
        }
    };
    view! {
        <div class="pager">
            <p class="muted small count" role="status" data-testid=testid
                data-shown=move || matched.get().to_string() data-total=move || total.get().to_string()
                data-from=move || (range().start + 1).min(range().end).to_string() data-to=move || range().end.to_string()>
                {summary}
            </p>
            <Show when=move || { pages() > 1 }>
                <nav class="pages" aria-label=move || tr(lang.get(), "list.pages")>
                    <button type="button" data-testid="page-prev" disabled=move || current() == 0
                        on:click=move |_| go(current().saturating_sub(1))>{t("list.prev")}</button>
                    <span class="small" data-testid="page-at" data-page=move || (current() + 1).to_string()>
                        {move || trf(lang.get(), "list.page", &[("p", &(current() + 1).to_string()), ("of", &group(pages()))])}
                    </span>
                    <button type="button" data-testid="page-next" disabled=move || { current() + 1 >= pages() }
                        on:click=move |_| go(current() + 1)>{t("list.next")}</button>
                </nav>
            </Show>
        </div>
    }
}

/// 8405 → "8,405".
pub(crate) fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A phone's sort menu (a table sorts by its column headers instead).
#[component]
pub(crate) fn SortSelect<K: Copy + PartialEq + Send + Sync + 'static>(
    sort: RwSignal<Sort<K>>,
    page: RwSignal<usize>,
    /// The orders offered, each with its locale key.
    options: &'static [(Sort<K>, &'static str)],
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let on_change = move |ev| {
        let chosen = event_target_value(&ev)
            .parse::<usize>()
            .ok()
            .and_then(|i| options.get(i));
        if let Some((s, _)) = chosen {
            sort.set(*s);
            page.set(0);
        }
    };
    view! {
        <label class="sort-select">
            <span>{t("list.sort")}</span>
            <select name="sort" data-testid="list-sort" on:change=on_change>
                {options.iter().enumerate().map(|(i, (s, key))| {
                    let s = *s;
                    view! { <option value=i.to_string() selected=move || sort.get() == s>{move || tr(lang.get(), key)}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}
