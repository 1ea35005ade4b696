//! Entry point of the wasm app: mounts [`tongxin_app::App`] to the body.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(tongxin_app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("tongxin-app is a browser app: build it with `cargo xtask dist`");
}
