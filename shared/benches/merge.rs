//! Throughput of the pure merge: ops applied per second (`cargo xtask bench`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::json;
use std::collections::BTreeMap;
use tongxin_shared::merge::{apply, merge_record};
use tongxin_shared::{
    ActorId, Collection, Hlc, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

fn ops(n: usize, records: u128) -> Vec<Op> {
    (0..n)
        .map(|i| {
            let mut fields = BTreeMap::new();
            fields.insert("title".to_owned(), json!(format!("t{i}")));
            fields.insert("status".to_owned(), json!("in_progress"));
            Op {
                id: OpId(Uuid::from_u128(i as u128)),
                actor: ActorId(Uuid::from_u128((i % 7) as u128)),
                hlc: Hlc::new(1_700_000_000_000 + i as u64, 0),
                collection: Collection::Cases,
                record: RecordId(Uuid::from_u128(i as u128 % records)),
                body: OpBody::Set { fields },
                schema: SCHEMA_VERSION,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("merge");
    for n in [1_000usize, 10_000] {
        let batch = ops(n, 500);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("apply_ops", n), &batch, |b, batch| {
            b.iter(|| {
                let mut recs: BTreeMap<RecordId, Record> = BTreeMap::new();
                for op in batch {
                    let r = recs
                        .entry(op.record)
                        .or_insert_with(|| Record::new(op.collection, op.record));
                    apply(r, op);
                }
                recs
            });
        });
    }
    let batch = ops(10_000, 500);
    let mut recs: BTreeMap<RecordId, Record> = BTreeMap::new();
    for op in &batch {
        let r = recs
            .entry(op.record)
            .or_insert_with(|| Record::new(op.collection, op.record));
        apply(r, op);
    }
    g.throughput(Throughput::Elements(recs.len() as u64));
    g.bench_function("merge_records_500", |b| {
        b.iter(|| {
            let mut into: BTreeMap<RecordId, Record> = BTreeMap::new();
            for (id, r) in &recs {
                merge_record(
                    into.entry(*id)
                        .or_insert_with(|| Record::new(r.collection, *id)),
                    r,
                );
            }
            into
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
