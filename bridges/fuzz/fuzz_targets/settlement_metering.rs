//! Any bytes as a settlement metering submission's records: a slot's energy is derived from
//! exactly those records or they are refused; no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	platone::fuzz_settlement_metering(data);
});
