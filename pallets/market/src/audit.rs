//! Re-checking a session from its records (FR-MP-BC-02; `platone audit market`). The auditor
//! reads a session's records from finalized state under a storage proof, and this module
//! recomputes, with the same [`crate::derive`] functions and `platone-clearing` the hook uses,
//! the sealed input root, every step's awards and roots, the outcome and validation roots,
//! and compares each with what the chain holds and with what the market pallet anchored.

use crate::{derive, types::*};
use alloc::{collections::BTreeMap, format, string::String, vec::Vec};
use codec::Encode;
use platone_primitives::{AnchorKind, Hash};

/// What the chain holds for one session.
#[derive(Clone, Debug)]
pub struct Records<A, Q> {
	pub info: SessionInfo,
	pub areas: Vec<(AreaId, Option<AreaId>)>,
	pub requests: Vec<(ItemId, Request<A, Q>)>,
	pub offers: Vec<(ItemId, Offer<A, Q>)>,
	/// Per step, from 0 to `info.steps()`: its digest, if any, and its stored awards.
	pub steps: Vec<(Option<StepDigest>, Vec<AwardRecord<A>>)>,
	pub answers: BTreeMap<AwardRef, Light>,
	/// The anchors stored for the session's subject: kind, digest, leaf count, submitter.
	pub anchors: Vec<(AnchorKind, Hash, u64, A)>,
}

/// What the audit found wrong, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Finding {
	/// The session's counts disagree with its records.
	Count,
	/// The sealed input does not hash to the session's input root.
	Input,
	/// A step's stored awards differ from the recomputed clearing.
	Award,
	/// A step's digest disagrees with its awards or its clearing method.
	Step,
	/// The session's outcome root disagrees with its steps.
	Outcome,
	/// A validation root disagrees with the awards and answers.
	Validation,
	/// An anchor is missing, differs from the session's root, or was not the market's own.
	Anchor,
}

impl Finding {
	pub fn as_str(self) -> &'static str {
		match self {
			Finding::Count => "count",
			Finding::Input => "input",
			Finding::Award => "award",
			Finding::Step => "step",
			Finding::Outcome => "outcome",
			Finding::Validation => "validation",
			Finding::Anchor => "anchor",
		}
	}
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
	pub finding: Finding,
	/// The step concerned, if one.
	pub step: Option<StepIndex>,
	pub detail: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
	/// Steps whose clearing was recomputed.
	pub steps_cleared: u32,
	/// Steps whose validation root was recomputed.
	pub steps_validated: u32,
	pub awards: u32,
	pub differences: Vec<Difference>,
	/// Phase-dependent checks not yet possible (the session is not that far).
	pub pending: Vec<&'static str>,
}

impl Report {
	pub fn is_clean(&self) -> bool {
		self.differences.is_empty()
	}

	fn differ(&mut self, finding: Finding, step: Option<StepIndex>, detail: String) {
		self.differences.push(Difference {
			finding,
			step,
			detail,
		});
	}

	/// A root recomputed from the records (`what` it covers) against the one the chain records.
	fn root(
		&mut self,
		finding: Finding,
		step: Option<StepIndex>,
		what: &str,
		computed: Hash,
		recorded: Option<Hash>,
	) {
		if recorded != Some(computed) {
			self.differ(
				finding,
				step,
				format!(
					"{what} hash to {}, the chain records {}",
					hex(&computed),
					recorded.map_or("none".into(), |h| hex(&h))
				),
			);
		}
	}
}

/// Audits `r`: `default` is the runtime's `DefaultLight`, `market` the market pallet's account.
pub fn audit<A, Q>(r: &Records<A, Q>, default: Light, market: &A) -> Report
where
	A: Clone + Eq + Encode + core::fmt::Debug,
	Q: AsRef<[(Slot, Power)]> + Clone + Encode,
{
	let mut report = Report::default();
	let info = &r.info;
	let steps = info.steps();
	// How far the session is: steps cleared, and steps whose validation closed.
	let (cleared, validated) = match info.phase {
		Phase::Open | Phase::Sealing { .. } => (None, 0),
		Phase::GateClosed { next } => (Some(next), 0),
		Phase::Cleared { .. } => (Some(steps), 0),
		Phase::Closing { next } => (Some(steps), next),
		Phase::Validated | Phase::Final => (Some(steps), steps),
		Phase::Pruning => {
			report.differ(
				Finding::Count,
				None,
				"the session is being pruned: its records are incomplete".into(),
			);
			return report;
		}
	};
	let Some(cleared) = cleared else {
		report
			.pending
			.push("the gate has not closed: nothing is sealed yet");
		return report;
	};
	if r.requests.len() as u32 != info.requests || r.offers.len() as u32 != info.offers {
		report.differ(
			Finding::Count,
			None,
			format!(
				"the session counts {} requests and {} offers, its records hold {} and {}",
				info.requests,
				info.offers,
				r.requests.len(),
				r.offers.len()
			),
		);
	}
	if r.steps.len() != usize::from(steps) {
		report.differ(
			Finding::Count,
			None,
			format!("{} steps read for a session of {steps}", r.steps.len()),
		);
		return report;
	}

	// The sealed input.
	let leaves = derive::input_leaves(&r.areas, r.requests.clone(), r.offers.clone());
	report.root(
		Finding::Input,
		None,
		"the sealed areas, requests and offers",
		derive::root_of(&leaves),
		info.input_root,
	);
	check_anchor(
		&mut report,
		r,
		AnchorKind::ClearingInputs,
		info.input_root,
		leaves.len() as u64,
		market,
	);

	// Each cleared step, recomputed.
	for step in 0..cleared {
		let (digest, stored) = &r.steps[usize::from(step)];
		let (input, validators) = derive::step_input(
			info.pricing,
			&r.areas,
			r.requests.iter().map(|(id, q)| (*id, q)),
			r.offers.iter().map(|(id, o)| (*id, o)),
			step,
		);
		let (expected, method) =
			match platone_clearing::clear_with(&input, usize::from(info.exact_limit)) {
				Ok(outcome) => (
					derive::award_records(outcome.awards, &validators),
					outcome.objectives.first().map(|o| o.method),
				),
				Err(e) => {
					report.differ(
						Finding::Award,
						Some(step),
						format!("the step's input does not clear: {e}"),
					);
					(Vec::new(), None)
				}
			};
		report.steps_cleared += 1;
		report.awards = report.awards.saturating_add(stored.len() as u32);
		if expected != *stored {
			let at = expected
				.iter()
				.zip(stored.iter())
				.position(|(a, b)| a != b)
				.unwrap_or(expected.len().min(stored.len()));
			report.differ(
				Finding::Award,
				Some(step),
				format!(
					"{} awards recomputed, {} stored; first difference at index {at}: \
					 recomputed {:?}, stored {:?}",
					expected.len(),
					stored.len(),
					expected.get(at).map(|a| &a.award),
					stored.get(at).map(|a| &a.award)
				),
			);
		}
		match digest {
			None => report.differ(Finding::Step, Some(step), "no step digest".into()),
			Some(d) => {
				if d.awards as usize != stored.len() {
					report.differ(
						Finding::Step,
						Some(step),
						format!(
							"the digest counts {} awards, {} are stored",
							d.awards,
							stored.len()
						),
					);
				}
				report.root(
					Finding::Step,
					Some(step),
					"the stored awards",
					derive::root_of(stored),
					Some(d.outcome_root),
				);
				if d.method != method {
					report.differ(
						Finding::Step,
						Some(step),
						format!("method {:?} recorded, {method:?} recomputed", d.method),
					);
				}
			}
		}
	}
	if cleared < steps {
		report.pending.push("clearing is still in progress");
		return report;
	}

	// The outcome.
	let digests: Vec<StepDigest> = r.steps.iter().map(|(d, _)| d.unwrap_or_default()).collect();
	let step_root = |validation: bool| {
		let leaves: Vec<StepLeaf> = digests
			.iter()
			.enumerate()
			.map(|(i, d)| derive::step_leaf(i as StepIndex, d, validation))
			.collect();
		derive::root_of(&leaves)
	};
	report.root(
		Finding::Outcome,
		None,
		"the steps' outcome roots",
		step_root(false),
		info.outcome_root,
	);
	check_anchor(
		&mut report,
		r,
		AnchorKind::MarketOutcome,
		info.outcome_root,
		steps.into(),
		market,
	);
	let awards: usize = r.steps.iter().map(|(_, a)| a.len()).sum();
	if awards as u32 != info.awards {
		report.differ(
			Finding::Count,
			None,
			format!(
				"the session counts {} awards, its steps hold {awards}",
				info.awards
			),
		);
	}

	// Validation: each closed step's final results, from the awards and the answers.
	let mut defaulted = 0u32;
	for step in 0..validated {
		let (digest, stored) = &r.steps[usize::from(step)];
		let results: Vec<ResultLeaf> = stored
			.iter()
			.enumerate()
			.map(|(index, record)| {
				let award = AwardRef {
					step,
					index: index as u32,
				};
				derive::result_leaf(
					award,
					record.award.quantity,
					r.answers.get(&award).copied(),
					default,
				)
			})
			.collect();
		defaulted += results.iter().filter(|l| l.defaulted).count() as u32;
		report.root(
			Finding::Validation,
			Some(step),
			"the awards with their answers",
			derive::root_of(&results),
			digest.and_then(|d| d.validation_root),
		);
		report.steps_validated += 1;
	}
	if validated < steps {
		report.pending.push("validation is still open");
		return report;
	}
	if defaulted != info.defaulted {
		report.differ(
			Finding::Validation,
			None,
			format!(
				"the session counts {} defaulted awards, {defaulted} had no answer",
				info.defaulted
			),
		);
	}
	report.root(
		Finding::Validation,
		None,
		"the steps' validation roots",
		step_root(true),
		info.validation_root,
	);
	check_anchor(
		&mut report,
		r,
		AnchorKind::TechnicalValidation,
		info.validation_root,
		steps.into(),
		market,
	);
	report
}

/// The anchor of `kind` must hold the session's `root` over `leaves`, in the market's name.
fn check_anchor<A, Q>(
	report: &mut Report,
	r: &Records<A, Q>,
	kind: AnchorKind,
	root: Option<Hash>,
	leaves: u64,
	market: &A,
) where
	A: Eq + core::fmt::Debug,
{
	let anchor = r.anchors.iter().find(|a| a.0 == kind);
	// Empty trees are not anchored (the certification pallet refuses them): a session without
	// any item has no `ClearingInputs` anchor.
	let root = root.filter(|_| leaves > 0);
	let problem = match (root, anchor) {
		(None, None) => None,
		(None, Some(_)) => Some(format!(
			"{kind:?} is anchored but the session has no such root"
		)),
		(Some(_), None) => Some(format!("{kind:?} is not anchored")),
		(Some(root), Some((_, digest, count, by))) => {
			if *digest != root || *count != leaves {
				Some(format!(
					"{kind:?} anchors {} over {count} leaves, the session's is {} over {leaves}",
					hex(digest),
					hex(&root)
				))
			} else if by != market {
				Some(format!(
					"{kind:?} was anchored by {by:?}, not the market pallet"
				))
			} else {
				None
			}
		}
	};
	if let Some(detail) = problem {
		report.differ(Finding::Anchor, None, detail);
	}
}

fn hex(h: &Hash) -> String {
	let mut s = String::with_capacity(66);
	s.push_str("0x");
	for b in h {
		s.push_str(&format!("{b:02x}"));
	}
	s
}
