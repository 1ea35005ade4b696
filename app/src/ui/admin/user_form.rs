//! The user form (`UserForm`): login, name, role, password, the area at the role's level
//! (`AreaPicker`), disabled; it creates a user or saves the one being edited (`submit_user`).

use super::state::{password_ok, UsersState};
use super::token::token;
use crate::api;
use crate::i18n::{tr, trf, Lang};
use crate::ui::area_picker::AreaPicker;
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::role_label;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::{Level, Role};
use tongxin_shared::wire::UserUpsert;

/// The form, its error or notice, and Create / Update (with Cancel while editing).
#[component]
pub(super) fn UserForm(state: UsersState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let UsersState {
        error,
        notice,
        editing,
        username,
        display_name,
        password,
        area,
        level,
        disabled,
        ..
    } = state;
    view! {
        <form class="form" data-testid="admin-form" on:submit=move |ev| { ev.prevent_default(); submit_user(state, lang.get_untracked()); }>
            <label><span>{t("auth.username")}</span>
                <input name="username" type="text" required readonly=move || editing.get()
                    prop:value=move || username.get() on:input=move |ev| username.set(event_target_value(&ev))/></label>
            <label><span>{t("admin.display_name")}</span>
                <input name="display_name" type="text"
                    prop:value=move || display_name.get() on:input=move |ev| display_name.set(event_target_value(&ev))/></label>
            <RoleField state=state/>
            <label><span>{t("auth.password")}</span>
                <input name="password" type="password" autocomplete="new-password"
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/></label>
            <AreaPicker level=level selected=area/>
            <label class="check"><input name="disabled" type="checkbox" prop:checked=move || disabled.get()
                on:change=move |ev| disabled.set(event_target_checked(&ev))/><span>{t("admin.disabled")}</span></label>
            {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            {move || notice.get().map(|m| view! { <p class="ok" role="status">{m}</p> })}
            <button type="submit" class="primary">{move || if editing.get() { tr(lang.get(), "admin.update") } else { tr(lang.get(), "admin.create") }}</button>
            <Show when=move || editing.get()>
                <button type="button" on:click=move |_| state.clear()>{t("auth.logout.cancel")}</button>
            </Show>
        </form>
    }
}

/// The role select; a role at another level forgets the places picked.
#[component]
fn RoleField(state: UsersState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let UsersState {
        role, area, level, ..
    } = state;
    view! {
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
    }
}

/// Creates the user (with the password, which must follow the rule) or saves the one being
/// edited; then the form is cleared and the list refetched. A role below the city needs an area.
fn submit_user(state: UsersState, l: Lang) {
    let UsersState {
        error,
        notice,
        editing,
        username,
        display_name,
        role,
        password,
        area,
        disabled,
        ..
    } = state;
    error.set(None);
    notice.set(None);
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
                state.clear();
                state.reload();
            }
            Err(e) => error.set(Some(e)),
        }
    });
}
