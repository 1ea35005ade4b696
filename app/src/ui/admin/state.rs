//! What the users' section shares (`UsersState`: the list's reload, the form's fields, its
//! messages) and what changes it as a whole: the list asked for again (`reload`), the form
//! cleared or filled from a user (`clear`, `edit`).

use leptos::prelude::*;
use tongxin_shared::case::{Level, Role};
use tongxin_shared::wire::{UserSummary, MIN_PASSWORD_CHARS};
use tongxin_shared::RecordId;

/// The users' section's signals, handed to each piece (a `Copy` of signals).
#[derive(Clone, Copy)]
pub(super) struct UsersState {
    /// Bumped to ask the server for the list again (after a save).
    pub(super) reload: RwSignal<u64>,
    pub(super) error: RwSignal<Option<String>>,
    pub(super) notice: RwSignal<Option<String>>,
    /// The form edits an existing user (else it creates one).
    pub(super) editing: RwSignal<bool>,
    pub(super) username: RwSignal<String>,
    pub(super) display_name: RwSignal<String>,
    pub(super) role: RwSignal<String>,
    pub(super) password: RwSignal<String>,
    /// The area at the role's level, picked from the hierarchy.
    pub(super) area: RwSignal<Vec<RecordId>>,
    /// The level of the role chosen.
    pub(super) level: Signal<Level>,
    pub(super) disabled: RwSignal<bool>,
}

impl UsersState {
    /// The form empty (a new warden).
    pub(super) fn new() -> Self {
        let role = RwSignal::new("warden".to_owned());
        Self {
            reload: RwSignal::new(0),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            editing: RwSignal::new(false),
            username: RwSignal::new(String::new()),
            display_name: RwSignal::new(String::new()),
            role,
            password: RwSignal::new(String::new()),
            area: RwSignal::new(Vec::new()),
            level: Signal::derive(move || {
                Role::parse(&role.get()).map_or(Level::Grid, Role::level)
            }),
            disabled: RwSignal::new(false),
        }
    }

    /// Asks the server for the list shown again.
    pub(super) fn reload(self) {
        self.reload.update(|n| *n += 1);
    }

    /// Empties the form: a new warden again.
    pub(super) fn clear(self) {
        self.editing.set(false);
        for s in [self.username, self.display_name, self.password] {
            s.set(String::new());
        }
        self.area.set(Vec::new());
        self.role.set("warden".into());
        self.disabled.set(false);
    }

    /// Fills the form with `u`, to edit them.
    pub(super) fn edit(self, u: UserSummary) {
        self.area.set(area_of(&u));
        self.editing.set(true);
        self.username.set(u.username);
        self.display_name.set(u.display_name);
        self.role.set(u.role.as_str().to_owned());
        self.disabled.set(u.disabled);
    }
}

/// The places of a user's area at their role's level (a warden's grids, a community manager's
/// communities …); the levels above follow from them on the server.
fn area_of(u: &UserSummary) -> Vec<RecordId> {
    match u.role.level() {
        Level::Grid => u.grids.clone(),
        Level::Community => u.communities.clone(),
        Level::Subdistrict => u.subdistricts.clone(),
        Level::City => Vec::new(),
    }
}

/// The password rule the server enforces, checked before asking it.
pub(super) fn password_ok(p: &str) -> bool {
    p.chars().count() >= MIN_PASSWORD_CHARS
}
