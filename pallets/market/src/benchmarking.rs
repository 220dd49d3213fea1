//! Benchmarks (v2) for every call and every hook step, at the worst case of each parameter.

use super::*;

use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	weights::Weight,
	BoundedVec,
};
use frame_system::RawOrigin;
use pallet_registry::roles;

/// A UTC midnight.
const NOW_MS: u64 = 1_796_169_600_000;
const HOUR: u64 = 3_600_000;

fn slots<T: Config>() -> u16 {
	u16::try_from(T::MaxSlots::get()).unwrap_or(u16::MAX / 2)
}

/// A quantity in every slot: the largest request or offer.
fn full<T: Config>(power: Power) -> QuantitiesOf<T> {
	BoundedVec::truncate_from((0..slots::<T>()).map(|s| (s, power)).collect())
}

/// A day-ahead schedule of `MaxSlots` 15-minute slots: D-2 12:00 to D-1 12:00.
fn day_ahead<T: Config>() -> Schedule {
	Schedule {
		period_ms: 900_000 * u64::from(slots::<T>()),
		slot_ms: 900_000,
		open_lead_ms: 36 * HOUR,
		gate_lead_ms: 12 * HOUR,
		validation_ms: 2 * HOUR,
	}
}

/// An open session on the day-ahead schedule, with every slot, its gate an hour ahead.
fn new_session<T: Config>() -> SessionId {
	T::BenchmarkHelper::set_now_ms(NOW_MS);
	let session = LastSession::<T>::get().saturating_add(1);
	LastSession::<T>::put(session);
	let start = NOW_MS + 13 * HOUR;
	Sessions::<T>::insert(
		session,
		SessionInfo::opened(
			SessionKind::DayAhead,
			start,
			&day_ahead::<T>(),
			slots::<T>(),
			Pricing::Uniform,
			T::ExactLimit::get(),
		),
	);
	Live::<T>::mutate(|l| {
		let _ = l.try_push(session);
	});
	session
}

struct Grid<A> {
	dso: A,
	aggregator: A,
	feeder: AreaId,
	pod: PodId,
}

/// A DSO with a zone and a feeder under it, and an aggregator with a PoD on the feeder.
fn grid<T: Config>() -> Grid<T::AccountId> {
	let dso = T::BenchmarkHelper::participant(1, roles::DSO);
	let aggregator = T::BenchmarkHelper::participant(2, roles::AGGREGATOR);
	let zone = T::BenchmarkHelper::area(&dso, None);
	let feeder = T::BenchmarkHelper::area(&dso, Some(zone));
	let pod = T::BenchmarkHelper::pod(feeder, &aggregator);
	Grid {
		dso,
		aggregator,
		feeder,
		pod,
	}
}

/// `r` requests in the zone and `o` offers on the feeder, every pair compatible, the first
/// `m` of them with a minimum, all in slot 0 upwards: the densest clearing step.
fn book<T: Config>(session: SessionId, g: &Grid<T::AccountId>, r: u32, o: u32, m: u32) {
	book_slots::<T>(session, g, r, o, m, 1)
}

/// As `book`, each item with power in the first `slots` slots; with more than one slot, the
/// requests alternate up and down, so that they reach every step.
fn book_slots<T: Config>(
	session: SessionId,
	g: &Grid<T::AccountId>,
	r: u32,
	o: u32,
	m: u32,
	slots: u16,
) {
	let mut info = Sessions::<T>::get(session).expect("an open session");
	let one = |p: Power| BoundedVec::truncate_from((0..slots.max(1)).map(|s| (s, p)).collect());
	for i in 0..r {
		info.last_item += 1;
		Requests::<T>::insert(
			session,
			info.last_item,
			Request {
				owner: g.dso.clone(),
				requester: Requester::Dso,
				input: RequestInput {
					area: g.feeder,
					direction: if slots > 1 && i % 2 == 1 {
						Direction::Down
					} else {
						Direction::Up
					},
					max_price: 1_000_000,
					min_quantity: if i < m { 700 } else { 0 },
					quantities: one(1_000 + i),
				},
			},
		);
	}
	for i in 0..o {
		info.last_item += 1;
		Offers::<T>::insert(
			session,
			info.last_item,
			Offer {
				owner: g.aggregator.clone(),
				area: g.feeder,
				validator: g.dso.clone(),
				input: OfferInput {
					pod: g.pod,
					direction: Direction::Up,
					price: 1_000 + u64::from(i % 7),
					min_quantity: if i < m.saturating_sub(r) { 300 } else { 0 },
					quantities: one(500 + i % 11),
				},
			},
		);
	}
	info.requests = r;
	info.offers = o;
	Sessions::<T>::insert(session, info);
}

/// Gate closure's checking steps, all of them (its last step, the root, not yet).
fn seal_all<T: Config>(session: SessionId, info: &mut SessionInfo) {
	let (mut checked, mut kept) = (0, 0);
	while checked < info.last_item {
		let n = T::SealChunk::get().max(1);
		Pallet::<T>::seal_step(session, info, checked, kept, n);
		if let Phase::Sealing {
			checked: c,
			kept: k,
		} = info.phase
		{
			(checked, kept) = (c, k);
		}
	}
	info.phase = Phase::Sealing { checked, kept };
}

/// `a` awards in step 0, all for `validator`, and the session cleared.
fn cleared<T: Config>(session: SessionId, validator: &T::AccountId, a: u32) {
	let records: Vec<AwardRecordOf<T>> = (0..a)
		.map(|i| AwardRecord {
			award: Award {
				slot: 0,
				direction: Direction::Up,
				request: 1,
				offer: 2 + i,
				quantity: 1_000,
				price: 10,
			},
			validator: validator.clone(),
		})
		.collect();
	StepAwards::<T>::insert(session, 0, BoundedVec::truncate_from(records));
	Steps::<T>::insert(
		session,
		0,
		StepDigest {
			awards: a,
			outcome_root: [1; 32],
			validation_root: None,
			method: Some(Method::Exact),
		},
	);
	Sessions::<T>::mutate(session, |i| {
		if let Some(i) = i {
			i.awards = a;
			i.phase = Phase::Cleared {
				deadline_ms: NOW_MS + HOUR,
				pending: a,
			};
		}
	});
}

fn request_input<T: Config>(area: AreaId) -> RequestInputOf<T> {
	RequestInput {
		area,
		direction: Direction::Up,
		max_price: 100,
		min_quantity: 1,
		quantities: full::<T>(1_000),
	}
}

fn offer_input<T: Config>(pod: PodId) -> OfferInputOf<T> {
	OfferInput {
		pod,
		direction: Direction::Up,
		price: 50,
		min_quantity: 1,
		quantities: full::<T>(1_000),
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit_request() {
		let session = new_session::<T>();
		let g = grid::<T>();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(g.dso),
			session,
			request_input::<T>(g.feeder),
		);
		assert_eq!(Sessions::<T>::get(session).map(|s| s.requests), Some(1));
	}

	#[benchmark]
	fn amend_request() -> Result<(), BenchmarkError> {
		let session = new_session::<T>();
		let g = grid::<T>();
		Pallet::<T>::do_submit_request(g.dso.clone(), session, request_input::<T>(g.feeder))?;
		let mut input = request_input::<T>(g.feeder);
		input.max_price = 200;
		#[extrinsic_call]
		_(RawOrigin::Signed(g.dso), session, 1, input);
		assert_eq!(
			Requests::<T>::get(session, 1).map(|r| r.input.max_price),
			Some(200)
		);
		Ok(())
	}

	#[benchmark]
	fn withdraw_request() -> Result<(), BenchmarkError> {
		let session = new_session::<T>();
		let g = grid::<T>();
		Pallet::<T>::do_submit_request(g.dso.clone(), session, request_input::<T>(g.feeder))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(g.dso), session, 1);
		assert!(Requests::<T>::get(session, 1).is_none());
		Ok(())
	}

	#[benchmark]
	fn submit_offer() {
		let session = new_session::<T>();
		let g = grid::<T>();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(g.aggregator),
			session,
			offer_input::<T>(g.pod),
		);
		assert_eq!(Sessions::<T>::get(session).map(|s| s.offers), Some(1));
	}

	#[benchmark]
	fn amend_offer() -> Result<(), BenchmarkError> {
		let session = new_session::<T>();
		let g = grid::<T>();
		Pallet::<T>::do_submit_offer(g.aggregator.clone(), session, offer_input::<T>(g.pod))?;
		let mut input = offer_input::<T>(g.pod);
		input.price = 60;
		#[extrinsic_call]
		_(RawOrigin::Signed(g.aggregator), session, 1, input);
		assert_eq!(
			Offers::<T>::get(session, 1).map(|o| o.input.price),
			Some(60)
		);
		Ok(())
	}

	#[benchmark]
	fn withdraw_offer() -> Result<(), BenchmarkError> {
		let session = new_session::<T>();
		let g = grid::<T>();
		Pallet::<T>::do_submit_offer(g.aggregator.clone(), session, offer_input::<T>(g.pod))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(g.aggregator), session, 1);
		assert!(Offers::<T>::get(session, 1).is_none());
		Ok(())
	}

	#[benchmark]
	fn validate(
		n: Linear<1, { T::MaxAnswers::get() }>,
		a: Linear<1, { StepAwardBound::<T>::get() }>,
	) {
		let session = new_session::<T>();
		let g = grid::<T>();
		// `n` answers in one step of `a.max(n)` awards, decoded once.
		cleared::<T>(session, &g.dso, a.max(n));
		let answers: AnswersOf<T> = BoundedVec::truncate_from(
			(0..n)
				.map(|index| (AwardRef { step: 0, index }, Light::Yellow(500)))
				.collect(),
		);
		#[extrinsic_call]
		_(RawOrigin::Signed(g.dso), session, answers);
		assert_eq!(Answers::<T>::iter_prefix(session).count() as u32, n);
	}

	#[benchmark]
	fn set_schedule() -> Result<(), BenchmarkError> {
		T::BenchmarkHelper::set_now_ms(NOW_MS);
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let schedule = day_ahead::<T>();
		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			SessionKind::DayAhead,
			Some(schedule),
		);
		assert!(Schedules::<T>::get(SessionKind::DayAhead).is_some());
		Ok(())
	}

	#[benchmark]
	fn set_pricing() -> Result<(), BenchmarkError> {
		let origin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Pricing::Uniform);
		assert_eq!(SessionPricing::<T>::get(), Pricing::Uniform);
		Ok(())
	}

	#[benchmark]
	fn prune_session(n: Linear<1, { T::MaxPrunePerCall::get() }>) {
		let session = new_session::<T>();
		let g = grid::<T>();
		book::<T>(session, &g, 0, n, 0);
		Sessions::<T>::mutate(session, |i| {
			if let Some(i) = i {
				i.phase = Phase::Final;
			}
		});
		Live::<T>::mutate(|l| l.retain(|s| *s != session));
		T::BenchmarkHelper::set_now_ms(u64::MAX / 2);
		let caller: T::AccountId = whitelisted_caller();
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), session);
		assert_eq!(Offers::<T>::iter_prefix(session).count(), 0);
	}

	#[benchmark]
	fn hook_base() {
		for kind in [SessionKind::DayAhead, SessionKind::RealTime] {
			Schedules::<T>::remove(kind);
		}
		T::BenchmarkHelper::set_now_ms(NOW_MS);
		#[block]
		{
			Pallet::<T>::progress(Weight::MAX);
		}
	}

	#[benchmark]
	fn hook_per_session() {
		let session = new_session::<T>();
		#[block]
		{
			// An open session before its gate: read, nothing due.
			if let Some(info) = Sessions::<T>::get(session) {
				let _ = Pallet::<T>::next_step(session, &info, NOW_MS);
			}
		}
	}

	#[benchmark]
	fn open_session() -> Result<(), BenchmarkError> {
		T::BenchmarkHelper::set_now_ms(NOW_MS);
		let schedule = day_ahead::<T>();
		Pallet::<T>::do_set_schedule(SessionKind::DayAhead, Some(schedule))?;
		#[block]
		{
			Pallet::<T>::open_due(SessionKind::DayAhead, NOW_MS);
		}
		assert_eq!(LastSession::<T>::get(), 1);
		Ok(())
	}

	#[benchmark]
	fn seal_chunk(
		n: Linear<1, { T::SealChunk::get().min(T::MaxRequests::get()) }>,
		s: Linear<2, { T::MaxSlots::get() * 2 }>,
	) {
		let session = new_session::<T>();
		let g = grid::<T>();
		// Requests: they share the offers' registry reads and add their own. Half a chunk is
		// sealed before, so that the step reads a partly filled chunk and may fill the next.
		let slots = u16::try_from(s / 2).unwrap_or(1);
		let before = T::SealChunk::get() / 2;
		book_slots::<T>(session, &g, before + n, 0, 0, slots);
		let mut info = Sessions::<T>::get(session).expect("open");
		if before > 0 {
			Pallet::<T>::seal_step(session, &mut info, 0, 0, before);
		}
		#[block]
		{
			Pallet::<T>::seal_step(session, &mut info, before, before, n);
		}
		assert_eq!(
			info.phase,
			Phase::Sealing {
				checked: before + n,
				kept: before + n
			}
		);
	}

	#[benchmark]
	fn seal_finish(n: Linear<0, { T::MaxRequests::get() + T::MaxOffers::get() }>) {
		let session = new_session::<T>();
		let g = grid::<T>();
		let r = n.min(T::MaxRequests::get());
		book::<T>(session, &g, r, n - r, 0);
		let mut info = Sessions::<T>::get(session).expect("open");
		seal_all::<T>(session, &mut info);
		let Phase::Sealing { kept, .. } = info.phase else {
			panic!("sealing");
		};
		#[block]
		{
			Pallet::<T>::seal_finish(session, &mut info, kept);
		}
		assert!(info.input_root.is_some());
	}

	#[benchmark]
	fn clear_step(
		r: Linear<1, { T::MaxRequests::get() }>,
		o: Linear<1, { T::MaxOffers::get() }>,
		s: Linear<1, { 1u32 << T::ExactLimit::get() }>,
	) {
		let session = new_session::<T>();
		let g = grid::<T>();
		// 2^m solves for m minima; floor(log2 s) of them.
		let m = 31 - s.leading_zeros();
		book::<T>(session, &g, r, o, m);
		let mut info = Sessions::<T>::get(session).expect("open");
		seal_all::<T>(session, &mut info);
		if let Phase::Sealing { kept, .. } = info.phase {
			Pallet::<T>::seal_finish(session, &mut info, kept);
		}
		// As many minima searched as `s` says, whatever gate closure would allow at this size.
		info.exact_limit = T::ExactLimit::get();
		#[block]
		{
			Pallet::<T>::clear_step(session, &mut info, 0);
		}
		assert!(Steps::<T>::get(session, 0).is_some());
	}

	#[benchmark]
	fn finish_clearing(
		s: Linear<2, { T::MaxSlots::get() * 2 }>,
		c: Linear<0, { Pallet::<T>::chunks(T::MaxRequests::get() + T::MaxOffers::get()) }>,
	) {
		let session = new_session::<T>();
		let mut info = Sessions::<T>::get(session).expect("open");
		info.slots = u16::try_from(s / 2).unwrap_or(1);
		// `c` full chunks: their removal is what this component measures.
		info.requests = c.saturating_mul(T::SealChunk::get());
		for chunk in 0..c {
			SealedItems::<T>::insert(session, chunk, BoundedVec::default());
		}
		for step in 0..info.steps() {
			Steps::<T>::insert(session, step, StepDigest::default());
		}
		#[block]
		{
			Pallet::<T>::finish_clearing(session, &mut info, NOW_MS);
		}
		assert!(info.outcome_root.is_some());
	}

	#[benchmark]
	fn close_step(
		n: Linear<0, { T::CloseChunk::get().min(StepAwardBound::<T>::get()) }>,
		a: Linear<0, { StepAwardBound::<T>::get() }>,
	) {
		let session = new_session::<T>();
		let g = grid::<T>();
		// The step's last `n` of `a.max(n)` awards, after the others closed in earlier blocks
		// (a step closes nothing only when it has no awards).
		let a = if n == 0 { 0 } else { a.max(n) };
		cleared::<T>(session, &g.dso, a);
		let mut info = Sessions::<T>::get(session).expect("cleared");
		let from = a - n;
		if from > 0 {
			assert!(!Pallet::<T>::close_part(session, &mut info, 0, 0, from));
		}
		#[block]
		{
			assert!(Pallet::<T>::close_part(session, &mut info, 0, from, n));
		}
		assert!(Steps::<T>::get(session, 0).is_some_and(|d| d.validation_root.is_some()));
	}

	#[benchmark]
	fn finalize(s: Linear<0, { T::MaxSlots::get() * 2 }>) {
		let session = new_session::<T>();
		let mut info = Sessions::<T>::get(session).expect("open");
		info.slots = u16::try_from(s / 2).unwrap_or(0);
		info.awards = 1;
		for step in 0..info.steps() {
			Steps::<T>::insert(session, step, StepDigest::default());
		}
		#[block]
		{
			Pallet::<T>::finish_validation(session, &mut info);
		}
		assert!(info.validation_root.is_some());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);
}
