//! Deterministic synthetic sessions for the clearing benchmarks (`benches/clearing.rs`,
//! `examples/clear_file.rs`, `scripts/bench-clearing.sh`): a root area, 10 DSO areas, 10
//! feeders under each; DSO requests on the feeders' parents, TSO requests on the root, prices
//! spread.

use platone_clearing::*;

pub fn session(offers: u32, requests: u32, slots: u16) -> Market {
	let mut areas = vec![Area {
		id: 0,
		parent: None,
	}];
	for d in 1..=10 {
		areas.push(Area {
			id: d,
			parent: Some(0),
		});
		for f in 0..10 {
			areas.push(Area {
				id: 100 + d * 10 + f,
				parent: Some(d),
			});
		}
	}
	let mut x = 0x9e37_79b9_7f4a_7c15u64;
	let mut next = move || {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x
	};
	let requests = (0..requests)
		.map(|id| {
			let dso = id % 5 != 0;
			Request {
				id,
				requester: if dso { Requester::Dso } else { Requester::Tso },
				area: if dso { 1 + (next() % 10) as u32 } else { 0 },
				direction: Direction::Up,
				max_price: 50_000 + next() % 100_000,
				min_quantity: 0,
				quantities: (0..slots)
					.map(|s| (s, 100_000 + (next() % 400_000) as Power))
					.collect(),
			}
		})
		.collect();
	let offers = (0..offers)
		.map(|id| {
			let d = 1 + (next() % 10) as u32;
			Offer {
				id,
				area: 100 + d * 10 + (next() % 10) as u32,
				direction: Direction::Up,
				price: 10_000 + next() % 150_000,
				min_quantity: 0,
				quantities: (0..slots)
					.map(|s| (s, 1_000 + (next() % 50_000) as Power))
					.collect(),
			}
		})
		.collect();
	Market {
		pricing: Pricing::PayAsBid,
		areas,
		requests,
		offers,
	}
}
