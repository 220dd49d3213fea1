//! The pallet's logic, called from the dispatchables in `lib.rs` and from the runtime API.

use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::{ensure, pallet_prelude::*, traits::UnixTime};
use frame_system::pallet_prelude::BlockNumberFor;
use platone_primitives::{
	merkle::{self, Hasher, MerkleProof},
	verify_measurement, window_root, AnchorKind, Hash, MeasurementProof, VerifyError, Window,
};

use crate::{
	weights::WeightInfo, Anchor, Anchors, BatchOf, Certificate, Certificates,
	CertificationAuthority, Config, DatasetWindow, Error, Event, Pallet, PruneList, RuntimeHasher,
	Subject,
};

impl<T: Config> Pallet<T> {
	/// Datasets over all windows of a batch: the weight's second component.
	pub fn dataset_count(batch: &BatchOf<T>) -> u32 {
		batch
			.iter()
			.fold(0u32, |n, w| n.saturating_add(w.datasets.len() as u32))
	}

	fn now_ms() -> u64 {
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// Checks a window's shape and that it has closed.
	fn check_window(window: &Window, now_ms: u64) -> DispatchResult {
		ensure!(
			(T::MinWindowMs::get()..=T::MaxWindowMs::get()).contains(&window.duration_ms),
			Error::<T>::InvalidWindowDuration
		);
		ensure!(window.is_aligned(), Error::<T>::MisalignedWindow);
		let end = window.end_ms().ok_or(Error::<T>::Overflow)?;
		let latest = now_ms.saturating_add(T::MaxClockDriftMs::get());
		ensure!(end <= latest, Error::<T>::WindowInFuture);
		Ok(())
	}

	/// Certifies a batch and returns the weight actually used: datasets whose window duration
	/// was already on record cost no write, so steady-state batches are refunded that part.
	pub(crate) fn do_certify(
		gateway: T::AccountId,
		batch: BatchOf<T>,
	) -> Result<Weight, DispatchError> {
		ensure!(!batch.is_empty(), Error::<T>::EmptyBatch);
		let now = Self::now_ms();

		// Validate everything first: a refused batch must leave no trace.
		let mut seen = BTreeSet::new();
		let mut new_datasets = Vec::new();
		for commitment in batch.iter() {
			let window = commitment.window;
			Self::check_window(&window, now)?;
			ensure!(seen.insert(window), Error::<T>::DuplicateWindow);
			ensure!(!commitment.datasets.is_empty(), Error::<T>::EmptyWindow);
			let mut previous = None;
			for d in commitment.datasets.iter() {
				ensure!(previous < Some(d.dataset), Error::<T>::DatasetsNotSorted);
				previous = Some(d.dataset);
				ensure!(d.leaf_count > 0, Error::<T>::EmptyDataset);
				ensure!(
					T::Authority::can_certify(&gateway, d.dataset),
					Error::<T>::DatasetNotAuthorized
				);
				match DatasetWindow::<T>::get(d.dataset) {
					Some(duration) => ensure!(
						duration == window.duration_ms,
						Error::<T>::OverlappingWindow
					),
					None => new_datasets.push((d.dataset, window.duration_ms)),
				}
			}
		}
		// A dataset first seen twice in one batch must not get two durations either.
		new_datasets.sort_unstable();
		new_datasets.dedup();
		for pair in new_datasets.windows(2) {
			ensure!(pair[0].0 != pair[1].0, Error::<T>::OverlappingWindow);
		}
		let datasets = Self::dataset_count(&batch);
		let declared = T::WeightInfo::certify(batch.len() as u32, datasets);
		let known = datasets.saturating_sub(new_datasets.len() as u32);
		for (dataset, duration) in new_datasets {
			DatasetWindow::<T>::insert(dataset, duration);
		}

		let block = frame_system::Pallet::<T>::block_number();
		for commitment in batch {
			let window = commitment.window;
			let root = window_root::<RuntimeHasher>(&commitment.datasets);
			match Certificates::<T>::get(&gateway, window) {
				Some(existing) if existing.root == root => {
					Self::deposit_event(Event::AlreadyCertified {
						gateway: gateway.clone(),
						window,
					});
				}
				Some(existing) => {
					Self::deposit_event(Event::Conflict {
						gateway: gateway.clone(),
						window,
						certified: existing.root,
						rejected: root,
					});
				}
				None => {
					let datasets = commitment.datasets.len() as u32;
					let leaves = commitment
						.datasets
						.iter()
						.try_fold(0u64, |n, d| n.checked_add(d.leaf_count))
						.ok_or(Error::<T>::Overflow)?;
					Certificates::<T>::insert(
						&gateway,
						window,
						Certificate {
							root,
							datasets,
							leaves,
							certified_at: block,
						},
					);
					Self::deposit_event(Event::Certified {
						gateway: gateway.clone(),
						window,
						root,
						datasets,
						leaves,
					});
				}
			}
		}
		Ok(declared.saturating_sub(T::DbWeight::get().writes(u64::from(known))))
	}

	pub(crate) fn do_anchor(
		who: T::AccountId,
		kind: AnchorKind,
		subject: Subject,
		digest: Hash,
		leaf_count: u64,
	) -> DispatchResult {
		ensure!(leaf_count > 0, Error::<T>::EmptyAnchor);
		match Anchors::<T>::get(kind, subject) {
			Some(existing) if existing.digest == digest && existing.leaf_count == leaf_count => {
				Self::deposit_event(Event::AlreadyAnchored { kind, subject });
			}
			Some(existing) => {
				Self::deposit_event(Event::AnchorConflict {
					kind,
					subject,
					anchored: existing.digest,
					rejected: digest,
					by: who,
				});
			}
			None => {
				let anchored_at = frame_system::Pallet::<T>::block_number();
				Anchors::<T>::insert(
					kind,
					subject,
					Anchor {
						digest,
						leaf_count,
						submitter: who.clone(),
						anchored_at,
					},
				);
				Self::deposit_event(Event::Anchored {
					kind,
					subject,
					digest,
					leaf_count,
					by: who,
				});
			}
		}
		Ok(())
	}

	pub(crate) fn do_prune(gateway: T::AccountId, windows: PruneList<T>) -> DispatchResult {
		let now = Self::now_ms();
		let retention = T::RetentionMs::get();
		for window in windows.iter() {
			let cert =
				Certificates::<T>::get(&gateway, window).ok_or(Error::<T>::UnknownCertificate)?;
			let end = window.end_ms().ok_or(Error::<T>::Overflow)?;
			ensure!(
				end.saturating_add(retention) <= now,
				Error::<T>::WithinRetention
			);
			Certificates::<T>::remove(&gateway, window);
			Self::deposit_event(Event::Pruned {
				gateway: gateway.clone(),
				window: *window,
				root: cert.root,
				certified_at: cert.certified_at,
			});
		}
		Ok(())
	}

	/// The certificate of a gateway window, if it is (still) in state.
	pub fn certificate(
		gateway: &T::AccountId,
		window: Window,
	) -> Option<Certificate<BlockNumberFor<T>>> {
		Certificates::<T>::get(gateway, window)
	}

	/// Checks that a measurement is in a certified gateway window.
	pub fn verify(
		gateway: &T::AccountId,
		window: Window,
		proof: &MeasurementProof,
	) -> Result<(), VerifyError> {
		let cert = Certificates::<T>::get(gateway, window).ok_or(VerifyError::NotCertified)?;
		verify_measurement::<RuntimeHasher>(&cert.root, proof)
	}

	/// Checks that a market record is under an anchored digest.
	pub fn verify_anchored(
		kind: AnchorKind,
		subject: Subject,
		record: &[u8],
		proof: &MerkleProof,
	) -> Result<(), VerifyError> {
		let anchor = Anchors::<T>::get(kind, subject).ok_or(VerifyError::NotCertified)?;
		if proof.leaf_count != anchor.leaf_count {
			return Err(VerifyError::LeafCountMismatch);
		}
		merkle::verify::<RuntimeHasher>(&anchor.digest, &RuntimeHasher::leaf(record), proof)
			.map_err(VerifyError::Leaf)
	}

	/// Invariants: every certificate is a well-formed, aligned window with at least one
	/// measurement per dataset; every anchor commits to at least one record; every dataset's
	/// fixed duration is within bounds.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let bounds = T::MinWindowMs::get()..=T::MaxWindowMs::get();
		for (_, window, cert) in Certificates::<T>::iter() {
			ensure!(window.is_aligned(), "certificate of a misaligned window");
			ensure!(
				bounds.contains(&window.duration_ms),
				"certificate window duration out of bounds"
			);
			ensure!(cert.datasets > 0, "certificate without datasets");
			ensure!(
				cert.leaves >= u64::from(cert.datasets),
				"certificate with an empty dataset"
			);
		}
		for (_, _, anchor) in Anchors::<T>::iter() {
			ensure!(anchor.leaf_count > 0, "empty anchor");
		}
		for (_, duration) in DatasetWindow::<T>::iter() {
			ensure!(
				bounds.contains(&duration),
				"dataset window duration out of bounds"
			);
		}
		Ok(())
	}
}
