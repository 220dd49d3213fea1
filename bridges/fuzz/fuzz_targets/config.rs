//! Any bytes as the `platone` config file: no panic while parsing it or deriving each role's
//! settings from it, and what `platone config` prints of it parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	platone::fuzz_config(data);
});
