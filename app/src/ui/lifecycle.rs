//! A case's lifecycle buttons: the steps the signed-in role may take now (上报 → 受理 → 处置中 →
//! 已办结 → 销号, or 退回), reminders (督办) on overdue cases, and routing (受理派单, 改派): the
//! accepting level picks an assignee in the case's area (`assignee_picker`). A step is one local
//! commit built by `shared::policy::actions`: the new state and its timeline entry.

use super::assignee_picker::AssigneePicker;
use super::case_place::{principal, CasePlace};
use super::cases::case_status;
use super::context::{ctx, t, Ctx};
use super::format::now_ms;
use super::forms::{number_notice, save_failed};
use crate::i18n::{tr, Lang};
use crate::sync::client;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tongxin_shared::case::{allowed_actions, owner_level, supervision_level, Action, Status};
use tongxin_shared::policy::{actions, rules::may_write};
use tongxin_shared::schema::validate_op;
use tongxin_shared::{Collection, OpBody, Record};

/// What the picker is open for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Picking {
    /// 受理派单: accept and assign.
    Accept,
    /// 改派: hand an accepted case to someone else.
    Reassign,
}

/// Commits the op bodies on the case, after the shared schema check; the error in the user's
/// language otherwise. `done` runs once the commit is in the local database.
fn commit(
    l: Lang,
    record: &Record,
    bodies: Vec<OpBody>,
    error: RwSignal<Option<String>>,
    done: impl FnOnce() + 'static,
) {
    let Some(c) = client() else { return };
    let ops: Vec<_> = bodies
        .into_iter()
        .map(|b| c.op(Collection::Cases, record.id, b))
        .collect();
    if let Some(e) = ops.iter().find_map(|op| validate_op(op).err()) {
        error.set(Some(e.message));
        return;
    }
    spawn_local(async move {
        match c.commit(ops).await {
            Ok(()) => done(),
            Err(e) => error.set(Some(save_failed(l, &e))),
        }
    });
}

/// The panel's state, and what its buttons write (each one local commit, the note cleared after).
#[derive(Clone, Copy)]
struct Panel {
    record: RwSignal<Option<Record>>,
    note: RwSignal<String>,
    error: RwSignal<Option<String>>,
    picking: RwSignal<Option<Picking>>,
    lang: RwSignal<Lang>,
}

impl Panel {
    fn me_name() -> String {
        client().map(|c| c.me().username).unwrap_or_default()
    }

    /// 督办: a reminder on the timeline.
    fn remind(self) {
        let Self {
            record,
            note,
            error,
            lang,
            ..
        } = self;
        error.set(None);
        let Some(r) = record.get_untracked() else {
            return;
        };
        let body = actions::remind(
            &r,
            &Self::me_name(),
            &note.get_untracked(),
            uuid::Uuid::now_v7(),
        );
        commit(lang.get_untracked(), &r, vec![body], error, move || {
            note.set(String::new());
        });
    }

    /// A lifecycle step (with the assignee when accepting), closing the picker.
    fn step(self, action: Action, assignee: Option<String>) {
        let Self {
            record,
            note,
            error,
            picking,
            lang,
        } = self;
        error.set(None);
        let Some(r) = record.get_untracked() else {
            return;
        };
        let bodies = actions::step(
            case_status(&r),
            action,
            &Self::me_name(),
            assignee.as_deref(),
            now_ms(),
            &note.get_untracked(),
            uuid::Uuid::now_v7(),
        );
        commit(lang.get_untracked(), &r, bodies, error, move || {
            note.set(String::new());
            picking.set(None);
        });
    }

    /// 改派: the case to `value`, closing the picker.
    fn reassign(self, value: &str) {
        let Self {
            record,
            note,
            error,
            picking,
            lang,
        } = self;
        error.set(None);
        let Some(r) = record.get_untracked() else {
            return;
        };
        let bodies = actions::reassign(
            &r,
            &Self::me_name(),
            value,
            &note.get_untracked(),
            uuid::Uuid::now_v7(),
        );
        commit(lang.get_untracked(), &r, bodies, error, move || {
            note.set(String::new());
            picking.set(None);
        });
    }
}

/// The lifecycle panel of a case at `place` (None while the place is being read).
#[component]
pub(super) fn Lifecycle(
    record: RwSignal<Option<Record>>,
    place: Signal<Option<CasePlace>>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let picking = RwSignal::new(None::<Picking>);
    let may_assign = may_assign(record, place);
    let panel = Panel {
        record,
        note,
        error,
        picking,
        lang,
    };
    let remind = move || panel.remind();
    // Accepting asks whom to assign when the user may assign; otherwise it only accepts.
    let act = move |action: Action| {
        if action == Action::Accept && may_assign().unwrap_or(false) {
            picking.set(Some(Picking::Accept));
        } else {
            panel.step(action, None);
        }
    };
    let picked = Callback::new(move |value: String| match picking.get_untracked() {
        Some(Picking::Accept) => panel.step(Action::Accept, Some(value)),
        Some(Picking::Reassign) => panel.reassign(&value),
        None => {}
    });
    let cancel = Callback::new(move |()| picking.set(None));
    let preselect = move || {
        record.with_untracked(|r| {
            r.as_ref().and_then(|r| {
                r.str("assignee")
                    .or_else(|| r.str("reporter"))
                    .map(ToOwned::to_owned)
            })
        })
    };
    let offered = offered(record, may_assign);
    view! {
        {move || offered.get().map(|(list, reminds, reassign)| view! {
            <div class="lifecycle" data-testid="lifecycle">
                <label>
                    <span>{t("case.step_note")}</span>
                    <textarea name="note" rows="2" maxlength="500"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                {number_notice("note", move || Some(note.get()))}
                <div class="actions">
                    {list.into_iter().map(|a| view! {
                        <button type="button" class=if matches!(a, Action::Close | Action::Resolve | Action::Accept) { "primary" } else { "" }
                            data-testid="case-action" data-action=a.as_str()
                            aria-expanded=move || (a == Action::Accept).then(|| (picking.get() == Some(Picking::Accept)).to_string())
                            on:click=move |_| act(a)>{move || tr(lang.get(), &format!("action.{}", a.as_str()))}</button>
                    }).collect_view()}
                    {reassign.then(|| view! {
                        <button type="button" data-testid="case-action" data-action="reassign"
                            aria-expanded=move || (picking.get() == Some(Picking::Reassign)).to_string()
                            on:click=move |_| picking.set(Some(Picking::Reassign))>{t("action.reassign")}</button>
                    })}
                    {reminds.then(|| view! {
                        <button type="button" data-testid="case-action" data-action="remind"
                            on:click=move |_| remind()>{move || tr(lang.get(), "action.remind")}</button>
                    })}
                </div>
                {move || picking.get().zip(place.get()).map(|(p, place)| {
                    let key = if p == Picking::Accept { "assign.confirm_accept" } else { "assign.confirm" };
                    view! {
                        <AssigneePicker place=place preselect=preselect().unwrap_or_default()
                            confirm_label=Signal::derive(move || tr(lang.get(), key))
                            on_pick=picked on_cancel=cancel/>
                    }
                })}
                {move || error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
        })}
    }
}

/// Whether the user may set the assignee of the case at `place` (the policy's own answer); `None`
/// while the session or the place is not known.
fn may_assign(
    record: RwSignal<Option<Record>>,
    place: Signal<Option<CasePlace>>,
) -> impl Fn() -> Option<bool> + Copy + Send + Sync + 'static {
    let Ctx { session, .. } = ctx();
    move || {
        let me = session.with(|s| s.as_ref().map(|s| principal(&s.me)))?;
        let place = place.get()?;
        record.with(|r| {
            r.as_ref()
                .map(|r| may_write(&me, r, &place.place, "assignee"))
        })
    }
}

/// What the panel offers, as a memo: the steps the signed-in role may take now, whether it may
/// remind (督办), whether it may reassign (改派); `None` when nothing.
fn offered(
    record: RwSignal<Option<Record>>,
    may_assign: impl Fn() -> Option<bool> + Copy + Send + Sync + 'static,
) -> Memo<Option<(Vec<Action>, bool, bool)>> {
    let Ctx { sig, session, .. } = ctx();
    let actions_now = move || {
        let role = session.with(|s| s.as_ref().map(|s| s.me.role))?;
        record.with(|r| {
            let r = r.as_ref()?;
            let status = case_status(r)?;
            // Closing (销号) and returning belong to the level the case has escalated to.
            let owner = sig.deadlines.with(|d| owner_level(d, r, now_ms()));
            Some(allowed_actions(status, role, owner))
        })
    };
    // 改派: an accepted, open case whose assignee the user may change.
    let may_reassign = move || {
        may_assign().unwrap_or(false)
            && record.with(|r| {
                r.as_ref()
                    .and_then(case_status)
                    .is_some_and(|s| s.is_open() && s != Status::Reported)
            })
    };
    // 督办: a manager at or above the level an overdue case has escalated to records a reminder
    // on its timeline (the case stays where it is).
    let can_remind = move || {
        let role = session.with(|s| s.as_ref().map(|s| s.me.role))?;
        record.with(|r| {
            let r = r.as_ref()?;
            let level = sig.deadlines.with(|d| supervision_level(d, r, now_ms()))?;
            Some(role.is_manager() && role.level() >= level)
        })
    };
    // What the panel offers, as a memo: a sync that re-reads the same case does not redraw the
    // panel (an open picker keeps its choice).
    Memo::new(move |_| {
        let list = actions_now().unwrap_or_default();
        let reminds = can_remind().unwrap_or(false);
        let reassign = may_reassign();
        (reminds || reassign || !list.is_empty()).then_some((list, reminds, reassign))
    })
}
