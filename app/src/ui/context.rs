//! What every screen can reach: the app's context (language, sync signals, sync panel, session),
//! translated strings that follow the language, and the local records of a collection.

use crate::i18n::{tr, Lang};
use crate::store::LocalStore;
use crate::sync::{client, Session, SyncSignals};
use leptos::prelude::*;
use tongxin_shared::profile::Profile;
use tongxin_shared::{Collection, Record};

/// What every screen can reach; provided by `App`.
#[derive(Clone, Copy)]
pub(crate) struct Ctx {
    pub lang: RwSignal<Lang>,
    pub sig: SyncSignals,
    pub panel: RwSignal<bool>,
    /// The signed-in session (None: the login screen is shown).
    pub session: RwSignal<Option<Session>>,
}

pub(crate) fn ctx() -> Ctx {
    use_context::<Ctx>().expect("Ctx is provided by App")
}

/// A translated string that follows the language.
pub(crate) fn t(key: &'static str) -> impl Fn() -> String + Copy {
    let lang = ctx().lang;
    move || tr(lang.get(), key)
}

/// What the signed-in user's device holds (`shared::profile`): subdistrict and city managers
/// hold recent cases and visits and the summaries; everyone else everything (also before the
/// client starts).
pub(crate) fn profile() -> Profile {
    client().map_or(Profile::Full, |c| Profile::of(c.me().role))
}

/// The records of a collection on this device, tombstones left out.
pub(crate) async fn live_records(collection: Collection) -> Vec<Record> {
    let Some(c) = client() else {
        return Vec::new();
    };
    c.store
        .list(collection)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.is_deleted())
        .collect()
}
