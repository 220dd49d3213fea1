//! Locational clearing of the Platone flexibility market (issue #13; FR-MP-MOMV-01), shared by
//! the market pallet, `platone market clear` and `platone audit market`.
//!
//! # Units
//! - Power: [`Power`], watts. A request or an offer states, per market time unit (slot), the
//!   power it asks for or offers, held for the whole slot.
//! - Price: [`Price`], the settlement token's smallest unit per MWh.
//!
//! # The problem
//! Each slot and direction (up or down) is cleared on its own. Variables: `x(o, r) ≥ 0`, the
//! power of offer `o` awarded to request `r`, defined only where `r`'s area contains `o`'s PoD
//! in the registry's area hierarchy (locational) and `price(o) ≤ max_price(r)`. Constraints:
//! `Σ_r x(o, r) ≤ quantity(o)` and `Σ_o x(o, r) ≤ quantity(r)`; an item with a minimum takes
//! either nothing or at least its minimum. The objective is lexicographic:
//! 1. most power to DSO requests,
//! 2. then most power to TSO requests: the seed's "pre-defined rules of dispatching priorities"
//!    (DSO needs are local and have no other resource; a TSO can also balance elsewhere),
//! 3. then least cost, `Σ price(o) · x(o, r)`.
//!
//! Written as a min-cost flow (source → offer → request → sink) with the cost vector
//! `[forced, dso, tso, money]` per watt: `dso = −1` on a DSO request's edge to the sink,
//! `tso = −1` on a TSO one's, `money = price` on the offer's edge. The solver is exact in
//! integers: successive shortest paths on an aggregated graph where offers feed their areas'
//! price ladders instead of every compatible request (module `ladder`; since only the
//! source's and sink's edges cost anything, each shortest path is found by graph search).
//! [`Solver::Bipartite`] keeps the first formulation ([`flow`]) for the tests. Minima
//! (`min_quantity > 0`) make it a MIP: with at most [`EXACT_LIMIT`] such items in a slot, every on/off choice is solved (a "forced" part of
//! each chosen item, at `forced = −1`, must fill) and the best kept: [`Method::Exact`].
//! Beyond that, [`Method::Rule`]: solve without minima, then drop, one at a time, the item
//! least in merit that got less than its minimum (offers: highest price, then highest id;
//! requests: TSO before DSO, then highest id) and solve again, until none does.
//!
//! # Ties
//! Among awards of equal objective the result is the one the reference algorithm gives, which
//! depends only on the input's content, not its order: offers are numbered by (price, id) and
//! requests by (DSO first, id); offers augment in that order, each along the first path a
//! depth-first search finds in a fixed arc order; awards pair offers and requests per price
//! ladder, cheapest offer first (module `ladder`, "Ties"); and the exact search keeps the
//! first best choice in counting order. Auditors recompute with this crate, so two honest
//! parties agree award by award.
//!
//! # Pricing
//! [`Pricing::PayAsBid`]: each award at its offer's price. [`Pricing::Uniform`]: per request
//! area, slot and direction, every award at the highest awarded offer price there, but never
//! above the request's own maximum price.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod flow;
mod ladder;

use alloc::{collections::BTreeMap, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Watts.
pub type Power = u32;
/// Settlement token's smallest unit per MWh.
pub type Price = u64;
/// An area of the registry's hierarchy.
pub type AreaId = u32;
/// A market time unit of the session, from 0.
pub type Slot = u16;

/// Most items with a minimum per slot and direction that are searched exhaustively
/// (2^EXACT_LIMIT flow solves); beyond it the documented rule applies.
pub const EXACT_LIMIT: usize = 10;

/// Work units one flow solve may spend per item (offer or request) that takes part: the
/// aggregated graph's arcs, then every arc a search scans and every offer a phase passes. The
/// heaviest synthetic sessions measured spend under 200 (docs/benchmarks.md); the rest is
/// headroom. Outside the count: reading the awards off the ladders, and the repair after a
/// solve that ran out, both about linear in the awards.
pub const WORK_PER_ITEM: u64 = 512;

/// The work one slot and direction may spend, counted alike on every machine: a solve's worth
/// per item for each of the up to `2^exact_limit` solves of the exact search (the rule gets
/// as much). Past it the result is [`Method::Budget`]. The market pallet's step weight is
/// proportional to this, so that a step's time is bounded at every size.
pub fn work_limit(items: u64, exact_limit: usize) -> u64 {
	work_limit_at(WORK_PER_ITEM, items, exact_limit)
}

fn work_limit_at(per_item: u64, items: u64, exact_limit: usize) -> u64 {
	per_item
		.saturating_mul(items.max(1))
		.saturating_mul(1u64 << exact_limit.min(32))
}

#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Direction {
	/// More generation or less consumption.
	Up,
	/// Less generation or more consumption.
	Down,
}

/// Who asks: a DSO's requests are served before a TSO's.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Requester {
	Dso,
	Tso,
}

#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum Pricing {
	PayAsBid,
	Uniform,
}

/// One area and its parent (`None` for a root).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Area {
	pub id: AreaId,
	pub parent: Option<AreaId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Request {
	pub id: u32,
	pub requester: Requester,
	pub area: AreaId,
	pub direction: Direction,
	pub max_price: Price,
	/// Per slot: 0 (divisible), or the least power worth taking in a slot.
	pub min_quantity: Power,
	/// `(slot, power)`, each slot at most once.
	pub quantities: Vec<(Slot, Power)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Offer {
	pub id: u32,
	/// The area of the offer's PoD, from the session's registry snapshot.
	pub area: AreaId,
	pub direction: Direction,
	pub price: Price,
	/// Per slot: 0 (divisible), or the least power the offer accepts in a slot.
	pub min_quantity: Power,
	pub quantities: Vec<(Slot, Power)>,
}

/// A session's clearing input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Market {
	pub pricing: Pricing,
	pub areas: Vec<Area>,
	pub requests: Vec<Request>,
	pub offers: Vec<Offer>,
}

#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Award {
	pub slot: Slot,
	pub direction: Direction,
	pub request: u32,
	pub offer: u32,
	pub quantity: Power,
	/// What the requester pays per MWh for this award.
	pub price: Price,
}

/// How a slot and direction was solved.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Method {
	/// Optimal for the objective (every on/off choice of the minima searched).
	Exact,
	/// More minima than [`EXACT_LIMIT`]: feasible, by the documented rule, maybe not optimal.
	Rule,
	/// The solve ran out of its deterministic work budget ([`work_limit`]): the best feasible
	/// awards found by then, with any item short of its minimum dropped. Feasible, maybe not
	/// optimal; the same on every machine.
	Budget,
}

/// The objective reached in one slot and direction.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Objective {
	pub slot: Slot,
	pub direction: Direction,
	pub dso_volume: u64,
	pub tso_volume: u64,
	/// `Σ price · power` over the awards, in token units per MWh times watts.
	pub cost: u128,
	pub method: Method,
}

impl Objective {
	/// Greater is better: the lexicographic objective as one comparable key.
	pub fn key(&self) -> Key {
		(
			self.dso_volume,
			self.tso_volume,
			core::cmp::Reverse(self.cost),
		)
	}
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Outcome {
	/// Sorted by (slot, direction, request, offer).
	pub awards: Vec<Award>,
	/// One per slot and direction that has a request and an offer, sorted.
	pub objectives: Vec<Objective>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
	#[error("area {0} is listed twice")]
	DuplicateArea(AreaId),
	#[error("area {0} is not in the hierarchy")]
	UnknownArea(AreaId),
	#[error("the area hierarchy has a cycle through area {0}")]
	AreaCycle(AreaId),
	#[error("request {0} is listed twice")]
	DuplicateRequest(u32),
	#[error("offer {0} is listed twice")]
	DuplicateOffer(u32),
	#[error("slot {slot} appears twice in {what} {id}")]
	DuplicateSlot {
		what: &'static str,
		id: u32,
		slot: Slot,
	},
	#[error("{what} {id} has a minimum above its quantity in slot {slot}")]
	MinimumAboveQuantity {
		what: &'static str,
		id: u32,
		slot: Slot,
	},
	#[error("award of {quantity} W from offer {offer} to request {request} in slot {slot} is not allowed: {reason}")]
	BadAward {
		request: u32,
		offer: u32,
		slot: Slot,
		quantity: Power,
		reason: &'static str,
	},
}

/// The area hierarchy, checked: every parent known, no cycle.
pub struct Areas {
	parent: BTreeMap<AreaId, Option<AreaId>>,
}

impl Areas {
	pub fn new(areas: &[Area]) -> Result<Self, Error> {
		let mut parent = BTreeMap::new();
		for a in areas {
			if parent.insert(a.id, a.parent).is_some() {
				return Err(Error::DuplicateArea(a.id));
			}
		}
		for (&id, p) in &parent {
			if let Some(p) = p {
				if !parent.contains_key(p) {
					return Err(Error::UnknownArea(*p));
				}
			}
			// A chain longer than the number of areas revisits one.
			let mut at = Some(id);
			for _ in 0..=parent.len() {
				match at {
					None => break,
					Some(a) => at = parent[&a],
				}
			}
			if at.is_some() {
				return Err(Error::AreaCycle(id));
			}
		}
		Ok(Self { parent })
	}

	pub(crate) fn parent_of(&self, area: AreaId) -> Option<AreaId> {
		self.parent.get(&area).copied().flatten()
	}

	pub fn knows(&self, area: AreaId) -> bool {
		self.parent.contains_key(&area)
	}

	/// Whether `outer` is `inner` or one of its ancestors.
	pub fn contains(&self, outer: AreaId, inner: AreaId) -> bool {
		let mut at = Some(inner);
		while let Some(a) = at {
			if a == outer {
				return true;
			}
			at = self.parent.get(&a).copied().flatten();
		}
		false
	}
}

/// Checks the input: known areas, unique ids and slots, minima within quantities.
pub fn validate(market: &Market) -> Result<Areas, Error> {
	let areas = Areas::new(&market.areas)?;
	let mut seen = alloc::collections::BTreeSet::new();
	for r in &market.requests {
		if !seen.insert(r.id) {
			return Err(Error::DuplicateRequest(r.id));
		}
		if !areas.knows(r.area) {
			return Err(Error::UnknownArea(r.area));
		}
		check_slots("request", r.id, r.min_quantity, &r.quantities)?;
	}
	seen.clear();
	for o in &market.offers {
		if !seen.insert(o.id) {
			return Err(Error::DuplicateOffer(o.id));
		}
		if !areas.knows(o.area) {
			return Err(Error::UnknownArea(o.area));
		}
		check_slots("offer", o.id, o.min_quantity, &o.quantities)?;
	}
	Ok(areas)
}

fn check_slots(what: &'static str, id: u32, min: Power, q: &[(Slot, Power)]) -> Result<(), Error> {
	let mut slots = alloc::collections::BTreeSet::new();
	for &(slot, power) in q {
		if !slots.insert(slot) {
			return Err(Error::DuplicateSlot { what, id, slot });
		}
		if power > 0 && min > power {
			return Err(Error::MinimumAboveQuantity { what, id, slot });
		}
	}
	Ok(())
}

/// One slot and direction: the items that take part, in canonical order.
struct Sub<'a> {
	slot: Slot,
	direction: Direction,
	// (request, power), by (requester, id).
	requests: Vec<(&'a Request, Power)>,
	// (offer, power), by (price, id).
	offers: Vec<(&'a Offer, Power)>,
}

/// Clears `market`: the awards and, per slot and direction, the objective reached.
pub fn clear(market: &Market) -> Result<Outcome, Error> {
	clear_with(market, EXACT_LIMIT)
}

/// [`clear`] with at most `exact_limit` items with a minimum per slot and direction searched
/// exhaustively: the market pallet bounds it so that one slot's solve fits in a block.
pub fn clear_with(market: &Market, exact_limit: usize) -> Result<Outcome, Error> {
	clear_by(market, exact_limit, Solver::Ladder)
}

/// Which exact min-cost flow solves each slot and direction. Both reach the same objective;
/// where several awards reach it, they may pick different ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solver {
	/// The aggregated graph of price ladders, searched (module `ladder`): what the market, the
	/// audit and `platone market clear` use.
	Ladder,
	/// The first formulation: one edge per compatible offer and request, Dijkstra per path.
	/// Cubic; kept as an independent exact solver that the property tests compare against.
	Bipartite,
}

/// [`clear_with`] by the given solver.
pub fn clear_by(market: &Market, exact_limit: usize, solver: Solver) -> Result<Outcome, Error> {
	clear_within(market, exact_limit, solver, WORK_PER_ITEM)
}

/// [`clear_by`] with `work_per_item` in place of [`WORK_PER_ITEM`]: for tests of
/// [`Method::Budget`].
#[doc(hidden)]
pub fn clear_within(
	market: &Market,
	exact_limit: usize,
	solver: Solver,
	work_per_item: u64,
) -> Result<Outcome, Error> {
	let areas = validate(market)?;
	let mut subs: BTreeMap<(Slot, Direction), Sub> = BTreeMap::new();
	for r in &market.requests {
		for &(slot, power) in r.quantities.iter().filter(|(_, p)| *p > 0) {
			subs.entry((slot, r.direction))
				.or_insert_with(|| Sub {
					slot,
					direction: r.direction,
					requests: Vec::new(),
					offers: Vec::new(),
				})
				.requests
				.push((r, power));
		}
	}
	for o in &market.offers {
		for &(slot, power) in o.quantities.iter().filter(|(_, p)| *p > 0) {
			if let Some(sub) = subs.get_mut(&(slot, o.direction)) {
				sub.offers.push((o, power));
			}
		}
	}
	let requests: BTreeMap<u32, &Request> = market.requests.iter().map(|r| (r.id, r)).collect();
	let mut outcome = Outcome::default();
	for sub in subs.values_mut() {
		if sub.offers.is_empty() {
			continue;
		}
		sub.requests.sort_by_key(|(r, _)| (r.requester, r.id));
		sub.offers.sort_by_key(|(o, _)| (o.price, o.id));
		let (flows, method) = solve(sub, &areas, exact_limit, solver, work_per_item);
		let (dso_volume, tso_volume, core::cmp::Reverse(cost)) = key_of(sub, &flows);
		outcome.objectives.push(Objective {
			slot: sub.slot,
			direction: sub.direction,
			dso_volume,
			tso_volume,
			cost,
			method,
		});
		let first = outcome.awards.len();
		outcome
			.awards
			.extend(flows.into_iter().map(|((ri, oi), q)| Award {
				slot: sub.slot,
				direction: sub.direction,
				request: sub.requests[ri].0.id,
				offer: sub.offers[oi].0.id,
				quantity: q,
				price: sub.offers[oi].0.price,
			}));
		if market.pricing == Pricing::Uniform {
			uniform_prices(&mut outcome.awards[first..], &requests);
		}
	}
	outcome.awards.sort();
	Ok(outcome)
}

/// Per request area (in this slot and direction): the highest awarded offer price, capped by
/// each request's own maximum.
fn uniform_prices(awards: &mut [Award], request: &BTreeMap<u32, &Request>) {
	let mut clearing: BTreeMap<AreaId, Price> = BTreeMap::new();
	for a in awards.iter() {
		let area = request[&a.request].area;
		let p = clearing.entry(area).or_insert(0);
		*p = (*p).max(a.price);
	}
	for a in awards.iter_mut() {
		let r = request[&a.request];
		a.price = clearing[&r.area].min(r.max_price);
	}
}

/// Which items of a sub-problem get an award, and how they take part in one solve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
	/// Divisible, or a minimum ignored (the rule's relaxation).
	Free,
	/// Taken: at least its minimum.
	Forced,
	/// Left out.
	Out,
}

/// `((request index, offer index), power)` in the sub-problem's canonical order.
type Flows = Vec<((usize, usize), Power)>;

fn solve(
	sub: &Sub,
	areas: &Areas,
	exact_limit: usize,
	solver: Solver,
	work_per_item: u64,
) -> (Flows, Method) {
	let items = (sub.requests.len() + sub.offers.len()) as u64;
	let mut work = work_limit_at(work_per_item, items, exact_limit);
	// (flows, whether the work ran out)
	let mut solve_once = |rparts: &[Part], oparts: &[Part]| match solver {
		Solver::Ladder => match solve_once(sub, areas, rparts, oparts, &mut work) {
			ladder::Solved::Complete(flows) => (flows.map(powers), false),
			ladder::Solved::Partial(flows) => (Some(repair(sub, powers(flows))), true),
		},
		Solver::Bipartite => (solve_once_bipartite(sub, areas, rparts, oparts), false),
	};
	// Items with a minimum: requests first, then offers, in canonical order.
	let blocky: Vec<(bool, usize)> = sub
		.requests
		.iter()
		.enumerate()
		.filter(|(_, (r, _))| r.min_quantity > 0)
		.map(|(i, _)| (true, i))
		.chain(
			sub.offers
				.iter()
				.enumerate()
				.filter(|(_, (o, _))| o.min_quantity > 0)
				.map(|(i, _)| (false, i)),
		)
		.collect();
	let mut rparts = alloc::vec![Part::Free; sub.requests.len()];
	let mut oparts = alloc::vec![Part::Free; sub.offers.len()];
	if blocky.len() <= exact_limit {
		let mut best: Option<(Key, Flows)> = None;
		for mask in 0u32..(1 << blocky.len()) {
			for (bit, &(is_request, i)) in blocky.iter().enumerate() {
				let part = if mask & (1 << bit) != 0 {
					Part::Forced
				} else {
					Part::Out
				};
				if is_request {
					rparts[i] = part;
				} else {
					oparts[i] = part;
				}
			}
			let (solved, out_of_work) = solve_once(&rparts, &oparts);
			if let Some(flows) = solved {
				let key = key_of(sub, &flows);
				if best.as_ref().is_none_or(|(b, _)| key > *b) {
					best = Some((key, flows));
				}
			}
			if out_of_work {
				return (best.map(|(_, f)| f).unwrap_or_default(), Method::Budget);
			}
		}
		(best.map(|(_, f)| f).unwrap_or_default(), Method::Exact)
	} else {
		// The last complete solve: its flows, repaired, are a candidate if the work runs out.
		let mut previous: Option<Flows> = None;
		loop {
			let (flows, out_of_work) = solve_once(&rparts, &oparts);
			let flows = flows.unwrap_or_default();
			if out_of_work {
				let best = match previous.map(|p| repair(sub, p)) {
					Some(p) if key_of(sub, &p) > key_of(sub, &flows) => p,
					_ => flows,
				};
				return (best, Method::Budget);
			}
			let (rgot, ogot) = received(sub, &flows);
			// Least merit first: TSO requests before DSO ones, then the highest id (the
			// canonical order is DSO first, by id: so the last short request); then offers,
			// highest price and id first (again the last in canonical order).
			let worst_request = (0..sub.requests.len())
				.filter(|&i| {
					rparts[i] == Part::Free && short(sub.requests[i].0.min_quantity, rgot[i])
				})
				.max_by_key(|&i| (sub.requests[i].0.requester, i));
			let worst_offer = (0..sub.offers.len())
				.rev()
				.find(|&i| oparts[i] == Part::Free && short(sub.offers[i].0.min_quantity, ogot[i]));
			match (worst_request, worst_offer) {
				(Some(i), _) => rparts[i] = Part::Out,
				(None, Some(i)) => oparts[i] = Part::Out,
				(None, None) => return (flows, Method::Rule),
			}
			previous = Some(flows);
		}
	}
}

/// (DSO volume, TSO volume, reversed cost): greater is better.
pub type Key = (u64, u64, core::cmp::Reverse<u128>);

/// The objective `flows` reach in `sub`.
fn key_of(sub: &Sub, flows: &Flows) -> Key {
	let (mut dso, mut tso, mut cost) = (0u64, 0u64, 0u128);
	for &((ri, oi), q) in flows {
		match sub.requests[ri].0.requester {
			Requester::Dso => dso += u64::from(q),
			Requester::Tso => tso += u64::from(q),
		}
		cost += u128::from(sub.offers[oi].0.price) * u128::from(q);
	}
	(dso, tso, core::cmp::Reverse(cost))
}

/// Power on an item's (forced, free) source or sink edge.
fn split(part: Part, min: Power, power: Power) -> (u64, u64) {
	match part {
		Part::Out => (0, 0),
		Part::Free => (0, u64::from(power)),
		Part::Forced => (u64::from(min), u64::from(power.saturating_sub(min))),
	}
}

fn powers(flows: ladder::PairFlows) -> Flows {
	// A pair carries at most its offer's power, a `Power`.
	flows
		.into_iter()
		.map(|(pair, q)| (pair, Power::try_from(q).unwrap_or(Power::MAX)))
		.collect()
}

/// What each request and each offer of `sub` receives in `flows`.
fn received(sub: &Sub, flows: &Flows) -> (Vec<u64>, Vec<u64>) {
	let mut rgot = alloc::vec![0u64; sub.requests.len()];
	let mut ogot = alloc::vec![0u64; sub.offers.len()];
	for &((ri, oi), q) in flows {
		rgot[ri] += u64::from(q);
		ogot[oi] += u64::from(q);
	}
	(rgot, ogot)
}

/// An item that got some power, but less than its minimum.
fn short(min: Power, got: u64) -> bool {
	got > 0 && got < u64::from(min)
}

/// Drops every pair of an item that got some power but less than its minimum, until none
/// does: what is left of a partial flow is feasible.
fn repair(sub: &Sub, mut flows: Flows) -> Flows {
	loop {
		let (rgot, ogot) = received(sub, &flows);
		let before = flows.len();
		flows.retain(|&((ri, oi), _)| {
			!short(sub.requests[ri].0.min_quantity, rgot[ri])
				&& !short(sub.offers[oi].0.min_quantity, ogot[oi])
		});
		if flows.len() == before {
			return flows;
		}
	}
}

/// One min-cost flow on the aggregated graph, within `work` ([`ladder::solve`]).
fn solve_once(
	sub: &Sub,
	areas: &Areas,
	rparts: &[Part],
	oparts: &[Part],
	work: &mut u64,
) -> ladder::Solved {
	let supply: Vec<ladder::Supply> = sub
		.offers
		.iter()
		.zip(oparts)
		.map(|((o, power), &part)| {
			let (forced, free) = split(part, o.min_quantity, *power);
			ladder::Supply {
				area: o.area,
				price: o.price,
				forced,
				free,
			}
		})
		.collect();
	let demand: Vec<ladder::Demand> = sub
		.requests
		.iter()
		.zip(rparts)
		.map(|((r, power), &part)| {
			let (forced, free) = split(part, r.min_quantity, *power);
			ladder::Demand {
				area: r.area,
				max_price: r.max_price,
				dso: r.requester == Requester::Dso,
				forced,
				free,
			}
		})
		.collect();
	ladder::solve(&supply, &demand, areas, work)
}

/// [`solve_once`] on the full bipartite graph ([`Solver::Bipartite`]).
fn solve_once_bipartite(
	sub: &Sub,
	areas: &Areas,
	rparts: &[Part],
	oparts: &[Part],
) -> Option<Flows> {
	let (n, m) = (sub.offers.len(), sub.requests.len());
	// Nodes: source 0, offers 1..=n, requests n+1..=n+m, sink n+m+1.
	let sink = n + m + 1;
	let mut net = flow::Network::new(n + m + 2);
	let mut forced_edges = Vec::new();
	for (i, (o, power)) in sub.offers.iter().enumerate() {
		let money = i128::from(o.price);
		match oparts[i] {
			Part::Out => {}
			Part::Free => {
				net.add_edge(0, 1 + i, u64::from(*power), [0, 0, 0, money]);
			}
			Part::Forced => {
				let min = u64::from(o.min_quantity);
				forced_edges.push((net.add_edge(0, 1 + i, min, [-1, 0, 0, money]), min));
				net.add_edge(0, 1 + i, u64::from(*power) - min, [0, 0, 0, money]);
			}
		}
	}
	let mut pairs = Vec::new();
	for (i, (o, power)) in sub.offers.iter().enumerate() {
		if oparts[i] == Part::Out {
			continue;
		}
		for (j, (r, _)) in sub.requests.iter().enumerate() {
			if rparts[j] != Part::Out && o.price <= r.max_price && areas.contains(r.area, o.area) {
				let e = net.add_edge(1 + i, 1 + n + j, u64::from(*power), flow::ZERO);
				pairs.push((e, j, i));
			}
		}
	}
	for (j, (r, power)) in sub.requests.iter().enumerate() {
		let value = match r.requester {
			Requester::Dso => [0, -1, 0, 0],
			Requester::Tso => [0, 0, -1, 0],
		};
		match rparts[j] {
			Part::Out => {}
			Part::Free => {
				net.add_edge(1 + n + j, sink, u64::from(*power), value);
			}
			Part::Forced => {
				let min = u64::from(r.min_quantity);
				let mut forced = value;
				forced[0] = -1;
				forced_edges.push((net.add_edge(1 + n + j, sink, min, forced), min));
				net.add_edge(1 + n + j, sink, u64::from(*power) - min, value);
			}
		}
	}
	net.min_cost_flow();
	if forced_edges.iter().any(|&(e, min)| net.flow(e) < min) {
		return None;
	}
	let mut flows: Flows = pairs
		.into_iter()
		.filter_map(|(e, j, i)| {
			let q = net.flow(e);
			// An edge carries at most its offer's power, a `Power`.
			(q > 0).then(|| ((j, i), Power::try_from(q).unwrap_or(Power::MAX)))
		})
		.collect();
	flows.sort();
	Some(flows)
}

/// Checks that `awards` are feasible for `market`: each pairs a request and an offer of the same
/// direction and slot, in a containing area, within the request's price; no item gets more
/// than its quantity, and an item with a minimum gets nothing or at least that.
pub fn check_feasible(market: &Market, awards: &[Award]) -> Result<(), Error> {
	let areas = validate(market)?;
	let requests: BTreeMap<u32, &Request> = market.requests.iter().map(|r| (r.id, r)).collect();
	let offers: BTreeMap<u32, &Offer> = market.offers.iter().map(|o| (o.id, o)).collect();
	let mut rsum: BTreeMap<(u32, Slot), u64> = BTreeMap::new();
	let mut osum: BTreeMap<(u32, Slot), u64> = BTreeMap::new();
	for a in awards {
		let bad = |reason| Error::BadAward {
			request: a.request,
			offer: a.offer,
			slot: a.slot,
			quantity: a.quantity,
			reason,
		};
		let r = requests
			.get(&a.request)
			.ok_or_else(|| bad("unknown request"))?;
		let o = offers.get(&a.offer).ok_or_else(|| bad("unknown offer"))?;
		if r.direction != a.direction || o.direction != a.direction {
			return Err(bad("direction differs"));
		}
		if o.price > r.max_price {
			return Err(bad("offer above the request's price"));
		}
		if !areas.contains(r.area, o.area) {
			return Err(bad("offer outside the request's area"));
		}
		*rsum.entry((r.id, a.slot)).or_default() += u64::from(a.quantity);
		*osum.entry((o.id, a.slot)).or_default() += u64::from(a.quantity);
	}
	let within = |q: &[(Slot, Power)], min: Power, slot: Slot, got: u64| {
		let cap = q
			.iter()
			.find(|(s, _)| *s == slot)
			.map_or(0, |(_, p)| u64::from(*p));
		got <= cap && (got == 0 || got >= u64::from(min))
	};
	for (&(id, slot), &got) in &rsum {
		let r = requests[&id];
		if !within(&r.quantities, r.min_quantity, slot, got) {
			return Err(Error::BadAward {
				request: id,
				offer: 0,
				slot,
				quantity: 0,
				reason: "request quantity or minimum",
			});
		}
	}
	for (&(id, slot), &got) in &osum {
		let o = offers[&id];
		if !within(&o.quantities, o.min_quantity, slot, got) {
			return Err(Error::BadAward {
				request: 0,
				offer: id,
				slot,
				quantity: 0,
				reason: "offer quantity or minimum",
			});
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests;
