//! Two versions of the app open at once (a deploy while the user has several tabs open): the
//! newer one upgrading the database must not wait forever for the older one's connection.
//!
//! - Every connection closes itself when a newer version asks to upgrade (`versionchange`), then
//!   calls the hook the app registered ([`on_newer_version`]: the app reloads, so the tab runs
//!   the new version; a form's draft is kept across a reload). Without a hook (tests) it only
//!   closes.
//! - A tab whose upgrade is blocked (another tab, of an app from before this handler, keeps its
//!   connection) says so on the page, in the remembered language, until the upgrade goes
//!   through; the open itself waits and then continues by itself.

use crate::i18n::{tr, Lang, STORAGE_KEY};
use indexed_db_futures::database::Database;
use indexed_db_futures::internals::SystemRepr;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

thread_local! {
    static ON_NEWER: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// The notice shown while an upgrade waits for other tabs (`data-testid`).
const NOTICE_ID: &str = "db-blocked";

/// Registers what to do once this tab's connection was closed for a newer version.
pub fn on_newer_version(hook: impl Fn() + 'static) {
    ON_NEWER.with(|h| *h.borrow_mut() = Some(Rc::new(hook)));
}

/// Makes `db` close itself (and call the hook) when a newer version asks to upgrade it.
pub(crate) fn yield_to_newer(db: &Database) {
    let sys: web_sys::IdbDatabase = db.as_sys().unchecked_ref::<web_sys::IdbDatabase>().clone();
    let target = sys.clone();
    let handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |_: web_sys::Event| {
        target.close();
        if let Some(hook) = ON_NEWER.with(|h| h.borrow().clone()) {
            hook();
        }
    });
    sys.set_onversionchange(Some(handler.as_ref().unchecked_ref()));
    // Lives as long as the page (one per opened connection).
    handler.forget();
}

/// Shows (or removes) the notice that the upgrade waits for the user's other tabs.
pub(crate) fn blocked_notice(show: bool) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let existing = document
        .query_selector(&format!("[data-testid={NOTICE_ID}]"))
        .ok()
        .flatten();
    match (show, existing) {
        (true, None) => {
            let Ok(p) = document.create_element("p") else {
                return;
            };
            let lang = web_sys::window()
                .and_then(|w| w.local_storage().ok().flatten())
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
                .and_then(|code| Lang::from_code(&code))
                .unwrap_or_default();
            p.set_class_name("boot-error");
            let _ = p.set_attribute("data-testid", NOTICE_ID);
            let _ = p.set_attribute("role", "status");
            p.set_text_content(Some(&tr(lang, "update.other_tabs")));
            if let Some(body) = document.body() {
                let _ = body.append_child(&p);
            }
        }
        (false, Some(p)) => p.remove(),
        _ => {}
    }
}
