//! The browser around the app: local storage and file downloads.

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
