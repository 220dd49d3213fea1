//! Properties of the Merkle primitives (issue #3, FR-BAP-DM-02), each checked against an
//! oracle: the recursive definition of RFC 6962 §2.1, or recomputation.

use platone_primitives::{
	merkle::{self, fast, path_len, Hasher},
	verify_measurement, window_root, Blake2_256, DatasetRoot, Hash, MeasurementProof, MerkleProof,
	MerkleTree, ProofError, VerifyError,
};
use proptest::prelude::*;

type H = Blake2_256;

/// RFC 6962 MTH(D[n]), written straight from the RFC.
fn rfc_root(leaves: &[Hash]) -> Hash {
	match leaves.len() {
		0 => H::hash(&[]),
		1 => leaves[0],
		n => {
			let k = largest_power_of_two_below(n);
			H::node(&rfc_root(&leaves[..k]), &rfc_root(&leaves[k..]))
		}
	}
}

/// RFC 6962 PATH(m, D[n]), leaf level first.
fn rfc_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
	let n = leaves.len();
	if n <= 1 {
		return vec![];
	}
	let k = largest_power_of_two_below(n);
	if m < k {
		let mut p = rfc_path(m, &leaves[..k]);
		p.push(rfc_root(&leaves[k..]));
		p
	} else {
		let mut p = rfc_path(m - k, &leaves[k..]);
		p.push(rfc_root(&leaves[..k]));
		p
	}
}

fn largest_power_of_two_below(n: usize) -> usize {
	let mut k = 1;
	while k * 2 < n {
		k *= 2;
	}
	k
}

fn leaves(n: usize, seed: u64) -> Vec<Vec<u8>> {
	(0..n as u64)
		.map(|i| {
			(seed ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
				.to_le_bytes()
				.to_vec()
		})
		.collect()
}

#[test]
fn root_and_paths_match_rfc_6962_for_small_trees() {
	for n in 1..=130 {
		let data = leaves(n, n as u64);
		let tree = MerkleTree::from_leaves::<H>(&data);
		let hashes: Vec<Hash> = data.iter().map(|l| H::leaf(l)).collect();
		assert_eq!(tree.root::<H>(), rfc_root(&hashes), "root of {n} leaves");
		assert_eq!(merkle::root::<H>(&hashes), rfc_root(&hashes));
		for m in 0..n {
			let proof = tree.proof(m as u64).expect("in range");
			assert_eq!(
				proof.siblings,
				rfc_path(m, &hashes),
				"path of leaf {m} of {n}"
			);
			assert_eq!(Some(proof.siblings.len()), path_len(m as u64, n as u64));
		}
	}
}

#[test]
fn empty_tree_root_is_hash_of_nothing() {
	let tree = MerkleTree::from_leaf_hashes::<H>(vec![]);
	assert_eq!(tree.root::<H>(), H::hash(&[]));
	assert_eq!(tree.proof(0), None);
}

#[test]
fn leaf_and_node_hashes_cannot_be_confused() {
	// A two-leaf tree's root is H(0x01 ‖ a ‖ b). Presenting `a ‖ b` as a single leaf gives
	// H(0x00 ‖ a ‖ b): a different hash, so an inner node never passes for a leaf.
	let (a, b) = (H::leaf(b"a"), H::leaf(b"b"));
	let root = MerkleTree::from_leaf_hashes::<H>(vec![a, b]).root::<H>();
	let forged_leaf = [a, b].concat();
	assert_ne!(H::leaf(&forged_leaf), root);
	let single = MerkleProof {
		leaf_index: 0,
		leaf_count: 1,
		siblings: vec![],
	};
	assert_eq!(
		merkle::verify::<H>(&root, &H::leaf(&forged_leaf), &single),
		Err(ProofError::RootMismatch)
	);
	// And an interior node presented as a leaf of the level above fails too.
	let four = MerkleTree::from_leaves::<H>(&leaves(4, 7));
	let inner = H::node(&H::leaf(&leaves(4, 7)[0]), &H::leaf(&leaves(4, 7)[1]));
	let forged = MerkleProof {
		leaf_index: 0,
		leaf_count: 2,
		siblings: vec![four.proof(3).unwrap().siblings[1]],
	};
	assert_eq!(
		merkle::verify::<H>(&four.root::<H>(), &H::leaf(&inner), &forged),
		Err(ProofError::RootMismatch)
	);
	// The domain prefixes are part of the hashed bytes, not an implementation detail.
	assert_eq!(H::leaf(b"x"), H::hash(&[0x00, b'x']));
	assert_eq!(H::node(&a, &b), H::hash(&[&[0x01][..], &a, &b].concat()));
}

#[test]
fn proofs_of_the_wrong_shape_are_rejected() {
	let tree = MerkleTree::from_leaves::<H>(&leaves(5, 1));
	let root = tree.root::<H>();
	let leaf = H::leaf(&leaves(5, 1)[2]);
	let good = tree.proof(2).unwrap();
	assert_eq!(merkle::verify::<H>(&root, &leaf, &good), Ok(()));

	let mut out_of_range = good.clone();
	out_of_range.leaf_index = 5;
	assert_eq!(
		merkle::verify::<H>(&root, &leaf, &out_of_range),
		Err(ProofError::IndexOutOfRange)
	);

	let mut too_long = good.clone();
	too_long.siblings.push([0; 32]);
	assert_eq!(
		merkle::verify::<H>(&root, &leaf, &too_long),
		Err(ProofError::WrongPathLength)
	);

	let mut too_short = good.clone();
	too_short.siblings.pop();
	assert_eq!(
		merkle::verify::<H>(&root, &leaf, &too_short),
		Err(ProofError::WrongPathLength)
	);

	let mut resized = good;
	resized.leaf_count = 4;
	assert!(merkle::verify::<H>(&root, &leaf, &resized).is_err());
}

fn flip(bytes: &mut [u8], bit: usize) {
	let bit = bit % (bytes.len() * 8);
	bytes[bit / 8] ^= 1 << (bit % 8);
}

/// The frontier, built one leaf at a time (and encoded and decoded between leaves, as it is
/// stored between blocks), gives the root that `root` computes over all leaves, at every size.
#[test]
fn a_frontier_gives_the_root_over_its_leaves_at_every_size() {
	use codec::{Decode, Encode};
	let data = leaves(1_100, 7);
	let hashes: Vec<Hash> = data.iter().map(|l| H::leaf(l)).collect();
	let mut frontier = merkle::Frontier::default();
	assert_eq!(frontier.root::<H>(), merkle::root::<H>(&[]));
	for (n, h) in hashes.iter().enumerate() {
		frontier.push::<H>(*h);
		frontier = merkle::Frontier::decode(&mut &frontier.encode()[..]).expect("decodes");
		assert_eq!(
			frontier.root::<H>(),
			merkle::root::<H>(&hashes[..=n]),
			"{} leaves",
			n + 1
		);
		assert_eq!(frontier.peaks.len() as u32, frontier.count.count_ones());
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

	/// Random trees of 1..=100,000 leaves: every proof verifies, and a flipped bit in the leaf,
	/// in the proof or in the root makes it fail.
	#[test]
	fn every_proof_verifies_and_any_flipped_bit_fails(
		n in prop_oneof![1usize..=64, 65usize..=4096, 4097usize..=100_000],
		seed in any::<u64>(),
		bit in any::<usize>(),
	) {
		let data = leaves(n, seed);
		let tree = fast::tree(&data);
		let root = tree.root::<H>();
		let hashes: Vec<Hash> = data.iter().map(|l| H::leaf(l)).collect();
		prop_assert_eq!(root, merkle::root::<H>(&hashes));
		for (i, leaf) in hashes.iter().enumerate() {
			let proof = tree.proof(i as u64).expect("in range");
			prop_assert_eq!(merkle::verify::<H>(&root, leaf, &proof), Ok(()));
		}

		let i = seed as usize % n;
		let proof = tree.proof(i as u64).unwrap();

		let mut leaf = data[i].clone();
		flip(&mut leaf, bit);
		prop_assert!(merkle::verify::<H>(&root, &H::leaf(&leaf), &proof).is_err());

		let mut bad_root = root;
		flip(&mut bad_root, bit);
		prop_assert!(merkle::verify::<H>(&bad_root, &hashes[i], &proof).is_err());

		if !proof.siblings.is_empty() {
			let mut bad = proof.clone();
			let s = bit % bad.siblings.len();
			flip(&mut bad.siblings[s], bit / 7);
			prop_assert!(merkle::verify::<H>(&root, &hashes[i], &bad).is_err());
		}
		if n > 1 {
			let mut moved = proof.clone();
			moved.leaf_index = (moved.leaf_index + 1 + bit as u64 % (n as u64 - 1)) % n as u64;
			prop_assert!(merkle::verify::<H>(&root, &hashes[i], &moved).is_err());
		}
	}

	/// The SIMD builder and the portable one build the same tree.
	#[test]
	fn fast_tree_equals_portable_tree(n in 1usize..2000, seed in any::<u64>()) {
		let data = leaves(n, seed);
		let fast = fast::tree(&data);
		let slow = MerkleTree::from_leaves::<H>(&data);
		prop_assert_eq!(fast.root::<H>(), slow.root::<H>());
		let i = seed % n as u64;
		prop_assert_eq!(fast.proof(i), slow.proof(i));
	}

	/// Two-level proofs: a measurement verifies against its window root, and tampering with
	/// the measurement, its dataset commitment or either path fails.
	#[test]
	fn measurement_proofs_verify_against_the_window_root(
		datasets in 1usize..40, per_dataset in 1usize..300, seed in any::<u64>(), bit in any::<usize>(),
	) {
		let trees: Vec<(Vec<Vec<u8>>, MerkleTree)> = (0..datasets)
			.map(|d| {
				let data = leaves(per_dataset + d, seed ^ d as u64);
				let tree = MerkleTree::from_leaves::<H>(&data);
				(data, tree)
			})
			.collect();
		let roots: Vec<DatasetRoot> = trees
			.iter()
			.enumerate()
			.map(|(d, (_, t))| DatasetRoot { dataset: d as u64 * 10, leaf_count: t.leaf_count(), root: t.root::<H>() })
			.collect();
		let window = window_root::<H>(&roots);
		let second_level = MerkleTree::from_leaf_hashes::<H>(roots.iter().map(DatasetRoot::leaf_hash::<H>).collect());
		prop_assert_eq!(second_level.root::<H>(), window);

		let d = seed as usize % datasets;
		let (data, tree) = &trees[d];
		let i = (seed >> 8) as usize % data.len();
		let proof = MeasurementProof {
			leaf: data[i].clone(),
			leaf_proof: tree.proof(i as u64).unwrap(),
			dataset: roots[d],
			dataset_proof: second_level.proof(d as u64).unwrap(),
		};
		prop_assert_eq!(verify_measurement::<H>(&window, &proof), Ok(()));

		let mut tampered = proof.clone();
		flip(&mut tampered.leaf, bit);
		prop_assert_eq!(verify_measurement::<H>(&window, &tampered), Err(VerifyError::Leaf(ProofError::RootMismatch)));

		let mut tampered = proof.clone();
		tampered.dataset.leaf_count += 1;
		prop_assert_eq!(verify_measurement::<H>(&window, &tampered), Err(VerifyError::LeafCountMismatch));

		let mut tampered = proof.clone();
		flip(&mut tampered.dataset.root, bit);
		prop_assert!(verify_measurement::<H>(&window, &tampered).is_err());

		let mut tampered = proof;
		tampered.dataset.dataset += 1;
		prop_assert_eq!(verify_measurement::<H>(&window, &tampered), Err(VerifyError::Dataset(ProofError::RootMismatch)));
	}
}

/// A tree grown one leaf at a time through its peaks (the settlement pallet's anchor) has the
/// RFC 6962 root at every size, checked against the recursive definition.
#[test]
fn peaks_give_the_rfc_root_at_every_size() {
	let hashes: Vec<Hash> = leaves(300, 7).iter().map(|l| H::leaf(l)).collect();
	let mut peaks = Vec::new();
	assert_eq!(merkle::root_of_peaks::<H>(&peaks), rfc_root(&[]));
	for (n, h) in hashes.iter().enumerate() {
		merkle::append_peak::<H>(&mut peaks, n as u64, *h);
		assert_eq!(peaks.len(), (n as u64 + 1).count_ones() as usize);
		assert_eq!(
			merkle::root_of_peaks::<H>(&peaks),
			rfc_root(&hashes[..=n]),
			"{} leaves",
			n + 1
		);
	}
}
