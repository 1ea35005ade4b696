//! Which household a visit is to (`VisitHousehold`): one of the chosen grid's (and compound's)
//! households on the device, or one added on the spot (`NewHousehold`: address, head of
//! household, phone), checked by `new_household` when the visit is saved.

use super::state::VisitForm;
use crate::i18n::{tr, Lang};
use crate::ui::context::{live_records, t};
use crate::ui::forms::field_error;
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_shared::Collection;

/// A household on the device: (id, grid, compound, address, head of household as the user may
/// see it — masked above the handling level).
type HouseholdRow = (String, String, String, String, String);

/// The households on the device, by address.
async fn households_on_device() -> Vec<HouseholdRow> {
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

/// For a household visit: the household select, and the new household's fields when "add" is
/// picked.
#[component]
pub(super) fn VisitHousehold(form: VisitForm) -> impl IntoView {
    let VisitForm {
        compound,
        household,
        ..
    } = form;
    let households = LocalResource::new(households_on_device);
    // The households of the chosen grid (and compound, when one is chosen).
    let here = move || {
        let (g, place) = (form.chosen_grid(), compound.get());
        households
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|h| h.1 == g && (place.is_empty() || h.2 == place))
            .collect::<Vec<_>>()
    };
    view! {
        {move || form.household_visit().then(|| view! {
            <label>
                <span>{t("household.title")}</span>
                <select name="household" on:change=move |ev| household.set(event_target_value(&ev))>
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
        {move || (form.household_visit() && household.get() == NEW_HOUSEHOLD).then(|| view! { <NewHousehold form=form/> })}
    }
}

/// A household added on the spot: address (required), head of household, phone.
#[component]
fn NewHousehold(form: VisitForm) -> impl IntoView {
    let VisitForm {
        address,
        head,
        phone,
        error,
        ..
    } = form;
    let text = |sig: RwSignal<String>| move |ev| sig.set(event_target_value(&ev));
    view! {
        <fieldset class="household" data-testid="new-household">
            <legend>{t("household.new")}</legend>
            <label><span>{t("household.address")}</span>
                <input name="address" type="text" maxlength="200" autocomplete="off"
                    prop:value=move || address.get() on:input=text(address)/></label>
            {field_error(error, "address")}
            <label><span>{t("household.head_name")}</span>
                <input name="head_name" type="text" maxlength="60" autocomplete="off"
                    prop:value=move || head.get() on:input=text(head)/></label>
            <label><span>{t("household.phone")}</span>
                <input name="phone" type="tel" maxlength="20" inputmode="tel" autocomplete="off"
                    prop:value=move || phone.get() on:input=text(phone)/></label>
            {field_error(error, "phone")}
        </fieldset>
    }
}

/// The fields of the household added on the spot, in `grid` (and `compound`, unless empty); the
/// field at fault and why when the address is missing or the phone implausible.
pub(super) fn new_household(
    form: VisitForm,
    grid: &str,
    compound: &str,
    l: Lang,
) -> Result<BTreeMap<String, serde_json::Value>, (&'static str, String)> {
    let addr = form.address.get_untracked().trim().to_owned();
    if addr.is_empty() {
        return Err(("address", tr(l, "household.error.address")));
    }
    let tel = form.phone.get_untracked().trim().to_owned();
    if !tel.is_empty() && !tongxin_shared::schema::plausible_phone(&tel) {
        return Err(("phone", tr(l, "household.error.phone")));
    }
    let mut h: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    h.insert("grid".into(), grid.into());
    if !compound.is_empty() {
        h.insert("compound".into(), compound.into());
    }
    h.insert("address".into(), addr.into());
    let name = form.head.get_untracked().trim().to_owned();
    if !name.is_empty() {
        h.insert("head_name".into(), name.into());
    }
    if !tel.is_empty() {
        h.insert("phone".into(), tel.into());
    }
    Ok(h)
}
