//! The pallet's logic, called from the dispatchables in `lib.rs` and from the runtime API.

use alloc::collections::{BTreeMap, BTreeSet};
use frame_support::{ensure, pallet_prelude::*, traits::UnixTime};
use frame_system::pallet_prelude::BlockNumberFor;
use platone_primitives::{
	merkle::{self, Hasher, MerkleProof},
	verify_record, window_root, AnchorKind, DatasetId, Hash, MeasurementProof, MeasurementRecord,
	Placement, VerifyError, Window,
};
use sp_runtime::Saturating;

use crate::{
	weights::WeightInfo, Anchor, AnchorPruneList, Anchoring, Anchors, BatchOf, Certificate,
	Certificates, CertificationAuthority, Config, DatasetCursor, DatasetLifecycle, DatasetWindow,
	Error, Event, Pallet, PruneList, RuntimeHasher, Subject,
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

	/// Checks a window's shape, that it has closed, and that it is not too old to certify.
	fn check_window(window: &Window, now_ms: u64) -> DispatchResult {
		ensure!(
			(T::MinWindowMs::get()..=T::MaxWindowMs::get()).contains(&window.duration_ms),
			Error::<T>::InvalidWindowDuration
		);
		ensure!(window.is_aligned(), Error::<T>::MisalignedWindow);
		let end = window.end_ms().ok_or(Error::<T>::Overflow)?;
		let latest = now_ms.saturating_add(T::MaxClockDriftMs::get());
		ensure!(end <= latest, Error::<T>::WindowInFuture);
		ensure!(
			end.saturating_add(T::MaxLatenessMs::get()) >= now_ms,
			Error::<T>::WindowTooOld
		);
		Ok(())
	}

	/// Certifies a batch and returns the weight used. Every dataset of a new certificate
	/// advances its watermark, so every dataset-window costs its cursor write.
	pub(crate) fn do_certify(
		gateway: T::AccountId,
		batch: BatchOf<T>,
	) -> Result<Weight, DispatchError> {
		ensure!(!batch.is_empty(), Error::<T>::EmptyBatch);
		let now = Self::now_ms();

		// Validate everything first: a refused batch must leave no trace. `cursors` is the
		// datasets' state as the batch's earlier windows leave it.
		let mut seen = BTreeSet::new();
		let mut cursors: BTreeMap<DatasetId, DatasetCursor> = BTreeMap::new();
		for commitment in batch.iter() {
			let window = commitment.window;
			Self::check_window(&window, now)?;
			ensure!(seen.insert(window), Error::<T>::DuplicateWindow);
			ensure!(!commitment.datasets.is_empty(), Error::<T>::EmptyWindow);
			// A retry or a conflicting root for a window on record changes nothing, so only a
			// new certificate is held to (and advances) the watermarks.
			let fresh = !Certificates::<T>::contains_key(&gateway, window);
			let end = window.end_ms().ok_or(Error::<T>::Overflow)?;
			let mut previous = None;
			for d in commitment.datasets.iter() {
				ensure!(previous < Some(d.dataset), Error::<T>::DatasetsNotSorted);
				previous = Some(d.dataset);
				ensure!(d.leaf_count > 0, Error::<T>::EmptyDataset);
				if !fresh {
					// The gateway was authorised when the window was certified; a retry stays
					// harmless even if its standing changed since.
					continue;
				}
				ensure!(
					T::Authority::can_certify(&gateway, d.dataset, &window),
					Error::<T>::DatasetNotAuthorized
				);
				let cursor = match cursors.get(&d.dataset) {
					Some(c) => Some(*c),
					None => DatasetWindow::<T>::get(d.dataset),
				};
				let mut next = cursor.unwrap_or(DatasetCursor {
					duration_ms: window.duration_ms,
					certified_until_ms: 0,
					split_ms: 0,
					before_split_until_ms: 0,
				});
				ensure!(
					next.duration_ms == window.duration_ms,
					Error::<T>::OverlappingWindow
				);
				if window.start_ms >= next.split_ms {
					ensure!(
						window.start_ms >= next.certified_until_ms,
						Error::<T>::BehindWatermark
					);
					next.certified_until_ms = end;
				} else {
					ensure!(
						window.start_ms >= next.before_split_until_ms && end <= next.split_ms,
						Error::<T>::BehindWatermark
					);
					next.before_split_until_ms = end;
				}
				cursors.insert(d.dataset, next);
			}
		}
		let declared = T::WeightInfo::certify(batch.len() as u32, Self::dataset_count(&batch));
		for (dataset, cursor) in cursors {
			DatasetWindow::<T>::insert(dataset, cursor);
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
		Ok(declared)
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

	pub(crate) fn do_void_anchor(kind: AnchorKind, subject: Subject) -> DispatchResult {
		let anchor = Anchors::<T>::take(kind, subject).ok_or(Error::<T>::UnknownAnchor)?;
		Self::deposit_event(Event::AnchorVoided {
			kind,
			subject,
			digest: anchor.digest,
			leaf_count: anchor.leaf_count,
			submitter: anchor.submitter,
		});
		Ok(())
	}

	pub(crate) fn do_prune_anchors(anchors: AnchorPruneList<T>) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		for (kind, subject) in anchors.iter() {
			let anchor = Anchors::<T>::get(kind, subject).ok_or(Error::<T>::UnknownAnchor)?;
			ensure!(
				anchor.anchored_at.saturating_add(T::AnchorRetention::get()) <= now,
				Error::<T>::AnchorWithinRetention
			);
			Anchors::<T>::remove(kind, subject);
			Self::deposit_event(Event::AnchorPruned {
				kind: *kind,
				subject: *subject,
				digest: anchor.digest,
				anchored_at: anchor.anchored_at,
			});
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

	/// Checks that a measurement is in a certified gateway window: the proof leads to the
	/// certified root, the leaf is one canonical record of the proof's dataset, and its time
	/// lies in the window or (late data) at most `MaxLatenessMs` before it. Returns the record
	/// and where it lies, for settlement.
	pub fn verify_record(
		gateway: &T::AccountId,
		window: Window,
		proof: &MeasurementProof,
	) -> Result<(MeasurementRecord, Placement), VerifyError> {
		let cert = Certificates::<T>::get(gateway, window).ok_or(VerifyError::NotCertified)?;
		let (record, placement) =
			verify_record::<RuntimeHasher>(&cert.root, &window, T::MaxLatenessMs::get(), proof)?;
		// A late record vouches for a time before the window: only the gateway assigned the
		// device at that time may vouch for it, or a new gateway could certify its
		// predecessor's span under its own key.
		if placement == Placement::Late
			&& !T::Authority::assigned_at(gateway, record.dataset, record.timestamp_us / 1_000)
		{
			return Err(VerifyError::NotAssigned);
		}
		Ok((record, placement))
	}

	/// [`Self::verify_record`] without the record: what the runtime API answers.
	pub fn verify(
		gateway: &T::AccountId,
		window: Window,
		proof: &MeasurementProof,
	) -> Result<(), VerifyError> {
		Self::verify_record(gateway, window, proof).map(|_| ())
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
		for (_, cursor) in DatasetWindow::<T>::iter() {
			ensure!(
				bounds.contains(&cursor.duration_ms),
				"dataset window duration out of bounds"
			);
			let d = u64::from(cursor.duration_ms);
			ensure!(
				cursor.certified_until_ms % d == 0 && cursor.before_split_until_ms % d == 0,
				"dataset watermark off its window grid"
			);
			ensure!(
				cursor.before_split_until_ms <= cursor.split_ms,
				"watermark before the split lies after it"
			);
		}
		Ok(())
	}
}

impl<T: Config> DatasetLifecycle for Pallet<T> {
	fn window_ms(dataset: DatasetId) -> Option<u32> {
		DatasetWindow::<T>::get(dataset).map(|c| c.duration_ms)
	}

	fn retire(dataset: DatasetId) {
		DatasetWindow::<T>::remove(dataset);
	}

	fn split(dataset: DatasetId, at_ms: u64) {
		DatasetWindow::<T>::mutate(dataset, |c| {
			if let Some(c) = c {
				c.before_split_until_ms = c.certified_until_ms.min(at_ms);
				c.split_ms = at_ms;
				c.certified_until_ms = c.certified_until_ms.max(at_ms);
			}
		});
	}
}

impl<T: Config> Anchoring<T::AccountId> for Pallet<T> {
	fn anchor(
		by: T::AccountId,
		kind: AnchorKind,
		subject: Subject,
		digest: Hash,
		leaf_count: u64,
	) -> DispatchResult {
		Self::do_anchor(by, kind, subject, digest, leaf_count)
	}
}
