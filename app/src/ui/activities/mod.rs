//! Joint activities (活动) of the community and its paired units (同心圆): the list (here), and
//! the form (`form.rs`: `ActivityNew`, its fields, draft and save) with the organising units to
//! pick from (`units.rs`).

mod form;
mod units;

pub(super) use form::ActivityNew;

use super::context::{ctx, live_records, t, Ctx};
use super::photos::Gallery;
use crate::i18n::{tr, trf};
use leptos::prelude::*;
use tongxin_shared::Collection;

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
