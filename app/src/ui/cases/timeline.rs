//! A case's timeline (`Timeline`), on the case's page.

use crate::i18n::{tr, trf};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::{level_label, when};
use crate::views::assign::{handed_back_from, reassigned_to};
use leptos::prelude::*;
use tongxin_shared::case::{Level, ESCALATE};
use tongxin_shared::Record;

/// The case's timeline: every step with who, when and the note, oldest first (stamp order, so
/// the escalations of one sweep read community → subdistrict → city). An escalation is written by
/// the server: it names the level the case went up to, and "system" as its author (as does a
/// hand-back, 退回待派, naming whom the case was taken from: entries without an author are the
/// system's, users' entries must name theirs). People are
/// named from the directory on the device (their login id if it does not list them); a
/// reassignment (改派) names whom the case went to, a person or an alliance unit.
#[component]
pub(crate) fn Timeline(record: RwSignal<Option<Record>>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let people = LocalResource::new(move || {
        sig.version.get();
        crate::ui::names::assignee_names()
    });
    let entries = move || {
        record.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.timeline()
                        .into_iter()
                        .map(|(_, e)| (e.stamp.hlc.wall_ms, e.data.clone()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <h2>{t("case.timeline")}</h2>
        <ol class="timeline" data-testid="timeline">
            {move || entries().into_iter().map(|(at, data)| {
                let text = |k: &str| data.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let action = text("action");
                let note = text("note");
                let escalation = (action == ESCALATE).then(|| Level::parse(&text("level"))).flatten();
                let by = text("by");
                let by_attr = by.clone();
                let by_name = people.with(|p| p.as_ref().map(|p| p.people.name(&by).to_owned())).unwrap_or_else(|| by.clone());
                let to = reassigned_to(&data).map(ToOwned::to_owned);
                let name_of = |a: &String| people.with(|p| p.as_ref().map(|p| p.name(a))).unwrap_or_else(|| a.clone());
                let to_name = to.as_ref().map(name_of);
                let from_name = handed_back_from(&data).map(ToOwned::to_owned).as_ref().map(name_of);
                let label_action = action.clone();
                let label = move || match (&to_name, &from_name) {
                    (Some(name), _) => trf(lang.get(), "timeline.reassigned", &[("who", name)]),
                    (None, Some(name)) => trf(lang.get(), "timeline.unassigned", &[("who", name)]),
                    (None, None) => tr(lang.get(), &format!("action.{label_action}")),
                };
                view! {
                    <li data-testid="timeline-entry" data-action=action data-level=escalation.map(Level::as_str) data-assignee=to>
                        <strong>
                            {label}
                            {escalation.map(|l| view! { " → " {move || level_label(lang.get(), l)} })}
                        </strong>
                        " · "
                        <span data-testid="timeline-by" data-username=by_attr>
                            {move || if by.is_empty() { tr(lang.get(), "timeline.system") } else { by_name.clone() }}
                        </span>
                        " · " {when(at)}
                        {(!note.is_empty()).then(|| view! { <p class="pre">{note}</p> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}
