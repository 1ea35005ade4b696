//! The users' section (`AdminUsers`): the form (`UserForm`) above the list of users, which
//! shows the list kept on the device at once and the server's when it arrives; a row's reset
//! sets the password typed in the form (`reset_password`).

use super::state::{password_ok, UsersState};
use super::token::token;
use super::user_form::UserForm;
use crate::api;
use crate::i18n::{trf, Lang};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::list::users::{in_session, remembered, UserList};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::wire::UserSummary;

#[component]
pub(super) fn AdminUsers() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    // The list fetched last time (kept on the device) shows at once; the fetch below refreshes it.
    let session_copy = in_session();
    let from_device = session_copy.is_none();
    let state = UsersState::new(session_copy.unwrap_or_default());
    let UsersState { users, fetched, .. } = state;
    spawn_local(async move {
        if !from_device {
            return;
        }
        let kept = remembered().await;
        // Unless the fetch answered first.
        if fetched.try_get_untracked() == Some(false) {
            let _ = users.try_set(kept);
        }
    });
    state.reload();
    view! {
        <section>
            <h1>{t("admin.title")}</h1>
            <UserForm state=state/>
            <UserList users
                edit=Callback::new(move |u: UserSummary| state.edit(u))
                reset=Callback::new(move |u: String| reset_password(state, u, lang.get_untracked()))/>
        </section>
    }
}

/// Sets user `u`'s password to the one typed in the form (which must follow the rule).
fn reset_password(state: UsersState, u: String, l: Lang) {
    let UsersState {
        error,
        notice,
        password,
        ..
    } = state;
    error.set(None);
    notice.set(None);
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
}
