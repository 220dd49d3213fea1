//! Storage migrations, one module per storage version.

/// v0 → v1: each `DatasetWindow` entry grows from the bare window duration into a
/// [`DatasetCursor`](crate::DatasetCursor) with a watermark.
///
/// The datasets' certified windows are not listed in state (a certificate keeps only its window
/// root), so the watermark starts at 0: `MaxLatenessMs` still refuses every window older than a
/// week, each later certificate advances the watermark, and the same gateway cannot certify a
/// window twice (its certificate is keyed by gateway and window). Residual risk, accepted: a
/// v0 chain whose PoM changed gateway in the week before the upgrade could have the new gateway
/// certify a window the old one already did; only development chains ran v0.
pub mod v1 {
	use crate::{Config, DatasetCursor, DatasetWindow, Pallet};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, codec::Encode, frame_support::ensure};

	pub mod v0 {
		use crate::{Config, Pallet};
		use frame_support::{storage_alias, Twox64Concat};
		use platone_primitives::DatasetId;

		#[storage_alias]
		pub type DatasetWindow<T: Config> = StorageMap<Pallet<T>, Twox64Concat, DatasetId, u32>;
	}

	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			Ok((v0::DatasetWindow::<T>::iter().count() as u64).encode())
		}

		fn on_runtime_upgrade() -> Weight {
			let mut n = 0u64;
			DatasetWindow::<T>::translate::<u32, _>(|_, duration_ms| {
				n = n.saturating_add(1);
				Some(DatasetCursor {
					duration_ms,
					certified_until_ms: 0,
					split_ms: 0,
					before_split_until_ms: 0,
				})
			});
			T::DbWeight::get().reads_writes(n, n)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			use codec::Decode;
			let before = u64::decode(&mut &state[..]).map_err(|_| "pre-upgrade state")?;
			ensure!(
				DatasetWindow::<T>::iter().count() as u64 == before,
				"a dataset cursor was lost"
			);
			Ok(())
		}
	}

	/// Runs [`InnerMigrateV0ToV1`] once, at storage version 0, and sets version 1.
	pub type MigrateV0ToV1<T> = VersionedMigration<
		0,
		1,
		InnerMigrateV0ToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
