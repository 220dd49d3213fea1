//! # Settlement pallet
//!
//! Settles the flexibility market's final awards against certified metering, in settlement
//! tokens (D2.2 §4.3.1, FR-MP-SET-01..06; issue #14; docs/settlement.md).
//!
//! - **Baselines (FR-MP-SET-04).** Before gate closure the PoD's aggregator (its balance
//!   service provider) declares the PoD's baseline per slot, in W of net import. An award
//!   whose PoD has no baseline for its slot settles as `NoBaseline`: nothing delivered can be
//!   shown, so nothing is paid and the mechanism's penalty applies to the whole award.
//! - **Metering (FR-MP-SET-03).** Anyone (the `platone settle` worker) submits a PoD's
//!   certified meter readings for a slot, each with its two-level Merkle proof. The pallet
//!   checks each proof against the certificate on chain, the reading's dataset against the
//!   PoD's meters in the registry, and derives the slot's energy exactly ([`metering`]).
//! - **Settlement (FR-MP-SET-04/06).** After the slot's metering delay, anyone settles an
//!   award: delivered energy is the baseline minus the metered net import (up) or the reverse
//!   (down), less what earlier awards of the same PoD in the same step took; the award's
//!   mechanism turns it into a payment, a penalty and the customers' share. The outcome is
//!   stored with all its inputs and can be disputed by the requester, the aggregator and the
//!   validating DSO until `DisputeMs` later; governance resolves a dispute.
//! - **Tokens (FR-MP-SET-05).** Final outcomes move settlement tokens: the net of payment and
//!   penalty between requester and aggregator, then the customer share from the aggregator to
//!   the PoD's owner. A party short of tokens leaves the outcome `Unpaid` (all of its
//!   transfers undone) until `finalize` succeeds. Governance mints against off-chain funding
//!   and burns what holders hand in for redemption; nothing else creates or destroys tokens.
//! - **Mechanisms (FR-MP-SET-01/02).** Aggregators list mechanisms on chain: standard
//!   [`Terms`] (tolerance, penalty, customer share) or a contract ([`ContractMechanism`]),
//!   whose answer the pallet checks against the award before it moves tokens.
//! - **Anchors (FR-MP-BC-01).** The pallet anchors the Merkle root over a session's final
//!   outcomes itself (`AnchorKind::Settlement`) once every award is final.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

pub mod audit;
pub mod baseline;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod derive;
mod functions;
pub mod metering;
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
		traits::{fungible, UnixTime},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use pallet_market::MarketView;
	use pallet_registry::ParticipantRegistry;
	use platone_primitives::{MeasurementProof, Window};

	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Final awards and the sessions' times.
		type Market: MarketView<Self::AccountId>;
		/// PoDs, their meters and areas.
		type Registry: ParticipantRegistry<Self::AccountId>;
		/// The chain's certificates, against which readings are proven.
		type Certificates: MeasurementVerifier<Self::AccountId>;
		/// Where the pallet anchors its outcomes.
		type Anchoring: pallet_certification::Anchoring<Self::AccountId>;
		/// The settlement token.
		type Token: fungible::Mutate<Self::AccountId>
			+ fungible::Inspect<Self::AccountId, Balance = Amount>;
		/// Contract mechanisms.
		type Contracts: ContractMechanism<Self::AccountId>;
		/// Who may list mechanisms and declare baselines (aggregators); yields the caller.
		type AggregatorOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who may name a PoD's owner (grid operators, for PoDs in their areas).
		type OperatorOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who submits metering, settles and finalizes (any participant); yields the caller.
		type ParticipantOrigin: EnsureOrigin<Self::RuntimeOrigin, Success = Self::AccountId>;
		/// Who mints, burns redeemed tokens and resolves disputes (the consortium).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		type UnixTime: UnixTime;
		/// The pallet's own account: it anchors, and holds tokens handed in for redemption.
		#[pallet::constant]
		type PalletId: Get<PalletId>;
		/// The terms of an offer without a mechanism, and of a contract that failed.
		#[pallet::constant]
		type DefaultTerms: Get<Terms>;
		/// The most tolerance a mechanism may grant: no mechanism pays for energy beyond what
		/// was delivered within it (`MechanismInput::max_payment`).
		#[pallet::constant]
		type MaxTolerance: Get<sp_runtime::Permill>;
		/// Most meters of one PoD (the registry's PoMs per PoD).
		#[pallet::constant]
		type MaxMeters: Get<u32>;
		/// Most slots of a session (the market's `MaxSlots`).
		#[pallet::constant]
		type MaxSlots: Get<u32>;
		/// Most readings in one metering submission.
		#[pallet::constant]
		type MaxReadings: Get<u32>;
		/// Most awards in one `settle` or `finalize` call.
		#[pallet::constant]
		type MaxAwardsPerCall: Get<u32>;
		/// Most ref time a contract mechanism may take per award.
		#[pallet::constant]
		type MaxContractGas: Get<u64>;
		/// How long after a slot ends its awards wait for metering before they settle, ms,
		/// until governance sets [`Params`].
		#[pallet::constant]
		type MeteringDelayMs: Get<u64>;
		/// How long a settled outcome may be disputed, ms, until governance sets [`Params`].
		#[pallet::constant]
		type DisputeMs: Get<u64>;
		/// Tokens a party puts down to dispute an outcome, until governance sets another
		/// amount (`set_dispute_deposit`): returned if the resolution changes the outcome,
		/// otherwise paid to the other party, whose payment the dispute held up.
		#[pallet::constant]
		type DisputeDeposit: Get<Amount>;
		type WeightInfo: WeightInfo;
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId>;
	}

	pub type BaselineOf<T> = BoundedVec<(Slot, i64), <T as Config>::MaxSlots>;
	pub type MetersOf<T> = BoundedVec<DatasetId, <T as Config>::MaxMeters>;
	pub type DeclaredOf<T> = Declared<BaselineOf<T>, MetersOf<T>>;
	pub type ReadingsOf<T> = BoundedVec<
		(
			<T as frame_system::Config>::AccountId,
			Window,
			MeasurementProof,
		),
		<T as Config>::MaxReadings,
	>;
	pub type AwardsOf<T> = BoundedVec<AwardRef, <T as Config>::MaxAwardsPerCall>;
	pub type MechanismOf<T> = Mechanism<<T as frame_system::Config>::AccountId>;
	pub type RuleOf<T> = Rule<<T as frame_system::Config>::AccountId>;
	pub type OutcomeOf<T> = Outcome<<T as frame_system::Config>::AccountId>;
	pub type RecordOf<T> = Record<<T as frame_system::Config>::AccountId>;

	#[pallet::type_value]
	pub fn DefaultParams<T: Config>() -> Params {
		Params {
			metering_delay_ms: T::MeteringDelayMs::get(),
			dispute_ms: T::DisputeMs::get(),
		}
	}

	/// The settlement's timing, set by governance (and at genesis).
	#[pallet::storage]
	pub type SettlementParams<T: Config> = StorageValue<_, Params, ValueQuery, DefaultParams<T>>;

	#[pallet::type_value]
	pub fn DefaultDisputeDeposit<T: Config>() -> Amount {
		T::DisputeDeposit::get()
	}

	/// The deposit a dispute puts down from now on, set by governance; `DisputeDeposit` until
	/// then. A dispute keeps what it put down (`DisputeDeposits`).
	#[pallet::storage]
	pub type DisputeDepositAmount<T: Config> =
		StorageValue<_, Amount, ValueQuery, DefaultDisputeDeposit<T>>;

	/// Listed mechanisms (FR-MP-SET-02).
	#[pallet::storage]
	pub type Mechanisms<T: Config> = StorageMap<_, Twox64Concat, MechanismId, MechanismOf<T>>;

	#[pallet::storage]
	pub type LastMechanism<T: Config> = StorageValue<_, MechanismId, ValueQuery>;

	/// The mechanism each offer uses, chosen before gate closure.
	#[pallet::storage]
	pub type OfferMechanisms<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, ItemId, MechanismId>;

	/// Each PoD's baseline for a session, declared before gate closure, with its meters then.
	#[pallet::storage]
	pub type Baselines<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, PodId, DeclaredOf<T>>;

	/// Certified metering of a PoD's slot on an earlier working day, for its standard baseline:
	/// `(pod, slot, day)`.
	#[pallet::storage]
	pub type History<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		(PodId, Slot, baseline::Day),
		Metering,
	>;

	/// Slots with a settled award: their history is closed.
	#[pallet::storage]
	pub type HistoryClosed<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, (PodId, Slot), ()>;

	/// Certified metering of a PoD's slot.
	#[pallet::storage]
	pub type Meterings<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, (PodId, Slot), Metering>;

	/// Settled awards, with their inputs.
	#[pallet::storage]
	pub type Outcomes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, SessionId, Twox64Concat, AwardRef, OutcomeOf<T>>;

	/// Each session's settlement so far.
	#[pallet::storage]
	pub type Tallies<T: Config> = StorageMap<_, Twox64Concat, SessionId, Tally>;

	/// Who disputed an outcome and the deposit the pallet holds for it, until resolution.
	#[pallet::storage]
	pub type DisputeDeposits<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		SessionId,
		Twox64Concat,
		AwardRef,
		(T::AccountId, Amount),
	>;

	/// Who receives the customers' share of a PoD's revenue; none, and it stays with the
	/// aggregator.
	#[pallet::storage]
	pub type PodOwners<T: Config> = StorageMap<_, Twox64Concat, PodId, T::AccountId>;

	/// Tokens handed in for redemption, held by the pallet until governance burns them.
	#[pallet::storage]
	pub type Redemptions<T: Config> =
		StorageMap<_, Twox64Concat, RedemptionId, Redemption<T::AccountId>>;

	#[pallet::storage]
	pub type LastRedemption<T: Config> = StorageValue<_, RedemptionId, ValueQuery>;

	/// Tokens minted and burned over the chain's life: the token's issuance is their
	/// difference (`try_state`).
	#[pallet::storage]
	pub type Minted<T: Config> = StorageValue<_, Amount, ValueQuery>;

	#[pallet::storage]
	pub type Burned<T: Config> = StorageValue<_, Amount, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		MechanismCreated {
			id: MechanismId,
			owner: T::AccountId,
			rule: RuleOf<T>,
		},
		MechanismRetired {
			id: MechanismId,
		},
		/// An offer will settle with this mechanism.
		MechanismChosen {
			session: SessionId,
			offer: ItemId,
			mechanism: MechanismId,
		},
		BaselineDeclared {
			session: SessionId,
			pod: PodId,
			slots: u32,
		},
		/// The PoD's baseline for the session comes from this method.
		BaselineMethodSet {
			session: SessionId,
			pod: PodId,
			method: BaselineMethod,
		},
		/// A PoD's certified energy over a slot on an earlier day, for its standard baseline.
		HistoryMetered {
			session: SessionId,
			pod: PodId,
			slot: Slot,
			day: baseline::Day,
			import_wh: u64,
			export_wh: u64,
			quality: ReadingQuality,
		},
		PodOwnerSet {
			pod: PodId,
			owner: Option<T::AccountId>,
		},
		/// A PoD's certified energy over a slot.
		Metered {
			session: SessionId,
			pod: PodId,
			slot: Slot,
			import_wh: u64,
			export_wh: u64,
			quality: ReadingQuality,
		},
		/// An award's outcome, disputable until `until_ms`.
		Settled {
			session: SessionId,
			award: AwardRef,
			basis: Basis,
			split: Split,
			until_ms: u64,
		},
		Disputed {
			session: SessionId,
			award: AwardRef,
			by: T::AccountId,
			deposit: Amount,
		},
		/// A dispute's deposit went back to the disputer (`upheld`: the resolution changed the
		/// outcome's basis or split) or to the other party.
		DepositSettled {
			session: SessionId,
			award: AwardRef,
			to: T::AccountId,
			amount: Amount,
			upheld: bool,
		},
		/// Governance resolved a dispute; the outcome is final.
		Resolved {
			session: SessionId,
			award: AwardRef,
			basis: Basis,
			split: Split,
		},
		/// A final outcome's tokens moved. `customer` is `None` when the PoD has no owner on
		/// record (the share stays with the aggregator).
		Paid {
			session: SessionId,
			award: AwardRef,
			split: Split,
			customer: Option<T::AccountId>,
		},
		/// A final outcome could not be paid: `short` lacked the tokens. Nothing moved.
		PaymentFailed {
			session: SessionId,
			award: AwardRef,
			short: T::AccountId,
		},
		/// Every award of the session is final; the root over the outcomes is anchored.
		SessionSettled {
			session: SessionId,
			outcomes: u32,
			root: platone_primitives::Hash,
		},
		/// The certification pallet refused the session's anchor.
		AnchorRefused {
			session: SessionId,
			error: DispatchError,
		},
		Minted {
			to: T::AccountId,
			amount: Amount,
		},
		RedemptionRequested {
			id: RedemptionId,
			who: T::AccountId,
			amount: Amount,
		},
		/// Governance paid out a redemption off chain and burned its tokens.
		Redeemed {
			id: RedemptionId,
			who: T::AccountId,
			amount: Amount,
		},
		/// A redemption was refused; its tokens went back to the holder.
		RedemptionCancelled {
			id: RedemptionId,
			who: T::AccountId,
			amount: Amount,
		},
		ParamsSet {
			params: Params,
		},
		/// Disputes from now on put down `amount`.
		DisputeDepositSet {
			amount: Amount,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		UnknownSession,
		/// The session's gate has closed: baselines and mechanisms are fixed.
		GateClosed,
		/// A baseline needs slots, strictly increasing.
		BadBaseline,
		/// A slot at or past the session's slot count.
		SlotOutOfRange,
		UnknownPod,
		/// The caller does not represent the PoD.
		NotPodAggregator,
		UnknownOffer,
		/// Only the offer's owner may choose its mechanism.
		NotOfferOwner,
		UnknownMechanism,
		/// A retired mechanism may not be chosen.
		MechanismRetired,
		/// Standard terms with a tolerance above `MaxTolerance`.
		ToleranceTooHigh,
		/// Only the mechanism's owner may retire it.
		NotMechanismOwner,
		/// A contract mechanism's gas exceeds `MaxContractGas`, or is zero.
		BadGas,
		/// No contract at that address.
		UnknownContract,
		/// All mechanism ids are used.
		MechanismIdsExhausted,
		/// The caller does not operate the PoD's area.
		NotPodOperator,
		/// The slot has not ended.
		SlotNotOver,
		/// The slot's metering is already on chain with valid readings.
		AlreadyMetered,
		/// The PoD has no meter in the registry.
		NoMeters,
		/// The PoD has more than `MaxMeters` meters.
		TooManyMeters,
		/// No baseline was declared for the PoD in this session: its metering would settle
		/// nothing.
		NotDeclared,
		/// No certificate for a reading's gateway and window.
		NotCertified,
		/// A reading's proof does not lead to its certificate (altered, or of another
		/// window).
		BadProof,
		/// A reading that is not active energy.
		NotActiveEnergy,
		/// A reading of a device that is not a meter of the PoD.
		NotPodMeter,
		/// A reading outside the slot.
		OutsideSlot,
		DuplicateReading,
		/// Deltas and register reads mixed for one meter and quantity.
		MixedForms,
		/// Readings that leave a gap or overlap in the slot.
		NotCovering,
		/// A register read lower at the slot's end than at its start.
		RegisterWentBack,
		/// A meter or flow without readings for the slot.
		IncompleteMetering,
		/// Arithmetic overflowed.
		Overflow,
		UnknownAward,
		/// The award's session is not final.
		SessionNotFinal,
		/// The award's slot has not passed its metering delay.
		TooEarly,
		/// The award is settled already.
		AlreadySettled,
		NotSettled,
		/// Only the requester, the aggregator and the validating operator may dispute.
		NotParty,
		/// The outcome is no longer disputable.
		DisputeClosed,
		NotDisputed,
		/// A split that breaks `Split::check` against the award.
		BadSplit,
		/// The outcome is disputed, or still disputable, or paid.
		NotFinalizable,
		/// A party still lacks the tokens.
		InsufficientTokens,
		ZeroAmount,
		/// The pallet's own account may not receive tokens this way.
		PalletAccount,
		UnknownRedemption,
		RedemptionIdsExhausted,
		/// A standard baseline averaging no day, or more than `MAX_HISTORY_DAYS`.
		BadHistoryDays,
		/// The PoD's baseline for the session is not a standard one: history settles nothing.
		NotStandardBaseline,
		/// Not a day the slot's standard baseline draws on.
		NotCandidateDay,
		/// An award of the slot is settled: its history is fixed.
		HistoryClosed,
		/// The disputer cannot put down the dispute deposit.
		CannotPayDeposit,
	}

	/// The token's issuance at genesis counts as minted: from then on only `mint` and burned
	/// redemptions change it (`try_state`).
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The timing from genesis; `None`: the runtime's defaults.
		pub params: Option<Params>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			use frame_support::traits::fungible::Inspect;
			Minted::<T>::put(T::Token::total_issuance());
			if let Some(params) = self.params {
				SettlementParams::<T>::put(params);
			}
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// A chain that gains this pallet by upgrade counts its issuance so far as minted.
		fn on_runtime_upgrade() -> Weight {
			if !Minted::<T>::exists() {
				use frame_support::traits::fungible::Inspect;
				Minted::<T>::put(T::Token::total_issuance());
			}
			T::DbWeight::get().reads_writes(2, 1)
		}

		fn integrity_test() {
			assert!(
				T::MaxAwardsPerCall::get() >= 1,
				"MaxAwardsPerCall must be positive"
			);
			assert!(
				T::MaxReadings::get() >= 2,
				"a slot needs at least two readings"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// List a settlement mechanism (FR-MP-SET-01/02).
		///
		/// - Origin: `AggregatorOrigin`; the caller owns the mechanism.
		/// - Errors: `ToleranceTooHigh`, `BadGas`, `UnknownContract`, `MechanismIdsExhausted`.
		/// - Events: `MechanismCreated`.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_mechanism())]
		pub fn create_mechanism(origin: OriginFor<T>, rule: RuleOf<T>) -> DispatchResult {
			let who = T::AggregatorOrigin::ensure_origin(origin)?;
			Self::do_create_mechanism(who, rule)
		}

		/// Retire a mechanism: offers that chose it still settle with it.
		///
		/// - Origin: `AggregatorOrigin`, the mechanism's owner.
		/// - Errors: `UnknownMechanism`, `NotMechanismOwner`.
		/// - Events: `MechanismRetired`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::retire_mechanism())]
		pub fn retire_mechanism(origin: OriginFor<T>, id: MechanismId) -> DispatchResult {
			let who = T::AggregatorOrigin::ensure_origin(origin)?;
			Self::do_retire_mechanism(who, id)
		}

		/// Choose the mechanism an offer settles with, before gate closure (FR-MP-SET-02).
		///
		/// - Origin: `AggregatorOrigin`, the offer's owner.
		/// - Errors: `UnknownSession`, `GateClosed`, `UnknownOffer`, `NotOfferOwner`,
		///   `UnknownMechanism`, `MechanismRetired`.
		/// - Events: `MechanismChosen`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::choose_mechanism())]
		pub fn choose_mechanism(
			origin: OriginFor<T>,
			session: SessionId,
			offer: ItemId,
			mechanism: MechanismId,
		) -> DispatchResult {
			let who = T::AggregatorOrigin::ensure_origin(origin)?;
			Self::do_choose_mechanism(who, session, offer, mechanism)
		}

		/// Declare a PoD's baseline for a session, before gate closure (FR-MP-SET-04):
		/// `(slot, W of net import)`, slots strictly increasing. Replaces an earlier one. The
		/// PoD's meters are taken from the registry now: its metering must cover them.
		///
		/// - Origin: `AggregatorOrigin`, the PoD's aggregator.
		/// - Errors: `UnknownSession`, `GateClosed`, `BadBaseline`, `SlotOutOfRange`,
		///   `UnknownPod`, `NotPodAggregator`, `TooManyMeters`.
		/// - Events: `BaselineDeclared`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::declare_baseline())]
		pub fn declare_baseline(
			origin: OriginFor<T>,
			session: SessionId,
			pod: PodId,
			baseline: BaselineOf<T>,
		) -> DispatchResult {
			let who = T::AggregatorOrigin::ensure_origin(origin)?;
			Self::do_declare_baseline(who, session, pod, baseline)
		}

		/// Name the account that receives a PoD's customer share, or none.
		///
		/// - Origin: `OperatorOrigin`, the operator of the PoD's area.
		/// - Errors: `UnknownPod`, `NotPodOperator`, `PalletAccount`.
		/// - Events: `PodOwnerSet`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::set_pod_owner())]
		pub fn set_pod_owner(
			origin: OriginFor<T>,
			pod: PodId,
			owner: Option<T::AccountId>,
		) -> DispatchResult {
			let who = T::OperatorOrigin::ensure_origin(origin)?;
			Self::do_set_pod_owner(who, pod, owner)
		}

		/// Submit a PoD's certified meter readings for one slot of a session, each with the
		/// gateway and window that certified it and its proof (FR-MP-SET-03), covering the
		/// meters listed with the PoD's baseline. A slot whose stored metering holds a flagged
		/// reading may be metered again.
		///
		/// - Origin: `ParticipantOrigin`.
		/// - Errors: `UnknownSession`, `SlotOutOfRange`, `SlotNotOver`, `AlreadyMetered`,
		///   `NotDeclared`, `NoMeters`, `NotCertified`, `BadProof`, `NotActiveEnergy`, `NotPodMeter`,
		///   `OutsideSlot`, `DuplicateReading`, `MixedForms`, `NotCovering`,
		///   `RegisterWentBack`, `IncompleteMetering`, `Overflow`.
		/// - Events: `Metered`.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::submit_metering(readings.len() as u32))]
		pub fn submit_metering(
			origin: OriginFor<T>,
			session: SessionId,
			pod: PodId,
			slot: Slot,
			readings: ReadingsOf<T>,
		) -> DispatchResult {
			T::ParticipantOrigin::ensure_origin(origin)?;
			Self::do_submit_metering(session, pod, slot, readings)
		}

		/// Settle awards of a final session whose slots passed the metering delay: each gets
		/// its outcome, disputable for the dispute window. An open outcome settled unmetered or
		/// flagged is settled again once valid metering is on chain. All apply, or none. Each
		/// contract call is charged what it used; the rest of its gas limit is refunded.
		///
		/// - Origin: `ParticipantOrigin`.
		/// - Errors: `UnknownSession`, `SessionNotFinal`, `UnknownAward`, `AlreadySettled`,
		///   `TooEarly`, `Overflow`.
		/// - Events: `Settled` per award.
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::settle_weight(
			awards.len() as u32,
			pallet_market::step_runs(awards.iter().map(|a| a.step)),
		))]
		pub fn settle(
			origin: OriginFor<T>,
			session: SessionId,
			awards: AwardsOf<T>,
		) -> DispatchResultWithPostInfo {
			T::ParticipantOrigin::ensure_origin(origin)?;
			let used = Self::do_settle(session, &awards)?;
			let runs = pallet_market::step_runs(awards.iter().map(|a| a.step));
			Ok(Some(Self::settle_actual(awards.len() as u32, runs, used)).into())
		}

		/// Dispute an outcome while it is open: it is frozen until governance resolves it. The
		/// disputer puts down `DisputeDeposit`, held by the pallet until the resolution.
		///
		/// - Origin: `ParticipantOrigin`: the award's requester, aggregator or validator.
		/// - Errors: `NotSettled`, `NotParty`, `DisputeClosed`, `CannotPayDeposit`.
		/// - Events: `Disputed`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::dispute())]
		pub fn dispute(
			origin: OriginFor<T>,
			session: SessionId,
			award: AwardRef,
		) -> DispatchResult {
			let who = T::ParticipantOrigin::ensure_origin(origin)?;
			Self::do_dispute(who, session, award)
		}

		/// Resolve a dispute: settle the award again from what is on chain now (`None`: say,
		/// metering that arrived late), or impose a split. The outcome becomes final and is
		/// paid. The deposit goes back to the disputer if the outcome's basis or split changed,
		/// otherwise to the other party (the aggregator, or the requester if the aggregator
		/// disputed).
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `NotSettled`, `NotDisputed`, `BadSplit`, `Overflow`.
		/// - Events: `Resolved`, `DepositSettled`, then `Paid` or `PaymentFailed`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::resolve()
			.saturating_add(Pallet::<T>::contract_weight(1))
			.saturating_add(T::Market::final_award_weight()))]
		pub fn resolve(
			origin: OriginFor<T>,
			session: SessionId,
			award: AwardRef,
			split: Option<Split>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_resolve(session, award, split)
		}

		/// Make outcomes final once their dispute window passed, and pay them; pay outcomes
		/// left unpaid. All apply, or none.
		///
		/// - Origin: `ParticipantOrigin`.
		/// - Errors: `NotSettled`, `NotFinalizable`, `InsufficientTokens` (an unpaid outcome
		///   still cannot be paid).
		/// - Events: per award `Paid` or `PaymentFailed`; `SessionSettled` with the last.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::finalize(awards.len() as u32))]
		pub fn finalize(
			origin: OriginFor<T>,
			session: SessionId,
			awards: AwardsOf<T>,
		) -> DispatchResult {
			T::ParticipantOrigin::ensure_origin(origin)?;
			Self::do_finalize(session, &awards)
		}

		/// Mint settlement tokens against off-chain funding (FR-MP-SET-05).
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `ZeroAmount`, `PalletAccount`, `Overflow`, and the token's own.
		/// - Events: `Minted`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::mint())]
		pub fn mint(origin: OriginFor<T>, to: T::AccountId, amount: Amount) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_mint(to, amount)
		}

		/// Hand tokens in for redemption: the pallet holds them until governance pays out off
		/// chain and burns them, or refuses and returns them.
		///
		/// - Origin: `ParticipantOrigin`.
		/// - Errors: `ZeroAmount`, `InsufficientTokens`, `RedemptionIdsExhausted`.
		/// - Events: `RedemptionRequested`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::request_redemption())]
		pub fn request_redemption(origin: OriginFor<T>, amount: Amount) -> DispatchResult {
			let who = T::ParticipantOrigin::ensure_origin(origin)?;
			Self::do_request_redemption(who, amount)
		}

		/// Burn the tokens of a redemption that was paid out off chain.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownRedemption`, and the token's own.
		/// - Events: `Redeemed`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::burn_redeemed())]
		pub fn burn_redeemed(origin: OriginFor<T>, id: RedemptionId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_burn_redeemed(id)
		}

		/// Set the settlement's timing: outcomes settled from now on use it.
		///
		/// - Origin: `AdminOrigin`.
		/// - Events: `ParamsSet`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::set_params())]
		pub fn set_params(origin: OriginFor<T>, params: Params) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			SettlementParams::<T>::put(params);
			Self::deposit_event(Event::ParamsSet { params });
			Ok(())
		}

		/// Refuse a redemption: its tokens go back to the holder.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownRedemption`, and the token's own.
		/// - Events: `RedemptionCancelled`.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::cancel_redemption())]
		pub fn cancel_redemption(origin: OriginFor<T>, id: RedemptionId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_cancel_redemption(id)
		}

		/// Choose how the PoD's baseline is set for the session (FR-MP-SET-04): the values
		/// declared with `declare_baseline`, or a standard method computed from certified
		/// history ([`BaselineMethod::WorkingDays`], the NODES rule). Until gate closure; the
		/// PoD's meters are taken from the registry now, as `declare_baseline` does, and
		/// declared values are kept.
		///
		/// - Origin: `AggregatorOrigin`, the PoD's aggregator.
		/// - Errors: `UnknownSession`, `GateClosed`, `BadHistoryDays`, `UnknownPod`,
		///   `NotPodAggregator`, `TooManyMeters`.
		/// - Events: `BaselineMethodSet`.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::set_baseline_method())]
		pub fn set_baseline_method(
			origin: OriginFor<T>,
			session: SessionId,
			pod: PodId,
			method: BaselineMethod,
		) -> DispatchResult {
			let who = T::AggregatorOrigin::ensure_origin(origin)?;
			Self::do_set_baseline_method(who, session, pod, method)
		}

		/// Submit a PoD's certified meter readings for one slot moved back to an earlier
		/// `day` (same time of day), for the slot's standard baseline: `day` must be one the
		/// baseline draws on ([`baseline::candidate_days`]). Checked as `submit_metering`
		/// checks a slot's readings. Any participant may submit any candidate day until an
		/// award of the slot is settled, so that the latest valid days, which the baseline
		/// takes, can always be shown; from then on the slot's history is fixed.
		///
		/// - Origin: `ParticipantOrigin`.
		/// - Errors: `UnknownSession`, `SlotOutOfRange`, `NotDeclared`,
		///   `NotStandardBaseline`, `NotCandidateDay`, `SlotNotOver`, `HistoryClosed`,
		///   `AlreadyMetered`, and those of `submit_metering`'s checks.
		/// - Events: `HistoryMetered`.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::submit_history(readings.len() as u32))]
		pub fn submit_history(
			origin: OriginFor<T>,
			session: SessionId,
			pod: PodId,
			slot: Slot,
			day: baseline::Day,
			readings: ReadingsOf<T>,
		) -> DispatchResult {
			T::ParticipantOrigin::ensure_origin(origin)?;
			Self::do_submit_history(session, pod, slot, day, readings)
		}

		/// Set the deposit a dispute puts down: disputes opened from now on pay it; open
		/// disputes keep what they paid. Zero lets disputes be free.
		///
		/// - Origin: `AdminOrigin`.
		/// - Events: `DisputeDepositSet`.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::set_dispute_deposit())]
		pub fn set_dispute_deposit(origin: OriginFor<T>, amount: Amount) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			DisputeDepositAmount::<T>::put(amount);
			Self::deposit_event(Event::DisputeDepositSet { amount });
			Ok(())
		}
	}
}
