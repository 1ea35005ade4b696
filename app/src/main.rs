//! Entry point of the wasm app: mounts [`tongxin_app::App`] to the body.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    // A newer version of the app (another tab, after a deploy) upgrades the local database:
    // this tab's connection closes and the tab reloads into the new version.
    tongxin_app::idb::on_newer_version(|| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    leptos::mount::mount_to_body(tongxin_app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("tongxin-app is a browser app: build it with `cargo xtask dist`");
}
