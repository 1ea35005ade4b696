//! The admin's screens: users (create, change role and area — picked from the hierarchy —, reset
//! passwords, disable), the bulk import of users, and the grid import.
//!
//! `Admin` (here) is the page; the users' section is `users.rs` (`AdminUsers`: the list and
//! what it does) with its form (`user_form.rs`), both over `state::UsersState`. The token every
//! admin request carries is `token.rs`'s, shared with the two imports.

mod state;
mod token;
mod user_form;
mod users;

pub(super) use token::token;

use super::context::{ctx, t, Ctx};
use leptos::prelude::*;
use tongxin_shared::case::Role;
use users::AdminUsers;

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
