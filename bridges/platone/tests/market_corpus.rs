//! The market fuzz target's invariants (`platone::fuzz_market`, run for real by
//! `scripts/fuzz.sh market`) on every input kept under `bridges/fuzz/corpus/market/` and on
//! truncations of the hand-written seeds (`*.json`), so that CI replays them (issue #13).

#[test]
fn kept_market_files_and_their_truncations_hold_the_invariants() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/market");
	let mut seeds = 0;
	for entry in std::fs::read_dir(&dir)
		.expect("the market corpus")
		.flatten()
	{
		let data = std::fs::read(entry.path()).expect("a corpus file");
		if entry.path().extension().is_some_and(|x| x == "json") {
			seeds += 1;
			// Each seed is a market the parser takes and the crate clears.
			let text = std::str::from_utf8(&data).expect("a JSON seed");
			platone::market::clear_json(text, 4).expect("a seed clears");
			for end in (0..data.len()).step_by(5) {
				platone::fuzz_market(&data[..end]);
			}
		}
		platone::fuzz_market(&data);
	}
	assert!(seeds >= 2, "the market seeds are missing");
}
