//! The market's logic: calls (`do_*`), the hook's session steps, proofs and invariants.

use crate::{
	derive::{self, quantity_at},
	pallet::*,
	runtime_api::{AwardProof, InputProof},
	types::*,
	weights::WeightInfo,
};
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{Get, UnixTime},
};
use pallet_certification::{Anchoring, RuntimeHasher};
use pallet_registry::{roles, ParticipantRegistry};
use platone_primitives::{merkle::MerkleTree, AnchorKind, Hash};
use sp_runtime::traits::AccountIdConversion;

/// What the hook can do next for a session, with its weight.
pub(crate) enum Next {
	/// Check and seal `n` more item ids, after `checked` ids of which `kept` items passed.
	Seal {
		checked: u32,
		kept: u32,
		n: u32,
	},
	/// The input root over the `kept` sealed items and the snapshot's areas.
	SealFinish {
		kept: u32,
	},
	Clear {
		step: StepIndex,
		r: u32,
		o: u32,
	},
	FinishClearing,
	OpenClosing,
	/// Close `n` of the step's `a` awards, from award `from` on.
	Close {
		step: StepIndex,
		from: u32,
		n: u32,
		a: u32,
	},
	Validate,
	Finalize,
}

impl<T: Config> Pallet<T> {
	pub fn now_ms() -> u64 {
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// The pallet's account, in whose name it anchors.
	pub fn account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	// ---- requests and offers ----

	fn open_session(session: SessionId) -> Result<SessionInfo, DispatchError> {
		let info = Sessions::<T>::get(session).ok_or(Error::<T>::UnknownSession)?;
		ensure!(
			info.phase == Phase::Open && Self::now_ms() < info.gate_closure_ms,
			Error::<T>::GateClosed
		);
		Ok(info)
	}

	fn check_quantities(
		info: &SessionInfo,
		min_quantity: Power,
		quantities: &QuantitiesOf<T>,
	) -> DispatchResult {
		ensure!(!quantities.is_empty(), Error::<T>::BadQuantities);
		ensure!(
			quantities.windows(2).all(|w| w[0].0 < w[1].0),
			Error::<T>::BadQuantities
		);
		for &(slot, power) in quantities.iter() {
			ensure!(slot < info.slots, Error::<T>::SlotOutOfRange);
			ensure!(power > 0, Error::<T>::ZeroQuantity);
			ensure!(min_quantity <= power, Error::<T>::MinAboveQuantity);
		}
		Ok(())
	}

	/// The requester class of `who` asking in `area`, or why it may not.
	fn requester_class(who: &T::AccountId, area: AreaId) -> Result<Requester, DispatchError> {
		let owner = T::Registry::area_owner(area).ok_or(Error::<T>::UnknownArea)?;
		if owner == *who && T::Registry::has_role(who, roles::DSO) {
			Ok(Requester::Dso)
		} else if T::Registry::has_role(who, roles::TSO) {
			Ok(Requester::Tso)
		} else if T::Registry::has_role(who, roles::DSO) {
			Err(Error::<T>::NotAreaOperator.into())
		} else {
			Err(Error::<T>::NotRequester.into())
		}
	}

	/// The next item id of `session`, for `who`. Ids are never handed out twice, and gate
	/// closure walks every id handed out, withdrawn ones too: so each account gets at most
	/// `MaxItemsPerAccount` per session, which bounds what churn (submit, withdraw, submit)
	/// can add to sealing by the registered participants, not by the calls anyone can send.
	fn next_item(
		info: &mut SessionInfo,
		session: SessionId,
		who: &T::AccountId,
	) -> Result<ItemId, DispatchError> {
		let handed = ItemsHandedOut::<T>::get(session, who);
		ensure!(
			handed < T::MaxItemsPerAccount::get(),
			Error::<T>::AccountItemsExhausted
		);
		let id = info
			.last_item
			.checked_add(1)
			.ok_or(Error::<T>::ItemIdsExhausted)?;
		info.last_item = id;
		ItemsHandedOut::<T>::insert(session, who, handed.saturating_add(1));
		Ok(id)
	}

	pub(crate) fn do_submit_request(
		who: T::AccountId,
		session: SessionId,
		input: RequestInputOf<T>,
	) -> DispatchResult {
		let mut info = Self::open_session(session)?;
		Self::check_quantities(&info, input.min_quantity, &input.quantities)?;
		let requester = Self::requester_class(&who, input.area)?;
		ensure!(
			info.requests < T::MaxRequests::get(),
			Error::<T>::TooManyRequests
		);
		let id = Self::next_item(&mut info, session, &who)?;
		info.requests = info.requests.saturating_add(1);
		Requests::<T>::insert(
			session,
			id,
			Request {
				owner: who.clone(),
				requester,
				input,
			},
		);
		Sessions::<T>::insert(session, info);
		Self::deposit_event(Event::RequestSubmitted {
			session,
			id,
			owner: who,
			requester,
		});
		Ok(())
	}

	pub(crate) fn do_amend_request(
		who: T::AccountId,
		session: SessionId,
		id: ItemId,
		input: RequestInputOf<T>,
	) -> DispatchResult {
		let info = Self::open_session(session)?;
		let mut request = Requests::<T>::get(session, id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.owner == who, Error::<T>::NotOwner);
		ensure!(request.input.area == input.area, Error::<T>::ChangedSubject);
		Self::check_quantities(&info, input.min_quantity, &input.quantities)?;
		request.requester = Self::requester_class(&who, input.area)?;
		request.input = input;
		Requests::<T>::insert(session, id, request);
		Self::deposit_event(Event::RequestAmended { session, id });
		Ok(())
	}

	pub(crate) fn do_withdraw_request(
		who: T::AccountId,
		session: SessionId,
		id: ItemId,
	) -> DispatchResult {
		let mut info = Self::open_session(session)?;
		let request = Requests::<T>::get(session, id).ok_or(Error::<T>::UnknownRequest)?;
		ensure!(request.owner == who, Error::<T>::NotOwner);
		Requests::<T>::remove(session, id);
		info.requests = info.requests.saturating_sub(1);
		Sessions::<T>::insert(session, info);
		Self::deposit_event(Event::RequestWithdrawn { session, id });
		Ok(())
	}

	/// The PoD's area and its validator, if `who` represents it.
	fn offer_terms(
		who: &T::AccountId,
		pod: PodId,
	) -> Result<(AreaId, T::AccountId), DispatchError> {
		let area = T::Registry::pod_area(pod).ok_or(Error::<T>::UnknownPod)?;
		ensure!(
			T::Registry::pod_aggregator(pod).as_ref() == Some(who),
			Error::<T>::NotPodAggregator
		);
		let validator = T::Registry::area_owner(area).ok_or(Error::<T>::NoValidator)?;
		Ok((area, validator))
	}

	pub(crate) fn do_submit_offer(
		who: T::AccountId,
		session: SessionId,
		input: OfferInputOf<T>,
	) -> DispatchResult {
		let mut info = Self::open_session(session)?;
		Self::check_quantities(&info, input.min_quantity, &input.quantities)?;
		let (area, validator) = Self::offer_terms(&who, input.pod)?;
		ensure!(info.offers < T::MaxOffers::get(), Error::<T>::TooManyOffers);
		let id = Self::next_item(&mut info, session, &who)?;
		info.offers = info.offers.saturating_add(1);
		let pod = input.pod;
		Offers::<T>::insert(
			session,
			id,
			Offer {
				owner: who.clone(),
				area,
				validator,
				input,
			},
		);
		Sessions::<T>::insert(session, info);
		Self::deposit_event(Event::OfferSubmitted {
			session,
			id,
			owner: who,
			pod,
		});
		Ok(())
	}

	pub(crate) fn do_amend_offer(
		who: T::AccountId,
		session: SessionId,
		id: ItemId,
		input: OfferInputOf<T>,
	) -> DispatchResult {
		let info = Self::open_session(session)?;
		let mut offer = Offers::<T>::get(session, id).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(offer.owner == who, Error::<T>::NotOwner);
		ensure!(offer.input.pod == input.pod, Error::<T>::ChangedSubject);
		Self::check_quantities(&info, input.min_quantity, &input.quantities)?;
		let (area, validator) = Self::offer_terms(&who, input.pod)?;
		offer.area = area;
		offer.validator = validator;
		offer.input = input;
		Offers::<T>::insert(session, id, offer);
		Self::deposit_event(Event::OfferAmended { session, id });
		Ok(())
	}

	pub(crate) fn do_withdraw_offer(
		who: T::AccountId,
		session: SessionId,
		id: ItemId,
	) -> DispatchResult {
		let mut info = Self::open_session(session)?;
		let offer = Offers::<T>::get(session, id).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(offer.owner == who, Error::<T>::NotOwner);
		Offers::<T>::remove(session, id);
		info.offers = info.offers.saturating_sub(1);
		Sessions::<T>::insert(session, info);
		Self::deposit_event(Event::OfferWithdrawn { session, id });
		Ok(())
	}

	// ---- validation ----

	/// How many times `validate` reads a step's awards for `answers`: once per run of answers
	/// in the same step.
	pub fn step_loads(answers: &[(AwardRef, Light)]) -> u32 {
		step_runs(answers.iter().map(|(award, _)| award.step))
	}

	pub(crate) fn do_validate(
		who: T::AccountId,
		session: SessionId,
		answers: AnswersOf<T>,
	) -> DispatchResult {
		let mut info = Sessions::<T>::get(session).ok_or(Error::<T>::UnknownSession)?;
		let Phase::Cleared {
			deadline_ms,
			mut pending,
		} = info.phase
		else {
			return Err(Error::<T>::NotValidating.into());
		};
		ensure!(Self::now_ms() < deadline_ms, Error::<T>::ValidationClosed);
		ensure!(
			answers.windows(2).all(|w| w[0].0 < w[1].0),
			Error::<T>::UnsortedAnswers
		);
		let mut loaded: Option<(StepIndex, StepAwardsOf<T>)> = None;
		for &(award_ref, light) in answers.iter() {
			if loaded.as_ref().is_none_or(|(s, _)| *s != award_ref.step) {
				loaded = Some((
					award_ref.step,
					StepAwards::<T>::get(session, award_ref.step).unwrap_or_default(),
				));
			}
			let record = loaded
				.as_ref()
				.and_then(|(_, awards)| awards.get(award_ref.index as usize))
				.ok_or(Error::<T>::UnknownAward)?;
			ensure!(record.validator == who, Error::<T>::NotValidator);
			ensure!(
				!Answers::<T>::contains_key(session, award_ref),
				Error::<T>::AlreadyAnswered
			);
			if let Light::Yellow(q) = light {
				ensure!(q > 0 && q < record.award.quantity, Error::<T>::BadCut);
			}
			Answers::<T>::insert(session, award_ref, light);
			pending = pending.saturating_sub(1);
			Self::deposit_event(Event::Answered {
				session,
				award: award_ref,
				light,
			});
		}
		info.phase = Phase::Cleared {
			deadline_ms,
			pending,
		};
		Sessions::<T>::insert(session, info);
		Ok(())
	}

	// ---- governance ----

	pub(crate) fn do_set_schedule(kind: SessionKind, schedule: Option<Schedule>) -> DispatchResult {
		match schedule {
			Some(s) => {
				s.slots(T::MaxSlots::get()).ok_or(Error::<T>::BadSchedule)?;
				Schedules::<T>::insert(kind, s);
				// The next session is the first period whose gate is still ahead, and never
				// one that starts before the end of the last session opened: a new or changed
				// schedule neither opens a session past its gate nor a second one for a period.
				let earliest = Self::first_period_after(&s, Self::now_ms());
				let next = match NextPeriod::<T>::get(kind) {
					Some(after_last) => {
						earliest.max(after_last.div_ceil(s.period_ms).saturating_mul(s.period_ms))
					}
					None => earliest,
				};
				NextPeriod::<T>::insert(kind, next);
			}
			// `NextPeriod` stays: it marks where the last opened session ended.
			None => Schedules::<T>::remove(kind),
		}
		Self::deposit_event(Event::ScheduleSet { kind, schedule });
		Ok(())
	}

	/// Start of the first delivery period whose gate closes after `now`.
	fn first_period_after(s: &Schedule, now: u64) -> u64 {
		let earliest = now.saturating_add(s.gate_lead_ms).saturating_add(1);
		earliest.div_ceil(s.period_ms).saturating_mul(s.period_ms)
	}

	pub(crate) fn do_prune_session(session: SessionId) -> DispatchResult {
		let info = Sessions::<T>::get(session).ok_or(Error::<T>::UnknownSession)?;
		let delivery_end = info
			.delivery_start_ms
			.saturating_add(u64::from(info.slot_ms).saturating_mul(info.slots.into()));
		ensure!(
			matches!(info.phase, Phase::Final | Phase::Pruning)
				&& Self::now_ms() >= delivery_end.saturating_add(T::RetentionMs::get()),
			Error::<T>::NotPrunable
		);
		ensure!(
			info.phase == Phase::Pruning || T::Settlement::is_settled(session),
			Error::<T>::NotSettled
		);
		// The settlement's records first, within the same budget: they are only reachable
		// through the session, and the settlement's invariants hold while they go.
		let (used, mut complete) = T::Settlement::prune(session, T::MaxPrunePerCall::get());
		let budget = T::MaxPrunePerCall::get().saturating_sub(used);
		// Keys are collected before removal, so that each call makes progress however many
		// calls a block holds. Yields the budget left.
		macro_rules! clear {
			($map:ty, $budget:expr) => {{
				let budget: u32 = $budget;
				let keys: Vec<_> = <$map>::iter_key_prefix(session)
					.take(budget as usize + 1)
					.collect();
				let n = keys.len().min(budget as usize);
				complete &= keys.len() <= n;
				for k in keys.into_iter().take(n) {
					<$map>::remove(session, k);
				}
				budget.saturating_sub(n as u32)
			}};
		}
		let budget = clear!(ItemsHandedOut<T>, budget);
		let budget = clear!(Answers<T>, budget);
		let budget = clear!(StepAwards<T>, budget);
		let budget = clear!(StepPods<T>, budget);
		let budget = clear!(Steps<T>, budget);
		let budget = clear!(Offers<T>, budget);
		let _left = clear!(Requests<T>, budget);
		if complete {
			SessionAreas::<T>::remove(session);
			Sessions::<T>::remove(session);
		} else if info.phase != Phase::Pruning {
			Sessions::<T>::insert(
				session,
				SessionInfo {
					phase: Phase::Pruning,
					..info
				},
			);
		}
		Self::deposit_event(Event::SessionPruned { session, complete });
		Ok(())
	}

	// ---- the hook ----

	/// Opens due sessions and advances live ones, oldest first, while their steps fit `budget`.
	pub fn progress(budget: Weight) -> Weight {
		let mut used = T::WeightInfo::hook_base();
		let now = Self::now_ms();
		// Block 1 runs before any timestamp was set: no clock, no session.
		if now == 0 {
			return used;
		}
		for kind in [SessionKind::DayAhead, SessionKind::RealTime] {
			let w = T::WeightInfo::open_session();
			// Each kind opens at most one session per block, so opening stays bounded.
			if used.saturating_add(w).all_lte(budget) && Self::open_due(kind, now) {
				used = used.saturating_add(w);
			}
		}
		let mut ran = false;
		'sessions: for session in Live::<T>::get() {
			used = used.saturating_add(T::WeightInfo::hook_per_session());
			loop {
				let Some(info) = Sessions::<T>::get(session) else {
					continue 'sessions;
				};
				let Some(next) = Self::next_step(session, &info, now) else {
					continue 'sessions;
				};
				let w = Self::weight_of(&next, &info);
				if !used.saturating_add(w).all_lte(budget) {
					// A step that could never fit (its session fixed its exact limit under
					// lighter weights) runs as the block's only step rather than never.
					let never = !w.all_lte(Self::step_room());
					if ran || !never {
						// Younger sessions' smaller steps may still fit: one large session
						// does not hold back the rest.
						continue 'sessions;
					}
				}
				used = used.saturating_add(w);
				ran = true;
				Self::run_step(session, info, next, now);
			}
		}
		used
	}

	/// Opens the session of `kind`'s next period if its time has come. True if it did work.
	pub(crate) fn open_due(kind: SessionKind, now: u64) -> bool {
		let Some(s) = Schedules::<T>::get(kind) else {
			return false;
		};
		let Some(slots) = s.slots(T::MaxSlots::get()) else {
			return false;
		};
		let next = NextPeriod::<T>::get(kind).unwrap_or_else(|| Self::first_period_after(&s, now));
		if now < next.saturating_sub(s.open_lead_ms) {
			return false;
		}
		let gate = next.saturating_sub(s.gate_lead_ms);
		if now >= gate {
			// The chain stood still through this period's gate: skip to the first period whose
			// gate is ahead, and say which were missed.
			let resume = Self::first_period_after(&s, now);
			NextPeriod::<T>::insert(kind, resume);
			Self::deposit_event(Event::PeriodsMissed {
				kind,
				from_ms: next,
				until_ms: resume,
			});
			return true;
		}
		NextPeriod::<T>::insert(kind, next.saturating_add(s.period_ms));
		let mut live = Live::<T>::get();
		let Some(session) = LastSession::<T>::get().checked_add(1) else {
			Self::deposit_event(Event::SessionNotOpened {
				kind,
				delivery_start_ms: next,
			});
			return true;
		};
		if live.try_push(session).is_err() {
			Self::deposit_event(Event::SessionNotOpened {
				kind,
				delivery_start_ms: next,
			});
			return true;
		}
		LastSession::<T>::put(session);
		Live::<T>::put(live);
		Sessions::<T>::insert(
			session,
			SessionInfo::opened(
				kind,
				next,
				&s,
				slots,
				SessionPricing::<T>::get(),
				T::ExactLimit::get(),
			),
		);
		Self::deposit_event(Event::SessionOpened {
			session,
			kind,
			delivery_start_ms: next,
			gate_closure_ms: gate,
			slots,
		});
		true
	}

	pub(crate) fn next_step(session: SessionId, info: &SessionInfo, now: u64) -> Option<Next> {
		match info.phase {
			Phase::Open => (now >= info.gate_closure_ms).then(|| Self::next_seal(info, 0, 0)),
			Phase::Sealing { checked, kept } => Some(Self::next_seal(info, checked, kept)),
			Phase::GateClosed { next } if next < info.steps() => Some(Next::Clear {
				step: next,
				r: info.requests,
				o: info.offers,
			}),
			Phase::GateClosed { .. } => Some(Next::FinishClearing),
			Phase::Cleared {
				deadline_ms,
				pending,
			} => (now >= deadline_ms || pending == 0).then_some(Next::OpenClosing),
			Phase::Closing { next } if next < info.steps() => {
				let a = Steps::<T>::get(session, next).map_or(0, |d| d.awards);
				let from = CloseProgress::<T>::get(session).map_or(0, |p| p.from);
				Some(Next::Close {
					step: next,
					from,
					n: a.saturating_sub(from).min(T::CloseChunk::get().max(1)),
					a,
				})
			}
			Phase::Closing { .. } => Some(Next::Validate),
			Phase::Validated => Some(Next::Finalize),
			Phase::Final | Phase::Pruning => None,
		}
	}

	/// Gate closure's next step: the next `SealChunk` ids, or the root once all are checked.
	fn next_seal(info: &SessionInfo, checked: u32, kept: u32) -> Next {
		match info.last_item.checked_sub(checked) {
			Some(left) if left > 0 => Next::Seal {
				checked,
				kept,
				n: left.min(T::SealChunk::get().max(1)),
			},
			_ => Next::SealFinish { kept },
		}
	}

	/// Sealed chunks of `items` items.
	pub fn chunks(items: u32) -> u32 {
		items.div_ceil(T::SealChunk::get().max(1))
	}

	/// Gate closure's last step over `kept` items: their leaves and the snapshot's areas, and
	/// one chunk of leaf hashes read and removed per `SealChunk` items.
	fn seal_finish_weight(kept: u32) -> Weight {
		let c = u64::from(Self::chunks(kept));
		T::WeightInfo::seal_finish(kept.saturating_add(T::MaxAreas::get()))
			.saturating_add(T::DbWeight::get().reads_writes(c, c))
	}

	/// A clearing step over `r` requests and `o` offers with `limit` minima searched
	/// exhaustively; per sealed chunk, its power in the step and its items read and the power
	/// removed.
	pub fn clear_weight(r: u32, o: u32, limit: u8) -> Weight {
		let c = u64::from(Self::chunks(r.saturating_add(o)));
		T::WeightInfo::clear_step(r, o, Self::solves(r, o, limit))
			.saturating_add(T::DbWeight::get().reads_writes(c.saturating_mul(2), c))
	}

	fn weight_of(next: &Next, info: &SessionInfo) -> Weight {
		let steps = u32::from(info.steps());
		match *next {
			Next::Seal { n, .. } => T::WeightInfo::seal_chunk(n, steps),
			Next::SealFinish { kept } => Self::seal_finish_weight(kept),
			Next::Clear { r, o, .. } => Self::clear_weight(r, o, info.exact_limit),
			Next::FinishClearing => T::WeightInfo::finish_clearing(
				steps,
				Self::chunks(info.requests.saturating_add(info.offers)),
			),
			Next::OpenClosing => T::WeightInfo::close_step(0, 0),
			Next::Close { n, a, .. } => T::WeightInfo::close_step(n, a),
			Next::Validate => T::WeightInfo::finalize(steps),
			Next::Finalize => T::WeightInfo::finalize(0),
		}
	}

	/// Flow solves' worth of work one step may spend: every on/off choice of up to `limit`
	/// minima; the crate's rule, past the limit, and any solve stop at the same work budget
	/// (`platone_clearing::work_limit`).
	pub fn solves(_r: u32, _o: u32, limit: u8) -> u32 {
		1u32 << limit.min(16)
	}

	/// The hook's budget for one step of the last live session, after its own reads.
	pub(crate) fn step_room() -> Weight {
		T::HookWeight::get().saturating_sub(T::WeightInfo::hook_base().saturating_add(
			T::WeightInfo::hook_per_session().saturating_mul(T::MaxLive::get().into()),
		))
	}

	/// The most minima a clearing step of `r` requests and `o` offers may search exhaustively:
	/// up to `limit`, as many as keep the step within the hook's budget. Small sessions clear
	/// exactly with up to `ExactLimit` minima; the largest get the documented rule sooner,
	/// rather than a step that would never fit a block. Set once, at gate closure, so that
	/// every step and every audit uses the same.
	pub fn exact_limit_for(r: u32, o: u32, limit: u8) -> u8 {
		let room = Self::step_room();
		(0..=limit)
			.rev()
			.find(|&l| Self::clear_weight(r, o, l).all_lte(room))
			.unwrap_or(0)
	}

	/// The costliest step of each kind at the bounds, for `integrity_test`.
	pub(crate) fn worst_steps() -> [(&'static str, Weight); 6] {
		let (r, o) = (T::MaxRequests::get(), T::MaxOffers::get());
		let items = r.saturating_add(o);
		let steps = T::MaxSlots::get().saturating_mul(2);
		[
			(
				"seal",
				T::WeightInfo::seal_chunk(T::SealChunk::get().max(1), steps),
			),
			("seal-finish", Self::seal_finish_weight(items)),
			// Gate closure lowers a large session's exact limit to what fits, down to 0.
			("clear", Self::clear_weight(r, o, 0)),
			(
				"finish",
				T::WeightInfo::finish_clearing(steps, Self::chunks(items)),
			),
			(
				"close",
				T::WeightInfo::close_step(
					T::CloseChunk::get().min(StepAwardBound::<T>::get()),
					StepAwardBound::<T>::get(),
				),
			),
			("validate", T::WeightInfo::finalize(steps)),
		]
	}

	fn run_step(session: SessionId, mut info: SessionInfo, next: Next, now: u64) {
		match next {
			Next::Seal { checked, kept, n } => {
				Self::seal_step(session, &mut info, checked, kept, n)
			}
			Next::SealFinish { kept } => Self::seal_finish(session, &mut info, kept),
			Next::Clear { step, .. } => {
				Self::clear_step(session, &mut info, step);
				info.phase = Phase::GateClosed {
					next: step.saturating_add(1),
				};
			}
			Next::FinishClearing => Self::finish_clearing(session, &mut info, now),
			Next::OpenClosing => info.phase = Phase::Closing { next: 0 },
			Next::Close { step, from, n, .. } => {
				if Self::close_part(session, &mut info, step, from, n) {
					info.phase = Phase::Closing {
						next: step.saturating_add(1),
					};
				}
			}
			Next::Validate => Self::finish_validation(session, &mut info),
			Next::Finalize => {
				info.phase = Phase::Final;
				Live::<T>::mutate(|live| live.retain(|s| *s != session));
				Self::deposit_event(Event::SessionFinal { session });
			}
		}
		Sessions::<T>::insert(session, info);
	}

	fn anchor(session: SessionId, kind: AnchorKind, digest: Hash, leaves: u64) {
		if leaves == 0 {
			// Nothing to anchor: the certification pallet refuses empty anchors, and the
			// session's own record says its root is the empty tree's.
			return;
		}
		if let Err(error) =
			T::Anchoring::anchor(Self::account(), kind, subject(session), digest, leaves)
		{
			Self::deposit_event(Event::AnchorRefused {
				session,
				kind,
				error,
			});
		}
	}

	/// Why the registry no longer supports `request` at gate closure, if it does not.
	fn request_dropped(request: &RequestOf<T>) -> Option<DropReason> {
		match Self::requester_class(&request.owner, request.input.area) {
			Ok(class) if class == request.requester => None,
			Ok(_) => Some(DropReason::NoLongerEligible),
			Err(e) if e == DispatchError::from(Error::<T>::UnknownArea) => {
				Some(DropReason::AreaGone)
			}
			Err(_) => Some(DropReason::NoLongerEligible),
		}
	}

	/// Why the registry no longer supports `offer` at gate closure, if it does not.
	fn offer_dropped(offer: &OfferOf<T>) -> Option<DropReason> {
		if !T::Registry::has_role(&offer.owner, roles::AGGREGATOR) {
			return Some(DropReason::NoLongerEligible);
		}
		match Self::offer_terms(&offer.owner, offer.input.pod) {
			Ok((area, validator)) if area == offer.area && validator == offer.validator => None,
			_ => Some(DropReason::PodChanged),
		}
	}

	/// A session's requests and offers, each by id (their map keys are hashed, so iteration
	/// order is not id order).
	fn items_by_id(session: SessionId) -> (Vec<(ItemId, RequestOf<T>)>, Vec<(ItemId, OfferOf<T>)>) {
		let mut requests: Vec<_> = Requests::<T>::iter_prefix(session).collect();
		requests.sort_by_key(|(id, _)| *id);
		let mut offers: Vec<_> = Offers::<T>::iter_prefix(session).collect();
		offers.sort_by_key(|(id, _)| *id);
		(requests, offers)
	}

	/// Adds `area`'s path to the session's snapshot, unless it is too long or would take the
	/// snapshot past `MaxAreas`: then why the item that needs it is dropped.
	fn snapshot_path(
		areas: &mut BTreeMap<AreaId, Option<AreaId>>,
		area: AreaId,
	) -> Option<DropReason> {
		let path = T::Registry::area_path(area);
		if path.len() > T::MaxAreaPath::get() as usize {
			return Some(DropReason::AreaTooDeep);
		}
		let new = path.iter().filter(|a| !areas.contains_key(a)).count();
		if areas.len().saturating_add(new) > T::MaxAreas::get() as usize {
			return Some(DropReason::TooManyAreas);
		}
		for (i, a) in path.iter().enumerate() {
			areas.insert(*a, path.get(i + 1).copied());
		}
		None
	}

	fn drop_item(session: SessionId, info: &mut SessionInfo, id: ItemId, reason: DropReason) {
		if Requests::<T>::take(session, id).is_some() {
			info.requests = info.requests.saturating_sub(1);
		}
		if Offers::<T>::take(session, id).is_some() {
			info.offers = info.offers.saturating_sub(1);
		}
		Self::deposit_event(Event::ItemDropped {
			session,
			id,
			reason,
		});
	}

	/// One gate-closure step: item ids `checked + 1 ..= checked + n` are checked against the
	/// registry as it is now; those it no longer supports are dropped, the areas of the rest
	/// join the snapshot, and the rest are sealed: their terms and power per step for
	/// clearing, their leaf hashes for the input root.
	pub(crate) fn seal_step(
		session: SessionId,
		info: &mut SessionInfo,
		checked: u32,
		kept: u32,
		n: u32,
	) {
		let mut areas: BTreeMap<AreaId, Option<AreaId>> = SessionAreas::<T>::get(session)
			.unwrap_or_default()
			.into_iter()
			.collect();
		let mut packer = Packer::<T>::new(session, kept, 0);
		let until = checked.saturating_add(n).min(info.last_item);
		for id in checked.saturating_add(1)..=until {
			if let Some(request) = Requests::<T>::get(session, id) {
				let reason = Self::request_dropped(&request)
					.or_else(|| Self::snapshot_path(&mut areas, request.input.area));
				if let Some(reason) = reason {
					Self::drop_item(session, info, id, reason);
					continue;
				}
				let item = SealedItem::of_request(id, &request);
				let (direction, quantities) =
					(request.input.direction, request.input.quantities.clone());
				let leaf = derive::leaf_hash(&InputLeafOf::<T>::Request { id, request });
				packer.push(item, direction, &quantities, Some(Leaf::Request(leaf)));
			} else if let Some(offer) = Offers::<T>::get(session, id) {
				let reason = Self::offer_dropped(&offer)
					.or_else(|| Self::snapshot_path(&mut areas, offer.area));
				if let Some(reason) = reason {
					Self::drop_item(session, info, id, reason);
					continue;
				}
				let item = SealedItem::of_offer(id, &offer);
				let (direction, quantities) =
					(offer.input.direction, offer.input.quantities.clone());
				let leaf = derive::leaf_hash(&InputLeafOf::<T>::Offer { id, offer });
				packer.push(item, direction, &quantities, Some(Leaf::Offer(leaf)));
			}
		}
		let kept = packer.write();
		let areas: Vec<(AreaId, Option<AreaId>)> = areas.into_iter().collect();
		SessionAreas::<T>::insert(session, BoundedVec::truncate_from(areas));
		info.phase = Phase::Sealing {
			checked: until,
			kept,
		};
	}

	/// Gate closure's last step: the input root over the snapshot's areas and the sealed
	/// requests and offers (each by id), anchored.
	pub(crate) fn seal_finish(session: SessionId, info: &mut SessionInfo, kept: u32) {
		let areas = SessionAreas::<T>::get(session).unwrap_or_default();
		let mut hashes: Vec<Hash> = areas
			.iter()
			.map(|&(id, parent)| derive::leaf_hash(&InputLeafOf::<T>::Area { id, parent }))
			.collect();
		let mut offers = Vec::new();
		for chunk in 0..Self::chunks(kept) {
			if let Some((r, o)) = SealLeaves::<T>::take(session, chunk) {
				hashes.extend(r);
				offers.extend(o);
			}
		}
		hashes.extend(offers);
		let root = platone_primitives::merkle::root::<RuntimeHasher>(&hashes);
		SessionAreas::<T>::insert(session, areas);
		info.exact_limit = Self::exact_limit_for(info.requests, info.offers, info.exact_limit);
		info.input_root = Some(root);
		info.phase = Phase::GateClosed { next: 0 };
		Self::anchor(
			session,
			AnchorKind::ClearingInputs,
			root,
			hashes.len() as u64,
		);
		Self::deposit_event(Event::GateClosed {
			session,
			requests: info.requests,
			offers: info.offers,
			input_root: root,
		});
	}

	/// The clearing input of one step, as `platone-clearing` takes it, from the sealed chunks,
	/// and the validator of each offer in it.
	pub fn step_market(
		session: SessionId,
		info: &SessionInfo,
		step: StepIndex,
	) -> (platone_clearing::Market, BTreeMap<ItemId, T::AccountId>) {
		let (slot, direction) = slot_of(step);
		let mut input = Vec::new();
		for chunk in 0..Self::chunks(info.requests.saturating_add(info.offers)) {
			let Some(power) = StepPower::<T>::get(session, (step, chunk)) else {
				continue;
			};
			let items = SealedItems::<T>::get(session, chunk).unwrap_or_default();
			input.extend(power.into_iter().filter_map(|(at, watts)| {
				let item = items.get(at as usize)?;
				Some(item.clearing_input(slot, direction, watts))
			}));
		}
		let areas = SessionAreas::<T>::get(session).unwrap_or_default();
		derive::market_of(info.pricing, &areas, input)
	}

	/// The step's input as the audit derives it, from the session's requests and offers.
	pub fn step_market_from_items(
		session: SessionId,
		info: &SessionInfo,
		step: StepIndex,
	) -> (platone_clearing::Market, BTreeMap<ItemId, T::AccountId>) {
		let (requests, offers) = Self::items_by_id(session);
		let areas = SessionAreas::<T>::get(session).unwrap_or_default();
		derive::step_input(
			info.pricing,
			&areas,
			requests.iter().map(|(id, r)| (*id, r)),
			offers.iter().map(|(id, o)| (*id, o)),
			step,
		)
	}

	pub(crate) fn clear_step(session: SessionId, info: &mut SessionInfo, step: StepIndex) {
		let (market, validators) = Self::step_market(session, info, step);
		for chunk in 0..Self::chunks(info.requests.saturating_add(info.offers)) {
			StepPower::<T>::remove(session, (step, chunk));
		}
		let (awards, objective) =
			match platone_clearing::clear_with(&market, usize::from(info.exact_limit)) {
				Ok(outcome) => (outcome.awards, outcome.objectives.into_iter().next()),
				// Unreachable: the pallet checks every item as the crate does. Should it happen,
				// the step awards nothing rather than halting the session, and says so.
				Err(_) => {
					Self::deposit_event(Event::StepFailed { session, step });
					(Vec::new(), None)
				}
			};
		let records = derive::award_records(awards, &validators);
		let count = records.len() as u32;
		let outcome_root = derive::root_of(&records);
		for (index, r) in records.iter().enumerate() {
			Self::deposit_event(Event::Awarded {
				session,
				award: AwardRef {
					step,
					index: index as u32,
				},
				request: r.award.request,
				offer: r.award.offer,
				quantity: r.award.quantity,
				price: r.award.price,
				validator: r.validator.clone(),
			});
		}
		if count > 0 {
			StepAwards::<T>::insert(session, step, BoundedVec::truncate_from(records));
		}
		Steps::<T>::insert(
			session,
			step,
			StepDigest {
				awards: count,
				outcome_root,
				validation_root: None,
				method: objective.as_ref().map(|o| o.method),
			},
		);
		info.awards = info.awards.saturating_add(count);
		Self::deposit_event(Event::StepCleared {
			session,
			step,
			awards: count,
			dso_volume: objective.as_ref().map_or(0, |o| o.dso_volume),
			tso_volume: objective.as_ref().map_or(0, |o| o.tso_volume),
			cost: objective.as_ref().map_or(0, |o| o.cost),
			method: objective.map(|o| o.method),
		});
	}

	/// The session tree's leaves: each step's `StepLeaf` over its outcome or validation root.
	fn step_leaves(session: SessionId, info: &SessionInfo, validation: bool) -> Vec<StepLeaf> {
		(0..info.steps())
			.map(|step| {
				let d = Steps::<T>::get(session, step).unwrap_or_default();
				derive::step_leaf(step, &d, validation)
			})
			.collect()
	}

	/// Root over the steps' roots (`outcome` or validation).
	fn steps_root(session: SessionId, info: &SessionInfo, validation: bool) -> Hash {
		derive::root_of(&Self::step_leaves(session, info, validation))
	}

	pub(crate) fn finish_clearing(session: SessionId, info: &mut SessionInfo, now: u64) {
		for chunk in 0..Self::chunks(info.requests.saturating_add(info.offers)) {
			SealedItems::<T>::remove(session, chunk);
		}
		let root = Self::steps_root(session, info, false);
		info.outcome_root = Some(root);
		let deadline_ms = info
			.gate_closure_ms
			.saturating_add(info.validation_ms)
			.max(now.saturating_add(T::MinValidationMs::get()));
		info.phase = Phase::Cleared {
			deadline_ms,
			pending: info.awards,
		};
		Self::anchor(
			session,
			AnchorKind::MarketOutcome,
			root,
			info.steps().into(),
		);
		Self::deposit_event(Event::Cleared {
			session,
			awards: info.awards,
			outcome_root: root,
			deadline_ms,
		});
	}

	/// The final results of one step: each award's answer, or the default.
	pub fn step_results(
		session: SessionId,
		step: StepIndex,
	) -> Vec<(AwardRecordOf<T>, ResultLeaf)> {
		StepAwards::<T>::get(session, step)
			.unwrap_or_default()
			.into_iter()
			.enumerate()
			.map(|(index, record)| {
				let award = AwardRef {
					step,
					index: index as u32,
				};
				let leaf = derive::result_leaf(
					award,
					record.award.quantity,
					Answers::<T>::get(session, award),
					T::DefaultLight::get(),
				);
				(record, leaf)
			})
			.collect()
	}

	/// Closes the validation of `step`'s awards `from .. from + n`: each unanswered award gets
	/// the default, its result leaf joins the validation tree and its PoD share is kept. True
	/// once the step's last award is closed and its validation root set; until then, how far
	/// it got is kept in `CloseProgress` for the next block.
	pub(crate) fn close_part(
		session: SessionId,
		info: &mut SessionInfo,
		step: StepIndex,
		from: u32,
		n: u32,
	) -> bool {
		let records = StepAwards::<T>::get(session, step).unwrap_or_default();
		let mut progress = match from {
			0 => CloseState::default(),
			_ => CloseProgress::<T>::take(session).unwrap_or_default(),
		};
		let mut shares = match from {
			0 => Vec::new(),
			_ => StepPods::<T>::get(session, step)
				.unwrap_or_default()
				.into_inner(),
		};
		let mut pods = derive::PodShares::resume(progress.delivered.iter().copied());
		// At least one award per part, so that a step always gets closer to closed.
		let until = from.saturating_add(n.max(1)).min(records.len() as u32);
		for index in from..until {
			let Some(record) = records.get(index as usize) else {
				break;
			};
			let award = AwardRef { step, index };
			let leaf = derive::result_leaf(
				award,
				record.award.quantity,
				Answers::<T>::get(session, award),
				T::DefaultLight::get(),
			);
			if leaf.defaulted {
				info.defaulted = info.defaulted.saturating_add(1);
			}
			progress
				.frontier
				.push::<RuntimeHasher>(derive::leaf_hash(&leaf));
			shares.push(pods.next(record.award.offer, leaf.quantity, |offer| {
				Offers::<T>::get(session, offer).map(|o| o.input.pod)
			}));
		}
		if !shares.is_empty() {
			StepPods::<T>::insert(session, step, BoundedVec::truncate_from(shares));
		}
		if until < records.len() as u32 {
			progress.from = until;
			progress.delivered = BoundedVec::truncate_from(pods.delivered().collect());
			CloseProgress::<T>::insert(session, progress);
			return false;
		}
		let root = progress.frontier.root::<RuntimeHasher>();
		Steps::<T>::mutate(session, step, |d| {
			let d = d.get_or_insert_with(StepDigest::default);
			d.validation_root = Some(root);
		});
		true
	}

	/// Writes a closed step's `StepPods`.
	pub(crate) fn keep_pod_shares(
		session: SessionId,
		step: StepIndex,
		records: &[AwardRecordOf<T>],
		leaves: &[ResultLeaf],
	) {
		if records.is_empty() {
			return;
		}
		let shares = Self::pod_shares_of(session, records, leaves);
		StepPods::<T>::insert(session, step, BoundedVec::truncate_from(shares));
	}

	/// A step's PoD shares from its records and their validation leaves.
	fn pod_shares_of(
		session: SessionId,
		records: &[AwardRecordOf<T>],
		leaves: &[ResultLeaf],
	) -> Vec<PodShare> {
		let validated: Vec<Power> = leaves.iter().map(|l| l.quantity).collect();
		derive::pod_shares(records, &validated, |offer| {
			Offers::<T>::get(session, offer).map(|o| o.input.pod)
		})
	}

	pub(crate) fn finish_validation(session: SessionId, info: &mut SessionInfo) {
		let root = Self::steps_root(session, info, true);
		let defaulted = info.defaulted;
		info.validation_root = Some(root);
		info.phase = Phase::Validated;
		Self::anchor(
			session,
			AnchorKind::TechnicalValidation,
			root,
			info.steps().into(),
		);
		Self::deposit_event(Event::Validated {
			session,
			defaulted,
			validation_root: root,
		});
	}

	// ---- reading: results and proofs (the runtime API) ----

	/// The results that concern `who` (as requester, aggregator or validator), with their
	/// answers so far; once validation closed, unanswered awards show the default.
	pub fn results_of(session: SessionId, who: &T::AccountId) -> Vec<FinalResult<T::AccountId>> {
		let Some(info) = Sessions::<T>::get(session).filter(|i| i.phase != Phase::Pruning) else {
			return Vec::new();
		};
		let closed = matches!(
			info.phase,
			Phase::Closing { .. } | Phase::Validated | Phase::Final
		);
		let mut out = Vec::new();
		for (step, awards) in StepAwards::<T>::iter_prefix(session) {
			for (index, record) in awards.into_iter().enumerate() {
				let award_ref = AwardRef {
					step,
					index: index as u32,
				};
				let (Some(request), Some(offer)) = (
					Requests::<T>::get(session, record.award.request),
					Offers::<T>::get(session, record.award.offer),
				) else {
					continue;
				};
				if request.owner != *who && offer.owner != *who && record.validator != *who {
					continue;
				}
				let answer = Answers::<T>::get(session, award_ref);
				let light = answer.or_else(|| closed.then(T::DefaultLight::get));
				out.push(FinalResult {
					award_ref,
					quantity: light
						.map_or(record.award.quantity, |l| l.apply(record.award.quantity)),
					award: record.award,
					requester: request.owner,
					aggregator: offer.owner,
					pod: offer.input.pod,
					validator: record.validator,
					light,
				});
			}
		}
		out.sort_by_key(|r| r.award_ref);
		out
	}

	/// The sealed input leaf of `item` (a request or offer), its proof and the input root.
	pub fn input_proof(session: SessionId, item: ItemId) -> Option<InputProof> {
		let info = Sessions::<T>::get(session).filter(|i| i.phase != Phase::Pruning)?;
		let root = info.input_root?;
		let areas = SessionAreas::<T>::get(session)
			.unwrap_or_default()
			.into_inner();
		let (requests, offers) = Self::items_by_id(session);
		let values = derive::input_leaves(&areas, requests, offers);
		let index = values.iter().position(|l| match l {
			InputLeaf::Request { id, .. } | InputLeaf::Offer { id, .. } => *id == item,
			InputLeaf::Area { .. } => false,
		})?;
		let encoded: Vec<Vec<u8>> = values.iter().map(|l| l.encode()).collect();
		let tree = MerkleTree::from_leaves::<RuntimeHasher>(&encoded);
		let proof = tree.proof(index as u64)?;
		Some(InputProof {
			leaf: encoded.get(index)?.clone(),
			proof,
			root,
		})
	}

	/// An award's record, its proof to its step's root, the step's leaf, and that leaf's proof
	/// to the session's outcome root.
	pub fn award_proof(session: SessionId, award: AwardRef) -> Option<AwardProof> {
		let info = Sessions::<T>::get(session).filter(|i| i.phase != Phase::Pruning)?;
		let root = info.outcome_root?;
		let records: Vec<Vec<u8>> = StepAwards::<T>::get(session, award.step)?
			.iter()
			.map(|r| r.encode())
			.collect();
		let leaf = records.get(award.index as usize)?.clone();
		let leaf_proof =
			MerkleTree::from_leaves::<RuntimeHasher>(&records).proof(award.index.into())?;
		let step_leaves: Vec<Vec<u8>> = Self::step_leaves(session, &info, false)
			.iter()
			.map(|l| l.encode())
			.collect();
		let step_leaf = step_leaves.get(usize::from(award.step))?.clone();
		let step_proof =
			MerkleTree::from_leaves::<RuntimeHasher>(&step_leaves).proof(award.step.into())?;
		Some(AwardProof {
			leaf,
			leaf_proof,
			step_leaf,
			step_proof,
			root,
		})
	}

	// ---- invariants ----

	/// Per session: item counts match storage, live sessions are exactly those not final,
	/// every award pairs a stored request and offer within their terms, the step digests
	/// count their awards, answers only exist for awards, and sealed chunks hold each
	/// uncleared step's input.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let live = Live::<T>::get();
		for (session, info) in Sessions::<T>::iter() {
			let done = matches!(info.phase, Phase::Final | Phase::Pruning);
			ensure!(
				live.contains(&session) != done,
				"Live lists exactly the sessions not final"
			);
			if info.phase == Phase::Pruning {
				// Partly removed: only the live list is checked.
				continue;
			}
			ensure!(
				Requests::<T>::iter_prefix(session).count() as u32 == info.requests,
				"request count"
			);
			ensure!(
				Offers::<T>::iter_prefix(session).count() as u32 == info.offers,
				"offer count"
			);
			ensure!(
				info.requests <= T::MaxRequests::get(),
				"requests within bound"
			);
			ensure!(info.offers <= T::MaxOffers::get(), "offers within bound");
			// Ids handed out, counted per account since the count began (spec 111): never
			// more than the session's, nor more than the bound for any one account.
			let mut handed = 0u32;
			for (_, n) in ItemsHandedOut::<T>::iter_prefix(session) {
				ensure!(
					n <= T::MaxItemsPerAccount::get(),
					"ids per account within bound"
				);
				handed = handed.saturating_add(n);
			}
			ensure!(
				handed <= info.last_item,
				"ids per account add up to at most the session's"
			);
			let mut awards = 0u32;
			for (step, records) in StepAwards::<T>::iter_prefix(session) {
				let digest = Steps::<T>::get(session, step).ok_or("awards without a digest")?;
				ensure!(
					digest.awards as usize == records.len(),
					"digest counts its awards"
				);
				let (slot, direction) = slot_of(step);
				for r in records.iter() {
					ensure!(
						r.award.slot == slot && r.award.direction == direction,
						"award in its step"
					);
					let request =
						Requests::<T>::get(session, r.award.request).ok_or("award's request")?;
					let offer = Offers::<T>::get(session, r.award.offer).ok_or("award's offer")?;
					ensure!(offer.validator == r.validator, "award's validator");
					let at = |q: &QuantitiesOf<T>| quantity_at(q, slot).unwrap_or(0);
					ensure!(
						r.award.quantity > 0
							&& r.award.quantity <= at(&request.input.quantities)
							&& r.award.quantity <= at(&offer.input.quantities),
						"award within both quantities"
					);
					ensure!(
						offer.input.price <= request.input.max_price,
						"award within the request's price"
					);
				}
				awards = awards.saturating_add(digest.awards);
			}
			if !matches!(info.phase, Phase::Open | Phase::GateClosed { .. }) {
				ensure!(awards == info.awards, "session counts its awards");
			}
			// A step closing over several blocks: its progress, and the shares so far.
			let progress = CloseProgress::<T>::get(session);
			let closing = match (info.phase, &progress) {
				(Phase::Closing { next }, Some(p)) => Some((next, p)),
				(_, None) => None,
				_ => return Err("close progress only while closing".into()),
			};
			if let Some((next, p)) = closing {
				ensure!(
					p.from > 0
						&& StepPods::<T>::get(session, next).map(|s| s.len())
							== Some(p.from as usize),
					"a closing step's progress has its shares so far"
				);
			}
			for (step, shares) in StepPods::<T>::iter_prefix(session) {
				let partial = closing.filter(|(next, _)| *next == step).map(|(_, p)| p);
				ensure!(
					info.phase.closed(step) || partial.is_some(),
					"PoD shares only for closed steps"
				);
				let (records, leaves): (Vec<_>, Vec<ResultLeaf>) =
					Self::step_results(session, step).into_iter().unzip();
				let again = Self::pod_shares_of(session, &records, &leaves);
				match partial {
					None => ensure!(
						shares.to_vec() == again,
						"PoD shares follow the step's results"
					),
					Some(p) => {
						let done = p.from as usize;
						ensure!(
							done < again.len() && shares.len() == done,
							"a closing step's shares reach its progress"
						);
						ensure!(
							again.get(..done) == Some(&shares[..]),
							"PoD shares so far follow the step's results"
						);
						let mut frontier = platone_primitives::merkle::Frontier::default();
						for leaf in leaves.iter().take(done) {
							frontier.push::<RuntimeHasher>(derive::leaf_hash(leaf));
						}
						ensure!(
							frontier == p.frontier,
							"the validation tree so far holds the closed awards' leaves"
						);
					}
				}
			}
			for step in StepAwards::<T>::iter_key_prefix(session) {
				ensure!(
					!info.phase.closed(step) || StepPods::<T>::contains_key(session, step),
					"a closed step with awards has its PoD shares"
				);
			}
			Self::sealed_state(session, &info)?;
			let mut answered = 0u32;
			for (award, _) in Answers::<T>::iter_prefix(session) {
				ensure!(
					StepAwards::<T>::get(session, award.step)
						.is_some_and(|a| (award.index as usize) < a.len()),
					"answer for an award"
				);
				answered = answered.saturating_add(1);
			}
			if let Phase::Cleared { pending, .. } = info.phase {
				ensure!(
					pending == info.awards.saturating_sub(answered),
					"pending counts the unanswered awards"
				);
			}
		}
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// The sealed chunks exist exactly while the session needs them, and each step still to
	/// clear reads from them the input the audit derives from the items.
	fn sealed_state(
		session: SessionId,
		info: &SessionInfo,
	) -> Result<(), sp_runtime::TryRuntimeError> {
		let sealed: usize = SealedItems::<T>::iter_prefix_values(session)
			.map(|c| c.len())
			.sum();
		let leaves = SealLeaves::<T>::iter_prefix_values(session).count();
		let power = StepPower::<T>::iter_key_prefix(session).count();
		match info.phase {
			Phase::Open => ensure!(
				sealed == 0 && leaves == 0 && power == 0,
				"nothing sealed before the gate"
			),
			Phase::Sealing { checked, kept } => {
				ensure!(sealed == kept as usize, "sealing counts what it kept");
				ensure!(checked <= info.last_item, "sealing checks ids handed out");
				ensure!(
					kept <= info.requests.saturating_add(info.offers),
					"no more kept than items"
				);
			}
			Phase::GateClosed { next } => {
				ensure!(leaves == 0, "leaf hashes taken by the input root");
				ensure!(
					sealed == info.requests.saturating_add(info.offers) as usize,
					"every sealed item is in a chunk"
				);
				for step in 0..info.steps() {
					let cleared = step < next;
					let has = (0..Self::chunks(info.requests.saturating_add(info.offers)))
						.any(|c| StepPower::<T>::contains_key(session, (step, c)));
					ensure!(!(cleared && has), "a cleared step's power is removed");
					if !cleared {
						ensure!(
							Self::step_market(session, info, step)
								== Self::step_market_from_items(session, info, step),
							"a step's sealed input is the one derived from the items"
						);
					}
				}
			}
			_ => ensure!(
				sealed == 0 && leaves == 0 && power == 0,
				"sealed chunks removed once cleared"
			),
		}
		Ok(())
	}
}

impl<T: Config> MarketView<T::AccountId> for Pallet<T> {
	fn session(session: SessionId) -> Option<SessionInfo> {
		Sessions::<T>::get(session)
	}

	fn offer(session: SessionId, offer: ItemId) -> Option<(T::AccountId, PodId, Vec<Slot>)> {
		Offers::<T>::get(session, offer).map(|o| {
			let slots = o.input.quantities.iter().map(|(s, _)| *s).collect();
			(o.owner, o.input.pod, slots)
		})
	}

	fn final_award(session: SessionId, award: AwardRef) -> Option<SettledAward<T::AccountId>> {
		Self::final_awards(session, &[award]).pop().flatten()
	}

	fn final_award_weight() -> Weight {
		Self::final_awards_weight(1, 1)
	}

	fn final_awards(
		session: SessionId,
		awards: &[AwardRef],
	) -> Vec<Option<SettledAward<T::AccountId>>> {
		if Sessions::<T>::get(session).is_none_or(|i| i.phase != Phase::Final) {
			return awards.iter().map(|_| None).collect();
		}
		// The last step read: its records and PoD shares, decoded once per run.
		let mut step: Option<(StepIndex, Option<StepAwardsOf<T>>, Option<Vec<PodShare>>)> = None;
		awards
			.iter()
			.map(|award| {
				if step.as_ref().is_none_or(|(s, ..)| *s != award.step) {
					step = Some((
						award.step,
						StepAwards::<T>::get(session, award.step),
						StepPods::<T>::get(session, award.step).map(|p| p.into_inner()),
					));
				}
				let (_, records, shares) = step.as_ref()?;
				let index = award.index as usize;
				let record = records.as_ref()?.get(index)?;
				let share = *shares.as_ref()?.get(index)?;
				let aggregator = Offers::<T>::get(session, record.award.offer)?.owner;
				let requester = Requests::<T>::get(session, record.award.request)?.owner;
				let quantity = Answers::<T>::get(session, *award)
					.unwrap_or(T::DefaultLight::get())
					.apply(record.award.quantity);
				Some(derive::settled(
					record, aggregator, requester, quantity, share,
				))
			})
			.collect()
	}

	fn final_awards_weight(n: u32, runs: u32) -> Weight {
		// The session once; per award its offer, request and answer; per run of one step, the
		// step's records and PoD shares (decoded whole).
		let records = StepAwardBound::<T>::get();
		let per_run = T::DbWeight::get()
			.reads(2)
			.saturating_add(Weight::from_parts(120_000, 64).saturating_mul(records.into()));
		T::DbWeight::get()
			.reads(u64::from(n).saturating_mul(3).saturating_add(1))
			.saturating_add(per_run.saturating_mul(runs.into()))
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn bench_session(
		session: SessionId,
		awards: Vec<SettledAward<T::AccountId>>,
		delivery_start_ms: u64,
		is_final: bool,
	) {
		let schedule = Schedule {
			period_ms: 3_600_000,
			slot_ms: 900_000,
			open_lead_ms: 3 * 3_600_000,
			gate_lead_ms: 2 * 3_600_000,
			validation_ms: 3_600_000,
		};
		let mut info = SessionInfo::opened(
			SessionKind::RealTime,
			delivery_start_ms,
			&schedule,
			4,
			Pricing::PayAsBid,
			0,
		);
		info.phase = if is_final { Phase::Final } else { Phase::Open };
		info.awards = if is_final { awards.len() as u32 } else { 0 };
		let quantities = |award: &SettledAward<T::AccountId>| -> QuantitiesOf<T> {
			alloc::vec![(award.slot, award.quantity.max(1))]
				.try_into()
				.unwrap_or_default()
		};
		// One request, 0, which every award serves.
		if let Some(award) = awards.first() {
			Requests::<T>::insert(
				session,
				0,
				Request {
					owner: award.requester.clone(),
					requester: Requester::Dso,
					input: RequestInput {
						area: 0,
						direction: award.direction,
						max_price: award.price,
						min_quantity: 0,
						quantities: quantities(award),
					},
				},
			);
		}
		let mut records = Vec::new();
		for (index, award) in awards.iter().enumerate() {
			Offers::<T>::insert(
				session,
				award.offer,
				Offer {
					owner: award.aggregator.clone(),
					area: 0,
					validator: award.validator.clone(),
					input: OfferInput {
						pod: award.pod,
						direction: award.direction,
						price: award.price,
						min_quantity: 0,
						quantities: quantities(award),
					},
				},
			);
			records.push(AwardRecord {
				award: Award {
					slot: award.slot,
					direction: award.direction,
					request: 0,
					offer: award.offer,
					quantity: award.quantity,
					price: award.price,
				},
				validator: award.validator.clone(),
			});
			let step = step_of(award.slot, award.direction).unwrap_or_default();
			Answers::<T>::insert(
				session,
				AwardRef {
					step,
					index: index as u32,
				},
				Light::Green,
			);
		}
		if is_final {
			let step = awards
				.first()
				.and_then(|a| step_of(a.slot, a.direction))
				.unwrap_or_default();
			// Green answers: each award's validated power is its quantity.
			let leaves: Vec<ResultLeaf> = records
				.iter()
				.enumerate()
				.map(|(index, r)| {
					let at = AwardRef {
						step,
						index: index as u32,
					};
					derive::result_leaf(at, r.award.quantity, Some(Light::Green), Light::Green)
				})
				.collect();
			Self::keep_pod_shares(session, step, &records, &leaves);
			let bounded: StepAwardsOf<T> = records.try_into().unwrap_or_default();
			StepAwards::<T>::insert(session, step, bounded);
		}
		Sessions::<T>::insert(session, info);
	}
}

/// A sealed item's input-tree leaf hash.
pub(crate) enum Leaf {
	Request(Hash),
	Offer(Hash),
}

/// Appends sealed items to a session's chunks. With `kept` items sealed before, the next goes
/// to chunk `kept / SealChunk` at position `kept % SealChunk`. The chunks it touches are read
/// once and written once, by `write`.
pub(crate) struct Packer<T: Config> {
	session: SessionId,
	kept: u32,
	/// Steps before it are cleared already and get no power (the v2 migration).
	from_step: StepIndex,
	items: BTreeMap<u32, Vec<SealedItemOf<T>>>,
	power: BTreeMap<(StepIndex, u32), Vec<(u32, Power)>>,
	leaves: BTreeMap<u32, (Vec<Hash>, Vec<Hash>)>,
}

impl<T: Config> Packer<T> {
	pub(crate) fn new(session: SessionId, kept: u32, from_step: StepIndex) -> Self {
		Packer {
			session,
			kept,
			from_step,
			items: BTreeMap::new(),
			power: BTreeMap::new(),
			leaves: BTreeMap::new(),
		}
	}

	pub(crate) fn push(
		&mut self,
		item: SealedItemOf<T>,
		direction: Direction,
		quantities: &[(Slot, Power)],
		leaf: Option<Leaf>,
	) {
		let size = T::SealChunk::get().max(1);
		let (chunk, at) = (self.kept / size, self.kept % size);
		let session = self.session;
		self.items
			.entry(chunk)
			.or_insert_with(|| {
				SealedItems::<T>::get(session, chunk)
					.unwrap_or_default()
					.into_inner()
			})
			.push(item);
		for &(slot, watts) in quantities {
			let Some(step) = step_of(slot, direction).filter(|s| *s >= self.from_step) else {
				continue;
			};
			self.power
				.entry((step, chunk))
				.or_insert_with(|| {
					StepPower::<T>::get(session, (step, chunk))
						.unwrap_or_default()
						.into_inner()
				})
				.push((at, watts));
		}
		if let Some(leaf) = leaf {
			let (requests, offers) = self.leaves.entry(chunk).or_insert_with(|| {
				SealLeaves::<T>::get(session, chunk)
					.map(|(r, o)| (r.into_inner(), o.into_inner()))
					.unwrap_or_default()
			});
			match leaf {
				Leaf::Request(h) => requests.push(h),
				Leaf::Offer(h) => offers.push(h),
			}
		}
		self.kept = self.kept.saturating_add(1);
	}

	/// Writes the touched chunks; the count of items sealed so far.
	pub(crate) fn write(self) -> u32 {
		let session = self.session;
		for (chunk, items) in self.items {
			SealedItems::<T>::insert(session, chunk, BoundedVec::truncate_from(items));
		}
		for (key, power) in self.power {
			StepPower::<T>::insert(session, key, BoundedVec::truncate_from(power));
		}
		for (chunk, (r, o)) in self.leaves {
			SealLeaves::<T>::insert(
				session,
				chunk,
				(BoundedVec::truncate_from(r), BoundedVec::truncate_from(o)),
			);
		}
		self.kept
	}
}
