//! Names instead of ids on every screen: people by their name (the people directory kept on the
//! device, `crate::people`), grids, communities and subdistricts by code and name (their records
//! on the device). Both work offline; someone or something the device does not know keeps its
//! id, so nothing is hidden.

use super::context::live_records;
use crate::people::{decode, Directory, META_PEOPLE};
use crate::store::LocalStore;
use crate::sync::client;
use crate::views::assign::AssigneeNames;
use std::collections::HashMap;
use tongxin_shared::Collection;

/// The people directory on the device (empty before the first fetch).
pub(crate) async fn people() -> Directory {
    let Some(c) = client() else {
        return Directory::default();
    };
    let stored = c.store.meta_get(META_PEOPLE).await.ok().flatten();
    stored
        .and_then(|t| decode(&t))
        .map(|s| Directory::new(&s.people))
        .unwrap_or_default()
}

/// People and alliance units by the value a case's `assignee` holds (a timeline's 改派 names
/// them): the directory and the units on the device.
pub(crate) async fn assignee_names() -> AssigneeNames {
    let units = live_records(Collection::Units).await;
    AssigneeNames::new(people().await, &units)
}

/// "G0101 第一网格": a place's code and name (either may be missing).
pub(crate) fn code_and_name(code: &str, name: &str) -> String {
    match (code.is_empty(), name.is_empty()) {
        (false, false) => format!("{code} {name}"),
        (false, true) => code.to_owned(),
        _ => name.to_owned(),
    }
}

/// A place's code and name, by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Place {
    pub code: String,
    pub name: String,
}

/// The grids, communities and subdistricts on the device, by id (as a string, as records
/// reference them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Places {
    by_id: HashMap<String, Place>,
}

impl Places {
    /// The place's code and name (`None` when the device does not hold it).
    pub(crate) fn get(&self, id: &str) -> Option<&Place> {
        self.by_id.get(id)
    }
}

/// The places on the device.
pub(crate) async fn places() -> Places {
    let mut by_id = HashMap::new();
    for c in [
        Collection::Grids,
        Collection::Communities,
        Collection::Subdistricts,
    ] {
        for r in live_records(c).await {
            by_id.insert(
                r.id.to_string(),
                Place {
                    code: r.str("code").unwrap_or_default().to_owned(),
                    name: r.str("name").unwrap_or_default().to_owned(),
                },
            );
        }
    }
    Places { by_id }
}
