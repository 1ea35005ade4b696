//! The users' section (`AdminUsers`): the form (`UserForm`) above the list of users (one page
//! at a time from the server, `ui::list::users`); a row's reset sets the password typed in the
//! form (`reset_password`).

use super::state::{password_ok, UsersState};
use super::token::token;
use super::user_form::UserForm;
use crate::api;
use crate::i18n::{trf, Lang};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::list::users::UserList;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::wire::UserSummary;

#[component]
pub(super) fn AdminUsers() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let state = UsersState::new();
    view! {
        <section>
            <h1>{t("admin.title")}</h1>
            <UserForm state=state/>
            <UserList reload=state.reload error=state.error
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
