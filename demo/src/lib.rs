//! The synthetic demo city, deterministic from a seed.
//!
//! A Dali-like city near 25.6°N 100.2°E: 5 subdistricts/towns, 44 communities, ~1,200 grids whose
//! polygons tile each community without overlap, compounds, 6,135 wardens with grid assignments,
//! 403 alliance units paired with communities, the 1+5+44 service centres, and `months` of
//! history (visits, cases in every state with their timelines, activities).
//!
//! Everything is produced as ordinary [`Op`]s by one demo actor, so seeding goes through the same
//! validation, merge and sequence path as a warden's push. Every name is invented and every
//! record is marked synthetic; nothing here describes real people or places.

mod names;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use tongxin_shared::case::{self, Action, Role, Status, DAY_MS, HOUR_MS};
use tongxin_shared::policy::actions;
use tongxin_shared::schema::{ACTIVITY_THEMES, CASE_CATEGORIES, CASE_SOURCES};
use tongxin_shared::{ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};
use uuid::Uuid;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub seed: u64,
    /// Months of history before `now_ms`.
    pub months: u32,
    /// "Now" for the generated history (the caller's clock; the generator reads none).
    pub now_ms: u64,
}

/// A user account the demo city needs (the server turns these into accounts).
#[derive(Clone, Debug, Serialize)]
pub struct DemoUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Grids for wardens and grid leaders.
    pub grids: Vec<RecordId>,
    pub community: Option<RecordId>,
    pub subdistrict: Option<RecordId>,
}

/// Counts of what was generated.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Stats {
    pub subdistricts: usize,
    pub communities: usize,
    pub grids: usize,
    pub compounds: usize,
    pub wardens: usize,
    pub units: usize,
    pub service_centres: usize,
    pub visits: usize,
    pub cases: usize,
    pub activities: usize,
    pub ops: usize,
}

/// The generated city, without its ops (handed to the sink of [`generate_chunked`]).
pub struct DemoPeople {
    pub users: Vec<DemoUser>,
    pub stats: Stats,
    /// Usernames of one account per role, to print as demo accounts.
    pub showcase: BTreeMap<Role, String>,
}

/// The generated city.
pub struct DemoCity {
    pub ops: Vec<Op>,
    pub users: Vec<DemoUser>,
    pub stats: Stats,
    /// Usernames of one account per role, to print as demo accounts.
    pub showcase: BTreeMap<Role, String>,
}

/// One demo account per role, to print (the same for every seed).
pub const SHOWCASE: [(Role, &str); 6] = [
    (Role::Warden, "w0001"),
    (Role::GridLeader, "gl0001"),
    (Role::CommunityManager, "c01"),
    (Role::SubdistrictManager, "s1"),
    (Role::CityManager, "city"),
    (Role::Admin, "admin"),
];

/// The demo actor: every generated op is written by it.
pub fn demo_actor(seed: u64) -> ActorId {
    ActorId(Uuid::from_u128(
        0x7049_0000_0000_0000_0000_0000_0000_0000 | u128::from(seed),
    ))
}

/// South-west corner and size of the synthetic city, in degrees.
const WEST: f64 = 100.10;
const SOUTH: f64 = 25.50;
const WIDTH: f64 = 0.20;
const HEIGHT: f64 = 0.20;
/// Communities per subdistrict (44 in all).
const COMMUNITIES: [usize; 5] = [9, 9, 9, 9, 8];
/// Wardens in the whole city, as in the seed document.
const WARDENS: usize = 6135;
/// Alliance units, as in the seed document.
const UNITS: usize = 403;

struct Gen<'s> {
    rng: ChaCha8Rng,
    actor: ActorId,
    ops: Vec<Op>,
    serial: u64,
    /// Ops generated so far, all chunks together.
    total: usize,
    /// Ops per chunk handed to `sink`.
    chunk: usize,
    sink: &'s mut dyn FnMut(Vec<Op>),
}

impl Gen<'_> {
    fn uuid(&mut self) -> Uuid {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    fn id(&mut self) -> RecordId {
        RecordId(self.uuid())
    }

    fn hlc(&mut self, at_ms: u64) -> Hlc {
        self.serial += 1;
        Hlc::new(at_ms, (self.serial % 1000) as u32)
    }

    fn set(&mut self, collection: Collection, record: RecordId, at_ms: u64, fields: Value) {
        let Value::Object(map) = fields else {
            unreachable!("fields are built as objects")
        };
        let mut fields: BTreeMap<String, Value> = map.into_iter().collect();
        fields.insert("synthetic".into(), Value::Bool(true));
        fields.retain(|k, _| k == "deleted" || collection.field(k).is_some());
        self.push(collection, record, at_ms, OpBody::Set { fields });
    }

    fn append(&mut self, collection: Collection, record: RecordId, at_ms: u64, data: Value) {
        let Value::Object(data) = data else {
            unreachable!("entries are built as objects")
        };
        let entry = Entry {
            id: self.uuid(),
            data,
        };
        self.push(collection, record, at_ms, OpBody::Append { entry });
    }

    /// Pushes what a typed builder wrote (`policy::actions`), Set bodies marked synthetic.
    fn bodies(
        &mut self,
        collection: Collection,
        record: RecordId,
        at_ms: u64,
        bodies: Vec<OpBody>,
    ) {
        for body in bodies {
            match body {
                OpBody::Set { fields } => {
                    self.set(
                        collection,
                        record,
                        at_ms,
                        Value::Object(fields.into_iter().collect()),
                    );
                }
                append @ OpBody::Append { .. } => self.push(collection, record, at_ms, append),
            }
        }
    }

    fn push(&mut self, collection: Collection, record: RecordId, at_ms: u64, body: OpBody) {
        let hlc = self.hlc(at_ms);
        let id = OpId(self.uuid());
        self.ops.push(Op {
            id,
            actor: self.actor,
            hlc,
            collection,
            record,
            body,
            schema: SCHEMA_VERSION,
        });
        self.total += 1;
        if self.ops.len() >= self.chunk {
            (self.sink)(std::mem::take(&mut self.ops));
        }
    }
}

fn rect(w: f64, s: f64, e: f64, n: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

struct GridInfo {
    id: RecordId,
    community: usize,
    centre: (f64, f64),
    half: (f64, f64),
    compounds: Vec<RecordId>,
    wardens: Vec<String>,
}

/// What the hierarchy is built as: the subdistricts' strip width, the communities (id,
/// subdistrict index, centre), the grids and the subdistrict ids.
struct Hierarchy {
    strip: f64,
    communities: Vec<(RecordId, usize, (f64, f64))>,
    grids: Vec<GridInfo>,
    sd_ids: Vec<RecordId>,
}

/// The hierarchy: subdistricts as vertical strips, communities as rows, grids as a jittered
/// lattice.
fn hierarchy(g: &mut Gen, start: u64, stats: &mut Stats) -> Hierarchy {
    let strip = WIDTH / COMMUNITIES.len() as f64;
    let mut communities: Vec<(RecordId, usize, (f64, f64))> = Vec::new();
    let mut grids: Vec<GridInfo> = Vec::new();
    let mut sd_ids = Vec::new();
    for (si, &count) in COMMUNITIES.iter().enumerate() {
        let sd = g.id();
        sd_ids.push(sd);
        let (w, e) = (WEST + strip * si as f64, WEST + strip * (si + 1) as f64);
        let fields = json!({
            "code": format!("S{}", si + 1),
            "name": names::SUBDISTRICTS[si],
            "kind": if si >= 3 { "town" } else { "subdistrict" },
            "boundary": rect(round6(w), SOUTH, round6(e), SOUTH + HEIGHT),
        });
        g.set(Collection::Subdistricts, sd, start, fields);
        stats.subdistricts += 1;
        let row = HEIGHT / count as f64;
        for ci in 0..count {
            let cid = g.id();
            let index = communities.len();
            let (s, n) = (SOUTH + row * ci as f64, SOUTH + row * (ci + 1) as f64);
            let fields = json!({
                "code": format!("S{}-C{:02}", si + 1, ci + 1),
                "name": names::community(index),
                "subdistrict": sd.to_string(),
                "boundary": rect(round6(w), round6(s), round6(e), round6(n)),
            });
            g.set(Collection::Communities, cid, start, fields);
            stats.communities += 1;
            communities.push((cid, si, (f64::midpoint(w, e), f64::midpoint(s, n))));
            // 20 of the 44 communities have 6 columns, the rest 5: 1,200 grids in all.
            let (cols, rows) = (if index % 11 < 5 { 6 } else { 5 }, 5usize);
            let (dx, dy) = ((e - w) / cols as f64, (n - s) / rows as f64);
            // Lattice vertices; interior ones jittered by up to 20% of a cell.
            let mut v = vec![vec![(0.0, 0.0); cols + 1]; rows + 1];
            for (r, line) in v.iter_mut().enumerate() {
                for (c, pt) in line.iter_mut().enumerate() {
                    let interior = r > 0 && r < rows && c > 0 && c < cols;
                    let (jx, jy) = if interior {
                        (
                            g.rng.random_range(-0.2..0.2) * dx,
                            g.rng.random_range(-0.2..0.2) * dy,
                        )
                    } else {
                        (0.0, 0.0)
                    };
                    *pt = (
                        round6(w + dx * c as f64 + jx),
                        round6(s + dy * r as f64 + jy),
                    );
                }
            }
            for r in 0..rows {
                for c in 0..cols {
                    let gid = g.id();
                    let ring = [v[r][c], v[r][c + 1], v[r + 1][c + 1], v[r + 1][c], v[r][c]];
                    let coords: Vec<Value> = ring.iter().map(|(x, y)| json!([x, y])).collect();
                    let code = format!("S{}-C{:02}-G{:02}", si + 1, ci + 1, r * cols + c + 1);
                    let party = g.rng.random_bool(0.84);
                    let fields = json!({
                        "code": code,
                        "name": format!("{}第{}网格", names::community(index), r * cols + c + 1),
                        "community": cid.to_string(),
                        "boundary": {"type": "Polygon", "coordinates": [coords]},
                        "party_org": if party { Value::String(format!("{code} 网格党支部")) } else { Value::Null },
                    });
                    g.set(Collection::Grids, gid, start, fields);
                    stats.grids += 1;
                    let centre = (w + dx * (c as f64 + 0.5), s + dy * (r as f64 + 0.5));
                    grids.push(GridInfo {
                        id: gid,
                        community: index,
                        centre,
                        half: (dx / 2.0, dy / 2.0),
                        compounds: Vec::new(),
                        wardens: Vec::new(),
                    });
                }
            }
        }
    }

    Hierarchy {
        strip,
        communities,
        grids,
        sd_ids,
    }
}

/// The people: wardens spread over the grids (recorded on each grid), grid leaders, community
/// and subdistrict managers, the city manager and the administrator.
fn people(
    g: &mut Gen,
    grids: &mut [GridInfo],
    communities: &[(RecordId, usize, (f64, f64))],
    sd_ids: &[RecordId],
    stats: &mut Stats,
) -> Vec<DemoUser> {
    let mut users = Vec::new();
    // Wardens: 6,135 spread over the grids (every grid has at least one); one in twelve covers a
    // second, neighbouring grid. One grid leader per grid is taken from its wardens' ranks.
    for n in 0..WARDENS {
        let gi = n % grids.len();
        let username = format!("w{:04}", n + 1);
        let mut assigned = vec![grids[gi].id];
        if n % 12 == 5 && gi + 1 < grids.len() && grids[gi + 1].community == grids[gi].community {
            assigned.push(grids[gi + 1].id);
        }
        grids[gi].wardens.push(username.clone());
        users.push(DemoUser {
            username,
            display_name: names::person(&mut g.rng),
            role: Role::Warden,
            grids: assigned,
            community: Some(communities[grids[gi].community].0),
            subdistrict: Some(sd_ids[communities[grids[gi].community].1]),
        });
    }
    stats.wardens = WARDENS;
    for (i, gi) in grids.iter().enumerate() {
        // 171 party-member grid leaders in the seed: the first 171 grids get one.
        if i < 171 {
            users.push(DemoUser {
                username: format!("gl{:04}", i + 1),
                display_name: names::person(&mut g.rng),
                role: Role::GridLeader,
                grids: vec![gi.id],
                community: Some(communities[gi.community].0),
                subdistrict: Some(sd_ids[communities[gi.community].1]),
            });
        }
    }
    for (i, (cid, si, _)) in communities.iter().enumerate() {
        users.push(DemoUser {
            username: format!("c{:02}", i + 1),
            display_name: format!("{}管理员", names::community(i)),
            role: Role::CommunityManager,
            grids: vec![],
            community: Some(*cid),
            subdistrict: Some(sd_ids[*si]),
        });
    }
    for (i, sd) in sd_ids.iter().enumerate() {
        users.push(DemoUser {
            username: format!("s{}", i + 1),
            display_name: format!("{}管理员", names::SUBDISTRICTS[i]),
            role: Role::SubdistrictManager,
            grids: vec![],
            community: None,
            subdistrict: Some(*sd),
        });
    }
    users.push(DemoUser {
        username: "city".into(),
        display_name: "市级管理员".into(),
        role: Role::CityManager,
        grids: vec![],
        community: None,
        subdistrict: None,
    });
    users.push(DemoUser {
        username: "admin".into(),
        display_name: "系统管理员".into(),
        role: Role::Admin,
        grids: vec![],
        community: None,
        subdistrict: None,
    });
    users
}

/// The alliance units, paired with communities (同心圆), and the service centres (1+5+44); the
/// units of each community.
fn units_and_centres(
    g: &mut Gen,
    start: u64,
    communities: &[(RecordId, usize, (f64, f64))],
    strip: f64,
    stats: &mut Stats,
) -> Vec<Vec<RecordId>> {
    // Alliance units, paired with communities (同心圆).
    let mut units_by_community: Vec<Vec<RecordId>> = vec![Vec::new(); communities.len()];
    for u in 0..UNITS {
        let id = g.id();
        let kind = *["agency", "enterprise", "institution", "school", "hospital"]
            .choose(&mut g.rng)
            .unwrap_or(&"agency");
        let fields = json!({"name": names::unit(u, kind), "kind": kind, "liaison": format!("u{:03}", u + 1)});
        g.set(Collection::Units, id, start, fields);
        let ci = u % communities.len();
        let aid = g.id();
        let fields = json!({"community": communities[ci].0.to_string(), "unit": id.to_string(), "since": "2023-05-01"});
        g.set(Collection::Alliances, aid, start, fields);
        units_by_community[ci].push(id);
        stats.units += 1;
    }

    // Service centres: 1 city, 5 subdistrict, 44 community (1+5+44).
    let city_pos = (WEST + WIDTH / 2.0, SOUTH + HEIGHT / 2.0);
    let centre = |g: &mut Gen, community: RecordId, name: String, level: &str, pos: (f64, f64)| {
        let id = g.id();
        let fields = json!({"community": community.to_string(), "name": name, "level": level, "position": [round6(pos.0), round6(pos.1)]});
        g.set(Collection::ServiceCentres, id, start, fields);
    };
    centre(
        g,
        communities[communities.len() / 2].0,
        "市级党群服务中心".into(),
        "city",
        city_pos,
    );
    for (si, sd_name) in names::SUBDISTRICTS.iter().enumerate() {
        let first = communities.iter().position(|c| c.1 == si).unwrap_or(0);
        let pos = (
            WEST + strip * (si as f64 + 0.5),
            SOUTH + HEIGHT / 2.0 + 0.01,
        );
        centre(
            g,
            communities[first].0,
            format!("{sd_name}党群服务中心"),
            "subdistrict",
            pos,
        );
    }
    for (i, (cid, _, c)) in communities.iter().enumerate() {
        let pos = (
            c.0 + g.rng.random_range(-0.004..0.004),
            c.1 + g.rng.random_range(-0.003..0.003),
        );
        centre(
            g,
            *cid,
            format!("{}党群服务中心", names::community(i)),
            "community",
            pos,
        );
    }
    stats.service_centres = 1 + 5 + communities.len();
    units_by_community
}

/// Compounds: 2–4 per grid, well inside the cell (the jitter moves edges by at most 20%).
fn compounds(g: &mut Gen, grids: &mut [GridInfo], start: u64, stats: &mut Stats) {
    for gi in grids {
        for k in 0..g.rng.random_range(2..=4) {
            let id = g.id();
            let pos = (
                round6(gi.centre.0 + g.rng.random_range(-0.25..0.25) * gi.half.0),
                round6(gi.centre.1 + g.rng.random_range(-0.25..0.25) * gi.half.1),
            );
            let kind = *["compound", "compound", "building", "street"]
                .choose(&mut g.rng)
                .unwrap_or(&"compound");
            let property = *["property", "quasi_property", "none"]
                .choose(&mut g.rng)
                .unwrap_or(&"none");
            let fields = json!({
                "grid": gi.id.to_string(),
                "name": names::compound(&mut g.rng, k),
                "kind": kind,
                "position": [pos.0, pos.1],
                "households": g.rng.random_range(20..400),
                "property": property,
            });
            g.set(Collection::Compounds, id, start, fields);
            gi.compounds.push(id);
            stats.compounds += 1;
        }
    }
}

/// Generates the city, its ops all in memory (a year of the city is ~500,000 ops: to write it
/// somewhere, [`generate_chunked`] keeps memory bounded).
pub fn generate(p: Params) -> DemoCity {
    let mut ops = Vec::new();
    let people = generate_chunked(p, usize::MAX, |chunk| ops.extend(chunk));
    DemoCity {
        ops,
        users: people.users,
        stats: people.stats,
        showcase: people.showcase,
    }
}

/// Generates the city, handing its ops to `sink` in order, `chunk` at a time (the last chunk
/// may be shorter): the same ops as [`generate`], never more than a chunk of them in memory.
pub fn generate_chunked(p: Params, chunk: usize, mut sink: impl FnMut(Vec<Op>)) -> DemoPeople {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(p.seed),
        actor: demo_actor(p.seed),
        ops: Vec::new(),
        serial: 0,
        total: 0,
        chunk: chunk.max(1),
        sink: &mut sink,
    };
    let start = p.now_ms.saturating_sub(u64::from(p.months) * 30 * DAY_MS);
    let mut stats = Stats::default();
    let mut users = Vec::new();
    let mut showcase = BTreeMap::new();

    let Hierarchy {
        strip,
        communities,
        mut grids,
        sd_ids,
    } = hierarchy(&mut g, start, &mut stats);
    compounds(&mut g, &mut grids, start, &mut stats);

    users.extend(people(
        &mut g,
        &mut grids,
        &communities,
        &sd_ids,
        &mut stats,
    ));
    for (role, username) in SHOWCASE {
        showcase.insert(role, username.to_owned());
    }

    let units_by_community = units_and_centres(&mut g, start, &communities, strip, &mut stats);

    // History: visits (about three a grid a week), cases (about one a grid a fortnight),
    // activities (a special event a month and one a week per community; some communities lag).
    let weeks = (u64::from(p.months) * 30).div_ceil(7);
    for gi in &grids {
        for _ in 0..weeks * 3 {
            let at = g.rng.random_range(start..p.now_ms.max(start + 1));
            let id = g.id();
            let compound = *gi.compounds.choose(&mut g.rng).unwrap_or(&gi.compounds[0]);
            let warden = gi.wardens.choose(&mut g.rng).cloned().unwrap_or_default();
            let kind = if g.rng.random_bool(0.7) {
                "household_visit"
            } else {
                "patrol"
            };
            let appeals: Vec<&str> = if g.rng.random_bool(0.2) {
                vec![*names::APPEALS.choose(&mut g.rng).unwrap_or(&"")]
            } else {
                vec![]
            };
            let fields = json!({
                "grid": gi.id.to_string(), "compound": compound.to_string(), "kind": kind, "warden": warden,
                "visited_at": at, "notes": *names::VISIT_NOTES.choose(&mut g.rng).unwrap_or(&""), "appeals": appeals,
                "position": [round6(gi.centre.0), round6(gi.centre.1)],
            });
            g.set(Collection::Visits, id, at, fields);
            stats.visits += 1;
        }
        for _ in 0..weeks.div_ceil(2) {
            case_history(&mut g, gi, start, p.now_ms);
            stats.cases += 1;
        }
    }
    for (i, (cid, _, _)) in communities.iter().enumerate() {
        let lagging = i % 9 == 4;
        for w in 0..weeks {
            if lagging && w % 3 == 1 {
                continue;
            }
            let at = start + w * 7 * DAY_MS + g.rng.random_range(0..6 * DAY_MS);
            if at >= p.now_ms {
                break;
            }
            let special = w % 4 == 0 && !(lagging && w % 8 == 0);
            activity(&mut g, *cid, &units_by_community[i], at, special);
            stats.activities += 1;
        }
    }
    stats.ops = g.total;
    if !g.ops.is_empty() {
        (g.sink)(std::mem::take(&mut g.ops));
    }
    DemoPeople {
        users,
        stats,
        showcase,
    }
}

fn activity(g: &mut Gen, community: RecordId, units: &[RecordId], at: u64, special: bool) {
    let id = g.id();
    // Every theme but "other".
    let themes = &ACTIVITY_THEMES[..ACTIVITY_THEMES.len() - 1];
    let theme = *themes.choose(&mut g.rng).unwrap_or(&"other");
    let picked: Vec<String> = units
        .choose_multiple(&mut g.rng, 2)
        .map(ToString::to_string)
        .collect();
    let fields = json!({
        "community": community.to_string(),
        "title": names::activity_title(theme, special),
        "theme": theme,
        "special": special,
        "date": names::date(at),
        "place": "社区党群服务中心",
        "units": picked,
        "volunteers": g.rng.random_range(5..60),
        "residents_served": g.rng.random_range(30..400),
    });
    g.set(Collection::Activities, id, at, fields);
}

fn case_history(g: &mut Gen, gi: &GridInfo, start: u64, now: u64) {
    let id = g.id();
    let reported = g.rng.random_range(start..now.max(start + 1));
    let category = *CASE_CATEGORIES.choose(&mut g.rng).unwrap_or(&"other");
    let source = *CASE_SOURCES.choose(&mut g.rng).unwrap_or(&"patrol");
    // The built-in deadlines: the demo city is the same whatever a deployment configures (the
    // server's escalation sweeper then applies the configured steps).
    let deadlines = case::Deadlines::default();
    let deadline = case::deadline(&deadlines, reported, category);
    let reporter = gi.wardens.choose(&mut g.rng).cloned().unwrap_or_default();
    let compound = *gi.compounds.choose(&mut g.rng).unwrap_or(&gi.compounds[0]);
    let (title, description) = names::case_text(&mut g.rng, category);
    let fields = json!({
        "grid": gi.id.to_string(), "compound": compound.to_string(), "title": title, "description": description,
        "category": category, "source": source,
        "position": [round6(gi.centre.0), round6(gi.centre.1), 15.0],
        "resident_name": if source == "resident_appeal" { Value::String(names::person(&mut g.rng)) } else { Value::Null },
        "resident_phone": if source == "resident_appeal" { Value::String(names::phone(&mut g.rng)) } else { Value::Null },
    });
    let Value::Object(fields) = fields else {
        unreachable!("fields are built as objects")
    };
    let entry_id = g.uuid();
    let report = actions::report(
        fields.into_iter().collect(),
        &reporter,
        reported,
        &deadlines,
        entry_id,
    );
    g.bodies(Collection::Cases, id, reported, report);
    // How far the case got depends on its age: old cases are mostly closed, new ones open.
    let age_days = (now - reported) / DAY_MS;
    let steps = match age_days {
        0 => g.rng.random_range(0..=1),
        1..=3 => g.rng.random_range(0..=3),
        4..=10 => g.rng.random_range(1..=5),
        _ => {
            if g.rng.random_bool(0.85) {
                4
            } else {
                g.rng.random_range(1..=3)
            }
        }
    };
    let path = [
        (Action::Accept, Role::CommunityManager),
        (Action::Start, Role::Warden),
        (Action::Resolve, Role::Warden),
        (Action::Close, Role::CommunityManager),
    ];
    let mut at = reported;
    let mut status = Status::Reported;
    let assignee = gi.wardens.first().cloned().unwrap_or_default();
    for (action, role) in path.iter().take(steps.min(4)) {
        at += g.rng.random_range(HOUR_MS..2 * DAY_MS);
        if at >= now {
            break;
        }
        let Ok(next) = case::transition(status, *action, *role, case::Level::Community) else {
            break;
        };
        let who = if role.is_manager() {
            "c_manager".to_owned()
        } else {
            assignee.clone()
        };
        let entry_id = g.uuid();
        let bodies = actions::step(
            Some(status),
            *action,
            &who,
            Some(&assignee),
            at,
            "",
            entry_id,
        );
        g.bodies(Collection::Cases, id, at, bodies);
        status = next;
    }
    // Overdue and still open: the reminder (督办) is in the timeline.
    if let Some(level) = case::escalation_level(&deadlines, status, deadline, now) {
        let when = (deadline + HOUR_MS).min(now);
        let mut e = entry("remind", Some(status), status, "supervisor", "逾期督办");
        e["level"] = json!(level.as_str());
        g.append(Collection::Cases, id, when, e);
    }
}

fn entry(action: &str, from: Option<Status>, to: Status, by: &str, note: &str) -> Value {
    let mut m = Map::new();
    m.insert("action".into(), json!(action));
    m.insert(
        "from".into(),
        from.map_or(Value::Null, |s| json!(s.as_str())),
    );
    m.insert("to".into(), json!(to.as_str()));
    m.insert("by".into(), json!(by));
    if !note.is_empty() {
        m.insert("note".into(), json!(note));
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests;
