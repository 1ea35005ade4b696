//! The layout for the screen's width. Phones (and narrow windows) get the cards they always had;
//! from [`WIDE_QUERY`] up the app uses the width: lists become tables with sortable columns and
//! the map fills the space with the grid panel beside it. The CSS does the arranging (the
//! "Wide screens" section of app/style/app.css, same breakpoint); this only tells the lists which
//! of their two markups to draw.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Where the wide layout starts (keep in step with app/style/app.css).
pub(crate) const WIDE_QUERY: &str = "(min-width: 1024px)";

fn query() -> Option<web_sys::MediaQueryList> {
    web_sys::window()?.match_media(WIDE_QUERY).ok().flatten()
}

thread_local! {
    /// One listener for the app's lifetime; every list reads the same signal.
    static WIDE: ArcRwSignal<bool> = {
        let wide = ArcRwSignal::new(query().is_some_and(|q| q.matches()));
        if let Some(q) = query() {
            let w = wide.clone();
            let on_change = Closure::<dyn Fn()>::new(move || {
                w.set(query().is_some_and(|q| q.matches()));
            });
            let _ = q.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
            on_change.forget();
            // The list (and so its listener) lives as long as the page.
            std::mem::forget(q);
        }
        wide
    };
}

/// Whether the window is wide enough for tables (follows resizes and rotation).
pub(crate) fn use_wide() -> Signal<bool> {
    WIDE.with(|w| Signal::from(w.clone()))
}
