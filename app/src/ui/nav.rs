//! The main tabs under the header: the screens a role uses, the current one marked
//! (`aria-current="page"`, styled), on one line at 390 px in both languages (the row scrolls
//! sideways when a manager's tabs do not fit).

use super::context::t;
use crate::views::nav::is_current;
use leptos::prelude::*;
use leptos_router::hooks::use_location;
use tongxin_shared::case::Role;

/// A tab: where it goes, its label key, and extra classes.
struct Tab {
    href: &'static str,
    label: &'static str,
    class: &'static str,
}

const fn tab(href: &'static str, label: &'static str) -> Tab {
    Tab {
        href,
        label,
        class: "",
    }
}

/// The tabs `role` is offered, in order.
fn tabs(role: Role) -> Vec<Tab> {
    let mut out = vec![
        tab("/", "nav.home"),
        tab("/cases", "nav.cases"),
        tab("/visits", "nav.visits"),
        tab("/activities", "nav.activities"),
        Tab {
            href: "/cases/new",
            label: "nav.new_case",
            class: "primary",
        },
    ];
    if role.is_manager() {
        out.push(tab("/supervision", "nav.supervision"));
        out.push(tab("/map", "nav.map"));
        out.push(tab("/dashboard", "nav.dashboard"));
    }
    if role == Role::Admin {
        out.push(tab("/admin", "nav.admin"));
    }
    out
}

/// The tab row of the signed-in user.
#[component]
pub(super) fn Nav(role: Role) -> impl IntoView {
    let location = use_location();
    view! {
        <nav class="tabs" aria-label="main" data-testid="tabs">
            {tabs(role).into_iter().map(|tab| {
                let href = tab.href;
                let current = move || is_current(href, &location.pathname.get());
                view! {
                    <a href=href class=tab.class class:current=current
                        aria-current=move || current().then_some("page")>{t(tab.label)}</a>
                }
            }).collect_view()}
        </nav>
    }
}
