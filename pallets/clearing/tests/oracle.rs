//! The clearing against independent oracles (issue #13, FR-MP-MOMV-01): an LP/MIP solver
//! (microlp, simplex and branch and bound in floating point) solving the same lexicographic
//! objective in three phases, and brute force over every integer award on tiny instances.
//! The awards of equal objective may differ, so the oracles compare the objective reached per
//! slot and direction; feasibility is checked award by award.

use std::collections::BTreeMap;

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use platone_clearing::*;
use proptest::prelude::*;

/// Root 1 (a TSO's area), two DSO areas 2 and 3 under it, feeders 4, 5 under 2 and 6 under 3.
fn areas() -> Vec<Area> {
	[
		(1, None),
		(2, Some(1)),
		(3, Some(1)),
		(4, Some(2)),
		(5, Some(2)),
		(6, Some(3)),
	]
	.into_iter()
	.map(|(id, parent)| Area { id, parent })
	.collect()
}

fn direction() -> impl Strategy<Value = Direction> {
	prop_oneof![Just(Direction::Up), Just(Direction::Down)]
}

/// Markets of `requests` × `offers` over 2 slots, quantities up to `max_q`, with a minimum
/// on an item with probability `min_pct` %.
fn market(
	requests: std::ops::RangeInclusive<usize>,
	offers: std::ops::RangeInclusive<usize>,
	max_q: Power,
	min_pct: u32,
) -> impl Strategy<Value = Market> {
	let quantities = proptest::collection::vec((0..2u16, 0..=max_q), 1..=2).prop_map(|mut q| {
		q.sort_by_key(|(s, _)| *s);
		q.dedup_by_key(|(s, _)| *s);
		q
	});
	let min = move |q: &[(Slot, Power)], pick: u32, frac: u32| {
		let top = q
			.iter()
			.map(|(_, p)| *p)
			.filter(|p| *p > 0)
			.min()
			.unwrap_or(0);
		if pick < min_pct {
			(top * frac / 100).max(1).min(top)
		} else {
			0
		}
	};
	let request = (
		prop_oneof![Just(Requester::Dso), Just(Requester::Tso)],
		1..=6u32,
		direction(),
		1..=20u64,
		quantities.clone(),
		0..100u32,
		1..=100u32,
	)
		.prop_map(
			move |(requester, area, direction, max_price, quantities, pick, frac)| Request {
				id: 0,
				requester,
				area,
				direction,
				max_price,
				min_quantity: min(&quantities, pick, frac),
				quantities,
			},
		);
	let offer = (
		1..=6u32,
		direction(),
		1..=20u64,
		quantities,
		0..100u32,
		1..=100u32,
	)
		.prop_map(
			move |(area, direction, price, quantities, pick, frac)| Offer {
				id: 0,
				area,
				direction,
				price,
				min_quantity: min(&quantities, pick, frac),
				quantities,
			},
		);
	(
		proptest::collection::vec(request, requests),
		proptest::collection::vec(offer, offers),
		prop_oneof![Just(Pricing::PayAsBid), Just(Pricing::Uniform)],
	)
		.prop_map(|(mut requests, mut offers, pricing)| {
			for (i, r) in requests.iter_mut().enumerate() {
				r.id = 100 + i as u32;
			}
			for (i, o) in offers.iter_mut().enumerate() {
				o.id = 200 + i as u32;
			}
			Market {
				pricing,
				areas: areas(),
				requests,
				offers,
			}
		})
}

fn quantity(q: &[(Slot, Power)], slot: Slot) -> Power {
	q.iter().find(|(s, _)| *s == slot).map_or(0, |(_, p)| *p)
}

/// The sub-problems of `market` that have a request and an offer: (slot, direction).
fn subs(market: &Market) -> Vec<(Slot, Direction)> {
	let mut out = Vec::new();
	for slot in 0..2 {
		for d in [Direction::Up, Direction::Down] {
			let has_r = market
				.requests
				.iter()
				.any(|r| r.direction == d && quantity(&r.quantities, slot) > 0);
			let has_o = market
				.offers
				.iter()
				.any(|o| o.direction == d && quantity(&o.quantities, slot) > 0);
			if has_r && has_o {
				out.push((slot, d));
			}
		}
	}
	out
}

/// Compatible (request, offer) pairs of a sub-problem, by index.
fn pairs(market: &Market, slot: Slot, d: Direction) -> Vec<(usize, usize)> {
	let tree = Areas::new(&market.areas).unwrap();
	let mut out = Vec::new();
	for (j, r) in market.requests.iter().enumerate() {
		for (i, o) in market.offers.iter().enumerate() {
			if r.direction == d
				&& o.direction == d
				&& quantity(&r.quantities, slot) > 0
				&& quantity(&o.quantities, slot) > 0
				&& o.price <= r.max_price
				&& tree.contains(r.area, o.area)
			{
				out.push((j, i));
			}
		}
	}
	out
}

/// (dso, tso, cost) the oracle solver finds, in three lexicographic phases. Minima become
/// binaries `y` with `min·y ≤ Σx ≤ q·y`.
fn lp_optimum(market: &Market, slot: Slot, d: Direction) -> (u64, u64, u128) {
	let pairs = pairs(market, slot, d);
	let build = |objective: &dyn Fn(usize, usize) -> f64,
	             dir,
	             bounds: &[(Box<dyn Fn(usize, usize) -> f64>, ComparisonOp, f64)]| {
		let mut p = Problem::new(dir);
		let x: Vec<_> = pairs
			.iter()
			.map(|&(j, i)| p.add_var(objective(j, i), (0.0, f64::INFINITY)))
			.collect();
		let mut item = |members: Vec<usize>, q: Power, min: Power| {
			if members.is_empty() {
				return;
			}
			let mut sum: Vec<_> = members.iter().map(|&k| (x[k], 1.0)).collect();
			if min > 0 {
				let y = p.add_binary_var(0.0);
				sum.push((y, -f64::from(q)));
				p.add_constraint(sum.as_slice(), ComparisonOp::Le, 0.0);
				sum.pop();
				sum.push((y, -f64::from(min)));
				p.add_constraint(sum.as_slice(), ComparisonOp::Ge, 0.0);
			} else {
				p.add_constraint(sum.as_slice(), ComparisonOp::Le, f64::from(q));
			}
		};
		for (j, r) in market.requests.iter().enumerate() {
			let m = (0..pairs.len()).filter(|&k| pairs[k].0 == j).collect();
			item(m, quantity(&r.quantities, slot), r.min_quantity);
		}
		for (i, o) in market.offers.iter().enumerate() {
			let m = (0..pairs.len()).filter(|&k| pairs[k].1 == i).collect();
			item(m, quantity(&o.quantities, slot), o.min_quantity);
		}
		for (coef, op, rhs) in bounds {
			let expr: Vec<_> = pairs
				.iter()
				.zip(&x)
				.map(|(&(j, i), v)| (*v, coef(j, i)))
				.collect();
			p.add_constraint(expr.as_slice(), *op, *rhs);
		}
		if pairs.is_empty() {
			return 0.0;
		}
		p.solve()
			.expect("the oracle solves")
			.into_solution()
			.expect("a solution")
			.objective()
	};
	let is = |who: Requester| {
		move |j: usize, _i: usize| {
			if market.requests[j].requester == who {
				1.0
			} else {
				0.0
			}
		}
	};
	let dso = build(&is(Requester::Dso), OptimizationDirection::Maximize, &[]).round();
	let tso = build(
		&is(Requester::Tso),
		OptimizationDirection::Maximize,
		&[(Box::new(is(Requester::Dso)), ComparisonOp::Ge, dso - 1e-6)],
	)
	.round();
	let price = |_j: usize, i: usize| market.offers[i].price as f64;
	let cost = build(
		&price,
		OptimizationDirection::Minimize,
		&[
			(Box::new(is(Requester::Dso)), ComparisonOp::Ge, dso - 1e-6),
			(Box::new(is(Requester::Tso)), ComparisonOp::Ge, tso - 1e-6),
		],
	)
	.round();
	(dso as u64, tso as u64, cost as u128)
}

fn reached(outcome: &Outcome, slot: Slot, d: Direction) -> (u64, u64, u128, Method) {
	outcome
		.objectives
		.iter()
		.find(|o| o.slot == slot && o.direction == d)
		.map_or((0, 0, 0, Method::Exact), |o| {
			(o.dso_volume, o.tso_volume, o.cost, o.method)
		})
}

/// The best (dso, tso, cost) over every integer award of a tiny sub-problem.
fn brute_force(market: &Market, slot: Slot, d: Direction) -> (u64, u64, u128) {
	let pairs = pairs(market, slot, d);
	let caps: Vec<Power> = pairs
		.iter()
		.map(|&(j, i)| {
			quantity(&market.requests[j].quantities, slot)
				.min(quantity(&market.offers[i].quantities, slot))
		})
		.collect();
	let mut x = vec![0 as Power; pairs.len()];
	let mut best = (0u64, 0u64, std::cmp::Reverse(0u128));
	loop {
		let mut rgot = BTreeMap::<usize, u64>::new();
		let mut ogot = BTreeMap::<usize, u64>::new();
		let (mut dso, mut tso, mut cost) = (0u64, 0u64, 0u128);
		for (k, &(j, i)) in pairs.iter().enumerate() {
			*rgot.entry(j).or_default() += u64::from(x[k]);
			*ogot.entry(i).or_default() += u64::from(x[k]);
			match market.requests[j].requester {
				Requester::Dso => dso += u64::from(x[k]),
				Requester::Tso => tso += u64::from(x[k]),
			}
			cost += u128::from(market.offers[i].price) * u128::from(x[k]);
		}
		let ok = |got: u64, q: Power, min: Power| {
			got <= u64::from(q) && (got == 0 || got >= u64::from(min))
		};
		let feasible = rgot.iter().all(|(&j, &g)| {
			let r = &market.requests[j];
			ok(g, quantity(&r.quantities, slot), r.min_quantity)
		}) && ogot.iter().all(|(&i, &g)| {
			let o = &market.offers[i];
			ok(g, quantity(&o.quantities, slot), o.min_quantity)
		});
		if feasible && (dso, tso, std::cmp::Reverse(cost)) > best {
			best = (dso, tso, std::cmp::Reverse(cost));
		}
		// Next x, counting in mixed radix.
		let mut k = 0;
		loop {
			if k == x.len() {
				return (best.0, best.1, best.2 .0);
			}
			if x[k] < caps[k] {
				x[k] += 1;
				break;
			}
			x[k] = 0;
			k += 1;
		}
	}
}

/// The clearing of `m` is feasible, exact, and reaches `oracle`'s objective in every slot and
/// direction.
fn agrees_with(
	m: &Market,
	oracle: fn(&Market, Slot, Direction) -> (u64, u64, u128),
) -> Result<(), TestCaseError> {
	let outcome = clear(m).unwrap();
	check_feasible(m, &outcome.awards).unwrap();
	for (slot, d) in subs(m) {
		let (dso, tso, cost, method) = reached(&outcome, slot, d);
		prop_assert_eq!(method, Method::Exact);
		prop_assert_eq!(
			(dso, tso, cost),
			oracle(m, slot, d),
			"slot {} {:?}",
			slot,
			d
		);
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

	/// Divisible items: the flow is optimal, as the LP relaxation (integral here: a network
	/// matrix) says, phase by phase.
	#[test]
	fn divisible_clearing_reaches_the_lp_optimum(m in market(1..=5, 1..=8, 1000, 0)) {
		agrees_with(&m, lp_optimum)?;
	}

	/// Minima: the exhaustive search is optimal, as the MIP oracle says.
	#[test]
	fn clearing_with_minima_reaches_the_mip_optimum(m in market(1..=3, 1..=5, 200, 40)) {
		agrees_with(&m, lp_optimum)?;
	}

	/// Tiny instances: every integer award tried.
	#[test]
	fn clearing_matches_brute_force(m in market(1..=2, 1..=3, 3, 40)) {
		agrees_with(&m, brute_force)?;
	}

	/// The result depends on the content only: the same offers and requests in another order
	/// clear to the same awards, so two honest parties agree award by award.
	#[test]
	fn input_order_does_not_change_the_awards(m in market(1..=5, 1..=8, 1000, 20), seed in any::<u64>()) {
		let mut shuffled = m.clone();
		let mut s = seed;
		let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); (s >> 33) as usize };
		for i in (1..shuffled.requests.len()).rev() { let j = next() % (i + 1); shuffled.requests.swap(i, j); }
		for i in (1..shuffled.offers.len()).rev() { let j = next() % (i + 1); shuffled.offers.swap(i, j); }
		prop_assert_eq!(clear(&m).unwrap(), clear(&shuffled).unwrap());
	}

	/// Larger sessions: the aggregated-graph solver the market uses reaches the objective of
	/// the first, bipartite formulation (an exact solver written independently), slot by slot.
	#[test]
	fn the_ladder_solver_reaches_the_bipartite_optimum(m in market(1..=12, 1..=40, 1000, 5)) {
		let ladder = clear_by(&m, EXACT_LIMIT, Solver::Ladder).unwrap();
		let bipartite = clear_by(&m, EXACT_LIMIT, Solver::Bipartite).unwrap();
		check_feasible(&m, &ladder.awards).unwrap();
		prop_assert_eq!(ladder.objectives, bipartite.objectives);
	}

	/// A solve that runs out of work still gives feasible awards, never better than the
	/// optimum, and says so; with enough work the result is the optimum.
	#[test]
	fn out_of_work_the_awards_stay_feasible_and_say_so(m in market(1..=8, 1..=20, 1000, 20), per_item in 0..=12u64) {
		let full = clear(&m).unwrap();
		let short = clear_within(&m, EXACT_LIMIT, Solver::Ladder, per_item).unwrap();
		check_feasible(&m, &short.awards).unwrap();
		for (s, f) in short.objectives.iter().zip(&full.objectives) {
			prop_assert_eq!((s.slot, s.direction), (f.slot, f.direction));
			if s.method == Method::Budget {
				prop_assert!(f.method != Method::Exact || s.key() <= f.key());
			} else {
				prop_assert_eq!(s, f);
			}
		}
	}

	/// The rule (exact limit 0) running out of work keeps the better of its last complete
	/// solve and the partial one, both repaired: feasible either way.
	#[test]
	fn the_rule_out_of_work_stays_feasible(m in market(4..=6, 12..=16, 100, 100), per_item in 0..=40u64) {
		let out = clear_within(&m, 0, Solver::Ladder, per_item).unwrap();
		check_feasible(&m, &out.awards).unwrap();
		for o in &out.objectives {
			prop_assert!(o.method != Method::Exact);
		}
	}

	/// Beyond the exact limit the rule gives feasible awards and says so.
	#[test]
	fn many_minima_fall_back_to_the_rule_and_stay_feasible(m in market(4..=6, 12..=16, 100, 100)) {
		let outcome = clear(&m).unwrap();
		check_feasible(&m, &outcome.awards).unwrap();
		for o in &outcome.objectives {
			let blocky = m.requests.iter().filter(|r| r.direction == o.direction && quantity(&r.quantities, o.slot) > 0).count()
				+ m.offers.iter().filter(|x| x.direction == o.direction && quantity(&x.quantities, o.slot) > 0).count();
			prop_assert_eq!(o.method == Method::Rule, blocky > EXACT_LIMIT);
		}
	}
}
