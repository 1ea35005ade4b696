//! The dashboard's charts (SVG): counts as horizontal bars, and the weekly trend of cases opened
//! and closed. Each has a text alternative; the tables beside them carry the same numbers.

use crate::i18n::{tr, trf, Lang};
use leptos::prelude::*;
use tongxin_shared::figures::WeekCounts;

/// Horizontal bars, one per row, labelled with their count.
pub(super) fn bar_chart(label: String, rows: &[(String, u32)]) -> impl IntoView {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let h = 22.0 * rows.len() as f64 + 4.0;
    view! {
        <svg class="bars" viewBox=format!("0 0 320 {h}") role="img" aria-label=label>
            {rows.iter().enumerate().map(|(i, (label, n))| {
                let y = 22.0 * i as f64 + 2.0;
                let w = 180.0 * f64::from(*n) / f64::from(max);
                view! {
                    <g>
                        <text x="0" y=y + 14.0 class="bar-label">{label.clone()}</text>
                        <rect x="110" y=y width=w.max(1.0) height="16" class="bar"></rect>
                        <text x=112.0 + w + 4.0 y=y + 13.0 class="bar-value">{n.to_string()}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

/// Cases opened and closed per week: a pair of bars per week, oldest on the left, with the
/// first and last week written under the axis.
pub(super) fn trend_chart(l: Lang, weeks: &[WeekCounts]) -> impl IntoView {
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const BASE: f64 = 150.0;
    let max = weeks
        .iter()
        .map(|w| w.opened.max(w.closed))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = W / weeks.len().max(1) as f64;
    let bar = (slot * 0.4).max(1.0);
    let y = |n: u32| BASE - 130.0 * f64::from(n) / f64::from(max);
    let opened: u32 = weeks.iter().map(|w| w.opened).sum();
    let closed: u32 = weeks.iter().map(|w| w.closed).sum();
    let first = weeks.first().map(|w| w.week.clone()).unwrap_or_default();
    let last = weeks.last().map(|w| w.week.clone()).unwrap_or_default();
    let label = trf(
        l,
        "dash.trend.alt",
        &[
            ("from", &first),
            ("to", &last),
            ("opened", &opened.to_string()),
            ("closed", &closed.to_string()),
        ],
    );
    view! {
        <figure class="trend" data-testid="trend-chart">
            <svg class="trend-chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=label>
                <line x1="0" x2=W y1=BASE y2=BASE class="axis"></line>
                <text x="0" y="12" class="trend-max">{max.to_string()}</text>
                {weeks.iter().enumerate().map(|(i, w)| {
                    let x = slot * i as f64 + slot * 0.1;
                    view! {
                        <g>
                            <rect x=x y=y(w.opened) width=bar height=BASE - y(w.opened) class="opened"></rect>
                            <rect x=x + bar y=y(w.closed) width=bar height=BASE - y(w.closed) class="closed"></rect>
                        </g>
                    }
                }).collect_view()}
                <text x="0" y=H - 6.0 class="trend-week">{first}</text>
                <text x=W y=H - 6.0 class="trend-week end">{last}</text>
            </svg>
            <figcaption class="legend">
                <span><span class="swatch opened" aria-hidden="true"></span>{tr(l, "dash.opened")}</span>
                <span><span class="swatch closed" aria-hidden="true"></span>{tr(l, "dash.closed_in_week")}</span>
            </figcaption>
        </figure>
    }
}
