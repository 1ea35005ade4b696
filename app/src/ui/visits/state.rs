//! What the visit form's pieces share: a signal per field (all kept as the form's draft), the
//! form's error, and what follows from them (the kind and the grid in effect).

use crate::sync::Session;
use crate::ui::forms::{Draft, FormError};
use leptos::prelude::*;
use tongxin_shared::RecordId;

/// The kind of a visit to a household (the default), which may name one.
pub(super) const HOUSEHOLD_VISIT: &str = "household_visit";

/// The visit form's fields and error, handed to each piece (a `Copy` of signals).
#[derive(Clone, Copy)]
pub(super) struct VisitForm {
    pub(super) kind: RwSignal<String>,
    pub(super) grid: RwSignal<Option<String>>,
    pub(super) compound: RwSignal<String>,
    /// The household picked: its id, `NEW_HOUSEHOLD`, or empty.
    pub(super) household: RwSignal<String>,
    /// A household added on the spot.
    pub(super) address: RwSignal<String>,
    pub(super) head: RwSignal<String>,
    pub(super) phone: RwSignal<String>,
    pub(super) notes: RwSignal<String>,
    /// The residents' appeals heard, one per line.
    pub(super) appeals: RwSignal<String>,
    pub(super) error: FormError,
    session: RwSignal<Option<Session>>,
}

impl VisitForm {
    /// An empty form for the signed-in `session`'s user.
    pub(super) fn new(session: RwSignal<Option<Session>>) -> Self {
        Self {
            kind: RwSignal::new(String::new()),
            grid: RwSignal::new(None),
            compound: RwSignal::new(String::new()),
            household: RwSignal::new(String::new()),
            address: RwSignal::new(String::new()),
            head: RwSignal::new(String::new()),
            phone: RwSignal::new(String::new()),
            notes: RwSignal::new(String::new()),
            appeals: RwSignal::new(String::new()),
            error: RwSignal::new(None),
            session,
        }
    }

    /// The fields the draft keeps, by their names in it.
    pub(super) fn draft(self) -> Vec<(&'static str, Draft)> {
        vec![
            ("kind", Draft::Text(self.kind)),
            ("grid", Draft::Opt(self.grid)),
            ("compound", Draft::Text(self.compound)),
            ("household", Draft::Text(self.household)),
            ("address", Draft::Text(self.address)),
            ("head_name", Draft::Text(self.head)),
            ("phone", Draft::Text(self.phone)),
            ("notes", Draft::Text(self.notes)),
            ("appeals", Draft::Text(self.appeals)),
        ]
    }

    /// The user's grids.
    pub(super) fn grids(self) -> Vec<RecordId> {
        self.session
            .with(|s| s.as_ref().map(|s| s.me.grids.clone()).unwrap_or_default())
    }

    /// The grid the visit is in: the one picked, else the user's first.
    pub(super) fn chosen_grid(self) -> String {
        self.grid
            .get()
            .filter(|g| !g.is_empty())
            .or_else(|| self.grids().first().map(ToString::to_string))
            .unwrap_or_default()
    }

    /// The kind picked, else a household visit.
    pub(super) fn kind_now(self) -> String {
        let k = self.kind.get();
        if k.is_empty() {
            HOUSEHOLD_VISIT.to_owned()
        } else {
            k
        }
    }

    /// Whether the visit is to a household (which the form then asks for).
    pub(super) fn household_visit(self) -> bool {
        self.kind_now() == HOUSEHOLD_VISIT
    }
}
