//! # Certification pallet
//!
//! Certifies grid measurements and market data on the consortium chain (FR-BAP-DM-02,
//! FR-MP-BC-01/02; "process 2" of D2.2 §3.1.1).
//!
//! A registered gateway (the BAL operator) closes certification windows off chain, builds one
//! Merkle tree per dataset over the canonical measurement records, and submits a batch of
//! `(window, [(dataset, leaf count, root)])` in one extrinsic. The pallet checks the gateway may
//! certify each dataset, computes the window root over the dataset roots, and stores only that
//! root: **one window of one gateway costs the same state whatever its number of devices.**
//!
//! Anyone can then prove one measurement was certified with a two-level proof (measurement →
//! dataset root → window root) against chain state alone, through the
//! [`runtime_api::CertificationApi`].
//!
//! Rules:
//! - An identical resubmission is a no-op (`AlreadyCertified`), so retries are safe.
//! - A different root for a certified window is refused: the stored certificate stays, and a
//!   `Conflict` event records both roots for auditors. The call itself succeeds so that the
//!   evidence is kept in the block; other windows of the batch still apply.
//! - Windows must be aligned to their duration, within the configured duration bounds, closed
//!   (not in the future beyond the allowed clock drift), and each dataset keeps one window
//!   duration for life, so its windows are identical or disjoint, never overlapping.
//! - **Certified history is immutable** (docs/certification.md):
//!   - a window may be certified at most `MaxLatenessMs` after it closed, and that bound is
//!     shorter than `RetentionMs`, so a pruned window is always too old to certify again;
//!   - each dataset has a watermark, the end of its latest certified window: no window that
//!     starts before it can certify the dataset again, so datasets are certified in time order
//!     and at most once per span of time, whoever submits;
//!   - the authority answers per window: a PoM's gateway certifies the windows from its
//!     assignment on, and the previous gateway only those that ended before the handover.
//! - Anchors are written per kind by whoever `AnchorOrigin` admits for that kind; kinds owned by
//!   a pallet (market outcomes, clearing inputs, settlement) are written through [`Anchoring`],
//!   never by a participant's extrinsic. Governance may void a wrong anchor (kept as an event)
//!   and prune anchors older than `AnchorRetention`.
//!
//! State per certified window: key 100 bytes (prefix 32, gateway 48, window 20) and value 48
//! bytes. Certificates older than `RetentionMs` can be pruned by `AdminOrigin`; each `Pruned`
//! event keeps the root, and the certifying block (`certified_at`) lets an archive node prove
//! the certificate from the state of that block (docs/certification.md).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{EnsureOriginWithArg, UnixTime},
	};
	use frame_system::pallet_prelude::*;
	use platone_primitives::{AnchorKind, DatasetId, Hash, Window};

	/// v1: `DatasetWindow` holds a [`DatasetCursor`] (duration and watermark), not the duration.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Who may submit certification batches; yields the gateway account.
		type CertifyOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Which gateway may certify which dataset.
		type Authority: CertificationAuthority<Self::AccountId>;
		/// Who may anchor data of each kind by extrinsic; yields the submitter. A kind that a
		/// pallet owns admits no origin here: that pallet anchors through [`Anchoring`].
		type AnchorOrigin: EnsureOriginWithArg<
			Self::RuntimeOrigin,
			AnchorKind,
			Success = Self::AccountId,
		>;
		/// Who may prune old certificates (the consortium).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Wall-clock time of the current block.
		type UnixTime: UnixTime;
		/// Most windows in one `certify` call.
		#[pallet::constant]
		type MaxWindowsPerBatch: Get<u32>;
		/// Most datasets in one window of a `certify` call.
		#[pallet::constant]
		type MaxDatasetsPerWindow: Get<u32>;
		/// Shortest window, milliseconds.
		#[pallet::constant]
		type MinWindowMs: Get<u32>;
		/// Longest window, milliseconds.
		#[pallet::constant]
		type MaxWindowMs: Get<u32>;
		/// How far a window's end may lie past the block's time (gateway clock skew), ms.
		#[pallet::constant]
		type MaxClockDriftMs: Get<u64>;
		/// How long after its end a window may still be certified, ms (a gateway's outage that
		/// may be caught up). Must be shorter than `RetentionMs`.
		#[pallet::constant]
		type MaxLatenessMs: Get<u64>;
		/// How long certificates stay in state before they may be pruned, ms.
		#[pallet::constant]
		type RetentionMs: Get<u64>;
		/// How many blocks anchors stay in state before they may be pruned.
		#[pallet::constant]
		type AnchorRetention: Get<BlockNumberFor<Self>>;
		/// Most windows in one `prune` call.
		#[pallet::constant]
		type MaxPrunePerCall: Get<u32>;
		type WeightInfo: WeightInfo;
		/// Sets the wall clock for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// Certified windows, by gateway and window.
	#[pallet::storage]
	pub type Certificates<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		Window,
		Certificate<BlockNumberFor<T>>,
	>;

	/// Each dataset's window duration, fixed at its first certification, and its watermark.
	/// Dropped when the registry retires the dataset's PoM (its id is never reused).
	#[pallet::storage]
	pub type DatasetWindow<T: Config> = StorageMap<_, Twox64Concat, DatasetId, DatasetCursor>;

	/// Market-data anchors, by kind and subject.
	#[pallet::storage]
	pub type Anchors<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		AnchorKind,
		Identity,
		Subject,
		Anchor<T::AccountId, BlockNumberFor<T>>,
	>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A gateway window was certified.
		Certified {
			gateway: T::AccountId,
			window: Window,
			root: Hash,
			datasets: u32,
			leaves: u64,
		},
		/// A resubmission of an already certified window with the same root: nothing changed.
		AlreadyCertified {
			gateway: T::AccountId,
			window: Window,
		},
		/// A different root was submitted for a certified window and refused. Evidence for
		/// auditors: the gateway equivocated, or its SCD was altered.
		Conflict {
			gateway: T::AccountId,
			window: Window,
			certified: Hash,
			rejected: Hash,
		},
		/// Market data was anchored.
		Anchored {
			kind: AnchorKind,
			subject: Subject,
			digest: Hash,
			leaf_count: u64,
			by: T::AccountId,
		},
		/// The same digest was anchored again: nothing changed.
		AlreadyAnchored { kind: AnchorKind, subject: Subject },
		/// A different digest for an anchored subject was refused.
		AnchorConflict {
			kind: AnchorKind,
			subject: Subject,
			anchored: Hash,
			rejected: Hash,
			by: T::AccountId,
		},
		/// Governance voided a wrong anchor; the subject may be anchored anew. The voided
		/// digest stays in this event.
		AnchorVoided {
			kind: AnchorKind,
			subject: Subject,
			digest: Hash,
			leaf_count: u64,
			submitter: T::AccountId,
		},
		/// An old anchor left state; its digest stays in this event.
		AnchorPruned {
			kind: AnchorKind,
			subject: Subject,
			digest: Hash,
			anchored_at: BlockNumberFor<T>,
		},
		/// An old certificate left state; its root stays in this event.
		Pruned {
			gateway: T::AccountId,
			window: Window,
			root: Hash,
			certified_at: BlockNumberFor<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The batch holds no window.
		EmptyBatch,
		/// A window holds no dataset.
		EmptyWindow,
		/// A dataset root commits to zero measurements.
		EmptyDataset,
		/// Window duration outside `MinWindowMs..=MaxWindowMs`.
		InvalidWindowDuration,
		/// Window start is not a multiple of its duration.
		MisalignedWindow,
		/// The window has not closed yet (beyond the allowed clock drift).
		WindowInFuture,
		/// The window closed more than `MaxLatenessMs` ago: too late to certify.
		WindowTooOld,
		/// The window starts before the dataset's watermark: that span of the dataset is
		/// certified already (or was given up), and certified history is never rewritten.
		BehindWatermark,
		/// The same window appears twice in one batch.
		DuplicateWindow,
		/// Datasets of a window are not in strictly ascending order (or repeat).
		DatasetsNotSorted,
		/// The gateway may not certify this dataset.
		DatasetNotAuthorized,
		/// The dataset is certified in windows of another duration: these would overlap.
		OverlappingWindow,
		/// The anchor commits to zero records.
		EmptyAnchor,
		/// No certificate for that gateway and window.
		UnknownCertificate,
		/// The certificate is younger than `RetentionMs`.
		WithinRetention,
		/// No anchor of that kind and subject.
		UnknownAnchor,
		/// The anchor is younger than `AnchorRetention`.
		AnchorWithinRetention,
		/// Time arithmetic overflowed.
		Overflow,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Certify a batch of gateway windows.
		///
		/// - Origin: `CertifyOrigin` (a registered gateway).
		/// - Each window: aligned, duration within bounds, closed, at most `MaxLatenessMs` old;
		///   datasets non-empty, strictly ascending, each authorised for the gateway in that
		///   window, in its fixed window duration and not behind its watermark.
		/// - Errors (the whole batch is refused): `EmptyBatch`, `EmptyWindow`, `EmptyDataset`,
		///   `InvalidWindowDuration`, `MisalignedWindow`, `WindowInFuture`, `WindowTooOld`,
		///   `DuplicateWindow`, `DatasetsNotSorted`, `DatasetNotAuthorized`,
		///   `OverlappingWindow`, `BehindWatermark`, `Overflow`.
		/// - Events per window: `Certified`, `AlreadyCertified` (identical retry) or `Conflict`
		///   (different root; the stored certificate stays).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::certify(batch.len() as u32, Pallet::<T>::dataset_count(batch)))]
		pub fn certify(origin: OriginFor<T>, batch: BatchOf<T>) -> DispatchResultWithPostInfo {
			let gateway = T::CertifyOrigin::ensure_origin(origin)?;
			let actual = Self::do_certify(gateway, batch)?;
			Ok(Some(actual).into())
		}

		/// Anchor a digest: a Merkle root (built with `platone-primitives`) over `leaf_count`
		/// canonical records of `kind` for `subject` (e.g. a market session).
		///
		/// - Origin: `AnchorOrigin` for `kind`. Kinds owned by a pallet admit no origin.
		/// - Errors: `BadOrigin`, `EmptyAnchor`.
		/// - Events: `Anchored`, `AlreadyAnchored` (identical retry) or `AnchorConflict`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::anchor())]
		pub fn anchor(
			origin: OriginFor<T>,
			kind: AnchorKind,
			subject: Subject,
			digest: Hash,
			leaf_count: u64,
		) -> DispatchResult {
			let who = T::AnchorOrigin::ensure_origin(origin, &kind)?;
			Self::do_anchor(who, kind, subject, digest, leaf_count)
		}

		/// Remove certificates older than `RetentionMs` from state.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownCertificate`, `WithinRetention`, `Overflow`.
		/// - Events: `Pruned` per window, carrying its root and certifying block.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::prune(windows.len() as u32))]
		pub fn prune(
			origin: OriginFor<T>,
			gateway: T::AccountId,
			windows: PruneList<T>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_prune(gateway, windows)
		}

		/// Void a wrong anchor, so that its subject can be anchored anew.
		///
		/// - Origin: `AdminOrigin` (the consortium).
		/// - Errors: `UnknownAnchor`.
		/// - Events: `AnchorVoided`, carrying the voided digest and its submitter.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::void_anchor())]
		pub fn void_anchor(
			origin: OriginFor<T>,
			kind: AnchorKind,
			subject: Subject,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_void_anchor(kind, subject)
		}

		/// Remove anchors older than `AnchorRetention` blocks from state.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownAnchor`, `AnchorWithinRetention` (the whole list is refused).
		/// - Events: `AnchorPruned` per anchor, carrying its digest and anchoring block.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::prune_anchors(anchors.len() as u32))]
		pub fn prune_anchors(origin: OriginFor<T>, anchors: AnchorPruneList<T>) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_prune_anchors(anchors)
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MinWindowMs::get() > 0, "MinWindowMs must be positive");
			assert!(
				T::MaxLatenessMs::get() < T::RetentionMs::get(),
				"MaxLatenessMs must be shorter than RetentionMs, or pruned windows could be \
				 certified again"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
