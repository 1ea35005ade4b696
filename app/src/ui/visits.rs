//! Visits and patrols (走访/巡查): the list, and the form with its households (picked from the
//! device or added on the spot).

use super::context::{ctx, live_records, t, Ctx};
use super::format::now_ms;
use super::forms::{field_error, keep_draft, number_notice, save_new, Draft};
use super::list;
use crate::i18n::tr;
use crate::listing::visits::{select, VisitNames, NEWEST};
use crate::listing::Terms;
use crate::sync::client;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::collections::BTreeMap;
use tongxin_shared::{Collection, OpBody, RecordId};

/// The visits and patrols on the device (a warden's own; a manager's whole area), newest first;
/// searched by compound, grid and warden, one page at a time.
#[component]
pub(super) fn VisitList() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let sort = RwSignal::new(NEWEST);
    let page = RwSignal::new(0usize);
    // Until the index is built, the newest visits are read straight from the device (first),
    // then the index is brought up to date.
    let first = list::page::first_page::<list::visits::Visits>();
    let ready = list::index::ready();
    let selected = Memo::new(move |_| {
        if ready.get() == 0 {
            return None;
        }
        let (terms, s) = (Terms::parse(&text.get()), sort.get());
        list::index::with(|ix| {
            let names = VisitNames {
                grids: &ix.grids,
                compounds: &ix.compounds,
                people: &ix.people,
            };
            let ids = select(&ix.visits.rows, &names, &terms, s);
            Some((ix.epoch, ids, ix.live_visits))
        })
    });
    // Which of loading / empty / the list to show (re-drawn only when that changes, so the
    // search box keeps its focus while the rows change under it).
    let state = Memo::new(move |_| list::page::live_total(selected, first).map(|n| n > 0));
    // The list as it opens: newest first, no search (what the first page shows before the
    // index is built).
    let plain =
        Signal::derive(move || text.with(|q| Terms::parse(q).is_empty()) && sort.get() == NEWEST);
    view! {
        <section class="list-screen">
            <h1>{t("visits.title")}</h1>
            <a class="button primary" href="/visits/new">{t("visits.new")}</a>
            {move || match state.get() {
                None => view! { <p class="muted" role="status" data-testid="list-loading">{t("cases.loading")}</p> }.into_any(),
                Some(false) => view! { <p class="muted">{t("visits.empty")}</p> }.into_any(),
                Some(true) => view! {
                    <form class="filters" role="search" on:submit=|ev| ev.prevent_default()>
                        <list::SearchBox query=text page label="visits.search"/>
                    </form>
                    {list::page::paged::<list::visits::Visits>(selected, first, plain, page, sort)}
                }.into_any(),
            }}
        </section>
    }
}

/// A household on the device: (id, grid, compound, address, head of household as the user may
/// see it — masked above the handling level).
pub(super) type HouseholdRow = (String, String, String, String, String);

pub(super) async fn households_on_device() -> Vec<HouseholdRow> {
    let mut list: Vec<HouseholdRow> = live_records(Collection::Households)
        .await
        .iter()
        .map(|r| {
            let s = |f: &str| r.str(f).unwrap_or_default().to_owned();
            (
                r.id.to_string(),
                s("grid"),
                s("compound"),
                s("address"),
                s("head_name"),
            )
        })
        .collect();
    list.sort_by(|a, b| a.3.cmp(&b.3));
    list
}

/// The value of the household picker that means "a household not on the device yet".
pub(super) const NEW_HOUSEHOLD: &str = "new";

/// Log a visit or patrol: where (the user's grid, a compound, a household — picked from the
/// device or added on the spot), what kind, notes, and the residents' appeals heard (one per
/// line; each can become a case in one tap from the list). What is typed is kept as a draft.
#[component]
// reason: not split yet (issue 13): the visit form's place, household, notes, draft and save share every signal
#[allow(clippy::too_many_lines)]
pub(super) fn VisitNew() -> impl IntoView {
    let Ctx { lang, session, .. } = ctx();
    let navigate = use_navigate();
    let kind = RwSignal::new(String::new());
    let notes = RwSignal::new(String::new());
    let appeals = RwSignal::new(String::new());
    let grid = RwSignal::new(None::<String>);
    let compound = RwSignal::new(String::new());
    let household = RwSignal::new(String::new());
    let address = RwSignal::new(String::new());
    let head = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    keep_draft(
        "visit",
        vec![
            ("kind", Draft::Text(kind)),
            ("grid", Draft::Opt(grid)),
            ("compound", Draft::Text(compound)),
            ("household", Draft::Text(household)),
            ("address", Draft::Text(address)),
            ("head_name", Draft::Text(head)),
            ("phone", Draft::Text(phone)),
            ("notes", Draft::Text(notes)),
            ("appeals", Draft::Text(appeals)),
        ],
    );
    let error = RwSignal::new(None::<(&'static str, String)>);
    let grids =
        move || session.with(|s| s.as_ref().map(|s| s.me.grids.clone()).unwrap_or_default());
    let chosen_grid = move || {
        grid.get()
            .filter(|g| !g.is_empty())
            .or_else(|| grids().first().map(ToString::to_string))
            .unwrap_or_default()
    };
    let kind_now = move || {
        let k = kind.get();
        if k.is_empty() {
            "household_visit".to_owned()
        } else {
            k
        }
    };
    // Where: a compound (小区/楼栋) of the chosen grid, from the device.
    let compounds = LocalResource::new(move || async move {
        let mut list: Vec<(String, String, String)> = live_records(Collection::Compounds)
            .await
            .iter()
            .map(|r| {
                (
                    r.id.to_string(),
                    r.str("grid").unwrap_or_default().to_owned(),
                    r.str("name").unwrap_or_default().to_owned(),
                )
            })
            .collect();
        list.sort_by(|a, b| a.2.cmp(&b.2));
        list
    });
    let households = LocalResource::new(households_on_device);
    // The households of the chosen grid (and compound, when one is chosen).
    let here = move || {
        let (g, place) = (chosen_grid(), compound.get());
        households
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.1 == g && (place.is_empty() || h.2 == place))
            .collect::<Vec<_>>()
    };
    let save = move || {
        error.set(None);
        let l = lang.get_untracked();
        let Some(c) = client() else { return };
        let g = chosen_grid();
        if g.is_empty() {
            error.set(Some(("form", tr(l, "case.error.grid_required"))));
            return;
        }
        let heard: Vec<serde_json::Value> = appeals
            .get_untracked()
            .lines()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(serde_json::Value::from)
            .collect();
        if notes.get_untracked().trim().is_empty() && heard.is_empty() {
            error.set(Some(("notes", tr(l, "visits.error.empty"))));
            return;
        }
        let k = kind_now();
        let place = compound.get_untracked();
        let mut ops = Vec::new();
        let mut fields: BTreeMap<String, serde_json::Value> = BTreeMap::new();
        let picked = household.get_untracked();
        if k == "household_visit" && picked == NEW_HOUSEHOLD {
            let addr = address.get_untracked().trim().to_owned();
            if addr.is_empty() {
                error.set(Some(("address", tr(l, "household.error.address"))));
                return;
            }
            let tel = phone.get_untracked().trim().to_owned();
            if !tel.is_empty() && !tongxin_shared::schema::plausible_phone(&tel) {
                error.set(Some(("phone", tr(l, "household.error.phone"))));
                return;
            }
            let mut h: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            h.insert("grid".into(), g.clone().into());
            if !place.is_empty() {
                h.insert("compound".into(), place.clone().into());
            }
            h.insert("address".into(), addr.into());
            let name = head.get_untracked().trim().to_owned();
            if !name.is_empty() {
                h.insert("head_name".into(), name.into());
            }
            if !tel.is_empty() {
                h.insert("phone".into(), tel.into());
            }
            let id = RecordId(uuid::Uuid::now_v7());
            ops.push(c.op(Collection::Households, id, OpBody::Set { fields: h }));
            fields.insert("household".into(), id.to_string().into());
        } else if k == "household_visit" && !picked.is_empty() {
            fields.insert("household".into(), picked.into());
        }
        fields.insert("grid".into(), g.into());
        fields.insert("kind".into(), k.into());
        if !place.is_empty() {
            fields.insert("compound".into(), place.into());
        }
        fields.insert("warden".into(), c.me().username.into());
        fields.insert("visited_at".into(), now_ms().into());
        fields.insert("notes".into(), notes.get_untracked().trim().into());
        fields.insert("appeals".into(), heard.into());
        ops.push(c.op(
            Collection::Visits,
            RecordId(uuid::Uuid::now_v7()),
            OpBody::Set { fields },
        ));
        save_new(ops, "visit", "/visits", error, l, navigate.clone());
    };
    let err_for = move |field: &'static str| field_error(error, field);
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <section>
            <h1>{t("visits.new")}</h1>
            <form class="form" data-testid="visit-form" novalidate on:submit=move |ev| { ev.prevent_default(); save(); }>
                <label>
                    <span>{t("visits.kind")}</span>
                    <select name="kind" on:change=text(kind)>
                        {["household_visit", "patrol"].into_iter().map(|k| view! {
                            <option value=k selected=move || kind_now() == k>{move || tr(lang.get(), &format!("visit.kind.{k}"))}</option>
                        }).collect_view()}
                    </select>
                </label>
                {move || (grids().len() > 1).then(|| view! {
                    <label>
                        <span>{t("case.grid")}</span>
                        <select name="grid" on:change=move |ev| grid.set(Some(event_target_value(&ev)))>
                            {grids().into_iter().map(|g| {
                                let id = g.to_string();
                                let this = id.clone();
                                view! { <option value=id selected=move || chosen_grid() == this>{g.to_string()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                {move || {
                    let chosen = chosen_grid();
                    let here: Vec<(String, String)> = compounds.get().unwrap_or_default().into_iter()
                        .filter(|(_, g, _)| *g == chosen).map(|(id, _, name)| (id, name)).collect();
                    (!here.is_empty()).then(|| view! {
                        <label>
                            <span>{t("visits.compound")}</span>
                            <select name="compound" on:change=text(compound)>
                                <option value="">{t("visits.no_compound")}</option>
                                {here.into_iter().map(|(id, name)| {
                                    let this = id.clone();
                                    view! { <option value=id selected=move || compound.get() == this>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    })
                }}
                {move || (kind_now() == "household_visit").then(|| view! {
                    <label>
                        <span>{t("household.title")}</span>
                        <select name="household" on:change=text(household)>
                            <option value="" selected=move || household.get().is_empty()>{t("household.none")}</option>
                            {move || here().into_iter().map(|(id, _, _, addr, name)| {
                                let this = id.clone();
                                let label = if name.is_empty() { addr } else { format!("{addr} · {name}") };
                                view! { <option value=id selected=move || household.get() == this>{label}</option> }
                            }).collect_view()}
                            <option value=NEW_HOUSEHOLD selected=move || household.get() == NEW_HOUSEHOLD>{t("household.add")}</option>
                        </select>
                    </label>
                })}
                {move || (kind_now() == "household_visit" && household.get() == NEW_HOUSEHOLD).then(|| view! {
                    <fieldset class="household" data-testid="new-household">
                        <legend>{t("household.new")}</legend>
                        <label><span>{t("household.address")}</span>
                            <input name="address" type="text" maxlength="200" autocomplete="off"
                                prop:value=move || address.get() on:input=text(address)/></label>
                        {err_for("address")}
                        <label><span>{t("household.head_name")}</span>
                            <input name="head_name" type="text" maxlength="60" autocomplete="off"
                                prop:value=move || head.get() on:input=text(head)/></label>
                        <label><span>{t("household.phone")}</span>
                            <input name="phone" type="tel" maxlength="20" inputmode="tel" autocomplete="off"
                                prop:value=move || phone.get() on:input=text(phone)/></label>
                        {err_for("phone")}
                    </fieldset>
                })}
                <label>
                    <span>{t("visits.notes")}</span>
                    <textarea name="notes" rows="3" maxlength="4000"
                        prop:value=move || notes.get() on:input=text(notes)></textarea>
                </label>
                {number_notice("notes", move || Some(notes.get()))}
                {err_for("notes")}
                <label>
                    <span>{t("visits.appeals")}</span>
                    <textarea name="appeals" rows="3"
                        prop:value=move || appeals.get() on:input=text(appeals)></textarea>
                </label>
                {number_notice("appeals", move || Some(appeals.get()))}
                {err_for("form")}
                <button type="submit" class="primary" data-testid="save">{t("case.save")}</button>
            </form>
        </section>
    }
}
