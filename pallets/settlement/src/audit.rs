//! Recomputes a session's settlement from its records (`platone audit settlement`, issue #14):
//! every outcome from the market's final awards, the declared baselines, the metering on chain
//! and the chosen mechanisms, with [`crate::derive::record`], the code the pallet runs; then the
//! root over the final outcomes against the pallet's anchor. The records come from a storage
//! proof of a finalized block, so the audit trusts no node.

use crate::{derive, types::*};
use alloc::{collections::BTreeMap, string::String, vec::Vec};
use codec::Encode;
use pallet_certification::RuntimeHasher;
use pallet_market::SettledAward;
use platone_primitives::{merkle, Hash, Hasher};

/// A session's settlement records, as read from one block's state.
pub struct Records<A> {
	pub slot_ms: u32,
	/// When the session's slot 0 starts, ms.
	pub delivery_start_ms: u64,
	/// Every final award of the session, as the market derives it.
	pub awards: Vec<(AwardRef, SettledAward<A>)>,
	/// Each awarded PoD's baseline declaration.
	pub baselines: BTreeMap<PodId, Declared<Vec<(Slot, i64)>, Vec<DatasetId>>>,
	pub meterings: BTreeMap<(PodId, Slot), Metering>,
	/// The history on chain of the awarded slots whose PoD has a standard baseline, on their
	/// candidate days.
	pub history: BTreeMap<(PodId, Slot, crate::baseline::Day), Metering>,
	/// The mechanisms the session's offers chose, with their rules.
	pub mechanisms: BTreeMap<ItemId, (MechanismId, Option<Rule<A>>)>,
	pub outcomes: BTreeMap<AwardRef, Outcome<A>>,
	pub tally: Option<Tally>,
	/// The `Settlement` anchor of the session: digest, leaf count, submitter.
	pub anchor: Option<(Hash, u64, A)>,
}

/// What the audit found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Finding {
	/// A stored outcome differs from its recomputation.
	Outcome,
	/// A split breaks its check against the award (no mechanism may do that).
	Split,
	/// An outcome for an award the market does not have.
	Stray,
	/// Counts, leaf numbering or peaks disagree with the outcomes.
	Tally,
	/// The anchor is missing, not the pallet's, or not the root of the final outcomes.
	Anchor,
}

/// What the audit checked and found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
	pub awards: u32,
	pub settled: u32,
	pub final_outcomes: u32,
	/// Outcomes whose split a contract answered that the auditor could not run: checked
	/// against the award's bounds and recorded inputs only.
	pub contract_answers: u32,
	/// Outcomes whose contract the auditor ran again on the recorded input, its answer
	/// compared with the stored one.
	pub contracts_rerun: u32,
	/// Outcomes settled before (valid) metering for their slot arrived; still open to a
	/// dispute, not a difference.
	pub metered_since: u32,
	/// The root over the final outcomes, as recomputed.
	pub root: Option<Hash>,
	pub findings: Vec<(Finding, String)>,
}

impl Report {
	pub fn is_clean(&self) -> bool {
		self.findings.is_empty()
	}
}

/// The leaf hash of a final outcome: `H(0x00 ‖ SCALE(OutcomeLeaf { award, record }))`, which
/// SCALE encodes as the pair of its fields, so no leaf is cloned to hash it.
pub fn leaf_hash<A: Encode>(award: AwardRef, record: &Record<A>) -> Hash {
	RuntimeHasher::leaf(&(award, record).encode())
}

/// What an auditor's own run of a contract mechanism gave ([`audit`]'s `rerun`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rerun {
	/// Its answer: `None` if it trapped, reverted, ran out of fuel or answered no `Split`.
	Ran(Option<Split>),
	/// Not run (say, a contract that uses more of the host than its input and its return):
	/// the stored answer is taken, checked against the award's bounds.
	NotRun,
}

/// Audits a session's settlement; `default_terms`, `max_tolerance` and `pallet` are the
/// runtime's. `rerun` runs a contract mechanism again, with the mechanism's gas, on the input
/// the audit derived: an answer that differs from the stored one is an `Outcome` finding. A
/// stored failure stands whatever the run gives, since running out of gas on chain is not
/// reproduced exactly off it. The customer share's recipient is taken from each record: it is the PoD's owner
/// on record when the award was settled, which no later state shows.
pub fn audit<A: Clone + Eq + Encode + core::fmt::Debug>(
	r: &Records<A>,
	default_terms: Terms,
	max_tolerance: sp_runtime::Permill,
	pallet: &A,
	mut rerun: impl FnMut(&A, &MechanismInput, u64) -> Rerun,
) -> Report {
	let mut report = Report {
		awards: r.awards.len() as u32,
		..Report::default()
	};
	let mut find = |f: Finding, what: String| report.findings.push((f, what));
	let awards: BTreeMap<AwardRef, &SettledAward<A>> =
		r.awards.iter().map(|(at, a)| (*at, a)).collect();
	let mut leaves: BTreeMap<u32, Hash> = BTreeMap::new();
	let mut contract_answers = 0;
	let mut contracts_rerun = 0;
	let mut metered_since = 0;
	for (at, outcome) in &r.outcomes {
		let stored = &outcome.record;
		if !stored.split.check(&stored.input) {
			find(Finding::Split, alloc::format!("{at:?}: {:?}", stored.split));
		}
		if let Some(leaf) = outcome.leaf {
			if leaves.insert(leaf, leaf_hash(*at, stored)).is_some() {
				find(Finding::Tally, alloc::format!("leaf {leaf} is used twice"));
			}
		}
		let Some(award) = awards.get(at) else {
			find(
				Finding::Stray,
				alloc::format!("{at:?} is no final award of the session"),
			);
			continue;
		};
		// The metering the outcome was settled with, if it is what the chain holds for its
		// slot now, or was replaced since (a flagged slot metered again): then that counts.
		let now = r.meterings.get(&(award.pod, award.slot)).copied();
		let mut since = false;
		let metering = if stored.metering != now && stored.metering.is_none_or(|m| !m.is_valid()) {
			since = true;
			stored.metering
		} else {
			now
		};
		// The slot's history was closed when it was first settled: it is what the pallet read.
		let baseline = derive::BaselineInput::of(
			r.baselines.get(&award.pod),
			award.slot,
			r.delivery_start_ms,
			r.slot_ms,
			|day| r.history.get(&(award.pod, award.slot, day)).copied(),
		);
		metered_since += u32::from(since);
		let inputs = derive::Inputs {
			slot_ms: r.slot_ms,
			mechanism: r.mechanisms.get(&award.offer).cloned(),
			baseline,
			metering,
			customer: stored.customer.clone(),
			default_terms,
			max_tolerance,
		};
		// A contract is run again where the auditor can; otherwise its stored answer stands
		// if it passes the check. A stored failure must have settled on the default terms.
		let failed = stored.basis == Basis::MechanismFailed;
		let stored_answer = (!failed).then_some(stored.split);
		let mut ran = false;
		let (mut expected, called) = derive::record(
			(*award).clone(),
			inputs,
			|contract, input, gas| match rerun(contract, input, gas) {
				Rerun::Ran(answer) => {
					ran = true;
					if failed {
						None
					} else {
						answer
					}
				}
				Rerun::NotRun => stored_answer,
			},
		);
		match (called, ran) {
			(true, true) => contracts_rerun += 1,
			(true, false) => contract_answers += 1,
			_ => {}
		}
		if stored.basis == Basis::Resolved {
			// Governance's split stands if it passes the check, on the recomputed inputs.
			expected.split = stored.split;
			expected.basis = Basis::Resolved;
		}
		if expected != *stored {
			find(
				Finding::Outcome,
				alloc::format!("{at:?}: stored {stored:?}, recomputed {expected:?}"),
			);
		}
	}
	report.contract_answers = contract_answers;
	report.contracts_rerun = contracts_rerun;
	report.metered_since = metered_since;
	report.settled = r.outcomes.len() as u32;
	report.final_outcomes = leaves.len() as u32;
	let hashes: Vec<Hash> = leaves.values().copied().collect();
	if leaves.keys().copied().ne(0..leaves.len() as u32) {
		find(
			Finding::Tally,
			"final outcomes are not numbered 0, 1, …".into(),
		);
	}
	let root = merkle::root::<RuntimeHasher>(&hashes);
	report.root = (!hashes.is_empty()).then_some(root);
	match &r.tally {
		Some(t) => {
			if t.settled != report.settled || t.fixed != report.final_outcomes {
				find(
					Finding::Tally,
					alloc::format!(
						"tally says {} settled, {} final; found {}, {}",
						t.settled,
						t.fixed,
						report.settled,
						report.final_outcomes
					),
				);
			}
			if merkle::root_of_peaks::<RuntimeHasher>(&t.peaks) != root {
				find(
					Finding::Tally,
					"the tally's peaks are not the final outcomes' root".into(),
				);
			}
			let complete = t.fixed >= t.awards && t.awards > 0;
			match (&r.anchor, complete) {
				(Some((digest, count, by)), true) => {
					if *digest != root || *count != u64::from(report.final_outcomes) || by != pallet
					{
						find(
							Finding::Anchor,
							alloc::format!("anchored {digest:?} over {count} by {by:?}"),
						);
					}
				}
				(None, true) => find(
					Finding::Anchor,
					"every award is final, nothing anchored".into(),
				),
				(Some(_), false) => find(
					Finding::Anchor,
					"anchored before every award was final".into(),
				),
				(None, false) => {}
			}
		}
		None if !r.outcomes.is_empty() => find(Finding::Tally, "outcomes without a tally".into()),
		None => {}
	}
	report
}
