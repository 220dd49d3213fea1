//! The config fuzz target's invariants (`platone::fuzz_config`, run for real by
//! `scripts/fuzz.sh config`) on every input kept under `bridges/fuzz/corpus/config/` and on
//! truncations of each, so that CI replays them on every change (issue #12).

#[test]
fn kept_configs_and_their_truncations_hold_the_invariants() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/config");
	let kept: Vec<Vec<u8>> = std::fs::read_dir(&dir)
		.expect("the config corpus")
		.flatten()
		.map(|e| std::fs::read(e.path()).unwrap())
		.collect();
	assert!(kept.len() >= 3, "the config corpus is missing");
	for data in &kept {
		for end in (0..=data.len()).step_by(7) {
			platone::fuzz_config(&data[..end]);
		}
		platone::fuzz_config(data);
	}
}
