//! The browser around the app: local storage, file downloads, the service worker.

use wasm_bindgen::JsCast;

/// This origin's local storage, if the browser grants it.
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Offers `text` as a file download.
pub(crate) fn download(name: &str, text: &str, content_type: &str) {
    let Some(url) = crate::photo::object_url(text.as_bytes(), content_type) else {
        return;
    };
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(a) = doc
        .create_element("a")
        .ok()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = a.set_attribute("href", &url);
        let _ = a.set_attribute("download", name);
        a.click();
    }
}

/// This page's service worker container (`None`: the browser has none, e.g. on plain HTTP).
fn workers() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::has(&navigator, &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

/// Whether the app opens and works offline on this device: a service worker controls the page,
/// and a worker is in control only once its install stored the shell and the field screens
/// (`public/sw.js`; an install that fails to store one of them never takes control). `None`:
/// this browser cannot keep the app.
pub(crate) fn offline_ready() -> Option<bool> {
    workers().map(|w| w.controller().is_some())
}

/// Calls `changed` whenever a new service worker takes control of the page; the listener goes
/// with the calling component.
pub(crate) fn on_worker_change(changed: impl Fn() + 'static) {
    use wasm_bindgen::closure::Closure;
    let Some(w) = workers() else {
        return;
    };
    let listener = Closure::<dyn Fn()>::new(changed);
    let _ =
        w.add_event_listener_with_callback("controllerchange", listener.as_ref().unchecked_ref());
    // The page's one thread owns both (cleanup needs Send).
    let held = send_wrapper::SendWrapper::new((w, listener));
    leptos::prelude::on_cleanup(move || {
        let (w, listener) = &*held;
        let _ = w.remove_event_listener_with_callback(
            "controllerchange",
            listener.as_ref().unchecked_ref(),
        );
    });
}
