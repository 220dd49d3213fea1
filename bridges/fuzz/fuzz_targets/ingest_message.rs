//! Any payload through ingest's validation, on the topics and from the senders that matter
//! (first two bytes), or on any topic (first byte 255: the topic runs to the first newline):
//! no panic, and every message ends stored or dead-lettered with its payload.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	platone_ingest::fuzz::message_bytes(data);
});
