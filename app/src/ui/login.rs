//! Sign-in: the first screen a new device shows, in the first module a warden downloads (the
//! field screens load while the password is typed, see `lazy`).

use super::context::{ctx, t, Ctx};
use crate::i18n::{tr, trf};
use crate::sync::{client, sign_in, sign_out_remote, LoginError};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

/// Sign-in. Shown whenever nobody is signed in, and at /login to sign in again after a session
/// ended (the same user resumes syncing; another user gets their own local database).
#[component]
pub(super) fn Login() -> impl IntoView {
    let Ctx {
        lang, session, sig, ..
    } = ctx();
    let navigate = use_navigate();
    let username = RwSignal::new(
        session
            .get_untracked()
            .map(|s| s.me.username)
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move || {
        let (u, p) = (username.get_untracked(), password.get_untracked());
        let l = lang.get_untracked();
        if u.trim().is_empty() || p.is_empty() {
            error.set(Some(tr(l, "auth.error.missing")));
            return;
        }
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let result = sign_in(&u, &p).await;
            // Busy until the signed-in screen replaces this one (or the page reloads).
            match result {
                Ok(s) => {
                    let same = client().is_some_and(|c| c.me().username == s.me.username);
                    if same {
                        if let Some(c) = client() {
                            c.resume(s.clone());
                        }
                        busy.set(false);
                        session.set(Some(s));
                        navigate("/", NavigateOptions::default());
                    } else if client().is_none() {
                        // The page's first sign-in (nobody's sync runs here): this user's
                        // database and sync loop start in place, as a fresh page would start
                        // them (a reload cost a second start of the app). If they cannot, a
                        // fresh page tries and says why.
                        match super::lazy::start_sync(sig, s.clone()).await {
                            Ok(()) => {
                                session.set(Some(s));
                                navigate("/", NavigateOptions::default());
                            }
                            Err(_) => {
                                if let Some(w) = web_sys::window() {
                                    let _ = w.location().set_href("/");
                                }
                            }
                        }
                    } else {
                        // Another user signs in on this device: the previous user's tabs stop
                        // and their token is revoked (their unsent ops wait in their database).
                        if let Some(c) = client() {
                            c.close_live();
                            c.announce_sign_out();
                        }
                        if let Some(old) = session.get_untracked() {
                            sign_out_remote(&old.token).await;
                        }
                        // A fresh page starts this user's own database and sync loop.
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_href("/");
                        }
                    }
                }
                Err(e) => {
                    busy.set(false);
                    password.set(String::new());
                    let key = match e {
                        LoginError::BadCredentials => "auth.error.bad_credentials",
                        LoginError::RateLimited => "auth.error.rate_limited",
                        LoginError::Offline => "auth.error.offline",
                        LoginError::Other(m) => {
                            error.set(Some(trf(l, "auth.error.other", &[("e", &m)])));
                            return;
                        }
                    };
                    error.set(Some(tr(l, key)));
                }
            }
        });
    };
    view! {
        <section class="card login">
            <h1>{t("auth.title")}</h1>
            <form class="form" data-testid="login-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                <label>
                    <span>{t("auth.username")}</span>
                    <input name="username" type="text" autocomplete="username" autocapitalize="none" required
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>
                    <span>{t("auth.password")}</span>
                    <input name="password" type="password" autocomplete="current-password" required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="login-error">{m}</p> })}
                <button type="submit" class="primary" data-testid="login-submit" disabled=move || busy.get()>{t("auth.sign_in")}</button>
            </form>
            <p class="muted small">{t("auth.offline_note")}</p>
        </section>
    }
}
