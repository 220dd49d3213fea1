//! A session's clearing input, awards and digests as pure functions of its records. The block
//! hook derives them from storage, and `platone audit market` from the same records read off
//! the chain under a state proof, so that the two cannot drift apart (FR-MP-BC-02).

use crate::types::*;
use alloc::{collections::BTreeMap, vec::Vec};
use codec::Encode;
use pallet_certification::RuntimeHasher;
use platone_primitives::{
	merkle::{self, Hasher},
	Hash,
};

/// An item's power in `slot`, if it has one there.
pub fn quantity_at(q: &[(Slot, Power)], slot: Slot) -> Option<Power> {
	q.iter().find(|(s, _)| *s == slot).map(|&(_, p)| p)
}

/// The clearing input of one step, as `platone-clearing` takes it, from a session's sealed
/// areas, requests and offers (in any order), and the validator of each offer in it.
pub fn step_input<'a, A, Q>(
	pricing: Pricing,
	areas: &[(AreaId, Option<AreaId>)],
	requests: impl IntoIterator<Item = (ItemId, &'a Request<A, Q>)>,
	offers: impl IntoIterator<Item = (ItemId, &'a Offer<A, Q>)>,
	step: StepIndex,
) -> (platone_clearing::Market, BTreeMap<ItemId, A>)
where
	A: Clone + 'a,
	Q: AsRef<[(Slot, Power)]> + 'a,
{
	let (slot, direction) = slot_of(step);
	let mut input = Vec::new();
	for (id, r) in requests {
		if r.input.direction == direction {
			if let Some(watts) = quantity_at(r.input.quantities.as_ref(), slot) {
				input.push(SealedItem::of_request(id, r).clearing_input(slot, direction, watts));
			}
		}
	}
	for (id, o) in offers {
		if o.input.direction == direction {
			if let Some(watts) = quantity_at(o.input.quantities.as_ref(), slot) {
				input.push(SealedItem::of_offer(id, o).clearing_input(slot, direction, watts));
			}
		}
	}
	market_of(pricing, areas, input)
}

/// One step's clearing input from its items (in any order), and the validator of each offer.
pub fn market_of<A>(
	pricing: Pricing,
	areas: &[(AreaId, Option<AreaId>)],
	items: impl IntoIterator<Item = ClearingInput<A>>,
) -> (platone_clearing::Market, BTreeMap<ItemId, A>) {
	let mut requests = Vec::new();
	let mut offers = Vec::new();
	let mut validators = BTreeMap::new();
	for item in items {
		match item {
			ClearingInput::Request(request) => requests.push(request),
			ClearingInput::Offer(offer, validator) => {
				validators.insert(offer.id, validator);
				offers.push(offer);
			}
		}
	}
	// The crate's order: by id.
	requests.sort_by_key(|r: &platone_clearing::Request| r.id);
	offers.sort_by_key(|o: &platone_clearing::Offer| o.id);
	let market = platone_clearing::Market {
		pricing,
		areas: areas
			.iter()
			.map(|&(id, parent)| platone_clearing::Area { id, parent })
			.collect(),
		requests,
		offers,
	};
	(market, validators)
}

/// A step's award records: each award of the clearing with its offer's validator.
pub fn award_records<A: Clone>(
	awards: Vec<Award>,
	validators: &BTreeMap<ItemId, A>,
) -> Vec<AwardRecord<A>> {
	awards
		.into_iter()
		.filter_map(|award| {
			let validator = validators.get(&award.offer)?.clone();
			Some(AwardRecord { award, validator })
		})
		.collect()
}

/// The Merkle root over SCALE-encoded leaves, as the certification pallet's anchors use it.
pub fn root_of<E: Encode>(leaves: &[E]) -> Hash {
	let hashes: Vec<Hash> = leaves.iter().map(leaf_hash).collect();
	merkle::root::<RuntimeHasher>(&hashes)
}

/// One SCALE-encoded leaf's hash in such a tree: gate closure keeps these per sealed chunk and
/// takes the root over them at its last step.
pub fn leaf_hash<E: Encode>(leaf: &E) -> Hash {
	RuntimeHasher::leaf(&leaf.encode())
}

/// The input tree's leaves: areas by id, then requests, then offers, each by id. `areas` come
/// sorted from the snapshot; the items are sorted here.
pub fn input_leaves<A, Q>(
	areas: &[(AreaId, Option<AreaId>)],
	mut requests: Vec<(ItemId, Request<A, Q>)>,
	mut offers: Vec<(ItemId, Offer<A, Q>)>,
) -> Vec<InputLeaf<A, Q>> {
	requests.sort_by_key(|(id, _)| *id);
	offers.sort_by_key(|(id, _)| *id);
	areas
		.iter()
		.map(|&(id, parent)| InputLeaf::Area { id, parent })
		.chain(
			requests
				.into_iter()
				.map(|(id, request)| InputLeaf::Request { id, request }),
		)
		.chain(
			offers
				.into_iter()
				.map(|(id, offer)| InputLeaf::Offer { id, offer }),
		)
		.collect()
}

/// One award's final result: its answer, or `default` when none came.
pub fn result_leaf(
	award: AwardRef,
	awarded: Power,
	answer: Option<Light>,
	default: Light,
) -> ResultLeaf {
	let light = answer.unwrap_or(default);
	ResultLeaf {
		award,
		light,
		defaulted: answer.is_none(),
		quantity: light.apply(awarded),
	}
}

/// A step's leaf in the session's outcome tree or, with `validation`, its validation tree.
pub fn step_leaf(step: StepIndex, digest: &StepDigest, validation: bool) -> StepLeaf {
	let root = if validation {
		digest
			.validation_root
			.unwrap_or_else(|| RuntimeHasher::hash(&[]))
	} else {
		digest.outcome_root
	};
	StepLeaf {
		step,
		awards: digest.awards,
		root,
	}
}

/// Every award of a step's `records` as settlement sees it, in award order (`None` where its
/// offer or request is gone): the validated quantity (its answer, or `default`), and the
/// validated power of the step's earlier awards for the same PoD ([`pod_shares`]). `offer`
/// looks up an offer's owner and PoD, `request_owner` a request's owner, `answer` an award's
/// answer. `platone audit settlement` reads these from a storage proof; the market keeps the
/// shares when the step closes and reads one award at a time (`final_award`).
pub fn settled_awards<A: Clone>(
	step: StepIndex,
	records: &[AwardRecord<A>],
	mut offer: impl FnMut(ItemId) -> Option<(A, PodId)>,
	mut request_owner: impl FnMut(ItemId) -> Option<A>,
	answer: impl Fn(AwardRef) -> Option<Light>,
	default: Light,
) -> Vec<Option<SettledAward<A>>> {
	let validated: Vec<Power> = records
		.iter()
		.enumerate()
		.map(|(index, r)| {
			answer(AwardRef {
				step,
				index: index as u32,
			})
			.unwrap_or(default)
			.apply(r.award.quantity)
		})
		.collect();
	let mut offers: BTreeMap<ItemId, Option<(A, PodId)>> = BTreeMap::new();
	let shares = pod_shares(records, &validated, |id| {
		offers
			.entry(id)
			.or_insert_with(|| offer(id))
			.as_ref()
			.map(|(_, pod)| *pod)
	});
	records
		.iter()
		.zip(validated)
		.zip(shares)
		.map(|((r, quantity), share)| {
			let (aggregator, _) = offers.get(&r.award.offer)?.clone()?;
			let requester = request_owner(r.award.request)?;
			Some(settled(r, aggregator, requester, quantity, share))
		})
		.collect()
}

/// A settled award from its record, its parties, its validated quantity and its PoD share.
pub fn settled<A: Clone>(
	record: &AwardRecord<A>,
	aggregator: A,
	requester: A,
	quantity: Power,
	share: PodShare,
) -> SettledAward<A> {
	SettledAward {
		requester,
		aggregator,
		validator: record.validator.clone(),
		offer: record.award.offer,
		pod: share.pod,
		slot: record.award.slot,
		direction: record.award.direction,
		quantity,
		price: record.award.price,
		pod_before: share.before,
	}
}

/// Each award's [`PodShare`], in award order, from the step's records and their validated
/// quantities; `pod_of` looks up an offer's PoD (once per offer).
pub fn pod_shares<A>(
	records: &[AwardRecord<A>],
	validated: &[Power],
	mut pod_of: impl FnMut(ItemId) -> Option<PodId>,
) -> Vec<PodShare> {
	let mut shares = PodShares::default();
	records
		.iter()
		.zip(validated)
		.map(|(r, &quantity)| shares.next(r.award.offer, quantity, &mut pod_of))
		.collect()
}

/// A step's PoD shares, award by award in award order: each award's share is the validated
/// power of the step's earlier awards for its PoD. Resumable from the power so far, so that
/// validation closing over several blocks gives what [`pod_shares`] gives at once.
#[derive(Default)]
pub struct PodShares {
	pods: BTreeMap<ItemId, PodId>,
	delivered: BTreeMap<PodId, Power>,
}

impl PodShares {
	/// Resumes after earlier awards, from each PoD's validated power so far.
	pub fn resume(delivered: impl IntoIterator<Item = (PodId, Power)>) -> Self {
		PodShares {
			pods: BTreeMap::new(),
			delivered: delivered.into_iter().collect(),
		}
	}

	/// The share of the next award, of `offer` with `quantity` validated; `pod_of` is asked
	/// once per offer (an unknown offer counts as `PodId::MAX`).
	pub fn next(
		&mut self,
		offer: ItemId,
		quantity: Power,
		pod_of: impl FnOnce(ItemId) -> Option<PodId>,
	) -> PodShare {
		let pod = *self
			.pods
			.entry(offer)
			.or_insert_with(|| pod_of(offer).unwrap_or(PodId::MAX));
		let so_far = self.delivered.entry(pod).or_default();
		let share = PodShare {
			pod,
			before: *so_far,
		};
		*so_far = so_far.saturating_add(quantity);
		share
	}

	/// Each PoD's validated power so far, by PoD.
	pub fn delivered(self) -> impl Iterator<Item = (PodId, Power)> {
		self.delivered.into_iter()
	}
}
