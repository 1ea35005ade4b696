//! The visit form (`VisitNew`): what kind, where (`VisitPlace`), which household
//! (`VisitHousehold`), the notes and the residents' appeals heard (`VisitNotes`); what is typed
//! is kept as a draft, and `save_visit` writes the visit (with a household added on the spot) in
//! one local commit.

use super::household::{new_household, VisitHousehold, NEW_HOUSEHOLD};
use super::place::VisitPlace;
use super::state::{VisitForm, HOUSEHOLD_VISIT};
use crate::i18n::{tr, Lang};
use crate::sync::{client, Client};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::format::now_ms;
use crate::ui::forms::{field_error, keep_draft, number_notice, save_new};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::{Collection, Op, OpBody, RecordId};

/// Log a visit or patrol: where (the user's grid, a compound, a household — picked from the
/// device or added on the spot), what kind, notes, and the residents' appeals heard (one per
/// line; each can become a case in one tap from the list). What is typed is kept as a draft.
#[component]
pub(crate) fn VisitNew() -> impl IntoView {
    let Ctx { lang, session, .. } = ctx();
    let navigate = use_navigate();
    let form = VisitForm::new(session);
    keep_draft("visit", form.draft());
    let save = move || save_visit(form, lang.get_untracked(), navigate.clone());
    view! {
        <section>
            <h1>{t("visits.new")}</h1>
            <form class="form" data-testid="visit-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <VisitKind form=form/>
                <VisitPlace form=form/>
                <VisitHousehold form=form/>
                <VisitNotes form=form/>
                {field_error(form.error, "form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}

/// The kind select: a household visit (走访) or a patrol (巡查).
#[component]
fn VisitKind(form: VisitForm) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let kind = form.kind;
    view! {
        <label>
            <span>{t("visits.kind")}</span>
            <select name="kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                {[HOUSEHOLD_VISIT, "patrol"].into_iter().map(|k| view! {
                    <option value=k selected=move || form.kind_now() == k>{move || tr(lang.get(), &format!("visit.kind.{k}"))}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// The notes and the appeals heard (one per line), each with the number notice.
#[component]
fn VisitNotes(form: VisitForm) -> impl IntoView {
    let VisitForm {
        notes,
        appeals,
        error,
        ..
    } = form;
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <label>
            <span>{t("visits.notes")}</span>
            <textarea name="notes" rows="3" maxlength="4000"
                prop:value=move || notes.get() on:input=text(notes)></textarea>
        </label>
        {number_notice("notes", move || Some(notes.get()))}
        {field_error(error, "notes")}
        <label>
            <span>{t("visits.appeals")}</span>
            <textarea name="appeals" rows="3"
                prop:value=move || appeals.get() on:input=text(appeals)></textarea>
        </label>
        {number_notice("appeals", move || Some(appeals.get()))}
    }
}

/// Saves the visit (and the household added on the spot) in one local commit and goes to the
/// list; what is wrong is shown next to its field instead.
fn save_visit(form: VisitForm, l: Lang, navigate: impl Fn(&str, NavigateOptions) + 'static) {
    form.error.set(None);
    let Some(c) = client() else { return };
    match visit_ops(&c, form, l) {
        Ok(ops) => save_new(ops, "visit", "/visits", form.error, l, navigate),
        Err(e) => form.error.set(Some(e)),
    }
}

/// The ops of a visit: the household added on the spot (if any), then the visit by this user
/// now; or the field at fault and why (no grid, neither notes nor appeals, a bad household).
fn visit_ops(c: &Client, form: VisitForm, l: Lang) -> Result<Vec<Op>, (&'static str, String)> {
    let g = form.chosen_grid();
    if g.is_empty() {
        return Err(("form", tr(l, "case.error.grid_required")));
    }
    let heard: Vec<serde_json::Value> = form
        .appeals
        .get_untracked()
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(serde_json::Value::from)
        .collect();
    if form.notes.get_untracked().trim().is_empty() && heard.is_empty() {
        return Err(("notes", tr(l, "visits.error.empty")));
    }
    let k = form.kind_now();
    let place = form.compound.get_untracked();
    let mut ops = Vec::new();
    let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    let picked = form.household.get_untracked();
    if k == HOUSEHOLD_VISIT && picked == NEW_HOUSEHOLD {
        let h = new_household(form, &g, &place, l)?;
        let id = RecordId(uuid::Uuid::now_v7());
        ops.push(c.op(Collection::Households, id, OpBody::Set { fields: h }));
        fields.insert("household".into(), id.to_string().into());
    } else if k == HOUSEHOLD_VISIT && !picked.is_empty() {
        fields.insert("household".into(), picked.into());
    }
    fields.insert("grid".into(), g.into());
    fields.insert("kind".into(), k.into());
    if !place.is_empty() {
        fields.insert("compound".into(), place.into());
    }
    fields.insert("warden".into(), c.me().username.into());
    fields.insert("visited_at".into(), now_ms().into());
    fields.insert("notes".into(), form.notes.get_untracked().trim().into());
    fields.insert("appeals".into(), heard.into());
    ops.push(c.op(
        Collection::Visits,
        RecordId(uuid::Uuid::now_v7()),
        OpBody::Set { fields },
    ));
    Ok(ops)
}
