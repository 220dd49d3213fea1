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

/// Who may certify what. The registry implements it; until then a runtime may allow a fixed set.
pub trait CertificationAuthority<AccountId> {
	/// May `gateway` certify `dataset`?
	fn can_certify(gateway: &AccountId, dataset: platone_primitives::DatasetId) -> bool;

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
