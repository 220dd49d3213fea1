//! Storage and call types.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use platone_primitives::{merkle::Hasher, DatasetRoot, Hash, Window};
use scale_info::TypeInfo;

/// What the chain keeps per certified gateway window: 48 bytes of value whatever the number of
/// devices (the dataset roots live only in the extrinsic and the SCD).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Certificate<BlockNumber> {
	/// Merkle root over the window's [`DatasetRoot`]s, in ascending dataset order.
	pub root: Hash,
	pub datasets: u32,
	/// Measurements over all datasets.
	pub leaves: u64,
	/// Block that certified it: where an archive node still has it after pruning.
	pub certified_at: BlockNumber,
}

/// One window of a batch: its dataset roots in strictly ascending dataset order.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxDatasets))]
pub struct WindowCommitment<MaxDatasets: frame_support::traits::Get<u32>> {
	pub window: Window,
	pub datasets: BoundedVec<DatasetRoot, MaxDatasets>,
}

/// A market-data anchor (FR-MP-BC-01): a Merkle root over typed records.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Anchor<AccountId, BlockNumber> {
	pub digest: Hash,
	pub leaf_count: u64,
	pub submitter: AccountId,
	pub anchored_at: BlockNumber,
}

/// Subject of an anchor, e.g. the market session it belongs to.
pub type Subject = [u8; 32];

/// Hashes through the runtime's BLAKE2-256 host function.
pub struct RuntimeHasher;

impl Hasher for RuntimeHasher {
	fn hash(data: &[u8]) -> Hash {
		sp_io::hashing::blake2_256(data)
	}
}

/// Per dataset: the window duration fixed at its first certification, and its watermarks.
///
/// A gateway handover splits the dataset's time at `split_ms`: windows before it belong to the
/// previous gateway, windows from it on to the current one, and each side has its own
/// watermark, so that the new gateway's first certificate does not end the old gateway's
/// catch-up. No window starting before its side's watermark can ever certify the dataset
/// again, whoever submits it and whatever was pruned since.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct DatasetCursor {
	pub duration_ms: u32,
	/// End of the latest certified window that starts at or after `split_ms`.
	pub certified_until_ms: u64,
	/// Where the last handover split the dataset's time (0: never).
	pub split_ms: u64,
	/// End of the latest certified window that starts before `split_ms`.
	pub before_split_until_ms: u64,
}

/// Who may certify what, and when. The registry implements it from its PoM assignments.
pub trait CertificationAuthority<AccountId> {
	/// May `gateway` certify `dataset` in `window`? Gateway assignments take effect from a
	/// point in time, so the answer depends on the window, not only on today's assignment.
	fn can_certify(
		gateway: &AccountId,
		dataset: platone_primitives::DatasetId,
		window: &Window,
	) -> bool;

	/// Was `gateway` assigned `dataset` at `time_ms` (whatever its standing today)? A late
	/// record may be certified only by the gateway that was assigned its device at its time.
	fn assigned_at(
		gateway: &AccountId,
		dataset: platone_primitives::DatasetId,
		time_ms: u64,
	) -> bool;

	/// Makes `gateway` allowed to certify `dataset`, for benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn authorize(gateway: &AccountId, dataset: platone_primitives::DatasetId);
}

/// Bound of the batch type of a runtime with pallet config `T`.
pub type BatchOf<T> = BoundedVec<
	WindowCommitment<<T as crate::Config>::MaxDatasetsPerWindow>,
	<T as crate::Config>::MaxWindowsPerBatch,
>;

/// Windows one `prune` call may remove.
pub type PruneList<T> = BoundedVec<Window, <T as crate::Config>::MaxPrunePerCall>;

/// What benchmarks need from the runtime beyond the pallet's own storage.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
	/// Makes `UnixTime::now()` return `ms`.
	fn set_now_ms(ms: u64);
}

/// What the registry needs from certification over a dataset's life.
pub trait DatasetLifecycle {
	/// The window duration the dataset is certified in, once its first window is certified.
	fn window_ms(dataset: platone_primitives::DatasetId) -> Option<u32>;
	/// The dataset's PoM is gone and its id is never reused: drop its cursor from state.
	fn retire(dataset: platone_primitives::DatasetId);
	/// The dataset passes to another gateway from `at_ms` (on its window grid): windows
	/// before it keep the current watermark, windows from it on start a new one.
	fn split(dataset: platone_primitives::DatasetId, at_ms: u64);
}

impl DatasetLifecycle for () {
	fn window_ms(_: platone_primitives::DatasetId) -> Option<u32> {
		None
	}
	fn retire(_: platone_primitives::DatasetId) {}
	fn split(_: platone_primitives::DatasetId, _: u64) {}
}

/// Anchoring for the pallets that own an anchor kind (market, settlement): they write their
/// digests themselves, never through a participant's extrinsic.
pub trait Anchoring<AccountId> {
	/// Anchors `digest` over `leaf_count` records of `kind` for `subject`, in the name of `by`
	/// (the owning pallet's account). A different digest for an anchored subject is refused.
	fn anchor(
		by: AccountId,
		kind: platone_primitives::AnchorKind,
		subject: Subject,
		digest: Hash,
		leaf_count: u64,
	) -> frame_support::dispatch::DispatchResult;
}

/// Anchors one `prune_anchors` call may remove.
pub type AnchorPruneList<T> =
	BoundedVec<(platone_primitives::AnchorKind, Subject), <T as crate::Config>::MaxPrunePerCall>;
