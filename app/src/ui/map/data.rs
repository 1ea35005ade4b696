//! What the map reads from the device (`use_map_data`): grid shapes and places, subdistrict and
//! community outlines, service centres, the grids beyond the centres' reach, and the grids'
//! states, with whether those states can be trusted yet.

use super::timing::{mark, measure};
use crate::store::LocalStore;
use crate::sync::client;
use crate::ui::context::{ctx, live_records, Ctx};
use crate::ui::format::now_ms;
use leptos::prelude::*;
use std::collections::BTreeMap;
use tongxin_map::Shape;
use tongxin_shared::figures::{GridState, GridStateIndex};
use tongxin_shared::{Collection, Record, RecordId};

/// A grid as the map and its picker know it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GridPlace {
    pub id: RecordId,
    pub name: String,
    pub code: String,
    /// Its community's id (as stored) and name.
    pub community: Option<String>,
    pub community_name: String,
    pub shape: Shape,
}

/// A subdistrict or community outline with its name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Area {
    pub level: &'static str,
    pub name: String,
    pub shape: Shape,
}

/// A service centre (1+5+44: city, subdistrict, community).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Centre {
    pub name: String,
    pub level: String,
    pub lon: f64,
    pub lat: f64,
}

/// The grid states and the data version they were computed at.
pub(crate) type States = (u64, BTreeMap<RecordId, GridState>);

/// The map's data, each part re-read when what it depends on changes.
#[derive(Clone, Copy)]
pub(crate) struct MapData {
    pub grids: LocalResource<Vec<GridPlace>>,
    pub areas: LocalResource<Vec<Area>>,
    pub centres: LocalResource<Vec<Centre>>,
    /// Grids whose centroid is beyond every community centre's 15-minute reach, farthest
    /// first, with the distance in metres.
    pub outside: LocalResource<Vec<(RecordId, String, f64)>>,
    pub states: LocalResource<States>,
    /// The per-record index behind `states` (the grid panel reads a grid's records from it).
    pub index: StoredValue<GridStateIndex>,
    /// Whether `states` tell the truth: computed after this device completed a sync round.
    /// Until then (the first sign-in's pull still arriving) a grid's "0 open" may only mean
    /// its cases have not arrived, so the map shows grids as loading instead.
    pub known: Memo<bool>,
}

fn position(r: &Record) -> Option<(f64, f64)> {
    let p = r.get("position")?.as_array()?;
    Some((p.first()?.as_f64()?, p.get(1)?.as_f64()?))
}

fn boundary(r: &Record) -> Option<Shape> {
    let mp = tongxin_shared::geo::polygon_from_geojson(r.get("boundary")?).ok()?;
    tongxin_map::shape(&mp)
}

async fn grids() -> Vec<GridPlace> {
    let communities: BTreeMap<String, String> = live_records(Collection::Communities)
        .await
        .iter()
        .map(|c| {
            (
                c.id.to_string(),
                c.str("name").unwrap_or_default().to_owned(),
            )
        })
        .collect();
    live_records(Collection::Grids)
        .await
        .iter()
        .filter_map(|r| {
            let community = r.str("community").map(str::to_owned);
            Some(GridPlace {
                id: r.id,
                name: r.str("name").unwrap_or_default().to_owned(),
                code: r.str("code").unwrap_or_default().to_owned(),
                community_name: community
                    .as_ref()
                    .and_then(|c| communities.get(c).cloned())
                    .unwrap_or_default(),
                community,
                shape: boundary(r)?,
            })
        })
        .collect()
}

async fn areas() -> Vec<Area> {
    let mut out = Vec::new();
    for (coll, level) in [
        (Collection::Subdistricts, "subdistrict"),
        (Collection::Communities, "community"),
    ] {
        for r in live_records(coll).await {
            if let Some(shape) = boundary(&r) {
                out.push(Area {
                    level,
                    name: r.str("name").unwrap_or_default().to_owned(),
                    shape,
                });
            }
        }
    }
    out
}

async fn centres() -> Vec<Centre> {
    live_records(Collection::ServiceCentres)
        .await
        .iter()
        .filter_map(|r| {
            let (lon, lat) = position(r)?;
            Some(Centre {
                name: r.str("name").unwrap_or_default().to_owned(),
                level: r.str("level").unwrap_or("community").to_owned(),
                lon,
                lat,
            })
        })
        .collect()
}

async fn outside() -> Vec<(RecordId, String, f64)> {
    let grids = live_records(Collection::Grids).await;
    let community_centres: Vec<(f64, f64)> = live_records(Collection::ServiceCentres)
        .await
        .iter()
        .filter(|r| r.str("level") == Some("community"))
        .filter_map(position)
        .collect();
    let names: BTreeMap<RecordId, String> = grids
        .iter()
        .map(|g| (g.id, g.str("name").unwrap_or_default().to_owned()))
        .collect();
    let mut out = tongxin_shared::service::grids_outside_reach(
        grids
            .iter()
            .filter_map(|g| Some((g.id, g.get("boundary")?))),
        &community_centres,
    )
    .into_iter()
    .map(|(id, m)| (id, names.get(&id).cloned().unwrap_or_default(), m))
    .collect::<Vec<_>>();
    // Farthest first: where a new centre would help most.
    out.sort_by(|a, b| b.2.total_cmp(&a.2));
    out
}

/// The map's data. Shapes and places change only with the hierarchy (`places_version`); the
/// states with every case and visit (`version`).
pub(crate) fn use_map_data() -> MapData {
    let Ctx { sig, .. } = ctx();
    let grids = LocalResource::new(move || {
        sig.places_version.get();
        grids()
    });
    let areas = LocalResource::new(move || {
        sig.places_version.get();
        areas()
    });
    let centres = LocalResource::new(move || {
        sig.places_version.get();
        centres()
    });
    let outside = LocalResource::new(move || {
        sig.places_version.get();
        outside()
    });
    let index = StoredValue::new(GridStateIndex::default());
    let states = states_resource(index);
    // The data version at which this device first had a completed sync round (at once after
    // a reload: the last round is kept on the device).
    let complete_at = Memo::new(move |prev: Option<&Option<u64>>| {
        if let Some(Some(v)) = prev {
            return Some(*v);
        }
        sig.last_round
            .with(Option::is_some)
            .then(|| sig.version.get_untracked())
    });
    let known = Memo::new(move |_| {
        let Some(at) = complete_at.get() else {
            return false;
        };
        states.with(|s| s.as_ref().is_some_and(|(v, _)| *v >= at))
    });
    MapData {
        grids,
        areas,
        centres,
        outside,
        states,
        index,
        known,
    }
}

/// The grid states, kept record by record: the first read folds every case, visit and summary
/// on the device; after that only a pull's changed records are read, together (a city manager's
/// device holds months of history, and a live push changes one or two records).
fn states_resource(index: StoredValue<GridStateIndex>) -> LocalResource<States> {
    let Ctx { sig, .. } = ctx();
    let indexed_version = StoredValue::new(None::<u64>);
    let started = StoredValue::new(0u64);
    LocalResource::new(move || {
        let version = sig.version.get();
        started.set_value(version);
        async move {
            let Some(c) = client() else {
                return (version, BTreeMap::new());
            };
            mark("tongxin:grid-states:start");
            let known = sig.changes.with_value(|ch| {
                (ch.version == version && indexed_version.get_value() == Some(version - 1))
                    .then(|| ch.records.clone())
                    .flatten()
            });
            // Read first, then apply at once, and only if no newer read began meanwhile (it
            // re-reads everything, and a slower older read must not overwrite it).
            if let Some(records) = known {
                let keys: Vec<(Collection, RecordId)> = records
                    .into_iter()
                    .filter(|(coll, _)| {
                        matches!(
                            coll,
                            Collection::Cases | Collection::Visits | Collection::Summaries
                        )
                    })
                    .collect();
                match c.store.get_many(&keys).await {
                    Ok(got) => {
                        if started.get_value() == version {
                            index.update_value(|ix| {
                                for ((coll, id), r) in keys.iter().zip(&got) {
                                    match r {
                                        Some(r) => ix.upsert(r),
                                        None => ix.remove(*coll, *id),
                                    };
                                }
                            });
                            indexed_version.set_value(Some(version));
                        }
                    }
                    // Not read (the device's storage failed): the next change reads everything.
                    Err(_) => indexed_version.set_value(None),
                }
            } else {
                let mut all = c.store.list(Collection::Cases).await.unwrap_or_default();
                all.extend(c.store.list(Collection::Visits).await.unwrap_or_default());
                // A summary-profile device holds a week of visits: its summaries give each
                // grid's last visit before that (none on a full-profile device).
                all.extend(
                    c.store
                        .list(Collection::Summaries)
                        .await
                        .unwrap_or_default(),
                );
                if started.get_value() == version {
                    index.set_value(GridStateIndex::from_records(&all));
                    indexed_version.set_value(Some(version));
                }
            }
            let out = index.with_value(|ix| ix.states(now_ms()));
            measure("tongxin:grid-states", "tongxin:grid-states:start");
            (version, out)
        }
    })
}
