//! Storage migrations, one module per storage version.

/// v0 → v1:
/// - each PoM gains its gateway's assignment time (0: assigned from the start) and no previous
///   gateway;
/// - `OperatorAreas` is filled from the areas;
/// - each pending representation request now holds a link on its aggregator; a request whose
///   aggregator is no longer a participant (v0 allowed that) is dropped.
///
/// Reads and writes every PoM, area and request once: linear in the registry's size.
pub mod v1 {
	use crate::{
		Areas, Config, OperatorAreas, Pallet, Participants, Pom, PomKind, Poms,
		RepresentationRequests,
	};
	use codec::{Decode, Encode};
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	#[cfg(feature = "try-runtime")]
	use {alloc::vec::Vec, frame_support::ensure};

	/// A PoM as v0 stored it.
	#[derive(Encode, Decode)]
	pub struct PomV0<AccountId> {
		pub pod: crate::PodId,
		pub kind: PomKind,
		pub device_key: crate::DeviceKey,
		pub gateway: AccountId,
	}

	pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
			let poms = Poms::<T>::iter_keys().count() as u64;
			let areas = Areas::<T>::iter_keys().count() as u64;
			Ok((poms, areas).encode())
		}

		fn on_runtime_upgrade() -> Weight {
			let (mut reads, mut writes) = (0u64, 0u64);
			Poms::<T>::translate::<PomV0<T::AccountId>, _>(|_, old| {
				reads += 1;
				writes += 1;
				Some(Pom {
					pod: old.pod,
					kind: old.kind,
					device_key: old.device_key,
					gateway: old.gateway,
					gateway_since_ms: 0,
					previous_gateway: None,
				})
			});
			for (id, area) in Areas::<T>::iter() {
				reads += 1;
				writes += 1;
				OperatorAreas::<T>::insert(&area.owner, id, ());
			}
			// v0 let a requester be removed while its request waited: drop such requests.
			let requests: alloc::vec::Vec<_> = RepresentationRequests::<T>::iter().collect();
			for (pod, requester) in requests {
				reads += 2;
				writes += 1;
				let live = Participants::<T>::mutate(&requester, |p| match p {
					Some(p) => {
						p.links = p.links.saturating_add(1);
						true
					}
					None => false,
				});
				if !live {
					RepresentationRequests::<T>::remove(pod);
				}
			}
			T::DbWeight::get().reads_writes(reads, writes)
		}

		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let (poms, areas) =
				<(u64, u64)>::decode(&mut &state[..]).map_err(|_| "pre-upgrade state")?;
			ensure!(
				Poms::<T>::iter_values().count() as u64 == poms,
				"a PoM was lost"
			);
			ensure!(
				OperatorAreas::<T>::iter_keys().count() as u64 == areas,
				"operator index incomplete"
			);
			Pallet::<T>::do_try_state()
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
