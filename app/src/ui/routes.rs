//! The signed-in app's routes: the field screens (home, cases, visits, activities, with their
//! photos and forms) and the managers' screens, which load on first use (`<Deferred/>`); and the
//! sync panel the header's badge opens.
//!
//! This component and everything only it reaches are the `field` split module (see `lazy`): a
//! warden's first load holds the shell and the sign-in only, and fetches this module while the
//! warden types the password.
//!
//! Where a new screen goes: a field screen (every role uses it, offline from the first day) is a
//! route here rendering its component; a manager or administrator screen is a route here
//! rendering `<Deferred chunk=…/>`, with its split point in `lazy.rs`.

use super::activities::{ActivityList, ActivityNew};
use super::case_detail::CaseDetail;
use super::case_form::CaseNew;
use super::cases::CaseList;
use super::home::Home;
use super::lazy::{Chunk, Deferred};
use super::login::Login;
use super::supervision::Supervision;
use super::sync_panel::SyncPanel;
use super::visits::{VisitList, VisitNew};
use leptos::prelude::*;
use leptos_router::components::{Route, Routes};
use leptos_router::path;

#[component]
pub(super) fn SignedInRoutes() -> impl IntoView {
    // The long lists' rows follow the device's changes in the background (`list::index`): here,
    // not in the shell, so that their code stays out of the first load.
    super::list::index::keep_warm(super::context::ctx().sig);
    view! {
        // Every route's view is erased to `AnyView`: the router's `EitherOf12` then handles one
        // type instead of twelve.
        <Routes fallback=|| view! { <Home/> }.into_any()>
            <Route path=path!("/") view=|| view! { <Home/> }.into_any()/>
            <Route path=path!("/login") view=|| view! { <Login/> }.into_any()/>
            <Route path=path!("/admin") view=|| view! { <Deferred chunk=Chunk::Admin/> }.into_any()/>
            <Route path=path!("/visits") view=|| view! { <VisitList/> }.into_any()/>
            <Route path=path!("/visits/new") view=|| view! { <VisitNew/> }.into_any()/>
            <Route path=path!("/activities") view=|| view! { <ActivityList/> }.into_any()/>
            <Route path=path!("/map") view=|| view! { <Deferred chunk=Chunk::Map/> }.into_any()/>
            <Route path=path!("/dashboard") view=|| view! { <Deferred chunk=Chunk::Dashboard/> }.into_any()/>
            <Route path=path!("/activities/new") view=|| view! { <ActivityNew/> }.into_any()/>
            <Route path=path!("/cases") view=|| view! { <CaseList/> }.into_any()/>
            <Route path=path!("/cases/new") view=|| view! { <CaseNew/> }.into_any()/>
            <Route path=path!("/cases/:id") view=|| view! { <CaseDetail/> }.into_any()/>
            <Route path=path!("/supervision") view=|| view! { <Supervision/> }.into_any()/>
        </Routes>
        // The sync panel (opened by the header's badge) has something to say once signed in.
        <SyncPanel/>
    }
}
