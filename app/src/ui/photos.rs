//! Photos: shown from the device's blobs, picked, resized and stored content-addressed.

use super::context::{ctx, t, Ctx};
use crate::i18n::{tr, trf};
use crate::store::LocalStore;
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// One photo: from this device when it is here (shown "pending" until uploaded), else from the
/// server.
#[component]
pub(super) fn Photo(sha: String) -> impl IntoView {
    let Ctx { lang, sig, .. } = ctx();
    let key = sha.clone();
    let local = LocalResource::new(move || {
        sig.version.get();
        let key = key.clone();
        async move {
            let c = client()?;
            let blob = c.store.get_blob(&key).await.ok().flatten();
            Some(if let Some(b) = blob {
                (
                    crate::photo::object_url(&b.bytes, &b.content_type).unwrap_or_default(),
                    !b.uploaded,
                )
            } else {
                (crate::api::blob_url(&c.token(), &key), false)
            })
        }
    });
    view! {
        {move || local.get().flatten().map(|(src, pending)| view! {
            <figure class="photo" data-testid="photo" data-sha=sha.clone() data-pending=pending.to_string()>
                <img src=src alt=move || tr(lang.get(), "photo.alt") loading="lazy"/>
                {pending.then(|| view! { <figcaption class="tag">{t("photo.pending")}</figcaption> })}
            </figure>
        })}
    }
}

/// The photos of a record.
#[component]
pub(super) fn Gallery(shas: Vec<String>) -> impl IntoView {
    view! {
        <div class="gallery">
            {shas.into_iter().map(|sha| view! { <Photo sha=sha/> }).collect_view()}
        </div>
    }
}

/// A photo input (camera first on phones): each picked file is resized, hashed and stored on
/// the device at once, so nothing is lost if the form is left; `added` collects the hashes.
#[component]
pub(super) fn PhotoPicker(added: RwSignal<Vec<String>>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_change = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let Some(files) = input.files() else { return };
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        input.set_value("");
        error.set(None);
        busy.set(true);
        let l = lang.get_untracked();
        spawn_local(async move {
            for file in files {
                if added.with_untracked(Vec::len) >= 9 {
                    error.set(Some(tr(l, "photo.error.too_many")));
                    break;
                }
                match crate::photo::prepare(&file).await {
                    Ok(p) => {
                        let Some(c) = client() else { break };
                        match c.store.put_blob(&p.sha256, "image/jpeg", &p.bytes).await {
                            Ok(()) => {
                                added.update(|a| {
                                    if !a.contains(&p.sha256) {
                                        a.push(p.sha256.clone());
                                    }
                                });
                                c.refresh_counts().await;
                            }
                            Err(e) => {
                                let key = if e == crate::store::StoreError::Full {
                                    "photo.error.quota"
                                } else {
                                    "photo.error.store"
                                };
                                error.set(Some(trf(l, key, &[("e", &e.to_string())])));
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        error.set(Some(trf(l, e.key(), &[("name", &file.name())])));
                    }
                }
            }
            busy.set(false);
        });
    };
    view! {
        // A camera button: the file input (the back camera on a phone, the gallery too) hidden
        // inside a label that looks and works like a button.
        <label class="photos-input" data-testid="camera-button">
            <span>{t("photo.add")}</span>
            <input name="photos" type="file" accept="image/*" capture="environment" multiple on:change=on_change/>
        </label>
        <Show when=move || busy.get()><p class="muted small" role="status">{t("photo.preparing")}</p></Show>
        {move || error.get().map(|m| view! { <p class="field-error" role="alert" data-testid="photo-error">{m}</p> })}
        {move || view! { <Gallery shas=added.get()/> }}
    }
}
