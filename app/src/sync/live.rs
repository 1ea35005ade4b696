//! The live stream: every poke starts a sync round. A browser retries an EventSource by itself
//! only after a network error, never after a non-200 answer (a 502 from a proxy, a 503 while the
//! server restarts), so on any `error` the stream is closed and opened again after a jittered
//! backoff (0.5–4 s, reset once a stream opens). It cannot send headers: the token is in the URL.

use crate::api;
use crate::sync::backoff::request_delay_ms;
use crate::sync::client::{client, Client};
use crate::sync::retry::sleep;
use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type Listener = Closure<dyn FnMut(web_sys::Event)>;

/// An open stream and the listeners it calls. Dropping it closes the stream and detaches the
/// listeners before they are freed, so none is ever called after being dropped.
pub struct Live {
    source: web_sys::EventSource,
    /// Which opening this is: a late error of an older stream does not reopen a newer one.
    generation: u64,
    on_poke: Listener,
    _on_open: Listener,
    _on_error: Listener,
}

impl Drop for Live {
    fn drop(&mut self) {
        let s = &self.source;
        let _ =
            s.remove_event_listener_with_callback("poke", self.on_poke.as_ref().unchecked_ref());
        s.set_onopen(None);
        s.set_onerror(None);
        s.close();
    }
}

thread_local! {
    /// Openings so far (the generation of the next stream) and failed openings in a row.
    static OPENINGS: std::cell::Cell<(u64, u32)> = const { std::cell::Cell::new((0, 0)) };
}

fn listener(f: impl FnMut(web_sys::Event) + 'static) -> Listener {
    Closure::new(f)
}

impl Live {
    fn open(kick: mpsc::UnboundedSender<()>, token: &str) -> Option<Self> {
        let source = web_sys::EventSource::new(&api::live_url(token)).ok()?;
        let generation = OPENINGS.with(|o| {
            let (n, fails) = o.get();
            o.set((n + 1, fails));
            n + 1
        });
        let on_poke = listener(move |_| {
            let _ = kick.unbounded_send(());
        });
        let on_open = listener(|_| OPENINGS.with(|o| o.set((o.get().0, 0))));
        let on_error = listener(move |_| {
            // Never reopen from inside the listener: the reopening drops this listener.
            spawn_local(reopen_after_error(generation));
        });
        let _ = source.add_event_listener_with_callback("poke", on_poke.as_ref().unchecked_ref());
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            source,
            generation,
            on_poke,
            _on_open: on_open,
            _on_error: on_error,
        })
    }
}

/// After an error of stream `generation`: close it, wait, open a new one (unless it was
/// replaced or closed meanwhile, or the session ended).
async fn reopen_after_error(generation: u64) {
    let Some(c) = client() else { return };
    let current = c.live.borrow().as_ref().map(|l| l.generation);
    if current != Some(generation) {
        return;
    }
    c.live.borrow_mut().take();
    let fails = OPENINGS.with(|o| {
        let (n, fails) = o.get();
        o.set((n, fails + 1));
        fails + 1
    });
    sleep(request_delay_ms(fails, js_sys::Math::random())).await;
    let still_wanted = c.live_wanted.get() && c.live.borrow().is_none();
    if still_wanted && !c.sig.signed_out.get_untracked() {
        c.open_live();
        // Pokes sent while the stream was down are lost: a round catches up.
        c.kick();
    }
}

impl Client {
    /// (Re)opens the live stream with the current token.
    pub(crate) fn open_live(&self) {
        self.close_live();
        let live = Live::open(self.kick_tx.clone(), &self.token());
        *self.live.borrow_mut() = live;
    }

    /// Stops the live stream (sign-out, or the session ended).
    pub fn close_live(&self) {
        // Dropped outside the borrow: dropping closes the stream.
        let old = self.live.borrow_mut().take();
        drop(old);
    }
}
