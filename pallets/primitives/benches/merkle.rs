//! Merkle figures for docs/benchmarks.md (issue #3):
//! - tree building vs raw BLAKE2-256 over the same leaves, on one core;
//! - proof size and verification time for 10^3, 10^6 and 10^9 leaves.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use platone_primitives::{
	measurement::{MeasurementRecord, Phasor, PmuSample, Reading},
	merkle::{self, fast, Hasher},
	Blake2_256, MerkleProof, MerkleTree,
};

/// Canonical bytes of `n` realistic PMU samples (50 Hz, three phases).
fn pmu_leaves(n: usize) -> Vec<Vec<u8>> {
	(0..n as u64)
		.map(|i| {
			MeasurementRecord {
				dataset: 7,
				timestamp_us: 1_795_564_800_000_000 + i * 20_000,
				sequence: i as u32,
				reading: Reading::Pmu(PmuSample {
					frequency_mhz: 50_000 + (i % 13) as u32,
					rocof_mhz_per_s: (i % 7) as i32 - 3,
					phases: [Phasor {
						voltage_mv: 230_000_000 + i,
						voltage_angle_urad: (i % 6283) as i32,
						current_ma: 120_000 + i,
						current_angle_urad: -((i % 6283) as i32),
					}; 3],
				}),
			}
			.canonical_bytes()
		})
		.collect()
}

fn tree_vs_raw(c: &mut Criterion) {
	let n = 100_000;
	let leaves = pmu_leaves(n);
	let mut group = c.benchmark_group("tree_vs_raw_blake2");
	group.throughput(Throughput::Elements(n as u64));
	group.sample_size(20);
	group.bench_function("raw_blake2_256_per_leaf", |b| {
		b.iter(|| {
			for leaf in &leaves {
				black_box(Blake2_256::hash(leaf));
			}
		})
	});
	group.bench_function("tree_portable", |b| {
		b.iter(|| black_box(MerkleTree::from_leaves::<Blake2_256>(&leaves).root::<Blake2_256>()))
	});
	group.bench_function("tree_simd", |b| {
		b.iter(|| black_box(fast::tree(&leaves).root::<Blake2_256>()))
	});
	group.finish();
}

/// A valid proof in a tree of `count` leaves without building the tree: random siblings, and
/// the root recomputed from them. Verification cost depends only on the path.
fn synthetic(
	count: u64,
) -> (
	platone_primitives::Hash,
	platone_primitives::Hash,
	MerkleProof,
) {
	let index = count / 3;
	let len = merkle::path_len(index, count).expect("index < count");
	let siblings = (0..len)
		.map(|i| Blake2_256::hash(&(i as u64).to_le_bytes()))
		.collect();
	let proof = MerkleProof {
		leaf_index: index,
		leaf_count: count,
		siblings,
	};
	let leaf = Blake2_256::leaf(b"measurement");
	let root = merkle::root_from_proof::<Blake2_256>(&leaf, &proof).expect("well-formed");
	(root, leaf, proof)
}

fn verify(c: &mut Criterion) {
	let mut group = c.benchmark_group("verify_proof");
	for count in [1_000u64, 1_000_000, 1_000_000_000] {
		let (root, leaf, proof) = synthetic(count);
		let size = codec::Encode::encoded_size(&proof);
		group.bench_with_input(
			BenchmarkId::new(format!("leaves_{count}_proof_{size}_bytes"), count),
			&(root, leaf, proof),
			|b, (root, leaf, proof)| {
				b.iter(|| merkle::verify::<Blake2_256>(root, leaf, black_box(proof)))
			},
		);
	}
	group.finish();
}

criterion_group!(benches, tree_vs_raw, verify);
criterion_main!(benches);
