//! The admin's screens: users (create, change role and area, reset passwords, disable) and the
//! calls to the admin API.

use super::context::{ctx, t, Ctx};
use super::format::role_label;
use crate::api;
use crate::i18n::{tr, trf};
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::Role;
use tongxin_shared::wire::{UserSummary, UserUpsert, MIN_PASSWORD_CHARS};
use tongxin_shared::RecordId;

/// The signed-in admin's token, or the message to show when nobody is signed in.
pub(super) fn token() -> Result<String, String> {
    client()
        .map(|c| c.token())
        .ok_or_else(|| "not signed in".to_owned())
}

pub(super) fn parse_ids(text: &str) -> Result<Vec<RecordId>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| RecordId::parse(s).map_err(|_| format!("'{s}'")))
        .collect()
}

pub(super) fn join_ids(ids: &[RecordId]) -> String {
    ids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
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
            <super::import::GridImport/>
        </Show>
    }
}

/// The password rule the server enforces, checked before asking it.
pub(super) fn password_ok(p: &str) -> bool {
    p.chars().count() >= MIN_PASSWORD_CHARS
}

#[component]
pub(super) fn AdminUsers() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    // The list fetched last time shows at once; the fetch below refreshes it.
    let users = RwSignal::new(super::list::users::remembered());
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(false);
    let username = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let role = RwSignal::new("warden".to_owned());
    let password = RwSignal::new(String::new());
    let grids = RwSignal::new(String::new());
    let communities = RwSignal::new(String::new());
    let subdistricts = RwSignal::new(String::new());
    let disabled = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            let listed = match token() {
                Ok(t) => api::users(&t).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            match listed {
                Ok(list) => {
                    super::list::users::remember(&list);
                    users.set(list);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    reload();
    let clear = move || {
        editing.set(false);
        for s in [
            username,
            display_name,
            password,
            grids,
            communities,
            subdistricts,
        ] {
            s.set(String::new());
        }
        role.set("warden".into());
        disabled.set(false);
    };
    let submit = move || {
        error.set(None);
        notice.set(None);
        let l = lang.get_untracked();
        let ids = |s: RwSignal<String>| parse_ids(&s.get_untracked());
        let (g, c, sd) = match (ids(grids), ids(communities), ids(subdistricts)) {
            (Ok(g), Ok(c), Ok(sd)) => (g, c, sd),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                error.set(Some(trf(l, "admin.error.bad_id", &[("e", &e)])));
                return;
            }
        };
        let Some(r) = Role::parse(&role.get_untracked()) else {
            return;
        };
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
                    <select name="role" on:change=move |ev| role.set(event_target_value(&ev))>
                        {Role::ALL.iter().map(|r| {
                            let r = *r;
                            view! { <option value=r.as_str() selected=move || role.get() == r.as_str()>{move || role_label(lang.get(), r)}</option> }
                        }).collect_view()}
                    </select></label>
                <label><span>{t("auth.password")}</span>
                    <input name="password" type="password" autocomplete="new-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
                <label><span>{t("admin.grids")}</span>
                    <textarea name="grids" rows="2" prop:value=move || grids.get() on:input=move |ev| grids.set(event_target_value(&ev))></textarea></label>
                <label><span>{t("admin.communities")}</span>
                    <textarea name="communities" rows="2" prop:value=move || communities.get() on:input=move |ev| communities.set(event_target_value(&ev))></textarea></label>
                <label><span>{t("admin.subdistricts")}</span>
                    <textarea name="subdistricts" rows="2" prop:value=move || subdistricts.get() on:input=move |ev| subdistricts.set(event_target_value(&ev))></textarea></label>
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
                    editing.set(true);
                    username.set(u.username);
                    display_name.set(u.display_name);
                    role.set(u.role.as_str().to_owned());
                    grids.set(join_ids(&u.grids));
                    communities.set(join_ids(&u.communities));
                    subdistricts.set(join_ids(&u.subdistricts));
                    disabled.set(u.disabled);
                })
                reset=Callback::new(reset_password)/>
        </section>
    }
}
