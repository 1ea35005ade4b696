//! The rows of the long lists (cases, visits), kept in memory for the whole session and updated
//! record by record as sync and the user change them.
//!
//! Decoding a city's 8,405 cases and 46,801 visits from IndexedDB took 18–22 s; a list screen
//! must show its first rows in a fraction of that. So the device keeps each record's compact row
//! next to it (`LocalStore::list_rows`, written in the record's own transaction), and the index
//! is built from those with one read — in the background when sync goes quiet, or when a list
//! opens first — and after that only the records a change names are read again (`SyncSignals::changes`, as the map's grid states do).
//! Built in slices that yield to the event loop; until it is, a list in its default order shows
//! its first page read from the device's list order ([`first_page`]).
//! A change the index cannot follow (another tab, an area reset, a missed bump, a very large
//! pull) marks it stale and the next refresh rebuilds it.
//!
//! Rows are never removed (a deleted record's row is marked deleted), so a position in the row
//! table stays valid until a rebuild, which starts a new `epoch`.

use crate::listing::cases::CaseRow;
use crate::listing::rows::{ListRow, PlaceCells};
use crate::listing::visits::VisitRow;
use crate::listing::Names;
use crate::store::LocalStore;
use crate::sync::badge::Local;
use crate::sync::{client, SyncSignals};
use crate::timing::{mark, measure};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use tongxin_shared::{Collection, Record, RecordId};

/// Beyond this many changed records a refresh rebuilds instead of reading them one by one.
const MAX_INCREMENTAL: usize = 2_000;

/// Rows put into the index between two yields to the event loop while it is built (a city's
/// 55,000 rows in one go would hold the main thread — clicks, scrolling, the first page being
/// drawn — for as long as they take).
const SLICE: usize = 2_000;

/// A table of rows with their positions by record id.
pub(crate) struct Rows<R> {
    pub rows: Vec<R>,
    pos: HashMap<RecordId, usize>,
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            pos: HashMap::new(),
        }
    }
}

impl<R> Rows<R> {
    fn upsert(&mut self, id: RecordId, row: R) {
        if let Some(i) = self.pos.get(&id) {
            self.rows[*i] = row;
        } else {
            self.pos.insert(id, self.rows.len());
            self.rows.push(row);
        }
    }
}

/// The rows of the long lists and the names they refer to.
#[derive(Default)]
pub(crate) struct ListIndex {
    pub grids: Names,
    pub compounds: Names,
    pub people: Names,
    pub cases: Rows<CaseRow>,
    pub visits: Rows<VisitRow>,
    /// How many live cases and visits the device holds.
    pub live_cases: usize,
    pub live_visits: usize,
    /// Bumped by every rebuild (positions from an older epoch are void).
    pub epoch: u64,
}

impl ListIndex {
    fn name_place(&mut self, p: &PlaceCells) {
        let key = p.id.to_string();
        let names = match p.collection {
            Collection::Grids => &mut self.grids,
            Collection::Compounds => &mut self.compounds,
            _ => return,
        };
        // Grids read as "G0101 第一网格" (code and name), compounds by name; both found by either.
        let shown = match p.collection {
            Collection::Grids => crate::ui::names::code_and_name(&p.code, &p.name),
            _ => p.name.clone(),
        };
        names.label(&key, &shown, &[&p.code, &p.name]);
    }

    fn put_row(&mut self, row: &ListRow) {
        match row {
            ListRow::Case(c) => {
                let row = CaseRow::from_cells(c, &mut self.grids, &mut self.people);
                self.cases.upsert(c.id, row);
            }
            ListRow::Visit(v) => {
                let row =
                    VisitRow::from_cells(v, &mut self.grids, &mut self.compounds, &mut self.people);
                self.visits.upsert(v.id, row);
            }
            ListRow::Place(p) => self.name_place(p),
        }
    }

    fn put(&mut self, r: &Record) {
        if let Some(row) = ListRow::of(r) {
            self.put_row(&row);
        }
    }

    /// The index of `rows` (places first: rows then find their grid's name already labelled),
    /// the others in their order.
    fn from_rows(rows: &[ListRow]) -> Self {
        let mut ix = Self::default();
        let (places, lists): (Vec<&ListRow>, Vec<&ListRow>) =
            rows.iter().partition(|r| matches!(r, ListRow::Place(_)));
        for r in places.into_iter().chain(lists) {
            ix.put_row(r);
        }
        ix.recount();
        ix
    }

    /// [`ListIndex::from_rows`] in slices of [`SLICE`] rows, yielding to the event loop between
    /// them.
    async fn from_rows_sliced(rows: &[ListRow]) -> Self {
        let mut ix = Self::default();
        let (places, lists): (Vec<&ListRow>, Vec<&ListRow>) =
            rows.iter().partition(|r| matches!(r, ListRow::Place(_)));
        let all: Vec<&ListRow> = places.into_iter().chain(lists).collect();
        for slice in all.chunks(SLICE) {
            for r in slice {
                ix.put_row(r);
            }
            gloo_timers::future::TimeoutFuture::new(0).await;
        }
        ix.recount();
        ix
    }

    /// A record that is no longer on the device.
    fn gone(&mut self, c: Collection, id: RecordId) {
        match c {
            Collection::Cases => {
                if let Some(i) = self.cases.pos.get(&id) {
                    self.cases.rows[*i].deleted = true;
                }
            }
            Collection::Visits => {
                if let Some(i) = self.visits.pos.get(&id) {
                    self.visits.rows[*i].deleted = true;
                }
            }
            _ => {}
        }
    }

    fn recount(&mut self) {
        self.live_cases = self.cases.rows.iter().filter(|r| !r.deleted).count();
        self.live_visits = self.visits.rows.iter().filter(|r| !r.deleted).count();
    }
}

/// What the index is waiting for.
#[derive(Default)]
struct State {
    built: bool,
    stale: bool,
    running: bool,
    pending: BTreeSet<(Collection, RecordId)>,
    /// Rows that came with changes (a pull's, `Changes::rows`), in order: put into the index as
    /// they are, before `pending` is read.
    handed: Vec<Arc<[ListRow]>>,
    seen_version: u64,
}

thread_local! {
    static INDEX: RefCell<ListIndex> = RefCell::default();
    static STATE: RefCell<State> = RefCell::default();
    static READY: ArcRwSignal<u64> = ArcRwSignal::new(0);
    static WANTED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// Reads the index (never across an `.await`).
pub(crate) fn with<T>(f: impl FnOnce(&ListIndex) -> T) -> T {
    INDEX.with(|ix| f(&ix.borrow()))
}

/// Asks for the rows to be built as soon as sync is quiet, even before the page has completed a
/// sync round (a tab that does not sync, offline): what `keep_warm` otherwise waits for.
pub(crate) fn want() {
    WANTED.with(|w| w.set(true));
}

/// Bumped whenever the rows changed; 0 until they are first built. Screens re-select on it.
pub(crate) fn ready() -> Signal<u64> {
    READY.with(|r| Signal::from(r.clone()))
}

fn relevant(c: Collection) -> bool {
    crate::listing::rows::ROW_COLLECTIONS.contains(&c)
}

/// Follows the device's changes for the lifetime of the app (called once by `App`): every
/// change is noted, and when sync is quiet the rows are brought up to date (built the first
/// time), so a list opens from memory.
pub(crate) fn keep_warm(sig: SyncSignals) {
    Effect::new(move |_| {
        let version = sig.version.get();
        let changes = sig.changes.get_value();
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            let followed = changes.version == version && s.seen_version + 1 == version;
            match changes.records.filter(|_| followed) {
                Some(records) => {
                    // A record whose row came with the change is not read back.
                    let rows = changes.rows;
                    let handed: HashSet<(Collection, RecordId)> =
                        rows.iter().map(|r| (r.collection(), r.id())).collect();
                    s.pending.extend(
                        records
                            .into_iter()
                            .filter(|k| relevant(k.0) && !handed.contains(k)),
                    );
                    if !rows.is_empty() {
                        s.handed.push(rows);
                    }
                }
                None => s.stale = true,
            }
            if s.pending.len() > MAX_INCREMENTAL {
                s.pending.clear();
                s.stale = true;
            }
            if s.stale {
                // A rebuild reads every row anyway.
                s.handed.clear();
            }
            s.seen_version = version;
        });
    });
    // Not while a round pulls: once it ends, and after every local change. Built the first
    // time only once this page has completed a round: building at start competed with whatever
    // the user opened first (a list's first page waited behind it for a second); a list opened
    // before then asks for it itself, after drawing its first page (`page::first_page`).
    // Except on a device that has never completed a round (a first sign-in): it holds only
    // what was entered on it, so its rows are read at once, and its first pull's rows come
    // with the pull's changes instead of being read back after it.
    let wanted: Signal<bool> = WANTED.with(|w| Signal::from(w.clone()));
    Effect::new(move |_| {
        let quiet = !sig.syncing.get();
        sig.version.track();
        let fresh = sig.local.get() == Local::Ready && sig.last_round.with(Option::is_none);
        let warm = sig.rounds.get() > 0 || wanted.get() || STATE.with(|s| s.borrow().built);
        if (quiet && warm) || fresh {
            refresh();
        }
    });
}

/// Brings the rows up to date, in the background (one refresh at a time; one that finds more
/// work when done goes round again).
pub(crate) fn refresh() {
    let start = STATE.with(|s| {
        let mut s = s.borrow_mut();
        let needed = !s.built || s.stale || !s.pending.is_empty() || !s.handed.is_empty();
        let go = needed && !s.running;
        if go {
            s.running = true;
        }
        go
    });
    if start {
        spawn_local(run());
    }
}

async fn run() {
    let Some(c) = client() else {
        STATE.with(|s| s.borrow_mut().running = false);
        return;
    };
    loop {
        let (rebuild, pending, handed) = STATE.with(|s| {
            let mut s = s.borrow_mut();
            let rebuild = !s.built || s.stale;
            s.stale = false;
            let handed = std::mem::take(&mut s.handed);
            (rebuild, std::mem::take(&mut s.pending), handed)
        });
        if !rebuild && !handed.is_empty() {
            // Stored before `pending` was noted: its records are read after, as they are now.
            INDEX.with(|ix| {
                let mut ix = ix.borrow_mut();
                for row in handed.iter().flat_map(|rows| rows.iter()) {
                    ix.put_row(row);
                }
                ix.recount();
            });
        }
        if rebuild {
            mark("tongxin:list-rows");
            let rows = c.store.list_rows().await.unwrap_or_default();
            measure("tongxin:list-rows-read", "tongxin:list-rows");
            mark("tongxin:list-rows-read");
            let mut fresh = ListIndex::from_rows_sliced(&rows).await;
            drop(rows);
            measure("tongxin:list-rows-index", "tongxin:list-rows-read");
            INDEX.with(|ix| {
                fresh.epoch = ix.borrow().epoch + 1;
                *ix.borrow_mut() = fresh;
            });
            spawn_local(name_people());
        } else if !pending.is_empty() {
            let keys: Vec<(Collection, RecordId)> = pending.into_iter().collect();
            let Ok(read) = c.store.get_many(&keys).await else {
                // Not read (the device's storage failed): kept for the next refresh, which the
                // next sync or change starts (trying again at once would spin while it fails).
                STATE.with(|s| {
                    let mut s = s.borrow_mut();
                    s.pending.extend(keys);
                    s.running = false;
                });
                return;
            };
            INDEX.with(|ix| {
                let mut ix = ix.borrow_mut();
                for ((coll, id), r) in keys.into_iter().zip(read) {
                    match r {
                        Some(r) => ix.put(&r),
                        None => ix.gone(coll, id),
                    }
                }
                ix.recount();
            });
        }
        let again = STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.built = true;
            let again = s.stale || !s.pending.is_empty() || !s.handed.is_empty();
            s.running = again;
            again
        });
        READY.with(|r| r.update(|v| *v += 1));
        if !again {
            return;
        }
    }
}

/// The first page of the list of `c` (cases, visits) in its default order, read straight from
/// the device while the index is not built yet (`LocalStore::first_rows`): a small index of
/// those rows (at positions 0.., in order, with the names of their places) and how many live
/// records the list has. `None` when the device cannot tell yet.
pub(crate) async fn first_page(c: Collection) -> Option<(ListIndex, usize)> {
    let client = client()?;
    mark("tongxin:list-first");
    let first = client
        .store
        .first_rows(c, crate::listing::PAGE_SIZE)
        .await
        .ok()
        .flatten()?;
    let mut rows = first.places;
    rows.extend(first.rows);
    let ix = ListIndex::from_rows(&rows);
    measure("tongxin:list-first-read", "tongxin:list-first");
    Some((ix, first.total))
}

/// Wardens and managers by name instead of login (the staff list of the user's area: fetched
/// when online, else the last one kept).
async fn name_people() {
    let staff = crate::ui::staff::staff().await;
    if staff.is_empty() {
        return;
    }
    INDEX.with(|ix| {
        let mut ix = ix.borrow_mut();
        for m in &staff {
            ix.people.label(&m.username, &m.display_name, &[]);
        }
    });
    READY.with(|r| r.update(|v| *v += 1));
}
