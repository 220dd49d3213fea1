//! Validator-set changes, applied to Aura at once and to GRANDPA on finality.

use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;

use crate::{Config, Error, Event, Pallet, ValidatorOf, Validators};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_add_validator(validator: ValidatorOf<T>) -> DispatchResult {
		ensure!(
			!pallet_grandpa::PendingChange::<T>::exists(),
			Error::<T>::ChangePending
		);
		let mut set = Validators::<T>::get();
		ensure!(
			!set.iter().any(|v| v.operator == validator.operator
				|| v.aura == validator.aura
				|| v.grandpa == validator.grandpa),
			Error::<T>::AlreadyValidator
		);
		let operator = validator.operator.clone();
		set.try_push(validator)
			.map_err(|_| Error::<T>::TooManyValidators)?;
		Self::apply(&set)?;
		Validators::<T>::put(set);
		Self::deposit_event(Event::ValidatorAdded { operator });
		Ok(())
	}

	pub(crate) fn do_remove_validator(operator: T::AccountId) -> DispatchResult {
		ensure!(
			!pallet_grandpa::PendingChange::<T>::exists(),
			Error::<T>::ChangePending
		);
		let mut set = Validators::<T>::get();
		let before = set.len();
		set.retain(|v| v.operator != operator);
		ensure!(set.len() < before, Error::<T>::NotValidator);
		ensure!(
			set.len() as u32 >= T::MinValidators::get().max(1),
			Error::<T>::TooFewValidators
		);
		Self::apply(&set)?;
		Validators::<T>::put(set);
		Self::deposit_event(Event::ValidatorRemoved { operator });
		Ok(())
	}

	pub(crate) fn do_force_set(
		validators: Vec<(
			T::AccountId,
			T::AuthorityId,
			sp_consensus_grandpa::AuthorityId,
		)>,
		best_finalized: BlockNumberFor<T>,
		delay: BlockNumberFor<T>,
	) -> DispatchResult {
		ensure!(!validators.is_empty(), Error::<T>::TooFewValidators);
		// A long delay would hold `PendingChange` (and every other change) for as long.
		ensure!(
			delay <= crate::MAX_FORCED_DELAY.into(),
			Error::<T>::DelayTooLong
		);
		ensure!(
			!pallet_grandpa::PendingChange::<T>::exists(),
			Error::<T>::ChangePending
		);
		let set: Vec<ValidatorOf<T>> = validators
			.into_iter()
			.map(|(operator, aura, grandpa)| crate::Validator {
				operator,
				aura,
				grandpa,
			})
			.collect();
		ensure!(!Self::has_duplicate(&set), Error::<T>::AlreadyValidator);
		let bounded = BoundedVec::try_from(set).map_err(|_| Error::<T>::TooManyValidators)?;
		Self::enact(&bounded, delay, Some(best_finalized))?;
		Validators::<T>::put(&bounded);
		Self::deposit_event(Event::ValidatorSetForced {
			validators: bounded.len() as u32,
			best_finalized,
			delay,
		});
		Ok(())
	}

	/// Two validators share an operator or a key.
	fn has_duplicate(set: &[ValidatorOf<T>]) -> bool {
		set.iter().enumerate().any(|(i, v)| {
			set.iter()
				.skip(i + 1)
				.any(|w| w.operator == v.operator || w.aura == v.aura || w.grandpa == v.grandpa)
		})
	}

	/// Hands the set to the consensus pallets. GRANDPA's change is scheduled with no delay: it
	/// takes effect when the block carrying it is finalised by the current set.
	fn apply(set: &[ValidatorOf<T>]) -> DispatchResult {
		Self::enact(set, 0u32.into(), None)
	}

	/// Schedules a GRANDPA change (`forced` with the median last finalised block) and changes
	/// Aura's authorities at once.
	fn enact(
		set: &[ValidatorOf<T>],
		delay: BlockNumberFor<T>,
		forced: Option<BlockNumberFor<T>>,
	) -> DispatchResult {
		let aura: Vec<T::AuthorityId> = set.iter().map(|v| v.aura.clone()).collect();
		let aura = BoundedVec::try_from(aura).map_err(|_| Error::<T>::TooManyValidators)?;
		let grandpa = set.iter().map(|v| (v.grandpa.clone(), 1)).collect();
		let is_forced = forced.is_some();
		pallet_grandpa::Pallet::<T>::schedule_change(grandpa, delay, forced).map_err(|_| {
			if is_forced {
				Error::<T>::ForcedChangeTooSoon
			} else {
				Error::<T>::ChangePending
			}
		})?;
		// GRANDPA clients count set ids by the changes they enact; the runtime's count is what
		// `GrandpaApi::current_set_id`, equivocation reports and auditors' light clients read.
		// pallet_grandpa moves it only from session changes, which this chain does not have.
		pallet_grandpa::CurrentSetId::<T>::mutate(|id| *id = id.saturating_add(1));
		pallet_aura::Pallet::<T>::change_authorities(aura);
		Ok(())
	}

	/// Invariants: the set is non-empty, has no duplicate operator or key, and Aura's
	/// authorities are exactly the set's Aura keys in order.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let set = Validators::<T>::get();
		ensure!(!set.is_empty(), "empty validator set");
		ensure!(!Self::has_duplicate(&set), "duplicate validator");
		let aura: Vec<T::AuthorityId> = set.iter().map(|v| v.aura.clone()).collect();
		ensure!(
			pallet_aura::Authorities::<T>::get().into_inner() == aura,
			"Aura authorities differ from the validator set"
		);
		if !pallet_grandpa::PendingChange::<T>::exists() {
			let grandpa: Vec<_> = set.iter().map(|v| (v.grandpa.clone(), 1)).collect();
			ensure!(
				pallet_grandpa::Pallet::<T>::grandpa_authorities() == grandpa,
				"GRANDPA authorities differ from the validator set"
			);
		}
		Ok(())
	}
}
