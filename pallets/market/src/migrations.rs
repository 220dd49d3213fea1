//! Storage migrations, one module per storage version.

/// v0 → v1: `StepPods` for the steps whose validation closed before the upgrade, so that
/// settlement reads an award's PoD share instead of every earlier award of its step.
///
/// Reads every award of every closed step once (its answer and its offer), and writes one value
/// per such step: linear in the retained sessions' awards. Sessions still open or clearing
/// get theirs when their steps close.
pub mod v1 {
	use crate::{Config, Pallet, Sessions, StepAwards};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, codec::Encode, frame_support::ensure};

	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			ensure!(
				crate::StepPods::<T>::iter_keys().next().is_none(),
				"no PoD shares before v1"
			);
			Ok(Vec::<u8>::new().encode())
		}

		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			for (session, info) in Sessions::<T>::iter() {
				reads = reads.saturating_add(1);
				let steps: alloc::vec::Vec<_> = StepAwards::<T>::iter_key_prefix(session)
					.filter(|s| info.phase.closed(*s))
					.collect();
				for step in steps {
					let (records, leaves): (alloc::vec::Vec<_>, alloc::vec::Vec<_>) =
						Pallet::<T>::step_results(session, step).into_iter().unzip();
					let awards = records.len() as u64;
					reads = reads
						.saturating_add(1)
						.saturating_add(awards.saturating_mul(2));
					writes = writes.saturating_add(1);
					Pallet::<T>::keep_pod_shares(session, step, &records, &leaves);
				}
			}
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			Pallet::<T>::do_try_state()
		}
	}

	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		InnerMigrateV0ToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}

/// v1 → v2: gate closure seals in chunks over several blocks, and each clearing step reads
/// its items from the sealed chunks (`SealedItems`, `StepPower`) instead of every item. A
/// session sealed before the upgrade and not yet cleared gets its chunks here, for the steps
/// it has still to clear. Its input root stays as anchored: it did not change, only where the
/// steps read their inputs.
///
/// Reads each such session's items once and writes its chunks: linear in the items of at
/// most `MaxLive` sessions.
pub mod v2 {
	use crate::{
		functions::Packer, types::SealedItem, Config, Offers, Pallet, Phase, Requests, Sessions,
	};
	use alloc::vec::Vec;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	#[cfg(feature = "try-runtime")]
	use {codec::Encode, frame_support::ensure};

	pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			ensure!(
				crate::SealedItems::<T>::iter_keys().next().is_none(),
				"no sealed chunks before v2"
			);
			Ok(Vec::<u8>::new().encode())
		}

		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			for (session, info) in Sessions::<T>::iter() {
				reads = reads.saturating_add(1);
				let Phase::GateClosed { next } = info.phase else {
					continue;
				};
				let mut items: Vec<_> = Requests::<T>::iter_prefix(session)
					.map(|(id, r)| {
						let item = SealedItem::of_request(id, &r);
						(id, item, r.input.direction, r.input.quantities)
					})
					.chain(Offers::<T>::iter_prefix(session).map(|(id, o)| {
						let item = SealedItem::of_offer(id, &o);
						(id, item, o.input.direction, o.input.quantities)
					}))
					.collect();
				items.sort_by_key(|(id, ..)| *id);
				let n = items.len() as u64;
				let mut packer = Packer::<T>::new(session, 0, next);
				for (_, item, direction, quantities) in items {
					packer.push(item, direction, &quantities, None);
				}
				packer.write();
				let steps = u64::from(info.steps());
				reads = reads.saturating_add(n);
				writes = writes.saturating_add(
					u64::from(Pallet::<T>::chunks(n as u32))
						.saturating_mul(steps.saturating_add(1)),
				);
			}
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(_: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			Pallet::<T>::do_try_state()
		}
	}

	pub type MigrateV1ToV2<T> = VersionedMigration<
		1,
		2,
		InnerMigrateV1ToV2<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
