//! What the server found wrong (`ImportProblems`: every problem with its feature, numbered from
//! 1, nothing imported), and how a problem or warning reads (`problem_line`).

use super::state::ImportState;
use crate::i18n::{tr, trf, Lang};
use crate::ui::context::{ctx, Ctx};
use leptos::prelude::*;
use tongxin_shared::geoimport::Problem;

/// The problems of the last check, when it found any.
#[component]
pub(super) fn ImportProblems(state: ImportState) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let problems = state.problems;
    view! {
        <Show when=move || problems.with(|p| !p.is_empty())>
            <div role="alert" data-testid="import-problems">
                <p class="field-error">{move || trf(lang.get(), "import.problems", &[("n", &problems.with(Vec::len).to_string())])}</p>
                <ul class="list compact">
                    {move || problems.get().into_iter().map(|p| {
                        let feature = p.index.map(|i| (i + 1).to_string()).unwrap_or_default();
                        view! {
                            <li data-testid="import-problem" data-feature=feature>
                                {move || problem_line(lang.get(), &p)}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </div>
        </Show>
    }
}

/// A problem or warning with its feature, counted from 1 ("第 2 个要素：…").
pub(super) fn problem_line(lang: Lang, p: &Problem) -> String {
    let m = problem_text(lang, p);
    match p.index {
        Some(i) => trf(
            lang,
            "import.problem.at",
            &[("i", &(i + 1).to_string()), ("m", &m)],
        ),
        None => m,
    }
}

/// A problem in the user's language (`import.why.<code>`), or the server's English text for a
/// code this app does not know (a newer server).
fn problem_text(lang: Lang, p: &Problem) -> String {
    let key = format!("import.why.{}", p.code);
    let template = tr(lang, &key);
    if p.code.is_empty() || template == key {
        return p.message.clone();
    }
    tongxin_shared::problem_text::fill(&template, &p.args)
}
