//! A grid's older history on a summary-profile device (subdistrict and city managers, who keep
//! only open and recent cases and a week of visits, docs/SYNC.md): asked of the server
//! (`GET /api/v1/history`) when the manager opens it, shown and not stored. Offline it says
//! that this needs a connection.

use super::cases::status_label;
use super::context::{ctx, t, Ctx};
use super::format::when;
use crate::api::{self, ApiError};
use crate::i18n::{tr, Lang};
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::wire::HistoryPage;
use tongxin_shared::{Collection, Record, RecordId};

/// Records per page.
const PAGE: u32 = 20;

/// One list of the history: the lines shown and where the next page starts.
#[derive(Clone, Default)]
struct Part {
    lines: Vec<String>,
    next: Option<u64>,
}

#[derive(Clone)]
enum Shown {
    Closed,
    Loading,
    Open { cases: Part, visits: Part },
    Failed(String),
}

fn field_ms(r: &Record, f: &str) -> u64 {
    r.get(f).and_then(serde_json::Value::as_u64).unwrap_or(0)
}

fn line(l: Lang, people: &crate::people::Directory, r: &Record) -> String {
    match r.collection {
        Collection::Cases => format!(
            "{} · {} · {}",
            when(field_ms(r, "reported_at")),
            r.str("title").unwrap_or_default(),
            status_label(l, r.str("status").unwrap_or_default()),
        ),
        _ => format!(
            "{} · {} · {}",
            when(field_ms(r, "visited_at")),
            people.name(r.str("warden").unwrap_or_default()),
            tr(
                l,
                &format!("visit.kind.{}", r.str("kind").unwrap_or_default())
            ),
        ),
    }
}

/// What a failed request says to the manager.
fn failure(l: Lang, e: &ApiError) -> String {
    match e {
        ApiError::Network(_) => tr(l, "history.offline"),
        other => other.to_string(),
    }
}

async fn page(
    l: Lang,
    collection: Collection,
    grid: RecordId,
    before: Option<u64>,
) -> Result<Part, String> {
    let Some(c) = client() else {
        return Err(tr(l, "history.offline"));
    };
    let HistoryPage { records, next } = api::history(&c.token(), collection, grid, before, PAGE)
        .await
        .map_err(|e| failure(l, &e))?;
    let people = super::names::people().await;
    Ok(Part {
        lines: records
            .iter()
            .map(|p| line(l, &people, &p.record))
            .collect(),
        next,
    })
}

fn list(
    l: Lang,
    title: &'static str,
    testid: &'static str,
    part: &Part,
    more: impl Fn() + Copy + 'static,
) -> impl IntoView {
    view! {
        <h4>{tr(l, title)}</h4>
        {if part.lines.is_empty() {
            view! { <p class="muted">{tr(l, "map.panel.none")}</p> }.into_any()
        } else {
            view! {
                <ul class="list compact" data-testid=testid data-n=part.lines.len().to_string()>
                    {part.lines.iter().map(|s| view! { <li>{s.clone()}</li> }).collect_view()}
                </ul>
            }.into_any()
        }}
        {part.next.is_some().then(|| view! {
            <button type="button" class="link" on:click=move |_| more()>{tr(l, "history.more")}</button>
        })}
    }
}

#[component]
pub(super) fn GridHistory(grid: RecordId) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let shown = RwSignal::new(Shown::Closed);
    let open = move || {
        shown.set(Shown::Loading);
        spawn_local(async move {
            let l = lang.get_untracked();
            let both = futures::future::join(
                page(l, Collection::Cases, grid, None),
                page(l, Collection::Visits, grid, None),
            )
            .await;
            shown.set(match both {
                (Ok(cases), Ok(visits)) => Shown::Open { cases, visits },
                (Err(e), _) | (_, Err(e)) => Shown::Failed(e),
            });
        });
    };
    // The next page of one list, appended.
    let more = move |collection: Collection| {
        let Shown::Open { cases, visits } = shown.get_untracked() else {
            return;
        };
        let before = if collection == Collection::Cases {
            cases.next
        } else {
            visits.next
        };
        spawn_local(async move {
            let got = page(lang.get_untracked(), collection, grid, before).await;
            shown.update(|s| {
                let Shown::Open { cases, visits } = s else {
                    return;
                };
                let part = if collection == Collection::Cases {
                    cases
                } else {
                    visits
                };
                match got {
                    Ok(p) => {
                        part.lines.extend(p.lines);
                        part.next = p.next;
                    }
                    Err(e) => *s = Shown::Failed(e),
                }
            });
        });
    };
    view! {
        <section class="grid-history" data-testid="grid-history">
            {move || {
                let l = lang.get();
                match shown.get() {
                    Shown::Closed => view! {
                        <button type="button" class="link" data-testid="history-open" on:click=move |_| open()>{t("history.open")}</button>
                    }.into_any(),
                    Shown::Loading => view! {
                        <p class="muted" role="status" data-testid="history-loading">
                            <span class="spinner" aria-hidden="true"></span>{tr(l, "history.loading")}
                        </p>
                    }.into_any(),
                    Shown::Failed(why) => view! {
                        <p class="error" role="alert" data-testid="history-error">{why}</p>
                        <button type="button" class="link" on:click=move |_| open()>{t("history.retry")}</button>
                    }.into_any(),
                    Shown::Open { cases, visits } => view! {
                        <div data-testid="history-loaded">
                            {list(l, "history.cases", "history-cases", &cases, move || more(Collection::Cases))}
                            {list(l, "history.visits", "history-visits", &visits, move || more(Collection::Visits))}
                        </div>
                    }.into_any(),
                }
            }}
        </section>
    }
}
