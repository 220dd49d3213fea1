//! Any bytes as a MeterReadings document (IEC 61968-9 XML): no panic; what parses is judged
//! reading by reading.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
	platone_ingest::fuzz::meter_readings(data);
});
