//! Market pallet tests (issue #13). Requirement ids: T-MP-02 (sessions at prefixed times),
//! FR_MP_I_1 (registry snapshot), FR-MP-FSM-01/03/04 (requests, offers), FR-MP-MOMV-01
//! (clearing), FR-MP-MOMV-02/03 (validation), FR-MP-MOMV-04 (results), FR-MP-BC-01/02
//! (anchors and proofs).

use crate::{mock::*, pallet::*, types::*, Event};
use frame_support::{assert_noop, assert_ok, traits::Hooks, weights::Weight, BoundedVec};
use pallet_certification::RuntimeHasher;
use pallet_registry::roles;
use platone_primitives::{
	merkle::{self, Hasher},
	AnchorKind,
};
use sp_runtime::DispatchError;

const SESSION: SessionId = 1;
/// Session 1 covers `DAY_D - HOUR ..= DAY_D`, its gate closes at `DAY_D - 2 h`.
const GATE: u64 = DAY_D - 2 * HOUR;

fn q(v: &[(Slot, Power)]) -> QuantitiesOf<Test> {
	BoundedVec::truncate_from(v.to_vec())
}

fn request(
	area: AreaId,
	max_price: Price,
	min: Power,
	v: &[(Slot, Power)],
) -> RequestInputOf<Test> {
	RequestInput {
		area,
		direction: Direction::Up,
		max_price,
		min_quantity: min,
		quantities: q(v),
	}
}

fn offer(pod: PodId, price: Price, min: Power, v: &[(Slot, Power)]) -> OfferInputOf<Test> {
	OfferInput {
		pod,
		direction: Direction::Up,
		price,
		min_quantity: min,
		quantities: q(v),
	}
}

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn market_events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Market(e) => Some(e),
			_ => None,
		})
		.collect()
}

fn phase() -> Phase {
	Sessions::<Test>::get(SESSION)
		.expect("session 1 exists")
		.phase
}

fn check_state() {
	Market::do_try_state().expect("invariants hold");
}

/// Opens session 1 (the first block, at `DAY_D - 3 h`).
fn open() {
	run_block_at(DAY_D - 3 * HOUR);
	assert_eq!(phase(), Phase::Open);
}

/// Session 1 with a DSO request in zone 1 (id 1), a TSO request there at a lower price cap
/// (2), and three offers: PoD 10 (3; feeder 2, inside zone 1), PoD 11 (4; zone 1) and PoD 12
/// (5; zone 3, outside). The optimum is unique: in slot 0 the DSO takes all 4 kW of offer 4,
/// which the TSO's cap excludes, and 1 kW of offer 3; the TSO the other 2 kW of offer 3.
fn open_with_book() {
	open();
	assert_ok!(Market::submit_request(
		signed(DSO_A),
		SESSION,
		request(1, 100, 0, &[(0, 5_000), (1, 5_000)])
	));
	assert_ok!(Market::submit_request(
		signed(TSO),
		SESSION,
		request(1, 60, 0, &[(0, 4_000)])
	));
	assert_ok!(Market::submit_offer(
		signed(AGG_A),
		SESSION,
		offer(10, 50, 0, &[(0, 3_000), (1, 3_000)])
	));
	assert_ok!(Market::submit_offer(
		signed(AGG_A),
		SESSION,
		offer(11, 70, 0, &[(0, 4_000)])
	));
	assert_ok!(Market::submit_offer(
		signed(AGG_B),
		SESSION,
		offer(12, 10, 0, &[(0, 9_000)])
	));
}

/// All awards of session 1, in step order.
fn awards() -> Vec<Award> {
	let info = Sessions::<Test>::get(SESSION).expect("session 1 exists");
	(0..info.steps())
		.flat_map(|s| {
			StepAwards::<Test>::get(SESSION, s)
				.unwrap_or_default()
				.into_inner()
		})
		.map(|r| r.award)
		.collect()
}

// ---- sessions (T-MP-02) ----

#[test]
fn sessions_open_from_the_schedule_at_their_time() {
	ExtBuilder::default().build().execute_with(|| {
		run_block_at(DAY_D - 3 * HOUR);
		let info = Sessions::<Test>::get(1).expect("session 1 opened");
		assert_eq!(info.delivery_start_ms, DAY_D - HOUR);
		assert_eq!(info.gate_closure_ms, GATE);
		assert_eq!((info.slots, info.slot_ms), (4, 15 * MINUTE as u32));
		assert_eq!(Live::<Test>::get().into_inner(), vec![1]);
		assert!(market_events().contains(&Event::SessionOpened {
			session: 1,
			kind: SessionKind::DayAhead,
			delivery_start_ms: DAY_D - HOUR,
			gate_closure_ms: GATE,
			slots: 4,
		}));
		// The next period opens 2 h 30 min before it starts, not before.
		run_block_at(DAY_D - 2 * HOUR - 31 * MINUTE);
		assert!(Sessions::<Test>::get(2).is_none());
		run_block_at(DAY_D - 2 * HOUR - 30 * MINUTE);
		assert_eq!(
			Sessions::<Test>::get(2).map(|s| s.delivery_start_ms),
			Some(DAY_D)
		);
		check_state();
	});
}

#[test]
fn no_schedule_no_session() {
	ExtBuilder::default()
		.without_schedule()
		.build()
		.execute_with(|| {
			run_block_at(DAY_D);
			assert_eq!(LastSession::<Test>::get(), 0);
			assert!(market_events().is_empty());
		});
}

#[test]
fn periods_whose_gate_passed_while_the_chain_stood_still_get_no_session() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// Next block only 10 h later: the periods from DAY_D to DAY_D + 8 h closed their gates
		// meanwhile.
		run_block_at(DAY_D + 7 * HOUR);
		assert!(market_events().contains(&Event::PeriodsMissed {
			kind: SessionKind::DayAhead,
			from_ms: DAY_D,
			until_ms: DAY_D + 9 * HOUR,
		}));
		// Session 1 still went through every step, in order, in that one block.
		let steps: Vec<&'static str> = market_events()
			.iter()
			.filter_map(|e| match e {
				Event::GateClosed { .. } => Some("gate"),
				Event::Cleared { .. } => Some("cleared"),
				Event::Validated { .. } => Some("validated"),
				Event::SessionFinal { .. } => Some("final"),
				_ => None,
			})
			.collect();
		// Validators get at least MinValidationMs after a late clearing: not validated yet.
		assert_eq!(steps, vec!["gate", "cleared"]);
		assert!(matches!(phase(), Phase::Cleared { deadline_ms, .. } if deadline_ms == DAY_D + 7 * HOUR + 10 * MINUTE));
		run_block_at(DAY_D + 7 * HOUR + 10 * MINUTE);
		assert_eq!(phase(), Phase::Final);
		// The period after the missed ones opens as usual, 2 h 30 min ahead.
		assert_eq!(
			Sessions::<Test>::get(2).map(|s| s.delivery_start_ms),
			Some(DAY_D + 9 * HOUR)
		);
		check_state();
	});
}

#[test]
fn a_full_live_list_opens_no_more_sessions() {
	ExtBuilder::default().build().execute_with(|| {
		// MaxLive = 3, and two (unknown) sessions fill the list beside session 1.
		open();
		Live::<Test>::put(BoundedVec::truncate_from(vec![1, 100, 101]));
		run_block_at(DAY_D - 2 * HOUR - 30 * MINUTE);
		assert!(market_events().contains(&Event::SessionNotOpened {
			kind: SessionKind::DayAhead,
			delivery_start_ms: DAY_D,
		}));
		assert!(Sessions::<Test>::get(2).is_none());
	});
}

#[test]
fn schedules_are_checked_and_set_by_governance_only() {
	ExtBuilder::default()
		.without_schedule()
		.build()
		.execute_with(|| {
			let good = hourly();
			assert_noop!(
				Market::set_schedule(signed(DSO_A), SessionKind::RealTime, Some(good)),
				DispatchError::BadOrigin
			);
			for bad in [
				Schedule { slot_ms: 0, ..good },
				Schedule {
					slot_ms: 7 * MINUTE as u32,
					..good
				},
				Schedule {
					gate_lead_ms: good.open_lead_ms,
					..good
				},
				Schedule {
					validation_ms: good.gate_lead_ms,
					..good
				},
				Schedule {
					period_ms: 97 * 15 * MINUTE,
					..good
				},
			] {
				assert_noop!(
					Market::set_schedule(RuntimeOrigin::root(), SessionKind::RealTime, Some(bad)),
					Error::<Test>::BadSchedule
				);
			}
			assert_ok!(Market::set_schedule(
				RuntimeOrigin::root(),
				SessionKind::RealTime,
				Some(good)
			));
			assert!(market_events().contains(&Event::ScheduleSet {
				kind: SessionKind::RealTime,
				schedule: Some(good),
			}));
			assert!(NextPeriod::<Test>::get(SessionKind::RealTime).is_some());
			assert_ok!(Market::set_schedule(
				RuntimeOrigin::root(),
				SessionKind::RealTime,
				None
			));
			assert!(Schedules::<Test>::get(SessionKind::RealTime).is_none());
		});
}

#[test]
fn pricing_applies_to_sessions_created_afterwards() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		assert_noop!(
			Market::set_pricing(signed(TSO), Pricing::Uniform),
			DispatchError::BadOrigin
		);
		assert_ok!(Market::set_pricing(RuntimeOrigin::root(), Pricing::Uniform));
		assert!(market_events().contains(&Event::PricingSet {
			pricing: Pricing::Uniform
		}));
		run_block_at(DAY_D - 2 * HOUR - 30 * MINUTE);
		assert_eq!(
			Sessions::<Test>::get(1).map(|s| s.pricing),
			Some(Pricing::PayAsBid)
		);
		assert_eq!(
			Sessions::<Test>::get(2).map(|s| s.pricing),
			Some(Pricing::Uniform)
		);
	});
}

// ---- requests and offers (FR-MP-FSM-01/03/04) ----

#[test]
fn requests_come_from_grid_operators_with_checked_terms() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		assert_noop!(
			Market::submit_request(signed(AGG_A), SESSION, request(1, 1, 0, &[(0, 1)])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Market::submit_request(signed(DSO_A), 7, request(1, 1, 0, &[(0, 1)])),
			Error::<Test>::UnknownSession
		);
		for (v, e) in [
			(vec![], Error::<Test>::BadQuantities),
			(vec![(1, 1), (0, 1)], Error::<Test>::BadQuantities),
			(vec![(1, 1), (1, 1)], Error::<Test>::BadQuantities),
			(vec![(4, 1)], Error::<Test>::SlotOutOfRange),
			(vec![(0, 0)], Error::<Test>::ZeroQuantity),
		] {
			assert_noop!(
				Market::submit_request(signed(DSO_A), SESSION, request(1, 1, 0, &v)),
				e
			);
		}
		assert_noop!(
			Market::submit_request(signed(DSO_A), SESSION, request(1, 1, 10, &[(0, 5)])),
			Error::<Test>::MinAboveQuantity
		);
		assert_noop!(
			Market::submit_request(signed(DSO_A), SESSION, request(77, 1, 0, &[(0, 5)])),
			Error::<Test>::UnknownArea
		);
		// A DSO asks only in its own areas.
		assert_noop!(
			Market::submit_request(signed(DSO_B), SESSION, request(1, 1, 0, &[(0, 5)])),
			Error::<Test>::NotAreaOperator
		);
		// Neither DSO nor TSO (reachable with a wider RequestOrigin than the mock's).
		assert_noop!(
			Market::do_submit_request(STRANGER, SESSION, request(1, 1, 0, &[(0, 5)])),
			Error::<Test>::NotRequester
		);
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(2, 1, 0, &[(0, 5)])
		));
		assert_ok!(Market::submit_request(
			signed(TSO),
			SESSION,
			request(2, 1, 0, &[(0, 5)])
		));
		let classes: Vec<_> = Requests::<Test>::iter_prefix(SESSION)
			.map(|(_, r)| r.requester)
			.collect();
		assert!(classes.contains(&Requester::Dso) && classes.contains(&Requester::Tso));
		assert!(market_events().contains(&Event::RequestSubmitted {
			session: SESSION,
			id: 1,
			owner: DSO_A,
			requester: Requester::Dso,
		}));
		for _ in 2..8 {
			assert_ok!(Market::submit_request(
				signed(DSO_A),
				SESSION,
				request(2, 1, 0, &[(0, 5)])
			));
		}
		assert_noop!(
			Market::submit_request(signed(DSO_A), SESSION, request(2, 1, 0, &[(0, 5)])),
			Error::<Test>::TooManyRequests
		);
		check_state();
	});
}

#[test]
fn offers_come_from_the_pods_aggregator() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		assert_noop!(
			Market::submit_offer(signed(DSO_A), SESSION, offer(10, 1, 0, &[(0, 1)])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(99, 1, 0, &[(0, 1)])),
			Error::<Test>::UnknownPod
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_B), SESSION, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::NotPodAggregator
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(14, 1, 0, &[(0, 1)])),
			Error::<Test>::NotPodAggregator
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(10, 1, 2, &[(0, 1)])),
			Error::<Test>::MinAboveQuantity
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(10, 1, 0, &[(9, 1)])),
			Error::<Test>::SlotOutOfRange
		);
		PodTable::mutate(|t| t.push((15, 5, Some(AGG_A))));
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(15, 1, 0, &[(0, 1)])),
			Error::<Test>::NoValidator
		);
		assert_ok!(Market::submit_offer(
			signed(AGG_A),
			SESSION,
			offer(10, 1, 0, &[(0, 1)])
		));
		let stored = Offers::<Test>::get(SESSION, 1).expect("stored");
		assert_eq!((stored.area, stored.validator), (2, DSO_A));
		assert!(market_events().contains(&Event::OfferSubmitted {
			session: SESSION,
			id: 1,
			owner: AGG_A,
			pod: 10,
		}));
		for _ in 1..16 {
			assert_ok!(Market::submit_offer(
				signed(AGG_A),
				SESSION,
				offer(10, 1, 0, &[(0, 1)])
			));
		}
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::TooManyOffers
		);
		check_state();
	});
}

/// Gate closure walks every id handed out, withdrawn ones too: one participant's churn
/// (submit, withdraw, submit …) stops at `MaxItemsPerAccount` ids (40 in the mock), so it
/// cannot hold up sealing for everyone; others still submit, and the churner may still amend.
#[test]
fn churn_is_bounded_per_account() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		for _ in 0..20 {
			assert_ok!(Market::submit_offer(
				signed(AGG_A),
				SESSION,
				offer(10, 1, 0, &[(0, 1)])
			));
			let id = Sessions::<Test>::get(SESSION).expect("session").last_item;
			assert_ok!(Market::withdraw_offer(signed(AGG_A), SESSION, id));
		}
		for _ in 0..19 {
			assert_ok!(Market::submit_offer(
				signed(AGG_A),
				SESSION,
				offer(10, 1, 0, &[(0, 1)])
			));
			let id = Sessions::<Test>::get(SESSION).expect("session").last_item;
			assert_ok!(Market::withdraw_offer(signed(AGG_A), SESSION, id));
		}
		assert_ok!(Market::submit_offer(
			signed(AGG_A),
			SESSION,
			offer(10, 1, 0, &[(0, 1)])
		));
		assert_eq!(ItemsHandedOut::<Test>::get(SESSION, AGG_A), 40);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::AccountItemsExhausted
		);
		let last = Sessions::<Test>::get(SESSION).expect("session").last_item;
		assert_ok!(Market::amend_offer(
			signed(AGG_A),
			SESSION,
			last,
			offer(10, 2, 0, &[(0, 1)])
		));
		assert_ok!(Market::submit_offer(
			signed(AGG_B),
			SESSION,
			offer(12, 1, 0, &[(0, 1)])
		));
		assert_eq!(ItemsHandedOut::<Test>::get(SESSION, AGG_B), 1);
		check_state();
	});
}

#[test]
fn only_owners_amend_or_withdraw_and_only_before_the_gate() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// Request 1 (DSO_A), offer 3 (AGG_A).
		assert_noop!(
			Market::amend_request(signed(TSO), SESSION, 1, request(1, 1, 0, &[(0, 1)])),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Market::amend_request(signed(DSO_A), SESSION, 3, request(1, 1, 0, &[(0, 1)])),
			Error::<Test>::UnknownRequest
		);
		assert_noop!(
			Market::amend_request(signed(DSO_A), SESSION, 1, request(2, 1, 0, &[(0, 1)])),
			Error::<Test>::ChangedSubject
		);
		assert_noop!(
			Market::amend_request(signed(DSO_A), SESSION, 1, request(1, 1, 0, &[(0, 0)])),
			Error::<Test>::ZeroQuantity
		);
		assert_ok!(Market::amend_request(
			signed(DSO_A),
			SESSION,
			1,
			request(1, 90, 0, &[(0, 6_000)])
		));
		assert_eq!(
			Requests::<Test>::get(SESSION, 1).map(|r| r.input.max_price),
			Some(90)
		);
		assert!(market_events().contains(&Event::RequestAmended {
			session: SESSION,
			id: 1
		}));
		assert_noop!(
			Market::withdraw_request(signed(TSO), SESSION, 1),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Market::withdraw_request(signed(DSO_A), SESSION, 9),
			Error::<Test>::UnknownRequest
		);

		assert_noop!(
			Market::amend_offer(signed(AGG_B), SESSION, 3, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Market::amend_offer(signed(AGG_A), SESSION, 1, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::UnknownOffer
		);
		assert_noop!(
			Market::amend_offer(signed(AGG_A), SESSION, 3, offer(11, 1, 0, &[(0, 1)])),
			Error::<Test>::ChangedSubject
		);
		assert_ok!(Market::amend_offer(
			signed(AGG_A),
			SESSION,
			3,
			offer(10, 40, 0, &[(0, 3_000)])
		));
		assert!(market_events().contains(&Event::OfferAmended {
			session: SESSION,
			id: 3
		}));
		assert_noop!(
			Market::withdraw_offer(signed(AGG_B), SESSION, 3),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Market::withdraw_offer(signed(AGG_A), SESSION, 1),
			Error::<Test>::UnknownOffer
		);
		assert_ok!(Market::withdraw_offer(signed(AGG_A), SESSION, 4));
		assert!(market_events().contains(&Event::OfferWithdrawn {
			session: SESSION,
			id: 4
		}));
		assert_ok!(Market::withdraw_request(signed(TSO), SESSION, 2));
		assert!(market_events().contains(&Event::RequestWithdrawn {
			session: SESSION,
			id: 2
		}));
		check_state();

		// At gate closure, before any block: every change is refused.
		NowMs::set(GATE);
		assert_noop!(
			Market::submit_request(signed(DSO_A), SESSION, request(1, 1, 0, &[(0, 1)])),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_A), SESSION, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::amend_request(signed(DSO_A), SESSION, 1, request(1, 1, 0, &[(0, 1)])),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::amend_offer(signed(AGG_A), SESSION, 3, offer(10, 1, 0, &[(0, 1)])),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::withdraw_request(signed(DSO_A), SESSION, 1),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::withdraw_offer(signed(AGG_A), SESSION, 3),
			Error::<Test>::GateClosed
		);
	});
}

// ---- gate closure and clearing (FR_MP_I_1, FR-MP-MOMV-01, FR-MP-BC-01) ----

#[test]
fn the_gate_seals_and_anchors_the_inputs_and_the_pallet_clears_them_as_the_crate_does() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		let expected = platone_clearing::clear(&platone_clearing::Market {
			pricing: Pricing::PayAsBid,
			areas: vec![
				platone_clearing::Area {
					id: 1,
					parent: None,
				},
				platone_clearing::Area {
					id: 2,
					parent: Some(1),
				},
				platone_clearing::Area {
					id: 3,
					parent: None,
				},
			],
			requests: vec![
				platone_clearing::Request {
					id: 1,
					requester: Requester::Dso,
					area: 1,
					direction: Direction::Up,
					max_price: 100,
					min_quantity: 0,
					quantities: vec![(0, 5_000), (1, 5_000)],
				},
				platone_clearing::Request {
					id: 2,
					requester: Requester::Tso,
					area: 1,
					direction: Direction::Up,
					max_price: 60,
					min_quantity: 0,
					quantities: vec![(0, 4_000)],
				},
			],
			offers: vec![
				platone_clearing::Offer {
					id: 3,
					area: 2,
					direction: Direction::Up,
					price: 50,
					min_quantity: 0,
					quantities: vec![(0, 3_000), (1, 3_000)],
				},
				platone_clearing::Offer {
					id: 4,
					area: 1,
					direction: Direction::Up,
					price: 70,
					min_quantity: 0,
					quantities: vec![(0, 4_000)],
				},
				platone_clearing::Offer {
					id: 5,
					area: 3,
					direction: Direction::Up,
					price: 10,
					min_quantity: 0,
					quantities: vec![(0, 9_000)],
				},
			],
		})
		.expect("the book is valid");
		run_block_at(GATE);
		let info = Sessions::<Test>::get(SESSION).expect("session");
		let root = info.input_root.expect("sealed");
		assert!(market_events().contains(&Event::GateClosed {
			session: SESSION,
			requests: 2,
			offers: 3,
			input_root: root,
		}));
		// Every step ran in this block (the mock's budget is ample).
		assert!(matches!(info.phase, Phase::Cleared { .. }));
		assert_eq!(awards(), expected.awards);
		// The DSO's 5 kW in slot 0 come first; PoD 12 lies outside zone 1.
		assert_eq!(
			awards()
				.iter()
				.filter(|a| a.slot == 0)
				.map(|a| (a.request, a.offer, a.quantity))
				.collect::<Vec<_>>(),
			vec![(1, 3, 1_000), (1, 4, 4_000), (2, 3, 2_000)]
		);
		let anchors = AnchorLog::get();
		let account = Market::account();
		assert_eq!(
			anchors[0],
			(
				account,
				AnchorKind::ClearingInputs,
				subject(SESSION),
				root,
				8
			)
		);
		assert_eq!(anchors[1].1, AnchorKind::MarketOutcome);
		assert_eq!(Some(anchors[1].3), info.outcome_root);
		assert!(market_events().iter().any(|e| matches!(
			e,
			Event::StepCleared {
				step: 0,
				awards: 3,
				dso_volume: 5_000,
				tso_volume: 2_000,
				method: Some(Method::Exact),
				..
			}
		)));
		assert!(market_events().iter().any(|e| matches!(
			e,
			Event::Awarded {
				award: AwardRef { step: 0, index: 1 },
				request: 1,
				offer: 4,
				quantity: 4_000,
				price: 70,
				validator: DSO_A,
				..
			}
		)));
		check_state();
	});
}

#[test]
fn the_gate_drops_what_the_registry_no_longer_supports() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// PoD 10 passes to AGG_B, PoD 12 leaves the registry, and the TSO is suspended.
		PodTable::mutate(|t| {
			t.iter_mut().for_each(|p| {
				if p.0 == 10 {
					p.2 = Some(AGG_B)
				}
			});
			t.retain(|p| p.0 != 12);
		});
		Roles::mutate(|r| r.retain(|(a, _)| *a != TSO));
		run_block_at(GATE);
		let dropped: Vec<_> = market_events()
			.into_iter()
			.filter_map(|e| match e {
				Event::ItemDropped { id, reason, .. } => Some((id, reason)),
				_ => None,
			})
			.collect();
		assert_eq!(
			dropped,
			vec![
				(2, DropReason::NoLongerEligible),
				(3, DropReason::PodChanged),
				(5, DropReason::PodChanged)
			]
		);
		let info = Sessions::<Test>::get(SESSION).expect("session");
		assert_eq!((info.requests, info.offers), (1, 1));
		assert!(awards().iter().all(|a| a.offer == 4 && a.request == 1));
		check_state();
	});
}

#[test]
fn a_request_whose_area_left_the_registry_is_dropped() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		assert_ok!(Market::submit_request(
			signed(DSO_B),
			SESSION,
			request(3, 1, 0, &[(0, 1)])
		));
		AreaTable::mutate(|t| t.retain(|a| a.0 != 3));
		run_block_at(GATE);
		assert!(market_events().contains(&Event::ItemDropped {
			session: SESSION,
			id: 1,
			reason: DropReason::AreaGone,
		}));
		check_state();
	});
}

#[test]
fn the_area_snapshot_is_bounded() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		// MaxAreas = 8: seven top-level areas of the TSO, one request each, then a request in
		// feeder 2, whose path (2, 1) would make nine.
		AreaTable::mutate(|t| (20..27).for_each(|a| t.push((a, None, TSO))));
		for a in 20..27 {
			assert_ok!(Market::submit_request(
				signed(TSO),
				SESSION,
				request(a, 1, 0, &[(0, 1)])
			));
		}
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(2, 1, 0, &[(0, 1)])
		));
		run_block_at(GATE);
		assert!(market_events().contains(&Event::ItemDropped {
			session: SESSION,
			id: 8,
			reason: DropReason::TooManyAreas,
		}));
		assert_eq!(SessionAreas::<Test>::get(SESSION).map(|a| a.len()), Some(7));
		check_state();
	});
}

#[test]
fn an_item_nested_deeper_than_the_path_bound_is_dropped() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		// MaxAreaPath = 2: area 5 under feeder 2 under area 1 has a path of three, which would
		// let an offer there feed more ladders than `StepAwardBound` counts on.
		AreaTable::mutate(|t| t.push((5, Some(2), DSO_A)));
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(5, 1, 0, &[(0, 1)])
		));
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(2, 1, 0, &[(0, 1)])
		));
		run_block_at(GATE);
		assert!(market_events().contains(&Event::ItemDropped {
			session: SESSION,
			id: 1,
			reason: DropReason::AreaTooDeep,
		}));
		assert_eq!(SessionAreas::<Test>::get(SESSION).map(|a| a.len()), Some(2));
		check_state();
	});
}

#[test]
fn a_small_budget_spreads_the_steps_over_blocks_in_order() {
	let cleared_at_once = ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		awards()
	});
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// Room for the hook's base, an opening and the sealing: a few clearing steps per block.
		let budget = <() as crate::WeightInfo>::hook_base()
			.saturating_add(<() as crate::WeightInfo>::hook_per_session().saturating_mul(2))
			.saturating_add(<() as crate::WeightInfo>::open_session())
			.saturating_add(<() as crate::WeightInfo>::seal_chunk(3, 8));
		HookBudget::set(budget);
		let mut block = 0;
		let mut steps_per_block = Vec::new();
		while !matches!(phase(), Phase::Cleared { .. }) {
			System::reset_events();
			NowMs::set(GATE + block * 6_000);
			let n = System::block_number() + 1;
			System::set_block_number(n);
			assert!(Market::on_initialize(n).all_lte(budget));
			block += 1;
			let cleared: Vec<StepIndex> = market_events()
				.iter()
				.filter_map(|e| match e {
					Event::StepCleared { step, .. } => Some(*step),
					_ => None,
				})
				.collect();
			steps_per_block.push(cleared);
			assert!(block < 50, "clearing never finished");
		}
		// Spread over several blocks, each step once and in order.
		assert!(steps_per_block.iter().filter(|s| !s.is_empty()).count() >= 2);
		assert_eq!(steps_per_block.concat(), (0..8).collect::<Vec<_>>());
		assert_eq!(awards(), cleared_at_once);
		check_state();
	});
}

/// Runs one block at `now` with `budget`; the market's events in it.
fn block_with(budget: Weight, now: u64) -> Vec<Event<Test>> {
	System::reset_events();
	NowMs::set(now);
	let n = System::block_number() + 1;
	System::set_block_number(n);
	assert!(Market::on_initialize(n).all_lte(budget));
	market_events()
}

#[test]
fn the_gate_seals_in_bounded_steps_over_blocks_and_checks_each_item_in_its_own() {
	// FR_MP_I_1 and the scale: gate closure checks `SealChunk` (3) ids per step.
	let one_go = ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		(
			awards(),
			Sessions::<Test>::get(SESSION).and_then(|i| i.input_root),
		)
	});
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		let budget = <() as crate::WeightInfo>::hook_base()
			.saturating_add(<() as crate::WeightInfo>::hook_per_session().saturating_mul(3))
			.saturating_add(<() as crate::WeightInfo>::open_session())
			.saturating_add(<() as crate::WeightInfo>::seal_chunk(3, 8));
		HookBudget::set(budget);
		// Block 1 at the gate: ids 1..=3 checked and sealed, nothing more.
		let events = block_with(budget, GATE);
		assert!(events
			.iter()
			.all(|e| !matches!(e, Event::GateClosed { .. })));
		assert_eq!(
			phase(),
			Phase::Sealing {
				checked: 3,
				kept: 3
			}
		);
		check_state();
		// Items are frozen from the gate's time on, whatever step sealing is at.
		assert_noop!(
			Market::withdraw_offer(signed(AGG_B), SESSION, 5),
			Error::<Test>::GateClosed
		);
		assert_noop!(
			Market::submit_offer(signed(AGG_B), SESSION, offer(12, 10, 0, &[(0, 1)])),
			Error::<Test>::GateClosed
		);
		// PoD 12 leaves the registry between the steps: offer 5, in the second, is dropped.
		let pods = PodTable::get();
		PodTable::mutate(|t| t.retain(|p| p.0 != 12));
		// The second step (two ids) leaves room for the last, which takes the root over the
		// snapshot and the kept items.
		let events = block_with(budget, GATE + 6_000);
		assert_eq!(
			events.first(),
			Some(&Event::ItemDropped {
				session: SESSION,
				id: 5,
				reason: DropReason::PodChanged
			})
		);
		PodTable::set(pods);
		let info = Sessions::<Test>::get(SESSION).expect("session");
		let areas = SessionAreas::<Test>::get(SESSION)
			.expect("snapshot")
			.into_inner();
		let requests: Vec<_> = Requests::<Test>::iter_prefix(SESSION).collect();
		let offers: Vec<_> = Offers::<Test>::iter_prefix(SESSION).collect();
		let root = crate::derive::root_of(&crate::derive::input_leaves(&areas, requests, offers));
		assert_eq!(info.input_root, Some(root));
		assert!(events.contains(&Event::GateClosed {
			session: SESSION,
			requests: 2,
			offers: 2,
			input_root: root
		}));
		assert_eq!(SealLeaves::<Test>::iter_prefix(SESSION).count(), 0);
		check_state();
		// Without offer 5 the outcome differs from the one-block gate's; with it, see below.
		assert_ne!(info.input_root, one_go.1);
		HookBudget::set(Weight::from_parts(2_000_000_000_000, u64::MAX));
		run_block_at(GATE + 18_000);
		assert!(matches!(phase(), Phase::Cleared { .. }));
		assert!(awards().iter().all(|a| a.offer != 5));
		// Clearing removed the sealed chunks.
		assert_eq!(SealedItems::<Test>::iter_prefix(SESSION).count(), 0);
		assert_eq!(StepPower::<Test>::iter_prefix(SESSION).count(), 0);
		check_state();
	});
	// Spread over blocks with nothing dropped, the gate seals what it seals in one.
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		let budget = <() as crate::WeightInfo>::hook_base()
			.saturating_add(<() as crate::WeightInfo>::hook_per_session().saturating_mul(3))
			.saturating_add(<() as crate::WeightInfo>::open_session())
			.saturating_add(<() as crate::WeightInfo>::seal_chunk(3, 8));
		HookBudget::set(budget);
		for b in 0..3 {
			block_with(budget, GATE + b * 6_000);
		}
		assert!(matches!(phase(), Phase::GateClosed { .. }));
		HookBudget::set(Weight::from_parts(2_000_000_000_000, u64::MAX));
		run_block_at(GATE + 18_000);
		let info = Sessions::<Test>::get(SESSION).expect("session");
		assert_eq!((awards(), info.input_root), one_go);
	});
}

#[test]
fn gate_closure_lowers_a_sessions_exact_limit_to_what_a_clearing_step_can_spend() {
	use crate::WeightInfo;
	ExtBuilder::default().build().execute_with(|| {
		// The mock's ExactLimit, 4, fits its default budget at the bounds.
		assert_eq!(Market::exact_limit_for(8, 16, 4), 4);
		let overhead = <() as WeightInfo>::hook_base()
			.saturating_add(<() as WeightInfo>::hook_per_session().saturating_mul(3));
		let step = |l: u8| Market::clear_weight(2, 3, l);
		HookBudget::set(overhead.saturating_add(step(1)));
		assert_eq!(Market::exact_limit_for(2, 3, 4), 1);
		HookBudget::set(overhead.saturating_add(step(0)));
		assert_eq!(Market::exact_limit_for(2, 3, 4), 0);
		// Set at gate closure, for every step of the session and its audit.
		open_with_book();
		HookBudget::set(overhead.saturating_add(step(1)));
		NowMs::set(GATE);
		let mut info = Sessions::<Test>::get(SESSION).expect("session");
		assert_eq!(info.exact_limit, 4);
		Market::seal_step(SESSION, &mut info, 0, 0, 5);
		Market::seal_finish(SESSION, &mut info, 5);
		assert_eq!(info.exact_limit, 1);
	});
}

#[test]
fn a_step_that_does_not_fit_now_does_not_hold_back_younger_sessions() {
	use crate::WeightInfo;
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// Session 2 opens half an hour before session 1's gate; no block runs after that
		// until session 2's gate, an hour after session 1's.
		run_block_at(GATE - 20 * MINUTE);
		assert_eq!(LastSession::<Test>::get(), 2);
		let overhead = <() as WeightInfo>::hook_base()
			.saturating_add(<() as WeightInfo>::hook_per_session().saturating_mul(3));
		// Room for session 1's first sealing step alone; this block also opens session 3.
		let budget = overhead.saturating_add(<() as WeightInfo>::seal_chunk(3, 8));
		HookBudget::set(budget);
		block_with(budget, GATE + HOUR);
		assert_eq!(LastSession::<Test>::get(), 3);
		assert_eq!(
			phase(),
			Phase::Open,
			"session 1's step waits for the next block"
		);
		let two = Sessions::<Test>::get(2).expect("session 2").phase;
		assert!(
			!matches!(two, Phase::Open | Phase::Sealing { .. }),
			"session 2, younger, sealed its empty book: {two:?}"
		);
		block_with(budget, GATE + HOUR + 6_000);
		assert!(matches!(phase(), Phase::Sealing { .. }));
		check_state();
	});
}

#[test]
fn a_step_that_could_never_fit_runs_alone_in_a_block() {
	use crate::WeightInfo;
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		NowMs::set(GATE);
		let mut info = Sessions::<Test>::get(SESSION).expect("session");
		Market::seal_step(SESSION, &mut info, 0, 0, 5);
		Market::seal_finish(SESSION, &mut info, 5);
		assert_eq!(info.exact_limit, 4);
		Sessions::<Test>::insert(SESSION, info);
		// Weights raised after gate closure fixed the exact limit: a clearing step at 4 no
		// longer fits any block's budget.
		let overhead = <() as WeightInfo>::hook_base()
			.saturating_add(<() as WeightInfo>::hook_per_session().saturating_mul(3));
		let budget = overhead.saturating_add(Market::clear_weight(2, 3, 0));
		HookBudget::set(budget);
		for b in 0..2u64 {
			System::reset_events();
			NowMs::set(GATE + b * 6_000);
			let n = System::block_number() + 1;
			System::set_block_number(n);
			assert!(
				!Market::on_initialize(n).all_lte(budget),
				"over its budget, once"
			);
			let cleared = market_events()
				.iter()
				.filter(|e| matches!(e, Event::StepCleared { .. }))
				.count();
			assert_eq!(cleared, 1, "one step per block, the block's only one");
		}
		assert_eq!(phase(), Phase::GateClosed { next: 2 });
		check_state();
	});
}

#[test]
fn validate_reads_a_steps_awards_once_per_run_of_answers_in_it() {
	let at = |step, index| (AwardRef { step, index }, Light::Green);
	assert_eq!(Market::step_loads(&[]), 0);
	assert_eq!(Market::step_loads(&[at(0, 0), at(0, 1), at(2, 0)]), 2);
	assert_eq!(Market::step_loads(&[at(2, 0), at(0, 1), at(2, 1)]), 3);
}

#[test]
fn a_step_reads_its_sealed_input_which_is_the_one_the_items_give() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// A withdrawn id leaves a gap; a late request lands in the second chunk.
		assert_ok!(Market::withdraw_offer(signed(AGG_A), SESSION, 4));
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(1, 90, 1_000, &[(1, 2_000), (3, 1_000)])
		));
		NowMs::set(GATE);
		let mut info = Sessions::<Test>::get(SESSION).expect("session");
		let (mut checked, mut kept) = (0, 0);
		while checked < info.last_item {
			Market::seal_step(SESSION, &mut info, checked, kept, 3);
			let Phase::Sealing {
				checked: c,
				kept: k,
			} = info.phase
			else {
				panic!("sealing");
			};
			(checked, kept) = (c, k);
		}
		Market::seal_finish(SESSION, &mut info, kept);
		Sessions::<Test>::insert(SESSION, info.clone());
		assert_eq!(SealedItems::<Test>::iter_prefix(SESSION).count(), 2);
		for step in 0..info.steps() {
			let sealed = Market::step_market(SESSION, &info, step);
			assert_eq!(sealed, Market::step_market_from_items(SESSION, &info, step));
		}
		// A corrupt chunk is caught.
		SealedItems::<Test>::mutate(SESSION, 0, |c| {
			if let Some(SealedItem::Request { max_price, .. }) =
				c.as_mut().and_then(|c| c.get_mut(0))
			{
				*max_price += 1;
			}
		});
		assert!(Market::do_try_state().is_err());
	});
}

#[test]
fn the_v2_migration_seals_the_chunks_of_a_session_sealed_before_it() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	let unmigrated = ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		awards()
	});
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		// Sealed and step 0 cleared under v1 (which kept no chunks).
		NowMs::set(GATE);
		let mut info = Sessions::<Test>::get(SESSION).expect("session");
		Market::seal_step(SESSION, &mut info, 0, 0, 5);
		let Phase::Sealing { kept, .. } = info.phase else {
			panic!("sealing");
		};
		Market::seal_finish(SESSION, &mut info, kept);
		Market::clear_step(SESSION, &mut info, 0);
		info.phase = Phase::GateClosed { next: 1 };
		Sessions::<Test>::insert(SESSION, info);
		let _ = SealedItems::<Test>::clear_prefix(SESSION, u32::MAX, None);
		let _ = StepPower::<Test>::clear_prefix(SESSION, u32::MAX, None);
		StorageVersion::new(1).put::<Market>();
		assert!(Market::do_try_state().is_err(), "v1 state lacks the chunks");
		let weight = crate::migrations::v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
		assert!(weight.ref_time() > 0);
		assert_eq!(Market::on_chain_storage_version(), 2);
		// Step 0, cleared before, gets no power again; the others read their inputs.
		assert!(!StepPower::<Test>::contains_key(SESSION, (0, 0)));
		check_state();
		run_block_at(GATE + 6_000);
		assert!(matches!(phase(), Phase::Cleared { .. }));
		assert_eq!(awards(), unmigrated);
		check_state();
	});
}

// ---- validation and results (FR-MP-MOMV-02/03/04) ----
// ---- validation and results (FR-MP-MOMV-02/03/04) ----

fn answers(v: &[(StepIndex, u32, Light)]) -> AnswersOf<Test> {
	BoundedVec::truncate_from(
		v.iter()
			.map(|&(step, index, light)| (AwardRef { step, index }, light))
			.collect(),
	)
}

#[test]
fn validators_answer_their_own_awards_with_a_traffic_light() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		assert_noop!(
			Market::validate(signed(DSO_A), SESSION, answers(&[(0, 0, Light::Green)])),
			Error::<Test>::NotValidating
		);
		run_block_at(GATE);
		let Phase::Cleared {
			deadline_ms,
			pending,
		} = phase()
		else {
			panic!("cleared");
		};
		assert_eq!(deadline_ms, GATE + 30 * MINUTE);
		// Slot 0: three awards (step 0); slot 1: one (step 2).
		assert_eq!(pending, 4);
		assert_noop!(
			Market::validate(signed(DSO_A), 9, answers(&[(0, 0, Light::Green)])),
			Error::<Test>::UnknownSession
		);
		assert_noop!(
			Market::validate(signed(AGG_A), SESSION, answers(&[(0, 0, Light::Green)])),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Market::validate(signed(DSO_B), SESSION, answers(&[(0, 0, Light::Green)])),
			Error::<Test>::NotValidator
		);
		assert_noop!(
			Market::validate(signed(DSO_A), SESSION, answers(&[(0, 7, Light::Green)])),
			Error::<Test>::UnknownAward
		);
		assert_noop!(
			Market::validate(signed(DSO_A), SESSION, answers(&[(1, 0, Light::Green)])),
			Error::<Test>::UnknownAward
		);
		assert_noop!(
			Market::validate(
				signed(DSO_A),
				SESSION,
				answers(&[(0, 1, Light::Green), (0, 0, Light::Green)])
			),
			Error::<Test>::UnsortedAnswers
		);
		for cut in [0, 1_000, 4_000] {
			assert_noop!(
				Market::validate(
					signed(DSO_A),
					SESSION,
					answers(&[(0, 0, Light::Yellow(cut))])
				),
				Error::<Test>::BadCut
			);
		}
		assert_ok!(Market::validate(
			signed(DSO_A),
			SESSION,
			answers(&[
				(0, 0, Light::Yellow(500)),
				(0, 1, Light::Green),
				(0, 2, Light::Red)
			])
		));
		assert!(market_events().contains(&Event::Answered {
			session: SESSION,
			award: AwardRef { step: 0, index: 0 },
			light: Light::Yellow(500),
		}));
		assert_noop!(
			Market::validate(signed(DSO_A), SESSION, answers(&[(0, 1, Light::Red)])),
			Error::<Test>::AlreadyAnswered
		);
		assert!(matches!(phase(), Phase::Cleared { pending: 1, .. }));
		check_state();
		// Past the deadline, before the hook ran: refused.
		NowMs::set(deadline_ms);
		assert_noop!(
			Market::validate(signed(DSO_A), SESSION, answers(&[(2, 0, Light::Green)])),
			Error::<Test>::ValidationClosed
		);
		// The hook closes validation: the unanswered award takes the default (red).
		run_block_at(deadline_ms);
		assert_eq!(phase(), Phase::Final);
		assert!(market_events()
			.iter()
			.any(|e| matches!(e, Event::Validated { defaulted: 1, .. })));
		assert!(market_events().contains(&Event::SessionFinal { session: SESSION }));
		assert!(!Live::<Test>::get().contains(&SESSION));
		let anchors = AnchorLog::get();
		assert_eq!(
			anchors.last().map(|a| a.1),
			Some(AnchorKind::TechnicalValidation)
		);
		let results = Market::results_of(SESSION, &AGG_A);
		let finals: Vec<_> = results
			.iter()
			.map(|r| (r.award_ref.step, r.light, r.quantity))
			.collect();
		assert_eq!(
			finals,
			vec![
				(0, Some(Light::Yellow(500)), 500),
				(0, Some(Light::Green), 4_000),
				(0, Some(Light::Red), 0),
				(2, Some(Light::Red), 0),
			]
		);
		// The TSO sees its one award; AGG_B, whose offer lay outside zone 1, none.
		assert_eq!(Market::results_of(SESSION, &TSO).len(), 1);
		assert!(Market::results_of(SESSION, &AGG_B).is_empty());
		check_state();
	});
}

#[test]
fn all_answers_in_close_validation_before_the_deadline() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		assert_ok!(Market::validate(
			signed(DSO_A),
			SESSION,
			answers(&[
				(0, 0, Light::Green),
				(0, 1, Light::Green),
				(0, 2, Light::Green),
				(2, 0, Light::Green)
			])
		));
		run_block_at(GATE + 6_000);
		assert_eq!(phase(), Phase::Final);
		assert!(market_events()
			.iter()
			.any(|e| matches!(e, Event::Validated { defaulted: 0, .. })));
	});
}

#[test]
fn a_step_with_more_awards_than_a_close_chunk_closes_over_blocks_to_the_same_result() {
	// Step 0 has three awards; the mock's `CloseChunk` is two.
	let run = |budget: Option<Weight>| {
		ExtBuilder::default().build().execute_with(|| {
			open_with_book();
			run_block_at(GATE);
			assert_eq!(
				StepAwards::<Test>::get(SESSION, 0).map(|a| a.len()),
				Some(3)
			);
			assert_ok!(Market::validate(
				signed(DSO_A),
				SESSION,
				answers(&[(0, 0, Light::Green), (0, 1, Light::Red)])
			));
			let Phase::Cleared { deadline_ms, .. } = phase() else {
				panic!("cleared, not {:?}", phase());
			};
			let mut partial = 0;
			match budget {
				None => run_block_at(deadline_ms),
				Some(budget) => {
					HookBudget::set(budget);
					for b in 0..40 {
						block_with(budget, deadline_ms + b * 6_000);
						if CloseProgress::<Test>::contains_key(SESSION) {
							partial += 1;
							assert_eq!(phase(), Phase::Closing { next: 0 });
							assert_eq!(StepPods::<Test>::get(SESSION, 0).map(|p| p.len()), Some(2));
						}
						check_state();
					}
				}
			}
			assert_eq!(phase(), Phase::Final);
			assert!(!CloseProgress::<Test>::contains_key(SESSION));
			let info = Sessions::<Test>::get(SESSION).expect("session");
			// Each step's validation root is the tree over its result leaves, built at once.
			let steps: Vec<_> = (0..info.steps())
				.map(|step| {
					let leaves: Vec<ResultLeaf> = Market::step_results(SESSION, step)
						.into_iter()
						.map(|(_, l)| l)
						.collect();
					let digest = Steps::<Test>::get(SESSION, step).expect("digest");
					assert_eq!(
						digest.validation_root,
						Some(crate::derive::root_of(&leaves))
					);
					(digest, StepPods::<Test>::get(SESSION, step))
				})
				.collect();
			check_state();
			(partial, info.defaulted, info.validation_root, steps)
		})
	};
	let (partial, defaulted, root, steps) = run(None);
	assert_eq!(partial, 0);
	assert_eq!(
		defaulted,
		1 + 1,
		"award (0, 2) and step 2's award took the default"
	);
	// Room for the largest step after the clearing (one close part of two awards, or the
	// validation root), not for two close parts.
	let close = <() as crate::WeightInfo>::close_step(
		2,
		<StepAwardBound<Test> as frame_support::traits::Get<u32>>::get(),
	);
	let budget = <() as crate::WeightInfo>::hook_base()
		.saturating_add(<() as crate::WeightInfo>::hook_per_session().saturating_mul(3))
		.saturating_add(close.max(<() as crate::WeightInfo>::finalize(8)));
	assert!(!budget.all_gte(close.saturating_mul(2)));
	let spread = run(Some(budget));
	assert!(spread.0 >= 1, "step 0 closed over two blocks");
	assert_eq!((spread.1, spread.2, spread.3), (defaulted, root, steps));
}

#[test]
fn a_session_without_offers_still_goes_through_every_step() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(1, 1, 0, &[(0, 1)])
		));
		run_block_at(GATE);
		// No awards: nothing waits for validation.
		run_block_at(GATE + 6_000);
		assert_eq!(phase(), Phase::Final);
		let info = Sessions::<Test>::get(SESSION).expect("session");
		assert_eq!(info.awards, 0);
		// An empty outcome is anchored too, so that auditors tell "no awards" from "never
		// anchored".
		assert_eq!(
			AnchorLog::get().iter().map(|a| a.1).collect::<Vec<_>>(),
			vec![
				AnchorKind::ClearingInputs,
				AnchorKind::MarketOutcome,
				AnchorKind::TechnicalValidation
			]
		);
		check_state();
	});
}

// ---- proofs (FR-MP-BC-02) ----

#[test]
fn participants_prove_their_offer_was_input_and_their_award_is_in_the_outcome() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		assert!(
			Market::input_proof(SESSION, 3).is_none(),
			"nothing sealed yet"
		);
		run_block_at(GATE);
		let p = Market::input_proof(SESSION, 3).expect("offer 3 was input");
		let root = AnchorLog::get()[0].3;
		assert_eq!(p.root, root);
		assert_ok!(merkle::verify::<RuntimeHasher>(
			&root,
			&RuntimeHasher::leaf(&p.leaf),
			&p.proof
		));
		let leaf: InputLeafOf<Test> =
			codec::Decode::decode(&mut &p.leaf[..]).expect("an input leaf");
		assert!(matches!(leaf, InputLeaf::Offer { id: 3, ref offer } if offer.owner == AGG_A));
		// A changed offer does not verify.
		let mut forged = p.leaf.clone();
		*forged.last_mut().expect("non-empty") ^= 1;
		assert!(
			merkle::verify::<RuntimeHasher>(&root, &RuntimeHasher::leaf(&forged), &p.proof)
				.is_err()
		);
		assert!(Market::input_proof(SESSION, 42).is_none());

		let a = Market::award_proof(SESSION, AwardRef { step: 0, index: 1 }).expect("award");
		let outcome = AnchorLog::get()[1].3;
		assert_eq!(a.root, outcome);
		let step: StepLeaf = codec::Decode::decode(&mut &a.step_leaf[..]).expect("a step leaf");
		assert_ok!(merkle::verify::<RuntimeHasher>(
			&step.root,
			&RuntimeHasher::leaf(&a.leaf),
			&a.leaf_proof
		));
		assert_ok!(merkle::verify::<RuntimeHasher>(
			&outcome,
			&RuntimeHasher::leaf(&a.step_leaf),
			&a.step_proof
		));
		let record: AwardRecordOf<Test> =
			codec::Decode::decode(&mut &a.leaf[..]).expect("a record");
		assert_eq!((record.award.request, record.award.offer), (1, 4));
		assert!(Market::award_proof(SESSION, AwardRef { step: 1, index: 0 }).is_none());
	});
}

// ---- pruning ----

#[test]
fn final_sessions_are_pruned_after_retention_in_bounded_calls() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		assert_noop!(
			Market::prune_session(signed(STRANGER), 9),
			Error::<Test>::UnknownSession
		);
		assert_noop!(
			Market::prune_session(signed(STRANGER), SESSION),
			Error::<Test>::NotPrunable
		);
		run_block_at(GATE);
		assert_ok!(Market::validate(
			signed(DSO_A),
			SESSION,
			answers(&[(0, 0, Light::Green), (0, 1, Light::Red)])
		));
		run_block_at(GATE + 30 * MINUTE);
		assert_eq!(phase(), Phase::Final);
		// Delivery ends at DAY_D; retention is a day.
		NowMs::set(DAY_D + DAY - 1);
		assert_noop!(
			Market::prune_session(signed(STRANGER), SESSION),
			Error::<Test>::NotPrunable
		);
		NowMs::set(DAY_D + DAY);
		// Old sessions are pruned after settlement, never before (issue #13).
		Unsettled::set(vec![SESSION]);
		assert_noop!(
			Market::prune_session(signed(STRANGER), SESSION),
			Error::<Test>::NotSettled
		);
		Unsettled::set(Vec::new());
		// The settlement's 7 records of the session go first, in the same budget of 5.
		SettlementRecords::set(7);
		let offers = Offers::<Test>::iter_prefix(SESSION).count();
		let mut calls = 0;
		loop {
			System::reset_events();
			assert_ok!(Market::prune_session(signed(STRANGER), SESSION));
			calls += 1;
			if calls == 1 {
				assert_eq!(SettlementRecords::get(), 2);
				assert_eq!(Offers::<Test>::iter_prefix(SESSION).count(), offers);
			}
			// Half pruned, it serves no results or proofs, and the invariants still hold.
			check_state();
			if Sessions::<Test>::get(SESSION).is_some() {
				assert_eq!(phase(), Phase::Pruning);
				assert!(Market::results_of(SESSION, &AGG_A).is_empty());
				assert!(Market::input_proof(SESSION, 3).is_none());
			}
			if market_events().contains(&Event::SessionPruned {
				session: SESSION,
				complete: true,
			}) {
				break;
			}
			assert!(calls < 10);
		}
		// 7 settlement records, 2 answers, 2 steps' awards and their 2 PoD shares, 8 digests,
		// 3 offers and 2 requests: 26 entries, 5 per call.
		assert_eq!(calls, 6);
		assert_eq!(SettlementRecords::get(), 0);
		assert_eq!(Answers::<Test>::iter_prefix(SESSION).count(), 0);
		assert!(Sessions::<Test>::get(SESSION).is_none());
		assert_eq!(Offers::<Test>::iter_prefix(SESSION).count(), 0);
		assert_eq!(Steps::<Test>::iter_prefix(SESSION).count(), 0);
		assert_eq!(StepPods::<Test>::iter_prefix(SESSION).count(), 0);
		check_state();
	});
}

// ---- the hook's bounds ----

#[test]
fn the_hook_never_exceeds_its_budget() {
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		let budget = Weight::from_parts(60_000_000_000, u64::MAX);
		HookBudget::set(budget);
		Market::integrity_test();
		for b in 0..400 {
			NowMs::set(GATE + b * 6_000);
			let n = System::block_number() + 1;
			System::set_block_number(n);
			assert!(Market::on_initialize(n).all_lte(budget));
		}
		// And the session got through, within that budget.
		assert_eq!(phase(), Phase::Final);
	});
}

#[test]
#[should_panic(expected = "the hook budget must hold the worst-case")]
fn a_budget_without_room_for_the_hooks_overhead_fails_the_integrity_test() {
	ExtBuilder::default().build().execute_with(|| {
		// Exactly the worst step, nothing for the hook's own reads: that step would never run.
		let worst = Market::worst_steps()
			.into_iter()
			.map(|(_, w)| w)
			.fold(Weight::zero(), |a, w| a.max(w));
		HookBudget::set(worst);
		Market::integrity_test();
	});
}

#[test]
fn block_one_has_no_clock_and_opens_nothing() {
	ExtBuilder::default().build().execute_with(|| {
		run_block_at(0);
		assert_eq!(LastSession::<Test>::get(), 0);
		assert!(!market_events()
			.iter()
			.any(|e| matches!(e, Event::SessionOpened { .. } | Event::PeriodsMissed { .. })));
	});
}

#[test]
fn a_schedule_set_again_never_opens_a_second_session_for_a_period() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		NowMs::set(DAY_D - 2 * HOUR - 45 * MINUTE);
		assert_ok!(Market::set_schedule(
			RuntimeOrigin::root(),
			SessionKind::DayAhead,
			Some(hourly())
		));
		assert_ok!(Market::set_schedule(
			RuntimeOrigin::root(),
			SessionKind::DayAhead,
			None
		));
		assert_ok!(Market::set_schedule(
			RuntimeOrigin::root(),
			SessionKind::DayAhead,
			Some(hourly())
		));
		for b in 0..300 {
			run_block_at(DAY_D - 2 * HOUR - 45 * MINUTE + b * 60_000);
		}
		let mut starts: Vec<u64> = Sessions::<Test>::iter()
			.map(|(_, s)| s.delivery_start_ms)
			.collect();
		let n = starts.len();
		starts.sort();
		starts.dedup();
		assert_eq!(starts.len(), n, "two sessions for one period");
		assert!(n >= 3);
		check_state();
	});
}

#[test]
fn roles_are_read_from_the_registry_at_every_call() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		Roles::mutate(|r| r.retain(|(a, _)| *a != DSO_A));
		assert_noop!(
			Market::submit_request(signed(DSO_A), SESSION, request(1, 1, 0, &[(0, 1)])),
			DispatchError::BadOrigin
		);
		Roles::mutate(|r| r.push((DSO_A, roles::DSO)));
		assert_ok!(Market::submit_request(
			signed(DSO_A),
			SESSION,
			request(1, 1, 0, &[(0, 1)])
		));
	});
}

// ---- audit (FR-MP-BC-02) ----

/// Session 1's records as an auditor reads them off the chain.
fn records() -> crate::audit::Records<u64, QuantitiesOf<Test>> {
	let info = Sessions::<Test>::get(SESSION).expect("session 1 exists");
	crate::audit::Records {
		areas: SessionAreas::<Test>::get(SESSION)
			.unwrap_or_default()
			.into_inner(),
		requests: Requests::<Test>::iter_prefix(SESSION).collect(),
		offers: Offers::<Test>::iter_prefix(SESSION).collect(),
		steps: (0..info.steps())
			.map(|s| {
				(
					Steps::<Test>::get(SESSION, s),
					StepAwards::<Test>::get(SESSION, s)
						.unwrap_or_default()
						.into_inner(),
				)
			})
			.collect(),
		answers: Answers::<Test>::iter_prefix(SESSION).collect(),
		anchors: AnchorLog::get()
			.into_iter()
			.filter(|a| a.2 == subject(SESSION))
			.map(|(by, kind, _, digest, leaves)| (kind, digest, leaves, by))
			.collect(),
		info,
	}
}

fn audit(r: &crate::audit::Records<u64, QuantitiesOf<Test>>) -> crate::audit::Report {
	crate::audit::audit(r, DefaultAnswer::get(), &Market::account())
}

fn findings(r: &crate::audit::Records<u64, QuantitiesOf<Test>>) -> Vec<crate::audit::Finding> {
	let mut f: Vec<_> = audit(r).differences.iter().map(|d| d.finding).collect();
	f.dedup();
	f
}

#[test]
fn an_audit_recomputes_the_session_and_finds_every_change() {
	use crate::audit::Finding;
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		let r = audit(&records());
		assert!(r.is_clean() && r.steps_cleared == 0, "{r:?}");
		assert_eq!(
			r.pending,
			vec!["the gate has not closed: nothing is sealed yet"]
		);
		run_block_at(GATE);
		let r = audit(&records());
		assert!(r.is_clean(), "{r:?}");
		assert_eq!(r.steps_cleared, 8);
		assert_eq!(r.pending, vec!["validation is still open"]);
		assert_ok!(Market::validate(
			signed(DSO_A),
			SESSION,
			answers(&[(0, 0, Light::Yellow(500)), (0, 1, Light::Green)])
		));
		run_block_at(GATE + 30 * MINUTE);
		assert_eq!(phase(), Phase::Final);
		let clean = records();
		let r = audit(&clean);
		assert!(r.is_clean(), "{r:?}");
		assert_eq!((r.steps_cleared, r.steps_validated, r.awards), (8, 8, 4));
		assert!(r.pending.is_empty());

		// An award changed: the clearing and the step's root disagree.
		let mut r = clean.clone();
		r.steps[0].1[1].award.quantity += 1;
		assert_eq!(
			findings(&r),
			vec![Finding::Award, Finding::Step, Finding::Validation]
		);
		// An offer changed after sealing: the input root disagrees.
		let mut r = clean.clone();
		r.offers[0].1.input.price += 1;
		assert!(findings(&r).starts_with(&[Finding::Input]));
		// An award without its answer: the validation roots disagree.
		let mut r = clean.clone();
		r.answers.clear();
		assert_eq!(findings(&r), vec![Finding::Validation]);
		// A different digest at the step: the outcome root disagrees.
		let mut r = clean.clone();
		r.steps[2]
			.0
			.as_mut()
			.expect("step 2 has a digest")
			.outcome_root = [7; 32];
		assert_eq!(findings(&r), vec![Finding::Step, Finding::Outcome]);
		// An anchor missing, or anchored by someone else.
		let mut r = clean.clone();
		r.anchors.retain(|a| a.0 != AnchorKind::MarketOutcome);
		assert_eq!(findings(&r), vec![Finding::Anchor]);
		let mut r = clean.clone();
		r.anchors[0].3 = DSO_A;
		assert_eq!(findings(&r), vec![Finding::Anchor]);
		// A dropped request: counts and input disagree.
		let mut r = clean;
		r.requests.pop();
		assert!(findings(&r).starts_with(&[Finding::Count, Finding::Input]));
	});
}

#[test]
fn a_session_without_items_audits_clean_without_an_input_anchor() {
	ExtBuilder::default().build().execute_with(|| {
		open();
		run_block_at(GATE);
		run_block_at(GATE + 6_000);
		assert_eq!(phase(), Phase::Final);
		let r = records();
		assert!(!r.anchors.iter().any(|a| a.0 == AnchorKind::ClearingInputs));
		let report = audit(&r);
		assert!(report.is_clean() && report.pending.is_empty(), "{report:?}");
		assert_eq!(report.steps_validated, 8);
	});
}

#[test]
fn settlement_reads_each_awards_pod_share_kept_when_its_step_closed() {
	use crate::derive;
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		let Phase::Cleared { deadline_ms, .. } = phase() else {
			panic!("cleared at the gate, not {:?}", phase());
		};
		// Offer 3 (PoD 10) serves both requests in slot 0. Its second award follows the first's
		// validated power, so a yellow cut on the first moves where the second starts.
		let step0 = StepAwards::<Test>::get(SESSION, 0).expect("slot 0 cleared");
		let pod10: Vec<u32> = (0..step0.len() as u32)
			.filter(|&i| step0[i as usize].award.offer == 3)
			.collect();
		assert_eq!(pod10.len(), 2, "offer 3 serves the DSO and the TSO");
		assert_ok!(Market::validate(
			signed(DSO_A),
			SESSION,
			answers(&[(0, pod10[0], Light::Yellow(500))])
		));
		assert!(
			StepPods::<Test>::get(SESSION, 0).is_none(),
			"kept only at closing"
		);
		run_block_at(deadline_ms);
		assert_eq!(phase(), Phase::Final);
		let info = Sessions::<Test>::get(SESSION).expect("session 1");
		for step in 0..info.steps() {
			let records = StepAwards::<Test>::get(SESSION, step).unwrap_or_default();
			let shares = StepPods::<Test>::get(SESSION, step).unwrap_or_default();
			assert_eq!(shares.len(), records.len());
			// What `platone audit settlement` derives from every award and answer of the step.
			let audited = derive::settled_awards(
				step,
				&records,
				|id| Offers::<Test>::get(SESSION, id).map(|o| (o.owner, o.input.pod)),
				|id| Requests::<Test>::get(SESSION, id).map(|r| r.owner),
				|at| Answers::<Test>::get(SESSION, at),
				DefaultAnswer::get(),
			);
			for (index, audited) in audited.into_iter().enumerate() {
				let award = AwardRef {
					step,
					index: index as u32,
				};
				assert_eq!(
					<Market as MarketView<u64>>::final_award(SESSION, award),
					audited
				);
			}
		}
		let second = <Market as MarketView<u64>>::final_award(
			SESSION,
			AwardRef {
				step: 0,
				index: pod10[1],
			},
		)
		.expect("a final award");
		assert_eq!((second.pod, second.pod_before), (10, 500));
		// A batch, steps interleaved and an unknown award among them, reads as one by one.
		let mut batch: Vec<AwardRef> = (0..info.steps())
			.flat_map(|step| {
				let n = StepAwards::<Test>::get(SESSION, step).map_or(0, |a| a.len() as u32);
				(0..=n).map(move |index| AwardRef { step, index })
			})
			.collect();
		batch.swap(0, 3);
		let one_by_one: Vec<_> = batch
			.iter()
			.map(|a| <Market as MarketView<u64>>::final_award(SESSION, *a))
			.collect();
		assert!(one_by_one.iter().any(Option::is_none));
		assert_eq!(
			<Market as MarketView<u64>>::final_awards(SESSION, &batch),
			one_by_one
		);
		assert_eq!(
			<Market as MarketView<u64>>::final_awards(SESSION + 1, &batch),
			vec![None; batch.len()]
		);
		check_state();
	});
}

#[test]
fn the_v1_migration_keeps_the_pod_shares_of_steps_closed_before_it() {
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	ExtBuilder::default().build().execute_with(|| {
		open_with_book();
		run_block_at(GATE);
		let Phase::Cleared { deadline_ms, .. } = phase() else {
			panic!("cleared at the gate, not {:?}", phase());
		};
		run_block_at(deadline_ms);
		assert_eq!(phase(), Phase::Final);
		let mut kept: Vec<_> = StepPods::<Test>::iter_prefix(SESSION).collect();
		assert!(!kept.is_empty());
		// As v0 left it: no PoD shares.
		let _ = StepPods::<Test>::clear_prefix(SESSION, u32::MAX, None);
		StorageVersion::new(0).put::<Market>();
		assert!(Market::do_try_state().is_err(), "v0 state lacks the shares");
		let weight = crate::migrations::v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert!(weight.ref_time() > 0);
		let mut again: Vec<_> = StepPods::<Test>::iter_prefix(SESSION).collect();
		kept.sort_by_key(|(step, _)| *step);
		again.sort_by_key(|(step, _)| *step);
		assert_eq!(again, kept);
		assert_eq!(Market::on_chain_storage_version(), 1);
		check_state();
	});
}

#[test]
fn a_tso_request_in_its_control_area_is_served_from_a_dso_zone_in_it() {
	ExtBuilder::default().build().execute_with(|| {
		// DSO B's zone 3 registered inside the TSO's control area 4, as the registry allows.
		AreaTable::mutate(|t| {
			for a in t.iter_mut().filter(|a| a.0 == 3) {
				a.1 = Some(4);
			}
		});
		open();
		assert_ok!(Market::submit_request(
			signed(TSO),
			SESSION,
			request(4, 100, 0, &[(0, 2_000)])
		));
		assert_ok!(Market::submit_offer(
			signed(AGG_B),
			SESSION,
			offer(12, 10, 0, &[(0, 9_000)])
		));
		run_block_at(GATE);
		let step0 = StepAwards::<Test>::get(SESSION, 0).expect("slot 0 cleared");
		assert_eq!(step0.len(), 1);
		assert_eq!(
			(
				step0[0].award.request,
				step0[0].award.offer,
				step0[0].award.quantity
			),
			(1, 2, 2_000)
		);
		// The zone's DSO validates the award on its grid, not the TSO that asked.
		assert_eq!(step0[0].validator, DSO_B);
		assert_noop!(
			Market::validate(signed(TSO), SESSION, answers(&[(0, 0, Light::Green)])),
			Error::<Test>::NotValidator
		);
		assert_ok!(Market::validate(
			signed(DSO_B),
			SESSION,
			answers(&[(0, 0, Light::Green)])
		));
		check_state();
	});
}
