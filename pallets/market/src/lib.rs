//! # Market pallet
//!
//! The Platone Market Platform as a pallet of the consortium chain (D2.2 §4.3.1; issue #13).
//! DSOs and TSOs ask for flexibility, aggregators offer it from the PoDs they represent, the
//! chain clears each session at gate closure, the DSOs validate the awards on their grids with
//! a traffic light, and the market and technical results become final. The pallet anchors the
//! clearing inputs, the outcome and the technical validation itself (FR-MP-BC-01/02), through
//! `pallet-certification`'s [`pallet_certification::Anchoring`]; no participant writes them.
//!
//! ## Sessions (T-MP-02, FR_MP_I_1)
//! Governance sets a [`Schedule`] per [`SessionKind`] (day-ahead, rolling real-time). The block
//! hook creates each session from the chain's clock when its opening time comes, and moves it
//! through [`Phase`]s: open → gate closed (inputs re-checked against the registry, sealed and
//! anchored) → one clearing step per slot and direction → cleared (outcome anchored) →
//! validation until the deadline → validated (anchored) → final. Each step has a bounded,
//! benchmarked weight, and the hook runs steps while they fit its budget: a late session
//! catches up step by step and never skips one. Times are the previous block's timestamp
//! (the hook runs before this block's timestamp inherent).
//!
//! ## Clearing (FR-MP-MOMV-01)
//! `platone-clearing`, the crate `platone market clear` and `platone audit market` use too:
//! per slot and direction, most DSO volume, then most TSO volume, then least cost, exact in
//! integers, an offer serving a request only inside the request's area. Minima are searched
//! exhaustively up to `ExactLimit` items per step and by the crate's documented rule beyond;
//! every step stops at the crate's deterministic work budget (`Method::Budget`), which bounds
//! its weight at every size. Each step records which method gave its awards.
//!
//! ## Validation (FR-MP-MOMV-02/03)
//! Each award waits for the operator of the offer's PoD area (a DSO, or the TSO for a PoD in
//! its own area): green keeps it, yellow cuts it, red rejects it. An award unanswered at the
//! deadline takes `DefaultLight`. Volume that validation removes stays unmet: it is not
//! cleared again (docs/market.md).
//!
//! ## Bounds
//! At most `MaxRequests` requests and `MaxOffers` offers per session, `MaxSlots` slots,
//! `MaxLive` sessions not yet final; a final session is pruned after `RetentionMs`.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod audit;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod derive;
mod functions;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{Get, UnixTime},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use pallet_registry::ParticipantRegistry;
	use platone_primitives::Hash;

	/// v1: `StepPods` (migrations::v1).
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Participants, areas and PoDs.
		type Registry: ParticipantRegistry<Self::AccountId>;
		/// Where the pallet anchors its digests.
		type Anchoring: pallet_certification::Anchoring<Self::AccountId>;
		/// Whether a session's settlement is done: a session is pruned only after it.
		type Settlement: SessionSettled;
		/// Who may submit requests (DSOs and TSOs); yields the requester.
		type RequestOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who may submit offers (aggregators); yields the aggregator.
		type OfferOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who may validate awards (grid operators); yields the operator, who answers only for
		/// the awards it validates.
		type ValidateOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who sets schedules and pricing (the consortium).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// The chain's clock.
		type UnixTime: UnixTime;
		/// The pallet's own account, in whose name it anchors.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// Most slots in one session.
		#[pallet::constant]
		type MaxSlots: Get<u32>;
		/// Most requests in one session.
		#[pallet::constant]
		type MaxRequests: Get<u32>;
		/// Most offers in one session.
		#[pallet::constant]
		type MaxOffers: Get<u32>;
		/// Most item ids one account is handed in one session, withdrawn items included:
		/// gate closure walks every id, so this bounds what one participant's churn adds to
		/// it (docs/market.md, "Requests and offers").
		#[pallet::constant]
		type MaxItemsPerAccount: Get<u32>;
		/// Most areas in a session's registry snapshot.
		#[pallet::constant]
		type MaxAreas: Get<u32>;
		/// Longest area path (an item's area and its ancestors) in a session: an offer feeds at
		/// most this many price ladders, which bounds a step's awards (`StepAwardBound`). An
		/// item whose path is longer is dropped at gate closure.
		#[pallet::constant]
		type MaxAreaPath: Get<u32>;
		/// Item ids one gate-closure step checks and seals: the gate closes over as many blocks
		/// as a session needs, each step within the hook's budget. Also the size of a sealed
		/// chunk (`SealedItems`), which each clearing step reads.
		#[pallet::constant]
		type SealChunk: Get<u32>;
		/// Awards one validation-closing step handles: a step with more closes over several
		/// blocks, its validation root and PoD shares carried between them (`CloseProgress`).
		#[pallet::constant]
		type CloseChunk: Get<u32>;
		/// Most sessions not yet final.
		#[pallet::constant]
		type MaxLive: Get<u32>;
		/// Most answers in one `validate` call.
		#[pallet::constant]
		type MaxAnswers: Get<u32>;
		/// Items with a minimum searched exhaustively per clearing step.
		#[pallet::constant]
		type ExactLimit: Get<u8>;
		/// The answer an award gets when its validator did not answer by the deadline.
		#[pallet::constant]
		type DefaultLight: Get<Light>;
		/// Least time validators get after a late clearing, ms.
		#[pallet::constant]
		type MinValidationMs: Get<u64>;
		/// How long after its delivery ends a final session stays in state, ms.
		#[pallet::constant]
		type RetentionMs: Get<u64>;
		/// Most entries one `prune_session` call removes.
		#[pallet::constant]
		type MaxPrunePerCall: Get<u32>;
		/// The block hook's weight budget for sessions' steps.
		#[pallet::constant]
		type HookWeight: Get<Weight>;
		type WeightInfo: WeightInfo;
		/// Registry records and the clock for benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	pub type QuantitiesOf<T> = BoundedVec<(Slot, Power), <T as Config>::MaxSlots>;
	pub type RequestInputOf<T> = RequestInput<QuantitiesOf<T>>;
	pub type OfferInputOf<T> = OfferInput<QuantitiesOf<T>>;
	pub type RequestOf<T> = Request<<T as frame_system::Config>::AccountId, QuantitiesOf<T>>;
	pub type OfferOf<T> = Offer<<T as frame_system::Config>::AccountId, QuantitiesOf<T>>;
	pub type AwardRecordOf<T> = AwardRecord<<T as frame_system::Config>::AccountId>;
	pub type StepAwardsOf<T> = BoundedVec<AwardRecordOf<T>, StepAwardBound<T>>;
	pub type AnswersOf<T> = BoundedVec<(AwardRef, Light), <T as Config>::MaxAnswers>;
	pub type SealedItemOf<T> = SealedItem<<T as frame_system::Config>::AccountId>;
	pub type InputLeafOf<T> = InputLeaf<<T as frame_system::Config>::AccountId, QuantitiesOf<T>>;

	/// Most awards one clearing step can make. The clearing pairs offers and requests per
	/// price ladder (one per area with requests, `platone-clearing`), at most one pair per
	/// offer feeding the ladder and one per request on it; an offer feeds at most one ladder
	/// per area on its path, and there are no more ladders than requests.
	pub struct StepAwardBound<T>(core::marker::PhantomData<T>);
	impl<T: Config> Get<u32> for StepAwardBound<T> {
		fn get() -> u32 {
			let r = T::MaxRequests::get();
			T::MaxOffers::get()
				.saturating_mul(T::MaxAreaPath::get().min(r))
				.saturating_add(r)
		}
	}

	#[pallet::type_value]
	pub fn DefaultPricing() -> Pricing {
		Pricing::PayAsBid
	}

	/// The schedule of each kind of session; none, and that kind does not run.
	#[pallet::storage]
	pub type Schedules<T: Config> = StorageMap<_, Twox64Concat, SessionKind, Schedule>;

	/// Start of the next delivery period of each kind to open a session for.
	#[pallet::storage]
	pub type NextPeriod<T: Config> = StorageMap<_, Twox64Concat, SessionKind, u64>;

	/// Pricing of the sessions created from now on.
	#[pallet::storage]
	pub type SessionPricing<T: Config> = StorageValue<_, Pricing, ValueQuery, DefaultPricing>;

	/// Last session id handed out.
	#[pallet::storage]
	pub type LastSession<T: Config> = StorageValue<_, SessionId, ValueQuery>;

	#[pallet::storage]
	pub type Sessions<T: Config> = StorageMap<_, Twox64Concat, SessionId, SessionInfo>;

	/// Sessions not yet final, oldest first: what the hook advances.
	#[pallet::storage]
	pub type Live<T: Config> = StorageValue<_, BoundedVec<SessionId, T::MaxLive>, ValueQuery>;

	#[pallet::storage]
	pub type Requests<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, ItemId, RequestOf<T>>;

	#[pallet::storage]
	pub type Offers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, ItemId, OfferOf<T>>;

	/// Item ids each account was handed in a session, withdrawn items included
	/// (`MaxItemsPerAccount`).
	#[pallet::storage]
	pub type ItemsHandedOut<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Blake2_128Concat,
		T::AccountId,
		u32,
		ValueQuery,
	>;

	/// The areas of a session's registry snapshot, by id, with their parents.
	#[pallet::storage]
	pub type SessionAreas<T: Config> =
		StorageMap<_, Twox64Concat, SessionId, BoundedVec<(AreaId, Option<AreaId>), T::MaxAreas>>;

	/// A sealed session's items, `SealChunk` to a chunk in id order, with the terms each
	/// clearing step takes. Written at gate closure, removed when clearing finishes.
	#[pallet::storage]
	pub type SealedItems<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		u32,
		BoundedVec<SealedItemOf<T>, T::SealChunk>,
	>;

	/// Per clearing step and sealed chunk: the chunk's items with power in that step, as
	/// (position in the chunk, watts). Written at gate closure, removed as each step clears, so
	/// that a step reads what it clears and not every item.
	#[pallet::storage]
	pub type StepPower<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		(StepIndex, u32),
		BoundedVec<(u32, Power), T::SealChunk>,
	>;

	/// Per sealed chunk: the input-tree leaf hashes of its requests and of its offers, in id
	/// order, until the last gate-closure step takes them for the input root.
	#[pallet::storage]
	pub type SealLeaves<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		u32,
		(
			BoundedVec<Hash, T::SealChunk>,
			BoundedVec<Hash, T::SealChunk>,
		),
	>;

	/// The awards of each clearing step, in the clearing's order.
	#[pallet::storage]
	pub type StepAwards<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, StepIndex, StepAwardsOf<T>>;

	/// Per closed step, per award (the `StepAwards` index): its PoD and the validated power of
	/// the step's earlier awards for that PoD, written when the step's validation closes, so
	/// that settlement reads one value per award instead of every earlier award.
	#[pallet::storage]
	pub type StepPods<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		StepIndex,
		BoundedVec<PodShare, StepAwardBound<T>>,
	>;

	/// A session's step whose validation is closing over several blocks: how far it got.
	/// Exists only between the blocks of one such step.
	#[pallet::storage]
	pub type CloseProgress<T: Config> =
		StorageMap<_, Twox64Concat, SessionId, CloseState<StepAwardBound<T>>>;

	/// Each cleared step's digests.
	#[pallet::storage]
	pub type Steps<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, StepIndex, StepDigest>;

	/// Validators' answers.
	#[pallet::storage]
	pub type Answers<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, AwardRef, Light>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A session opened for requests and offers.
		SessionOpened {
			session: SessionId,
			kind: SessionKind,
			delivery_start_ms: u64,
			gate_closure_ms: u64,
			slots: u16,
		},
		/// The chain was not running while these periods' gates were open: they get no session.
		PeriodsMissed {
			kind: SessionKind,
			from_ms: u64,
			until_ms: u64,
		},
		/// `MaxLive` sessions are not yet final: this period gets no session.
		SessionNotOpened {
			kind: SessionKind,
			delivery_start_ms: u64,
		},
		RequestSubmitted {
			session: SessionId,
			id: ItemId,
			owner: T::AccountId,
			requester: Requester,
		},
		RequestAmended {
			session: SessionId,
			id: ItemId,
		},
		RequestWithdrawn {
			session: SessionId,
			id: ItemId,
		},
		OfferSubmitted {
			session: SessionId,
			id: ItemId,
			owner: T::AccountId,
			pod: PodId,
		},
		OfferAmended {
			session: SessionId,
			id: ItemId,
		},
		OfferWithdrawn {
			session: SessionId,
			id: ItemId,
		},
		/// At gate closure the registry no longer supports this request or offer.
		ItemDropped {
			session: SessionId,
			id: ItemId,
			reason: DropReason,
		},
		/// Inputs sealed and anchored (`ClearingInputs`); clearing starts.
		GateClosed {
			session: SessionId,
			requests: u32,
			offers: u32,
			input_root: Hash,
		},
		/// One slot and direction cleared. `method` is `None` when it had no request or offer.
		StepCleared {
			session: SessionId,
			step: StepIndex,
			awards: u32,
			dso_volume: u64,
			tso_volume: u64,
			cost: u128,
			method: Option<Method>,
		},
		/// An offer serves a request.
		Awarded {
			session: SessionId,
			award: AwardRef,
			request: ItemId,
			offer: ItemId,
			quantity: Power,
			price: Price,
			validator: T::AccountId,
		},
		/// The clearing crate refused a step's input (never expected: the pallet checks every
		/// item as the crate does); the step awards nothing.
		StepFailed {
			session: SessionId,
			step: StepIndex,
		},
		/// Every step cleared; outcome anchored (`MarketOutcome`); validation is open.
		Cleared {
			session: SessionId,
			awards: u32,
			outcome_root: Hash,
			deadline_ms: u64,
		},
		/// A validator answered for an award.
		Answered {
			session: SessionId,
			award: AwardRef,
			light: Light,
		},
		/// Validation closed; unanswered awards took the default; anchored
		/// (`TechnicalValidation`).
		Validated {
			session: SessionId,
			defaulted: u32,
			validation_root: Hash,
		},
		/// Market and technical results are final.
		SessionFinal {
			session: SessionId,
		},
		/// The certification pallet refused one of the session's anchors.
		AnchorRefused {
			session: SessionId,
			kind: platone_primitives::AnchorKind,
			error: DispatchError,
		},
		ScheduleSet {
			kind: SessionKind,
			schedule: Option<Schedule>,
		},
		PricingSet {
			pricing: Pricing,
		},
		/// Entries of a final session were removed; `complete` once nothing is left.
		SessionPruned {
			session: SessionId,
			complete: bool,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		UnknownSession,
		/// The session's gate has closed.
		GateClosed,
		/// No quantity, or slots not strictly increasing.
		BadQuantities,
		/// A slot at or past the session's slot count.
		SlotOutOfRange,
		/// A quantity of 0 W.
		ZeroQuantity,
		/// The minimum quantity exceeds a slot's quantity.
		MinAboveQuantity,
		UnknownArea,
		/// A DSO may only ask for flexibility in areas it operates.
		NotAreaOperator,
		/// The caller holds neither the DSO nor the TSO role.
		NotRequester,
		UnknownPod,
		/// The caller does not represent the PoD.
		NotPodAggregator,
		/// The PoD's area has no operator to validate its awards.
		NoValidator,
		/// The session has `MaxRequests` requests.
		TooManyRequests,
		/// The session has `MaxOffers` offers.
		TooManyOffers,
		/// All item ids of the session are used.
		ItemIdsExhausted,
		/// All session ids are used.
		SessionIdsExhausted,
		UnknownRequest,
		UnknownOffer,
		/// Only the item's owner may change it.
		NotOwner,
		/// An amendment may not change the request's area, or the offer's PoD.
		ChangedSubject,
		/// The session is not waiting for validation answers.
		NotValidating,
		/// The validation deadline has passed.
		ValidationClosed,
		UnknownAward,
		/// The caller does not validate this award.
		NotValidator,
		/// The award already has an answer.
		AlreadyAnswered,
		/// Answers must be sorted by award, each award once.
		UnsortedAnswers,
		/// A yellow light must leave more than 0 and less than the awarded power.
		BadCut,
		/// Inconsistent schedule: see [`Schedule`].
		BadSchedule,
		/// The session is not final, or its retention has not passed.
		NotPrunable,
		/// The session's settlement is not done: it may not be pruned yet.
		NotSettled,
		/// The caller was handed `MaxItemsPerAccount` item ids in this session, withdrawn
		/// items included: amend an item rather than withdraw and submit it again.
		AccountItemsExhausted,
	}

	/// Schedules and pricing from genesis, so that a new chain's market runs from its first
	/// block; governance changes them later with `set_schedule` and `set_pricing`.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		pub schedules: alloc::vec::Vec<(SessionKind, Schedule)>,
		pub pricing: Option<Pricing>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (kind, schedule) in &self.schedules {
				assert!(
					schedule.slots(T::MaxSlots::get()).is_some(),
					"genesis market schedule for {kind:?} is inconsistent"
				);
				Schedules::<T>::insert(kind, schedule);
			}
			if let Some(pricing) = self.pricing {
				SessionPricing::<T>::put(pricing);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
			Self::progress(T::HookWeight::get())
		}

		fn integrity_test() {
			assert!(T::MaxSlots::get() >= 1, "MaxSlots must be positive");
			assert!(
				T::MaxSlots::get() <= u32::from(u16::MAX / 2),
				"two steps per slot must fit a StepIndex"
			);
			assert!(
				T::ExactLimit::get() <= 16,
				"ExactLimit: 2^limit solves per step"
			);
			assert!(T::MaxLive::get() >= 1, "MaxLive must be positive");
			assert!(T::SealChunk::get() >= 1, "SealChunk must be positive");
			assert!(T::CloseChunk::get() >= 1, "CloseChunk must be positive");
			// What the hook has left for the last live session's step.
			let room = Self::step_room();
			for (what, w) in Self::worst_steps() {
				assert!(
					w.all_lte(room),
					"the hook budget must hold the worst-case {what} step, or it never runs"
				);
			}
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Ask for flexibility in an area (FR-MP-FSM-01).
		///
		/// - Origin: `RequestOrigin` (DSOs and TSOs). A request in an area the caller operates
		///   is a DSO request if the caller is a DSO; any other is a TSO request and needs the
		///   TSO role.
		/// - Errors: `UnknownSession`, `GateClosed`, `BadQuantities`, `SlotOutOfRange`,
		///   `ZeroQuantity`, `MinAboveQuantity`, `UnknownArea`, `NotAreaOperator`,
		///   `NotRequester`, `TooManyRequests`, `ItemIdsExhausted`, `AccountItemsExhausted`.
		/// - Events: `RequestSubmitted`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::submit_request())]
		pub fn submit_request(
			origin: OriginFor<T>,
			session: SessionId,
			request: RequestInputOf<T>,
		) -> DispatchResult {
			let who = T::RequestOrigin::ensure_origin(origin)?;
			Self::do_submit_request(who, session, request)
		}

		/// Replace a request's price and quantities before gate closure; its area stays.
		///
		/// - Origin: `RequestOrigin`, the request's owner.
		/// - Errors: `UnknownSession`, `GateClosed`, `UnknownRequest`, `NotOwner`,
		///   `ChangedSubject`, and those of `submit_request` on the new terms.
		/// - Events: `RequestAmended`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::amend_request())]
		pub fn amend_request(
			origin: OriginFor<T>,
			session: SessionId,
			id: ItemId,
			request: RequestInputOf<T>,
		) -> DispatchResult {
			let who = T::RequestOrigin::ensure_origin(origin)?;
			Self::do_amend_request(who, session, id, request)
		}

		/// Withdraw a request before gate closure.
		///
		/// - Origin: `RequestOrigin`, the request's owner.
		/// - Errors: `UnknownSession`, `GateClosed`, `UnknownRequest`, `NotOwner`.
		/// - Events: `RequestWithdrawn`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::withdraw_request())]
		pub fn withdraw_request(
			origin: OriginFor<T>,
			session: SessionId,
			id: ItemId,
		) -> DispatchResult {
			let who = T::RequestOrigin::ensure_origin(origin)?;
			Self::do_withdraw_request(who, session, id)
		}

		/// Offer flexibility from a PoD the caller represents (FR-MP-FSM-03).
		///
		/// - Origin: `OfferOrigin` (aggregators).
		/// - Errors: `UnknownSession`, `GateClosed`, `BadQuantities`, `SlotOutOfRange`,
		///   `ZeroQuantity`, `MinAboveQuantity`, `UnknownPod`, `NotPodAggregator`,
		///   `NoValidator`, `TooManyOffers`, `ItemIdsExhausted`, `AccountItemsExhausted`.
		/// - Events: `OfferSubmitted`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::submit_offer())]
		pub fn submit_offer(
			origin: OriginFor<T>,
			session: SessionId,
			offer: OfferInputOf<T>,
		) -> DispatchResult {
			let who = T::OfferOrigin::ensure_origin(origin)?;
			Self::do_submit_offer(who, session, offer)
		}

		/// Replace an offer's price and quantities before gate closure; its PoD stays.
		///
		/// - Origin: `OfferOrigin`, the offer's owner.
		/// - Errors: `UnknownSession`, `GateClosed`, `UnknownOffer`, `NotOwner`,
		///   `ChangedSubject`, and those of `submit_offer` on the new terms.
		/// - Events: `OfferAmended`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::amend_offer())]
		pub fn amend_offer(
			origin: OriginFor<T>,
			session: SessionId,
			id: ItemId,
			offer: OfferInputOf<T>,
		) -> DispatchResult {
			let who = T::OfferOrigin::ensure_origin(origin)?;
			Self::do_amend_offer(who, session, id, offer)
		}

		/// Withdraw an offer before gate closure.
		///
		/// - Origin: `OfferOrigin`, the offer's owner.
		/// - Errors: `UnknownSession`, `GateClosed`, `UnknownOffer`, `NotOwner`.
		/// - Events: `OfferWithdrawn`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::withdraw_offer())]
		pub fn withdraw_offer(
			origin: OriginFor<T>,
			session: SessionId,
			id: ItemId,
		) -> DispatchResult {
			let who = T::OfferOrigin::ensure_origin(origin)?;
			Self::do_withdraw_offer(who, session, id)
		}

		/// Answer for awards the caller validates (FR-MP-MOMV-03), before the deadline. All
		/// answers of a call apply, or none.
		///
		/// - Origin: `ValidateOrigin` (grid operators).
		/// - Errors: `UnknownSession`, `NotValidating`, `ValidationClosed`, `UnsortedAnswers`,
		///   `UnknownAward`, `NotValidator`, `AlreadyAnswered`, `BadCut`.
		/// - Events: `Answered` per award.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::validate(
			answers.len() as u32,
			Pallet::<T>::step_loads(answers).saturating_mul(StepAwardBound::<T>::get()),
		))]
		pub fn validate(
			origin: OriginFor<T>,
			session: SessionId,
			answers: AnswersOf<T>,
		) -> DispatchResult {
			let who = T::ValidateOrigin::ensure_origin(origin)?;
			Self::do_validate(who, session, answers)
		}

		/// Set or clear the schedule of a kind of session. Sessions already open keep theirs.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `BadSchedule`.
		/// - Events: `ScheduleSet`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::set_schedule())]
		pub fn set_schedule(
			origin: OriginFor<T>,
			kind: SessionKind,
			schedule: Option<Schedule>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_schedule(kind, schedule)
		}

		/// Set the pricing of sessions created from now on.
		///
		/// - Origin: `AdminOrigin`.
		/// - Events: `PricingSet`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_pricing())]
		pub fn set_pricing(origin: OriginFor<T>, pricing: Pricing) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			SessionPricing::<T>::put(pricing);
			Self::deposit_event(Event::PricingSet { pricing });
			Ok(())
		}

		/// Remove up to `MaxPrunePerCall` entries of a final, settled session whose delivery
		/// ended more than `RetentionMs` ago, the settlement's records of it first; call again
		/// until `SessionPruned { complete: true }`. The anchors stay with the certification
		/// pallet.
		///
		/// - Origin: any signed account.
		/// - Errors: `UnknownSession`, `NotPrunable`, `NotSettled`.
		/// - Events: `SessionPruned`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::prune_session(T::MaxPrunePerCall::get()))]
		pub fn prune_session(origin: OriginFor<T>, session: SessionId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_prune_session(session)
		}
	}
}
