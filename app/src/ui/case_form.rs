//! The case form: reporting a case (上报: title, description, category, source, grid by GPS or
//! by hand, photos by camera) and editing one on demand from its page. The Save button sits in
//! an action bar that stays on screen (a phone need not scroll past the fold to save).

use super::case_place::CasePlace;
use super::cases::category_label;
use super::context::{ctx, t, Ctx};
use super::format::now_ms;
use super::forms::{clear_draft, field_error, keep_draft, number_notice, save_failed, Draft};
use super::photos::PhotoPicker;
use crate::i18n::{tr, trf, Lang};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;
use std::collections::BTreeMap;
use tongxin_shared::schema::{validate_op, CASE_CATEGORIES, CASE_SOURCES};
use tongxin_shared::{Collection, OpBody, Record, RecordId};

/// The source a new case starts with: a resident's appeal when it comes from a visit, else what a
/// warden finds on patrol.
pub(crate) fn default_source(from_appeal: bool) -> &'static str {
    if from_appeal {
        "resident_appeal"
    } else {
        "patrol"
    }
}

/// A case source in words.
pub(crate) fn source_label(lang: Lang, s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        tr(lang, &format!("source.{s}"))
    }
}

/// The source select of the report form (巡查发现, 群众诉求, 红色体检, 12345, 协商议事).
#[component]
fn SourceField(source: RwSignal<Option<String>>, from_appeal: bool) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let shown = move || {
        source
            .get()
            .unwrap_or_else(|| default_source(from_appeal).to_owned())
    };
    view! {
        <label>
            <span>{t("case.source")}</span>
            <select name="source" data-testid="case-source"
                on:change=move |ev| source.set(Some(event_target_value(&ev)))>
                {CASE_SOURCES.iter().map(|s| {
                    let s = *s;
                    view! { <option value=s selected=move || shown() == s>{move || source_label(lang.get(), s)}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
pub(super) fn CaseNew() -> impl IntoView {
    let record = RwSignal::new(None::<Record>);
    // From a visit's appeal (一键转事件): the appeal is the title, the source a resident appeal.
    let query = leptos_router::hooks::use_query_map();
    let prefill = query.with_untracked(|q| q.get("title"));
    let from_appeal = query.with_untracked(|q| q.get("visit").is_some());
    view! {
        <section>
            <h1>{t("cases.new")}</h1>
            <CaseForm record=record id=None prefill=prefill.unwrap_or_default() from_appeal=from_appeal/>
        </section>
    }
}

/// The case form. Inputs show the record's current values until the user edits them; only the
/// fields the user changed are written (so a background sync never gets overwritten by stale
/// form values).
#[component]
pub(super) fn CaseForm(
    record: RwSignal<Option<Record>>,
    id: Option<RecordId>,
    #[prop(optional, into)] prefill: Option<String>,
    #[prop(optional)] from_appeal: bool,
    /// Editing an existing case: called when the edit is saved or cancelled (closes the form).
    #[prop(optional)]
    on_done: Option<Callback<()>>,
    /// Editing: the case's place (its grid), shown above the fields.
    #[prop(optional)]
    place: Option<CasePlace>,
) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let navigate = use_navigate();
    let title = RwSignal::new(prefill.filter(|p| !p.is_empty()));
    let description = RwSignal::new(None::<String>);
    let category = RwSignal::new(None::<String>);
    let source = RwSignal::new(None::<String>);
    let grid = RwSignal::new(None::<String>);
    let photos = RwSignal::new(Vec::<String>::new());
    let position = RwSignal::new(None::<crate::photo::Fix>);
    let located = RwSignal::new(None::<String>);
    if id.is_none() {
        keep_draft(
            "case",
            draft_fields(title, description, category, source, photos),
        );
    }
    let error = RwSignal::new(None::<(&'static str, String)>);
    let saved = RwSignal::new(false);
    let grids = LocalResource::new(report_grids);
    let shown = move |dirty: RwSignal<Option<String>>, name: &'static str| {
        move || {
            dirty.get().unwrap_or_else(|| {
                record.with(|r| {
                    r.as_ref()
                        .and_then(|r| r.str(name))
                        .unwrap_or_default()
                        .to_owned()
                })
            })
        }
    };
    let inputs = CaseInputs {
        record,
        id,
        title,
        description,
        category,
        source,
        grid,
        photos,
        position,
        from_appeal,
        grids,
        error,
        saved,
        on_done,
    };
    let save = move || {
        save_case(
            inputs,
            lang.get_untracked(),
            sig.deadlines,
            navigate.clone(),
        );
    };
    let locate = move |_| {
        let l = lang.get_untracked();
        located.set(Some(tr(l, "geo.locating")));
        spawn_local(locate_grid(l, grids, position, grid, located));
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let shown_category = shown(category, "category");
    view! {
        <form class="form case-form" data-testid="case-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
            {place.map(|p| view! { <p class="muted small" data-testid="form-grid">{t("case.grid")}": "{p.grid_label}</p> })}
            <TitleField title=title shown=Signal::derive(shown(title, "title")) required=id.is_none()/>
            {err_for("title")}
            <DescriptionField description=description shown=Signal::derive(shown(description, "description"))/>
            <CategoryField category=category shown=Signal::derive(shown_category)/>
            {err_for("category")}
            {id.is_none().then(|| view! { <SourceField source=source from_appeal=from_appeal/> })}
            // A new case's time limit for the chosen category, as this deployment configures it.
            {id.is_none().then(|| view! { <DeadlineHint category=Signal::derive(shown_category)/> })}
            {id.is_none().then(|| view! { <GridChoice grids=grids grid=grid located=located locate=locate/> })}
            {err_for("grid")}
            <PhotoPicker added=photos/>
            {err_for("photos")}
            {err_for("form")}
            <FormActions on_done=on_done saved=saved/>
        </form>
    }
}

/// The grids a new case may be reported in: the user's own, or (managers) those on the device,
/// by code and name.
async fn report_grids() -> Vec<(String, String)> {
    let Some(c) = client() else {
        return Vec::new();
    };
    let local = c.store.list(Collection::Grids).await.unwrap_or_default();
    let name = |r: &Record| {
        super::names::code_and_name(
            r.str("code").unwrap_or_default(),
            r.str("name").unwrap_or_default(),
        )
    };
    let mine = c.me().grids;
    if mine.is_empty() {
        local
            .iter()
            .filter(|r| !r.is_deleted())
            .map(|r| (r.id.to_string(), name(r)))
            .collect::<Vec<_>>()
    } else {
        mine.iter()
            .map(|g| {
                let label = local
                    .iter()
                    .find(|r| r.id == *g)
                    .map_or_else(|| g.to_string(), name);
                (g.to_string(), label)
            })
            .collect()
    }
}

/// GPS → the grid by point-in-polygon over the grids on this device, offline. A poor fix or a
/// position outside every grid leaves the choice to the user, with the reason shown.
async fn locate_grid(
    l: Lang,
    grids: LocalResource<Vec<(String, String)>>,
    position: RwSignal<Option<crate::photo::Fix>>,
    grid: RwSignal<Option<String>>,
    located: RwSignal<Option<String>>,
) {
    let fix = match crate::photo::locate().await {
        Ok(f) => f,
        Err(e) => {
            located.set(Some(trf(l, "geo.failed", &[("e", &e)])));
            return;
        }
    };
    position.set(Some(fix));
    let acc = format!("{:.0}", fix.accuracy_m);
    if fix.accuracy_m > crate::photo::POOR_ACCURACY_M {
        located.set(Some(trf(l, "geo.poor", &[("m", &acc)])));
        return;
    }
    let Some(c) = client() else { return };
    let local = c.store.list(Collection::Grids).await.unwrap_or_default();
    let (index, _) = tongxin_shared::geo::GridIndex::build(
        local
            .iter()
            .filter_map(|r| Some((r.id, r.str("code").unwrap_or_default(), r.get("boundary")?))),
    );
    let allowed = grids.get_untracked().unwrap_or_default();
    match index.locate(fix.lon, fix.lat) {
        Some(g) if allowed.iter().any(|(id, _)| *id == g.to_string()) => {
            let name = allowed
                .iter()
                .find(|(id, _)| *id == g.to_string())
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            grid.set(Some(g.to_string()));
            located.set(Some(trf(l, "geo.in_grid", &[("g", &name), ("m", &acc)])));
        }
        Some(_) => located.set(Some(trf(l, "geo.other_grid", &[("m", &acc)]))),
        None => located.set(Some(trf(l, "geo.outside", &[("m", &acc)]))),
    }
}

/// The texts the user typed: all of them for a new case, only those that differ from the
/// record when editing (a background sync is never overwritten by stale form values).
fn edited_texts(
    record: RwSignal<Option<Record>>,
    id: Option<RecordId>,
    title: RwSignal<Option<String>>,
    description: RwSignal<Option<String>>,
    category: RwSignal<Option<String>>,
) -> BTreeMap<String, serde_json::Value> {
    let current = |name: &'static str| {
        record.with_untracked(|r| {
            r.as_ref()
                .and_then(|r| r.str(name))
                .unwrap_or_default()
                .to_owned()
        })
    };
    let mut fields = BTreeMap::new();
    for (sig, name) in [
        (title, "title"),
        (description, "description"),
        (category, "category"),
    ] {
        if let Some(v) = sig.get_untracked() {
            if id.is_none() || v != current(name) {
                fields.insert(
                    name.to_owned(),
                    serde_json::Value::String(v.trim().to_owned()),
                );
            }
        }
    }
    fields
}

/// The photos added, after those the case already has (at most nine in all).
fn add_photos(
    fields: &mut BTreeMap<String, serde_json::Value>,
    record: RwSignal<Option<Record>>,
    added: Vec<String>,
    l: Lang,
) -> Result<(), (&'static str, String)> {
    if added.is_empty() {
        return Ok(());
    }
    let mut all: Vec<String> = record.with_untracked(|r| {
        r.as_ref()
            .and_then(|r| r.get("photos"))
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(ToOwned::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    });
    for sha in added {
        if !all.contains(&sha) {
            all.push(sha);
        }
    }
    if all.len() > 9 {
        return Err(("photos", tr(l, "photo.error.too_many")));
    }
    fields.insert("photos".into(), all.into());
    Ok(())
}

/// What a new case needs besides its texts.
#[derive(Clone, Copy)]
struct ReportInputs {
    title: RwSignal<Option<String>>,
    category: RwSignal<Option<String>>,
    source: RwSignal<Option<String>>,
    grid: RwSignal<Option<String>>,
    position: RwSignal<Option<crate::photo::Fix>>,
    from_appeal: bool,
}

/// A new case (上报): checks the title and category, adds the grid (chosen, or the first
/// offered), the GPS fix and the source; the report time on success. The reporter, state, report
/// time and the deadline for the category (the deployment's hours as last fetched) are the
/// builder's: `policy::actions::report`.
fn add_report_fields(
    fields: &mut BTreeMap<String, serde_json::Value>,
    inputs: ReportInputs,
    grids: LocalResource<Vec<(String, String)>>,
    l: Lang,
) -> Result<u64, (&'static str, String)> {
    let title_v = inputs.title.get_untracked().unwrap_or_default();
    if title_v.trim().is_empty() {
        return Err(("title", tr(l, "case.error.title_required")));
    }
    let cat = inputs.category.get_untracked().unwrap_or_default();
    if cat.is_empty() {
        return Err(("category", tr(l, "case.error.category_required")));
    }
    let chosen = inputs.grid.get_untracked().or_else(|| {
        grids
            .get_untracked()
            .and_then(|g| g.first().map(|(id, _)| id.clone()))
    });
    let Some(chosen) = chosen else {
        return Err(("grid", tr(l, "case.error.grid_required")));
    };
    let now = now_ms();
    fields.insert("grid".into(), chosen.into());
    if let Some(f) = inputs.position.get_untracked() {
        fields.insert(
            "position".into(),
            serde_json::json!([f.lon, f.lat, f.accuracy_m.min(100_000.0).round()]),
        );
    }
    let chosen_source = inputs
        .source
        .get_untracked()
        .filter(|s| CASE_SOURCES.contains(&s.as_str()))
        .unwrap_or_else(|| default_source(inputs.from_appeal).to_owned());
    fields.insert("source".into(), chosen_source.into());
    Ok(now)
}

/// A new case's time limit for the chosen category, as this deployment configures it.
#[component]
fn DeadlineHint(category: Signal<String>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    move || {
        let cat = category.get();
        (!cat.is_empty()).then(|| {
            let hours = sig.deadlines.with(|d| d.hours_for(&cat)).to_string();
            let attr = hours.clone();
            view! {
                <p class="muted small" data-testid="deadline-hint" data-hours=attr>
                    {move || trf(lang.get(), "case.deadline_hint", &[("h", &hours)])}
                </p>
            }
        })
    }
}

/// Where a new case is: the GPS button with its outcome, and the grid select.
#[component]
fn GridChoice(
    grids: LocalResource<Vec<(String, String)>>,
    grid: RwSignal<Option<String>>,
    located: RwSignal<Option<String>>,
    locate: impl Fn(leptos::ev::MouseEvent) + 'static,
) -> impl IntoView {
    view! {
        <div class="locate">
            <button type="button" data-testid="locate" on:click=locate>{t("geo.locate")}</button>
            {move || located.get().map(|m| view! { <p class="muted small" role="status" data-testid="located">{m}</p> })}
        </div>
        <label>
            <span>{t("case.grid")}</span>
            <select name="grid" on:change=move |ev| grid.set(Some(event_target_value(&ev)))>
                {move || grids.get().unwrap_or_default().into_iter().map(|(gid, label)| {
                    let value = gid.clone();
                    view! { <option value=value selected=move || grid.get().as_deref() == Some(gid.as_str())>{label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The ops of a save: a new case (上报: the case and its first timeline entry, when `report_at`
/// is set) or the changed fields, after the shared schema check (its message otherwise).
fn case_ops(
    c: &crate::sync::Client,
    record_id: RecordId,
    fields: BTreeMap<String, serde_json::Value>,
    report_at: Option<u64>,
    deadlines: &tongxin_shared::case::Deadlines,
) -> Result<Vec<tongxin_shared::Op>, String> {
    let bodies = match report_at {
        Some(now) => tongxin_shared::policy::actions::report(
            fields,
            &c.me().username,
            now,
            deadlines,
            uuid::Uuid::now_v7(),
        ),
        None => vec![OpBody::Set { fields }],
    };
    let ops: Vec<_> = bodies
        .into_iter()
        .map(|b| c.op(Collection::Cases, record_id, b))
        .collect();
    match ops.iter().find_map(|op| validate_op(op).err()) {
        Some(e) => Err(e.message),
        None => Ok(ops),
    }
}

/// The category select (the record's value until the user picks one).
#[component]
fn CategoryField(category: RwSignal<Option<String>>, shown: Signal<String>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <label>
            <span>{t("case.category")}</span>
            <select name="category"
                on:change=move |ev| category.set(Some(event_target_value(&ev)))>
                <option value="" selected=move || shown.get().is_empty()>{t("category.choose")}</option>
                {CASE_CATEGORIES.iter().map(|c| {
                    let c = *c;
                    view! { <option value=c selected=move || shown.get() == c>{move || category_label(lang.get(), c)}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// Always on screen at the bottom of a phone: Save (and Cancel while editing), and "saved".
#[component]
fn FormActions(on_done: Option<Callback<()>>, saved: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="sticky-actions" data-testid="form-actions">
            <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            {on_done.map(|done| view! {
                <button type="button" data-testid="edit-cancel" on:click=move |_| done.run(())>{t("case.cancel_edit")}</button>
            })}
            <Show when=move || saved.get()>
                <p class="ok" role="status">{t("case.saved")}</p>
            </Show>
        </div>
    }
}

/// What a new case keeps as a draft while it is typed.
fn draft_fields(
    title: RwSignal<Option<String>>,
    description: RwSignal<Option<String>>,
    category: RwSignal<Option<String>>,
    source: RwSignal<Option<String>>,
    photos: RwSignal<Vec<String>>,
) -> Vec<(&'static str, Draft)> {
    vec![
        ("title", Draft::Opt(title)),
        ("description", Draft::Opt(description)),
        ("category", Draft::Opt(category)),
        ("source", Draft::Opt(source)),
        ("photos", Draft::List(photos)),
    ]
}

/// The title (the record's until the user types), with the number notice.
#[component]
fn TitleField(
    title: RwSignal<Option<String>>,
    shown: Signal<String>,
    required: bool,
) -> impl IntoView {
    view! {
        <label>
            <span>{t("case.title")}</span>
            <input name="title" type="text" maxlength="200" required=required
                prop:value=shown
                on:input=move |ev| title.set(Some(event_target_value(&ev)))/>
        </label>
        {number_notice("title", move || title.get())}
    }
}

/// The description (the record's until the user types), with the number notice.
#[component]
fn DescriptionField(description: RwSignal<Option<String>>, shown: Signal<String>) -> impl IntoView {
    view! {
        <label>
            <span>{t("case.description")}</span>
            <textarea name="description" rows="4" maxlength="4000"
                prop:value=shown
                on:input=move |ev| description.set(Some(event_target_value(&ev)))></textarea>
        </label>
        {number_notice("description", move || description.get())}
    }
}

/// Everything the case form reads and writes when it saves.
#[derive(Clone, Copy)]
struct CaseInputs {
    record: RwSignal<Option<Record>>,
    id: Option<RecordId>,
    title: RwSignal<Option<String>>,
    description: RwSignal<Option<String>>,
    category: RwSignal<Option<String>>,
    source: RwSignal<Option<String>>,
    grid: RwSignal<Option<String>>,
    photos: RwSignal<Vec<String>>,
    position: RwSignal<Option<crate::photo::Fix>>,
    from_appeal: bool,
    grids: LocalResource<Vec<(String, String)>>,
    error: RwSignal<Option<(&'static str, String)>>,
    saved: RwSignal<bool>,
    on_done: Option<Callback<()>>,
}

/// Saves the form: a new case (上报) or the fields the user changed, as one local commit; then
/// the form is cleared and a new case opened.
fn save_case(
    inputs: CaseInputs,
    l: Lang,
    deadlines: RwSignal<tongxin_shared::case::Deadlines>,
    navigate: impl Fn(&str, NavigateOptions) + 'static,
) {
    let CaseInputs {
        record,
        id,
        title,
        description,
        category,
        source,
        grid,
        photos,
        position,
        from_appeal,
        grids,
        error,
        saved,
        on_done,
    } = inputs;
    error.set(None);
    saved.set(false);
    let mut fields = edited_texts(record, id, title, description, category);
    if let Err(e) = add_photos(&mut fields, record, photos.get_untracked(), l) {
        error.set(Some(e));
        return;
    }
    // Set when this save reports a new case (上报), to the report time.
    let mut report_at: Option<u64> = None;
    if id.is_none() {
        let inputs = ReportInputs {
            title,
            category,
            source,
            grid,
            position,
            from_appeal,
        };
        match add_report_fields(&mut fields, inputs, grids, l) {
            Ok(now) => report_at = Some(now),
            Err(e) => {
                error.set(Some(e));
                return;
            }
        }
    } else if fields
        .get("title")
        .is_some_and(|v| v.as_str().is_some_and(str::is_empty))
    {
        error.set(Some(("title", tr(l, "case.error.title_required"))));
        return;
    }
    if fields.is_empty() {
        saved.set(true);
        if let Some(done) = on_done {
            done.run(());
        }
        return;
    }
    let Some(c) = client() else { return };
    let record_id = id.unwrap_or_else(|| RecordId(uuid::Uuid::now_v7()));
    let ops = deadlines.with_untracked(|d| case_ops(&c, record_id, fields, report_at, d));
    let ops = match ops {
        Ok(ops) => ops,
        Err(message) => {
            error.set(Some(("form", message)));
            return;
        }
    };
    spawn_local(async move {
        match c.commit(ops).await {
            Ok(()) => {
                title.set(None);
                description.set(None);
                category.set(None);
                source.set(None);
                photos.set(Vec::new());
                saved.set(true);
                if let Some(done) = on_done {
                    done.run(());
                }
                if id.is_none() {
                    clear_draft("case");
                    navigate(&format!("/cases/{record_id}"), NavigateOptions::default());
                }
            }
            Err(e) => error.set(Some(("form", save_failed(l, &e)))),
        }
    });
}
