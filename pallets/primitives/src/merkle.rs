//! Binary Merkle trees in the style of RFC 6962 (Certificate Transparency), over BLAKE2-256.
//!
//! - A leaf hashes as `H(0x00 ‖ leaf)` and an inner node as `H(0x01 ‖ left ‖ right)`, so no leaf
//!   can pass for a node (second-preimage resistance).
//! - The tree over `n` leaves splits at the largest power of two below `n`, which is well defined
//!   for every `n ≥ 1`. Built level by level, a lone last node is carried up unhashed; this gives
//!   the same root as the RFC's recursive definition.
//! - The empty tree's root is `H("")`.
//!
//! An inclusion proof is the RFC 6962 audit path plus the leaf's index and the tree size, so a
//! verifier knows where each sibling goes and rejects a path of the wrong length.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

pub type Hash = [u8; 32];

pub const LEAF_PREFIX: u8 = 0x00;
pub const NODE_PREFIX: u8 = 0x01;

/// No tree with at most 2^64 leaves is deeper than this.
pub const MAX_DEPTH: usize = 64;

/// A 32-byte BLAKE2b hash function: the host function in the runtime, a library off chain.
pub trait Hasher {
	fn hash(data: &[u8]) -> Hash;

	/// `H(0x00 ‖ leaf)`.
	fn leaf(leaf: &[u8]) -> Hash {
		let mut buf = Vec::with_capacity(leaf.len() + 1);
		buf.push(LEAF_PREFIX);
		buf.extend_from_slice(leaf);
		Self::hash(&buf)
	}

	/// `H(0x01 ‖ left ‖ right)`.
	fn node(left: &Hash, right: &Hash) -> Hash {
		let mut buf = [0u8; 65];
		buf[0] = NODE_PREFIX;
		buf[1..33].copy_from_slice(left);
		buf[33..].copy_from_slice(right);
		Self::hash(&buf)
	}
}

/// BLAKE2b-256 in software (SIMD where the CPU has it).
#[allow(non_camel_case_types)]
pub struct Blake2_256;

impl Blake2_256 {
	fn params() -> blake2b_simd::Params {
		let mut p = blake2b_simd::Params::new();
		p.hash_length(32);
		p
	}

	fn out(h: blake2b_simd::Hash) -> Hash {
		let mut out = [0u8; 32];
		out.copy_from_slice(h.as_bytes());
		out
	}
}

impl Hasher for Blake2_256 {
	fn hash(data: &[u8]) -> Hash {
		Self::out(Self::params().hash(data))
	}

	fn leaf(leaf: &[u8]) -> Hash {
		Self::out(
			Self::params()
				.to_state()
				.update(&[LEAF_PREFIX])
				.update(leaf)
				.finalize(),
		)
	}
}

/// An inclusion proof: the audit path from a leaf to the root.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MerkleProof {
	pub leaf_index: u64,
	pub leaf_count: u64,
	/// Siblings from the leaf level up.
	pub siblings: Vec<Hash>,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum ProofError {
	/// `leaf_index >= leaf_count`.
	IndexOutOfRange,
	/// The path is not as long as a tree of `leaf_count` leaves requires at `leaf_index`.
	WrongPathLength,
	/// The path leads to another root.
	RootMismatch,
}

/// Number of siblings on the path of leaf `index` in a tree of `count` leaves.
pub fn path_len(index: u64, count: u64) -> Option<usize> {
	if index >= count {
		return None;
	}
	let (mut idx, mut last, mut len) = (index, count - 1, 0usize);
	while last > 0 {
		if idx % 2 == 1 || idx != last {
			len += 1;
		}
		idx /= 2;
		last /= 2;
	}
	Some(len)
}

/// Recomputes the root from a leaf hash and its proof.
pub fn root_from_proof<H: Hasher>(
	leaf_hash: &Hash,
	proof: &MerkleProof,
) -> Result<Hash, ProofError> {
	let expected =
		path_len(proof.leaf_index, proof.leaf_count).ok_or(ProofError::IndexOutOfRange)?;
	if proof.siblings.len() != expected {
		return Err(ProofError::WrongPathLength);
	}
	let (mut idx, mut last) = (proof.leaf_index, proof.leaf_count - 1);
	let mut acc = *leaf_hash;
	let mut siblings = proof.siblings.iter();
	while last > 0 {
		if idx % 2 == 1 {
			let s = siblings.next().ok_or(ProofError::WrongPathLength)?;
			acc = H::node(s, &acc);
		} else if idx != last {
			let s = siblings.next().ok_or(ProofError::WrongPathLength)?;
			acc = H::node(&acc, s);
		}
		idx /= 2;
		last /= 2;
	}
	Ok(acc)
}

/// Checks that `leaf_hash` sits at `proof.leaf_index` of the tree with root `root`.
pub fn verify<H: Hasher>(
	root: &Hash,
	leaf_hash: &Hash,
	proof: &MerkleProof,
) -> Result<(), ProofError> {
	if root_from_proof::<H>(leaf_hash, proof)? == *root {
		Ok(())
	} else {
		Err(ProofError::RootMismatch)
	}
}

/// Root over leaf hashes, without keeping the inner levels. Allocates one level's worth.
pub fn root<H: Hasher>(leaf_hashes: &[Hash]) -> Hash {
	match leaf_hashes.len() {
		0 => H::hash(&[]),
		1 => leaf_hashes[0],
		_ => {
			let mut level = next_level::<H>(leaf_hashes);
			while level.len() > 1 {
				level = next_level::<H>(&level);
			}
			level[0]
		}
	}
}

fn next_level<H: Hasher>(level: &[Hash]) -> Vec<Hash> {
	let mut out = Vec::with_capacity(level.len().div_ceil(2));
	let mut pairs = level.chunks_exact(2);
	for pair in &mut pairs {
		out.push(H::node(&pair[0], &pair[1]));
	}
	// A lone last node is carried up unhashed.
	out.extend_from_slice(pairs.remainder());
	out
}

/// A tree's root built one leaf at a time in O(log n) space: the roots of its complete
/// subtrees so far, largest first. It can be stored between blocks, so that a root over more
/// leaves than one block handles comes out equal to `root` over all of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct Frontier {
	/// Leaves added so far.
	pub count: u64,
	/// One subtree root per set bit of `count`, the largest subtree first.
	pub peaks: Vec<Hash>,
}

impl MaxEncodedLen for Frontier {
	fn max_encoded_len() -> usize {
		// `count`, the peaks' compact length (two bytes for 64) and at most 64 peaks.
		8 + 2 + MAX_DEPTH * 32
	}
}

impl Frontier {
	/// Adds the next leaf's hash.
	pub fn push<H: Hasher>(&mut self, leaf_hash: Hash) {
		let mut node = leaf_hash;
		// Each trailing one bit of `count` is a complete subtree of the new node's size.
		let mut n = self.count;
		while n & 1 == 1 {
			if let Some(left) = self.peaks.pop() {
				node = H::node(&left, &node);
			}
			n >>= 1;
		}
		self.peaks.push(node);
		self.count = self.count.saturating_add(1);
	}

	/// The root over the leaves added so far, as `root` computes it.
	pub fn root<H: Hasher>(&self) -> Hash {
		// A lone smaller subtree is carried up and joins the next larger one on its right.
		let mut peaks = self.peaks.iter().rev();
		let Some(mut acc) = peaks.next().copied() else {
			return H::hash(&[]);
		};
		for left in peaks {
			acc = H::node(left, &acc);
		}
		acc
	}
}

/// A whole tree, every level kept, to hand out proofs for all its leaves.
#[derive(Clone, Debug)]
pub struct MerkleTree {
	/// `levels[0]` are the leaf hashes, the last level is the root.
	levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
	/// Builds the tree over leaf hashes.
	pub fn from_leaf_hashes<H: Hasher>(leaf_hashes: Vec<Hash>) -> Self {
		let mut levels = alloc::vec![leaf_hashes];
		while levels.last().map_or(0, Vec::len) > 1 {
			let next = levels
				.last()
				.map(|l| next_level::<H>(l))
				.unwrap_or_default();
			levels.push(next);
		}
		MerkleTree { levels }
	}

	/// Builds the tree over raw leaves (their canonical bytes).
	pub fn from_leaves<H: Hasher>(leaves: &[impl AsRef<[u8]>]) -> Self {
		Self::from_leaf_hashes::<H>(leaves.iter().map(|l| H::leaf(l.as_ref())).collect())
	}

	pub fn leaf_count(&self) -> u64 {
		self.levels.first().map_or(0, |l| l.len() as u64)
	}

	pub fn root<H: Hasher>(&self) -> Hash {
		match self.levels.last() {
			Some(top) if top.len() == 1 => top[0],
			_ => H::hash(&[]),
		}
	}

	/// The audit path of leaf `index`, or `None` past the last leaf.
	pub fn proof(&self, index: u64) -> Option<MerkleProof> {
		let count = self.leaf_count();
		if index >= count {
			return None;
		}
		let mut siblings = Vec::with_capacity(path_len(index, count)?);
		let mut idx = usize::try_from(index).ok()?;
		for level in &self.levels[..self.levels.len() - 1] {
			let sibling = idx ^ 1;
			if let Some(s) = level.get(sibling) {
				siblings.push(*s);
			}
			idx /= 2;
		}
		Some(MerkleProof {
			leaf_index: index,
			leaf_count: count,
			siblings,
		})
	}
}

#[cfg(feature = "std")]
pub mod fast {
	//! Off-chain tree building that hashes several inputs at once with AVX2/SSE4.1
	//! (`blake2b_simd::many`), giving the same tree as [`super::MerkleTree`].

	use super::*;
	use blake2b_simd::many::{hash_many, HashManyJob};

	/// Hashes equal-purpose inputs laid out back to back in `buf` at `ranges`, several at a
	/// time. One buffer and one job list: no allocation per input.
	fn hash_ranges(buf: &[u8], ranges: impl Iterator<Item = core::ops::Range<usize>>) -> Vec<Hash> {
		let params = Blake2_256::params();
		let mut jobs: Vec<HashManyJob> =
			ranges.map(|r| HashManyJob::new(&params, &buf[r])).collect();
		hash_many(jobs.iter_mut());
		jobs.iter().map(|j| Blake2_256::out(j.to_hash())).collect()
	}

	/// Leaf hashes `H(0x00 ‖ leaf)` of many leaves.
	pub fn leaf_hashes<L: AsRef<[u8]>>(leaves: &[L]) -> Vec<Hash> {
		let total: usize = leaves.iter().map(|l| l.as_ref().len() + 1).sum();
		let mut buf = Vec::with_capacity(total);
		let mut ranges = Vec::with_capacity(leaves.len());
		for leaf in leaves {
			let start = buf.len();
			buf.push(LEAF_PREFIX);
			buf.extend_from_slice(leaf.as_ref());
			ranges.push(start..buf.len());
		}
		hash_ranges(&buf, ranges.into_iter())
	}

	fn next_level(level: &[Hash]) -> Vec<Hash> {
		let pairs = level.chunks_exact(2);
		let lone = pairs.remainder();
		let mut buf = Vec::with_capacity(pairs.len() * 65);
		for pair in pairs {
			buf.push(NODE_PREFIX);
			buf.extend_from_slice(&pair[0]);
			buf.extend_from_slice(&pair[1]);
		}
		let mut out = hash_ranges(&buf, (0..buf.len() / 65).map(|i| i * 65..(i + 1) * 65));
		out.extend_from_slice(lone);
		out
	}

	/// The same tree as `MerkleTree::from_leaves::<Blake2_256>`, built with SIMD hashing.
	pub fn tree<L: AsRef<[u8]>>(leaves: &[L]) -> MerkleTree {
		let mut levels = alloc::vec![leaf_hashes(leaves)];
		while levels.last().map_or(0, Vec::len) > 1 {
			let next = levels.last().map(|l| next_level(l)).unwrap_or_default();
			levels.push(next);
		}
		MerkleTree { levels }
	}
}

/// Appends a leaf hash to the peaks of a tree of `count` leaves (the roots of its perfect
/// subtrees, largest first), so that a tree grown one leaf at a time keeps O(log n) state and
/// still has the root of [`root`] over all its leaves ([`root_of_peaks`]).
pub fn append_peak<H: Hasher>(peaks: &mut Vec<Hash>, count: u64, leaf_hash: Hash) {
	peaks.push(leaf_hash);
	let mut n = count;
	while n & 1 == 1 && peaks.len() >= 2 {
		let right = peaks.pop().unwrap_or_default();
		let left = peaks.pop().unwrap_or_default();
		peaks.push(H::node(&left, &right));
		n >>= 1;
	}
}

/// The root of the tree whose peaks are `peaks` (largest first): the same as [`root`] over
/// its leaves, since the RFC 6962 tree splits at the largest power of two.
pub fn root_of_peaks<H: Hasher>(peaks: &[Hash]) -> Hash {
	let mut iter = peaks.iter().rev();
	let Some(last) = iter.next() else {
		return H::hash(&[]);
	};
	iter.fold(*last, |acc, peak| H::node(peak, &acc))
}
