//! Joint activities (活动) of the community and its paired units (同心圆).

use super::context::{ctx, live_records, t, Ctx};
use super::forms::{field_error, keep_draft, number_notice, save_new, Draft};
use super::photos::{Gallery, PhotoPicker};
use crate::i18n::{tr, trf};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::BTreeMap;
use tongxin_shared::schema::ACTIVITY_THEMES;
use tongxin_shared::{Collection, OpBody, RecordId};

/// Joint activities of the community and its alliance units (同心圆活动), newest first.
#[component]
pub(super) fn ActivityList() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let activities = LocalResource::new(move || {
        sig.version.get();
        async move {
            let mut list = live_records(Collection::Activities).await;
            list.sort_by(|a, b| b.str("date").cmp(&a.str("date")));
            list
        }
    });
    view! {
        <section>
            <h1>{t("activities.title")}</h1>
            <a class="button primary" href="/activities/new">{t("activities.new")}</a>
            {move || activities.get().map(|list| {
                if list.is_empty() {
                    return view! { <p class="muted">{t("activities.empty")}</p> }.into_any();
                }
                view! {
                    <ul class="list">
                        {list.into_iter().map(|r| {
                            let title = r.str("title").unwrap_or_default().to_owned();
                            let theme = r.str("theme").unwrap_or_default().to_owned();
                            let date = r.str("date").unwrap_or_default().to_owned();
                            let place = r.str("place").unwrap_or_default().to_owned();
                            let volunteers = r.get("volunteers").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            let served = r.get("residents_served").and_then(serde_json::Value::as_u64).unwrap_or(0);
                            let synthetic = r.get("synthetic").and_then(serde_json::Value::as_bool).unwrap_or(false);
                            let shas: Vec<String> = r.get("photos").and_then(serde_json::Value::as_array)
                                .map(|a| a.iter().filter_map(|v| v.as_str().map(ToOwned::to_owned)).collect()).unwrap_or_default();
                            view! {
                                <li class="item" data-testid="activity-item">
                                    <span class="item-title">{title}</span>
                                    <span class="item-meta">
                                        {date} " · " {move || tr(lang.get(), &format!("theme.{theme}"))} " · " {place}
                                        {synthetic.then(|| view! { <span class="tag">{t("case.synthetic")}</span> })}
                                    </span>
                                    <span class="item-meta">{move || trf(lang.get(), "activities.figures", &[("v", &volunteers.to_string()), ("r", &served.to_string())])}</span>
                                    <Gallery shas=shas/>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

/// Records a joint activity: theme, date, place, organising units, volunteers, residents
/// served, photos. It belongs to the user's community.
#[component]
// reason: not split yet (issue 13): the activity form's fields, units, draft and save share every signal
#[allow(clippy::too_many_lines)]
pub(super) fn ActivityNew() -> impl IntoView {
    let Ctx {
        lang, session, sig, ..
    } = ctx();
    let navigate = use_navigate();
    let title = RwSignal::new(String::new());
    let theme = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let volunteers = RwSignal::new(String::new());
    let served = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let units = RwSignal::new(Vec::<String>::new());
    let photos = RwSignal::new(Vec::<String>::new());
    keep_draft(
        "activity",
        vec![
            ("title", Draft::Text(title)),
            ("theme", Draft::Text(theme)),
            ("date", Draft::Text(date)),
            ("place", Draft::Text(place)),
            ("volunteers", Draft::Text(volunteers)),
            ("residents_served", Draft::Text(served)),
            ("description", Draft::Text(description)),
            ("units", Draft::List(units)),
            ("photos", Draft::List(photos)),
        ],
    );
    let error = RwSignal::new(None::<(&'static str, String)>);
    // The alliance units paired with the user's community (同心圆), to pick organisers from.
    let paired = LocalResource::new(move || {
        sig.version.get();
        async move {
            let Some(c) = client() else { return Vec::new() };
            let community = c.me().communities.first().map(ToString::to_string);
            let alliances = c
                .store
                .list(Collection::Alliances)
                .await
                .unwrap_or_default();
            let all_units = c.store.list(Collection::Units).await.unwrap_or_default();
            let ids: Vec<String> = alliances
                .iter()
                .filter(|a| a.str("community").map(ToOwned::to_owned) == community)
                .filter_map(|a| a.str("unit").map(ToOwned::to_owned))
                .collect();
            all_units
                .iter()
                .filter(|u| ids.contains(&u.id.to_string()))
                .map(|u| {
                    (
                        u.id.to_string(),
                        u.str("name").unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    });
    let save = move || {
        error.set(None);
        let l = lang.get_untracked();
        let Some(c) = client() else { return };
        let Some(community) =
            session.with_untracked(|s| s.as_ref().and_then(|s| s.me.communities.first().copied()))
        else {
            error.set(Some(("form", tr(l, "activities.error.no_community"))));
            return;
        };
        if title.get_untracked().trim().is_empty() {
            error.set(Some(("title", tr(l, "case.error.title_required"))));
            return;
        }
        if theme.get_untracked().is_empty() {
            error.set(Some(("theme", tr(l, "activities.error.theme"))));
            return;
        }
        if date.get_untracked().is_empty() {
            error.set(Some(("date", tr(l, "activities.error.date"))));
            return;
        }
        let count = |s: RwSignal<String>, field: &'static str| -> Result<u64, ()> {
            let v = s.get_untracked();
            if v.trim().is_empty() {
                return Ok(0);
            }
            v.trim().parse::<u64>().map_err(|_| {
                error.set(Some((field, tr(l, "activities.error.number"))));
            })
        };
        let (Ok(v), Ok(r)) = (count(volunteers, "volunteers"), count(served, "served")) else {
            return;
        };
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        fields.insert("community".into(), community.to_string().into());
        fields.insert("title".into(), title.get_untracked().trim().into());
        fields.insert("theme".into(), theme.get_untracked().into());
        fields.insert("date".into(), date.get_untracked().into());
        fields.insert("place".into(), place.get_untracked().trim().into());
        fields.insert("volunteers".into(), v.into());
        fields.insert("residents_served".into(), r.into());
        fields.insert(
            "description".into(),
            description.get_untracked().trim().into(),
        );
        fields.insert("units".into(), units.get_untracked().into());
        let added = photos.get_untracked();
        if !added.is_empty() {
            fields.insert("photos".into(), added.into());
        }
        let op = c.op(
            Collection::Activities,
            RecordId(uuid::Uuid::now_v7()),
            OpBody::Set { fields },
        );
        save_new(
            vec![op],
            "activity",
            "/activities",
            error,
            l,
            navigate.clone(),
        );
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <section>
            <h1>{t("activities.new")}</h1>
            <form class="form" data-testid="activity-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <label><span>{t("case.title")}</span>
                    <input name="title" type="text" maxlength="200" prop:value=move || title.get() on:input=text(title)/></label>
                {number_notice("title", move || Some(title.get()))}
                {err_for("title")}
                <label><span>{t("activities.theme")}</span>
                    <select name="theme" on:change=text(theme)>
                        <option value="">{t("activities.choose_theme")}</option>
                        {ACTIVITY_THEMES.iter().map(|th| {
                            let th = *th;
                            view! { <option value=th selected=move || theme.get() == th>{move || tr(lang.get(), &format!("theme.{th}"))}</option> }
                        }).collect_view()}
                    </select></label>
                {err_for("theme")}
                <label><span>{t("activities.date")}</span>
                    <input name="date" type="date" prop:value=move || date.get() on:input=text(date)/></label>
                {err_for("date")}
                <label><span>{t("activities.place")}</span>
                    <input name="place" type="text" maxlength="200" prop:value=move || place.get() on:input=text(place)/></label>
                <fieldset class="units">
                    <legend>{t("activities.units")}</legend>
                    {move || paired.get().unwrap_or_default().into_iter().map(|(id, name)| {
                        let value = id.clone();
                        let this = id.clone();
                        view! {
                            <label class="check"><input type="checkbox" name="unit" value=value
                                prop:checked=move || units.with(|u| u.contains(&this))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let id = id.clone();
                                    units.update(|u| { u.retain(|x| *x != id); if on { u.push(id); } });
                                }/><span>{name}</span></label>
                        }
                    }).collect_view()}
                </fieldset>
                <label><span>{t("activities.volunteers")}</span>
                    <input name="volunteers" type="number" min="0" inputmode="numeric" prop:value=move || volunteers.get() on:input=text(volunteers)/></label>
                {err_for("volunteers")}
                <label><span>{t("activities.served")}</span>
                    <input name="residents_served" type="number" min="0" inputmode="numeric" prop:value=move || served.get() on:input=text(served)/></label>
                {err_for("served")}
                <label><span>{t("case.description")}</span>
                    <textarea name="description" rows="3" maxlength="4000" prop:value=move || description.get() on:input=text(description)></textarea></label>
                {number_notice("description", move || Some(description.get()))}
                <PhotoPicker added=photos/>
                {err_for("form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}
