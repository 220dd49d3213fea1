//! The market's records. Units (docs/market.md): power in watts (`u32`, held over the slot),
//! prices in the settlement token's smallest unit per MWh (`u64`), times in Unix milliseconds.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, DefaultNoBound, EqNoBound,
	PartialEqNoBound,
};
use platone_primitives::{merkle::Frontier, Hash};
use scale_info::TypeInfo;

pub use pallet_registry::{AreaId, PodId};
pub use platone_clearing::{Award, Direction, Method, Power, Price, Pricing, Requester, Slot};

/// Sessions are numbered from 1, in the order they open.
pub type SessionId = u32;
/// Requests and offers share one numbering per session, from 1.
pub type ItemId = u32;
/// One clearing step of a session: `slot · 2 + direction` (up 0, down 1).
pub type StepIndex = u16;

/// An award: the clearing step it came from and its place among that step's awards.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct AwardRef {
	pub step: StepIndex,
	pub index: u32,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum SessionKind {
	/// Sessions for a delivery day, at a gate closure the day before (UC-IT-1).
	DayAhead,
	/// Rolling sessions for the coming delivery period, with a short lead time (UC-IT-2).
	RealTime,
}

/// When the sessions of one kind run (T-MP-02), set by governance.
///
/// Delivery periods tile time from the Unix epoch: period `i` covers
/// `[i · period_ms, (i + 1) · period_ms)`, so a day-ahead period of 86,400,000 ms is a UTC day.
/// The session for a period opens `open_lead_ms` before the period starts and closes its gate
/// `gate_lead_ms` before it; DSOs then have `validation_ms` to validate the outcome.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct Schedule {
	pub period_ms: u64,
	/// The market time unit; divides `period_ms`.
	pub slot_ms: u32,
	pub open_lead_ms: u64,
	/// Shorter than `open_lead_ms`.
	pub gate_lead_ms: u64,
	/// Shorter than `gate_lead_ms`, so that results are final before delivery when the chain
	/// keeps time.
	pub validation_ms: u64,
}

impl Schedule {
	/// Slots per session, if the schedule is consistent and within `max_slots`.
	pub fn slots(&self, max_slots: u32) -> Option<u16> {
		let slot = u64::from(self.slot_ms);
		if slot == 0 || !self.period_ms.is_multiple_of(slot) {
			return None;
		}
		if self.gate_lead_ms >= self.open_lead_ms || self.validation_ms >= self.gate_lead_ms {
			return None;
		}
		let n = self.period_ms / slot;
		(n >= 1 && n <= u64::from(max_slots))
			.then(|| u16::try_from(n).ok())
			.flatten()
	}
}

/// Where a session stands. Each step follows the one before; none is skipped, however late
/// the chain runs (docs/market.md, "Sessions").
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Phase {
	/// Requests and offers may be submitted, amended and withdrawn.
	#[codec(index = 0)]
	Open,
	/// The gate has closed and the items are being sealed, `SealChunk` ids per step: ids up to
	/// `checked` have been checked against the registry, and `kept` of them passed.
	#[codec(index = 7)]
	Sealing { checked: ItemId, kept: u32 },
	/// Gate closed, inputs sealed and anchored; clearing steps from `next` on are to run.
	#[codec(index = 1)]
	GateClosed { next: StepIndex },
	/// Cleared and anchored; validators answer until `deadline_ms`. `pending` awards have no
	/// answer yet.
	#[codec(index = 2)]
	Cleared { deadline_ms: u64, pending: u32 },
	/// Validation closed; steps from `next` on still get their unanswered awards' default and
	/// their technical-validation root.
	#[codec(index = 3)]
	Closing { next: StepIndex },
	/// Validation anchored; final results are published in the next step.
	#[codec(index = 4)]
	Validated,
	/// Market and technical results combined; nothing changes any more.
	#[codec(index = 5)]
	Final,
	/// Past retention, being removed (`prune_session`); its records are incomplete.
	#[codec(index = 6)]
	Pruning,
}

impl Phase {
	/// Whether `step`'s validation has closed (its defaults applied, its root set).
	pub fn closed(&self, step: StepIndex) -> bool {
		match *self {
			Phase::Closing { next } => step < next,
			Phase::Validated | Phase::Final => true,
			_ => false,
		}
	}
}

/// A session of the market.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct SessionInfo {
	pub kind: SessionKind,
	pub delivery_start_ms: u64,
	pub slot_ms: u32,
	pub slots: u16,
	pub gate_closure_ms: u64,
	pub validation_ms: u64,
	pub pricing: Pricing,
	/// Items with a minimum searched exhaustively per step (beyond: the documented rule).
	pub exact_limit: u8,
	pub phase: Phase,
	pub requests: u32,
	pub offers: u32,
	/// Last item id handed out.
	pub last_item: ItemId,
	/// Awards over all steps.
	pub awards: u32,
	/// Awards that took the default because no answer came.
	pub defaulted: u32,
	/// Root over the sealed inputs (areas, requests, offers), once the gate closed.
	pub input_root: Option<Hash>,
	/// Root over the steps' outcome roots, once cleared.
	pub outcome_root: Option<Hash>,
	/// Root over the steps' technical-validation roots, once validated.
	pub validation_root: Option<Hash>,
}

impl SessionInfo {
	/// A session of `kind` just opened for the period from `delivery_start_ms`, on `schedule`
	/// (of `slots` slots).
	pub fn opened(
		kind: SessionKind,
		delivery_start_ms: u64,
		schedule: &Schedule,
		slots: u16,
		pricing: Pricing,
		exact_limit: u8,
	) -> Self {
		SessionInfo {
			kind,
			delivery_start_ms,
			slot_ms: schedule.slot_ms,
			slots,
			gate_closure_ms: delivery_start_ms.saturating_sub(schedule.gate_lead_ms),
			validation_ms: schedule.validation_ms,
			pricing,
			exact_limit,
			phase: Phase::Open,
			requests: 0,
			offers: 0,
			last_item: 0,
			awards: 0,
			defaulted: 0,
			input_root: None,
			outcome_root: None,
			validation_root: None,
		}
	}

	/// Clearing steps: one per slot and direction.
	pub fn steps(&self) -> StepIndex {
		self.slots.saturating_mul(2)
	}
}

/// What a DSO (or TSO) submits for flexibility (FR-MP-FSM-01).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct RequestInput<Quantities> {
	pub area: AreaId,
	pub direction: Direction,
	/// The most it pays, per MWh.
	pub max_price: Price,
	/// 0: any quantity helps; else the least power worth taking in a slot.
	pub min_quantity: Power,
	/// `(slot, watts)`, slots strictly increasing, each quantity positive.
	pub quantities: Quantities,
}

/// What an aggregator offers from one PoD it represents (FR-MP-FSM-03).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct OfferInput<Quantities> {
	pub pod: PodId,
	pub direction: Direction,
	/// Its price, per MWh.
	pub price: Price,
	/// 0: divisible; else the least power it accepts in a slot.
	pub min_quantity: Power,
	pub quantities: Quantities,
}

/// A stored request (FR-MP-FSM-04).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Request<AccountId, Quantities> {
	pub owner: AccountId,
	/// DSO for a request in an area the owner operates, TSO otherwise.
	pub requester: Requester,
	pub input: RequestInput<Quantities>,
}

/// A stored offer (FR-MP-FSM-04).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Offer<AccountId, Quantities> {
	pub owner: AccountId,
	/// The PoD's area, from the registry when submitted and again when the gate closes.
	pub area: AreaId,
	/// Who validates the offer's awards: the operator of the PoD's area.
	pub validator: AccountId,
	pub input: OfferInput<Quantities>,
}

/// The DSO's answer to one award (FR-MP-MOMV-03).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum Light {
	/// Accepted as awarded.
	Green,
	/// Accepted up to this many watts, fewer than awarded and more than 0.
	Yellow(Power),
	/// Rejected.
	Red,
}

impl Light {
	/// The power left of `awarded` by this answer.
	pub fn apply(self, awarded: Power) -> Power {
		match self {
			Light::Green => awarded,
			Light::Yellow(q) => q.min(awarded),
			Light::Red => 0,
		}
	}
}

/// A stored award: the clearing's award and who must validate it.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct AwardRecord<AccountId> {
	pub award: Award,
	pub validator: AccountId,
}

/// One step's digests and count.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct StepDigest {
	pub awards: u32,
	/// Root over the step's awards.
	pub outcome_root: Hash,
	/// Root over the step's final results, once validation closed.
	pub validation_root: Option<Hash>,
	/// `None` when the step had no request or no offer.
	pub method: Option<Method>,
}

/// A leaf of a session's input tree: the sealed areas by id, then requests and offers by id.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum InputLeaf<AccountId, Quantities> {
	Area {
		id: AreaId,
		parent: Option<AreaId>,
	},
	Request {
		id: ItemId,
		request: Request<AccountId, Quantities>,
	},
	Offer {
		id: ItemId,
		offer: Offer<AccountId, Quantities>,
	},
}

/// A sealed item's terms, as each clearing step takes them. Its power per step is kept apart
/// (`StepPower`), so that a step reads the items it clears and not every item's quantities.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum SealedItem<AccountId> {
	Request {
		id: ItemId,
		requester: Requester,
		area: AreaId,
		max_price: Price,
		min_quantity: Power,
	},
	Offer {
		id: ItemId,
		area: AreaId,
		price: Price,
		min_quantity: Power,
		validator: AccountId,
	},
}

impl<AccountId: Clone> SealedItem<AccountId> {
	/// A stored request's terms, as each clearing step takes them.
	pub fn of_request<Q>(id: ItemId, r: &Request<AccountId, Q>) -> Self {
		SealedItem::Request {
			id,
			requester: r.requester,
			area: r.input.area,
			max_price: r.input.max_price,
			min_quantity: r.input.min_quantity,
		}
	}

	/// A stored offer's terms, as each clearing step takes them.
	pub fn of_offer<Q>(id: ItemId, o: &Offer<AccountId, Q>) -> Self {
		SealedItem::Offer {
			id,
			area: o.area,
			price: o.input.price,
			min_quantity: o.input.min_quantity,
			validator: o.validator.clone(),
		}
	}

	/// The item as the clearing crate takes it in one slot and direction, with `watts` there:
	/// the one conversion of both the clearing step and the audit's derivation.
	pub fn clearing_input(
		&self,
		slot: Slot,
		direction: Direction,
		watts: Power,
	) -> ClearingInput<AccountId> {
		match self {
			SealedItem::Request {
				id,
				requester,
				area,
				max_price,
				min_quantity,
			} => ClearingInput::Request(platone_clearing::Request {
				id: *id,
				requester: *requester,
				area: *area,
				direction,
				max_price: *max_price,
				min_quantity: *min_quantity,
				quantities: alloc::vec![(slot, watts)],
			}),
			SealedItem::Offer {
				id,
				area,
				price,
				min_quantity,
				validator,
			} => ClearingInput::Offer(
				platone_clearing::Offer {
					id: *id,
					area: *area,
					direction,
					price: *price,
					min_quantity: *min_quantity,
					quantities: alloc::vec![(slot, watts)],
				},
				validator.clone(),
			),
		}
	}
}

/// A sealed item as one clearing step's input; an offer with its validator.
pub enum ClearingInput<AccountId> {
	Request(platone_clearing::Request),
	Offer(platone_clearing::Offer, AccountId),
}

/// How far closing one step's validation got, between blocks: the awards closed, the
/// validation tree's frontier over their result leaves, and each PoD's validated power so far
/// in the step (for the next awards' `PodShare::before`).
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	DefaultNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
#[scale_info(skip_type_params(Bound))]
#[codec(mel_bound(Bound: Get<u32>))]
pub struct CloseState<Bound: Get<u32>> {
	pub from: u32,
	pub frontier: Frontier,
	pub delivered: BoundedVec<(PodId, Power), Bound>,
}

/// What settlement needs of a closed step's award beyond its record, kept per award (same
/// index as `StepAwards`) when the step's validation closes: its offer's PoD and the validated
/// power of the step's earlier awards for that PoD.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub struct PodShare {
	pub pod: PodId,
	/// Validated power of the step's earlier awards for `pod`, W.
	pub before: Power,
}

/// A leaf of a step's validation tree: the award, its answer (or the default) and what is left.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct ResultLeaf {
	pub award: AwardRef,
	pub light: Light,
	/// `light` was not answered: the configured default.
	pub defaulted: bool,
	pub quantity: Power,
}

/// A leaf of a session's outcome (or validation) tree: one step's root.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct StepLeaf {
	pub step: StepIndex,
	pub awards: u32,
	pub root: Hash,
}

/// One participant's final result for one award (FR-MP-MOMV-04).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct FinalResult<AccountId> {
	pub award_ref: AwardRef,
	pub award: Award,
	pub requester: AccountId,
	pub aggregator: AccountId,
	pub pod: PodId,
	pub validator: AccountId,
	/// `None` until validation closed and no answer came.
	pub light: Option<Light>,
	/// Power after validation (the awarded power while validation is open).
	pub quantity: Power,
}

/// Why the gate closure dropped an item.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
)]
pub enum DropReason {
	/// The requester or aggregator lost its role or was suspended.
	NoLongerEligible,
	/// The PoD left the registry, moved area, or passed to another aggregator.
	PodChanged,
	/// The request's area left the registry.
	AreaGone,
	/// The session's area snapshot holds `MaxAreas` areas, and this item's would add more.
	TooManyAreas,
	/// The item's area is nested deeper than `MaxAreaPath` allows.
	AreaTooDeep,
}

/// The anchor subject of a session: `b"platone-market"`, zero padding, the id big-endian.
pub fn subject(session: SessionId) -> pallet_certification::Subject {
	let mut s = [0u8; 32];
	s[..14].copy_from_slice(b"platone-market");
	s[28..].copy_from_slice(&session.to_be_bytes());
	s
}

/// The clearing step of a slot and direction.
pub fn step_of(slot: Slot, direction: Direction) -> Option<StepIndex> {
	slot.checked_mul(2)?.checked_add(match direction {
		Direction::Up => 0,
		Direction::Down => 1,
	})
}

/// The slot and direction of a clearing step.
pub fn slot_of(step: StepIndex) -> (Slot, Direction) {
	(
		step / 2,
		if step.is_multiple_of(2) {
			Direction::Up
		} else {
			Direction::Down
		},
	)
}

/// What benchmarks need from the runtime: registry records and the clock.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// An active participant holding `roles` (the registry's role bits).
	fn participant(seed: u32, roles: u8) -> AccountId;
	/// An area operated by `owner`, under `parent`.
	fn area(owner: &AccountId, parent: Option<AreaId>) -> AreaId;
	/// A PoD in `area`, represented by `aggregator`.
	fn pod(area: AreaId, aggregator: &AccountId) -> PodId;
	/// Makes `UnixTime::now()` return `ms`.
	fn set_now_ms(ms: u64);
}

/// One final award as settlement sees it (FR-MP-SET-03/04): who pays whom, for which PoD and
/// slot, and how much power remained after validation.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct SettledAward<AccountId> {
	pub requester: AccountId,
	pub aggregator: AccountId,
	pub validator: AccountId,
	pub offer: ItemId,
	pub pod: PodId,
	pub slot: Slot,
	pub direction: Direction,
	/// Power after validation, W.
	pub quantity: Power,
	/// Per MWh.
	pub price: Price,
	/// Validated power of the step's earlier awards for the same PoD: the PoD's delivery
	/// serves the awards of a slot in award order.
	pub pod_before: Power,
}

/// Runs of equal steps in `steps`: how many times a reader that keeps the last step it loaded
/// loads one (`validate`, `final_awards`).
pub fn step_runs(steps: impl IntoIterator<Item = StepIndex>) -> u32 {
	let mut last = None;
	let mut runs = 0u32;
	for step in steps {
		if last != Some(step) {
			runs = runs.saturating_add(1);
			last = Some(step);
		}
	}
	runs
}

/// What the settlement pallet reads from the market.
pub trait MarketView<AccountId> {
	/// A session's record, if in state.
	fn session(session: SessionId) -> Option<SessionInfo>;
	/// An offer's owner and PoD, and the slots it offers.
	fn offer(
		session: SessionId,
		offer: ItemId,
	) -> Option<(AccountId, PodId, alloc::vec::Vec<Slot>)>;
	/// An award of a final session, with its validated quantity; `None` before the session is
	/// final.
	fn final_award(session: SessionId, award: AwardRef) -> Option<SettledAward<AccountId>>;
	/// The most `final_award` may cost: the step's records and PoD shares decoded, and the
	/// award's offer, request and answer read.
	fn final_award_weight() -> frame_support::weights::Weight;
	/// Awards of a final session, in the order asked: as `final_award`, with each step's
	/// records decoded once per run of awards in that step.
	fn final_awards(
		session: SessionId,
		awards: &[AwardRef],
	) -> alloc::vec::Vec<Option<SettledAward<AccountId>>> {
		awards
			.iter()
			.map(|award| Self::final_award(session, *award))
			.collect()
	}
	/// The most `final_awards` may cost for `n` awards in `runs` runs of one step.
	fn final_awards_weight(n: u32, runs: u32) -> frame_support::weights::Weight {
		let _ = runs;
		Self::final_award_weight().saturating_mul(n.into())
	}
	/// A session of four 15-minute slots from `delivery_start_ms` for the settlement
	/// benchmarks: open with the awards' offers, or final with `awards` as step 0's, all green.
	#[cfg(feature = "runtime-benchmarks")]
	fn bench_session(
		session: SessionId,
		awards: alloc::vec::Vec<SettledAward<AccountId>>,
		delivery_start_ms: u64,
		is_final: bool,
	);
}

/// The settlement of the market's sessions, as far as their life cycle needs it: the market
/// prunes a session only once it is settled, and the settlement's records of it with it.
pub trait SessionSettled {
	/// Whether a session's settlement is done.
	fn is_settled(session: SessionId) -> bool;
	/// Removes up to `budget` of a settled session's settlement records; yields how many it
	/// removed and whether none is left. Called from `prune_session`, before the market's own
	/// records, within the same budget.
	fn prune(session: SessionId, budget: u32) -> (u32, bool);
}

/// No settlement: every session counts as settled, and there is nothing to prune.
impl SessionSettled for () {
	fn is_settled(_: SessionId) -> bool {
		true
	}
	fn prune(_: SessionId, _: u32) -> (u32, bool) {
		(0, true)
	}
}
