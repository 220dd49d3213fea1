//! Every call's success and refusal paths, the certification authority, the role origin, the
//! transaction extension and the runtime-API views. Each test ends with the `try_state` checks.

use crate::{mock::*, roles, *};
use frame_support::{assert_noop, assert_ok, traits::EnsureOrigin, BoundedVec};
use pallet_certification::CertificationAuthority;
use sp_runtime::{
	traits::DispatchTransaction,
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	DispatchError,
};

type E = Error<Test>;

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn code(s: &str) -> BoundedVec<u8, frame_support::traits::ConstU32<16>> {
	BoundedVec::try_from(s.as_bytes().to_vec()).unwrap()
}

fn name(s: &str) -> BoundedVec<u8, frame_support::traits::ConstU32<32>> {
	BoundedVec::try_from(s.as_bytes().to_vec()).unwrap()
}

fn admit(who: u64, roles: u8, tail: &str) {
	assert_ok!(Registry::register_participant(
		RuntimeOrigin::root(),
		who,
		Roles(roles),
		Eic(eic(tail)),
		name("new")
	));
}

fn last_event() -> Event<Test> {
	events().pop().expect("an event")
}

// ---- participants (governance) ----

#[test]
fn consortium_admits_a_participant_who_can_then_hold_a_nonce_without_tokens() {
	ExtBuilder::default().build_and_execute(|| {
		admit(20, roles::AGGREGATOR, "NEW");
		assert_eq!(
			last_event(),
			Event::ParticipantRegistered {
				who: 20,
				roles: Roles(roles::AGGREGATOR),
				eic: Eic(eic("NEW"))
			}
		);
		let p = Participants::<Test>::get(20).unwrap();
		assert_eq!(p.status, Status::Active);
		assert_eq!(EicIndex::<Test>::get(Eic(eic("NEW"))), Some(20));
		assert_eq!(System::sufficients(&20), 1);
	});
}

#[test]
fn admission_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		let reg = |origin, who, roles, eic| {
			Registry::register_participant(origin, who, Roles(roles), Eic(eic), name("x"))
		};
		assert_noop!(
			reg(signed(DSO_NORTH), 20, roles::DSO, eic("A")),
			DispatchError::BadOrigin
		);
		assert_noop!(reg(RuntimeOrigin::root(), 20, 0, eic("A")), E::InvalidRoles);
		assert_noop!(
			reg(RuntimeOrigin::root(), 20, 0x80, eic("A")),
			E::InvalidRoles
		);
		assert_noop!(
			reg(RuntimeOrigin::root(), 20, roles::DSO, *b"10xlowercase----"),
			E::MalformedEic
		);
		assert_noop!(
			reg(RuntimeOrigin::root(), DSO_NORTH, roles::DSO, eic("A")),
			E::AlreadyRegistered
		);
		assert_noop!(
			reg(RuntimeOrigin::root(), 20, roles::DSO, eic("NORTH")),
			E::DuplicateEic
		);
	});
}

#[test]
fn roles_can_be_replaced() {
	ExtBuilder::default().build_and_execute(|| {
		let both = Roles(roles::DSO | roles::GATEWAY);
		assert_ok!(Registry::set_roles(RuntimeOrigin::root(), DSO_SOUTH, both));
		assert_eq!(
			last_event(),
			Event::RolesChanged {
				who: DSO_SOUTH,
				roles: both
			}
		);
		assert!(Registry::has_role(&DSO_SOUTH, roles::GATEWAY));
		assert_noop!(
			Registry::set_roles(signed(DSO_SOUTH), DSO_SOUTH, both),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::set_roles(RuntimeOrigin::root(), DSO_SOUTH, Roles(0)),
			E::InvalidRoles
		);
		assert_noop!(
			Registry::set_roles(RuntimeOrigin::root(), STRANGER, both),
			E::NotParticipant
		);
	});
}

#[test]
fn suspension_and_reinstatement() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), AGG_A));
		assert_eq!(last_event(), Event::ParticipantSuspended { who: AGG_A });
		assert_noop!(
			Registry::suspend(RuntimeOrigin::root(), AGG_A),
			E::Suspended
		);
		assert_noop!(
			Registry::suspend(signed(DSO_NORTH), AGG_B),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::suspend(RuntimeOrigin::root(), STRANGER),
			E::NotParticipant
		);
		assert_ok!(Registry::reinstate(RuntimeOrigin::root(), AGG_A));
		assert_eq!(last_event(), Event::ParticipantReinstated { who: AGG_A });
		assert_noop!(
			Registry::reinstate(RuntimeOrigin::root(), AGG_A),
			E::NotSuspended
		);
		assert_noop!(
			Registry::reinstate(RuntimeOrigin::root(), STRANGER),
			E::NotParticipant
		);
		assert_noop!(
			Registry::reinstate(signed(AGG_A), AGG_A),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_suspended_participant_can_do_nothing() {
	ExtBuilder::default().build_and_execute(|| {
		for who in [DSO_NORTH, AGG_B, GATEWAY] {
			assert_ok!(Registry::suspend(RuntimeOrigin::root(), who));
		}
		assert_noop!(
			Registry::register_pod(signed(DSO_NORTH), code("P"), 2),
			E::Suspended
		);
		assert_noop!(
			Registry::register_area(signed(DSO_NORTH), code("A"), AreaKind::Zone, None),
			E::Suspended
		);
		assert_noop!(Registry::remove_pom(signed(DSO_NORTH), 1), E::Suspended);
		assert_noop!(
			Registry::request_representation(signed(AGG_B), 2),
			E::Suspended
		);
		assert!(!Registry::can_certify(&GATEWAY, 1));
		assert!(EnsureRole::<Test, { roles::DSO }>::try_origin(signed(DSO_NORTH)).is_err());
		// A DSO may not hand a PoM to a suspended gateway either.
		assert_noop!(
			Registry::register_pom(signed(DSO_SOUTH), 2, PomKind::Meter, [9; 32], GATEWAY),
			E::Suspended
		);
		// Nor to a suspended aggregator, even one that asked before.
		assert_ok!(Registry::reinstate(RuntimeOrigin::root(), AGG_B));
		assert_ok!(Registry::request_representation(signed(AGG_B), 2));
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), AGG_B));
		assert_noop!(
			Registry::confirm_representation(signed(DSO_SOUTH), 2, AGG_B),
			E::Suspended
		);
	});
}

#[test]
fn removal_needs_no_record_to_name_the_participant() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), DSO_NORTH),
			E::StillReferenced
		);
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), GATEWAY),
			E::StillReferenced
		);
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), AGG_A),
			E::StillReferenced
		);
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), STRANGER),
			E::NotParticipant
		);
		assert_noop!(
			Registry::remove_participant(signed(AUDITOR), AUDITOR),
			DispatchError::BadOrigin
		);
		assert_ok!(Registry::remove_participant(RuntimeOrigin::root(), AUDITOR));
		assert_eq!(last_event(), Event::ParticipantRemoved { who: AUDITOR });
		assert_eq!(System::sufficients(&AUDITOR), 0);
		// Its EIC code is free again.
		admit(21, roles::AUDITOR, "AUDITOR");
		// Once its PoDs are handed back, the aggregator may leave.
		assert_ok!(Registry::end_representation(signed(AGG_A), 1));
		assert_ok!(Registry::remove_participant(RuntimeOrigin::root(), AGG_A));
	});
}

// ---- areas ----

#[test]
fn grid_operators_register_areas_in_their_own_hierarchy() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::register_area(
			signed(DSO_NORTH),
			code("N-F1-LV"),
			AreaKind::Feeder,
			Some(2)
		));
		assert_eq!(
			last_event(),
			Event::AreaRegistered {
				area: 5,
				owner: DSO_NORTH,
				parent: Some(2)
			}
		);
		assert_eq!(Areas::<Test>::get(5).unwrap().depth, 2);
		assert_eq!(Areas::<Test>::get(2).unwrap().children, 1);
		assert_ok!(Registry::register_area(
			signed(TSO),
			code("TSO-2"),
			AreaKind::ControlArea,
			None
		));
	});
}

#[test]
fn area_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		let reg = |who, c: &str, parent| {
			Registry::register_area(signed(who), code(c), AreaKind::Zone, parent)
		};
		assert_noop!(reg(STRANGER, "X", None), E::NotParticipant);
		assert_noop!(reg(AGG_A, "X", None), E::MissingRole);
		assert_noop!(reg(DSO_NORTH, "", None), E::EmptyCode);
		assert_noop!(reg(DSO_SOUTH, "N-ZONE", None), E::DuplicateCode);
		assert_noop!(reg(DSO_NORTH, "X", Some(99)), E::UnknownArea);
		// A DSO may not nest its areas inside another operator's.
		assert_noop!(reg(DSO_SOUTH, "X", Some(1)), E::NotAreaOwner);
		assert_ok!(reg(DSO_NORTH, "D2", Some(2)));
		assert_noop!(reg(DSO_NORTH, "D3", Some(5)), E::AreaTooDeep);
	});
}

#[test]
fn only_empty_areas_are_removed() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Registry::remove_area(signed(DSO_NORTH), 1), E::AreaNotEmpty);
		assert_noop!(Registry::remove_area(signed(DSO_NORTH), 2), E::AreaNotEmpty);
		assert_noop!(Registry::remove_area(signed(DSO_NORTH), 99), E::UnknownArea);
		assert_noop!(Registry::remove_area(signed(DSO_SOUTH), 4), E::NotAreaOwner);
		assert_noop!(Registry::remove_area(signed(AGG_A), 4), E::MissingRole);
		assert_ok!(Registry::remove_area(signed(TSO), 4));
		assert_eq!(last_event(), Event::AreaRemoved { area: 4 });
		// The code can be used again; ids are not.
		assert_ok!(Registry::register_area(
			signed(TSO),
			code("TSO-CA"),
			AreaKind::ControlArea,
			None
		));
		assert_eq!(LastAreaId::<Test>::get(), 5);
	});
}

// ---- PoDs ----

#[test]
fn a_dso_registers_pods_only_in_its_own_areas() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::register_pod(signed(DSO_SOUTH), code("POD-S2"), 3));
		assert_eq!(last_event(), Event::PodRegistered { pod: 3, area: 3 });
		assert_eq!(Areas::<Test>::get(3).unwrap().pods, 2);
		assert_noop!(
			Registry::register_pod(signed(DSO_SOUTH), code("POD-X"), 2),
			E::NotAreaOwner
		);
		assert_noop!(
			Registry::register_pod(signed(DSO_SOUTH), code("POD-X"), 99),
			E::UnknownArea
		);
		assert_noop!(
			Registry::register_pod(signed(DSO_SOUTH), code(""), 3),
			E::EmptyCode
		);
		assert_noop!(
			Registry::register_pod(signed(DSO_SOUTH), code("POD-N1"), 3),
			E::DuplicateCode
		);
		assert_noop!(
			Registry::register_pod(signed(AGG_A), code("POD-X"), 3),
			E::MissingRole
		);
		assert_noop!(
			Registry::register_pod(signed(STRANGER), code("POD-X"), 3),
			E::NotParticipant
		);
	});
}

#[test]
fn removing_a_pod_ends_its_representation() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Registry::remove_pod(signed(DSO_NORTH), 1), E::PodNotEmpty);
		assert_noop!(Registry::remove_pod(signed(DSO_NORTH), 2), E::NotAreaOwner);
		assert_noop!(Registry::remove_pod(signed(DSO_SOUTH), 99), E::UnknownPod);
		assert_ok!(Registry::request_representation(signed(AGG_B), 2));
		assert_ok!(Registry::confirm_representation(
			signed(DSO_SOUTH),
			2,
			AGG_B
		));
		assert_ok!(Registry::remove_pod(signed(DSO_SOUTH), 2));
		let tail = events();
		assert_eq!(
			tail[tail.len() - 2..],
			[
				Event::RepresentationEnded {
					pod: 2,
					aggregator: AGG_B
				},
				Event::PodRemoved { pod: 2 }
			]
		);
		assert_eq!(Participants::<Test>::get(AGG_B).unwrap().links, 0);
	});
}

// ---- representation: the aggregator asks, the DSO confirms ----

#[test]
fn an_aggregator_takes_over_a_pod_when_the_dso_confirms() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::request_representation(signed(AGG_B), 1));
		assert_eq!(
			last_event(),
			Event::RepresentationRequested {
				pod: 1,
				aggregator: AGG_B
			}
		);
		// Nothing changes until the DSO confirms.
		assert_eq!(Registry::pod_aggregator(1), Some(AGG_A));
		assert_ok!(Registry::confirm_representation(
			signed(DSO_NORTH),
			1,
			AGG_B
		));
		let tail = events();
		assert_eq!(
			tail[tail.len() - 2..],
			[
				Event::RepresentationEnded {
					pod: 1,
					aggregator: AGG_A
				},
				Event::RepresentationConfirmed {
					pod: 1,
					aggregator: AGG_B
				}
			]
		);
		assert_eq!(Registry::pod_aggregator(1), Some(AGG_B));
		assert!(RepresentationRequests::<Test>::get(1).is_none());
	});
}

#[test]
fn representation_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::request_representation(signed(DSO_NORTH), 1),
			E::MissingRole
		);
		assert_noop!(
			Registry::request_representation(signed(AGG_B), 99),
			E::UnknownPod
		);
		assert_noop!(
			Registry::request_representation(signed(AGG_A), 1),
			E::AlreadyRepresented
		);
		assert_noop!(
			Registry::confirm_representation(signed(DSO_NORTH), 1, AGG_B),
			E::NoRequest
		);
		assert_ok!(Registry::request_representation(signed(AGG_B), 1));
		assert_noop!(
			Registry::confirm_representation(signed(DSO_NORTH), 1, AGG_A),
			E::NoRequest
		);
		assert_noop!(
			Registry::confirm_representation(signed(DSO_SOUTH), 1, AGG_B),
			E::NotAreaOwner
		);
		assert_noop!(
			Registry::confirm_representation(signed(AGG_B), 1, AGG_B),
			E::MissingRole
		);
		assert_noop!(
			Registry::confirm_representation(signed(DSO_NORTH), 99, AGG_B),
			E::UnknownPod
		);
	});
}

#[test]
fn either_side_ends_a_representation() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::end_representation(signed(AGG_B), 1),
			E::NotAggregatorOrOwner
		);
		assert_noop!(
			Registry::end_representation(signed(DSO_SOUTH), 1),
			E::NotAggregatorOrOwner
		);
		assert_noop!(
			Registry::end_representation(signed(DSO_SOUTH), 2),
			E::NotRepresented
		);
		assert_noop!(
			Registry::end_representation(signed(DSO_SOUTH), 99),
			E::UnknownPod
		);
		assert_ok!(Registry::end_representation(signed(DSO_NORTH), 1));
		assert_eq!(
			last_event(),
			Event::RepresentationEnded {
				pod: 1,
				aggregator: AGG_A
			}
		);
		assert_ok!(Registry::request_representation(signed(AGG_A), 1));
		assert_ok!(Registry::confirm_representation(
			signed(DSO_NORTH),
			1,
			AGG_A
		));
		// A suspended aggregator may still give its PoDs back.
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), AGG_A));
		assert_ok!(Registry::end_representation(signed(AGG_A), 1));
	});
}

// ---- PoMs and the certification authority ----

#[test]
fn a_registered_pom_is_a_dataset_its_gateway_may_certify() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::register_pom(
			signed(DSO_SOUTH),
			2,
			PomKind::Sensor,
			[3; 32],
			GATEWAY
		));
		assert_eq!(
			last_event(),
			Event::PomRegistered {
				pom: 3,
				pod: 2,
				kind: PomKind::Sensor,
				gateway: GATEWAY
			}
		);
		assert!(Registry::can_certify(&GATEWAY, 3));
		assert!(Registry::can_certify(&GATEWAY, 1));
		assert!(!Registry::can_certify(&GATEWAY, 4), "no such PoM");
		assert!(!Registry::can_certify(&DSO_SOUTH, 3), "not its gateway");
		assert_eq!(DeviceKeys::<Test>::get([3; 32]), Some(3));
		// Losing the gateway role ends its right to certify.
		assert_ok!(Registry::set_roles(
			RuntimeOrigin::root(),
			GATEWAY,
			Roles(roles::AUDITOR)
		));
		assert!(!Registry::can_certify(&GATEWAY, 3));
	});
}

#[test]
fn pom_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		let reg = |who, pod, key, gateway| {
			Registry::register_pom(signed(who), pod, PomKind::Meter, key, gateway)
		};
		assert_noop!(reg(DSO_NORTH, 1, [1; 32], GATEWAY), E::DuplicateDeviceKey);
		assert_noop!(reg(DSO_SOUTH, 1, [7; 32], GATEWAY), E::NotAreaOwner);
		assert_noop!(reg(DSO_NORTH, 99, [7; 32], GATEWAY), E::UnknownPod);
		assert_noop!(reg(DSO_NORTH, 1, [7; 32], AUDITOR), E::MissingRole);
		assert_noop!(reg(DSO_NORTH, 1, [7; 32], STRANGER), E::NotParticipant);
		assert_noop!(reg(AGG_A, 1, [7; 32], GATEWAY), E::MissingRole);
		assert_ok!(reg(DSO_NORTH, 1, [7; 32], GATEWAY));
		// MaxPomsPerPod is 3.
		assert_noop!(reg(DSO_NORTH, 1, [8; 32], GATEWAY), E::TooManyPoms);
	});
}

#[test]
fn a_pom_moves_to_another_gateway() {
	ExtBuilder::default().build_and_execute(|| {
		admit(30, roles::GATEWAY, "GW2");
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, 30));
		assert_eq!(
			last_event(),
			Event::PomGatewayChanged {
				pom: 1,
				gateway: 30
			}
		);
		assert!(Registry::can_certify(&30, 1));
		assert!(!Registry::can_certify(&GATEWAY, 1));
		assert_eq!(Registry::gateway_devices(&30).len(), 1);
		assert_noop!(
			Registry::set_pom_gateway(signed(DSO_NORTH), 99, 30),
			E::UnknownPom
		);
		assert_noop!(
			Registry::set_pom_gateway(signed(DSO_SOUTH), 1, 30),
			E::NotAreaOwner
		);
		assert_noop!(
			Registry::set_pom_gateway(signed(DSO_NORTH), 1, AUDITOR),
			E::MissingRole
		);
	});
}

#[test]
fn a_removed_pom_is_certified_by_nobody() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Registry::remove_pom(signed(DSO_SOUTH), 1), E::NotAreaOwner);
		assert_noop!(Registry::remove_pom(signed(DSO_NORTH), 99), E::UnknownPom);
		assert_ok!(Registry::remove_pom(signed(DSO_NORTH), 1));
		assert_eq!(last_event(), Event::PomRemoved { pom: 1 });
		assert!(!Registry::can_certify(&GATEWAY, 1));
		assert!(DeviceKeys::<Test>::get([1; 32]).is_none());
		// Ids are never reused: a new device gets a new dataset.
		assert_ok!(Registry::register_pom(
			signed(DSO_NORTH),
			1,
			PomKind::Pmu,
			[1; 32],
			GATEWAY
		));
		assert_eq!(LastPomId::<Test>::get(), 3);
	});
}

// ---- role origins and read traits ----

#[test]
fn role_origins_admit_active_holders_of_the_role_only() {
	ExtBuilder::default().build_and_execute(|| {
		type Gw = EnsureRole<Test, { roles::GATEWAY }>;
		type Grid = EnsureRole<Test, { roles::GRID_OPERATOR }>;
		assert_eq!(Gw::try_origin(signed(GATEWAY)).ok(), Some(GATEWAY));
		assert!(Gw::try_origin(signed(DSO_NORTH)).is_err());
		assert!(Gw::try_origin(signed(STRANGER)).is_err());
		assert!(Gw::try_origin(RuntimeOrigin::root()).is_err());
		assert_eq!(Grid::try_origin(signed(TSO)).ok(), Some(TSO));
		assert_eq!(Grid::try_origin(signed(DSO_SOUTH)).ok(), Some(DSO_SOUTH));
		assert!(Grid::try_origin(signed(AGG_A)).is_err());
	});
}

#[test]
fn read_trait_answers_ownership_questions() {
	ExtBuilder::default().build_and_execute(|| {
		type R = Registry;
		assert_eq!(
			<R as ParticipantRegistry<u64>>::pod_aggregator(1),
			Some(AGG_A)
		);
		assert_eq!(<R as ParticipantRegistry<u64>>::pod_area(1), Some(2));
		assert_eq!(
			<R as ParticipantRegistry<u64>>::area_owner(2),
			Some(DSO_NORTH)
		);
		assert!(<R as ParticipantRegistry<u64>>::area_within(2, 1));
		assert!(<R as ParticipantRegistry<u64>>::area_within(2, 2));
		assert!(!<R as ParticipantRegistry<u64>>::area_within(1, 2));
		assert!(!<R as ParticipantRegistry<u64>>::area_within(99, 99));
		assert_eq!(<R as ParticipantRegistry<u64>>::pom_pod(2), Some(1));
		assert!(<R as ParticipantRegistry<u64>>::has_role(
			&AGG_B,
			roles::BALANCE_SERVICE_PROVIDER
		));
	});
}

#[test]
fn session_snapshot_lists_pods_with_aggregator_and_poms() {
	ExtBuilder::default().build_and_execute(|| {
		let all = Registry::session_snapshot(None, None, 10);
		assert_eq!(
			all,
			vec![
				PodSnapshot {
					pod: 1,
					code: b"POD-N1".to_vec(),
					area: 2,
					aggregator: Some(AGG_A),
					poms: vec![(1, PomKind::Pmu), (2, PomKind::Meter)],
				},
				PodSnapshot {
					pod: 2,
					code: b"POD-S1".to_vec(),
					area: 3,
					aggregator: None,
					poms: vec![]
				},
			]
		);
		// An area includes its sub-areas.
		assert_eq!(Registry::session_snapshot(Some(1), None, 10), all[..1]);
		assert_eq!(Registry::session_snapshot(Some(3), None, 10), all[1..]);
		assert_eq!(Registry::session_snapshot(Some(4), None, 10), vec![]);
		// Paging.
		assert_eq!(Registry::session_snapshot(None, None, 1), all[..1]);
		assert_eq!(Registry::session_snapshot(None, Some(1), 1), all[1..]);
		assert_eq!(Registry::session_snapshot(None, Some(2), 1), vec![]);
		let devices = Registry::gateway_devices(&GATEWAY);
		assert_eq!(devices.len(), 2);
		assert_eq!(
			devices.iter().map(|d| d.device_key).collect::<Vec<_>>(),
			vec![[1; 32], [2; 32]]
		);
		assert_eq!(
			Registry::participant_info(&GATEWAY).unwrap().name,
			b"BAL gateway".to_vec()
		);
	});
}

#[test]
fn genesis_without_grid_has_participants_only() {
	ExtBuilder::participants_only().build_and_execute(|| {
		assert_eq!(Participants::<Test>::iter().count(), 8);
		assert_eq!(LastAreaId::<Test>::get(), 0);
		assert!(Registry::session_snapshot(None, None, 10).is_empty());
	});
}

// ---- the permissioned-transaction extension ----

fn remark() -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::remark { remark: vec![] })
}

fn check(who: Option<u64>) -> Result<u64, TransactionValidityError> {
	let origin = RuntimeOrigin::signed(who.expect("signed"));
	let info = Default::default();
	CheckParticipant::<Test>::new()
		.validate_only(origin, &remark(), &info, 0, TransactionSource::External, 0)
		.map(|(valid, _, _)| valid.priority)
}

fn include(who: u64) -> Result<(), TransactionValidityError> {
	let info = Default::default();
	CheckParticipant::<Test>::new()
		.validate_and_prepare(RuntimeOrigin::signed(who), &remark(), &info, 0, 0)
		.map(|_| ())
}

const fn custom(code: u8) -> TransactionValidityError {
	TransactionValidityError::Invalid(InvalidTransaction::Custom(code))
}

#[test]
fn strangers_and_suspended_members_are_turned_away_before_the_pool() {
	ExtBuilder::default().build_and_execute(|| {
		assert_eq!(
			check(Some(STRANGER)),
			Err(custom(invalid::NOT_A_PARTICIPANT))
		);
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), AGG_A));
		assert_eq!(check(Some(AGG_A)), Err(custom(invalid::SUSPENDED)));
		assert_eq!(include(AGG_A), Err(custom(invalid::SUSPENDED)));
		assert!(check(Some(AGG_B)).is_ok());
		// Inherents and other unsigned extrinsics are the runtime's own business.
		use sp_runtime::traits::{TransactionExtension, TxBaseImplication};
		let (_, val, _) = CheckParticipant::<Test>::new()
			.validate(
				RuntimeOrigin::none(),
				&remark(),
				&Default::default(),
				0,
				(),
				&TxBaseImplication(()),
				TransactionSource::External,
			)
			.expect("unsigned passes");
		assert_eq!(val, None);
	});
}

#[test]
fn each_member_has_a_quota_per_window_and_heavy_users_lose_priority() {
	ExtBuilder::default().build_and_execute(|| {
		// MaxTxPerWindow = 3, RateWindow = 10 blocks; block 1 is in window 0.
		assert_eq!(check(Some(AGG_A)), Ok(3));
		assert_ok!(include(AGG_A));
		assert_eq!(check(Some(AGG_A)), Ok(2));
		assert!(check(Some(AGG_A)).unwrap() < check(Some(AGG_B)).unwrap());
		assert_ok!(include(AGG_A));
		assert_ok!(include(AGG_A));
		assert_eq!(check(Some(AGG_A)), Err(custom(invalid::RATE_LIMITED)));
		assert_eq!(include(AGG_A), Err(custom(invalid::RATE_LIMITED)));
		// Others are unaffected.
		assert_ok!(include(AGG_B));
		System::set_block_number(9);
		assert_eq!(include(AGG_A), Err(custom(invalid::RATE_LIMITED)));
		System::set_block_number(10);
		assert_eq!(check(Some(AGG_A)), Ok(3));
		assert_ok!(include(AGG_A));
	});
}

#[test]
fn extension_weight_comes_from_its_benchmark() {
	use sp_runtime::traits::TransactionExtension;
	assert_eq!(
		<CheckParticipant<Test> as TransactionExtension<RuntimeCall>>::weight(
			&CheckParticipant::new(),
			&remark()
		),
		<() as WeightInfo>::check_participant()
	);
}
