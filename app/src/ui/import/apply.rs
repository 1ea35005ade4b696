//! The import's last step: the plan's warnings (a grid far outside its community) with the box
//! that accepts them, the apply button (`ImportApply`), and what it wrote (`ImportApplied`).

use super::problems::problem_line;
use super::state::{send_import, ImportState};
use crate::i18n::trf;
use crate::ui::context::{ctx, t, Ctx};
use leptos::prelude::*;
use tongxin_shared::geoimport::Problem;

/// The warnings to accept, and the button that applies the checked plan.
#[component]
pub(super) fn ImportApply(state: ImportState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let ImportState {
        busy,
        warnings,
        accepted,
        ..
    } = state;
    view! {
        <Warnings warnings=warnings accepted=accepted/>
        <button type="button" class="primary" data-testid="import-apply"
            disabled=move || busy.get() || (warnings.with(|w| !w.is_empty()) && !accepted.get())
            on:click=move |_| send_import(state, true, lang.get_untracked())>{t("import.apply")}</button>
    }
}

/// The plan's warnings (a grid far outside its community), and the box that accepts them.
#[component]
fn Warnings(warnings: RwSignal<Vec<Problem>>, accepted: RwSignal<bool>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <Show when=move || warnings.with(|w| !w.is_empty())>
            <div class="warn" role="alert" data-testid="import-warnings">
                <p>{move || trf(lang.get(), "import.warnings", &[("n", &warnings.with(Vec::len).to_string())])}</p>
                <ul class="list compact">
                    {move || warnings.get().into_iter().map(|w| {
                        let feature = w.index.map(|i| (i + 1).to_string()).unwrap_or_default();
                        let km = w.args.get("km").cloned().unwrap_or_default();
                        view! { <li data-testid="import-warning" data-feature=feature data-km=km>{move || problem_line(lang.get(), &w)}</li> }
                    }).collect_view()}
                </ul>
                <label class="check"><input type="checkbox" name="accept_warnings" data-testid="import-accept"
                    prop:checked=move || accepted.get() on:change=move |ev| accepted.set(event_target_checked(&ev))/>
                    <span>{t("import.accept_warnings")}</span></label>
            </div>
        </Show>
    }
}

/// How many grids the apply wrote, once it has.
#[component]
pub(super) fn ImportApplied(state: ImportState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    move || {
        state.applied.get().map(|n| {
            view! {
                <p class="ok" role="status" data-testid="import-applied" data-n=n.to_string()>
                    {move || trf(lang.get(), "import.applied", &[("n", &n.to_string())])}
                </p>
            }
        })
    }
}
