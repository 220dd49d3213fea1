//! An award's settlement record from its inputs, as a pure function: the pallet and
//! `platone audit settlement` compute it with the same code.

use crate::types::*;
use pallet_market::SettledAward;

/// What settles one award besides the award itself: read from chain state by the pallet, from
/// a storage proof by an audit.
pub struct Inputs<AccountId> {
	/// The session's market time unit, ms.
	pub slot_ms: u32,
	/// The offer's chosen mechanism, with its rule if still listed.
	pub mechanism: Option<(MechanismId, Option<Rule<AccountId>>)>,
	/// The PoD's baseline for the award's slot.
	pub baseline: BaselineInput,
	pub metering: Option<Metering>,
	/// The PoD's owner on record.
	pub customer: Option<AccountId>,
	/// The runtime's default terms.
	pub default_terms: Terms,
	/// The runtime's `MaxTolerance`: what bounds `max_payment`.
	pub max_tolerance: sp_runtime::Permill,
}

/// An award's baseline, as its PoD's declaration and the history on chain give it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BaselineInput {
	/// No baseline for the slot: neither declared values nor a standard method.
	Undeclared,
	/// A standard baseline whose history is not (yet) on chain.
	NoHistory,
	/// W of net import.
	W(i64),
}

impl BaselineInput {
	/// The baseline of `declared` for `slot` of a delivery period starting at
	/// `delivery_start_ms`; `history` gives the PoD's certified metering of the slot on a past
	/// day.
	pub fn of<B: AsRef<[(Slot, i64)]>, M>(
		declared: Option<&Declared<B, M>>,
		slot: Slot,
		delivery_start_ms: u64,
		slot_ms: u32,
		history: impl Fn(crate::baseline::Day) -> Option<Metering>,
	) -> Self {
		let Some(declared) = declared else {
			return Self::Undeclared;
		};
		match declared.method {
			BaselineMethod::Declared => declared
				.baseline
				.as_ref()
				.iter()
				.find(|(s, _)| *s == slot)
				.map_or(Self::Undeclared, |(_, w)| Self::W(*w)),
			BaselineMethod::WorkingDays(days) => {
				crate::baseline::slot_span(delivery_start_ms, slot_ms, slot)
					.and_then(|(start, _)| {
						crate::baseline::standard_baseline(start, slot_ms, days, history)
					})
					.map_or(Self::NoHistory, Self::W)
			}
		}
	}
}

/// The award's record; `true` if a contract was called. `contract` runs a contract mechanism
/// (`None`: it failed); its answer counts only if it passes [`Split::check`].
pub fn record<AccountId: Clone>(
	a: SettledAward<AccountId>,
	inputs: Inputs<AccountId>,
	contract: impl FnOnce(&AccountId, &MechanismInput, u64) -> Option<Split>,
) -> (Record<AccountId>, bool) {
	let slot_ms = u128::from(inputs.slot_ms);
	let awarded_wms = u128::from(a.quantity).saturating_mul(slot_ms);
	let input = MechanismInput {
		awarded_wms,
		delivered_wms: 0,
		price: a.price,
		award_value: value_of(a.price, awarded_wms),
		max_payment: 0,
	};
	let mut record = Record {
		requester: a.requester,
		aggregator: a.aggregator,
		validator: a.validator,
		pod: a.pod,
		slot: a.slot,
		direction: a.direction,
		quantity: a.quantity,
		price: a.price,
		mechanism: inputs.mechanism.as_ref().map(|(id, _)| *id),
		baseline_w: match inputs.baseline {
			BaselineInput::W(w) => Some(w),
			_ => None,
		},
		metering: inputs.metering,
		input,
		split: Split::default(),
		basis: Basis::Measured,
		customer: inputs.customer,
	};
	let run = match (a.quantity, inputs.baseline, inputs.metering) {
		(0, _, _) => {
			record.basis = Basis::NothingAwarded;
			false
		}
		(_, BaselineInput::Undeclared, _) => {
			record.basis = Basis::NoBaseline;
			true
		}
		(_, BaselineInput::NoHistory, _) => {
			record.basis = Basis::NoHistory;
			false
		}
		(_, _, None) => {
			record.basis = Basis::Unmetered;
			false
		}
		(_, _, Some(m)) if !m.is_valid() => {
			record.basis = Basis::Flagged(m.quality);
			false
		}
		(_, BaselineInput::W(b), Some(m)) => {
			// |W| < 2^63 and slot_ms < 2^32: every product fits an i128.
			let wms = i128::from(inputs.slot_ms);
			let baseline = i128::from(b).saturating_mul(wms);
			let deviation = match a.direction {
				Direction::Up => baseline.saturating_sub(m.net_import_wms()),
				Direction::Down => m.net_import_wms().saturating_sub(baseline),
			};
			let before = i128::from(a.pod_before).saturating_mul(wms);
			record.input.delivered_wms = deviation.saturating_sub(before);
			true
		}
	};
	record.input.max_payment = value_of(
		a.price,
		credited(
			awarded_wms,
			record.input.delivered_wms,
			inputs.max_tolerance,
		),
	);
	let mut called = false;
	if run {
		let input = &record.input;
		let default = || standard_split(&inputs.default_terms, input);
		let (split, used) = match inputs.mechanism.and_then(|(_, rule)| rule) {
			None => (default(), true),
			Some(Rule::Standard(terms)) => (standard_split(&terms, input), true),
			Some(Rule::Contract { contract: at, gas }) => {
				called = true;
				match contract(&at, input, gas).filter(|s| s.check(input)) {
					Some(split) => (split, true),
					None => (default(), false),
				}
			}
		};
		record.split = split;
		if !used && record.basis == Basis::Measured {
			record.basis = Basis::MechanismFailed;
		}
	}
	(record, called)
}
