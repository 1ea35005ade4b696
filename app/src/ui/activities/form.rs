//! The activity form (`ActivityNew`): what and when (`ActivityFields`), the organising units
//! (`ActivityUnits`), the figures (`ActivityFigures`), a description and photos; what is typed
//! is kept as a draft, and `save_activity` writes the activity in one local commit.

use super::units::ActivityUnits;
use crate::i18n::{tr, Lang};
use crate::sync::{client, Session};
use crate::ui::context::{ctx, t, Ctx};
use crate::ui::forms::{field_error, keep_draft, number_notice, save_new, Draft, FormError};
use crate::ui::photos::PhotoPicker;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::schema::ACTIVITY_THEMES;
use tongxin_shared::{Collection, OpBody, RecordId};

/// The activity form's fields and error, handed to each piece (a `Copy` of signals).
#[derive(Clone, Copy)]
struct ActivityForm {
    title: RwSignal<String>,
    theme: RwSignal<String>,
    date: RwSignal<String>,
    place: RwSignal<String>,
    volunteers: RwSignal<String>,
    served: RwSignal<String>,
    description: RwSignal<String>,
    /// The organising units ticked (ids).
    units: RwSignal<Vec<String>>,
    photos: RwSignal<Vec<String>>,
    error: FormError,
}

impl ActivityForm {
    fn new() -> Self {
        Self {
            title: RwSignal::new(String::new()),
            theme: RwSignal::new(String::new()),
            date: RwSignal::new(String::new()),
            place: RwSignal::new(String::new()),
            volunteers: RwSignal::new(String::new()),
            served: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            units: RwSignal::new(Vec::new()),
            photos: RwSignal::new(Vec::new()),
            error: RwSignal::new(None),
        }
    }

    /// The fields the draft keeps, by their names in it.
    fn draft(self) -> Vec<(&'static str, Draft)> {
        vec![
            ("title", Draft::Text(self.title)),
            ("theme", Draft::Text(self.theme)),
            ("date", Draft::Text(self.date)),
            ("place", Draft::Text(self.place)),
            ("volunteers", Draft::Text(self.volunteers)),
            ("residents_served", Draft::Text(self.served)),
            ("description", Draft::Text(self.description)),
            ("units", Draft::List(self.units)),
            ("photos", Draft::List(self.photos)),
        ]
    }
}

/// Sets `sig` to what the user typed or picked.
fn set_text(sig: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| sig.set(event_target_value(&ev))
}

/// Records a joint activity: theme, date, place, organising units, volunteers, residents
/// served, photos. It belongs to the user's community.
#[component]
pub(crate) fn ActivityNew() -> impl IntoView {
    let Ctx { lang, session, .. } = ctx();
    let navigate = use_navigate();
    let form = ActivityForm::new();
    keep_draft("activity", form.draft());
    let save = move || save_activity(form, session, lang.get_untracked(), navigate.clone());
    let description = form.description;
    view! {
        <section>
            <h1>{t("activities.new")}</h1>
            <form class="form" data-testid="activity-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <ActivityFields form=form/>
                <ActivityUnits units=form.units/>
                <ActivityFigures form=form/>
                <label><span>{t("case.description")}</span>
                    <textarea name="description" rows="3" maxlength="4000" prop:value=move || description.get() on:input=set_text(description)></textarea></label>
                {number_notice("description", move || Some(description.get()))}
                <PhotoPicker added=form.photos/>
                {field_error(form.error, "form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}

/// What and when: the title (with the number notice), the theme, the date and the place.
#[component]
fn ActivityFields(form: ActivityForm) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let ActivityForm {
        title,
        theme,
        date,
        place,
        error,
        ..
    } = form;
    view! {
        <label><span>{t("case.title")}</span>
            <input name="title" type="text" maxlength="200" prop:value=move || title.get() on:input=set_text(title)/></label>
        {number_notice("title", move || Some(title.get()))}
        {field_error(error, "title")}
        <label><span>{t("activities.theme")}</span>
            <select name="theme" on:change=set_text(theme)>
                <option value="">{t("activities.choose_theme")}</option>
                {ACTIVITY_THEMES.iter().map(|th| {
                    let th = *th;
                    view! { <option value=th selected=move || theme.get() == th>{move || tr(lang.get(), &format!("theme.{th}"))}</option> }
                }).collect_view()}
            </select></label>
        {field_error(error, "theme")}
        <label><span>{t("activities.date")}</span>
            <input name="date" type="date" prop:value=move || date.get() on:input=set_text(date)/></label>
        {field_error(error, "date")}
        <label><span>{t("activities.place")}</span>
            <input name="place" type="text" maxlength="200" prop:value=move || place.get() on:input=set_text(place)/></label>
    }
}

/// The figures: volunteers and residents served (whole numbers; empty counts as none).
#[component]
fn ActivityFigures(form: ActivityForm) -> impl IntoView {
    let ActivityForm {
        volunteers,
        served,
        error,
        ..
    } = form;
    view! {
        <label><span>{t("activities.volunteers")}</span>
            <input name="volunteers" type="number" min="0" inputmode="numeric" prop:value=move || volunteers.get() on:input=set_text(volunteers)/></label>
        {field_error(error, "volunteers")}
        <label><span>{t("activities.served")}</span>
            <input name="residents_served" type="number" min="0" inputmode="numeric" prop:value=move || served.get() on:input=set_text(served)/></label>
        {field_error(error, "served")}
    }
}

/// Saves the activity, in the user's community, in one local commit and goes to the list; what
/// is wrong is shown next to its field instead.
fn save_activity(
    form: ActivityForm,
    session: RwSignal<Option<Session>>,
    l: Lang,
    navigate: impl Fn(&str, NavigateOptions) + 'static,
) {
    form.error.set(None);
    let Some(c) = client() else { return };
    let Some(community) =
        session.with_untracked(|s| s.as_ref().and_then(|s| s.me.communities.first().copied()))
    else {
        form.error
            .set(Some(("form", tr(l, "activities.error.no_community"))));
        return;
    };
    let fields = match activity_fields(form, community, l) {
        Ok(fields) => fields,
        Err(e) => {
            form.error.set(Some(e));
            return;
        }
    };
    let op = c.op(
        Collection::Activities,
        RecordId(uuid::Uuid::now_v7()),
        OpBody::Set { fields },
    );
    save_new(vec![op], "activity", "/activities", form.error, l, navigate);
}

/// A count typed into `s`: empty is none; otherwise a whole number, or `field` is at fault.
fn count(s: RwSignal<String>, field: &'static str, l: Lang) -> Result<u64, (&'static str, String)> {
    let v = s.get_untracked();
    if v.trim().is_empty() {
        return Ok(0);
    }
    v.trim()
        .parse::<u64>()
        .map_err(|_| (field, tr(l, "activities.error.number")))
}

/// The activity's fields, after the checks (a title, a theme, a date, counts that are numbers);
/// else the field at fault and why.
fn activity_fields(
    form: ActivityForm,
    community: RecordId,
    l: Lang,
) -> Result<BTreeMap<String, serde_json::Value>, (&'static str, String)> {
    if form.title.get_untracked().trim().is_empty() {
        return Err(("title", tr(l, "case.error.title_required")));
    }
    if form.theme.get_untracked().is_empty() {
        return Err(("theme", tr(l, "activities.error.theme")));
    }
    if form.date.get_untracked().is_empty() {
        return Err(("date", tr(l, "activities.error.date")));
    }
    // Both are checked; when both are wrong, the residents served are named (as the last).
    let (v, r) = match (
        count(form.volunteers, "volunteers", l),
        count(form.served, "served", l),
    ) {
        (Ok(v), Ok(r)) => (v, r),
        (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
    };
    let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    fields.insert("community".into(), community.to_string().into());
    fields.insert("title".into(), form.title.get_untracked().trim().into());
    fields.insert("theme".into(), form.theme.get_untracked().into());
    fields.insert("date".into(), form.date.get_untracked().into());
    fields.insert("place".into(), form.place.get_untracked().trim().into());
    fields.insert("volunteers".into(), v.into());
    fields.insert("residents_served".into(), r.into());
    fields.insert(
        "description".into(),
        form.description.get_untracked().trim().into(),
    );
    fields.insert("units".into(), form.units.get_untracked().into());
    let added = form.photos.get_untracked();
    if !added.is_empty() {
        fields.insert("photos".into(), added.into());
    }
    Ok(fields)
}
