use super::*;
use tongxin_shared::geo::GridIndex;
use tongxin_shared::merge::apply;
use tongxin_shared::schema::validate_op;
use tongxin_shared::Record;

const NOW: u64 = 1_764_000_000_000;

fn city(months: u32) -> DemoCity {
    generate(Params {
        seed: 7,
        months,
        now_ms: NOW,
    })
}

fn records(c: &DemoCity) -> BTreeMap<RecordId, Record> {
    let mut out: BTreeMap<RecordId, Record> = BTreeMap::new();
    for op in &c.ops {
        apply(
            out.entry(op.record)
                .or_insert_with(|| Record::new(op.collection, op.record)),
            op,
        );
    }
    out
}

#[test]
fn has_the_seed_documents_scale() {
    let c = city(3);
    assert_eq!(c.stats.subdistricts, 5);
    assert_eq!(c.stats.communities, 44);
    assert_eq!(c.stats.grids, 1200);
    assert_eq!(c.stats.wardens, 6135);
    assert_eq!(c.stats.units, 403);
    assert_eq!(c.stats.service_centres, 50);
    assert!(
        c.stats.cases > 5000 && c.stats.visits > 40_000 && c.stats.activities > 500,
        "{:?}",
        c.stats
    );
    assert_eq!(
        c.users.iter().filter(|u| u.role == Role::Warden).count(),
        6135
    );
    for name in c.showcase.values() {
        assert!(c.users.iter().any(|u| &u.username == name), "{name}");
    }
}

#[test]
fn is_deterministic_and_every_op_is_valid() {
    let a = city(1);
    let b = city(1);
    assert_eq!(a.ops, b.ops);
    for op in &a.ops {
        validate_op(op).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        assert!(op.hlc.wall_ms <= NOW);
    }
    let other = generate(Params {
        seed: 8,
        months: 1,
        now_ms: NOW,
    });
    assert_ne!(a.ops[0].record, other.ops[0].record);
}

#[test]
fn grids_tile_without_overlap_and_compounds_lie_in_their_grid() {
    let c = city(1);
    let recs = records(&c);
    let grids: Vec<_> = recs
        .values()
        .filter(|r| r.collection == Collection::Grids)
        .collect();
    let (index, bad) = GridIndex::build(
        grids
            .iter()
            .map(|r| (r.id, r.str("code").unwrap(), r.get("boundary").unwrap())),
    );
    assert!(bad.is_empty());
    assert_eq!(index.len(), 1200);
    // Every compound lies in its own grid and in no other grid's interior.
    for r in recs
        .values()
        .filter(|r| r.collection == Collection::Compounds)
    {
        let pos = r.get("position").unwrap().as_array().unwrap();
        let (lon, lat) = (pos[0].as_f64().unwrap(), pos[1].as_f64().unwrap());
        let grid = RecordId::parse(r.str("grid").unwrap()).unwrap();
        assert_eq!(index.locate(lon, lat), Some(grid));
    }
    // A sample lattice over the city: every point is in exactly one grid's interior or on edges;
    // no point lies outside every grid (they tile the city's rectangle).
    for i in 0..60 {
        for j in 0..60 {
            let lon = WEST + WIDTH * (f64::from(i) + 0.37) / 60.0;
            let lat = SOUTH + HEIGHT * (f64::from(j) + 0.61) / 60.0;
            assert!(
                index.locate(lon, lat).is_some(),
                "({lon}, {lat}) is in no grid"
            );
        }
    }
}

#[test]
fn cases_come_in_every_state_with_timelines() {
    let c = city(3);
    let recs = records(&c);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    let mut overdue = 0;
    for r in recs.values().filter(|r| r.collection == Collection::Cases) {
        let status = r.str("status").unwrap().to_owned();
        let st = Status::parse(&status).unwrap();
        let deadline = r.get("deadline").unwrap().as_u64().unwrap();
        if case::is_overdue(st, deadline, NOW) {
            overdue += 1;
            assert!(
                r.log.values().any(|e| e.data["action"] == "remind"),
                "overdue case has a reminder"
            );
        }
        assert!(!r.log.is_empty());
        *by_status.entry(status).or_default() += 1;
    }
    for s in Status::ALL {
        assert!(
            by_status.get(s.as_str()).copied().unwrap_or(0) > 0,
            "{s:?}: {by_status:?}"
        );
    }
    assert!(overdue > 0);
}

#[test]
fn chunked_generation_hands_over_the_same_ops_in_order_a_chunk_at_a_time() {
    let whole = city(1);
    let mut chunks: Vec<Vec<Op>> = Vec::new();
    let people = generate_chunked(
        Params {
            seed: 7,
            months: 1,
            now_ms: NOW,
        },
        5000,
        |c| chunks.push(c),
    );
    assert!(chunks.len() > 2, "{} chunks", chunks.len());
    let (last, full) = chunks.split_last().unwrap();
    assert!(full.iter().all(|c| c.len() == 5000));
    assert!(!last.is_empty() && last.len() <= 5000);
    let streamed: Vec<Op> = chunks.into_iter().flatten().collect();
    assert_eq!(streamed.len(), whole.ops.len());
    assert_eq!(people.stats.ops, whole.stats.ops);
    assert!(streamed == whole.ops, "the same ops in the same order");
    assert_eq!(people.users.len(), whole.users.len());
}
