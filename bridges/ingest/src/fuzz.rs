//! Entry points of the fuzz targets (`bridges/fuzz`, `scripts/fuzz.sh`) and of their corpus
//! test in CI: outside input into a parser, and what must hold for any input.

use crate::{cim, mqtt::process, DataServer, Directory, Limits, Sender};

/// 2026-12-01T02:00:00Z: a fixed clock, so that a finding replays.
const NOW_US: u64 = 1_796_090_400_000_000;

const LIMITS: Limits = Limits {
	now_us: NOW_US,
	max_future_us: 60_000_000,
};

/// A message on `topic` from `sender` (empty: the local operator) through ingest's validation.
/// Nothing panics, nothing disappears (a message that stores nothing leaves a dead letter),
/// every dead letter keeps the payload as received, and every record is canonical.
pub fn message(topic: &str, sender: &str, payload: &[u8]) {
	let directory = Directory::development(10, 4).with_data_servers([DataServer {
		name: "head-end".into(),
		meters: vec!["meter-001".into(), "meter-003".into()],
	}]);
	let sender = if sender.is_empty() {
		Sender::Local
	} else {
		Sender::Identity(sender)
	};
	let (mut out, mut dead) = (Vec::new(), Vec::new());
	let _ = process(
		topic,
		sender,
		payload,
		&directory,
		&LIMITS,
		NOW_US / 1_000,
		&mut out,
		&mut dead,
	);
	assert!(!out.is_empty() || !dead.is_empty(), "input disappeared");
	for letter in &dead {
		assert_eq!(letter.payload, payload, "a dead letter lost its payload");
	}
	for m in &out {
		let record = m.decode().expect("stored bytes decode");
		assert_eq!(record.canonical_bytes(), m.record, "not canonical");
		assert!(record.timestamp_us / 1_000 <= NOW_US / 1_000 + 60_000);
	}
}

/// Any bytes as a MeterReadings document, every meter known.
pub fn meter_readings(data: &[u8]) {
	if let Ok(doc) = cim::parse(data, &LIMITS, |_| Ok(11)) {
		for meter in &doc.meters {
			for reading in &meter.readings {
				if let Ok(record) = &reading.result {
					assert_eq!(record.dataset, 11);
				}
			}
		}
	}
}

const TOPICS: [&str; 6] = [
	"platone/v1/charlie/pmu/pmu-001",
	"platone/v1/charlie/sensor/pmu-002",
	"platone/v1/charlie/meter/meter-001",
	"platone/v1/charlie/meter/head-end",
	"platone/v1/http/meter/batch",
	"platone/v1/charlie/pmu/pmu-999",
];
const SENDERS: [&str; 5] = ["", "pmu-001", "meter-001", "head-end", "stranger"];

/// The `ingest_message` target's input: the first byte picks the topic (255: the topic runs to
/// the first newline), the second the sender, the rest is the payload.
pub fn message_bytes(data: &[u8]) {
	let [which, who, rest @ ..] = data else {
		return;
	};
	let sender = SENDERS[usize::from(*who) % SENDERS.len()];
	if *which == 255 {
		let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
		let topic = String::from_utf8_lossy(&rest[..split]);
		message(&topic, sender, rest.get(split + 1..).unwrap_or_default());
	} else {
		message(TOPICS[usize::from(*which) % TOPICS.len()], sender, rest);
	}
}
