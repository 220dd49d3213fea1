//! Settlement tests (FR-MP-SET-01..06): every refusal with `assert_noop!`, each step's event,
//! the figures of each settlement rule worked by hand, and token conservation over random
//! sessions (property test).

use crate::{baseline::Day, mock::*, pallet::*, types::*, Error};
use frame_support::{
	assert_noop, assert_ok, traits::fungible::Inspect, weights::Weight, BoundedVec,
};
use pallet_market::{Phase, SettledAward};
use platone_primitives::{
	Accumulation, AnchorKind, EnergyQuantity, MeasurementProof, ReadingQuality, Window,
};
use sp_runtime::{DispatchError, Permill};

use EnergyQuantity::{ActiveExportWh as Exp, ActiveImportWh as Imp};

type Readings = Vec<(u64, Window, MeasurementProof)>;

fn signed(who: u64) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn root() -> RuntimeOrigin {
	RuntimeOrigin::root()
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event").event
}

fn has_event(e: Event<Test>) -> bool {
	System::events()
		.iter()
		.any(|r| r.event == RuntimeEvent::Settlement(e.clone()))
}

/// Whether a dispute's deposit was paid out so (unfounded: `upheld` false).
fn deposit_settled(award: AwardRef, to: u64, amount: u128, upheld: bool) -> bool {
	has_event(Event::DepositSettled {
		session: 1,
		award,
		to,
		amount,
		upheld,
	})
}

fn slot_start(slot: Slot) -> u64 {
	DAY_D + u64::from(slot) * SLOT_MS
}

/// The gateway's window that certifies the day's first slots: two hours, since a delta that
/// ends with its slot is certified in the window after the slot's own.
fn slot_window(_slot: Slot) -> Window {
	Window {
		start_ms: DAY_D,
		duration_ms: (2 * HOUR) as u32,
	}
}

/// Three 5-minute deltas per meter and flow over `slot`, summing to `import` and `export` Wh
/// per meter.
fn deltas(
	meters: &[u64],
	slot: Slot,
	import: u64,
	export: u64,
) -> Vec<platone_primitives::MeasurementRecord> {
	let mut records = Vec::new();
	for m in meters {
		for i in 1..=3u64 {
			let t = slot_start(slot) + i * 5 * MINUTE;
			let acc = Accumulation::Delta { interval_s: 300 };
			let part = |v: u64| if i == 3 { v - 2 * (v / 3) } else { v / 3 };
			records.push(reading(*m, t, Imp, acc, part(import)));
			records.push(reading(*m, t, Exp, acc, part(export)));
		}
	}
	records
}

/// [`deltas`], certified by the gateway in the slot's window.
fn metered(meters: &[u64], slot: Slot, import: u64, export: u64) -> Readings {
	certify(
		GATEWAY,
		slot_window(slot),
		&deltas(meters, slot, import, export),
	)
}

fn bounded<T, S: frame_support::traits::Get<u32>>(v: Vec<T>) -> BoundedVec<T, S> {
	v.try_into().ok().expect("within the bound")
}

fn submit(pod: PodId, slot: Slot, readings: Readings) -> frame_support::dispatch::DispatchResult {
	Settlement::submit_metering(signed(GATEWAY), 1, pod, slot, bounded(readings))
}

/// An award in slot `slot` of session 1, up, of `quantity` W at `price` per MWh.
fn award(index: u32, pod: PodId, aggregator: u64, quantity: u32, price: u64) -> AwardRef {
	let offer = if pod == 11 { 2 } else { 1 };
	let at = AwardRef { step: 0, index };
	AwardTable::mutate(|t| {
		t.push((
			1,
			at,
			SettledAward {
				requester: DSO,
				aggregator,
				validator: DSO,
				offer,
				pod,
				slot: 0,
				direction: Direction::Up,
				quantity,
				price,
				pod_before: 0,
			},
		))
	});
	at
}

fn edit_award(at: AwardRef, f: impl Fn(&mut SettledAward<u64>)) {
	AwardTable::mutate(|t| {
		for a in t.iter_mut().filter(|a| a.1 == at) {
			f(&mut a.2)
		}
	});
}

fn set_phase(phase: Phase) {
	let awards = AwardTable::get().len() as u32;
	SessionTable::set(vec![(1, session_info(phase, awards))]);
}

fn baseline(pod: PodId, w: i64) {
	assert_ok!(Settlement::declare_baseline(
		signed(MockRegistry::pod_aggregator_of(pod)),
		1,
		pod,
		bounded(vec![(0, w), (1, w)])
	));
}

impl MockRegistry {
	fn pod_aggregator_of(pod: PodId) -> u64 {
		<MockRegistry as pallet_registry::ParticipantRegistry<u64>>::pod_aggregator(pod)
			.expect("represented")
	}
}

/// 4 kW up for 15 minutes at 200,000 per MWh: 1 kWh, worth 200.
const Q: u32 = 4_000;
const PRICE: u64 = 200_000;

/// Session 1 with one award of PoD 10 (AGG_A), baseline 10 kW, final, slot 0 metered with
/// `import` Wh over both meters (split evenly), past the metering delay.
/// Two awards settled in a final session: `measured(750)`'s, and one more of the same PoD.
fn two_settled() -> (AwardRef, AwardRef) {
	let at = measured(750);
	let second = award(1, 10, AGG_A, Q, PRICE);
	edit_award(second, |a| a.pod_before = Q);
	set_phase(Phase::Final);
	assert_ok!(settle(&[at, second]));
	(at, second)
}

fn measured(import_per_meter: u64) -> AwardRef {
	let at = award(0, 10, AGG_A, Q, PRICE);
	baseline(10, 10_000);
	set_phase(Phase::Final);
	NowMs::set(slot_start(1));
	assert_ok!(submit(10, 0, metered(&[100, 101], 0, import_per_meter, 0)));
	NowMs::set(slot_start(1) + HOUR);
	at
}

fn settle(awards: &[AwardRef]) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Settlement::settle(signed(STRANGER), 1, bounded(awards.to_vec()))
}

fn finalize(awards: &[AwardRef]) -> frame_support::dispatch::DispatchResult {
	Settlement::finalize(signed(STRANGER), 1, bounded(awards.to_vec()))
}

fn split(payment: u128, penalty: u128, customer_share: u128) -> Split {
	Split {
		payment,
		penalty,
		customer_share,
	}
}

/// Makes `at` final once its dispute window (from settlement at `slot_start(1) + HOUR`) passed.
fn finalize_after_window(at: AwardRef) {
	NowMs::set(slot_start(1) + 3 * HOUR);
	assert_ok!(finalize(&[at]));
}

fn outcome(at: AwardRef) -> OutcomeOf<Test> {
	Outcomes::<Test>::get(1, at).expect("settled")
}

/// Terms that pay exactly what was delivered: no tolerance, no penalty, no customer share.
fn no_terms() -> Terms {
	Terms {
		tolerance: Permill::zero(),
		penalty: Permill::zero(),
		customer_share: Permill::zero(),
	}
}

// ---- mechanisms ----

#[test]
fn aggregators_list_and_retire_mechanisms() {
	ExtBuilder::default().build().execute_with(|| {
		let terms = Terms {
			tolerance: Permill::from_percent(5),
			penalty: Permill::from_percent(100),
			customer_share: Permill::from_percent(20),
		};
		assert_noop!(
			Settlement::create_mechanism(signed(DSO), Rule::Standard(terms)),
			DispatchError::BadOrigin
		);
		let generous = Terms {
			tolerance: Permill::from_percent(21),
			..terms
		};
		assert_noop!(
			Settlement::create_mechanism(signed(AGG_A), Rule::Standard(generous)),
			Error::<Test>::ToleranceTooHigh
		);
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_A),
			Rule::Standard(terms)
		));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::MechanismCreated {
				id: 1,
				owner: AGG_A,
				rule: Rule::Standard(terms)
			})
		);
		for gas in [0, 1_000_000_001] {
			assert_noop!(
				Settlement::create_mechanism(
					signed(AGG_A),
					Rule::Contract {
						contract: CONTRACT,
						gas
					}
				),
				Error::<Test>::BadGas
			);
		}
		assert_noop!(
			Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Contract {
					contract: 51,
					gas: 1
				}
			),
			Error::<Test>::UnknownContract
		);
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_B),
			Rule::Contract {
				contract: CONTRACT,
				gas: 1_000
			}
		));
		assert_noop!(
			Settlement::retire_mechanism(signed(AGG_A), 3),
			Error::<Test>::UnknownMechanism
		);
		assert_noop!(
			Settlement::retire_mechanism(signed(AGG_A), 2),
			Error::<Test>::NotMechanismOwner
		);
		assert_ok!(Settlement::retire_mechanism(signed(AGG_B), 2));
		assert!(has_event(Event::MechanismRetired { id: 2 }));
		assert!(Mechanisms::<Test>::get(2).expect("listed").retired);
		assert_ok!(Settlement::do_try_state());
	});
}

#[test]
fn an_offer_chooses_its_mechanism_before_gate_closure() {
	ExtBuilder::default().build().execute_with(|| {
		let terms = no_terms();
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_A),
			Rule::Standard(terms)
		));
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_A),
			Rule::Standard(terms)
		));
		assert_ok!(Settlement::retire_mechanism(signed(AGG_A), 2));
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 2, 1, 1),
			Error::<Test>::UnknownSession
		);
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 1, 9, 1),
			Error::<Test>::UnknownOffer
		);
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 1, 2, 1),
			Error::<Test>::NotOfferOwner
		);
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 1, 1, 7),
			Error::<Test>::UnknownMechanism
		);
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 1, 1, 2),
			Error::<Test>::MechanismRetired
		);
		assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::MechanismChosen {
				session: 1,
				offer: 1,
				mechanism: 1
			})
		);
		set_phase(Phase::GateClosed { next: 0 });
		assert_noop!(
			Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1),
			Error::<Test>::GateClosed
		);
	});
}

// ---- baselines ----

#[test]
fn baselines_are_declared_by_the_pods_aggregator_before_gate_closure() {
	ExtBuilder::default().build().execute_with(|| {
		let b = |v: Vec<(Slot, i64)>| -> BaselineOf<Test> { bounded(v) };
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 2, 10, b(vec![(0, 1)])),
			Error::<Test>::UnknownSession
		);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 10, b(vec![])),
			Error::<Test>::BadBaseline
		);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 10, b(vec![(1, 1), (1, 2)])),
			Error::<Test>::BadBaseline
		);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 10, b(vec![(4, 1)])),
			Error::<Test>::SlotOutOfRange
		);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 99, b(vec![(0, 1)])),
			Error::<Test>::UnknownPod
		);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 11, b(vec![(0, 1)])),
			Error::<Test>::NotPodAggregator
		);
		assert_noop!(
			Settlement::declare_baseline(signed(DSO), 1, 10, b(vec![(0, 1)])),
			DispatchError::BadOrigin
		);
		assert_ok!(Settlement::declare_baseline(
			signed(AGG_A),
			1,
			10,
			b(vec![(0, -5), (3, 7)])
		));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::BaselineDeclared {
				session: 1,
				pod: 10,
				slots: 2
			})
		);
		// A later declaration replaces it, until the gate closes: then it is too late.
		assert_ok!(Settlement::declare_baseline(
			signed(AGG_A),
			1,
			10,
			b(vec![(0, 9)])
		));
		let declared = Baselines::<Test>::get(1, 10).expect("declared");
		assert_eq!(declared.baseline.to_vec(), vec![(0, 9)]);
		// The PoD's meters as the registry lists them now.
		assert_eq!(declared.meters.to_vec(), vec![100, 101]);
		// The clock decides, even while the market's hook has not closed the gate yet.
		NowMs::set(DAY_D - HOUR);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 10, b(vec![(0, 1)])),
			Error::<Test>::GateClosed
		);
		NowMs::set(DAY_D - 3 * HOUR);
		set_phase(Phase::GateClosed { next: 0 });
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_A), 1, 10, b(vec![(0, 1)])),
			Error::<Test>::GateClosed
		);
	});
}

#[test]
fn a_pods_meters_are_those_listed_with_its_baseline() {
	ExtBuilder::default().build().execute_with(|| {
		baseline(10, 10_000);
		// The operator adds a meter after the declaration: the slot is metered without it.
		PodTable::mutate(|t| t[0].3.push(102));
		NowMs::set(slot_start(2));
		assert_ok!(submit(10, 0, metered(&[100, 101], 0, 900, 300)));
		assert_noop!(
			submit(10, 1, metered(&[100, 101, 102], 1, 900, 300)),
			Error::<Test>::NotPodMeter
		);
		// Metering of a PoD without a baseline would settle nothing.
		assert_noop!(
			submit(11, 0, metered(&[110], 0, 900, 300)),
			Error::<Test>::NotDeclared
		);
		// More meters than `MaxMeters`.
		NowMs::set(DAY_D - 3 * HOUR);
		PodTable::mutate(|t| t[1].3 = vec![110, 111, 112, 113, 114]);
		assert_noop!(
			Settlement::declare_baseline(signed(AGG_B), 1, 11, bounded(vec![(0, 1)])),
			Error::<Test>::TooManyMeters
		);
	});
}

#[test]
fn the_pods_operator_names_its_owner() {
	ExtBuilder::default().build().execute_with(|| {
		assert_noop!(
			Settlement::set_pod_owner(signed(DSO), 99, Some(CUSTOMER)),
			Error::<Test>::UnknownPod
		);
		assert_noop!(
			Settlement::set_pod_owner(signed(TSO), 10, Some(CUSTOMER)),
			Error::<Test>::NotPodOperator
		);
		assert_noop!(
			Settlement::set_pod_owner(signed(AGG_A), 10, Some(AGG_A)),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Settlement::set_pod_owner(signed(DSO), 10, Some(Settlement::account())),
			Error::<Test>::PalletAccount
		);
		assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, Some(CUSTOMER)));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::PodOwnerSet {
				pod: 10,
				owner: Some(CUSTOMER)
			})
		);
		assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, None));
		assert_eq!(PodOwners::<Test>::get(10), None);
	});
}

// ---- metering ----

#[test]
fn certified_readings_give_a_pods_slot_energy() {
	ExtBuilder::default().build().execute_with(|| {
		baseline(10, 0);
		NowMs::set(slot_start(1));
		assert_ok!(submit(10, 0, metered(&[100, 101], 0, 900, 300)));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::Metered {
				session: 1,
				pod: 10,
				slot: 0,
				import_wh: 1_800,
				export_wh: 600,
				quality: ReadingQuality::Valid
			})
		);
		let m = Meterings::<Test>::get(1, (10, 0)).expect("metered");
		assert_eq!((m.readings, m.net_import_wms()), (12, 1_200 * 3_600_000));
		assert_noop!(
			submit(10, 0, metered(&[100, 101], 0, 900, 300)),
			Error::<Test>::AlreadyMetered
		);
	});
}

#[test]
fn register_reads_at_the_slot_bounds_meter_it_too() {
	ExtBuilder::default().build().execute_with(|| {
		baseline(11, 0);
		NowMs::set(slot_start(2));
		let (s, e) = (slot_start(1), slot_start(2));
		let records = vec![
			reading(110, s, Imp, Accumulation::Register, 10_000),
			reading(110, e, Imp, Accumulation::Register, 10_400),
			reading(110, s, Exp, Accumulation::Register, 50),
			reading(110, e, Exp, Accumulation::Register, 50),
		];
		let window = Window {
			start_ms: DAY_D,
			duration_ms: HOUR as u32,
		};
		let readings = certify(GATEWAY, window, &records);
		assert_ok!(submit(11, 1, readings));
		let m = Meterings::<Test>::get(1, (11, 1)).expect("metered");
		assert_eq!((m.import_wh, m.export_wh), (400, 0));
	});
}

#[test]
fn metering_refuses_what_it_cannot_prove_or_place() {
	ExtBuilder::default().build().execute_with(|| {
		for pod in [10, 11, 12] {
			baseline(pod, 0);
		}
		let good = || metered(&[100, 101], 0, 900, 300);
		assert_noop!(
			Settlement::submit_metering(signed(GATEWAY), 2, 10, 0, bounded(good())),
			Error::<Test>::UnknownSession
		);
		assert_noop!(submit(10, 4, good()), Error::<Test>::SlotOutOfRange);
		NowMs::set(slot_start(1) - 1);
		assert_noop!(submit(10, 0, good()), Error::<Test>::SlotNotOver);
		NowMs::set(slot_start(4));
		assert_noop!(submit(12, 0, good()), Error::<Test>::NoMeters);
		// A reading whose value was changed after certification.
		let mut altered = good();
		let mut record: platone_primitives::MeasurementRecord =
			codec::Decode::decode(&mut &altered[0].2.leaf[..]).expect("a record");
		if let platone_primitives::Reading::MeterRead(ref mut r) = record.reading {
			r.value += 1;
		}
		altered[0].2.leaf = codec::Encode::encode(&record);
		assert_noop!(submit(10, 0, altered), Error::<Test>::BadProof);
		// A proof against a window nobody certified.
		let mut uncertified = good();
		uncertified[0].1 = Window {
			start_ms: DAY_D + 2 * HOUR,
			duration_ms: (2 * HOUR) as u32,
		};
		assert_noop!(submit(10, 0, uncertified), Error::<Test>::NotCertified);
		// Another PoD's meter: the wrong PoD.
		assert_noop!(
			submit(10, 1, metered(&[100, 101, 110], 1, 900, 300)),
			Error::<Test>::NotPodMeter
		);
		// One of the PoD's two meters is missing.
		assert_noop!(
			submit(10, 1, metered(&[100], 1, 900, 300)),
			Error::<Test>::IncompleteMetering
		);
		// A gap: the middle delta of one flow left out.
		let mut gap = metered(&[100, 101], 1, 900, 300);
		gap.remove(2);
		assert_noop!(submit(10, 1, gap), Error::<Test>::NotCovering);
		let mut twice = metered(&[100, 101], 2, 900, 300);
		twice.push(twice[0].clone());
		assert_noop!(submit(10, 2, twice), Error::<Test>::DuplicateReading);
		// A reading of the next slot.
		let mut records = deltas(&[100, 101], 2, 900, 300);
		records.extend(deltas(&[100], 3, 3, 3).into_iter().take(1));
		let hour = Window {
			start_ms: DAY_D,
			duration_ms: HOUR as u32,
		};
		assert_noop!(
			submit(10, 2, certify(GATEWAY, hour, &records)),
			Error::<Test>::OutsideSlot
		);
		let mut mixed = deltas(&[100, 101], 3, 900, 300);
		mixed.push(reading(100, slot_start(3), Imp, Accumulation::Register, 5));
		assert_noop!(
			submit(10, 3, certify(GATEWAY, slot_window(3), &mixed)),
			Error::<Test>::MixedForms
		);
		let back = vec![
			reading(110, slot_start(3) + 1, Imp, Accumulation::Register, 9),
			reading(110, slot_start(4) - 1, Imp, Accumulation::Register, 8),
		];
		let w3b = Window {
			start_ms: slot_start(2),
			duration_ms: (2 * SLOT_MS) as u32,
		};
		assert_noop!(
			submit(11, 3, certify(GATEWAY, w3b, &back)),
			Error::<Test>::NotCovering
		);
		let pmu = vec![platone_primitives::MeasurementRecord {
			dataset: 110,
			timestamp_us: (slot_start(3) + 1) * 1_000,
			sequence: 0,
			reading: platone_primitives::Reading::Sensor(platone_primitives::SensorValue {
				quantity: platone_primitives::Quantity::ActivePowerW,
				value: 1,
			}),
		}];
		let w0 = Window {
			start_ms: slot_start(3),
			duration_ms: (SLOT_MS / 3) as u32,
		};
		assert_noop!(
			submit(11, 3, certify(GATEWAY, w0, &pmu)),
			Error::<Test>::NotActiveEnergy
		);
	});
}

#[test]
fn mixed_forms_and_registers_going_back_are_refused() {
	ExtBuilder::default().build().execute_with(|| {
		baseline(11, 0);
		NowMs::set(slot_start(4));
		let (s, e) = (slot_start(0), slot_start(1));
		let w = Window {
			start_ms: DAY_D,
			duration_ms: HOUR as u32,
		};
		let delta = Accumulation::Delta { interval_s: 900 };
		let mixed = vec![
			reading(110, s, Imp, Accumulation::Register, 1),
			reading(110, e, Imp, delta, 4),
			reading(110, e, Exp, delta, 0),
		];
		assert_noop!(
			submit(11, 0, certify(GATEWAY, w, &mixed)),
			Error::<Test>::MixedForms
		);
		let back = vec![
			reading(110, s, Imp, Accumulation::Register, 9),
			reading(110, e, Imp, Accumulation::Register, 8),
			reading(110, e, Exp, delta, 0),
		];
		let w2 = Window {
			start_ms: DAY_D - HOUR,
			duration_ms: (2 * HOUR) as u32,
		};
		assert_noop!(
			submit(11, 0, certify(GATEWAY, w2, &back)),
			Error::<Test>::RegisterWentBack
		);
	});
}

#[test]
fn a_flagged_slot_may_be_metered_again_with_valid_readings() {
	ExtBuilder::default().build().execute_with(|| {
		baseline(11, 0);
		NowMs::set(slot_start(1));
		let mut records = deltas(&[110], 0, 300, 0);
		if let platone_primitives::Reading::MeterRead(ref mut r) = records[0].reading {
			r.quality = ReadingQuality::Suspect;
		}
		assert_ok!(submit(11, 0, certify(GATEWAY, slot_window(0), &records)));
		assert_eq!(
			Meterings::<Test>::get(1, (11, 0)).map(|m| m.quality),
			Some(ReadingQuality::Suspect)
		);
		let hour = Window {
			start_ms: DAY_D,
			duration_ms: HOUR as u32,
		};
		let readings = certify(GATEWAY, hour, &deltas(&[110], 0, 330, 0));
		assert_ok!(submit(11, 0, readings));
		assert_eq!(
			Meterings::<Test>::get(1, (11, 0)).map(|m| (m.quality, m.import_wh)),
			Some((ReadingQuality::Valid, 330))
		);
	});
}

// ---- settlement ----

#[test]
fn full_delivery_is_paid_in_full_and_once() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			// Baseline 10 kW = 2.5 kWh; metered 1.5 kWh: 1 kWh delivered of 1 kWh awarded.
			let at = measured(750);
			assert_ok!(settle(&[at]));
			let o = outcome(at);
			assert_eq!(o.record.basis, Basis::Measured);
			assert_eq!(o.record.input.delivered_wms, 1_000 * 3_600_000);
			assert_eq!(o.record.input.max_payment, 200);
			assert_eq!(o.record.split, split(200, 0, 0));
			assert_eq!(
				o.status,
				Status::Open {
					until_ms: slot_start(1) + 3 * HOUR
				}
			);
			assert!(has_event(Event::Settled {
				session: 1,
				award: at,
				basis: Basis::Measured,
				split: o.record.split,
				until_ms: slot_start(1) + 3 * HOUR
			}));
			// Double settlement.
			assert_noop!(settle(&[at]), Error::<Test>::AlreadySettled);
			assert_noop!(finalize(&[at]), Error::<Test>::NotFinalizable);
			finalize_after_window(at);
			assert_eq!(Balances::balance(&DSO), 800);
			assert_eq!(Balances::balance(&AGG_A), 200);
			assert_eq!(outcome(at).status, Status::Paid);
			assert_noop!(finalize(&[at]), Error::<Test>::NotFinalizable);
			// The only award: the session's outcomes are anchored by the pallet, and the market
			// may prune it.
			assert!(<Settlement as pallet_market::SessionSettled>::is_settled(1));
			let (leaves, root) = Settlement::outcome_leaves(1);
			assert_eq!(leaves.len(), 1);
			assert_eq!(
				AnchorLog::get(),
				vec![(
					Settlement::account(),
					AnchorKind::Settlement,
					subject(1),
					root,
					1
				)]
			);
			assert!(has_event(Event::SessionSettled {
				session: 1,
				outcomes: 1,
				root
			}));
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn under_delivery_is_paid_pro_rata_with_a_penalty() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			// Metered 2 kWh: 0.5 kWh delivered, below the 10 % tolerance.
			let at = measured(1_000);
			assert_ok!(settle(&[at]));
			// Paid 100 for 0.5 kWh; the 0.5 kWh short costs 50 % of its value, 50.
			assert_eq!(outcome(at).record.split, split(100, 50, 0));
			finalize_after_window(at);
			assert_eq!(
				(Balances::balance(&DSO), Balances::balance(&AGG_A)),
				(950, 50)
			);
		});
}

#[test]
fn delivery_within_the_tolerance_counts_as_full() {
	ExtBuilder::default().build().execute_with(|| {
		// 0.91 kWh delivered of 1 kWh, within 10 %.
		let at = measured(795);
		assert_ok!(settle(&[at]));
		assert_eq!(outcome(at).record.split.payment, 200);
		assert_eq!(outcome(at).record.split.penalty, 0);
	});
}

#[test]
fn settlement_waits_for_a_final_session_and_the_metering_delay() {
	ExtBuilder::default().build().execute_with(|| {
		let at = award(0, 10, AGG_A, Q, PRICE);
		set_phase(Phase::Validated);
		NowMs::set(slot_start(1) + HOUR);
		assert_noop!(settle(&[at]), Error::<Test>::SessionNotFinal);
		assert_noop!(
			Settlement::settle(signed(STRANGER), 2, bounded(vec![at])),
			Error::<Test>::UnknownSession
		);
		set_phase(Phase::Final);
		assert_noop!(
			settle(&[AwardRef { step: 0, index: 5 }]),
			Error::<Test>::UnknownAward
		);
		NowMs::set(slot_start(1) + HOUR - 1);
		assert_noop!(settle(&[at]), Error::<Test>::TooEarly);
		assert_noop!(
			Settlement::settle(RuntimeOrigin::none(), 1, bounded(vec![at])),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn an_award_without_baseline_pays_nothing_and_the_full_penalty() {
	ExtBuilder::default().build().execute_with(|| {
		// Even a mechanism that would pay anything delivered within its tolerance pays
		// nothing: without a baseline nothing is delivered.
		let lenient = Terms {
			tolerance: Permill::from_percent(20),
			penalty: Permill::from_percent(50),
			customer_share: Permill::zero(),
		};
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_A),
			Rule::Standard(lenient)
		));
		assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
		let at = award(0, 10, AGG_A, Q, PRICE);
		set_phase(Phase::Final);
		NowMs::set(slot_start(1) + HOUR);
		assert_ok!(settle(&[at]));
		let o = outcome(at);
		assert_eq!(o.record.basis, Basis::NoBaseline);
		assert_eq!(o.record.baseline_w, None);
		assert_eq!(o.record.input.max_payment, 0);
		assert_eq!(o.record.split, split(0, 100, 0));
	});
}

#[test]
fn unmetered_and_flagged_slots_are_named_never_zero_delivery() {
	ExtBuilder::default().build().execute_with(|| {
		let unmetered = award(0, 10, AGG_A, Q, PRICE);
		let flagged = award(1, 11, AGG_B, Q, PRICE);
		let nothing = award(2, 10, AGG_A, 0, PRICE);
		baseline(10, 10_000);
		baseline(11, 10_000);
		set_phase(Phase::Final);
		NowMs::set(slot_start(1));
		let mut records = deltas(&[110], 0, 300, 0);
		if let platone_primitives::Reading::MeterRead(ref mut r) = records[2].reading {
			r.quality = ReadingQuality::Estimated;
		}
		assert_ok!(submit(11, 0, certify(GATEWAY, slot_window(0), &records)));
		NowMs::set(slot_start(1) + HOUR);
		assert_ok!(settle(&[unmetered, flagged, nothing]));
		assert_eq!(outcome(unmetered).record.basis, Basis::Unmetered);
		assert_eq!(
			outcome(flagged).record.basis,
			Basis::Flagged(ReadingQuality::Estimated)
		);
		assert_eq!(outcome(nothing).record.basis, Basis::NothingAwarded);
		for at in [unmetered, flagged, nothing] {
			assert_eq!(outcome(at).record.split, Split::default());
		}
		assert_eq!(Tallies::<Test>::get(1).expect("tallied").settled, 3);
	});
}

#[test]
fn a_pods_delivery_serves_its_awards_in_a_slot_in_award_order() {
	ExtBuilder::default().build().execute_with(|| {
		// Two awards of 4 kW for PoD 10 in slot 0; it delivers 1 kWh, one award's worth.
		let first = award(0, 10, AGG_A, Q, PRICE);
		let second = award(1, 10, AGG_A, Q, PRICE);
		edit_award(second, |a| a.pod_before = Q);
		baseline(10, 10_000);
		set_phase(Phase::Final);
		NowMs::set(slot_start(1));
		assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
		NowMs::set(slot_start(1) + HOUR);
		assert_ok!(settle(&[second, first]));
		assert_eq!(outcome(first).record.split.payment, 200);
		assert_eq!(outcome(second).record.input.delivered_wms, 0);
		assert_eq!(outcome(second).record.split.payment, 0);
		assert_eq!(outcome(second).record.split.penalty, 100);
	});
}

#[test]
fn down_flexibility_is_metered_above_the_baseline() {
	ExtBuilder::default().build().execute_with(|| {
		let at = award(0, 10, AGG_A, Q, PRICE);
		edit_award(at, |a| a.direction = Direction::Down);
		// Baseline 2 kW of net export (-2 kW); metered net import 0.5 kWh, 1 kWh above it.
		assert_ok!(Settlement::declare_baseline(
			signed(AGG_A),
			1,
			10,
			bounded(vec![(0, -2_000)])
		));
		set_phase(Phase::Final);
		NowMs::set(slot_start(1));
		assert_ok!(submit(10, 0, metered(&[100, 101], 0, 300, 51)));
		NowMs::set(slot_start(1) + HOUR);
		assert_ok!(settle(&[at]));
		assert_eq!(outcome(at).record.input.delivered_wms, 998 * 3_600_000);
		assert_eq!(outcome(at).record.split.payment, 200);
	});
}

#[test]
fn a_contract_mechanism_decides_within_the_awards_bounds() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			assert_ok!(Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Contract {
					contract: CONTRACT,
					gas: 1_000
				}
			));
			assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
			let good = split(150, 0, 30);
			ContractAnswer::set(Some(good));
			assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, Some(CUSTOMER)));
			let at = measured(750);
			let info = settle(&[at]).expect("settles");
			assert_eq!(ContractCalls::get(), 1);
			// The call used 500 of its 1,000 gas (the mock): charged that, not the limit.
			assert_eq!(
				info.actual_weight,
				Some(Settlement::settle_actual(1, 1, Weight::from_parts(500, 0))),
				"the contract call is charged what it used"
			);
			assert!(
				Settlement::settle_actual(1, 1, Weight::from_parts(500, 0)).ref_time()
					< Settlement::settle_weight(1, 1).ref_time()
			);
			assert_eq!(outcome(at).record.split, good);
			assert_eq!(outcome(at).record.basis, Basis::Measured);
			// The customer share reaches the PoD's owner on record at settlement, whoever the
			// operator names later.
			assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, Some(STRANGER)));
			finalize_after_window(at);
			assert_eq!(
				(
					Balances::balance(&DSO),
					Balances::balance(&AGG_A),
					Balances::balance(&CUSTOMER)
				),
				(850, 120, 30)
			);
			assert!(has_event(Event::Paid {
				session: 1,
				award: at,
				split: good,
				customer: Some(CUSTOMER)
			}));
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn a_contract_cannot_pay_for_energy_not_delivered() {
	ExtBuilder::default().build().execute_with(|| {
		assert_ok!(Settlement::create_mechanism(
			signed(AGG_A),
			Rule::Contract {
				contract: CONTRACT,
				gas: 1_000
			}
		));
		assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
		// Half delivered (metered 2 kWh against 2.5): at most half the award's value.
		ContractAnswer::set(Some(split(101, 0, 0)));
		let at = measured(1_000);
		assert_ok!(settle(&[at]));
		assert_eq!(outcome(at).record.input.max_payment, 100);
		assert_eq!(outcome(at).record.basis, Basis::MechanismFailed);
		assert_eq!(outcome(at).record.split.payment, 100);
	});
}

#[test]
fn an_unmetered_outcome_settles_again_once_valid_metering_arrives() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = award(0, 10, AGG_A, Q, PRICE);
			baseline(10, 10_000);
			set_phase(Phase::Final);
			NowMs::set(slot_start(1) + HOUR);
			assert_ok!(settle(&[at]));
			assert_eq!(outcome(at).record.basis, Basis::Unmetered);
			assert_noop!(settle(&[at]), Error::<Test>::AlreadySettled);
			assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
			NowMs::set(slot_start(1) + 2 * HOUR);
			assert_ok!(settle(&[at]));
			assert_eq!(outcome(at).record.basis, Basis::Measured);
			assert_eq!(
				outcome(at).status,
				Status::Open {
					until_ms: slot_start(1) + 4 * HOUR
				}
			);
			assert_eq!(Tallies::<Test>::get(1).expect("tallied").settled, 1);
			assert_noop!(settle(&[at]), Error::<Test>::AlreadySettled);
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn a_contract_that_fails_or_overreaches_falls_back_to_the_default_terms() {
	for answer in [None, Some(split(201, 0, 0)), Some(split(100, 50, 51))] {
		ExtBuilder::default().build().execute_with(|| {
			assert_ok!(Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Contract {
					contract: CONTRACT,
					gas: 1_000
				}
			));
			assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
			ContractAnswer::set(answer);
			let at = measured(750);
			assert_ok!(settle(&[at]));
			assert_eq!(outcome(at).record.basis, Basis::MechanismFailed);
			assert_eq!(outcome(at).record.split.payment, 200);
		});
	}
}

#[test]
fn a_standard_mechanism_shares_revenue_with_the_pods_owner() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let terms = Terms {
				tolerance: Permill::zero(),
				penalty: Permill::from_percent(100),
				customer_share: Permill::from_percent(25),
			};
			assert_ok!(Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Standard(terms)
			));
			assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
			assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, Some(CUSTOMER)));
			// 0.8 kWh delivered: 160 paid, 40 penalty, a quarter of 120 to the customer.
			let at = measured(850);
			assert_ok!(settle(&[at]));
			assert_eq!(outcome(at).record.split, split(160, 40, 30));
			finalize_after_window(at);
			assert_eq!(
				(
					Balances::balance(&DSO),
					Balances::balance(&AGG_A),
					Balances::balance(&CUSTOMER)
				),
				(880, 90, 30)
			);
		});
}

// ---- disputes ----

#[test]
fn parties_dispute_within_the_window_and_governance_resolves() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = award(0, 10, AGG_A, Q, PRICE);
			baseline(10, 10_000);
			set_phase(Phase::Final);
			NowMs::set(slot_start(1) + HOUR);
			assert_noop!(
				Settlement::dispute(signed(AGG_A), 1, at),
				Error::<Test>::NotSettled
			);
			// Settled unmetered: the aggregator disputes, the readings arrive, governance
			// settles it again.
			assert_ok!(settle(&[at]));
			assert_eq!(outcome(at).record.basis, Basis::Unmetered);
			assert_noop!(
				Settlement::dispute(signed(STRANGER), 1, at),
				Error::<Test>::NotParty
			);
			assert_noop!(
				Settlement::resolve(root(), 1, at, None),
				Error::<Test>::NotDisputed
			);
			// A dispute costs a deposit, which the pallet holds until the resolution.
			assert_noop!(
				Settlement::dispute(signed(AGG_A), 1, at),
				Error::<Test>::CannotPayDeposit
			);
			assert_ok!(Settlement::mint(root(), AGG_A, DISPUTE_DEPOSIT));
			assert_ok!(Settlement::dispute(signed(AGG_A), 1, at));
			assert_eq!(
				last_event(),
				RuntimeEvent::Settlement(Event::Disputed {
					session: 1,
					award: at,
					by: AGG_A,
					deposit: DISPUTE_DEPOSIT
				})
			);
			assert_eq!(Balances::balance(&AGG_A), 0);
			assert_eq!(Balances::balance(&Settlement::account()), DISPUTE_DEPOSIT);
			assert_eq!(
				DisputeDeposits::<Test>::get(1, at),
				Some((AGG_A, DISPUTE_DEPOSIT))
			);
			assert_ok!(Settlement::do_try_state());
			assert_noop!(
				Settlement::dispute(signed(DSO), 1, at),
				Error::<Test>::DisputeClosed
			);
			NowMs::set(slot_start(1) + 5 * HOUR);
			assert_noop!(finalize(&[at]), Error::<Test>::NotFinalizable);
			assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
			assert_noop!(
				Settlement::resolve(signed(DSO), 1, at, None),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Settlement::resolve(root(), 1, at, Some(split(201, 0, 0))),
				Error::<Test>::BadSplit
			);
			assert_ok!(Settlement::resolve(root(), 1, at, None));
			assert_eq!(outcome(at).record.basis, Basis::Measured);
			assert_eq!(outcome(at).status, Status::Paid);
			// Upheld (unmetered became measured): the deposit goes back.
			assert!(deposit_settled(at, AGG_A, DISPUTE_DEPOSIT, true));
			assert_eq!(Balances::balance(&AGG_A), 200 + DISPUTE_DEPOSIT);
			assert_eq!(Balances::balance(&Settlement::account()), 0);
			assert_eq!(DisputeDeposits::<Test>::get(1, at), None);
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn the_dispute_window_closes() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = measured(750);
			assert_ok!(settle(&[at]));
			NowMs::set(slot_start(1) + 3 * HOUR);
			assert_noop!(
				Settlement::dispute(signed(DSO), 1, at),
				Error::<Test>::DisputeClosed
			);
			assert_noop!(
				finalize(&[AwardRef { step: 1, index: 0 }]),
				Error::<Test>::NotSettled
			);
		});
}

#[test]
fn governance_may_impose_a_split_on_a_disputed_outcome() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = measured(750);
			assert_ok!(settle(&[at]));
			assert_ok!(Settlement::dispute(signed(DSO), 1, at));
			let split = split(120, 0, 0);
			assert_ok!(Settlement::resolve(root(), 1, at, Some(split)));
			assert!(has_event(Event::Resolved {
				session: 1,
				award: at,
				basis: Basis::Resolved,
				split
			}));
			assert!(deposit_settled(at, DSO, DISPUTE_DEPOSIT, true));
			assert_eq!(Balances::balance(&AGG_A), 120);
			assert_eq!(Balances::balance(&DSO), 1_000 - 120);
		});
}

/// A dispute that changes nothing pays its deposit to the other party, whose payment it held
/// up: the aggregator when the requester disputed, the requester when the aggregator did.
#[test]
fn an_unfounded_dispute_pays_its_deposit_to_the_other_party() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.funded(AGG_A, DISPUTE_DEPOSIT)
		.build()
		.execute_with(|| {
			let (at, second) = two_settled();
			assert_ok!(Settlement::dispute(signed(DSO), 1, at));
			assert_ok!(Settlement::dispute(signed(AGG_A), 1, second));
			assert_eq!(
				Balances::balance(&Settlement::account()),
				2 * DISPUTE_DEPOSIT
			);
			assert_ok!(Settlement::do_try_state());
			assert_ok!(Settlement::resolve(root(), 1, at, None));
			assert!(deposit_settled(at, AGG_A, DISPUTE_DEPOSIT, false));
			assert_ok!(Settlement::resolve(
				root(),
				1,
				second,
				Some(outcome(second).record.split)
			));
			assert!(deposit_settled(second, DSO, DISPUTE_DEPOSIT, false));
			assert_eq!(Balances::balance(&Settlement::account()), 0);
			assert_eq!(
				Balances::balance(&DSO) + Balances::balance(&AGG_A),
				1_000 + DISPUTE_DEPOSIT
			);
			assert_ok!(Settlement::do_try_state());
		});
}

// ---- payment ----

#[test]
fn a_requester_short_of_tokens_leaves_the_outcome_unpaid_until_it_can_pay() {
	ExtBuilder::default()
		.funded(DSO, 150)
		.build()
		.execute_with(|| {
			let at = measured(750);
			assert_ok!(settle(&[at]));
			finalize_after_window(at);
			assert_eq!(outcome(at).status, Status::Unpaid);
			assert!(has_event(Event::PaymentFailed {
				session: 1,
				award: at,
				short: DSO
			}));
			// Nothing moved, and the outcome is final all the same: anchored.
			assert_eq!(
				(Balances::balance(&DSO), Balances::balance(&AGG_A)),
				(150, 0)
			);
			assert_eq!(AnchorLog::get().len(), 1);
			assert_noop!(finalize(&[at]), Error::<Test>::InsufficientTokens);
			assert_ok!(Settlement::mint(root(), DSO, 50));
			assert_ok!(finalize(&[at]));
			assert_eq!(outcome(at).status, Status::Paid);
			assert_eq!(
				(Balances::balance(&DSO), Balances::balance(&AGG_A)),
				(0, 200)
			);
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn an_aggregator_short_of_its_penalty_is_unpaid_too() {
	ExtBuilder::default().build().execute_with(|| {
		let at = award(0, 10, AGG_A, Q, PRICE);
		set_phase(Phase::Final);
		NowMs::set(slot_start(1) + HOUR);
		assert_ok!(settle(&[at]));
		NowMs::set(slot_start(1) + 3 * HOUR);
		assert_ok!(finalize(&[at]));
		assert!(has_event(Event::PaymentFailed {
			session: 1,
			award: at,
			short: AGG_A
		}));
	});
}

// ---- tokens ----

#[test]
fn governance_mints_and_burns_what_holders_hand_in() {
	ExtBuilder::default().build().execute_with(|| {
		assert_noop!(
			Settlement::mint(signed(DSO), DSO, 10),
			DispatchError::BadOrigin
		);
		assert_noop!(Settlement::mint(root(), DSO, 0), Error::<Test>::ZeroAmount);
		assert_noop!(
			Settlement::mint(root(), Settlement::account(), 10),
			Error::<Test>::PalletAccount
		);
		assert_ok!(Settlement::mint(root(), DSO, 100));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::Minted {
				to: DSO,
				amount: 100
			})
		);
		assert_noop!(
			Settlement::request_redemption(signed(DSO), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Settlement::request_redemption(signed(DSO), 101),
			Error::<Test>::InsufficientTokens
		);
		assert_ok!(Settlement::request_redemption(signed(DSO), 60));
		assert_ok!(Settlement::request_redemption(signed(DSO), 30));
		assert_eq!(Balances::balance(&Settlement::account()), 90);
		assert_ok!(Settlement::do_try_state());
		assert_noop!(
			Settlement::burn_redeemed(root(), 3),
			Error::<Test>::UnknownRedemption
		);
		assert_noop!(
			Settlement::burn_redeemed(signed(DSO), 1),
			DispatchError::BadOrigin
		);
		assert_ok!(Settlement::burn_redeemed(root(), 1));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::Redeemed {
				id: 1,
				who: DSO,
				amount: 60
			})
		);
		assert_noop!(
			Settlement::cancel_redemption(root(), 1),
			Error::<Test>::UnknownRedemption
		);
		assert_ok!(Settlement::cancel_redemption(root(), 2));
		assert_eq!(Balances::balance(&DSO), 40);
		assert_eq!(Balances::total_issuance(), 40);
		assert_eq!((Minted::<Test>::get(), Burned::<Test>::get()), (100, 60));
		assert_ok!(Settlement::do_try_state());
	});
}

/// Governance sets the dispute deposit (FR-MP-SET-04's disputes): disputes opened afterwards
/// pay the new amount, an open one keeps what it paid and gets exactly that back or passes it
/// on, and a zero deposit makes disputes free.
#[test]
fn governance_sets_the_dispute_deposit() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.funded(AGG_A, DISPUTE_DEPOSIT)
		.build()
		.execute_with(|| {
			assert_eq!(DisputeDepositAmount::<Test>::get(), DISPUTE_DEPOSIT);
			assert_noop!(
				Settlement::set_dispute_deposit(signed(DSO), 1),
				DispatchError::BadOrigin
			);
			let (at, second) = two_settled();
			assert_ok!(Settlement::dispute(signed(AGG_A), 1, second));
			let raised = 3 * DISPUTE_DEPOSIT;
			assert_ok!(Settlement::set_dispute_deposit(root(), raised));
			assert_eq!(
				last_event(),
				RuntimeEvent::Settlement(Event::DisputeDepositSet { amount: raised })
			);
			assert_ok!(Settlement::dispute(signed(DSO), 1, at));
			assert_eq!(
				DisputeDeposits::<Test>::get(1, second),
				Some((AGG_A, DISPUTE_DEPOSIT)),
				"the open dispute keeps what it paid"
			);
			assert_eq!(DisputeDeposits::<Test>::get(1, at), Some((DSO, raised)));
			assert_eq!(
				Balances::balance(&Settlement::account()),
				DISPUTE_DEPOSIT + raised
			);
			assert_ok!(Settlement::do_try_state());
			// Unfounded: the aggregator's deposit goes to the requester, the requester's to the
			// aggregator, each as paid.
			assert_ok!(Settlement::resolve(
				root(),
				1,
				second,
				Some(outcome(second).record.split)
			));
			assert_ok!(Settlement::resolve(root(), 1, at, None));
			assert!(deposit_settled(second, DSO, DISPUTE_DEPOSIT, false));
			assert!(deposit_settled(at, AGG_A, raised, false));
			assert_eq!(Balances::balance(&Settlement::account()), 0);
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn a_free_dispute_holds_no_tokens() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			assert_ok!(Settlement::set_dispute_deposit(root(), 0));
			let at = measured(750);
			set_phase(Phase::Final);
			assert_ok!(settle(&[at]));
			let before = Balances::balance(&DSO);
			assert_ok!(Settlement::dispute(signed(DSO), 1, at));
			assert_eq!(Balances::balance(&DSO), before);
			assert_eq!(DisputeDeposits::<Test>::get(1, at), Some((DSO, 0)));
			assert_ok!(Settlement::resolve(root(), 1, at, None));
			assert!(deposit_settled(at, AGG_A, 0, false));
			assert_eq!(Balances::balance(&Settlement::account()), 0);
			assert_ok!(Settlement::do_try_state());
		});
}

#[test]
fn governance_sets_the_settlements_timing() {
	ExtBuilder::default().build().execute_with(|| {
		let params = Params {
			metering_delay_ms: 0,
			dispute_ms: MINUTE,
		};
		assert_noop!(
			Settlement::set_params(signed(DSO), params),
			DispatchError::BadOrigin
		);
		assert_eq!(SettlementParams::<Test>::get().metering_delay_ms, HOUR);
		assert_ok!(Settlement::set_params(root(), params));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::ParamsSet { params })
		);
		// Settles right after the slot, disputable for a minute.
		let at = award(0, 10, AGG_A, Q, PRICE);
		set_phase(Phase::Final);
		NowMs::set(slot_start(1));
		assert_ok!(settle(&[at]));
		assert_eq!(
			outcome(at).status,
			Status::Open {
				until_ms: slot_start(1) + MINUTE
			}
		);
	});
}

// ---- audit ----

/// Session 1's settlement records as `platone audit settlement` reads them off the chain.
fn records() -> crate::audit::Records<u64> {
	let awards = AwardTable::get()
		.into_iter()
		.filter(|a| a.0 == 1)
		.map(|a| (a.1, a.2))
		.collect();
	crate::audit::Records {
		slot_ms: SLOT_MS as u32,
		delivery_start_ms: DAY_D,
		awards,
		baselines: Baselines::<Test>::iter_prefix(1)
			.map(|(p, d)| {
				let d = Declared {
					baseline: d.baseline.to_vec(),
					meters: d.meters.to_vec(),
					method: d.method,
				};
				(p, d)
			})
			.collect(),
		meterings: Meterings::<Test>::iter_prefix(1).collect(),
		history: History::<Test>::iter_prefix(1).collect(),
		mechanisms: OfferMechanisms::<Test>::iter_prefix(1)
			.map(|(o, m)| (o, (m, Mechanisms::<Test>::get(m).map(|m| m.rule))))
			.collect(),
		outcomes: Outcomes::<Test>::iter_prefix(1).collect(),
		tally: Tallies::<Test>::get(1),
		anchor: AnchorLog::get()
			.into_iter()
			.find(|a| a.1 == AnchorKind::Settlement && a.2 == subject(1))
			.map(|a| (a.3, a.4, a.0)),
	}
}

/// The audit, running the mock's contract again as an auditor would run the real one.
fn audit() -> crate::audit::Report {
	audit_with(|_, _, _| crate::audit::Rerun::Ran(ContractAnswer::get()))
}

fn audit_with(
	rerun: impl FnMut(&u64, &MechanismInput, u64) -> crate::audit::Rerun,
) -> crate::audit::Report {
	crate::audit::audit(
		&records(),
		DefaultSettlementTerms::get(),
		MaxTolerance::get(),
		&Settlement::account(),
		rerun,
	)
}

#[test]
fn the_audit_recomputes_every_outcome_and_the_anchor() {
	ExtBuilder::default()
		.funded(DSO, 10_000)
		.funded(AGG_B, DISPUTE_DEPOSIT)
		.build()
		.execute_with(|| {
			assert_ok!(Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Contract {
					contract: CONTRACT,
					gas: 1_000
				}
			));
			assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
			ContractAnswer::set(Some(split(150, 0, 0)));
			baseline(11, 6_000);
			let measured = measured(750);
			let second = award(1, 10, AGG_A, Q, PRICE);
			edit_award(second, |a| a.pod_before = Q);
			let unmetered = award(2, 11, AGG_B, Q, PRICE);
			set_phase(Phase::Final);
			assert_ok!(settle(&[measured, second, unmetered]));
			let report = audit();
			assert!(report.is_clean(), "{:?}", report.findings);
			assert_eq!(
				(
					report.settled,
					report.final_outcomes,
					report.contracts_rerun,
					report.contract_answers
				),
				(3, 0, 2, 0)
			);
			// A contract the auditor cannot run: its stored answers stand, within bounds.
			let report = audit_with(|_, _, _| crate::audit::Rerun::NotRun);
			assert!(report.is_clean(), "{:?}", report.findings);
			assert_eq!((report.contracts_rerun, report.contract_answers), (0, 2));
			// A contract that answers otherwise when run again (a node that stored an answer
			// the contract does not give), or fails: a difference (the second award's answer
			// fails its bounds either way, so only the first differs).
			for other in [Some(split(100, 0, 0)), None] {
				let report = audit_with(|_, _, _| crate::audit::Rerun::Ran(other));
				let outcomes = report
					.findings
					.iter()
					.filter(|(f, _)| *f == crate::audit::Finding::Outcome)
					.count();
				assert_eq!(outcomes, 1, "{other:?}: {:?}", report.findings);
			}
			// Disputed, metered late, settled again by governance; the rest made final.
			assert_ok!(Settlement::dispute(signed(AGG_B), 1, unmetered));
			assert_ok!(submit(11, 0, metered(&[110], 0, 1_200, 0)));
			assert_ok!(Settlement::resolve(root(), 1, unmetered, None));
			NowMs::set(slot_start(1) + 3 * HOUR);
			assert_ok!(finalize(&[second, measured]));
			let report = audit();
			assert!(report.is_clean(), "{:?}", report.findings);
			assert_eq!(report.final_outcomes, 3);
			assert_eq!(report.root, Some(Settlement::outcome_leaves(1).1));

			// A stored outcome that pays more than its inputs give is found.
			Outcomes::<Test>::mutate(1, second, |o| {
				if let Some(o) = o {
					o.record.input.delivered_wms += 1;
				}
			});
			assert_eq!(outcome(unmetered).record.basis, Basis::Measured);
			let findings: Vec<_> = audit().findings.into_iter().map(|(f, _)| f).collect();
			assert!(
				findings.contains(&crate::audit::Finding::Outcome),
				"{findings:?}"
			);
			assert!(
				findings.contains(&crate::audit::Finding::Tally),
				"{findings:?}"
			);
			assert!(
				findings.contains(&crate::audit::Finding::Anchor),
				"{findings:?}"
			);
		});
}

// ---- conservation (property) ----

mod conservation {
	use super::*;
	use proptest::prelude::*;

	#[derive(Debug, Clone)]
	struct Case {
		funds: [u128; 3],
		awards: Vec<(bool, u32, u64, bool, i64, u64, u64)>,
		share: u32,
		owner: bool,
		disputes: Vec<bool>,
	}

	fn case() -> impl Strategy<Value = Case> {
		(
			[0u128..400, 0u128..400, 0u128..400],
			prop::collection::vec(
				(
					any::<bool>(),
					0u32..8_000,
					1u64..400_000,
					any::<bool>(),
					-4_000i64..12_000,
					0u64..1_200,
					0u64..600,
				),
				1..6,
			),
			0u32..1_000_000,
			any::<bool>(),
			prop::collection::vec(any::<bool>(), 6),
		)
			.prop_map(|(funds, awards, share, owner, disputes)| Case {
				funds,
				awards,
				share,
				owner,
				disputes,
			})
	}

	proptest! {
		#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

		/// Random sessions settled, disputed, resolved and paid: no token is created or lost
		/// except by mint and burn, every split passes its check, and the anchored root is
		/// the root of the final outcomes (FR-MP-SET-05).
		#[test]
		fn tokens_are_conserved(c in case()) {
			ExtBuilder::default()
				.funded(DSO, c.funds[0] + 1)
				.funded(AGG_A, c.funds[1] + 1)
				.funded(AGG_B, c.funds[2] + 1)
				.build()
				.execute_with(|| {
					let terms = Terms {
						tolerance: Permill::from_percent(5),
						penalty: Permill::from_percent(80),
						customer_share: Permill::from_parts(c.share),
					};
					assert_ok!(Settlement::create_mechanism(signed(AGG_A), Rule::Standard(terms)));
					assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, 1));
					if c.owner {
						assert_ok!(Settlement::set_pod_owner(signed(DSO), 10, Some(CUSTOMER)));
					}
					let mut refs = Vec::new();
					for (i, (pod_a, q, price, down, _, _, _)) in c.awards.iter().enumerate() {
						let (pod, agg) = if *pod_a { (10, AGG_A) } else { (11, AGG_B) };
						let at = award(i as u32, pod, agg, *q, *price);
						if *down {
							edit_award(at, |a| a.direction = Direction::Down);
						}
						refs.push(at);
					}
					let (_, _, _, _, b, imp, exp) = c.awards[0];
					baseline(10, b);
					baseline(11, b / 2);
					set_phase(Phase::Final);
					NowMs::set(slot_start(1));
					assert_ok!(submit(10, 0, metered(&[100, 101], 0, imp * 3, exp * 3)));
					if imp % 2 == 0 {
						assert_ok!(submit(11, 0, metered(&[110], 0, exp * 3, imp * 3)));
					}
					NowMs::set(slot_start(1) + HOUR);
					assert_ok!(settle(&refs));
					for (at, d) in refs.iter().zip(&c.disputes) {
						if !*d {
							continue;
						}
						if Balances::balance(&DSO) < DISPUTE_DEPOSIT {
							assert_noop!(
								Settlement::dispute(signed(DSO), 1, *at),
								Error::<Test>::CannotPayDeposit
							);
							continue;
						}
						assert_ok!(Settlement::dispute(signed(DSO), 1, *at));
						assert_ok!(Settlement::resolve(root(), 1, *at, None));
					}
					NowMs::set(slot_start(1) + 3 * HOUR);
					let open: Vec<AwardRef> = refs
						.iter()
						.copied()
						.filter(|at| matches!(outcome(*at).status, Status::Open { .. }))
						.collect();
					assert_ok!(finalize(&open));
					let minted = Minted::<Test>::get();
					let held: u128 = [DSO, AGG_A, AGG_B, CUSTOMER, Settlement::account()]
						.iter()
						.map(Balances::balance)
						.sum();
					assert_eq!(held, minted);
					assert_eq!(Balances::total_issuance(), minted);
					assert_eq!(AnchorLog::get().len(), 1);
					assert_ok!(Settlement::do_try_state());
				});
		}
	}
}

// ---- figures ----

/// Proof bytes per award (docs/benchmarks.md): one meter's 15-minute slot as two interval
/// deltas (import, export) in an hourly gateway window of 1,024 meters, each certified with
/// eight readings an hour: the bytes `submit_metering` carries for the slot, SCALE-encoded.
#[test]
fn a_slots_metering_proof_is_about_a_kilobyte() {
	use codec::Encode;
	use platone_primitives::{merkle::MerkleTree, Blake2_256, DatasetRoot};
	let window = Window {
		start_ms: DAY_D,
		duration_ms: HOUR as u32,
	};
	let hour: Vec<_> = (0..4u64)
		.flat_map(|s| {
			let t = DAY_D + (s + 1) * SLOT_MS;
			let acc = Accumulation::Delta { interval_s: 900 };
			[reading(100, t, Imp, acc, 250), reading(100, t, Exp, acc, 0)]
		})
		.collect();
	let leaves: Vec<Vec<u8>> = hour.iter().map(|r| r.canonical_bytes()).collect();
	let tree = MerkleTree::from_leaves::<Blake2_256>(&leaves);
	let root = DatasetRoot {
		dataset: 100,
		leaf_count: tree.leaf_count(),
		root: tree.root::<Blake2_256>(),
	};
	// The gateway's other 1,023 meters' roots beside this one.
	let mut roots = vec![root.leaf_hash::<Blake2_256>()];
	roots.extend((1..1_024u64).map(|i| sp_io::hashing::blake2_256(&i.to_le_bytes())));
	let top = MerkleTree::from_leaf_hashes::<Blake2_256>(roots);
	let readings: Vec<(u64, Window, MeasurementProof)> = (0..2)
		.map(|i| {
			(
				GATEWAY,
				window,
				MeasurementProof {
					leaf: leaves[i].clone(),
					leaf_proof: tree.proof(i as u64).expect("in the tree"),
					dataset: root,
					dataset_proof: top.proof(0).expect("in the tree"),
				},
			)
		})
		.collect();
	// With 32-byte accounts, as on chain.
	let bytes = readings.encode().len() + 2 * (32 - 8);
	assert!((900..1_300).contains(&bytes), "{bytes} bytes");
}

// ---- standard baselines (FR-MP-SET-04) ----

/// Wednesday 2026-12-02, session 1's delivery day.
const WED: Day = 20_789;
const TUE: Day = WED - 1;
const MON: Day = WED - 2;
const FRI: Day = WED - 5;
const THU: Day = WED - 6;

/// [`deltas`] of slot 0 moved back to `day`, certified in that day's window, with `quality`.
fn history(meters: &[u64], day: Day, import: u64, quality: ReadingQuality) -> Readings {
	let back = u64::from(WED - day) * crate::baseline::DAY_MS;
	let records: Vec<_> = deltas(meters, 0, import, 0)
		.into_iter()
		.map(|mut r| {
			r.timestamp_us -= back * 1_000;
			if let platone_primitives::Reading::MeterRead(read) = &mut r.reading {
				read.quality = quality;
			}
			r.sequence = match &r.reading {
				platone_primitives::Reading::MeterRead(read) => read.sequence(),
				_ => r.sequence,
			};
			r
		})
		.collect();
	let window = Window {
		start_ms: DAY_D - back,
		duration_ms: (2 * HOUR) as u32,
	};
	certify(GATEWAY, window, &records)
}

fn submit_history(
	pod: PodId,
	day: Day,
	readings: Readings,
) -> frame_support::dispatch::DispatchResult {
	Settlement::submit_history(signed(GATEWAY), 1, pod, 0, day, bounded(readings))
}

fn standard(pod: PodId, days: u8) -> frame_support::dispatch::DispatchResult {
	Settlement::set_baseline_method(
		signed(MockRegistry::pod_aggregator_of(pod)),
		1,
		pod,
		BaselineMethod::WorkingDays(days),
	)
}

#[test]
fn a_pods_aggregator_chooses_a_standard_baseline_before_gate_closure() {
	ExtBuilder::default().build().execute_with(|| {
		assert_noop!(standard(10, 0), Error::<Test>::BadHistoryDays);
		assert_noop!(
			standard(10, crate::baseline::MAX_HISTORY_DAYS + 1),
			Error::<Test>::BadHistoryDays
		);
		let five = BaselineMethod::WorkingDays(5);
		assert_noop!(
			Settlement::set_baseline_method(signed(AGG_B), 1, 10, five),
			Error::<Test>::NotPodAggregator
		);
		assert_noop!(
			Settlement::set_baseline_method(signed(AGG_A), 1, 99, five),
			Error::<Test>::UnknownPod
		);
		assert_noop!(
			Settlement::set_baseline_method(signed(AGG_A), 2, 10, five),
			Error::<Test>::UnknownSession
		);
		assert_noop!(
			Settlement::set_baseline_method(signed(DSO), 1, 10, five),
			DispatchError::BadOrigin
		);
		// Declared values stay, and the method decides which counts.
		baseline(10, 10_000);
		assert_ok!(standard(10, 5));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::BaselineMethodSet {
				session: 1,
				pod: 10,
				method: five
			})
		);
		let d = Baselines::<Test>::get(1, 10).expect("declared");
		assert_eq!(
			(d.method, d.baseline.len(), d.meters.to_vec()),
			(five, 2, vec![100, 101])
		);
		baseline(10, 9_000);
		assert_eq!(Baselines::<Test>::get(1, 10).map(|d| d.method), Some(five));
		NowMs::set(DAY_D - HOUR);
		assert_noop!(standard(10, 5), Error::<Test>::GateClosed);
	});
}

#[test]
fn history_is_proven_and_only_for_the_baselines_candidate_days() {
	ExtBuilder::default().build().execute_with(|| {
		let _at = award(0, 10, AGG_A, Q, PRICE);
		assert_noop!(
			submit_history(
				10,
				TUE,
				history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
			),
			Error::<Test>::NotDeclared
		);
		baseline(10, 10_000);
		assert_noop!(
			submit_history(
				10,
				TUE,
				history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
			),
			Error::<Test>::NotStandardBaseline
		);
		assert_ok!(standard(10, 2));
		// Two days average over four candidates: Tue, Mon, Fri, Thu.
		for day in [WED, WED - 3, WED - 4, WED - 7, WED + 1] {
			assert_noop!(
				submit_history(
					10,
					day,
					history(&[100, 101], day.min(WED), 1_000, ReadingQuality::Valid)
				),
				Error::<Test>::NotCandidateDay
			);
		}
		assert_noop!(
			Settlement::submit_history(
				RuntimeOrigin::none(),
				1,
				10,
				0,
				TUE,
				bounded(history(&[100, 101], TUE, 1_000, ReadingQuality::Valid))
			),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Settlement::submit_history(signed(GATEWAY), 1, 10, 4, TUE, bounded(vec![])),
			Error::<Test>::SlotOutOfRange
		);
		assert_noop!(
			Settlement::submit_history(signed(GATEWAY), 2, 10, 0, TUE, bounded(vec![])),
			Error::<Test>::UnknownSession
		);
		NowMs::set(DAY_D - crate::baseline::DAY_MS + MINUTE);
		assert_noop!(
			submit_history(
				10,
				TUE,
				history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
			),
			Error::<Test>::SlotNotOver
		);
		NowMs::set(DAY_D - 3 * HOUR);
		// The slot's own readings are not Monday's, nor Tuesday's readings Monday's.
		assert_noop!(
			submit_history(10, MON, metered(&[100, 101], 0, 1_000, 0)),
			Error::<Test>::OutsideSlot
		);
		assert_noop!(
			submit_history(
				10,
				MON,
				history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
			),
			Error::<Test>::OutsideSlot
		);
		assert_noop!(
			submit_history(10, TUE, history(&[100], TUE, 1_000, ReadingQuality::Valid)),
			Error::<Test>::IncompleteMetering
		);
		let mut forged = history(&[100, 101], TUE, 1_000, ReadingQuality::Valid);
		forged[0].2.leaf[20] ^= 1;
		assert_noop!(submit_history(10, TUE, forged), Error::<Test>::BadProof);
		// Flagged, then valid; then no more.
		assert_ok!(submit_history(
			10,
			TUE,
			history(&[100, 101], TUE, 1_000, ReadingQuality::Estimated)
		));
		assert_eq!(
			last_event(),
			RuntimeEvent::Settlement(Event::HistoryMetered {
				session: 1,
				pod: 10,
				slot: 0,
				day: TUE,
				import_wh: 2_000,
				export_wh: 0,
				quality: ReadingQuality::Estimated,
			})
		);
		assert_ok!(submit_history(
			10,
			TUE,
			history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
		));
		assert_noop!(
			submit_history(
				10,
				TUE,
				history(&[100, 101], TUE, 1_000, ReadingQuality::Valid)
			),
			Error::<Test>::AlreadyMetered
		);
		assert_eq!(
			History::<Test>::get(1, (10, 0, TUE)).map(|m| (m.import_wh, m.quality)),
			Some((2_000, ReadingQuality::Valid))
		);
	});
}

/// NODES: the mean of the latest valid working days, skipping a flagged and a missing one.
/// The slot's first settlement closes its history: a later day changes nothing.
#[test]
fn a_standard_baseline_averages_the_latest_valid_working_days() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = award(0, 10, AGG_A, Q, PRICE);
			baseline(10, 1_000_000);
			assert_ok!(standard(10, 2));
			set_phase(Phase::Final);
			NowMs::set(slot_start(1));
			// 2,500 Wh on Tuesday (10 kW); Monday flagged; nothing on Friday; 2,000 Wh on
			// Thursday (8 kW). Mean 9 kW.
			for (day, wh, quality) in [
				(TUE, 1_250, ReadingQuality::Valid),
				(MON, 5_000, ReadingQuality::Suspect),
				(THU, 1_000, ReadingQuality::Valid),
			] {
				assert_ok!(submit_history(
					10,
					day,
					history(&[100, 101], day, wh, quality)
				));
			}
			// 1,500 Wh metered: 6 kW, so 3 kW of the 4 kW delivered.
			assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
			NowMs::set(slot_start(1) + HOUR);
			assert_ok!(settle(&[at]));
			let o = outcome(at);
			assert_eq!(
				(o.record.basis, o.record.baseline_w),
				(Basis::Measured, Some(9_000))
			);
			assert_eq!(o.record.input.delivered_wms, 3_000 * SLOT_MS as i128);
			assert!(HistoryClosed::<Test>::contains_key(1, (10, 0)));
			// A valid Friday would have counted instead of Thursday; now it is too late.
			assert_noop!(
				submit_history(
					10,
					FRI,
					history(&[100, 101], FRI, 500, ReadingQuality::Valid)
				),
				Error::<Test>::HistoryClosed
			);
			assert_eq!(audit().findings, vec![]);
			// A dispute settles it again from the same history.
			assert_ok!(Settlement::dispute(signed(DSO), 1, at));
			assert_ok!(Settlement::resolve(root(), 1, at, None));
			assert_eq!(outcome(at).record.baseline_w, Some(9_000));
			assert_eq!(audit().findings, vec![]);
			assert_ok!(Settlement::do_try_state());
		});
}

/// Without enough valid history at the slot's first settlement, an award settles `NoHistory`:
/// nothing paid, no penalty, for good.
#[test]
fn without_enough_history_an_award_settles_no_history_for_good() {
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let at = award(0, 10, AGG_A, Q, PRICE);
			assert_ok!(standard(10, 2));
			set_phase(Phase::Final);
			NowMs::set(slot_start(1));
			assert_ok!(submit_history(
				10,
				TUE,
				history(&[100, 101], TUE, 1_250, ReadingQuality::Valid)
			));
			assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
			NowMs::set(slot_start(1) + HOUR);
			assert_ok!(settle(&[at]));
			let o = outcome(at);
			assert_eq!(
				(o.record.basis, o.record.baseline_w, o.record.split),
				(Basis::NoHistory, None, Split::default())
			);
			assert_noop!(
				submit_history(
					10,
					THU,
					history(&[100, 101], THU, 1_000, ReadingQuality::Valid)
				),
				Error::<Test>::HistoryClosed
			);
			assert_noop!(settle(&[at]), Error::<Test>::AlreadySettled);
			assert_eq!(audit().findings, vec![]);
			finalize_after_window(at);
			assert_eq!(outcome(at).status, Status::Paid);
			assert_eq!(Balances::balance(&DSO), 1_000, "nothing moved");
			assert_eq!(audit().findings, vec![]);
			assert_ok!(Settlement::do_try_state());
		});
}

// ---- pruning (issue #13: storage is bounded; old sessions are pruned after settlement) ----

/// Every entry the pallet keeps for session `s`.
fn session_records(s: SessionId) -> usize {
	usize::from(Tallies::<Test>::contains_key(s))
		+ Outcomes::<Test>::iter_prefix(s).count()
		+ Meterings::<Test>::iter_prefix(s).count()
		+ History::<Test>::iter_prefix(s).count()
		+ HistoryClosed::<Test>::iter_prefix(s).count()
		+ Baselines::<Test>::iter_prefix(s).count()
		+ OfferMechanisms::<Test>::iter_prefix(s).count()
}

#[test]
fn a_settled_sessions_records_are_pruned_in_bounded_steps_and_nothing_else() {
	use pallet_market::SessionSettled;
	ExtBuilder::default()
		.funded(DSO, 1_000)
		.build()
		.execute_with(|| {
			let terms = no_terms();
			assert_ok!(Settlement::create_mechanism(
				signed(AGG_A),
				Rule::Standard(terms)
			));
			let mechanism = LastMechanism::<Test>::get();
			assert_ok!(Settlement::choose_mechanism(signed(AGG_A), 1, 1, mechanism));
			let at = award(0, 10, AGG_A, Q, PRICE);
			baseline(10, 1_000_000);
			// Two valid days needed, one given: it settles NoHistory, and closes the history.
			assert_ok!(standard(10, 2));
			set_phase(Phase::Final);
			NowMs::set(slot_start(1));
			for day in [TUE, MON] {
				let wh = if day == TUE { 1_250 } else { 1_000 };
				assert_ok!(submit_history(
					10,
					day,
					history(&[100, 101], day, wh, ReadingQuality::Suspect)
				));
			}
			assert_ok!(submit_history(
				10,
				FRI,
				history(&[100, 101], FRI, 1_250, ReadingQuality::Valid)
			));
			assert_ok!(submit(10, 0, metered(&[100, 101], 0, 750, 0)));
			NowMs::set(slot_start(1) + HOUR);
			assert_ok!(settle(&[at]));
			// Another session's record, which pruning session 1 must leave.
			let other = Metering {
				import_wh: 1,
				export_wh: 0,
				quality: ReadingQuality::Valid,
				readings: 1,
			};
			Meterings::<Test>::insert(2, (10, 0), other);
			// Not settled yet: the market does not prune (its own test), and the tally stays.
			assert!(!Settlement::is_settled(1));
			finalize_after_window(at);
			assert!(Settlement::is_settled(1));
			let records = session_records(1);
			// Tally, outcome, metering, three days of history, the closure, the declaration,
			// the offer's mechanism.
			assert_eq!(records, 9);
			let balances = [DSO, AGG_A].map(|a| Balances::balance(&a));
			let issuance = Balances::total_issuance();
			assert_eq!(
				Settlement::prune(1, 0),
				(0, false),
				"no budget, no progress"
			);
			let mut removed = 0;
			let mut calls = 0;
			loop {
				let (n, done) = Settlement::prune(1, 2);
				assert!(n <= 2);
				removed += n as usize;
				calls += 1;
				// A half-pruned session keeps the invariants: the tally went first.
				assert!(!Tallies::<Test>::contains_key(1));
				assert_ok!(Settlement::do_try_state());
				if done {
					break;
				}
				assert!(calls < 10);
			}
			assert_eq!((removed, calls), (records, 5));
			assert_eq!(session_records(1), 0);
			assert_eq!(Settlement::prune(1, 2), (0, true), "nothing left is done");
			// What is not the session's stays: mechanisms, tokens, other sessions.
			assert!(Mechanisms::<Test>::contains_key(mechanism));
			assert_eq!([DSO, AGG_A].map(|a| Balances::balance(&a)), balances);
			assert_eq!(Balances::total_issuance(), issuance);
			assert_eq!(Meterings::<Test>::get(2, (10, 0)), Some(other));
		});
}
