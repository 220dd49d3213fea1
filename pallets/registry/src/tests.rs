//! Every call's success and refusal paths, the certification authority, the role origin, the
//! transaction extension and the runtime-API views. Each test ends with the `try_state` checks.

use crate::{mock::*, roles, *};
use frame_support::dispatch::DispatchResult;
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

/// The window of the current time (mock clock), of the usual 180 s.
fn now_window() -> platone_primitives::Window {
	platone_primitives::Window::containing(NowMs::get(), 180_000).unwrap()
}

fn can_certify(gateway: u64, dataset: u64) -> bool {
	Registry::can_certify(&gateway, dataset, &now_window())
}

/// Registers device `seed` at `pod` with its proof of control.
fn reg_pom(who: u64, pod: PodId, kind: PomKind, seed: u8, gateway: u64) -> DispatchResult {
	Registry::register_pom(
		signed(who),
		pod,
		kind,
		device_key(seed),
		gateway,
		device_proof(seed, who, pod),
	)
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
		assert!(!can_certify(GATEWAY, 1));
		assert!(EnsureRole::<Test, { roles::DSO }>::try_origin(signed(DSO_NORTH)).is_err());
		// A DSO may not hand a PoM to a suspended gateway either.
		assert_noop!(
			reg_pom(DSO_SOUTH, 2, PomKind::Meter, 9, GATEWAY),
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
		// The account stays, with its nonce (no replay after a re-admission).
		assert_eq!(System::sufficients(&AUDITOR), 1);
		assert!(Retired::<Test>::contains_key(AUDITOR));
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
fn a_dso_nests_its_zone_under_a_tsos_control_area() {
	ExtBuilder::default().build_and_execute(|| {
		// Area 4 is the TSO's control area: DSO North declares its new zone inside it.
		assert_ok!(Registry::register_area(
			signed(DSO_NORTH),
			code("N-ZONE-2"),
			AreaKind::Zone,
			Some(4)
		));
		assert_eq!(
			last_event(),
			Event::AreaRegistered {
				area: 5,
				owner: DSO_NORTH,
				parent: Some(4)
			}
		);
		let zone = Areas::<Test>::get(5).unwrap();
		assert_eq!((zone.owner, zone.depth), (DSO_NORTH, 1));
		assert_eq!(Registry::area_path(5), vec![5, 4]);
		// The DSO builds on under its zone; the TSO keeps its area while the zone is in it.
		assert_ok!(Registry::register_area(
			signed(DSO_NORTH),
			code("N2-F1"),
			AreaKind::Feeder,
			Some(5)
		));
		assert_noop!(Registry::remove_area(signed(TSO), 4), E::AreaNotEmpty);
		assert_noop!(Registry::remove_area(signed(TSO), 5), E::NotAreaOwner);
		// Only a DSO's zone, only under a TSO's control area.
		let reg = |who, c: &str, kind, parent| {
			Registry::register_area(signed(who), code(c), kind, Some(parent))
		};
		assert_noop!(reg(DSO_NORTH, "X", AreaKind::Feeder, 4), E::NotAreaOwner);
		assert_noop!(
			reg(DSO_NORTH, "X", AreaKind::ControlArea, 4),
			E::NotAreaOwner
		);
		assert_noop!(reg(DSO_SOUTH, "X", AreaKind::Zone, 1), E::NotAreaOwner);
		assert_ok!(Registry::register_area(
			signed(TSO),
			code("TSO-Z"),
			AreaKind::Zone,
			None
		));
		assert_noop!(reg(DSO_SOUTH, "X", AreaKind::Zone, 7), E::NotAreaOwner);
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
		// A suspended aggregator's transactions never reach the chain (see the extension
		// tests); its DSO frees its PoDs, or governance does (`force_set_pod_aggregator`).
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), AGG_A));
		assert_eq!(check(Some(AGG_A)), Err(custom(invalid::SUSPENDED)));
		assert_ok!(Registry::end_representation(signed(DSO_NORTH), 1));
	});
}

// ---- PoMs and the certification authority ----

#[test]
fn a_registered_pom_is_a_dataset_its_gateway_may_certify() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(reg_pom(DSO_SOUTH, 2, PomKind::Sensor, 3, GATEWAY));
		assert_eq!(
			last_event(),
			Event::PomRegistered {
				pom: 3,
				pod: 2,
				kind: PomKind::Sensor,
				gateway: GATEWAY
			}
		);
		assert!(can_certify(GATEWAY, 3));
		assert!(can_certify(GATEWAY, 1));
		assert!(!can_certify(GATEWAY, 4), "no such PoM");
		assert!(!can_certify(DSO_SOUTH, 3), "not its gateway");
		assert_eq!(DeviceKeys::<Test>::get(device_key(3)), Some(3));
		// Suspension ends its right to certify.
		assert_ok!(Registry::suspend(RuntimeOrigin::root(), GATEWAY));
		assert!(!can_certify(GATEWAY, 3));
	});
}

#[test]
fn pom_refusals() {
	ExtBuilder::default().build_and_execute(|| {
		let reg = |who, pod, seed, gateway| reg_pom(who, pod, PomKind::Meter, seed, gateway);
		assert_noop!(reg(DSO_NORTH, 1, 1, GATEWAY), E::DuplicateDeviceKey);
		assert_noop!(reg(DSO_SOUTH, 1, 7, GATEWAY), E::NotAreaOwner);
		assert_noop!(reg(DSO_NORTH, 99, 7, GATEWAY), E::UnknownPod);
		assert_noop!(reg(DSO_NORTH, 1, 7, AUDITOR), E::MissingRole);
		assert_noop!(reg(DSO_NORTH, 1, 7, STRANGER), E::NotParticipant);
		assert_noop!(reg(AGG_A, 1, 7, GATEWAY), E::MissingRole);
		assert_ok!(reg(DSO_NORTH, 1, 7, GATEWAY));
		// MaxPomsPerPod is 3.
		assert_noop!(reg(DSO_NORTH, 1, 8, GATEWAY), E::TooManyPoms);
	});
}

#[test]
fn a_pom_moves_to_another_gateway() {
	ExtBuilder::default().build_and_execute(|| {
		admit(30, roles::GATEWAY, "GW2");
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, 30));
		let since_ms = NowMs::get();
		assert_eq!(
			last_event(),
			Event::PomGatewayChanged {
				pom: 1,
				gateway: 30,
				since_ms
			}
		);
		let later = platone_primitives::Window::containing(since_ms + 180_000, 180_000).unwrap();
		assert!(Registry::can_certify(&30, 1, &later));
		assert!(!Registry::can_certify(&GATEWAY, 1, &later));
		assert_eq!(Registry::gateway_devices(&30, None, 10).devices.len(), 1);
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

/// Issue #11: a handover takes effect at the next boundary of the dataset's window grid. The
/// old gateway still closes the windows before it and no later ones; the new one certifies
/// from it on. So no window is certifiable by both, and none by neither.
#[test]
fn a_handover_splits_the_window_grid_between_the_two_gateways() {
	ExtBuilder::default().build_and_execute(|| {
		admit(30, roles::GATEWAY, "GW2");
		Durations::set(vec![(1, 180_000)]);
		NowMs::set(1_795_564_800_000 + 60_000); // a minute into a 180 s window
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, 30));
		let handover = 1_795_564_800_000 + 180_000;
		assert_eq!(Poms::<Test>::get(1).unwrap().gateway_since_ms, handover);
		let w = |start| platone_primitives::Window {
			start_ms: start,
			duration_ms: 180_000,
		};
		let (current, next, past) = (w(handover - 180_000), w(handover), w(handover - 360_000));
		for (window, old, new) in [
			(past, true, false),
			(current, true, false),
			(next, false, true),
		] {
			assert_eq!(Registry::can_certify(&GATEWAY, 1, &window), old);
			assert_eq!(Registry::can_certify(&30, 1, &window), new);
		}
		// A third gateway replaces the second: the first loses what it had not certified.
		admit(31, roles::GATEWAY, "GW3");
		NowMs::set(handover + 10);
		assert_ok!(Registry::force_set_pom_gateway(
			RuntimeOrigin::root(),
			1,
			31
		));
		assert!(!Registry::can_certify(&GATEWAY, 1, &current));
		assert!(Registry::can_certify(&30, 1, &next));
		assert!(
			!Registry::can_certify(&30, 1, &current),
			"not before its own assignment"
		);
		assert!(Registry::can_certify(&31, 1, &w(handover + 180_000)));
	});
}

#[test]
fn a_removed_pom_is_certified_by_nobody() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Registry::remove_pom(signed(DSO_SOUTH), 1), E::NotAreaOwner);
		assert_noop!(Registry::remove_pom(signed(DSO_NORTH), 99), E::UnknownPom);
		assert_ok!(Registry::remove_pom(signed(DSO_NORTH), 1));
		assert_eq!(last_event(), Event::PomRemoved { pom: 1 });
		assert!(!can_certify(GATEWAY, 1));
		assert!(DeviceKeys::<Test>::get(device_key(1)).is_none());
		// Its certification cursor leaves state with it.
		assert_eq!(RetiredDatasets::get(), vec![1]);
		// Ids are never reused: a new device gets a new dataset.
		assert_ok!(reg_pom(DSO_NORTH, 1, PomKind::Pmu, 1, GATEWAY));
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
		let all = Registry::session_snapshot(None, None, 10).pods;
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
		let page = |area, after, limit| Registry::session_snapshot(area, after, limit);
		// An area includes its sub-areas.
		assert_eq!(page(Some(1), None, 10).pods, all[..1]);
		assert_eq!(page(Some(3), None, 10).pods, all[1..]);
		assert_eq!(page(Some(4), None, 10).pods, vec![]);
		assert_eq!(page(None, None, 10).next, None);
		// Paging.
		assert_eq!(
			page(None, None, 1),
			SnapshotPage {
				pods: all[..1].to_vec(),
				next: Some(1)
			}
		);
		assert_eq!(page(None, Some(1), 1).pods, all[1..]);
		assert_eq!(page(None, Some(2), 1).pods, vec![]);
		let devices = Registry::gateway_devices(&GATEWAY, None, 10).devices;
		let mut keys: Vec<_> = devices.iter().map(|d| d.device_key).collect();
		keys.sort();
		let mut expected = vec![device_key(1), device_key(2)];
		expected.sort();
		assert_eq!(keys, expected);
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
		assert!(Registry::session_snapshot(None, None, 10).pods.is_empty());
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

// ---- issue #11: owners, governance, bounds ----

/// A device key is bound only with the device's own signature over the registration.
#[test]
fn a_device_key_is_bound_only_with_proof_of_control() {
	ExtBuilder::default().build_and_execute(|| {
		let key = device_key(7);
		let register = |who, pod, proof| {
			Registry::register_pom(signed(who), pod, PomKind::Meter, key, GATEWAY, proof)
		};
		// A competitor's device, without its signature.
		assert_noop!(register(DSO_SOUTH, 2, [0; 64]), E::BadDeviceProof);
		// The device's signature for another operator or another PoD is no proof here.
		assert_noop!(
			register(DSO_SOUTH, 2, device_proof(7, DSO_NORTH, 2)),
			E::BadDeviceProof
		);
		assert_noop!(
			register(DSO_NORTH, 1, device_proof(7, DSO_NORTH, 2)),
			E::BadDeviceProof
		);
		// Signed for the chain with another genesis hash.
		let foreign = {
			use sp_core::Pair;
			let m = device_key_message(&[1u8; 32], &DSO_NORTH, 1u32, 0);
			sp_core::ed25519::Pair::from_seed(&[7; 32]).sign(&m).0
		};
		assert_noop!(register(DSO_NORTH, 1, foreign), E::BadDeviceProof);
		assert_ok!(register(DSO_NORTH, 1, device_proof(7, DSO_NORTH, 1)));
	});
}

#[test]
fn governance_takes_back_a_squatted_device_key() {
	ExtBuilder::default().build_and_execute(|| {
		// PoM 2's key was bound (say, before proofs were required) by the wrong operator.
		assert_noop!(
			Registry::force_remove_pom(signed(DSO_NORTH), 2),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::force_remove_pom(RuntimeOrigin::root(), 99),
			E::UnknownPom
		);
		assert_ok!(Registry::force_remove_pom(RuntimeOrigin::root(), 2));
		assert_eq!(last_event(), Event::PomRemoved { pom: 2 });
		// Its owner registers it, with the device's proof.
		assert_ok!(reg_pom(DSO_SOUTH, 2, PomKind::Meter, 2, GATEWAY));
		assert_eq!(DeviceKeys::<Test>::get(device_key(2)), Some(3));
	});
}

/// The consortium's 2/3 cannot lock a council member out: suspension would make
/// `CheckParticipant` refuse its votes. Only the council's own threshold removes it.
#[test]
fn council_members_cannot_be_suspended_or_removed_by_the_registry_admin() {
	ExtBuilder::default()
		.council(&[AUDITOR, DSO_NORTH])
		.build_and_execute(|| {
			assert_noop!(
				Registry::suspend(RuntimeOrigin::root(), AUDITOR),
				E::CouncilMember
			);
			assert_noop!(
				Registry::remove_participant(RuntimeOrigin::root(), AUDITOR),
				E::CouncilMember
			);
			// Once off the council, the usual rules apply.
			Council::set(vec![DSO_NORTH]);
			assert_ok!(Registry::suspend(RuntimeOrigin::root(), AUDITOR));
		});
}

#[test]
#[should_panic(expected = "is no participant")]
fn genesis_fails_when_a_council_member_is_no_participant() {
	ExtBuilder::default().council(&[STRANGER]).build();
}

/// A removed participant keeps its account and nonce; re-admission gives it no new reference.
#[test]
fn removal_never_resets_a_nonce() {
	ExtBuilder::default().build_and_execute(|| {
		System::inc_account_nonce(AUDITOR);
		System::inc_account_nonce(AUDITOR);
		assert_ok!(Registry::remove_participant(RuntimeOrigin::root(), AUDITOR));
		assert_eq!(System::account_nonce(AUDITOR), 2);
		admit(AUDITOR, roles::AUDITOR, "AUDITOR2");
		assert_eq!(System::account_nonce(AUDITOR), 2);
		assert_eq!(System::sufficients(&AUDITOR), 1);
		assert!(!Retired::<Test>::contains_key(AUDITOR));
	});
}

#[test]
fn a_pending_request_is_never_overwritten_and_holds_its_aggregator() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Registry::request_representation(signed(AGG_B), 2));
		// Asking again is harmless; another aggregator must wait.
		assert_ok!(Registry::request_representation(signed(AGG_B), 2));
		assert_noop!(
			Registry::request_representation(signed(AGG_A), 2),
			E::RequestPending
		);
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), AGG_B),
			E::StillReferenced
		);
		assert_noop!(
			Registry::withdraw_representation_request(signed(AGG_A), 2),
			E::NotAggregatorOrOwner
		);
		assert_noop!(
			Registry::withdraw_representation_request(signed(DSO_SOUTH), 1),
			E::NoRequest
		);
		assert_noop!(
			Registry::withdraw_representation_request(signed(DSO_SOUTH), 99),
			E::UnknownPod
		);
		// The DSO declines it; the aggregator is free to leave.
		assert_ok!(Registry::withdraw_representation_request(
			signed(DSO_SOUTH),
			2
		));
		assert_eq!(
			last_event(),
			Event::RepresentationRequestWithdrawn {
				pod: 2,
				aggregator: AGG_B
			}
		);
		assert_ok!(Registry::request_representation(signed(AGG_A), 2));
		assert_ok!(Registry::withdraw_representation_request(signed(AGG_A), 2));
		assert_ok!(Registry::remove_participant(RuntimeOrigin::root(), AGG_B));
	});
}

/// `StillReferenced` says "hand them over first": governance can.
#[test]
fn governance_hands_over_areas_pods_and_poms() {
	ExtBuilder::default().build_and_execute(|| {
		admit(40, roles::DSO, "DSO3");
		admit(41, roles::GATEWAY, "GW4");
		assert_noop!(
			Registry::force_transfer_area(signed(DSO_NORTH), 1, 40),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Registry::force_transfer_area(RuntimeOrigin::root(), 99, 40),
			E::UnknownArea
		);
		assert_noop!(
			Registry::force_transfer_area(RuntimeOrigin::root(), 1, AGG_A),
			E::MissingRole
		);
		for area in [1, 2] {
			assert_ok!(Registry::force_transfer_area(
				RuntimeOrigin::root(),
				area,
				40
			));
		}
		assert_eq!(
			last_event(),
			Event::AreaTransferred {
				area: 2,
				from: DSO_NORTH,
				to: 40
			}
		);
		assert_noop!(
			Registry::force_set_pod_aggregator(RuntimeOrigin::root(), 99, None),
			E::UnknownPod
		);
		assert_noop!(
			Registry::force_set_pod_aggregator(RuntimeOrigin::root(), 1, Some(GATEWAY)),
			E::MissingRole
		);
		assert_ok!(Registry::force_set_pod_aggregator(
			RuntimeOrigin::root(),
			1,
			Some(AGG_B)
		));
		assert_eq!(
			last_event(),
			Event::RepresentationConfirmed {
				pod: 1,
				aggregator: AGG_B
			}
		);
		for pom in [1, 2] {
			assert_ok!(Registry::force_set_pom_gateway(
				RuntimeOrigin::root(),
				pom,
				41
			));
			// The old gateway keeps its span (and a link) until governance ends it.
			assert_ok!(Registry::force_end_handover(RuntimeOrigin::root(), pom));
		}
		assert_noop!(
			Registry::force_end_handover(RuntimeOrigin::root(), 1),
			E::NoHandover
		);
		// Nothing names the old DSO, aggregator and gateway any more.
		for who in [DSO_NORTH, AGG_A, GATEWAY] {
			assert_ok!(Registry::remove_participant(RuntimeOrigin::root(), who));
		}
		// The new operator owns the hierarchy.
		assert_ok!(Registry::register_pod(signed(40), code("P-NEW"), 2));
	});
}

#[test]
fn roles_are_kept_while_records_need_them() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Registry::set_roles(RuntimeOrigin::root(), DSO_SOUTH, Roles(roles::AUDITOR)),
			E::RolesStillNeeded
		);
		assert_noop!(
			Registry::set_roles(RuntimeOrigin::root(), GATEWAY, Roles(roles::AUDITOR)),
			E::RolesStillNeeded
		);
		// A DSO may become a TSO: either grid-operator role keeps its areas operated.
		assert_ok!(Registry::set_roles(
			RuntimeOrigin::root(),
			DSO_SOUTH,
			Roles(roles::TSO)
		));
		assert_ok!(Registry::remove_area(signed(TSO), 4));
		assert_ok!(Registry::set_roles(
			RuntimeOrigin::root(),
			TSO,
			Roles(roles::AUDITOR)
		));
	});
}

/// `session_snapshot` scans at most `limit` PoD ids, however few the area filter keeps.
#[test]
fn snapshot_and_device_pages_are_bounded_in_what_they_scan() {
	ExtBuilder::default().build_and_execute(|| {
		for i in 0..20u32 {
			assert_ok!(Registry::register_pod(
				signed(DSO_SOUTH),
				code(&format!("S-{i}")),
				3
			));
		}
		// Area 1 has PoD 1 only; the rest are in area 3.
		let first = Registry::session_snapshot(Some(1), None, 5);
		assert_eq!(first.pods.len(), 1);
		assert_eq!(first.next, Some(5));
		let mut after = first.next;
		let mut pages = 1;
		while let Some(a) = after {
			let page = Registry::session_snapshot(Some(1), Some(a), 5);
			assert!(page.pods.is_empty());
			after = page.next;
			pages += 1;
		}
		assert_eq!(pages, 5, "22 PoD ids in pages of 5");
		// Devices page too, and a full walk returns each exactly once.
		let one = Registry::gateway_devices(&GATEWAY, None, 1);
		assert_eq!(one.devices.len(), 1);
		let rest = Registry::gateway_devices(&GATEWAY, one.next, 1);
		assert_eq!(rest.devices.len(), 1);
		assert_ne!(rest.devices[0].pom, one.devices[0].pom);
		assert_eq!(
			Registry::gateway_devices(&GATEWAY, Some(rest.devices[0].pom), 1)
				.devices
				.len(),
			0
		);
	});
}

#[test]
fn try_state_catches_an_area_without_operator_and_a_dangling_request() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(Registry::do_try_state());
		Participants::<Test>::mutate(DSO_SOUTH, |p| {
			p.as_mut().unwrap().roles = Roles(roles::AUDITOR)
		});
		assert!(Registry::do_try_state().is_err());
		Participants::<Test>::mutate(DSO_SOUTH, |p| p.as_mut().unwrap().roles = Roles(roles::DSO));
		assert_ok!(Registry::do_try_state());
		RepresentationRequests::<Test>::insert(77, AGG_B);
		assert!(Registry::do_try_state().is_err());
	});
}

#[test]
fn v0_registry_migrates_to_v1() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	ExtBuilder::default().build().execute_with(|| {
		// Rewrite state as v0 left it: PoMs without handover fields, no operator index, and
		// a pending request that held no link.
		for (id, m) in Poms::<Test>::iter().collect::<Vec<_>>() {
			let old = migrations::v1::PomV0 {
				pod: m.pod,
				kind: m.kind,
				device_key: m.device_key,
				gateway: m.gateway,
			};
			frame_support::storage::unhashed::put(&Poms::<Test>::hashed_key_for(id), &old);
		}
		let _ = OperatorAreas::<Test>::clear(u32::MAX, None);
		RepresentationRequests::<Test>::insert(2, AGG_B);
		StorageVersion::new(0).put::<Registry>();
		migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Registry::on_chain_storage_version(), 1);
		assert_eq!(Poms::<Test>::get(1).unwrap().previous_gateway, None);
		assert!(OperatorAreas::<Test>::contains_key(DSO_NORTH, 2));
		assert_ok!(Registry::do_try_state());
	});
}

/// Review of issue #11: a handover that has not taken effect can be redirected or cancelled
/// without costing the previous gateway its span; the previous gateway stays linked while it
/// may still certify; and the dataset's time is split for its watermarks.
#[test]
fn a_pending_handover_can_be_redirected_or_cancelled() {
	ExtBuilder::default().build_and_execute(|| {
		admit(30, roles::GATEWAY, "GW2");
		admit(31, roles::GATEWAY, "GW3");
		Durations::set(vec![(1, 180_000)]);
		let start = 1_795_564_800_000;
		NowMs::set(start + 60_000);
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, 30));
		let handover = start + 180_000;
		assert_eq!(Splits::get(), vec![(1, handover)]);
		// Redirected before it takes effect: the original gateway keeps its span.
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, 31));
		let m = Poms::<Test>::get(1).unwrap();
		assert_eq!((m.gateway, m.gateway_since_ms), (31, handover));
		assert_eq!(m.previous_gateway, Some((GATEWAY, 0, handover)));
		assert_eq!(Splits::get().len(), 1, "no second split");
		// The previous gateway may not leave while it may still certify.
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), GATEWAY),
			E::StillReferenced
		);
		// Handed back before it takes effect: cancelled.
		assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), 1, GATEWAY));
		let m = Poms::<Test>::get(1).unwrap();
		assert_eq!(
			(m.gateway, m.gateway_since_ms, m.previous_gateway),
			(GATEWAY, 0, None)
		);
		let w = platone_primitives::Window {
			start_ms: start,
			duration_ms: 180_000,
		};
		assert!(Registry::can_certify(&GATEWAY, 1, &w));
		assert!(!Registry::can_certify(&31, 1, &w));
	});
}

#[test]
fn the_previous_gateway_stays_linked_and_keeps_its_own_span_only() {
	ExtBuilder::default().build_and_execute(|| {
		admit(30, roles::GATEWAY, "GW2");
		Durations::set(vec![(1, 180_000), (2, 180_000)]);
		for pom in [1, 2] {
			assert_ok!(Registry::set_pom_gateway(signed(DSO_NORTH), pom, 30));
		}
		// GATEWAY certifies nothing now, but may still close its windows: it stays linked.
		assert_noop!(
			Registry::remove_participant(RuntimeOrigin::root(), GATEWAY),
			E::StillReferenced
		);
		// A window straddling the handover is nobody's; before it, the old gateway's only.
		let h = Poms::<Test>::get(1).unwrap().gateway_since_ms;
		let before = platone_primitives::Window {
			start_ms: h - 180_000,
			duration_ms: 180_000,
		};
		let day = platone_primitives::Window {
			start_ms: h - h % 86_400_000,
			duration_ms: 86_400_000,
		};
		assert!(Registry::can_certify(&GATEWAY, 1, &before));
		assert!(
			!Registry::can_certify(&GATEWAY, 1, &day),
			"ends after the handover"
		);
		assert!(Registry::assigned_at(&GATEWAY, 1, h - 1));
		assert!(!Registry::assigned_at(&GATEWAY, 1, h));
		assert!(Registry::assigned_at(&30, 1, h));
	});
}

#[test]
fn an_old_proof_never_binds_a_key_governance_took_back() {
	ExtBuilder::default().build_and_execute(|| {
		let old_proof = device_proof(7, DSO_SOUTH, 2);
		assert_ok!(Registry::register_pom(
			signed(DSO_SOUTH),
			2,
			PomKind::Meter,
			device_key(7),
			GATEWAY,
			old_proof
		));
		assert_ok!(Registry::force_remove_pom(RuntimeOrigin::root(), 3));
		assert_eq!(KeyReleases::<Test>::get(device_key(7)), 1);
		assert_noop!(
			Registry::register_pom(
				signed(DSO_SOUTH),
				2,
				PomKind::Meter,
				device_key(7),
				GATEWAY,
				old_proof
			),
			E::BadDeviceProof
		);
		// A fresh proof, signed for the key's current release count, binds it again.
		assert_ok!(reg_pom(DSO_SOUTH, 2, PomKind::Meter, 7, GATEWAY));
	});
}
