//! The clearing's min-cost flow on an aggregated graph, solved by successive shortest paths
//! that need only graph search (issue #13, "Scale"; docs/market.md).
//!
//! # The graph
//! Each area with requests gets a price ladder: one node per distinct maximum price of its
//! requests, lowest first, each feeding the next higher one and the requests at its price. An
//! offer feeds, in every area on its path to the root that has a ladder, the lowest rung at or
//! above its price. A unit of flow from an offer to a request thus passes only rungs whose
//! area contains the offer's PoD and whose price is at least the offer's: exactly the pairs the
//! problem allows. An offer has one edge per ancestor area with requests, instead of one per
//! compatible request, so 10,000 offers × 1,000 requests in a 4-level hierarchy give about
//! 40,000 edges instead of millions.
//!
//! # Why search suffices
//! Costs sit only on the source's edges (`[forced, 0, 0, price]`) and the sink's edges
//! (`[forced, −dso, −tso, 0]`); every edge between them costs zero, reversed or not. A simple
//! source-to-sink path in the residual graph therefore costs its first edge plus its last edge,
//! whatever lies between, and the shortest augmenting path is the cheapest pair (source edge,
//! sink edge) that the residual graph connects. Successive shortest paths on this network is
//! then: per phase (the forced count of the pair, then DSO before TSO), the offers' source
//! edges in canonical order (price, id), each augmenting towards any admissible sink edge
//! while a path exists. Two classic facts keep it exact and fast:
//! - the shortest path's cost never decreases (successive shortest paths), so a finished
//!   phase never comes back, and within a phase a cheaper offer never becomes useful again;
//! - nodes from which a search found no admissible sink edge stay so while only augmentations
//!   towards the same sink edges happen (no such path can enter them), so they are skipped
//!   ("dead") for the rest of the phase; an augmentation towards another kind of sink edge
//!   forgets them.
//!
//! # Ties
//! Depth-first search in a fixed arc order: from an offer, its own area's ladder first, then up
//! towards the root; from a rung, its requests (canonical order), the next rung, then the
//! offers feeding it (canonical order), then the rung below; the first path found is taken.
//! Node numbers follow the canonical orders and area ids only, so the result depends on the
//! input's content. Awards are read off per ladder: climbing the rungs, each request takes the
//! power that reached it from the offers pooled so far, cheapest (first in canonical order)
//! first.

use alloc::{collections::BTreeMap, vec, vec::Vec};

use crate::{AreaId, Areas, Price};

/// An offer in a solve: its area, price, and the power on its forced source edge (its minimum,
/// when it must be taken) and on its free one.
pub(crate) struct Supply {
	pub area: AreaId,
	pub price: Price,
	pub forced: u64,
	pub free: u64,
}

/// A request in a solve.
pub(crate) struct Demand {
	pub area: AreaId,
	pub max_price: Price,
	pub dso: bool,
	pub forced: u64,
	pub free: u64,
}

/// `((request index, offer index), power)`, sorted.
pub(crate) type PairFlows = Vec<((usize, usize), u64)>;

struct Graph {
	offers: usize,
	ladder_nodes: usize,
	// Per edge: (from, to) and its flow; forward edges have no capacity of their own.
	ends: Vec<(u32, u32)>,
	flow: Vec<u64>,
	// Arcs in search order, per node: `arcs[start[u]..start[u + 1]]`, (edge, forward).
	start: Vec<u32>,
	arcs: Vec<(u32, bool)>,
	// Per request: its edge from its rung.
	request_edge: Vec<u32>,
	// Per offer: its edges to rungs.
	offer_edges: Vec<Vec<u32>>,
	// Per area with requests: its first rung's node and its prices.
	ladders: BTreeMap<AreaId, (usize, Vec<Price>)>,
}

impl Graph {
	fn build(supply: &[Supply], demand: &[Demand], areas: &Areas) -> Self {
		let n = supply.len();
		let mut prices: BTreeMap<AreaId, Vec<Price>> = BTreeMap::new();
		for d in demand {
			prices.entry(d.area).or_default().push(d.max_price);
		}
		let mut ladders = BTreeMap::new();
		let mut next = n;
		for (area, mut p) in prices {
			p.sort_unstable();
			p.dedup();
			let len = p.len();
			ladders.insert(area, (next, p));
			next += len;
		}
		let ladder_nodes = next - n;
		let nodes = next + demand.len();
		let mut ends = Vec::new();
		let mut edge = |from: usize, to: usize| {
			ends.push((from as u32, to as u32));
			(ends.len() - 1) as u32
		};
		// Offers to rungs, own area first.
		let mut offer_edges = vec![Vec::new(); n];
		for (i, s) in supply.iter().enumerate() {
			let mut at = Some(s.area);
			while let Some(a) = at {
				if let Some((first, p)) = ladders.get(&a) {
					let k = p.partition_point(|&c| c < s.price);
					if k < p.len() {
						offer_edges[i].push(edge(i, first + k));
					}
				}
				at = areas.parent_of(a);
			}
		}
		let mut climb = Vec::new();
		for (first, p) in ladders.values() {
			for k in 1..p.len() {
				climb.push(edge(first + k - 1, first + k));
			}
		}
		let request_edge: Vec<u32> = demand
			.iter()
			.enumerate()
			.map(|(j, d)| {
				let (first, p) = &ladders[&d.area];
				let k = p.partition_point(|&c| c < d.max_price);
				edge(first + k, next + j)
			})
			.collect();
		// Search order per node (module docs, "Ties").
		let mut adjacency: Vec<Vec<(u32, bool)>> = vec![Vec::new(); nodes];
		for &e in &request_edge {
			adjacency[ends[e as usize].0 as usize].push((e, true));
		}
		for &e in &climb {
			adjacency[ends[e as usize].0 as usize].push((e, true));
		}
		for edges in &offer_edges {
			for &e in edges {
				let (from, to) = ends[e as usize];
				adjacency[to as usize].push((e, false));
				adjacency[from as usize].push((e, true));
			}
		}
		for &e in &climb {
			adjacency[ends[e as usize].1 as usize].push((e, false));
		}
		for &e in &request_edge {
			adjacency[ends[e as usize].1 as usize].push((e, false));
		}
		let mut start = Vec::with_capacity(nodes + 1);
		let mut arcs = Vec::with_capacity(2 * ends.len());
		for a in adjacency {
			start.push(arcs.len() as u32);
			arcs.extend(a);
		}
		start.push(arcs.len() as u32);
		Self {
			offers: n,
			ladder_nodes,
			flow: vec![0; ends.len()],
			ends,
			start,
			arcs,
			request_edge,
			offer_edges,
			ladders,
		}
	}

	fn request_of(&self, node: usize) -> Option<usize> {
		node.checked_sub(self.offers + self.ladder_nodes)
	}
}

enum Found {
	Request(usize),
	Nothing,
	OutOfWork,
}

/// One search's scratch, kept across searches: `seen` and `dead` hold stamps (64 bits: they
/// never wrap), so clearing them costs nothing.
struct Search {
	seen: Vec<u64>,
	stamp: u64,
	dead: Vec<u64>,
	epochs: u64,
	stack: Vec<(u32, u32)>,
	path: Vec<(u32, bool)>,
	visited: Vec<u32>,
	// Work left: arcs scanned and laid, counted alike on every machine.
	work: u64,
}

impl Search {
	fn fresh_epoch(&mut self) -> u64 {
		self.epochs += 1;
		self.epochs
	}

	/// Depth-first from offer node `from` to a request node that `admits`, avoiding nodes dead
	/// in `epoch`. On success the path's arcs are in `self.path`; on failure every node seen is
	/// marked dead in `epoch`.
	fn run(&mut self, g: &Graph, from: usize, epoch: u64, admits: impl Fn(usize) -> bool) -> Found {
		self.stamp += 1;
		let stamp = self.stamp;
		self.stack.clear();
		self.path.clear();
		self.visited.clear();
		if self.dead[from] == epoch {
			return Found::Nothing;
		}
		self.seen[from] = stamp;
		self.visited.push(from as u32);
		self.stack.push((from as u32, g.start[from]));
		while let Some(top) = self.stack.last_mut() {
			let u = top.0 as usize;
			if top.1 == g.start[u + 1] {
				self.stack.pop();
				self.path.pop();
				continue;
			}
			let (e, forward) = g.arcs[top.1 as usize];
			top.1 += 1;
			let Some(left) = self.work.checked_sub(1) else {
				return Found::OutOfWork;
			};
			self.work = left;
			if !forward && g.flow[e as usize] == 0 {
				continue;
			}
			let (a, b) = g.ends[e as usize];
			let v = if forward { b } else { a } as usize;
			if self.seen[v] == stamp || self.dead[v] == epoch {
				continue;
			}
			self.seen[v] = stamp;
			self.visited.push(v as u32);
			self.path.push((e, forward));
			if let Some(j) = g.request_of(v) {
				if admits(j) {
					return Found::Request(j);
				}
			}
			self.stack.push((v as u32, g.start[v]));
		}
		for &v in &self.visited {
			self.dead[v as usize] = epoch;
		}
		Found::Nothing
	}
}

/// A solve's result.
pub(crate) enum Solved {
	/// Optimal; `None` when a forced edge cannot fill.
	Complete(Option<PairFlows>),
	/// The work ran out: the flow so far, feasible for the quantities but maybe short of a
	/// forced minimum and of the optimum.
	Partial(PairFlows),
}

/// Min-cost flow of one slot and direction, as [`crate::solve_once`] defines it, spending at
/// most `*work` units (the graph's arcs, then each arc a search scans) and deducting them.
pub(crate) fn solve(supply: &[Supply], demand: &[Demand], areas: &Areas, work: &mut u64) -> Solved {
	let mut g = Graph::build(supply, demand, areas);
	let nodes = g.start.len() - 1;
	let Some(left) = work.checked_sub(g.arcs.len() as u64) else {
		*work = 0;
		return Solved::Partial(Vec::new());
	};
	let mut search = Search {
		seen: vec![0; nodes],
		stamp: 0,
		dead: vec![0; nodes],
		epochs: 0,
		stack: Vec::new(),
		path: Vec::new(),
		visited: Vec::new(),
		work: left,
	};
	// Residual power on each source and sink edge: [free, forced].
	let mut source: Vec<[u64; 2]> = supply.iter().map(|s| [s.free, s.forced]).collect();
	let mut sink: Vec<[u64; 2]> = demand.iter().map(|d| [d.free, d.forced]).collect();
	// Phases in cost order: two forced edges, one, none; DSO before TSO in each.
	let mut complete = true;
	'phases: for forced in [2usize, 1, 0] {
		for dso in [true, false] {
			// Kinds of source edge in this phase: (source forced, sink forced).
			let kinds: Vec<(usize, usize)> = (0..=1)
				.rev()
				.filter_map(|sf| {
					forced
						.checked_sub(sf)
						.filter(|tf| *tf <= 1)
						.map(|tf| (sf, tf))
				})
				.collect();
			let mut at = vec![0usize; kinds.len()];
			let mut epoch: Vec<u64> = kinds.iter().map(|_| search.fresh_epoch()).collect();
			loop {
				// The cheapest candidate: the lowest offer index, forced source edges first
				// (`kinds` lists them first). Each kind's cursor passes offers that cannot
				// augment any more in this phase.
				let mut pick: Option<(usize, usize)> = None;
				for (k, &(sf, _)) in kinds.iter().enumerate() {
					while at[k] < supply.len() && source[at[k]][sf] == 0 {
						at[k] += 1;
						search.work = search.work.saturating_sub(1);
					}
					if at[k] < supply.len() && pick.is_none_or(|(_, i)| at[k] < i) {
						pick = Some((k, at[k]));
					}
				}
				let Some((k, i)) = pick else { break };
				let (sf, tf) = kinds[k];
				let admits = |j: usize| demand[j].dso == dso && sink[j][tf] > 0;
				let j = match search.run(&g, i, epoch[k], admits) {
					Found::Request(j) => j,
					Found::Nothing => {
						at[k] += 1;
						search.work = search.work.saturating_sub(1);
						continue;
					}
					Found::OutOfWork => {
						complete = false;
						break 'phases;
					}
				};
				let mut bottleneck = source[i][sf].min(sink[j][tf]);
				for &(e, forward) in &search.path {
					if !forward {
						bottleneck = bottleneck.min(g.flow[e as usize]);
					}
				}
				for &(e, forward) in &search.path {
					let f = &mut g.flow[e as usize];
					*f = if forward {
						*f + bottleneck
					} else {
						*f - bottleneck
					};
				}
				source[i][sf] -= bottleneck;
				sink[j][tf] -= bottleneck;
				// Dead marks hold only for the sink edges just augmented towards.
				for (other, &(_, t)) in kinds.iter().enumerate() {
					if t != tf {
						epoch[other] = search.fresh_epoch();
						at[other] = 0;
					}
				}
			}
		}
	}
	*work = search.work;
	if !complete {
		return Solved::Partial(decompose(&g));
	}
	if source.iter().any(|s| s[1] > 0) || sink.iter().any(|s| s[1] > 0) {
		return Solved::Complete(None);
	}
	Solved::Complete(Some(decompose(&g)))
}

/// Pairs offers with requests per ladder: climbing the rungs, each request (canonical order)
/// takes what reached it from the pooled offers, lowest index first.
fn decompose(g: &Graph) -> PairFlows {
	let mut inflow: BTreeMap<usize, Vec<(usize, u64)>> = BTreeMap::new();
	for (i, edges) in g.offer_edges.iter().enumerate() {
		for &e in edges {
			let f = g.flow[e as usize];
			if f > 0 {
				inflow
					.entry(g.ends[e as usize].1 as usize)
					.or_default()
					.push((i, f));
			}
		}
	}
	let mut at_rung: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
	for (j, &e) in g.request_edge.iter().enumerate() {
		if g.flow[e as usize] > 0 {
			at_rung
				.entry(g.ends[e as usize].0 as usize)
				.or_default()
				.push(j);
		}
	}
	let mut pairs = Vec::new();
	for (first, p) in g.ladders.values() {
		let mut pool: BTreeMap<usize, u64> = BTreeMap::new();
		for rung in *first..first + p.len() {
			for &(i, f) in inflow.get(&rung).into_iter().flatten() {
				*pool.entry(i).or_default() += f;
			}
			for &j in at_rung.get(&rung).into_iter().flatten() {
				let mut want = g.flow[g.request_edge[j] as usize];
				while want > 0 {
					let Some(mut entry) = pool.first_entry() else {
						break;
					};
					let take = want.min(*entry.get());
					pairs.push(((j, *entry.key()), take));
					want -= take;
					*entry.get_mut() -= take;
					if *entry.get() == 0 {
						entry.remove();
					}
				}
				debug_assert_eq!(want, 0, "flow is conserved on the ladder");
			}
		}
	}
	pairs.sort_unstable();
	pairs
}
