//! The browser around the client: online/offline events, this user's other tabs (a
//! BroadcastChannel: "changed", "signed out", a completed round) and the election of the one tab
//! that runs the loops (Web Locks).

use crate::sync::badge::Round;
use crate::sync::client::{client, Client};
use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Posted when local data changed in a tab.
pub const CHANGED: &str = "changed";
/// Posted on the user's BroadcastChannel when they sign out in one tab.
pub const SIGNED_OUT: &str = "signed_out";
/// Posted by a tab when it starts: the sync tab runs a round, and every tab hears how it ended.
pub const HELLO: &str = "hello";
/// Prefix of the message the sync tab posts after each round (then the round as JSON).
const ROUND_PREFIX: &str = "round:";

/// What the sync tab tells the others after a round, so every tab's badge tells the same.
#[derive(Serialize, Deserialize)]
struct RoundNews {
    round: Option<Round>,
    failed: bool,
}

/// Posts `message` to this user's other tabs.
pub fn post(client: &Client, message: &str) {
    if let Some(ch) = &client.channel {
        let _ = ch.post_message(&JsValue::from_str(message));
    }
}

/// Tells the other tabs how the round ended.
pub fn post_round(client: &Client, round: Option<Round>, failed: bool) {
    if let Ok(json) = serde_json::to_string(&RoundNews { round, failed }) {
        post(client, &format!("{ROUND_PREFIX}{json}"));
    }
}

/// Online/offline and the other tabs' messages. The listeners live as long as the page.
pub fn wire_events(this: &Client) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let sig = this.sig;
    let kick = this.kick_tx.clone();
    let on_online = Closure::<dyn FnMut()>::new(move || {
        sig.online.set(true);
        let _ = kick.unbounded_send(());
    });
    let on_offline = Closure::<dyn FnMut()>::new(move || sig.online.set(false));
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
    on_online.forget();
    on_offline.forget();
    let Some(ch) = &this.channel else {
        return;
    };
    let kick = this.kick_tx.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let text = ev.data().as_string().unwrap_or_default();
            if text == SIGNED_OUT {
                // Signed out in another tab: this one follows.
                if let Some(w) = web_sys::window() {
                    let _ = w.location().set_href("/login");
                }
                return;
            }
            if text == HELLO {
                let _ = kick.unbounded_send(());
                return;
            }
            if let Some(news) = text
                .strip_prefix(ROUND_PREFIX)
                .and_then(|j| serde_json::from_str::<RoundNews>(j).ok())
            {
                if let Some(round) = news.round {
                    sig.last_round.set(Some(round));
                    sig.rounds.update(|n| *n += 1);
                }
                sig.failed.set(news.failed);
                return;
            }
            // Another tab's changes may be pages it staged: this tab's next read unpacks them.
            if let Some(c) = client() {
                c.store.forget_staged();
            }
            sig.version.update(|v| *v += 1);
            sig.places_version.update(|v| *v += 1);
            let _ = kick.unbounded_send(());
            spawn_local(async {
                if let Some(c) = client() {
                    c.refresh_counts().await;
                    c.load_settings().await;
                }
            });
        });
    ch.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}

/// Runs the loops in one tab only: the holder of the user's "tongxin-sync-…" Web Lock. Without
/// Web Locks (old browsers), every tab runs them (safe: pushes are idempotent).
pub fn elect(client: Rc<Client>, rx: mpsc::UnboundedReceiver<()>, username: &str) {
    let run = move || spawn_local(client.run(rx));
    let locks = web_sys::window().map_or(JsValue::UNDEFINED, |w| {
        js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("locks"))
            .unwrap_or(JsValue::UNDEFINED)
    });
    let request = js_sys::Reflect::get(&locks, &JsValue::from_str("request"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    match request {
        Some(request) if !locks.is_undefined() => {
            let granted = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
                run();
                // Hold the lock for the life of the tab.
                js_sys::Promise::new(&mut |_, _| {}).into()
            });
            if request
                .call2(
                    &locks,
                    &JsValue::from_str(&format!("tongxin-sync-{username}")),
                    &granted,
                )
                .is_err()
            {
                web_sys::console::warn_1(&JsValue::from_str("tongxin: Web Locks request failed"));
            }
        }
        _ => run(),
    }
}
