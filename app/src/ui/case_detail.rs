//! A case's page: a summary (grid, source, reporter, assignee, place, photos, deadline and how
//! late), the lifecycle buttons, the timeline, and the form only on demand — offered when the
//! policy lets this user change the case (`shared::policy::rules::may_write`), so a closed case
//! shows no form to a warden and nothing is offered that the server would refuse.

use super::case_form::{source_label, CaseForm};
use super::case_place::{case_place, principal, CasePlace};
use super::cases::{category_label, deadline_text, status_label, Timeline};
use super::context::{ctx, live_records, t, Ctx};
use super::lifecycle::Lifecycle;
use super::photos::Gallery;
use crate::i18n::tr;
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use tongxin_shared::policy::assign::{self, AssigneeRef};
use tongxin_shared::policy::rules::may_write;
use tongxin_shared::{Collection, Record, RecordId};

/// The fields the edit form writes: edit is offered when the user may change any of them.
const EDITABLE: [&str; 4] = ["title", "description", "category", "photos"];

/// People's and units' names by the value a case stores (`reporter`, `assignee`): the staff list
/// kept on the device (fetched once), the units on the device, and the signed-in user.
#[derive(Clone, Debug, Default, PartialEq)]
struct Names(Vec<(String, String)>);

impl Names {
    async fn load() -> Self {
        let staff = super::staff::staff_kept().await;
        let mut out: Vec<(String, String)> = staff
            .into_iter()
            .map(|m| (m.username, m.display_name))
            .collect();
        for u in live_records(Collection::Units).await {
            if let Some(name) = u.str("name") {
                out.push((assign::unit_value(u.id), name.to_owned()));
            }
        }
        if let Some(c) = client() {
            let me = c.me();
            out.push((me.username, me.display_name));
        }
        Self(out)
    }

    /// A name for a stored value; the value itself when nobody on the device is called so.
    fn of(&self, value: &str) -> String {
        self.0.iter().find(|(k, _)| k == value).map_or_else(
            || match assign::parse(value) {
                Some(AssigneeRef::Unit(_)) | None => value.to_owned(),
                Some(AssigneeRef::Person(p)) => p.to_owned(),
            },
            |(_, n)| n.clone(),
        )
    }
}

/// Where a case was reported: its compound and its GPS fix, in words.
fn place_text(r: &Record, compound: Option<&str>) -> String {
    let fix = r
        .get("position")
        .and_then(serde_json::Value::as_array)
        .and_then(|a| {
            Some((
                a.first()?.as_f64()?,
                a.get(1)?.as_f64()?,
                a.get(2).and_then(serde_json::Value::as_f64),
            ))
        });
    let fix = fix.map(|(lon, lat, acc)| match acc {
        Some(m) => format!("{lat:.5}, {lon:.5} (±{m:.0} m)"),
        None => format!("{lat:.5}, {lon:.5}"),
    });
    [compound.map(ToOwned::to_owned), fix]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The summary of a case.
#[component]
fn Summary(record: RwSignal<Option<Record>>, place: Signal<Option<CasePlace>>) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let names = LocalResource::new(Names::load);
    let compounds = LocalResource::new(move || {
        sig.version.get();
        live_records(Collection::Compounds)
    });
    let field = move |name: &'static str| {
        move || {
            record.with(|r| {
                r.as_ref()
                    .and_then(|r| r.str(name))
                    .unwrap_or_default()
                    .to_owned()
            })
        }
    };
    let person = move |name: &'static str| {
        move || {
            let v = field(name)();
            if v.is_empty() {
                tr(lang.get(), "case.unassigned")
            } else {
                names.get().map_or(v.clone(), |n| n.of(&v))
            }
        }
    };
    let where_text = move || {
        record.with(|r| {
            let r = r.as_ref()?;
            let compound = r.str("compound").and_then(|c| {
                compounds.get().and_then(|list| {
                    list.iter()
                        .find(|x| x.id.to_string() == c)
                        .and_then(|x| x.str("name").map(ToOwned::to_owned))
                })
            });
            let text = place_text(r, compound.as_deref());
            (!text.is_empty()).then_some(text)
        })
    };
    let late = move || {
        record.with(|r| {
        r.as_ref().is_some_and(|r| {
            let st = super::cases::case_status(r);
            let d = super::cases::case_deadline(r);
            matches!((st, d), (Some(st), Some(d)) if tongxin_shared::case::is_overdue(st, d, super::format::now_ms()))
        })
    })
    };
    view! {
        <dl class="facts" data-testid="case-summary">
            <dt>{t("case.status")}</dt>
            <dd data-testid="case-status" data-value=field("status")>{move || status_label(lang.get(), &field("status")())}</dd>
            <dt>{t("case.category")}</dt>
            <dd data-testid="case-category" data-value=field("category")>{move || category_label(lang.get(), &field("category")())}</dd>
            <dt>{t("case.source")}</dt>
            <dd data-testid="case-source" data-value=field("source")>{move || source_label(lang.get(), &field("source")())}</dd>
            <dt>{t("case.grid")}</dt>
            <dd data-testid="case-grid">{move || place.get().map(|p| p.grid_label).unwrap_or_default()}</dd>
            <dt>{t("case.reporter")}</dt>
            <dd data-testid="case-reporter" data-value=field("reporter")>{person("reporter")}</dd>
            <dt>{t("case.assignee")}</dt>
            <dd data-testid="case-assignee" data-value=field("assignee")>{person("assignee")}</dd>
            {move || where_text().map(|w| view! { <dt>{t("case.place")}</dt><dd data-testid="case-place">{w}</dd> })}
            <dt>{t("case.deadline")}</dt>
            <dd data-testid="case-deadline" class:late=late data-overdue=move || late().to_string()>{move || record.with(|r| deadline_text(lang.get(), r.as_ref()))}</dd>
            <dt>{t("case.description")}</dt>
            <dd data-testid="case-description" class="pre">{field("description")}</dd>
        </dl>
        {move || {
            let shas: Vec<String> = record.with(|r| r.as_ref().and_then(|r| r.get("photos")).and_then(serde_json::Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(ToOwned::to_owned)).collect()).unwrap_or_default());
            view! { <Gallery shas=shas/> }
        }}
    }
}

/// The edit button and, on demand, the form (only for users the policy lets edit the case).
#[component]
fn EditOnDemand(
    record: RwSignal<Option<Record>>,
    place: Signal<Option<CasePlace>>,
    id: Option<RecordId>,
) -> impl IntoView {
    let Ctx { session, .. } = ctx();
    let editing = RwSignal::new(false);
    // A memo: the form is not rebuilt (losing what was typed) when a sync re-reads the case.
    let may_edit = Memo::new(move |_| {
        let Some(me) = session.with(|s| s.as_ref().map(|s| principal(&s.me))) else {
            return false;
        };
        let Some(p) = place.get() else { return false };
        record.with(|r| {
            r.as_ref()
                .is_some_and(|r| EDITABLE.iter().any(|f| may_write(&me, r, &p.place, f)))
        })
    });
    let done = Callback::new(move |()| editing.set(false));
    view! {
        {move || (may_edit.get() && !editing.get()).then(|| view! {
            <button type="button" data-testid="edit-case" aria-expanded="false"
                on:click=move |_| editing.set(true)>{t("case.edit")}</button>
        })}
        {move || (may_edit.get() && editing.get()).then(|| view! {
            <h2>{t("case.edit")}</h2>
            <CaseForm record=record id=id on_done=done place=place.get_untracked().unwrap_or_default()/>
        })}
    }
}

#[component]
pub(super) fn CaseDetail() -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| RecordId::parse(&s).ok())
    };
    let record = RwSignal::new(None::<Record>);
    let loaded = RwSignal::new(false);
    // Re-read on every change; a slower, older read never overwrites a newer one.
    Effect::new(move |_| {
        let v = sig.version.get();
        let id = id();
        spawn_local(async move {
            let r = match (client(), id) {
                (Some(c), Some(id)) => c.store.get(Collection::Cases, id).await.ok().flatten(),
                _ => None,
            };
            if sig.version.get_untracked() == v {
                record.set(r);
                loaded.set(true);
            }
        });
    });
    // The case's place, read again only when its grid changes (an open picker keeps its state).
    let grid = Memo::new(move |_| {
        record.with(|r| {
            r.as_ref()
                .and_then(|r| r.str("grid").map(ToOwned::to_owned))
        })
    });
    let place_res = LocalResource::new(move || {
        grid.get();
        async move {
            match record.get_untracked() {
                Some(r) => Some(case_place(&r).await),
                None => None,
            }
        }
    });
    let place = Signal::derive(move || place_res.get().flatten());
    let title = move || {
        record.with(|r| {
            r.as_ref()
                .and_then(|r| r.str("title"))
                .unwrap_or_default()
                .to_owned()
        })
    };
    view! {
        <section class="case-detail">
            <Show
                when=move || record.with(Option::is_some)
                fallback=move || view! { <p class="muted">{move || if loaded.get() { tr(lang.get(), "cases.not_found") } else { tr(lang.get(), "cases.loading") }}</p> }
            >
                <h1 data-testid="case-title">{title}</h1>
                <Summary record=record place=place/>
                <Lifecycle record=record place=place/>
                <EditOnDemand record=record place=place id=id()/>
                <Timeline record=record/>
            </Show>
        </section>
    }
}
