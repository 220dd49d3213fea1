//! The settlement-metering fuzz target's invariants (`platone::fuzz_settlement_metering`, run
//! for real by `scripts/fuzz.sh settlement_metering`) on every input kept under
//! `bridges/fuzz/corpus/settlement_metering/` and on truncations of the seeds (`*.scale`), so
//! that CI replays them (issue #14).

use codec::Decode;

#[test]
fn kept_metering_inputs_and_their_truncations_hold_the_invariants() {
	let dir =
		std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/settlement_metering");
	let mut seeds = 0;
	for entry in std::fs::read_dir(&dir)
		.expect("the settlement metering corpus")
		.flatten()
	{
		let data = std::fs::read(entry.path()).expect("a corpus file");
		if entry.path().extension().is_some_and(|x| x == "scale") {
			seeds += 1;
			// Each seed is a complete slot that meters.
			type Input = (
				Vec<u64>,
				u64,
				u32,
				Vec<platone_primitives::MeasurementRecord>,
			);
			let (meters, start, len, records) =
				Input::decode(&mut &data[..]).expect("a seed decodes");
			pallet_settlement::metering::slot_metering(
				&meters,
				start,
				start + u64::from(len),
				&records,
			)
			.expect("a seed meters");
			for end in 0..data.len() {
				platone::fuzz_settlement_metering(&data[..end]);
			}
		}
		platone::fuzz_settlement_metering(&data);
	}
	assert!(seeds >= 2, "the settlement metering seeds are missing");
}
