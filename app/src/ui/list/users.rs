//! The administrator's user list: searched by name, username, role and area, sorted by those,
//! one page at a time; a table on a wide screen, cards on a phone.

use super::{index, Pager, SearchBox, SortSelect, SortTh};
use crate::i18n::trf;
use crate::listing::users::{select, UserRow, UserSort, BY_USERNAME};
use crate::listing::{page_range, Sort, Terms};
use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::role_label;
use crate::ui::layout::use_wide;
use leptos::prelude::*;
use std::cell::RefCell;
use tongxin_shared::wire::UserSummary;

const PHONE_SORTS: [(Sort<UserSort>, &str); 4] = [
    (BY_USERNAME, "list.sort.username"),
    (
        Sort {
            key: UserSort::Name,
            desc: false,
        },
        "list.sort.name",
    ),
    (
        Sort {
            key: UserSort::Role,
            desc: false,
        },
        "list.sort.role",
    ),
    (
        Sort {
            key: UserSort::Area,
            desc: false,
        },
        "list.sort.area",
    ),
];

/// Where the device keeps the last user list fetched (the admin's own database, as the people
/// directory): the screen shows it at once, even after a reload, while the fetch refreshes it.
const META_USERS: &str = "admin_users";

thread_local! {
    /// The last user list fetched in this session (saves decoding the kept copy again).
    static USERS: RefCell<Option<Vec<UserSummary>>> = const { RefCell::new(None) };
}

/// The user list last fetched in this session, if any.
pub(crate) fn in_session() -> Option<Vec<UserSummary>> {
    USERS.with(|u| u.borrow().clone())
}

/// The user list last fetched: this session's, else the copy kept on the device (empty before
/// the first fetch on this device).
pub(crate) async fn remembered() -> Vec<UserSummary> {
    if let Some(list) = in_session() {
        return list;
    }
    let Some(c) = client() else {
        return Vec::new();
    };
    let kept = c.store.meta_get(META_USERS).await.ok().flatten();
    let list: Vec<UserSummary> = kept
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    USERS.with(|u| *u.borrow_mut() = Some(list.clone()));
    list
}

/// Keeps the user list just fetched for the next visit to the screen (and the next session).
pub(crate) async fn remember(list: &[UserSummary]) {
    USERS.with(|u| *u.borrow_mut() = Some(list.to_vec()));
    if let (Some(c), Ok(text)) = (client(), serde_json::to_string(list)) {
        // A copy that could not be kept only costs the next visit a fetch.
        let _ = c.store.meta_set(META_USERS, &text).await;
    }
}

/// The list of `users` with its search, sort and pages. `edit` and `reset` are the row's
/// buttons (change role and area; set the password typed above).
#[component]
pub(crate) fn UserList(
    users: RwSignal<Vec<UserSummary>>,
    edit: Callback<UserSummary>,
    reset: Callback<String>,
) -> impl IntoView {
    let wide = use_wide();
    let state = UserListState::new(users);
    let UserListState {
        text,
        page,
        matched,
        total,
        ..
    } = state;
    let actions = RowActions { edit, reset };
    view! {
        <div class="list-screen" data-testid="admin-users">
            <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                <SearchBox query=text page label="admin.search"/>
            </form>
            <Pager page matched total testid="users-count"/>
            {move || {
                let rows = state.shown();
                if wide.get() {
                    view! { <UserTable state rows actions/> }.into_any()
                } else {
                    view! { <UserCards state rows actions/> }.into_any()
                }
            }}
        </div>
    }
}

/// What the user list's pieces share: the search, sort and page, and the rows they select.
#[derive(Clone, Copy)]
struct UserListState {
    text: RwSignal<String>,
    sort: RwSignal<Sort<UserSort>>,
    page: RwSignal<usize>,
    /// A row per user, with their area named.
    rows: Memo<Vec<UserRow>>,
    /// The positions of the rows that match, in order.
    selected: Memo<Vec<u32>>,
    matched: Signal<usize>,
    total: Signal<usize>,
}

impl UserListState {
    fn new(users: RwSignal<Vec<UserSummary>>) -> Self {
        let text = RwSignal::new(String::new());
        let sort = RwSignal::new(BY_USERNAME);
        let page = RwSignal::new(0usize);
        // Areas are named from the places' rows kept in memory (`index`; an admin's first sync
        // brings the hierarchy), never by decoding grids with their boundaries.
        index::refresh();
        let ready = index::ready();
        // Rows are rebuilt when the users or the place names change, not per keystroke.
        let rows = Memo::new(move |_| {
            ready.track();
            index::with(|ix| {
                users.with(|list| {
                    list.iter()
                        .cloned()
                        .map(|u| UserRow::new(u, |id| ix.areas.get(id).cloned()))
                        .collect::<Vec<_>>()
                })
            })
        });
        let selected = Memo::new(move |_| {
            let (terms, s) = (Terms::parse(&text.get()), sort.get());
            rows.with(|r| select(r, &terms, s))
        });
        Self {
            text,
            sort,
            page,
            rows,
            selected,
            matched: Signal::derive(move || selected.with(Vec::len)),
            total: Signal::derive(move || rows.with(Vec::len)),
        }
    }

    /// The rows of the page shown (tracked: drawn again when they change).
    fn shown(self) -> Vec<UserRow> {
        let range = page_range(self.matched.get(), self.page.get());
        self.selected.with(|ids| {
            self.rows.with(|r| {
                ids[range]
                    .iter()
                    .filter_map(|i| r.get(*i as usize).cloned())
                    .collect::<Vec<_>>()
            })
        })
    }
}

/// A row's buttons: change role and area; set the password typed above.
#[derive(Clone, Copy)]
struct RowActions {
    edit: Callback<UserSummary>,
    reset: Callback<String>,
}

impl RowActions {
    fn buttons(self, user: &UserSummary) -> impl IntoView {
        let Self { edit, reset } = self;
        let for_edit = user.clone();
        let for_reset = user.username.clone();
        view! {
            <button type="button" data-testid="admin-edit" on:click=move |_| edit.run(for_edit.clone())>{t("admin.edit")}</button>
            <button type="button" on:click=move |_| reset.run(for_reset.clone())>{t("admin.reset_password")}</button>
        }
    }
}

/// The user's "disabled" tag, if they are.
fn disabled_tag(user: &UserSummary) -> impl IntoView {
    user.disabled
        .then(|| view! { <span class="tag">{t("admin.disabled")}</span> })
}

/// The page as a table with sortable headers (a wide screen).
#[component]
fn UserTable(state: UserListState, rows: Vec<UserRow>, actions: RowActions) -> impl IntoView {
    let UserListState { sort, page, .. } = state;
    view! {
        <div class="table-wrap">
            <table class="table list-table" data-testid="users-table">
                <thead>
                    <tr>
                        <SortTh sort page column=UserSort::Username natural_desc=false label="auth.username" name="username"/>
                        <SortTh sort page column=UserSort::Name natural_desc=false label="admin.display_name" name="name"/>
                        <SortTh sort page column=UserSort::Role natural_desc=false label="admin.role" name="role"/>
                        <SortTh sort page column=UserSort::Area natural_desc=false label="list.col.area" name="area"/>
                        <th scope="col">{t("list.col.state")}</th>
                        <th scope="col">{t("list.col.actions")}</th>
                    </tr>
                </thead>
                <tbody>{rows.into_iter().map(|r| user_row(r, actions)).collect_view()}</tbody>
            </table>
        </div>
    }
}

/// A user as a table row.
fn user_row(row: UserRow, actions: RowActions) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let UserRow { user, area, .. } = row;
    let role = user.role;
    let name = user.username.clone();
    let buttons = actions.buttons(&user);
    let disabled = disabled_tag(&user);
    view! {
        <tr data-testid="admin-user" data-username=name data-role=role.as_str()>
            <td class="nowrap">{user.username}</td>
            <td class="nowrap">{user.display_name}</td>
            <td class="nowrap">{move || role_label(lang.get(), role)}</td>
            <td class="area" data-testid="admin-user-area">{area}</td>
            <td class="nowrap">{disabled}</td>
            <td class="nowrap actions-cell">{buttons}</td>
        </tr>
    }
}

/// The page as cards with a sort menu (a phone).
#[component]
fn UserCards(state: UserListState, rows: Vec<UserRow>, actions: RowActions) -> impl IntoView {
    let UserListState { sort, page, .. } = state;
    view! {
        <SortSelect sort page options=&PHONE_SORTS/>
        <ul class="list">{rows.into_iter().map(|r| user_card(r, actions)).collect_view()}</ul>
    }
}

/// A user as a card: name, role, how many places of each level, area, buttons.
fn user_card(row: UserRow, actions: RowActions) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let UserRow { user, area, .. } = row;
    let role = user.role;
    let counts = (
        user.grids.len(),
        user.communities.len(),
        user.subdistricts.len(),
    );
    let name = user.username.clone();
    let buttons = actions.buttons(&user);
    let disabled = disabled_tag(&user);
    view! {
        <li class="item" data-testid="admin-user" data-username=name data-role=role.as_str()>
            <span class="item-title">{format!("{} · {}", user.username, user.display_name)}</span>
            <span class="item-meta">
                {move || role_label(lang.get(), role)}
                {move || trf(lang.get(), "admin.area", &[("g", &counts.0.to_string()), ("c", &counts.1.to_string()), ("s", &counts.2.to_string())])}
                {disabled}
            </span>
            <span class="item-meta" data-testid="admin-user-area">{area}</span>
            {buttons}
        </li>
    }
}
