//! The settlement's logic: calls (`do_*`), outcomes, payments and invariants.

use crate::{
	baseline::{self, Day},
	derive::{self, BaselineInput},
	metering::{slot_metering, MeteringError},
	pallet::*,
	types::*,
	weights::WeightInfo,
};
use alloc::vec::Vec;
use codec::{Encode, FullCodec};
use frame_support::{
	ensure,
	pallet_prelude::*,
	storage::{
		with_transaction, IterableStorageDoubleMap, StorageDoubleMap as DoubleMap,
		TransactionOutcome,
	},
	traits::{
		fungible::{Inspect, Mutate},
		tokens::{Fortitude, Precision, Preservation},
		Get, UnixTime,
	},
};
use pallet_certification::{Anchoring, RuntimeHasher};
use pallet_market::{MarketView, Phase, SessionInfo, SettledAward};
use pallet_registry::ParticipantRegistry;
use platone_primitives::{merkle, AnchorKind, Hash, Hasher, VerifyError};
use sp_runtime::traits::AccountIdConversion;

impl<T: Config> Pallet<T> {
	pub fn now_ms() -> u64 {
		T::UnixTime::now()
			.as_millis()
			.try_into()
			.unwrap_or(u64::MAX)
	}

	/// The pallet's account: it anchors and holds tokens handed in for redemption.
	pub fn account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// Weight of `settle` for `n` awards, each allowed a contract call and the market's
	/// worst-case award lookup.
	pub fn settle_weight(n: u32, runs: u32) -> Weight {
		Self::settle_actual(n, runs, Self::contract_weight(n))
	}

	/// What `n` contract calls may cost at most.
	pub fn contract_weight(n: u32) -> Weight {
		Weight::from_parts(T::MaxContractGas::get(), T::Contracts::max_proof_size())
			.saturating_mul(n.into())
	}

	/// `settle`'s weight once its contract calls are done and `used` what they used.
	pub fn settle_actual(n: u32, runs: u32, used: Weight) -> Weight {
		T::WeightInfo::settle(n)
			.saturating_add(T::Market::final_awards_weight(n, runs))
			.saturating_add(used)
	}

	/// A session still before its gate closure: by the clock, not only by the phase, which the
	/// hook moves in its own time.
	fn open_session(session: SessionId) -> Result<SessionInfo, DispatchError> {
		let info = T::Market::session(session).ok_or(Error::<T>::UnknownSession)?;
		ensure!(
			info.phase == Phase::Open && Self::now_ms() < info.gate_closure_ms,
			Error::<T>::GateClosed
		);
		Ok(info)
	}

	/// `[start, end)` of a session's slot, ms.
	fn slot_span(info: &SessionInfo, slot: Slot) -> Result<(u64, u64), DispatchError> {
		ensure!(slot < info.slots, Error::<T>::SlotOutOfRange);
		Ok(
			baseline::slot_span(info.delivery_start_ms, info.slot_ms, slot)
				.ok_or(Error::<T>::Overflow)?,
		)
	}

	/// A slot's metering, or a day of its history, may be submitted while the chain holds none
	/// with valid readings: flagged metering is replaced once the SCD has the valid readings.
	fn ensure_not_metered(on_chain: Option<Metering>) -> DispatchResult {
		ensure!(
			!on_chain.is_some_and(|m| m.is_valid()),
			Error::<T>::AlreadyMetered
		);
		Ok(())
	}

	// ---- mechanisms and declarations ----

	pub(crate) fn do_create_mechanism(who: T::AccountId, rule: RuleOf<T>) -> DispatchResult {
		if let Rule::Standard(terms) = &rule {
			ensure!(
				terms.tolerance <= T::MaxTolerance::get(),
				Error::<T>::ToleranceTooHigh
			);
		}
		if let Rule::Contract { contract, gas } = &rule {
			ensure!(
				*gas > 0 && *gas <= T::MaxContractGas::get(),
				Error::<T>::BadGas
			);
			ensure!(T::Contracts::exists(contract), Error::<T>::UnknownContract);
		}
		let id = LastMechanism::<T>::get()
			.checked_add(1)
			.ok_or(Error::<T>::MechanismIdsExhausted)?;
		LastMechanism::<T>::put(id);
		Mechanisms::<T>::insert(
			id,
			Mechanism {
				owner: who.clone(),
				rule: rule.clone(),
				retired: false,
			},
		);
		Self::deposit_event(Event::MechanismCreated {
			id,
			owner: who,
			rule,
		});
		Ok(())
	}

	pub(crate) fn do_retire_mechanism(who: T::AccountId, id: MechanismId) -> DispatchResult {
		Mechanisms::<T>::try_mutate(id, |m| {
			let m = m.as_mut().ok_or(Error::<T>::UnknownMechanism)?;
			ensure!(m.owner == who, Error::<T>::NotMechanismOwner);
			m.retired = true;
			Ok::<_, DispatchError>(())
		})?;
		Self::deposit_event(Event::MechanismRetired { id });
		Ok(())
	}

	pub(crate) fn do_choose_mechanism(
		who: T::AccountId,
		session: SessionId,
		offer: ItemId,
		mechanism: MechanismId,
	) -> DispatchResult {
		Self::open_session(session)?;
		let (owner, _, _) = T::Market::offer(session, offer).ok_or(Error::<T>::UnknownOffer)?;
		ensure!(owner == who, Error::<T>::NotOfferOwner);
		let m = Mechanisms::<T>::get(mechanism).ok_or(Error::<T>::UnknownMechanism)?;
		ensure!(!m.retired, Error::<T>::MechanismRetired);
		OfferMechanisms::<T>::insert(session, offer, mechanism);
		Self::deposit_event(Event::MechanismChosen {
			session,
			offer,
			mechanism,
		});
		Ok(())
	}

	pub(crate) fn do_declare_baseline(
		who: T::AccountId,
		session: SessionId,
		pod: PodId,
		baseline: BaselineOf<T>,
	) -> DispatchResult {
		let info = Self::open_session(session)?;
		ensure!(!baseline.is_empty(), Error::<T>::BadBaseline);
		ensure!(
			baseline.windows(2).all(|w| w[0].0 < w[1].0),
			Error::<T>::BadBaseline
		);
		ensure!(
			baseline.iter().all(|(s, _)| *s < info.slots),
			Error::<T>::SlotOutOfRange
		);
		let slots = baseline.len() as u32;
		Self::redeclare(&who, session, pod, |d| d.baseline = baseline)?;
		Self::deposit_event(Event::BaselineDeclared {
			session,
			pod,
			slots,
		});
		Ok(())
	}

	/// Updates the PoD's declaration for the session (a new one: no values, declared
	/// method), if `who` represents the PoD, and records the PoD's meters in the registry now.
	fn redeclare(
		who: &T::AccountId,
		session: SessionId,
		pod: PodId,
		update: impl FnOnce(&mut DeclaredOf<T>),
	) -> DispatchResult {
		let aggregator = T::Registry::pod_area(pod)
			.map(|_| T::Registry::pod_aggregator(pod))
			.ok_or(Error::<T>::UnknownPod)?;
		ensure!(
			aggregator.as_ref() == Some(who),
			Error::<T>::NotPodAggregator
		);
		let meters: MetersOf<T> = T::Registry::pod_meters(pod)
			.try_into()
			.map_err(|_| Error::<T>::TooManyMeters)?;
		Baselines::<T>::mutate(session, pod, |d| {
			let d = d.get_or_insert_with(|| Declared {
				baseline: Default::default(),
				meters: Default::default(),
				method: BaselineMethod::Declared,
			});
			d.meters = meters;
			update(d);
		});
		Ok(())
	}

	pub(crate) fn do_set_baseline_method(
		who: T::AccountId,
		session: SessionId,
		pod: PodId,
		method: BaselineMethod,
	) -> DispatchResult {
		Self::open_session(session)?;
		if let BaselineMethod::WorkingDays(days) = method {
			ensure!(
				(1..=baseline::MAX_HISTORY_DAYS).contains(&days),
				Error::<T>::BadHistoryDays
			);
		}
		Self::redeclare(&who, session, pod, |d| d.method = method)?;
		Self::deposit_event(Event::BaselineMethodSet {
			session,
			pod,
			method,
		});
		Ok(())
	}

	pub(crate) fn do_set_pod_owner(
		who: T::AccountId,
		pod: PodId,
		owner: Option<T::AccountId>,
	) -> DispatchResult {
		let area = T::Registry::pod_area(pod).ok_or(Error::<T>::UnknownPod)?;
		ensure!(
			T::Registry::area_owner(area) == Some(who),
			Error::<T>::NotPodOperator
		);
		ensure!(
			owner.as_ref() != Some(&Self::account()),
			Error::<T>::PalletAccount
		);
		match &owner {
			Some(o) => PodOwners::<T>::insert(pod, o),
			None => PodOwners::<T>::remove(pod),
		}
		Self::deposit_event(Event::PodOwnerSet { pod, owner });
		Ok(())
	}

	// ---- metering ----

	pub(crate) fn do_submit_metering(
		session: SessionId,
		pod: PodId,
		slot: Slot,
		readings: ReadingsOf<T>,
	) -> DispatchResult {
		let info = T::Market::session(session).ok_or(Error::<T>::UnknownSession)?;
		let (start, end) = Self::slot_span(&info, slot)?;
		ensure!(Self::now_ms() >= end, Error::<T>::SlotNotOver);
		Self::ensure_not_metered(Meterings::<T>::get(session, (pod, slot)))?;
		let meters = Baselines::<T>::get(session, pod)
			.ok_or(Error::<T>::NotDeclared)?
			.meters;
		let metering = Self::certified_metering(&meters, start, end, &readings)?;
		Meterings::<T>::insert(session, (pod, slot), metering);
		Self::deposit_event(Event::Metered {
			session,
			pod,
			slot,
			import_wh: metering.import_wh,
			export_wh: metering.export_wh,
			quality: metering.quality,
		});
		Ok(())
	}

	pub(crate) fn do_submit_history(
		session: SessionId,
		pod: PodId,
		slot: Slot,
		day: Day,
		readings: ReadingsOf<T>,
	) -> DispatchResult {
		let info = T::Market::session(session).ok_or(Error::<T>::UnknownSession)?;
		let (start, end) = Self::slot_span(&info, slot)?;
		let declared = Baselines::<T>::get(session, pod).ok_or(Error::<T>::NotDeclared)?;
		let BaselineMethod::WorkingDays(days) = declared.method else {
			return Err(Error::<T>::NotStandardBaseline.into());
		};
		ensure!(
			baseline::candidate_days(start, days).any(|d| d == day),
			Error::<T>::NotCandidateDay
		);
		let (start, end) = baseline::on_day(start, end, day).ok_or(Error::<T>::Overflow)?;
		ensure!(Self::now_ms() >= end, Error::<T>::SlotNotOver);
		ensure!(
			!HistoryClosed::<T>::contains_key(session, (pod, slot)),
			Error::<T>::HistoryClosed
		);
		Self::ensure_not_metered(History::<T>::get(session, (pod, slot, day)))?;
		let metering = Self::certified_metering(&declared.meters, start, end, &readings)?;
		History::<T>::insert(session, (pod, slot, day), metering);
		Self::deposit_event(Event::HistoryMetered {
			session,
			pod,
			slot,
			day,
			import_wh: metering.import_wh,
			export_wh: metering.export_wh,
			quality: metering.quality,
		});
		Ok(())
	}

	/// The energy of `meters` over `[start, end)` from certified readings, each proven against
	/// its certificate on chain.
	fn certified_metering(
		meters: &[DatasetId],
		start: u64,
		end: u64,
		readings: &ReadingsOf<T>,
	) -> Result<Metering, DispatchError> {
		ensure!(!meters.is_empty(), Error::<T>::NoMeters);
		let mut records = Vec::with_capacity(readings.len());
		for (gateway, window, proof) in readings.iter() {
			let record = T::Certificates::verify(gateway, *window, proof).map_err(|e| match e {
				VerifyError::NotCertified => Error::<T>::NotCertified,
				_ => Error::<T>::BadProof,
			})?;
			records.push(record);
		}
		slot_metering(meters, start, end, &records).map_err(|e| {
			match e {
				MeteringError::NotActiveEnergy => Error::<T>::NotActiveEnergy,
				MeteringError::NotPodMeter => Error::<T>::NotPodMeter,
				MeteringError::OutsideSlot => Error::<T>::OutsideSlot,
				MeteringError::Duplicate => Error::<T>::DuplicateReading,
				MeteringError::MixedForms => Error::<T>::MixedForms,
				MeteringError::NotCovering => Error::<T>::NotCovering,
				MeteringError::RegisterWentBack => Error::<T>::RegisterWentBack,
				MeteringError::Incomplete => Error::<T>::IncompleteMetering,
				MeteringError::Overflow => Error::<T>::Overflow,
			}
			.into()
		})
	}

	// ---- settlement ----

	/// Settles each award; returns the weight its contract calls used.
	pub(crate) fn do_settle(
		session: SessionId,
		awards: &[AwardRef],
	) -> Result<Weight, DispatchError> {
		let info = T::Market::session(session).ok_or(Error::<T>::UnknownSession)?;
		ensure!(info.phase == Phase::Final, Error::<T>::SessionNotFinal);
		let now = Self::now_ms();
		let params = SettlementParams::<T>::get();
		let until_ms = now
			.checked_add(params.dispute_ms)
			.ok_or(Error::<T>::Overflow)?;
		let mut tally = Tallies::<T>::get(session).unwrap_or_default();
		tally.awards = info.awards;
		let mut used = Weight::zero();
		let finals = T::Market::final_awards(session, awards);
		for (award, a) in awards.iter().zip(finals) {
			let again = match Outcomes::<T>::get(session, award) {
				None => false,
				Some(o) if Self::metered_since(session, &o) => true,
				Some(_) => return Err(Error::<T>::AlreadySettled.into()),
			};
			let a = a.ok_or(Error::<T>::UnknownAward)?;
			let (_, end) = Self::slot_span(&info, a.slot)?;
			let due = end
				.checked_add(params.metering_delay_ms)
				.ok_or(Error::<T>::Overflow)?;
			ensure!(now >= due, Error::<T>::TooEarly);
			// The slot's history is what it is now for every outcome of the slot, settled
			// again or disputed: the audit reads back the days it was computed from.
			HistoryClosed::<T>::insert(session, (a.pod, a.slot), ());
			let (record, call) = Self::compute(session, &info, a);
			used = used.saturating_add(call);
			Self::deposit_event(Event::Settled {
				session,
				award: *award,
				basis: record.basis,
				split: record.split,
				until_ms,
			});
			let outcome = Outcome {
				record,
				status: Status::Open { until_ms },
				leaf: None,
			};
			Outcomes::<T>::insert(session, award, outcome);
			if !again {
				tally.settled = tally.settled.saturating_add(1);
			}
		}
		Tallies::<T>::insert(session, tally);
		Ok(used)
	}

	/// An open outcome settled without valid metering whose slot has valid metering now: it
	/// settles again, without a dispute. (History is closed at the first settlement, so an
	/// outcome without it stays so.)
	fn metered_since(session: SessionId, o: &OutcomeOf<T>) -> bool {
		matches!(o.status, Status::Open { .. })
			&& matches!(o.record.basis, Basis::Unmetered | Basis::Flagged(_))
			&& Meterings::<T>::get(session, (o.record.pod, o.record.slot))
				.is_some_and(|m| m.is_valid())
	}

	/// A PoD's baseline for a slot, from its declaration and the history on chain.
	pub fn baseline_input(
		session: SessionId,
		info: &SessionInfo,
		pod: PodId,
		slot: Slot,
	) -> BaselineInput {
		if slot >= info.slots {
			return BaselineInput::Undeclared;
		}
		BaselineInput::of(
			Baselines::<T>::get(session, pod).as_ref(),
			slot,
			info.delivery_start_ms,
			info.slot_ms,
			|day| History::<T>::get(session, (pod, slot, day)),
		)
	}

	/// An award's record from what is on chain now, and the weight its contract call used
	/// (none without a call; never more than the call's limit).
	pub(crate) fn compute(
		session: SessionId,
		info: &SessionInfo,
		a: SettledAward<T::AccountId>,
	) -> (RecordOf<T>, Weight) {
		let mechanism = OfferMechanisms::<T>::get(session, a.offer)
			.map(|id| (id, Mechanisms::<T>::get(id).map(|m| m.rule)));
		let inputs = derive::Inputs {
			slot_ms: info.slot_ms,
			mechanism,
			baseline: Self::baseline_input(session, info, a.pod, a.slot),
			metering: Meterings::<T>::get(session, (a.pod, a.slot)),
			customer: PodOwners::<T>::get(a.pod),
			default_terms: T::DefaultTerms::get(),
			max_tolerance: T::MaxTolerance::get(),
		};
		let mut used = Weight::zero();
		let (record, _) = derive::record(a, inputs, |contract, input, gas| {
			let (split, call) = T::Contracts::evaluate_metered(contract, input, gas);
			let limit = Weight::from_parts(gas, T::Contracts::max_proof_size());
			used = call.min(limit).min(Self::contract_weight(1));
			split
		});
		(record, used)
	}

	pub(crate) fn do_dispute(
		who: T::AccountId,
		session: SessionId,
		award: AwardRef,
	) -> DispatchResult {
		Outcomes::<T>::try_mutate(session, award, |o| {
			let o = o.as_mut().ok_or(Error::<T>::NotSettled)?;
			let r = &o.record;
			ensure!(
				who == r.requester || who == r.aggregator || who == r.validator,
				Error::<T>::NotParty
			);
			match o.status {
				Status::Open { until_ms } if Self::now_ms() < until_ms => {}
				_ => return Err(Error::<T>::DisputeClosed.into()),
			}
			o.status = Status::Disputed;
			Ok::<_, DispatchError>(())
		})?;
		let deposit = DisputeDepositAmount::<T>::get();
		if deposit > 0 {
			T::Token::transfer(&who, &Self::account(), deposit, Preservation::Expendable)
				.map_err(|_| Error::<T>::CannotPayDeposit)?;
		}
		DisputeDeposits::<T>::insert(session, award, (who.clone(), deposit));
		Self::deposit_event(Event::Disputed {
			session,
			award,
			by: who,
			deposit,
		});
		Ok(())
	}

	pub(crate) fn do_resolve(
		session: SessionId,
		award: AwardRef,
		split: Option<Split>,
	) -> DispatchResult {
		let mut outcome = Outcomes::<T>::get(session, award).ok_or(Error::<T>::NotSettled)?;
		ensure!(outcome.status == Status::Disputed, Error::<T>::NotDisputed);
		let before = (outcome.record.basis, outcome.record.split);
		// Upheld: the outcome changed; an imposed split counts only if it differs.
		let upheld = match split {
			Some(split) => {
				ensure!(split.check(&outcome.record.input), Error::<T>::BadSplit);
				outcome.record.split = split;
				outcome.record.basis = Basis::Resolved;
				split != before.1
			}
			None => {
				let info = T::Market::session(session).ok_or(Error::<T>::UnknownSession)?;
				let a = T::Market::final_award(session, award).ok_or(Error::<T>::UnknownAward)?;
				outcome.record = Self::compute(session, &info, a).0;
				(outcome.record.basis, outcome.record.split) != before
			}
		};
		Self::deposit_event(Event::Resolved {
			session,
			award,
			basis: outcome.record.basis,
			split: outcome.record.split,
		});
		if let Some((by, amount)) = DisputeDeposits::<T>::take(session, award) {
			let r = &outcome.record;
			let to = match (upheld, by == r.aggregator) {
				(true, _) => by,
				(false, true) => r.requester.clone(),
				(false, false) => r.aggregator.clone(),
			};
			if amount > 0 {
				// The pallet holds every deposit (`try_state`).
				T::Token::transfer(&Self::account(), &to, amount, Preservation::Expendable)?;
			}
			Self::deposit_event(Event::DepositSettled {
				session,
				award,
				to,
				amount,
				upheld,
			});
		}
		Self::fix(session, award, &mut outcome);
		Self::pay(session, award, &mut outcome);
		Outcomes::<T>::insert(session, award, outcome);
		Ok(())
	}

	pub(crate) fn do_finalize(session: SessionId, awards: &[AwardRef]) -> DispatchResult {
		let now = Self::now_ms();
		for award in awards {
			let mut outcome = Outcomes::<T>::get(session, award).ok_or(Error::<T>::NotSettled)?;
			match outcome.status {
				Status::Open { until_ms } if now >= until_ms => {
					Self::fix(session, *award, &mut outcome);
					Self::pay(session, *award, &mut outcome);
				}
				Status::Unpaid => {
					Self::pay(session, *award, &mut outcome);
					ensure!(
						outcome.status == Status::Paid,
						Error::<T>::InsufficientTokens
					);
				}
				_ => return Err(Error::<T>::NotFinalizable.into()),
			}
			Outcomes::<T>::insert(session, award, outcome);
		}
		Ok(())
	}

	/// Makes an outcome final: its leaf joins the session's tree, and the last one anchors
	/// the tree's root.
	fn fix(session: SessionId, award: AwardRef, outcome: &mut OutcomeOf<T>) {
		let mut tally = Tallies::<T>::get(session).unwrap_or_default();
		outcome.leaf = Some(tally.fixed);
		let leaf = OutcomeLeaf {
			award,
			record: outcome.record.clone(),
		};
		let mut peaks = tally.peaks.to_vec();
		merkle::append_peak::<RuntimeHasher>(
			&mut peaks,
			tally.fixed.into(),
			RuntimeHasher::leaf(&leaf.encode()),
		);
		// At most one peak per bit of a u32 count: always within the bound.
		tally.peaks = peaks.try_into().unwrap_or_default();
		tally.fixed = tally.fixed.saturating_add(1);
		if tally.fixed >= tally.awards && tally.root.is_none() {
			let root = merkle::root_of_peaks::<RuntimeHasher>(&tally.peaks);
			tally.root = Some(root);
			if let Err(error) = T::Anchoring::anchor(
				Self::account(),
				AnchorKind::Settlement,
				subject(session),
				root,
				tally.fixed.into(),
			) {
				Self::deposit_event(Event::AnchorRefused { session, error });
			}
			Self::deposit_event(Event::SessionSettled {
				session,
				outcomes: tally.fixed,
				root,
			});
		}
		Tallies::<T>::insert(session, tally);
	}

	/// Moves a final outcome's tokens, all or none: the net of payment and penalty between
	/// requester and aggregator, then the customer share to the PoD's owner.
	fn pay(session: SessionId, award: AwardRef, outcome: &mut OutcomeOf<T>) {
		let split = outcome.record.split;
		let customer = outcome.record.customer.clone();
		// Only the transaction layer's own limit fails the outer result, never reached here.
		let result = with_transaction(|| -> TransactionOutcome<Result<_, DispatchError>> {
			match Self::transfers(&outcome.record, customer.as_ref()) {
				Ok(()) => TransactionOutcome::Commit(Ok(Ok(()))),
				Err(short) => TransactionOutcome::Rollback(Ok(Err(short))),
			}
		})
		.unwrap_or_else(|_| Err(outcome.record.requester.clone()));
		match result {
			Ok(()) => {
				outcome.status = Status::Paid;
				Self::deposit_event(Event::Paid {
					session,
					award,
					split,
					customer,
				});
			}
			Err(short) => {
				outcome.status = Status::Unpaid;
				Self::deposit_event(Event::PaymentFailed {
					session,
					award,
					short,
				});
			}
		}
	}

	/// The transfers of one outcome; on failure, the account that lacked the tokens.
	fn transfers(
		record: &RecordOf<T>,
		customer: Option<&T::AccountId>,
	) -> Result<(), T::AccountId> {
		let (req, agg, split) = (&record.requester, &record.aggregator, &record.split);
		let move_tokens = |from: &T::AccountId, to: &T::AccountId, amount: Amount| {
			if amount == 0 || from == to {
				return Ok(());
			}
			T::Token::transfer(from, to, amount, Preservation::Expendable)
				.map(|_| ())
				.map_err(|_| from.clone())
		};
		if split.payment >= split.penalty {
			move_tokens(req, agg, split.payment - split.penalty)?;
		} else {
			move_tokens(agg, req, split.penalty - split.payment)?;
		}
		if let Some(owner) = customer {
			move_tokens(agg, owner, split.customer_share)?;
		}
		Ok(())
	}

	// ---- tokens ----

	pub(crate) fn do_mint(to: T::AccountId, amount: Amount) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(to != Self::account(), Error::<T>::PalletAccount);
		let total = Minted::<T>::get()
			.checked_add(amount)
			.ok_or(Error::<T>::Overflow)?;
		T::Token::mint_into(&to, amount)?;
		Minted::<T>::put(total);
		Self::deposit_event(Event::Minted { to, amount });
		Ok(())
	}

	pub(crate) fn do_request_redemption(who: T::AccountId, amount: Amount) -> DispatchResult {
		ensure!(amount > 0, Error::<T>::ZeroAmount);
		ensure!(
			T::Token::reducible_balance(&who, Preservation::Expendable, Fortitude::Polite)
				>= amount,
			Error::<T>::InsufficientTokens
		);
		let id = LastRedemption::<T>::get()
			.checked_add(1)
			.ok_or(Error::<T>::RedemptionIdsExhausted)?;
		T::Token::transfer(&who, &Self::account(), amount, Preservation::Expendable)?;
		LastRedemption::<T>::put(id);
		Redemptions::<T>::insert(
			id,
			Redemption {
				who: who.clone(),
				amount,
			},
		);
		Self::deposit_event(Event::RedemptionRequested { id, who, amount });
		Ok(())
	}

	pub(crate) fn do_burn_redeemed(id: RedemptionId) -> DispatchResult {
		let r = Redemptions::<T>::take(id).ok_or(Error::<T>::UnknownRedemption)?;
		let total = Burned::<T>::get()
			.checked_add(r.amount)
			.ok_or(Error::<T>::Overflow)?;
		T::Token::burn_from(
			&Self::account(),
			r.amount,
			Preservation::Expendable,
			Precision::Exact,
			Fortitude::Polite,
		)?;
		Burned::<T>::put(total);
		Self::deposit_event(Event::Redeemed {
			id,
			who: r.who,
			amount: r.amount,
		});
		Ok(())
	}

	pub(crate) fn do_cancel_redemption(id: RedemptionId) -> DispatchResult {
		let r = Redemptions::<T>::take(id).ok_or(Error::<T>::UnknownRedemption)?;
		T::Token::transfer(&Self::account(), &r.who, r.amount, Preservation::Expendable)?;
		Self::deposit_event(Event::RedemptionCancelled {
			id,
			who: r.who,
			amount: r.amount,
		});
		Ok(())
	}

	// ---- reading ----

	/// The session's outcomes that concern `who` as requester, aggregator or validator.
	pub fn outcomes_of(session: SessionId, who: &T::AccountId) -> Vec<(AwardRef, OutcomeOf<T>)> {
		let mut out: Vec<_> = Outcomes::<T>::iter_prefix(session)
			.filter(|(_, o)| {
				let r = &o.record;
				r.requester == *who || r.aggregator == *who || r.validator == *who
			})
			.collect();
		out.sort_by_key(|(award, _)| *award);
		out
	}

	/// A session's final outcomes in leaf order, with the root they anchor.
	pub fn outcome_leaves(session: SessionId) -> (Vec<OutcomeLeaf<T::AccountId>>, Hash) {
		let mut leaves: Vec<(u32, OutcomeLeaf<T::AccountId>)> = Outcomes::<T>::iter_prefix(session)
			.filter_map(|(award, o)| {
				let record = o.record;
				o.leaf.map(|l| (l, OutcomeLeaf { award, record }))
			})
			.collect();
		leaves.sort_by_key(|(l, _)| *l);
		let leaves: Vec<_> = leaves.into_iter().map(|(_, leaf)| leaf).collect();
		let hashes: Vec<Hash> = leaves
			.iter()
			.map(|l| crate::audit::leaf_hash(l.award, &l.record))
			.collect();
		(leaves, merkle::root::<RuntimeHasher>(&hashes))
	}

	/// A settled session's records, up to `budget` entries (the market prunes them with the
	/// session: [`pallet_market::SessionSettled::prune`]). The tally goes first: the invariants
	/// (`try_state`) hold a session with a tally to its outcomes, which leave over several
	/// calls. Mechanisms, PoD owners and tokens are not the session's and stay; the outcomes'
	/// root stays anchored in certification, where their proofs still verify.
	pub(crate) fn do_prune(session: SessionId, budget: u32) -> (u32, bool) {
		let mut left = budget;
		if left > 0 && Tallies::<T>::take(session).is_some() {
			left -= 1;
		}
		let mut done = !Tallies::<T>::contains_key(session);
		done &= clear_session::<Outcomes<T>, _, _>(session, &mut left);
		done &= clear_session::<Meterings<T>, _, _>(session, &mut left);
		done &= clear_session::<History<T>, _, _>(session, &mut left);
		done &= clear_session::<HistoryClosed<T>, _, _>(session, &mut left);
		done &= clear_session::<Baselines<T>, _, _>(session, &mut left);
		done &= clear_session::<OfferMechanisms<T>, _, _>(session, &mut left);
		// Empty once settled: every dispute was resolved, and its deposit paid out.
		done &= clear_session::<DisputeDeposits<T>, _, _>(session, &mut left);
		(budget - left, done)
	}

	/// Invariants: the token's issuance is what was minted less what was burned; the pallet
	/// holds at least the pending redemptions and dispute deposits; every split passes its
	/// check; each session's counts agree with its outcomes, and its peaks give the root of its
	/// final outcomes.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let issued = Minted::<T>::get().saturating_sub(Burned::<T>::get());
		ensure!(
			T::Token::total_issuance() == issued,
			"token issuance differs from minted less burned"
		);
		// Anyone may send tokens to the pallet's account; they stay there.
		let pending: Amount = Redemptions::<T>::iter_values().map(|r| r.amount).sum();
		let deposits: Amount = DisputeDeposits::<T>::iter_values().map(|d| d.1).sum();
		ensure!(
			T::Token::balance(&Self::account()) >= pending.saturating_add(deposits),
			"the pallet holds less than the pending redemptions and dispute deposits"
		);
		for (session, award, _) in DisputeDeposits::<T>::iter() {
			ensure!(
				Outcomes::<T>::get(session, award).is_some_and(|o| o.status == Status::Disputed),
				"a deposit for an outcome not in dispute"
			);
		}
		for (session, tally) in Tallies::<T>::iter() {
			let mut settled = 0u32;
			for (_, o) in Outcomes::<T>::iter_prefix(session) {
				settled += 1;
				ensure!(
					o.record.split.check(&o.record.input),
					"an outcome's split breaks its check"
				);
				ensure!(
					o.leaf.is_some() == matches!(o.status, Status::Paid | Status::Unpaid),
					"only final outcomes have leaves"
				);
			}
			ensure!(
				settled == tally.settled,
				"settled count differs from outcomes"
			);
			ensure!(tally.fixed <= tally.settled, "more final than settled");
			let (leaves, root) = Self::outcome_leaves(session);
			ensure!(
				leaves.len() as u32 == tally.fixed,
				"final count differs from leaves"
			);
			ensure!(
				merkle::root_of_peaks::<RuntimeHasher>(&tally.peaks) == root,
				"peaks differ from the final outcomes' root"
			);
			if let Some(anchored) = tally.root {
				ensure!(anchored == root, "anchored root differs from the outcomes'");
			}
		}
		Ok(())
	}
}

/// A session is settled once every award is final (its outcomes anchored), or when it had no
/// award to settle: the market prunes it only then.
impl<T: Config> pallet_market::SessionSettled for Pallet<T> {
	fn is_settled(session: SessionId) -> bool {
		Tallies::<T>::get(session).is_some_and(|t| t.root.is_some())
			|| T::Market::session(session).is_none_or(|i| i.awards == 0)
	}

	fn prune(session: SessionId, budget: u32) -> (u32, bool) {
		Pallet::<T>::do_prune(session, budget)
	}
}

/// Removes up to `left` entries of `session` from the double map `M`, keys collected before
/// removal so that each call makes progress however many calls a block holds; `true` once
/// none is left.
fn clear_session<M, K, V>(session: SessionId, left: &mut u32) -> bool
where
	M: IterableStorageDoubleMap<SessionId, K, V> + DoubleMap<SessionId, K, V>,
	K: FullCodec,
	V: FullCodec,
{
	let keys: Vec<K> = <M as IterableStorageDoubleMap<SessionId, K, V>>::iter_key_prefix(session)
		.take((*left as usize).saturating_add(1))
		.collect();
	let n = keys.len().min(*left as usize);
	let done = keys.len() <= n;
	for key in keys.into_iter().take(n) {
		<M as DoubleMap<SessionId, K, V>>::remove(session, key);
	}
	*left = left.saturating_sub(n as u32);
	done
}
