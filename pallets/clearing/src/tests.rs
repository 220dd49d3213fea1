//! Worked examples of the clearing rules (issue #13). The property tests against the LP/MIP
//! oracle and brute force are in `tests/oracle.rs`.

use super::*;
use alloc::vec;

/// Root 1 (TSO), DSO area 2 under it, feeders 3 and 4 under 2, another DSO area 5 under 1.
fn areas() -> Vec<Area> {
	vec![
		Area {
			id: 1,
			parent: None,
		},
		Area {
			id: 2,
			parent: Some(1),
		},
		Area {
			id: 3,
			parent: Some(2),
		},
		Area {
			id: 4,
			parent: Some(2),
		},
		Area {
			id: 5,
			parent: Some(1),
		},
	]
}

fn request(id: u32, requester: Requester, area: AreaId, q: Power, max_price: Price) -> Request {
	Request {
		id,
		requester,
		area,
		direction: Direction::Up,
		max_price,
		min_quantity: 0,
		quantities: vec![(0, q)],
	}
}

fn offer(id: u32, area: AreaId, q: Power, price: Price) -> Offer {
	Offer {
		id,
		area,
		direction: Direction::Up,
		price,
		min_quantity: 0,
		quantities: vec![(0, q)],
	}
}

fn market(requests: Vec<Request>, offers: Vec<Offer>) -> Market {
	Market {
		pricing: Pricing::PayAsBid,
		areas: areas(),
		requests,
		offers,
	}
}

fn awards(m: &Market) -> Vec<(u32, u32, Power, Price)> {
	clear(m)
		.unwrap()
		.awards
		.iter()
		.map(|a| (a.request, a.offer, a.quantity, a.price))
		.collect()
}

#[test]
fn an_offer_serves_the_dso_before_the_tso() {
	// One offer in feeder 3 that both the DSO (area 2) and the TSO (area 1) could use.
	let m = market(
		vec![
			request(1, Requester::Tso, 1, 100, 50),
			request(2, Requester::Dso, 2, 100, 50),
		],
		vec![offer(10, 3, 120, 10)],
	);
	assert_eq!(awards(&m), vec![(1, 10, 20, 10), (2, 10, 100, 10)]);
}

#[test]
fn an_offer_serves_only_requests_whose_area_contains_its_pod() {
	// The DSO of area 5 cannot use flexibility in feeder 3; the TSO (root) can.
	let m = market(
		vec![
			request(1, Requester::Dso, 5, 100, 50),
			request(2, Requester::Tso, 1, 100, 50),
		],
		vec![offer(10, 3, 80, 10)],
	);
	assert_eq!(awards(&m), vec![(2, 10, 80, 10)]);
}

#[test]
fn an_offer_above_the_maximum_price_is_not_taken() {
	let m = market(
		vec![request(1, Requester::Dso, 2, 100, 20)],
		vec![offer(10, 3, 80, 21)],
	);
	assert_eq!(awards(&m), vec![]);
}

#[test]
fn the_cheapest_offers_serve_first_and_the_dso_is_not_starved_by_rerouting() {
	// The DSO in 2 can use offers 10 (feeder 3) and 11 (feeder 4); the TSO (root) all three.
	// Serving both fully at least cost takes the two cheapest and nothing from 12 (area 5).
	// Of the two equal-cost assignments the tie rule picks one: offer 10 first serves the DSO;
	// offer 11's search then tries its own area's ladder first, takes the DSO's place and
	// moves offer 10 on to the TSO (`ladder` module docs, "Ties").
	let m = market(
		vec![
			request(1, Requester::Dso, 2, 50, 100),
			request(2, Requester::Tso, 1, 50, 100),
		],
		vec![
			offer(10, 3, 50, 1),
			offer(11, 4, 50, 5),
			offer(12, 5, 50, 9),
		],
	);
	assert_eq!(awards(&m), vec![(1, 11, 50, 5), (2, 10, 50, 1)]);
	let o = &clear(&m).unwrap().objectives[0];
	assert_eq!(
		(o.dso_volume, o.tso_volume, o.cost, o.method),
		(50, 50, 300, Method::Exact)
	);
}

#[test]
fn uniform_pricing_pays_the_area_price_capped_by_each_request() {
	let mut m = market(
		vec![
			request(1, Requester::Dso, 2, 100, 30),
			request(2, Requester::Dso, 2, 50, 12),
		],
		vec![offer(10, 3, 60, 10), offer(11, 4, 90, 25)],
	);
	m.pricing = Pricing::Uniform;
	// Request 2 (cap 12) can only use offer 10; request 1 takes the rest. The area's price is
	// 25, which request 2 pays only up to its cap.
	assert_eq!(
		awards(&m),
		vec![(1, 10, 10, 25), (1, 11, 90, 25), (2, 10, 50, 12)]
	);
}

#[test]
fn an_offer_with_a_minimum_is_taken_whole_or_not_at_all() {
	// Offer 10 (cheap) needs at least 80 of a 100 W request; taking it and topping up with 11
	// is cheaper than 11 alone.
	let mut cheap = offer(10, 3, 90, 1);
	cheap.min_quantity = 80;
	let m = market(
		vec![request(1, Requester::Dso, 2, 100, 50)],
		vec![cheap.clone(), offer(11, 4, 100, 5)],
	);
	assert_eq!(awards(&m), vec![(1, 10, 90, 1), (1, 11, 10, 5)]);
	// With only 60 W asked, its minimum cannot be met: offer 11 serves alone.
	let m = market(
		vec![request(1, Requester::Dso, 2, 60, 50)],
		vec![cheap, offer(11, 4, 100, 5)],
	);
	assert_eq!(awards(&m), vec![(1, 11, 60, 5)]);
}

#[test]
fn a_request_with_a_minimum_is_served_at_least_that_or_not_at_all() {
	let mut r = request(1, Requester::Dso, 2, 100, 50);
	r.min_quantity = 70;
	let m = market(vec![r.clone()], vec![offer(10, 3, 60, 1)]);
	assert_eq!(awards(&m), vec![]);
	let m = market(vec![r], vec![offer(10, 3, 60, 1), offer(11, 4, 30, 2)]);
	assert_eq!(awards(&m), vec![(1, 10, 60, 1), (1, 11, 30, 2)]);
}

#[test]
fn past_the_exact_limit_the_rule_drops_the_least_merit_item_first() {
	// EXACT_LIMIT + 1 offers with minima; the request takes 100 W, the relaxation would
	// split it. Every award must still honour the minima, and the method says "rule".
	let offers: Vec<_> = (0..=EXACT_LIMIT as u32)
		.map(|i| {
			let mut o = offer(10 + i, 3, 60, 1 + u64::from(i));
			o.min_quantity = 60;
			o
		})
		.collect();
	let m = market(vec![request(1, Requester::Dso, 2, 100, 50)], offers);
	let out = clear(&m).unwrap();
	check_feasible(&m, &out.awards).unwrap();
	assert_eq!(out.objectives[0].method, Method::Rule);
	assert_eq!(awards(&m), vec![(1, 10, 60, 1)]);
}

#[test]
fn directions_and_slots_clear_apart() {
	let mut down = offer(10, 3, 50, 1);
	down.direction = Direction::Down;
	let mut later = offer(11, 3, 50, 1);
	later.quantities = vec![(1, 50)];
	let m = market(
		vec![request(1, Requester::Dso, 2, 50, 50)],
		vec![down, later],
	);
	assert_eq!(awards(&m), vec![]);
}

#[test]
fn bad_input_gets_its_own_error() {
	let ok = market(
		vec![request(1, Requester::Dso, 2, 50, 50)],
		vec![offer(10, 3, 50, 1)],
	);
	assert!(clear(&ok).is_ok());

	let mut m = ok.clone();
	m.areas.push(Area {
		id: 2,
		parent: None,
	});
	assert_eq!(clear(&m), Err(Error::DuplicateArea(2)));

	let mut m = ok.clone();
	m.areas.push(Area {
		id: 9,
		parent: Some(8),
	});
	assert_eq!(clear(&m), Err(Error::UnknownArea(8)));

	let mut m = ok.clone();
	m.areas[0].parent = Some(3);
	assert!(matches!(clear(&m), Err(Error::AreaCycle(_))));

	let mut m = ok.clone();
	m.requests[0].area = 7;
	assert_eq!(clear(&m), Err(Error::UnknownArea(7)));

	let mut m = ok.clone();
	m.offers[0].area = 7;
	assert_eq!(clear(&m), Err(Error::UnknownArea(7)));

	let mut m = ok.clone();
	m.requests.push(m.requests[0].clone());
	assert_eq!(clear(&m), Err(Error::DuplicateRequest(1)));

	let mut m = ok.clone();
	m.offers.push(m.offers[0].clone());
	assert_eq!(clear(&m), Err(Error::DuplicateOffer(10)));

	let mut m = ok.clone();
	m.offers[0].quantities.push((0, 5));
	assert_eq!(
		clear(&m),
		Err(Error::DuplicateSlot {
			what: "offer",
			id: 10,
			slot: 0
		})
	);

	let mut m = ok.clone();
	m.requests[0].min_quantity = 51;
	assert_eq!(
		clear(&m),
		Err(Error::MinimumAboveQuantity {
			what: "request",
			id: 1,
			slot: 0
		})
	);
}

#[test]
fn infeasible_awards_are_named() {
	let m = market(
		vec![
			request(1, Requester::Dso, 5, 50, 5),
			request(2, Requester::Dso, 2, 50, 50),
		],
		vec![offer(10, 3, 50, 10)],
	);
	let award = |request, quantity| Award {
		slot: 0,
		direction: Direction::Up,
		request,
		offer: 10,
		quantity,
		price: 10,
	};
	let reason = |awards: &[Award]| match check_feasible(&m, awards) {
		Err(Error::BadAward { reason, .. }) => reason,
		other => panic!("{other:?}"),
	};
	assert_eq!(reason(&[award(1, 10)]), "offer above the request's price");
	assert_eq!(reason(&[award(9, 10)]), "unknown request");
	assert_eq!(reason(&[award(2, 60)]), "request quantity or minimum");
	assert!(check_feasible(&m, &[award(2, 50)]).is_ok());
}
