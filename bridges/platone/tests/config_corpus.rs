//! The config fuzz target's invariants (`platone::fuzz_config`, run for real by
//! `scripts/fuzz.sh config`) on every input kept under `bridges/fuzz/corpus/config/` and on
//! truncations of the hand-written seeds (`*.toml`; `cargo fuzz cmin` renames the rest, so
//! restore these after it), so that CI replays them on every change (issue #12).

#[test]
fn kept_configs_and_their_truncations_hold_the_invariants() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/config");
	let kept: Vec<(bool, Vec<u8>)> = std::fs::read_dir(&dir)
		.expect("the config corpus")
		.flatten()
		.map(|e| {
			let seed = e.path().extension().is_some_and(|x| x == "toml");
			(seed, std::fs::read(e.path()).unwrap())
		})
		.collect();
	assert!(
		kept.iter().filter(|(seed, _)| *seed).count() >= 3,
		"the config seeds are missing"
	);
	for (seed, data) in &kept {
		if *seed {
			for end in (0..data.len()).step_by(7) {
				platone::fuzz_config(&data[..end]);
			}
		}
		platone::fuzz_config(data);
	}
}
