//! User Timing marks and measures: read by the benches (`cargo xtask bench pull`, `lists`,
//! `map`) and shown in the browser's profiler.

/// A User Timing mark.
pub(crate) fn mark(name: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// A User Timing measure from the mark `start` to now.
pub(crate) fn measure(name: &str, start: &str) {
    if let Some(p) = web_sys::window().and_then(|w| w.performance()) {
        let _ = p.measure_with_start_mark(name, start);
    }
}
