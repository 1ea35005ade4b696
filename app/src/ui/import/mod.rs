//! The admin's GeoJSON import of grids: choose a file, say its coordinate system and which
//! properties hold code, name and community, check it (the server answers the plan or every
//! problem with its feature, numbered from 1), look at the preview — with its warnings (a grid
//! kilometres outside its community), which must be accepted — then apply. Nothing is written
//! until a clean check of exactly this file and these options is applied.
//!
//! `GridImport` (here) lays out the steps, each a named piece sharing `state::ImportState`: the
//! file and its mapping (`file.rs`), the problems (`problems.rs`), the preview (`preview.rs`) and
//! the apply (`apply.rs`); `state::send_import` is the one request, a check or an apply.

mod apply;
mod file;
mod preview;
mod problems;
mod state;

use apply::ImportApplied;
use file::{ImportFile, ImportMapping};
use preview::ImportPreview;
use problems::ImportProblems;
use state::{send_import, ImportState};

use super::context::{ctx, t, Ctx};
use leptos::prelude::*;

#[component]
pub(super) fn GridImport() -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let state = ImportState::new();
    let ImportState {
        text, busy, error, ..
    } = state;
    view! {
        <section class="card" data-testid="grid-import">
            <h2>{t("import.title")}</h2>
            <p class="muted small">{t("import.hint")}</p>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); send_import(state, false, lang.get_untracked()); }>
                <ImportFile state=state/>
                <ImportMapping state=state/>
                {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="import-error">{m}</p> })}
                <button type="submit" class="primary" disabled=move || busy.get() || text.with(Option::is_none)
                    data-testid="import-check">{t("import.check")}</button>
            </form>
            <ImportProblems state=state/>
            <ImportPreview state=state/>
            <ImportApplied state=state/>
        </section>
    }
}
