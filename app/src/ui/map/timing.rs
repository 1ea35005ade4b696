//! Running code after the next frame (the map's timings measure until the frame is drawn).

pub(crate) use crate::timing::{mark, measure};

/// Runs `f` at the next animation frame, after the pending DOM updates.
pub(crate) fn after_frame(f: impl FnOnce() + 'static) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}
