//! Any payload through ingest's validation, on the topics and from the senders that matter
//! (first two bytes), or on any topic (first byte 255: the topic runs to the first newline):
//! no panic, and every message ends stored or dead-lettered with its payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

const TOPICS: [&str; 6] = [
	"platone/v1/charlie/pmu/pmu-001",
	"platone/v1/charlie/sensor/pmu-002",
	"platone/v1/charlie/meter/meter-001",
	"platone/v1/charlie/meter/head-end",
	"platone/v1/http/meter/batch",
	"platone/v1/charlie/pmu/pmu-999",
];
const SENDERS: [&str; 5] = ["", "pmu-001", "meter-001", "head-end", "stranger"];

fuzz_target!(|data: &[u8]| {
	let [which, who, rest @ ..] = data else {
		return;
	};
	let sender = SENDERS[usize::from(*who) % SENDERS.len()];
	if *which == 255 {
		let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
		let topic = String::from_utf8_lossy(&rest[..split]);
		let payload = rest.get(split + 1..).unwrap_or_default();
		platone_ingest::fuzz::message(&topic, sender, payload);
	} else {
		let topic = TOPICS[usize::from(*which) % TOPICS.len()];
		platone_ingest::fuzz::message(topic, sender, rest);
	}
});
