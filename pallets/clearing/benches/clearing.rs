//! Clearing time as a function of offers, requests and slots (issue #13, docs/benchmarks.md).
//! Deterministic synthetic sessions (`synthetic/mod.rs`: a module, not a bench target).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use platone_clearing::*;

mod synthetic;
use synthetic::session;

fn clearing(c: &mut Criterion) {
	let mut group = c.benchmark_group("clear");
	group.sample_size(10);
	for (offers, requests) in [(100, 10), (1_000, 100), (3_000, 300), (10_000, 1_000)] {
		let m = session(offers, requests, 1);
		group.bench_with_input(
			BenchmarkId::new("one slot", format!("{offers}x{requests}")),
			&m,
			|b, m| b.iter(|| clear(m).unwrap()),
		);
	}
	group.finish();
}

criterion_group!(benches, clearing);
criterion_main!(benches);
