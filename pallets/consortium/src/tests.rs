//! Unit tests of the consortium pallet (issue #2: the consortium decides who validates).

use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;

use crate::{mock::*, Error, Event, Validators};

fn events() -> Vec<RuntimeEvent> {
	System::events().into_iter().map(|r| r.event).collect()
}

#[test]
fn adds_a_validator_to_aura_now_and_grandpa_on_finality() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Consortium::add_validator(
			RuntimeOrigin::root(),
			4,
			aura(4),
			grandpa(4)
		));
		assert_eq!(
			pallet_aura::Authorities::<Test>::get().into_inner(),
			vec![aura(1), aura(2), aura(3), aura(4)]
		);
		assert!(pallet_grandpa::PendingChange::<Test>::exists());
		// Each change is a new GRANDPA set (P-BAP-01: auditors follow sets by id).
		assert_eq!(pallet_grandpa::CurrentSetId::<Test>::get(), 1);
		assert!(events().contains(&Event::ValidatorAdded { operator: 4 }.into()));
		// A second change must wait for the first to be enacted.
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::root(), 5, aura(5), grandpa(5)),
			Error::<Test>::ChangePending
		);
		next_block();
		assert!(!pallet_grandpa::PendingChange::<Test>::exists());
		assert_eq!(Grandpa::grandpa_authorities().len(), 4);
		assert_ok!(Consortium::add_validator(
			RuntimeOrigin::root(),
			5,
			aura(5),
			grandpa(5)
		));
		assert_eq!(pallet_grandpa::CurrentSetId::<Test>::get(), 2);
	});
}

#[test]
fn removes_a_validator() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Consortium::remove_validator(RuntimeOrigin::root(), 2));
		assert_eq!(
			pallet_aura::Authorities::<Test>::get().into_inner(),
			vec![aura(1), aura(3)]
		);
		assert_eq!(Validators::<Test>::get().len(), 2);
		assert!(events().contains(&Event::ValidatorRemoved { operator: 2 }.into()));
		next_block();
		assert_eq!(
			Grandpa::grandpa_authorities(),
			vec![(grandpa(1), 1), (grandpa(3), 1)]
		);
	});
}

#[test]
fn refusals() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::signed(1), 4, aura(4), grandpa(4)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Consortium::remove_validator(RuntimeOrigin::signed(1), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::root(), 1, aura(9), grandpa(9)),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::root(), 9, aura(2), grandpa(9)),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::root(), 9, aura(9), grandpa(3)),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Consortium::remove_validator(RuntimeOrigin::root(), 9),
			Error::<Test>::NotValidator
		);
	});
	ExtBuilder::default().validators(2).build_and_execute(|| {
		assert_noop!(
			Consortium::remove_validator(RuntimeOrigin::root(), 1),
			Error::<Test>::TooFewValidators
		);
	});
	ExtBuilder::default().validators(8).build_and_execute(|| {
		assert_noop!(
			Consortium::add_validator(RuntimeOrigin::root(), 9, aura(9), grandpa(9)),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn dispatches_root_calls_on_the_consortiums_decision() {
	ExtBuilder::default().build_and_execute(|| {
		let call = Box::new(RuntimeCall::System(frame_system::Call::set_storage {
			items: vec![(b":platone:test".to_vec(), b"yes".to_vec())],
		}));
		assert_noop!(
			Consortium::dispatch_as_root(RuntimeOrigin::signed(1), call.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(Consortium::dispatch_as_root(RuntimeOrigin::root(), call));
		assert_eq!(
			sp_io::storage::get(b":platone:test").as_deref(),
			Some(&b"yes"[..])
		);
		assert!(events().contains(&Event::DispatchedAsRoot { result: Ok(()) }.into()));

		// A failing inner call is reported, not hidden.
		let call = Box::new(RuntimeCall::Consortium(crate::Call::remove_validator {
			operator: 42,
		}));
		assert_ok!(Consortium::dispatch_as_root(RuntimeOrigin::root(), call));
		assert!(events().contains(
			&Event::DispatchedAsRoot {
				result: Err(Error::<Test>::NotValidator.into())
			}
			.into()
		));
	});
}

#[test]
fn try_state_detects_a_set_out_of_step_with_aura() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(Consortium::do_try_state());
		Validators::<Test>::mutate(|set| set.truncate(1));
		assert!(Consortium::do_try_state().is_err());
	});
}

/// Issue #11: when finality has stalled, the council forces a new set. Aura uses it at once;
/// GRANDPA gets a forced change (resuming from the named finalised block) after `delay`.
#[test]
fn a_forced_change_replaces_the_set_without_finality() {
	ExtBuilder::default().validators(4).build_and_execute(|| {
		let survivors = |ids: &[u8]| {
			frame_support::BoundedVec::truncate_from(
				ids.iter()
					.map(|i| (u64::from(*i), aura(*i), grandpa(*i)))
					.collect::<Vec<_>>(),
			)
		};
		assert_noop!(
			Consortium::force_set_validators(RuntimeOrigin::signed(1), survivors(&[1, 2]), 5, 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Consortium::force_set_validators(RuntimeOrigin::root(), survivors(&[]), 5, 2),
			Error::<Test>::TooFewValidators
		);
		assert_noop!(
			Consortium::force_set_validators(RuntimeOrigin::root(), survivors(&[1, 1]), 5, 2),
			Error::<Test>::AlreadyValidator
		);
		assert_noop!(
			Consortium::force_set_validators(
				RuntimeOrigin::root(),
				survivors(&[1]),
				5,
				u64::from(crate::MAX_FORCED_DELAY) + 1
			),
			Error::<Test>::DelayTooLong
		);
		// Below MinValidators (2 here) is allowed: recovery comes before the floor.
		assert_ok!(Consortium::force_set_validators(
			RuntimeOrigin::root(),
			survivors(&[1]),
			5,
			2
		));
		assert!(events().contains(
			&Event::ValidatorSetForced {
				validators: 1,
				best_finalized: 5,
				delay: 2
			}
			.into()
		));
		assert_eq!(
			pallet_aura::Authorities::<Test>::get().into_inner(),
			vec![aura(1)]
		);
		let pending = pallet_grandpa::PendingChange::<Test>::get().expect("scheduled");
		assert_eq!(pending.forced, Some(5));
		assert_eq!(pending.delay, 2);
		assert_eq!(pallet_grandpa::CurrentSetId::<Test>::get(), 1);
		// Nothing else changes the set until the forced change is enacted.
		assert_noop!(
			Consortium::remove_validator(RuntimeOrigin::root(), 1),
			Error::<Test>::ChangePending
		);
		for _ in 0..3 {
			next_block();
		}
		assert!(!pallet_grandpa::PendingChange::<Test>::exists());
		assert_eq!(Grandpa::grandpa_authorities(), vec![(grandpa(1), 1)]);
	});
}
