//! Demo city generation time for 3 and 12 months of history (`cargo xtask bench demo`).
//! The database size of a seeded city is measured by the server's seeding bench.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tongxin_demo::{generate, Params};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("demo_city");
    g.sample_size(10);
    for months in [3u32, 12] {
        let ops = generate(Params {
            seed: 1,
            months,
            now_ms: 1_764_000_000_000,
        })
        .stats
        .ops;
        eprintln!("demo_city/{months} months: {ops} ops");
        g.bench_with_input(
            BenchmarkId::new("generate_months", months),
            &months,
            |b, &months| {
                b.iter(|| {
                    generate(Params {
                        seed: 1,
                        months,
                        now_ms: 1_764_000_000_000,
                    })
                    .stats
                    .ops
                });
            },
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
