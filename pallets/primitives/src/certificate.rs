//! Certification windows and the two-level commitment of a gateway's window.
//!
//! Level 1, per dataset: a Merkle tree over the canonical bytes of every measurement of that
//! dataset in the window, in canonical order (ascending measurement time, then sequence).
//! Level 2, per gateway and window: a Merkle tree over the [`DatasetRoot`]s of its datasets in
//! ascending `dataset` order. Only this window root goes into chain state, so a window costs the
//! chain the same whatever its number of devices; the dataset roots travel in the extrinsic.

use alloc::vec::Vec;
use codec::{Decode, DecodeAll, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::{
	measurement::MeasurementRecord,
	merkle::{self, Hash, Hasher, MerkleProof, ProofError},
};

/// Identifies one certified data stream, typically one point of measurement (PoM). Assigned by
/// the registry.
pub type DatasetId = u64;

/// A certification window `[start_ms, start_ms + duration_ms)` in Unix milliseconds, aligned to
/// its own duration (a 180 s window starts at a multiple of 180 s) so that two windows of a
/// dataset are either identical or disjoint.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct Window {
	pub start_ms: u64,
	pub duration_ms: u32,
}

impl Window {
	/// The window of `duration_ms` that contains `time_ms`.
	pub fn containing(time_ms: u64, duration_ms: u32) -> Option<Window> {
		let d = u64::from(duration_ms);
		let start_ms = time_ms.checked_div(d)?.checked_mul(d)?;
		Some(Window {
			start_ms,
			duration_ms,
		})
	}

	/// First millisecond after the window, or `None` on overflow.
	pub fn end_ms(&self) -> Option<u64> {
		self.start_ms.checked_add(u64::from(self.duration_ms))
	}

	pub fn is_aligned(&self) -> bool {
		self.duration_ms > 0 && self.start_ms.is_multiple_of(u64::from(self.duration_ms))
	}

	pub fn contains(&self, time_ms: u64) -> bool {
		time_ms >= self.start_ms && self.end_ms().is_some_and(|end| time_ms < end)
	}
}

/// One dataset's commitment within a window: the second-level leaf.
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
pub struct DatasetRoot {
	pub dataset: DatasetId,
	/// Measurements in the dataset's tree; binds proofs to the tree's size.
	pub leaf_count: u64,
	pub root: Hash,
}

impl DatasetRoot {
	/// The second-level leaf hash: `H(0x00 ‖ SCALE(self))`.
	pub fn leaf_hash<H: Hasher>(&self) -> Hash {
		H::leaf(&self.encode())
	}
}

/// Root over a window's dataset roots, which must be in strictly ascending `dataset` order.
pub fn window_root<H: Hasher>(datasets: &[DatasetRoot]) -> Hash {
	let leaves: Vec<Hash> = datasets.iter().map(DatasetRoot::leaf_hash::<H>).collect();
	merkle::root::<H>(&leaves)
}

/// What a market anchor commits to (FR-MP-BC-01/02). The digest is a Merkle root, built with
/// this crate, over the canonical records of that kind, so each record can be proven alone.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum AnchorKind {
	/// Requests and offers at gate closure: the clearing's inputs.
	ClearingInputs,
	/// Accepted offers and prices: the clearing's outcome.
	MarketOutcome,
	/// The DSO's technical validation of an outcome.
	TechnicalValidation,
	/// Settlement: baselines, metered delivery and payments.
	Settlement,
}

/// Everything needed to show that one measurement is in a certified window.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MeasurementProof {
	/// The measurement's canonical bytes ([`crate::measurement::MeasurementRecord`] encoded).
	pub leaf: Vec<u8>,
	/// Its path to the dataset root.
	pub leaf_proof: MerkleProof,
	/// The dataset's commitment, as submitted on chain.
	pub dataset: DatasetRoot,
	/// The dataset commitment's path to the window root.
	pub dataset_proof: MerkleProof,
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
pub enum VerifyError {
	/// No certificate for that gateway and window.
	NotCertified,
	/// The proof's tree size differs from the committed `leaf_count`.
	LeafCountMismatch,
	/// The measurement's path does not lead to the dataset root.
	Leaf(ProofError),
	/// The dataset's path does not lead to the window root.
	Dataset(ProofError),
	/// The leaf is not exactly one canonical [`MeasurementRecord`].
	MalformedRecord,
	/// The record belongs to another dataset than the proof's dataset root.
	DatasetMismatch,
	/// The record's time is after the window, or earlier than late data may be.
	OutsideWindow,
	/// A late record whose device the certifying gateway was not assigned at the record's time.
	NotAssigned,
}

/// Where a proven record's device time lies relative to the window that certifies it.
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
pub enum Placement {
	/// Inside the window.
	InWindow,
	/// Before the window: stored after its own window was sealed, certified in the window open
	/// when it arrived (the SCD's late-data rule, docs/certifier.md).
	Late,
}

/// How long before its certifying window a record's device time may lie (late data), and how long
/// after a window ends it may still be certified: a week, the consortium runtime's
/// `MaxLatenessMs`. Off-chain tools (the SCD's late-data rule, audits) use the same bound.
pub const MAX_LATENESS_MS: u64 = 7 * 24 * 3_600_000;

/// Verifies a measurement against a certified window root and checks what the root alone
/// cannot: that the leaf is one canonical record of the proof's dataset, and that its device
/// time lies in `window`, or at most `max_lateness_ms` before it (late data). Returns the record
/// and where it lies. The chain (`pallet-certification`) and `platone verify` both call this.
pub fn verify_record<H: Hasher>(
	window_root: &Hash,
	window: &Window,
	max_lateness_ms: u64,
	proof: &MeasurementProof,
) -> Result<(MeasurementRecord, Placement), VerifyError> {
	let record = MeasurementRecord::decode_all(&mut &proof.leaf[..])
		.map_err(|_| VerifyError::MalformedRecord)?;
	if record.dataset != proof.dataset.dataset {
		return Err(VerifyError::DatasetMismatch);
	}
	let time_ms = record.timestamp_us / 1_000;
	let placement = if window.contains(time_ms) {
		Placement::InWindow
	} else if time_ms < window.start_ms
		&& time_ms >= window.start_ms.saturating_sub(max_lateness_ms)
	{
		Placement::Late
	} else {
		return Err(VerifyError::OutsideWindow);
	};
	verify_measurement::<H>(window_root, proof)?;
	Ok((record, placement))
}

/// Verifies a measurement against a certified window root.
pub fn verify_measurement<H: Hasher>(
	window_root: &Hash,
	proof: &MeasurementProof,
) -> Result<(), VerifyError> {
	if proof.leaf_proof.leaf_count != proof.dataset.leaf_count {
		return Err(VerifyError::LeafCountMismatch);
	}
	merkle::verify::<H>(
		&proof.dataset.root,
		&H::leaf(&proof.leaf),
		&proof.leaf_proof,
	)
	.map_err(VerifyError::Leaf)?;
	merkle::verify::<H>(
		window_root,
		&proof.dataset.leaf_hash::<H>(),
		&proof.dataset_proof,
	)
	.map_err(VerifyError::Dataset)
}
