//! The fuzz targets' invariants (`platone_ingest::fuzz`, run for real by `scripts/fuzz.sh`) on
//! every input kept under `bridges/fuzz/corpus/` (seeds and past findings) and on a fixed set
//! of mutations of seed messages, so that CI replays them on every change (issue #12).

use platone_ingest::{fuzz, sim};

/// xorshift64*: a fixed, dependency-free stream of mutations.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	fn below(&mut self, n: usize) -> usize {
		(self.next() % n.max(1) as u64) as usize
	}
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
	let mut zero = || 0.0;
	let now = 1_796_090_400_000_000;
	vec![
		(
			"platone/v1/charlie/pmu/pmu-001",
			sim::pmu_sample(now - 20_000, 1, 1, &mut zero).into_bytes(),
		),
		(
			"platone/v1/charlie/sensor/pmu-002",
			br#"{"ts_us": 1796090390000000, "quantity": "temperature_milli_c", "value": 21500}"#
				.to_vec(),
		),
		(
			"platone/v1/charlie/meter/meter-001",
			sim::meter_readings("meter-001", now - 900_000_000, 1.25, 0.5).into_bytes(),
		),
		(
			"platone/v1/charlie/meter/head-end",
			sim::meter_document(
				"m",
				&[
					("meter-001", &[(now - 900_000_000, 1.0, 0.0)]),
					("meter-003", &[(now, 2.0, 0.1)]),
				],
			)
			.into_bytes(),
		),
	]
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
	let mut data = seed.to_vec();
	for _ in 0..=rng.below(4) {
		match rng.below(5) {
			0 if !data.is_empty() => {
				let i = rng.below(data.len());
				data[i] ^= 1 << rng.below(8);
			}
			1 if !data.is_empty() => data.truncate(rng.below(data.len())),
			2 => {
				let i = rng.below(data.len() + 1);
				let from = rng.below(other.len());
				let to = (from + rng.below(64)).min(other.len());
				data.splice(i..i, other[from..to].iter().copied());
			}
			3 if !data.is_empty() => {
				let i = rng.below(data.len());
				const BYTES: &[u8] = b"<>\"&;:.{}[]0-9eE+\n\0\xff";
				data[i] = BYTES[rng.below(BYTES.len())];
			}
			_ => {
				let i = rng.below(data.len() + 1);
				let j = (i + rng.below(32)).min(data.len());
				data.drain(i..j);
			}
		}
	}
	data
}

#[test]
fn kept_inputs_and_mutations_hold_the_invariants() {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
	let corpus = |target: &str| -> Vec<Vec<u8>> {
		std::fs::read_dir(dir.join(target))
			.map(|entries| {
				entries
					.flatten()
					.map(|e| std::fs::read(e.path()).unwrap())
					.collect()
			})
			.unwrap_or_default()
	};
	let messages = corpus("ingest_message");
	let documents = corpus("meter_readings_xml");
	assert!(
		!messages.is_empty() && !documents.is_empty(),
		"the corpus is missing"
	);
	for data in &messages {
		fuzz::message_bytes(data);
	}
	for data in &documents {
		fuzz::meter_readings(data);
	}
	let seeds = seeds();
	let senders = ["", "pmu-001", "meter-001", "head-end", "stranger"];
	let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
	for _ in 0..20_000 {
		let (topic, seed) = &seeds[rng.below(seeds.len())];
		let (_, other) = &seeds[rng.below(seeds.len())];
		let data = mutate(&mut rng, seed, other);
		fuzz::message(topic, senders[rng.below(senders.len())], &data);
		fuzz::meter_readings(&data);
	}
}
