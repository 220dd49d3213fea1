//! The market's clearing offline (`platone market clear`, issue #13; FR-MP-MOMV-01) and a
//! session's sealed input as a market file (`platone audit market --export`), with the crate
//! the pallet runs.

use platone_chain::market::SessionRecords;
use platone_clearing::{Market, Offer, Request};

/// Parses and clears a market given as JSON; the outcome as JSON.
pub fn clear_json(text: &str, exact_limit: usize) -> Result<String, String> {
	let market: Market =
		serde_json::from_str(text).map_err(|e| format!("not a market (JSON): {e}"))?;
	let outcome = platone_clearing::clear_with(&market, exact_limit)
		.map_err(|e| format!("the market does not clear: {e}"))?;
	serde_json::to_string_pretty(&outcome).map_err(|e| e.to_string())
}

/// A session's sealed input as one market, for `platone market clear` to reproduce.
pub fn session_market(r: &SessionRecords) -> Market {
	Market {
		pricing: r.info.pricing,
		areas: r
			.areas
			.iter()
			.map(|&(id, parent)| platone_clearing::Area { id, parent })
			.collect(),
		requests: r
			.requests
			.iter()
			.map(|(id, q)| Request {
				id: *id,
				requester: q.requester,
				area: q.input.area,
				direction: q.input.direction,
				max_price: q.input.max_price,
				min_quantity: q.input.min_quantity,
				quantities: q.input.quantities.clone(),
			})
			.collect(),
		offers: r
			.offers
			.iter()
			.map(|(id, o)| Offer {
				id: *id,
				area: o.area,
				direction: o.input.direction,
				price: o.input.price,
				min_quantity: o.input.min_quantity,
				quantities: o.input.quantities.clone(),
			})
			.collect(),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	// FR-MP-MOMV-01: the offline clearing reads the crate's JSON and prints its outcome; bad
	// input is refused with a reason.
	#[test]
	fn clears_a_market_file_and_refuses_bad_ones() {
		let market = r#"{
			"pricing": "pay-as-bid",
			"areas": [{"id": 1, "parent": null}, {"id": 2, "parent": 1}],
			"requests": [{"id": 1, "requester": "dso", "area": 1, "direction": "up",
				"max_price": 100, "min_quantity": 0, "quantities": [[0, 5000]]}],
			"offers": [{"id": 2, "area": 2, "direction": "up", "price": 40,
				"min_quantity": 0, "quantities": [[0, 3000]]}]
		}"#;
		let out = clear_json(market, 4).expect("clears");
		let outcome: platone_clearing::Outcome = serde_json::from_str(&out).expect("outcome");
		assert_eq!(outcome.awards.len(), 1);
		assert_eq!(outcome.awards[0].quantity, 3_000);
		assert_eq!(outcome.awards[0].price, 40);
		assert!(clear_json("{", 4).unwrap_err().contains("not a market"));
		let unknown = market.replace(r#""area": 2, "direction""#, r#""area": 9, "direction""#);
		assert!(clear_json(&unknown, 4)
			.unwrap_err()
			.contains("does not clear"));
	}
}
