//! The admin's screens: users (create, change role and area — picked from the hierarchy —, reset
//! passwords, disable), the bulk import of users, and the grid import.

use super::context::{ctx, t, Ctx};
use super::format::role_label;
use crate::api;
use crate::i18n::{tr, trf};
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::{Level, Role};
use tongxin_shared::wire::{UserSummary, UserUpsert, MIN_PASSWORD_CHARS};
use tongxin_shared::RecordId;

/// The signed-in admin's token, or the message to show when nobody is signed in.
pub(super) fn token() -> Result<String, String> {
    client()
        .map(|c| c.token())
        .ok_or_else(|| "not signed in".to_owned())
}

/// The places of a user's area at their role's level (a warden's grids, a community manager's
/// communities …); the levels above follow from them on the server.
fn area_of(u: &UserSummary) -> Vec<RecordId> {
    match u.role.level() {
        Level::Grid => u.grids.clone(),
        Level::Community => u.communities.clone(),
        Level::Subdistrict => u.subdistricts.clone(),
        Level::City => Vec::new(),
    }
}

/// Users and their areas, and the grid import (admin only; the server checks it too).
#[component]
pub(super) fn Admin() -> impl IntoView {
    let Ctx { session, .. } = ctx();
    let is_admin = move || session.with(|s| s.as_ref().is_some_and(|s| s.me.role == Role::Admin));
    view! {
        <Show when=is_admin fallback=|| view! {
            <section class="card"><p class="field-error" role="alert" data-testid="admin-forbidden">{t("admin.forbidden")}</p></section>
        }>
            <AdminUsers/>
            <super::user_import::UserImport/>
            <super::import::GridImport/>
        </Show>
    }
}

/// The password rule the server enforces, checked before asking it.
pub(super) fn password_ok(p: &str) -> bool {
    p.chars().count() >= MIN_PASSWORD_CHARS
}

#[component]
// reason: not split yet (issue 13): the user admin screen's list, form and area picker share their signals
#[allow(clippy::too_many_lines)]
pub(super) fn AdminUsers() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    // The list fetched last time (kept on the device) shows at once; the fetch below refreshes it.
    let session_copy = super::list::users::in_session();
    let from_device = session_copy.is_none();
    let users = RwSignal::new(session_copy.unwrap_or_default());
    let fetched = RwSignal::new(false);
    spawn_local(async move {
        if !from_device {
            return;
        }
        let kept = super::list::users::remembered().await;
        // Unless the fetch answered first.
        if fetched.try_get_untracked() == Some(false) {
            let _ = users.try_set(kept);
        }
    });
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new("warden".to_owned());
    let password = RwSignal::new(String::new());
    // The area at the role's level, picked from the hierarchy.
    let area = RwSignal::new(Vec::<RecordId>::new());
    let level = Signal::derive(move || Role::parse(&role.get()).map_or(Level::Grid, Role::level));
    let disabled = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            let listed = match token() {
                Ok(t) => api::users(&t).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match listed {
                Ok(list) => {
                    let _ = fetched.try_set(true);
                    let _ = users.try_set(list.clone());
                    super::list::users::remember(&list).await;
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    let clear = move || {
        editing.set(false);
        for s in [username, display_name, password] {
            s.set(String::new());
        }
        area.set(Vec::new());
        role.set("warden".into());
        disabled.set(false);
    };
    let submit = move || {
        error.set(None);
        notice.set(None);
        let l = lang.get_untracked();
        let Some(r) = Role::parse(&role.get_untracked()) else {
            return;
        };
        let picked = area.get_untracked();
        if r.level() != Level::City && picked.is_empty() {
            error.set(Some(tr(l, "admin.error.no_area")));
            return;
        }
        let (mut g, mut c, mut sd) = (Vec::new(), Vec::new(), Vec::new());
        match r.level() {
            Level::Grid => g = picked,
            Level::Community => c = picked,
            Level::Subdistrict => sd = picked,
            Level::City => {}
        }
        let is_edit = editing.get_untracked();
        if !is_edit && !password_ok(&password.get_untracked()) {
            error.set(Some(tr(l, "admin.error.password_short")));
            return;
        }
        let up = UserUpsert {
            username: username.get_untracked().trim().to_owned(),
            display_name: display_name.get_untracked().trim().to_owned(),
            role: r,
            grids: g,
            communities: c,
            subdistricts: sd,
            password: (!is_edit).then(|| password.get_untracked()),
            disabled: disabled.get_untracked(),
        };
        spawn_local(async move {
            let done = match token() {
                Ok(t) => api::save_user(&t, &up, !is_edit)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match done {
                Ok(()) => {
                    notice.set(Some(trf(l, "admin.saved", &[("u", &up.username)])));
                    clear();
                    reload();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let reset_password = move |u: String| {
        error.set(None);
        notice.set(None);
        let l = lang.get_untracked();
        let p = password.get_untracked();
        if !password_ok(&p) {
            error.set(Some(trf(
                l,
                "admin.error.reset_needs_password",
                &[("u", &u)],
            )));
            return;
        }
        spawn_local(async move {
            let done = match token() {
                Ok(t) => api::reset_password(&t, &u, &p)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match done {
                Ok(()) => notice.set(Some(trf(l, "admin.password_reset", &[("u", &u)]))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section>
            <h1>{t("admin.title")}</h1>
            <form class="form" data-testid="admin-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <label><span>{t("auth.username")}</span>
                    <input name="username" type="text" required readonly=move || editing.get()
                        prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.display_name")}</span>
                    <input name="display_name" type="text"
                        prop:value=move || display_name.get() on:input=move |ev| display_name.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.role")}</span>
                    <select name="role" on:change=move |ev| {
                        // Another level's places mean nothing for the new role.
                        let before = level.get_untracked();
                        role.set(event_target_value(&ev));
                        if level.get_untracked() != before { area.set(Vec::new()); }
                    }>
                        {Role::ALL.iter().map(|r| {
                            let r = *r;
                            view! { <option value=r.as_str() selected=move || role.get() == r.as_str()>{move || role_label(lang.get(), r)}</option> }
                        }).collect_view()}
                    </select></label>
                <label><span>{t("auth.password")}</span>
                    <input name="password" type="password" autocomplete="new-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
                <super::area_picker::AreaPicker level=level selected=area/>
                <label class="check"><input name="disabled" type="checkbox" prop:checked=move || disabled.get()
                    on:change=move |ev| disabled.set(event_target_checked(&ev))/><span>{t("admin.disabled")}</span></label>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                {move || notice.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
                <button type="submit" class="primary">{move || if editing.get() { tr(lang.get(), "admin.update") } else { tr(lang.get(), "admin.create") }}</button>
                <Show when=move || editing.get()>
                    <button type="button" on:click=move |_| clear()>{t("auth.logout.cancel")}</button>
                </Show>
            </form>
            <super::list::users::UserList users
                edit=Callback::new(move |u: UserSummary| {
                    area.set(area_of(&u));
                    editing.set(true);
                    username.set(u.username);
                    display_name.set(u.display_name);
                    role.set(u.role.as_str().to_owned());
                    disabled.set(u.disabled);
                })
                reset=Callback::new(reset_password)/>
        </section>
    }
}
