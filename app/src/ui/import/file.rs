//! The import's first steps: the file (`ImportFile`), and how to read it (`ImportMapping`: its
//! coordinate system and the properties holding code, name and community). Any change forgets
//! the last check.

use super::state::ImportState;
use crate::ui::context::t;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::geoimport::Crs;

/// Reads a chosen file as text.
async fn file_text(file: web_sys::File) -> Result<String, String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{e:?}"))?;
    text.as_string()
        .ok_or_else(|| "the file is not text".into())
}

/// The file input; the chosen file is read at once.
#[component]
pub(super) fn ImportFile(state: ImportState) -> impl IntoView {
    let ImportState { text, error, .. } = state;
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        state.reset();
        text.set(None);
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        let name = file.name();
        spawn_local(async move {
            match file_text(file).await {
                Ok(s) => text.set(Some((name, s))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <label><span>{t("import.file")}</span>
            <input name="geojson" type="file" accept=".geojson,.json,application/geo+json,application/json"
                data-testid="import-file" on:change=on_file/></label>
    }
}

/// The file's coordinate system and the three property names.
#[component]
pub(super) fn ImportMapping(state: ImportState) -> impl IntoView {
    let crs = state.crs;
    let prop_input = move |label: &'static str, name: &'static str, sig: RwSignal<String>| {
        view! {
            <label><span>{t(label)}</span>
                <input name=name type="text" required prop:value=move || sig.get()
                    on:input=move |ev| { sig.set(event_target_value(&ev)); state.reset(); }/></label>
        }
    };
    view! {
        <label><span>{t("import.crs")}</span>
            <select name="crs" on:change=move |ev| {
                if let Some(c) = Crs::parse(&event_target_value(&ev)) { crs.set(c); }
                state.reset();
            }>
                <option value="wgs84">{t("import.crs.wgs84")}</option>
                <option value="gcj02">{t("import.crs.gcj02")}</option>
                <option value="bd09">{t("import.crs.bd09")}</option>
            </select></label>
        {prop_input("import.prop.code", "prop_code", state.code_prop)}
        {prop_input("import.prop.name", "prop_name", state.name_prop)}
        {prop_input("import.prop.community", "prop_community", state.community_prop)}
    }
}
