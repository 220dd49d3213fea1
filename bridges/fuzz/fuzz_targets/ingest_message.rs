//! Any MQTT topic and payload through ingest's validation, as any sender: no panic, and every
//! message ends stored or dead-lettered with its payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, &[u8])| {
	let (topic, sender, payload) = input;
	platone_ingest::fuzz::message(topic, sender, payload);
});
