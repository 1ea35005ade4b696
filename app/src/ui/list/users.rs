//! The administrator's user list: searched by name, username, role and area, filtered by role,
//! sorted by name, username, role and area,
//! one page at a time — all of it by the server (`GET /api/v1/admin/users`, through
//! `api::users`), so the first page shows as soon as one page arrives, however many users there
//! are; a table on a wide screen, cards on a phone. The first page of the unsearched list is
//! kept on the device and shown at once on the next visit, while the server's answer is awaited.

use super::{Pager, SearchBox, SortSelect, SortTh};
use crate::api;
use crate::i18n::{tr, trf};
use crate::listing::users::{query, UserRow, UserSort, BY_USERNAME};
use crate::listing::Sort;
use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::admin::token;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::role_label;
use crate::ui::layout::use_wide;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use tongxin_shared::case::Role;
use tongxin_shared::userlist::{UserPage, UserQuery};
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

/// Where the device keeps the first page of the unsearched list (the admin's own database, as
/// the people directory): the screen shows it at once, even after a reload, while the server
/// is asked again.
const META_USERS: &str = "admin_users_page";

thread_local! {
    /// The first page last fetched in this session (saves decoding the kept copy again).
    static FIRST_PAGE: RefCell<Option<UserPage>> = const { RefCell::new(None) };
}

/// The first page last fetched in this session, if any.
fn in_session() -> Option<UserPage> {
    FIRST_PAGE.with(|u| u.borrow().clone())
}

/// The first page last fetched: this session's, else the copy kept on the device.
async fn remembered() -> Option<UserPage> {
    if let Some(page) = in_session() {
        return Some(page);
    }
    let text = client()?.store.meta_get(META_USERS).await.ok().flatten()?;
    let page: UserPage = serde_json::from_str(&text).ok()?;
    FIRST_PAGE.with(|u| *u.borrow_mut() = Some(page.clone()));
    Some(page)
}

/// Keeps the first page just fetched for the next visit to the screen (and the next session).
async fn remember(page: &UserPage) {
    FIRST_PAGE.with(|u| *u.borrow_mut() = Some(page.clone()));
    if let (Some(c), Ok(text)) = (client(), serde_json::to_string(page)) {
        // A copy that could not be kept only costs the next visit a wait.
        let _ = c.store.meta_set(META_USERS, &text).await;
    }
}

/// The list with its search, sort and pages. `reload` asks the server again (after a save);
/// `error` shows why it could not be asked; `edit` and `reset` are the row's buttons (change
/// role and area; set the password typed above).
#[component]
pub(crate) fn UserList(
    reload: RwSignal<u64>,
    error: RwSignal<Option<String>>,
    edit: Callback<UserSummary>,
    reset: Callback<String>,
) -> impl IntoView {
    let wide = use_wide();
    let state = UserListState::new(reload, error);
    let UserListState {
        text,
        role,
        page,
        matched,
        total,
        busy,
        answered,
        rows,
        ..
    } = state;
    let actions = RowActions { edit, reset };
    view! {
        <div class="list-screen" data-testid="admin-users" aria-busy=move || busy.get().to_string()
            data-q=move || answered.get()>
            <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                <SearchBox query=text page label="admin.search"/>
                <RoleFilter role page/>
            </form>
            <Pager page matched total testid="users-count"/>
            {move || {
                let rows = rows.get();
                if wide.get() {
                    view! { <UserTable state rows actions/> }.into_any()
                } else {
                    view! { <UserCards state rows actions/> }.into_any()
                }
            }}
        </div>
    }
}

/// Only the users of one role (or all).
#[component]
fn RoleFilter(role: RwSignal<Option<Role>>, page: RwSignal<usize>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <select name="role" data-testid="users-role" aria-label=move || tr(lang.get(), "admin.role")
            on:change=move |ev| { role.set(Role::parse(&event_target_value(&ev))); page.set(0); }>
            <option value="">{t("admin.all_roles")}</option>
            {Role::ALL.iter().map(|r| {
                let r = *r;
                view! { <option value=r.as_str()>{move || role_label(lang.get(), r)}</option> }
            }).collect_view()}
        </select>
    }
}

/// What the user list's pieces share: the search, role, sort and page asked for, and the
/// server's answer to the latest of them.
#[derive(Clone, Copy)]
struct UserListState {
    text: RwSignal<String>,
    role: RwSignal<Option<Role>>,
    sort: RwSignal<Sort<UserSort>>,
    page: RwSignal<usize>,
    /// The page shown (the kept first page until the server answers).
    answer: RwSignal<Option<UserPage>>,
    /// The search text of the answer shown (`data-q`, for tests).
    answered: RwSignal<String>,
    /// A query is on its way.
    busy: RwSignal<bool>,
    /// The rows of the page shown, their areas named.
    rows: Memo<Vec<UserRow>>,
    /// Users matching the search; users in all.
    matched: Signal<usize>,
    total: Signal<usize>,
}

impl UserListState {
    fn new(reload: RwSignal<u64>, error: RwSignal<Option<String>>) -> Self {
        let answer = RwSignal::new(in_session());
        if answer.with_untracked(Option::is_none) {
            spawn_local(async move {
                let kept = remembered().await;
                // Unless the server answered first.
                if answer.try_with_untracked(Option::is_none) == Some(true) {
                    let _ = answer.try_set(kept);
                }
            });
        }
        let count = move |f: fn(&UserPage) -> u64| {
            Signal::derive(move || {
                answer.with(|a| a.as_ref().map_or(0, |p| usize::try_from(f(p)).unwrap_or(0)))
            })
        };
        let state = Self {
            text: RwSignal::new(String::new()),
            role: RwSignal::new(None),
            sort: RwSignal::new(BY_USERNAME),
            page: RwSignal::new(0usize),
            answer,
            answered: RwSignal::new(String::new()),
            busy: RwSignal::new(true),
            rows: Memo::new(move |_| {
                answer.with(|a| a.as_ref().map(UserRow::of_page).unwrap_or_default())
            }),
            matched: count(|p| p.total),
            total: count(|p| p.all),
        };
        state.follow(reload, error);
        state
    }

    /// Asks the server for the page the search, sort and page say (again when `reload`
    /// changes); an answer to a query since replaced is dropped.
    fn follow(self, reload: RwSignal<u64>, error: RwSignal<Option<String>>) {
        let Self {
            text,
            role,
            sort,
            page,
            answer,
            answered,
            busy,
            ..
        } = self;
        let asked = StoredValue::new(0u64);
        Effect::new(move |_| {
            reload.track();
            let searched = text.get();
            let q = query(&searched, role.get(), sort.get(), page.get());
            let n = asked.get_value() + 1;
            asked.set_value(n);
            busy.set(true);
            spawn_local(async move {
                let got = match token() {
                    Ok(t) => api::users(&t, &q).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                if asked.try_get_value() != Some(n) {
                    return;
                }
                let _ = busy.try_set(false);
                match got {
                    Ok(found) => {
                        let keep = (q == UserQuery::default()).then(|| found.clone());
                        let _ = answered.try_set(searched);
                        let _ = answer.try_set(Some(found));
                        if let Some(first) = keep {
                            remember(&first).await;
                        }
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(e));
                    }
                }
            });
        });
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
