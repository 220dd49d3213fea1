//! Exact min-cost flow with lexicographic costs, by successive shortest paths.
//!
//! Costs are vectors of `i128` compared lexicographically, an ordered abelian group, so that
//! Dijkstra with Johnson potentials stays exact without scaling the priorities into one huge
//! integer: `[forced, dso, tso, money]` per unit (crate docs). Capacities are integers, so every
//! augmentation and the result are integral (the constraint matrix is a network matrix).
//!
//! Determinism: nodes are numbered in the canonical order the caller gives, the heap pops the
//! smallest `(distance, node)`, and a node keeps the first predecessor that reached it with its
//! final distance. The same input therefore gives the same flow on every machine.

use alloc::{collections::BinaryHeap, vec, vec::Vec};
use core::cmp::Reverse;

/// Length of the cost vector.
pub const K: usize = 4;
/// A cost per unit, or of a path: compared lexicographically (`[i128; K]` implements `Ord` so).
pub type Cost = [i128; K];

pub const ZERO: Cost = [0; K];

fn add(a: Cost, b: Cost) -> Cost {
	let mut r = a;
	for (x, y) in r.iter_mut().zip(b) {
		*x = x.saturating_add(y);
	}
	r
}

fn sub(a: Cost, b: Cost) -> Cost {
	let mut r = a;
	for (x, y) in r.iter_mut().zip(b) {
		*x = x.saturating_sub(y);
	}
	r
}

fn scale(a: Cost, n: i128) -> Cost {
	let mut r = a;
	for x in r.iter_mut() {
		*x = x.saturating_mul(n);
	}
	r
}

#[derive(Clone, Debug)]
struct Edge {
	to: usize,
	cap: u64,
	cost: Cost,
}

/// A flow network whose edges all go "forward" in the caller's node order (a DAG), as the
/// clearing's source → offers → requests → sink network does.
#[derive(Debug, Default)]
pub struct Network {
	nodes: usize,
	// Edge `2i` is the i-th added edge, `2i + 1` its residual twin.
	edges: Vec<Edge>,
	out: Vec<Vec<usize>>,
}

impl Network {
	pub fn new(nodes: usize) -> Self {
		Self {
			nodes,
			edges: Vec::new(),
			out: vec![Vec::new(); nodes],
		}
	}

	/// Adds `from → to` and returns its index, for [`Self::flow`]. Requires `from < to`.
	pub fn add_edge(&mut self, from: usize, to: usize, cap: u64, cost: Cost) -> usize {
		debug_assert!(from < to && to < self.nodes);
		let id = self.edges.len();
		self.edges.push(Edge { to, cap, cost });
		self.edges.push(Edge {
			to: from,
			cap: 0,
			cost: scale(cost, -1),
		});
		self.out[from].push(id);
		self.out[to].push(id + 1);
		id / 2
	}

	/// The flow on the edge [`Self::add_edge`] returned.
	pub fn flow(&self, edge: usize) -> u64 {
		self.edges[2 * edge + 1].cap
	}

	/// Sends flow from `source` (node 0) to `sink` (the last node) while a path of negative cost
	/// exists, cheapest path first. The result is a flow of minimum cost among all flows
	/// (convexity of the cost in the flow value), with integral edge flows.
	///
	/// Returns the potentials, a dual certificate: every residual edge has a non-negative
	/// reduced cost `cost + π(from) − π(to)` for the nodes the source reaches.
	pub fn min_cost_flow(&mut self) -> Vec<Option<Cost>> {
		let (source, sink) = (0, self.nodes - 1);
		let mut pot = self.dag_distances(source);
		loop {
			let (dist, pred) = self.dijkstra(source, &pot);
			let Some(dt) = dist[sink] else { break };
			// The real cost of the path is its reduced cost plus π(sink) − π(source).
			let path = add(
				sub(dt, pot[source].unwrap_or(ZERO)),
				pot[sink].unwrap_or(ZERO),
			);
			if path >= ZERO {
				break;
			}
			let mut bottleneck = u64::MAX;
			let mut v = sink;
			while v != source {
				let e = pred[v].expect("on the path");
				bottleneck = bottleneck.min(self.edges[e].cap);
				v = self.edges[e ^ 1].to;
			}
			let mut v = sink;
			while v != source {
				let e = pred[v].expect("on the path");
				self.edges[e].cap -= bottleneck;
				self.edges[e ^ 1].cap += bottleneck;
				v = self.edges[e ^ 1].to;
			}
			// Johnson's update; nodes Dijkstra did not reach get the largest distance, which
			// keeps edges from them non-negative (no residual edge leads to them).
			let far = dist.iter().flatten().copied().max().unwrap_or(ZERO);
			for (p, d) in pot.iter_mut().zip(&dist) {
				if let Some(p) = p {
					*p = add(*p, d.unwrap_or(far));
				}
			}
		}
		pot
	}

	/// Shortest distances from `source` in the initial network, a DAG in node order.
	fn dag_distances(&self, source: usize) -> Vec<Option<Cost>> {
		let mut dist = vec![None; self.nodes];
		dist[source] = Some(ZERO);
		for u in 0..self.nodes {
			let Some(du) = dist[u] else { continue };
			for &e in &self.out[u] {
				let edge = &self.edges[e];
				if edge.cap == 0 {
					continue;
				}
				let d = add(du, edge.cost);
				if dist[edge.to].is_none_or(|old| d < old) {
					dist[edge.to] = Some(d);
				}
			}
		}
		dist
	}

	fn dijkstra(
		&self,
		source: usize,
		pot: &[Option<Cost>],
	) -> (Vec<Option<Cost>>, Vec<Option<usize>>) {
		let mut dist: Vec<Option<Cost>> = vec![None; self.nodes];
		let mut pred = vec![None; self.nodes];
		let mut done = vec![false; self.nodes];
		let mut heap = BinaryHeap::new();
		dist[source] = Some(ZERO);
		heap.push(Reverse((ZERO, source)));
		while let Some(Reverse((d, u))) = heap.pop() {
			if done[u] {
				continue;
			}
			done[u] = true;
			let Some(pu) = pot[u] else { continue };
			for &e in &self.out[u] {
				let edge = &self.edges[e];
				if edge.cap == 0 || done[edge.to] {
					continue;
				}
				let Some(pv) = pot[edge.to] else { continue };
				let reduced = sub(add(edge.cost, pu), pv);
				let nd = add(d, reduced);
				if dist[edge.to].is_none_or(|old| nd < old) {
					dist[edge.to] = Some(nd);
					pred[edge.to] = Some(e);
					heap.push(Reverse((nd, edge.to)));
				}
			}
		}
		(dist, pred)
	}
}
