//! Reading a pull page (`cargo xtask bench decode`): records/s of `pull_page::judge` on a page
//! of 1,000 cases shaped as `cargo xtask bench pull` writes them (`samples::reported_case`).
//! The app runs the same code compiled to wasm, on its main thread, for every page it pulls
//! (`cargo xtask bench wasm` times it there).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tongxin_shared::pull_page::{judge, Step, PULL_LIMIT};
use tongxin_shared::samples::pull_answer_of_cases;

const N: u32 = 1000;

fn bench(c: &mut Criterion) {
    let text = pull_answer_of_cases(N, 1_764_000_000_000);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(u64::from(N)));
    g.bench_function("judge_page_of_1000_cases", |b| {
        b.iter(|| match judge(&text, PULL_LIMIT) {
            Step::Apply { page, .. } => {
                assert_eq!(page.records.len(), N as usize);
                page
            }
            other => panic!("the page did not read: {other:?}"),
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
