//! Picking a user's area from the hierarchy instead of typing ids: cascading selects
//! (subdistrict → community → grid, each shown as code and name) and a search by code or name
//! over every place of the chosen level, from the records on the device (an administrator's
//! device holds the whole city: 5 subdistricts, 44 communities, ~1,200 grids). The chosen places
//! are listed as chips that can be removed.

use super::context::{ctx, live_records, t, Ctx};
use super::names::code_and_name;
use crate::i18n::tr;
use leptos::prelude::*;
use tongxin_shared::case::Level;
use tongxin_shared::{Collection, RecordId};

/// Most search results listed at once.
const MATCHES_SHOWN: usize = 20;

/// A place of the hierarchy.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    id: RecordId,
    label: String,
    /// The place above it (a grid's community, a community's subdistrict).
    parent: Option<RecordId>,
    /// Lower-case code and name, for the search.
    haystack: String,
}

/// The hierarchy on the device, each level sorted by code.
#[derive(Clone, Debug, Default, PartialEq)]
struct Tree {
    subdistricts: Vec<Node>,
    communities: Vec<Node>,
    grids: Vec<Node>,
}

impl Tree {
    async fn load() -> Self {
        let level = |c: Collection, parent: &'static str| async move {
            let mut nodes: Vec<(String, Node)> = live_records(c)
                .await
                .into_iter()
                .map(|r| {
                    let code = r.str("code").unwrap_or_default().to_owned();
                    let name = r.str("name").unwrap_or_default().to_owned();
                    let node = Node {
                        id: r.id,
                        label: code_and_name(&code, &name),
                        parent: r.str(parent).and_then(|p| RecordId::parse(p).ok()),
                        haystack: format!("{code} {name}").to_lowercase(),
                    };
                    (code, node)
                })
                .collect();
            nodes.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.label.cmp(&b.1.label)));
            nodes.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
        };
        Self {
            subdistricts: level(Collection::Subdistricts, "subdistrict").await,
            communities: level(Collection::Communities, "subdistrict").await,
            grids: level(Collection::Grids, "community").await,
        }
    }

    fn at(&self, level: Level) -> &[Node] {
        match level {
            Level::Grid => &self.grids,
            Level::Community => &self.communities,
            Level::Subdistrict | Level::City => &self.subdistricts,
        }
    }

    fn label(&self, level: Level, id: RecordId) -> String {
        self.at(level)
            .iter()
            .find(|n| n.id == id)
            .map_or_else(|| id.to_string(), |n| n.label.clone())
    }

    /// The label of a place with the names of the places above it ("G1 第一网格 · C1 一社区").
    fn path(&self, level: Level, node: &Node) -> String {
        let above = match level {
            Level::Grid => node
                .parent
                .and_then(|c| self.communities.iter().find(|n| n.id == c)),
            Level::Community => node
                .parent
                .and_then(|s| self.subdistricts.iter().find(|n| n.id == s)),
            Level::Subdistrict | Level::City => None,
        };
        match above {
            Some(a) => format!("{} · {}", node.label, a.label),
            None => node.label.clone(),
        }
    }
}

/// One `<select>` of the cascade: its options are `nodes`, its value `chosen`.
fn cascade_select(
    name: &'static str,
    label: &'static str,
    nodes: Vec<Node>,
    chosen: RwSignal<String>,
    on_change: impl Fn() + Copy + 'static,
) -> impl IntoView {
    view! {
        <label><span>{t(label)}</span>
            <select name=name on:change=move |ev| { chosen.set(event_target_value(&ev)); on_change(); }>
                <option value="">{t("area.choose")}</option>
                {nodes.into_iter().map(|n| {
                    let id = n.id.to_string();
                    let value = id.clone();
                    view! { <option value=value selected=move || chosen.get() == id>{n.label}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The places picked, each with a button to remove it.
#[component]
fn AreaChips(tree: Tree, level: Signal<Level>, selected: RwSignal<Vec<RecordId>>) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    view! {
        <ul class="chips" data-testid="area-chips">
            {move || selected.get().into_iter().map(|id| {
                let label = tree.label(level.get(), id);
                let remove_label = label.clone();
                view! {
                    <li class="chip" data-testid="area-chip" data-id=id.to_string()>
                        <span data-testid="area-chip-label">{label}</span>
                        <button type="button" class="link"
                            aria-label=move || format!("{} {remove_label}", tr(lang.get(), "area.remove"))
                            on:click=move |_| selected.update(|s| s.retain(|x| *x != id))>"×"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// Picks places at `level` (grids for a warden, a community for a community manager …) into
/// `selected`.
#[component]
pub(super) fn AreaPicker(
    #[prop(into)] level: Signal<Level>,
    selected: RwSignal<Vec<RecordId>>,
) -> impl IntoView {
    let Ctx { lang, .. } = ctx();
    let tree = LocalResource::new(Tree::load);
    let subdistrict = RwSignal::new(String::new());
    let community = RwSignal::new(String::new());
    let grid = RwSignal::new(String::new());
    let query = RwSignal::new(String::new());
    let add = move |id: RecordId| {
        selected.update(|s| {
            if !s.contains(&id) {
                s.push(id);
            }
        });
    };
    // The deepest place chosen in the cascade, if it is at the level picked.
    let cascaded = move || {
        let at = match level.get() {
            Level::Grid => grid.get(),
            Level::Community => community.get(),
            Level::Subdistrict | Level::City => subdistrict.get(),
        };
        RecordId::parse(&at).ok()
    };
    let legend = move || {
        let key = match level.get() {
            Level::Grid => "area.grids",
            Level::Community => "area.communities",
            Level::Subdistrict => "area.subdistricts",
            Level::City => "area.city",
        };
        tr(lang.get(), key)
    };
    view! {
        <fieldset class="area-picker" data-testid="area-picker">
            <legend>{legend}</legend>
            <Show when=move || level.get() != Level::City fallback=|| view! { <p class="muted small">{t("area.city_hint")}</p> }>
                {move || tree.get().map(|tree| {
                    let chips_tree = tree.clone();
                    let matches_tree = tree.clone();
                    view! {
                        <AreaChips tree=chips_tree level=level selected=selected/>
                        <input type="search" name="area_search" data-testid="area-search"
                            aria-label=move || tr(lang.get(), "area.search") placeholder=move || tr(lang.get(), "area.search")
                            prop:value=move || query.get() on:input=move |ev| query.set(event_target_value(&ev))/>
                        {move || {
                            let q = query.get().trim().to_lowercase();
                            (!q.is_empty()).then(|| {
                                let lvl = level.get();
                                let found: Vec<(RecordId, String)> = matches_tree.at(lvl).iter()
                                    .filter(|n| n.haystack.contains(&q))
                                    .take(MATCHES_SHOWN)
                                    .map(|n| (n.id, matches_tree.path(lvl, n)))
                                    .collect();
                                if found.is_empty() {
                                    view! { <p class="muted small">{t("area.no_match")}</p> }.into_any()
                                } else {
                                    view! {
                                        <ul class="list compact" data-testid="area-matches">
                                            {found.into_iter().map(|(id, label)| view! {
                                                <li><button type="button" class="link" data-testid="area-option" data-id=id.to_string()
                                                    on:click=move |_| { add(id); query.set(String::new()); }>{label}</button></li>
                                            }).collect_view()}
                                        </ul>
                                    }.into_any()
                                }
                            })
                        }}
                        <div class="cascade">
                            {cascade_select("pick_subdistrict", "area.subdistrict", tree.subdistricts.clone(), subdistrict,
                                move || { community.set(String::new()); grid.set(String::new()); })}
                            {
                                let communities = tree.communities.clone();
                                move || (level.get() <= Level::Community).then(|| {
                                    let sd = RecordId::parse(&subdistrict.get()).ok();
                                    let shown: Vec<Node> = communities.iter().filter(|n| sd.is_none() || n.parent == sd).cloned().collect();
                                    cascade_select("pick_community", "area.community", shown, community, move || grid.set(String::new()))
                                })
                            }
                            {
                                let grids = tree.grids.clone();
                                move || (level.get() == Level::Grid).then(|| {
                                    let c = RecordId::parse(&community.get()).ok();
                                    // Grids of the chosen community (a city has ~1,200: choose one first).
                                    let shown: Vec<Node> = c.map(|c| grids.iter().filter(|n| n.parent == Some(c)).cloned().collect()).unwrap_or_default();
                                    cascade_select("pick_grid", "area.grid", shown, grid, || {})
                                })
                            }
                            <button type="button" data-testid="area-add" disabled=move || cascaded().is_none()
                                on:click=move |_| if let Some(id) = cascaded() { add(id); }>{t("area.add")}</button>
                        </div>
                    }
                })}
            </Show>
        </fieldset>
    }
}
