//! Benchmarks (v2) of every call, each on its worst path: metering proven reading by reading,
//! awards settled from baseline and metering with a listed mechanism, outcomes made final and
//! paid in full with a customer share, the last one anchoring.

use super::*;
use crate::Pallet as Settlement;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Inspect, EnsureOrigin, Get};
use frame_system::RawOrigin;
use pallet_certification::RuntimeHasher;
use pallet_market::{MarketView, SettledAward};
use pallet_registry::roles;
use platone_primitives::{
	merkle::MerkleTree, Accumulation, DatasetRoot, EnergyQuantity, MeasurementProof,
	MeasurementRecord, MeterRead, Reading, Window,
};
use sp_runtime::Permill;

/// Delivery starts well after any clock a benchmark starts from.
const START: u64 = 1_796_169_600_000;
const SLOT: u64 = 900_000;

struct World<A> {
	dso: A,
	aggregator: A,
	gateway: A,
	pod: PodId,
	meters: Vec<DatasetId>,
}

fn world<T: Config>() -> World<T::AccountId> {
	let dso = T::BenchmarkHelper::participant(1, roles::DSO);
	let aggregator = T::BenchmarkHelper::participant(2, roles::AGGREGATOR);
	let gateway = T::BenchmarkHelper::participant(3, roles::GATEWAY);
	let (pod, meters) = T::BenchmarkHelper::pod_with_meters(&dso, &aggregator, &gateway, 1);
	World {
		dso,
		aggregator,
		gateway,
		pod,
		meters,
	}
}

fn settled_award<A: Clone>(w: &World<A>, offer: ItemId) -> SettledAward<A> {
	SettledAward {
		requester: w.dso.clone(),
		aggregator: w.aggregator.clone(),
		validator: w.dso.clone(),
		offer,
		pod: w.pod,
		slot: 0,
		direction: Direction::Up,
		quantity: 4_000,
		price: 200_000,
		pod_before: 0,
	}
}

/// Readings of slot 0 for one meter: `k` import and `k` export deltas tiling the slot (k − 1
/// of a second, the last the rest), certified by the gateway.
fn readings<T: Config>(w: &World<T::AccountId>, k: u32) -> ReadingsOf<T> {
	readings_from::<T>(w, k, START)
}

/// As [`readings`], for slot 0 moved to start at `start`.
fn readings_from<T: Config>(w: &World<T::AccountId>, k: u32, start: u64) -> ReadingsOf<T> {
	let dataset = w.meters[0];
	let mut records = Vec::new();
	let mut at = start;
	for i in 0..k {
		let end = if i + 1 == k { start + SLOT } else { at + 1_000 };
		let interval_s = ((end - at) / 1_000) as u32;
		for (quantity, value) in [
			(EnergyQuantity::ActiveImportWh, 100),
			(EnergyQuantity::ActiveExportWh, 1),
		] {
			let read = MeterRead {
				quantity,
				accumulation: Accumulation::Delta { interval_s },
				value,
				quality: ReadingQuality::Valid,
			};
			records.push(MeasurementRecord {
				dataset,
				timestamp_us: end * 1_000,
				sequence: read.sequence(),
				reading: Reading::MeterRead(read),
			});
		}
		at = end;
	}
	records.sort_by_key(|r| r.order_key());
	let leaves: Vec<Vec<u8>> = records.iter().map(|r| r.canonical_bytes()).collect();
	let tree = MerkleTree::from_leaves::<RuntimeHasher>(&leaves);
	let root = DatasetRoot {
		dataset,
		leaf_count: tree.leaf_count(),
		root: tree.root::<RuntimeHasher>(),
	};
	// Two slots long: a delta that ends with the slot lies in the window too.
	let window = Window {
		start_ms: start,
		duration_ms: (2 * SLOT) as u32,
	};
	let top =
		MerkleTree::from_leaf_hashes::<RuntimeHasher>(vec![root.leaf_hash::<RuntimeHasher>()]);
	T::BenchmarkHelper::certify(&w.gateway, window, top.root::<RuntimeHasher>());
	let proofs: Vec<_> = leaves
		.into_iter()
		.enumerate()
		.filter_map(|(i, leaf)| {
			Some((
				w.gateway.clone(),
				window,
				MeasurementProof {
					leaf,
					leaf_proof: tree.proof(i as u64)?,
					dataset: root,
					dataset_proof: top.proof(0)?,
				},
			))
		})
		.collect();
	proofs.try_into().unwrap_or_default()
}

fn terms() -> Terms {
	Terms {
		tolerance: Permill::from_percent(5),
		penalty: Permill::from_percent(50),
		customer_share: Permill::from_percent(20),
	}
}

/// Session 1 final with `n` awards of the world's PoD in slot 0, a standard baseline of
/// `MAX_HISTORY_DAYS` whose history is complete only on its oldest candidate days (the others
/// flagged), a mechanism, metering, a PoD owner and a funded requester; the clock past the
/// metering delay.
fn ready<T: Config>(n: u32) -> (World<T::AccountId>, Vec<AwardRef>) {
	let w = world::<T>();
	let awards: Vec<_> = (0..n).map(|_| settled_award(&w, 1)).collect();
	T::BenchmarkHelper::set_now_ms(START - 3 * 3_600_000);
	T::Market::bench_session(1, awards.clone(), START, false);
	let _ = Settlement::<T>::do_create_mechanism(w.aggregator.clone(), Rule::Standard(terms()));
	let _ = Settlement::<T>::do_choose_mechanism(w.aggregator.clone(), 1, 1, 1);
	let baseline: BaselineOf<T> = vec![(0, 40_000)].try_into().unwrap_or_default();
	let _ = Settlement::<T>::do_declare_baseline(w.aggregator.clone(), 1, w.pod, baseline);
	let days = crate::baseline::MAX_HISTORY_DAYS;
	let _ = Settlement::<T>::do_set_baseline_method(
		w.aggregator.clone(),
		1,
		w.pod,
		BaselineMethod::WorkingDays(days),
	);
	for (i, day) in crate::baseline::candidate_days(START, days).enumerate() {
		// 10,000 Wh over 15 minutes: 40,000 W.
		let quality = if i < usize::from(days) {
			ReadingQuality::Estimated
		} else {
			ReadingQuality::Valid
		};
		let m = Metering {
			import_wh: 10_000,
			export_wh: 0,
			quality,
			readings: 2,
		};
		History::<T>::insert(1, (w.pod, 0, day), m);
	}
	T::Market::bench_session(1, awards, START, true);
	let _ = Settlement::<T>::do_set_pod_owner(
		w.dso.clone(),
		w.pod,
		Some(T::BenchmarkHelper::participant(
			4,
			roles::BALANCE_SERVICE_PROVIDER,
		)),
	);
	T::BenchmarkHelper::set_now_ms(START + SLOT);
	let r = readings::<T>(&w, 2);
	let _ = Settlement::<T>::do_submit_metering(1, w.pod, 0, r);
	let _ = Settlement::<T>::do_mint(
		w.dso.clone(),
		1_000_000_000u128.saturating_add(DisputeDepositAmount::<T>::get()),
	);
	T::BenchmarkHelper::set_now_ms(START + SLOT + SettlementParams::<T>::get().metering_delay_ms);
	let refs = (0..n).map(|index| AwardRef { step: 0, index }).collect();
	(w, refs)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_mechanism() -> Result<(), BenchmarkError> {
		let origin =
			T::AggregatorOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Rule::Standard(terms()));
		assert_eq!(LastMechanism::<T>::get(), 1);
		Ok(())
	}

	#[benchmark]
	fn retire_mechanism() {
		let w = world::<T>();
		let _ = Settlement::<T>::do_create_mechanism(w.aggregator.clone(), Rule::Standard(terms()));
		#[extrinsic_call]
		_(RawOrigin::Signed(w.aggregator), 1);
		assert!(Mechanisms::<T>::get(1).is_some_and(|m| m.retired));
	}

	#[benchmark]
	fn choose_mechanism() {
		let w = world::<T>();
		T::BenchmarkHelper::set_now_ms(START - 3 * 3_600_000);
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, false);
		let _ = Settlement::<T>::do_create_mechanism(w.aggregator.clone(), Rule::Standard(terms()));
		#[extrinsic_call]
		_(RawOrigin::Signed(w.aggregator), 1, 1, 1);
		assert_eq!(OfferMechanisms::<T>::get(1, 1), Some(1));
	}

	#[benchmark]
	fn declare_baseline() {
		let w = world::<T>();
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, false);
		let slots: u16 = 4;
		let baseline: BaselineOf<T> = (0..slots)
			.map(|s| (s, 1_000))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap_or_default();
		#[extrinsic_call]
		_(RawOrigin::Signed(w.aggregator), 1, w.pod, baseline);
		assert!(Baselines::<T>::contains_key(1, w.pod));
	}

	#[benchmark]
	fn set_pod_owner() {
		let w = world::<T>();
		let owner = w.aggregator.clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(w.dso), w.pod, Some(owner));
		assert!(PodOwners::<T>::contains_key(w.pod));
	}

	/// `r` pairs of readings (import and export), so `2r` proofs.
	#[benchmark]
	fn submit_metering(r: Linear<1, { T::MaxReadings::get() / 2 }>) {
		let w = world::<T>();
		T::BenchmarkHelper::set_now_ms(START - 3 * 3_600_000);
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, false);
		let baseline: BaselineOf<T> = vec![(0, 40_000)].try_into().unwrap_or_default();
		let _ = Settlement::<T>::do_declare_baseline(w.aggregator.clone(), 1, w.pod, baseline);
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, true);
		T::BenchmarkHelper::set_now_ms(START + SLOT);
		let readings = readings::<T>(&w, r);
		let caller = w.gateway.clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), 1, w.pod, 0, readings);
		assert!(Meterings::<T>::contains_key(1, (w.pod, 0)));
	}

	#[benchmark]
	fn set_baseline_method() {
		let w = world::<T>();
		T::BenchmarkHelper::set_now_ms(START - 3 * 3_600_000);
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, false);
		let baseline: BaselineOf<T> = vec![(0, 1_000)].try_into().unwrap_or_default();
		let _ = Settlement::<T>::do_declare_baseline(w.aggregator.clone(), 1, w.pod, baseline);
		let method = BaselineMethod::WorkingDays(crate::baseline::MAX_HISTORY_DAYS);
		#[extrinsic_call]
		_(RawOrigin::Signed(w.aggregator), 1, w.pod, method);
		assert!(Baselines::<T>::get(1, w.pod).is_some_and(|d| d.method == method));
	}

	/// `r` pairs of readings of slot 0 on the day before.
	#[benchmark]
	fn submit_history(r: Linear<1, { T::MaxReadings::get() / 2 }>) {
		let w = world::<T>();
		T::BenchmarkHelper::set_now_ms(START - 3 * 3_600_000);
		T::Market::bench_session(1, vec![settled_award(&w, 1)], START, false);
		let method = BaselineMethod::WorkingDays(crate::baseline::MAX_HISTORY_DAYS);
		let _ = Settlement::<T>::do_set_baseline_method(w.aggregator.clone(), 1, w.pod, method);
		let day = crate::baseline::candidate_days(START, 1)
			.next()
			.unwrap_or_default();
		let (start, _) = crate::baseline::on_day(START, START + SLOT, day).unwrap_or_default();
		let readings = readings_from::<T>(&w, r, start);
		let caller = w.gateway.clone();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), 1, w.pod, 0, day, readings);
		assert!(History::<T>::contains_key(1, (w.pod, 0, day)));
	}

	#[benchmark]
	fn settle(n: Linear<1, { T::MaxAwardsPerCall::get() }>) {
		let (w, refs) = ready::<T>(n);
		let awards: AwardsOf<T> = refs.try_into().unwrap_or_default();
		#[extrinsic_call]
		_(RawOrigin::Signed(w.gateway), 1, awards);
		assert_eq!(Tallies::<T>::get(1).map(|t| t.settled), Some(n));
		// The worst path: metered against a baseline, through a listed mechanism.
		let first = AwardRef { step: 0, index: 0 };
		assert!(Outcomes::<T>::get(1, first).is_some_and(|o| o.record.basis == Basis::Measured));
	}

	#[benchmark]
	fn dispute() {
		let (w, refs) = ready::<T>(1);
		let _ = Settlement::<T>::do_settle(1, &refs);
		#[extrinsic_call]
		_(RawOrigin::Signed(w.dso), 1, refs[0]);
		assert!(Outcomes::<T>::get(1, refs[0]).is_some_and(|o| o.status == Status::Disputed));
		assert!(DisputeDeposits::<T>::contains_key(1, refs[0]));
	}

	#[benchmark]
	fn resolve() -> Result<(), BenchmarkError> {
		let (w, refs) = ready::<T>(1);
		let _ = Settlement::<T>::do_settle(1, &refs);
		let _ = Settlement::<T>::do_dispute(w.dso, 1, refs[0]);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 1, refs[0], None);
		assert!(Outcomes::<T>::get(1, refs[0]).is_some_and(|o| o.status == Status::Paid));
		assert!(!DisputeDeposits::<T>::contains_key(1, refs[0]));
		Ok(())
	}

	#[benchmark]
	fn finalize(n: Linear<1, { T::MaxAwardsPerCall::get() }>) {
		let (w, refs) = ready::<T>(n);
		let _ = Settlement::<T>::do_settle(1, &refs);
		T::BenchmarkHelper::set_now_ms(
			START + SLOT + {
				let p = SettlementParams::<T>::get();
				p.metering_delay_ms + p.dispute_ms
			},
		);
		let awards: AwardsOf<T> = refs.try_into().unwrap_or_default();
		#[extrinsic_call]
		_(RawOrigin::Signed(w.gateway), 1, awards);
		assert!(Tallies::<T>::get(1).is_some_and(|t| t.root.is_some()));
	}

	#[benchmark]
	fn mint() -> Result<(), BenchmarkError> {
		let who = T::BenchmarkHelper::participant(1, roles::DSO);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		// A chain's genesis may have minted already.
		let before = Minted::<T>::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who, 1_000);
		assert_eq!(Minted::<T>::get(), before + 1_000);
		Ok(())
	}

	#[benchmark]
	fn request_redemption() {
		let who = T::BenchmarkHelper::participant(1, roles::DSO);
		let _ = Settlement::<T>::do_mint(who.clone(), 1_000);
		#[extrinsic_call]
		_(RawOrigin::Signed(who), 600);
		assert!(Redemptions::<T>::contains_key(1));
	}

	#[benchmark]
	fn burn_redeemed() -> Result<(), BenchmarkError> {
		let who = T::BenchmarkHelper::participant(1, roles::DSO);
		let _ = Settlement::<T>::do_mint(who.clone(), 1_000);
		let _ = Settlement::<T>::do_request_redemption(who, 1_000);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 1);
		assert_eq!(Burned::<T>::get(), 1_000);
		Ok(())
	}

	#[benchmark]
	fn cancel_redemption() -> Result<(), BenchmarkError> {
		let who = T::BenchmarkHelper::participant(1, roles::DSO);
		let _ = Settlement::<T>::do_mint(who.clone(), 1_000);
		let _ = Settlement::<T>::do_request_redemption(who.clone(), 1_000);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 1);
		assert_eq!(T::Token::balance(&who), 1_000);
		Ok(())
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let params = Params {
			metering_delay_ms: 1,
			dispute_ms: 2,
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		assert_eq!(SettlementParams::<T>::get(), params);
		Ok(())
	}

	#[benchmark]
	fn set_dispute_deposit() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, 7);
		assert_eq!(DisputeDepositAmount::<T>::get(), 7);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Settlement,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
