//! # Consortium pallet
//!
//! On a permissioned chain the consortium, not a single key, decides who validates. This pallet
//! keeps the validator set (operator account, Aura key, GRANDPA key) and changes it only on
//! `ValidatorOrigin` (two thirds of the consortium council in the runtime). A change takes effect
//! for Aura at once and for GRANDPA once the changing block is finalised.
//!
//! It also lets `RootOrigin` (a larger council majority) dispatch a call as root: runtime
//! upgrades and other root-only operations, on a chain with no sudo key.
//!
//! **Stalls.** GRANDPA finalises only while more than two thirds of its voters are online; a
//! standard change needs finality to take effect, so once a third is lost it stops for good.
//! `force_set_validators` (`ForceOrigin`) then replaces the set with a *forced* change, which
//! nodes enact on import, without finality, from the last finalised block the council names.
//! The recovery procedure is in docs/registry.md ("Validators: stalls"); a real four-node
//! test kills two validators and recovers (tests/tests/consortium.rs).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod weights;

pub use weights::WeightInfo;

/// Longest delay of a forced change, in blocks: a few are enough for every survivor to import
/// the forcing block; this bound (about a day of 6 s blocks) keeps a typo from blocking every
/// validator change for longer.
pub const MAX_FORCED_DELAY: u32 = 14_400;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::boxed::Box;
	use frame_support::{
		dispatch::{GetDispatchInfo, PostDispatchInfo},
		pallet_prelude::*,
	};
	use frame_system::pallet_prelude::*;
	use sp_consensus_grandpa::AuthorityId as GrandpaId;
	use sp_runtime::traits::Dispatchable;

	/// A validator: who runs it and its consensus keys.
	#[derive(
		Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
	)]
	pub struct Validator<AccountId, AuraId> {
		pub operator: AccountId,
		pub aura: AuraId,
		pub grandpa: GrandpaId,
	}

	pub type ValidatorOf<T> =
		Validator<<T as frame_system::Config>::AccountId, <T as pallet_aura::Config>::AuthorityId>;

	/// Storage layout version; bumped with a migration in `migrations` whenever it changes.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config + pallet_aura::Config + pallet_grandpa::Config {
		/// Calls that `RootOrigin` may dispatch as root.
		type RuntimeCall: Parameter
			+ Dispatchable<RuntimeOrigin = Self::RuntimeOrigin, PostInfo = PostDispatchInfo>
			+ GetDispatchInfo
			+ From<frame_system::Call<Self>>;
		/// Who may add and remove validators.
		type ValidatorOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Who may act as root.
		type RootOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Who may force a new validator set when finality has stalled.
		type ForceOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Most validators; at most `pallet_aura::Config::MaxAuthorities`.
		#[pallet::constant]
		type MaxValidators: Get<u32>;
		/// Fewest validators the set may shrink to.
		#[pallet::constant]
		type MinValidators: Get<u32>;
		type WeightInfo: WeightInfo;
	}

	/// The validator set, in the order Aura assigns slots.
	#[pallet::storage]
	pub type Validators<T: Config> =
		StorageValue<_, BoundedVec<ValidatorOf<T>, <T as Config>::MaxValidators>, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Must match the Aura and GRANDPA genesis authorities (checked by `try_state`).
		pub validators: alloc::vec::Vec<(T::AccountId, T::AuthorityId, GrandpaId)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let set: alloc::vec::Vec<ValidatorOf<T>> = self
				.validators
				.iter()
				.map(|(operator, aura, grandpa)| Validator {
					operator: operator.clone(),
					aura: aura.clone(),
					grandpa: grandpa.clone(),
				})
				.collect();
			let set = BoundedVec::try_from(set)
				.unwrap_or_else(|_| panic!("genesis: more validators than MaxValidators"));
			Validators::<T>::put(set);
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A validator joined; Aura uses it from the next block, GRANDPA once this block is final.
		ValidatorAdded { operator: T::AccountId },
		/// A validator left.
		ValidatorRemoved { operator: T::AccountId },
		/// A call was dispatched as root on the consortium's decision.
		DispatchedAsRoot { result: DispatchResult },
		/// The validator set was replaced by a forced change, enacted `delay` blocks after this
		/// one whether or not it is finalised, GRANDPA resuming from block `best_finalized`.
		ValidatorSetForced {
			validators: u32,
			best_finalized: BlockNumberFor<T>,
			delay: BlockNumberFor<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The operator or one of the keys already belongs to a validator.
		AlreadyValidator,
		/// No validator with that operator.
		NotValidator,
		/// The set is full.
		TooManyValidators,
		/// The set would shrink below `MinValidators` (or, when forced, be empty).
		TooFewValidators,
		/// GRANDPA refuses another forced change this soon after the last one.
		ForcedChangeTooSoon,
		/// A forced change's delay exceeds `MAX_FORCED_DELAY` blocks.
		DelayTooLong,
		/// Another GRANDPA authority change was scheduled in this block (changes take effect
		/// with no delay, at the end of the block that schedules them); try again in the next.
		ChangePending,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Add a validator with its Aura and GRANDPA keys.
		///
		/// - Origin: `ValidatorOrigin`.
		/// - Errors: `AlreadyValidator`, `TooManyValidators`, `ChangePending`.
		/// - Events: `ValidatorAdded`.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::add_validator(<T as Config>::MaxValidators::get()))]
		pub fn add_validator(
			origin: OriginFor<T>,
			operator: T::AccountId,
			aura: T::AuthorityId,
			grandpa: GrandpaId,
		) -> DispatchResult {
			T::ValidatorOrigin::ensure_origin(origin)?;
			Self::do_add_validator(Validator {
				operator,
				aura,
				grandpa,
			})
		}

		/// Remove the validator run by `operator`.
		///
		/// - Origin: `ValidatorOrigin`.
		/// - Errors: `NotValidator`, `TooFewValidators`, `ChangePending`.
		/// - Events: `ValidatorRemoved`.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::remove_validator(<T as Config>::MaxValidators::get()))]
		pub fn remove_validator(origin: OriginFor<T>, operator: T::AccountId) -> DispatchResult {
			T::ValidatorOrigin::ensure_origin(origin)?;
			Self::do_remove_validator(operator)
		}

		/// Dispatch `call` as root, e.g. `System::set_code` for a runtime upgrade.
		///
		/// - Origin: `RootOrigin`.
		/// - Errors: only `BadOrigin`; the inner call's result is in the event.
		/// - Events: `DispatchedAsRoot`.
		#[pallet::call_index(2)]
		#[pallet::weight({
			let info = call.get_dispatch_info();
			(<T as Config>::WeightInfo::dispatch_as_root().saturating_add(info.call_weight), info.class)
		})]
		pub fn dispatch_as_root(
			origin: OriginFor<T>,
			call: Box<<T as Config>::RuntimeCall>,
		) -> DispatchResultWithPostInfo {
			T::RootOrigin::ensure_origin(origin)?;
			let result = call.dispatch(frame_system::RawOrigin::Root.into());
			Self::deposit_event(Event::DispatchedAsRoot {
				result: result.map(|_| ()).map_err(|e| e.error),
			});
			Ok(().into())
		}

		/// Replace the validator set when finality has stalled: more than a third of GRANDPA's
		/// voters are lost, so no standard change can be finalised. Aura uses the new set from
		/// the next block; GRANDPA switches by a forced change once this block is `delay` blocks
		/// deep in every node's best chain, and finalises again from `best_finalized` (the last
		/// block the nodes agree is final: `chain_getFinalizedHead` on a surviving node). Below
		/// `MinValidators` is allowed here: recovery comes before the floor.
		///
		/// - Origin: `ForceOrigin`.
		/// - Errors: `TooFewValidators` (empty), `AlreadyValidator` (a repeated operator or
		///   key), `DelayTooLong`, `ChangePending`, `ForcedChangeTooSoon`.
		/// - `best_finalized` must lie below any standard change the survivors still wait to
		///   finalise (nodes refuse a forced change that depends on one). The runtime's
		///   `CurrentSetId` counts that unfinalised change too, so after such a recovery it is
		///   one above the nodes' set id (docs/registry.md).
		/// - Events: `ValidatorSetForced`.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::force_set_validators(validators.len() as u32))]
		pub fn force_set_validators(
			origin: OriginFor<T>,
			validators: BoundedVec<
				(T::AccountId, T::AuthorityId, GrandpaId),
				<T as Config>::MaxValidators,
			>,
			best_finalized: BlockNumberFor<T>,
			delay: BlockNumberFor<T>,
		) -> DispatchResult {
			T::ForceOrigin::ensure_origin(origin)?;
			Self::do_force_set(validators.into_inner(), best_finalized, delay)
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
