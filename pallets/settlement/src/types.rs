//! Settlement records and units (docs/settlement.md).
//!
//! - Power in W (the market's `Power`), baselines in W of net import (import minus export,
//!   signed), metered energy in Wh as the meters count it.
//! - Energy is compared in W·ms, which both convert to exactly: `W × slot_ms` and
//!   `Wh × 3,600,000`. Nothing is rounded until a payment: `price × W·ms / 3.6·10¹²`, rounded
//!   down (prices are in the settlement token's smallest unit per MWh).

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::weights::Weight;
use scale_info::TypeInfo;
use sp_runtime::Permill;

pub use pallet_market::{AwardRef, Direction, ItemId, PodId, Power, Price, SessionId, Slot};
pub use platone_primitives::{DatasetId, ReadingQuality};

/// Mechanisms are numbered from 1.
pub type MechanismId = u32;
/// Redemption requests are numbered from 1.
pub type RedemptionId = u32;
/// Settlement-token amounts, in the token's smallest unit.
pub type Amount = u128;

/// W·ms in one Wh.
pub const WMS_PER_WH: i128 = 3_600_000;
/// W·ms in one MWh: `price × energy / WMS_PER_MWH` is a payment.
pub const WMS_PER_MWH: u128 = 3_600_000_000_000;

/// The settlement's timing, set by governance.
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
pub struct Params {
	/// How long after a slot ends its awards wait for metering before they settle, ms.
	pub metering_delay_ms: u64,
	/// How long a settled outcome may be disputed, ms.
	pub dispute_ms: u64,
}

/// The terms of a standard settlement mechanism (FR-MP-SET-01).
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
pub struct Terms {
	/// Delivery within this share below the award counts as full delivery.
	pub tolerance: Permill,
	/// Paid by the aggregator per MWh not delivered, as a share of the award's price.
	pub penalty: Permill,
	/// Share of the aggregator's net revenue that moves on to the PoD's owner.
	pub customer_share: Permill,
}

/// How a mechanism computes the payment split.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub enum Rule<AccountId> {
	/// [`Terms`] applied by the pallet itself ([`standard_split`]).
	Standard(Terms),
	/// A deployed contract, called with [`MechanismInput`] and at most `gas` of ref time; it
	/// returns a [`Split`], which the pallet checks against the award ([`Split::check`]).
	Contract { contract: AccountId, gas: u64 },
}

/// A settlement mechanism, listed on chain (FR-MP-SET-02).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Mechanism<AccountId> {
	pub owner: AccountId,
	pub rule: Rule<AccountId>,
	/// A retired mechanism settles what chose it already, and may not be chosen again.
	pub retired: bool,
}

/// A PoD's baseline for a session, declared by its aggregator before gate closure
/// (FR-MP-SET-04), with the PoD's meters as the registry listed them then: its metering must
/// cover exactly these, whatever the registry says later.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Declared<Baseline, Meters> {
	/// `(slot, W of net import)`, slots strictly increasing.
	pub baseline: Baseline,
	pub meters: Meters,
	/// Where the baseline of the PoD's awards comes from.
	pub method: BaselineMethod,
}

/// How a PoD's baseline is set for a session (FR-MP-SET-04).
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
pub enum BaselineMethod {
	/// The values the aggregator declares, per slot.
	#[default]
	Declared,
	/// The NODES standard: the mean net import of the same slot on the latest `n` working days
	/// with valid certified metering, of the `2n` before the slot's day
	/// ([`crate::baseline::standard_baseline`]); `1 ≤ n ≤ MAX_HISTORY_DAYS`.
	WorkingDays(u8),
}

/// A PoD's certified energy over one slot, summed over its meters (FR-MP-SET-03).
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
pub struct Metering {
	pub import_wh: u64,
	pub export_wh: u64,
	/// The worst quality among the readings used; anything but `Valid` does not settle.
	pub quality: ReadingQuality,
	/// Certified readings the figures came from.
	pub readings: u32,
}

impl Metering {
	/// Every reading valid: the only metering that settles, and that no later submission replaces.
	pub fn is_valid(&self) -> bool {
		self.quality == ReadingQuality::Valid
	}

	/// Net import over the slot, W·ms.
	pub fn net_import_wms(&self) -> i128 {
		(i128::from(self.import_wh) - i128::from(self.export_wh)) * WMS_PER_WH
	}
}

/// What a mechanism is given for one award: SCALE-encoded, it is a contract's input.
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
pub struct MechanismInput {
	/// Awarded power × slot length (after validation), W·ms.
	pub awarded_wms: u128,
	/// Baseline minus metered net import (up), or the reverse (down), W·ms; may be negative.
	/// Zero when no baseline was declared.
	pub delivered_wms: i128,
	/// Per MWh.
	pub price: Price,
	/// `price × awarded`: the most a penalty can be.
	pub award_value: Amount,
	/// `price × creditable`, where creditable is the award if delivery reached it within the
	/// runtime's `MaxTolerance`, else what was delivered (never below zero): the most a
	/// mechanism can pay. Nothing delivered, nothing paid.
	pub max_payment: Amount,
}

/// A mechanism's answer: SCALE-encoded, a contract's output.
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
pub struct Split {
	/// From the requester to the aggregator.
	pub payment: Amount,
	/// From the aggregator to the requester, for under-delivery.
	pub penalty: Amount,
	/// From the aggregator to the PoD's owner; at most the net revenue `payment − penalty`.
	pub customer_share: Amount,
}

impl Split {
	/// What the pallet accepts from any mechanism: no payment above what was delivered (within
	/// the runtime's tolerance), no penalty above the award's value, and no customer share
	/// above the aggregator's net revenue.
	pub fn check(&self, input: &MechanismInput) -> bool {
		self.payment <= input.max_payment
			&& self.penalty <= input.award_value
			&& self.customer_share <= self.payment.saturating_sub(self.penalty)
	}
}

/// `price × energy`, rounded down to the token's unit.
pub fn value_of(price: Price, energy_wms: u128) -> Amount {
	// price < 2^64 and energy < 2^96 in practice; the wide product cannot overflow u128 for
	// any award the market can make (W < 2^32, slot < 2^32 ms), and saturates beyond.
	u128::from(price).saturating_mul(energy_wms) / WMS_PER_MWH
}

/// Energy credited for `delivered` of `awarded` with `tolerance`: the award once delivery
/// reaches it within the tolerance, else what was delivered, never below zero.
pub fn credited(awarded: u128, delivered: i128, tolerance: Permill) -> u128 {
	let delivered = u128::try_from(delivered.max(0)).unwrap_or(0).min(awarded);
	let floor = awarded.saturating_sub(tolerance.mul_floor(awarded));
	if delivered >= floor && delivered > 0 {
		awarded
	} else {
		delivered
	}
}

/// The standard mechanism (docs/settlement.md): delivery within the tolerance is paid in full;
/// otherwise the delivered part (never more than awarded, never below zero) is paid at the
/// award's price and the shortfall costs `penalty × price`; the PoD's owner gets
/// `customer_share` of the net revenue. Everything rounds down.
pub fn standard_split(terms: &Terms, input: &MechanismInput) -> Split {
	let awarded = input.awarded_wms;
	let credited = credited(awarded, input.delivered_wms, terms.tolerance);
	let payment = value_of(input.price, credited).min(input.max_payment);
	let shortfall = awarded.saturating_sub(credited);
	let penalty = terms
		.penalty
		.mul_floor(value_of(input.price, shortfall))
		.min(input.award_value);
	let customer_share = terms
		.customer_share
		.mul_floor(payment.saturating_sub(penalty));
	Split {
		payment,
		penalty,
		customer_share,
	}
}

/// Why an outcome is what it is.
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
pub enum Basis {
	/// Baseline and valid certified metering: the mechanism settled it.
	Measured,
	/// Nothing was awarded after validation: nothing to pay.
	NothingAwarded,
	/// No baseline was declared before gate closure: delivery cannot be shown, so nothing is
	/// paid (`max_payment` is zero) and the mechanism's penalty applies to the whole award.
	NoBaseline,
	/// No complete certified metering by settlement: nothing is paid and no penalty applies
	/// (metering is the grid operator's duty); a dispute can settle it again once it exists.
	Unmetered,
	/// The metering holds a reading the head-end did not mark valid: as `Unmetered`.
	Flagged(ReadingQuality),
	/// The PoD's standard baseline lacked certified history when the slot was first settled
	/// (fewer valid days on chain than it averages): nothing is paid and no penalty applies.
	/// The slot's history is closed then, so this stands.
	NoHistory,
	/// The mechanism's contract failed or answered a split that breaks [`Split::check`]: the
	/// runtime's default terms settled it instead. (Without a baseline the basis stays
	/// `NoBaseline`.)
	MechanismFailed,
	/// Governance resolved a dispute with its own split.
	Resolved,
}

/// Where an outcome stands.
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
pub enum Status {
	/// Computed; disputable until `until_ms`, then final.
	Open { until_ms: u64 },
	/// A party disputed it: frozen until governance resolves it.
	Disputed,
	/// Final and paid.
	Paid,
	/// Final, but a party lacked the tokens: `finalize` tries again.
	Unpaid,
}

/// One award's settlement with all its inputs (FR-MP-SET-04/06): what a final outcome's leaf
/// commits to.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Record<AccountId> {
	pub requester: AccountId,
	pub aggregator: AccountId,
	pub validator: AccountId,
	pub pod: PodId,
	pub slot: Slot,
	pub direction: Direction,
	/// Power after validation, W.
	pub quantity: Power,
	pub price: Price,
	/// `None`: the default terms.
	pub mechanism: Option<MechanismId>,
	/// W of net import, if declared.
	pub baseline_w: Option<i64>,
	pub metering: Option<Metering>,
	pub input: MechanismInput,
	pub split: Split,
	pub basis: Basis,
	/// Who receives the customer share: the PoD's owner on record when the award was settled
	/// (`None`: it stays with the aggregator).
	pub customer: Option<AccountId>,
}

/// A settled award: its record, where it stands, and its leaf once final.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Outcome<AccountId> {
	pub record: Record<AccountId>,
	pub status: Status,
	/// Position among the session's final outcomes (its leaf in the `Settlement` anchor).
	pub leaf: Option<u32>,
}

/// A leaf of a session's `Settlement` anchor: one final outcome's record, in the order the
/// outcomes became final.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct OutcomeLeaf<AccountId> {
	pub award: AwardRef,
	pub record: Record<AccountId>,
}

/// A session's settlement so far.
#[derive(
	Clone,
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
pub struct Tally {
	/// The session's awards, from the market.
	pub awards: u32,
	/// Outcomes computed.
	pub settled: u32,
	/// Outcomes final (leaves of the anchor so far).
	pub fixed: u32,
	/// Peaks of the Merkle tree over the final outcomes, largest first: the RFC 6962 root of
	/// any number of leaves follows from them without reading the leaves again
	/// (`platone_primitives::merkle::root_of_peaks`).
	pub peaks:
		frame_support::BoundedVec<platone_primitives::Hash, frame_support::traits::ConstU32<32>>,
	/// The anchored root, once every award is final.
	pub root: Option<platone_primitives::Hash>,
}

/// A holder's request to redeem tokens for off-chain funds (FR-MP-SET-05).
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct Redemption<AccountId> {
	pub who: AccountId,
	pub amount: Amount,
}

/// The anchor subject of a session's settlement: `b"platone-settlement"`, zero padding, the
/// session id big-endian.
pub fn subject(session: SessionId) -> pallet_certification::Subject {
	let mut s = [0u8; 32];
	s[..18].copy_from_slice(b"platone-settlement");
	s[28..].copy_from_slice(&session.to_be_bytes());
	s
}

/// Calls a contract mechanism. The runtime implements it with `pallet-contracts`; moving to
/// `pallet-revive` changes only that implementation (docs/build.md).
pub trait ContractMechanism<AccountId> {
	/// Does a contract live at `contract`?
	fn exists(contract: &AccountId) -> bool;
	/// Calls `contract` with `input` and at most `gas` ref time; `None` when the call fails,
	/// runs out of gas or answers something that does not decode as one [`Split`].
	fn evaluate(contract: &AccountId, input: &MechanismInput, gas: u64) -> Option<Split>;
	/// [`Self::evaluate`], and the weight the call used, which `settle` is charged instead of
	/// the call's limit. By default the limit: `gas` and [`Self::max_proof_size`].
	fn evaluate_metered(
		contract: &AccountId,
		input: &MechanismInput,
		gas: u64,
	) -> (Option<Split>, Weight) {
		(
			Self::evaluate(contract, input, gas),
			Weight::from_parts(gas, Self::max_proof_size()),
		)
	}
	/// The most proof size one call may read (the contract's code and records): charged with
	/// each call's gas.
	fn max_proof_size() -> u64 {
		0
	}
}

/// No contracts: every contract mechanism falls back to the default terms.
impl<AccountId> ContractMechanism<AccountId> for () {
	fn exists(_: &AccountId) -> bool {
		false
	}
	fn evaluate(_: &AccountId, _: &MechanismInput, _: u64) -> Option<Split> {
		None
	}
}

/// Checks a measurement against the chain's certificates: `pallet-certification` implements
/// it.
pub trait MeasurementVerifier<AccountId> {
	fn verify(
		gateway: &AccountId,
		window: platone_primitives::Window,
		proof: &platone_primitives::MeasurementProof,
	) -> Result<platone_primitives::MeasurementRecord, platone_primitives::VerifyError>;
}

/// The chain's certificates: a reading counts if it is in a certified window, or certified
/// late by the gateway assigned its device at its time.
impl<T: pallet_certification::Config> MeasurementVerifier<T::AccountId>
	for pallet_certification::Pallet<T>
{
	fn verify(
		gateway: &T::AccountId,
		window: platone_primitives::Window,
		proof: &platone_primitives::MeasurementProof,
	) -> Result<platone_primitives::MeasurementRecord, platone_primitives::VerifyError> {
		Self::verify_record(gateway, window, proof).map(|(record, _)| record)
	}
}

/// What benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// An active participant holding `roles` (the registry's role bits).
	fn participant(seed: u32, roles: u8) -> AccountId;
	/// A PoD represented by `aggregator` in an area that `operator` runs, with `meters` meter
	/// PoMs certified by `gateway`; returns the PoD and its PoMs.
	fn pod_with_meters(
		operator: &AccountId,
		aggregator: &AccountId,
		gateway: &AccountId,
		meters: u32,
	) -> (PodId, alloc::vec::Vec<DatasetId>);
	/// Stores a certificate of `root` for `gateway`'s `window`.
	fn certify(
		gateway: &AccountId,
		window: platone_primitives::Window,
		root: platone_primitives::Hash,
	);
	/// Makes `UnixTime::now()` return `ms`.
	fn set_now_ms(ms: u64);
}
