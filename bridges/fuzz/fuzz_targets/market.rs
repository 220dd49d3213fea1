//! Any bytes as the market file of `platone market clear`: parsed, cleared, and the awards
//! checked feasible by the crate; no panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	platone::fuzz_market(data);
});
