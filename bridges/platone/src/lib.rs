//! The `platone` binary's command line and config file, as a library: for its fuzz target
//! (`bridges/fuzz`, target `config`) and the corpus replay. Not meant for other crates.

pub mod cli;
pub mod config;
pub mod market;
pub mod mechanism;
pub mod settle;

/// Fuzz entry point: any bytes as a config file. Parsing and turning each section into its
/// role's settings never panics, and whatever `platone config` prints parses again. (Not the
/// certifier's settings, which read the key file, nor the token checks, which read key files
/// or fetch a JWKS.)
pub fn fuzz_config(data: &[u8]) {
	let Ok(text) = std::str::from_utf8(data) else {
		return;
	};
	let Ok(mut config) = toml::from_str::<config::Config>(text) else {
		return;
	};
	for dev in [false, true] {
		config.dev = dev;
		let _ = config.directory();
		let _ = config.gateway_account(None);
	}
	let _ = config.ingest();
	let _ = config.sim();
	let _ = config::tls_files(
		"http",
		&config.http.tls_cert,
		&config.http.tls_key,
		&config.http.tls_client_ca,
	);
	if let Ok(printed) = toml::to_string_pretty(&config.redacted()) {
		if let Err(e) = toml::from_str::<config::Config>(&printed) {
			panic!("`platone config` printed a config it cannot read back: {e}\n{printed}");
		}
	}
}

/// Fuzzing `platone market clear`'s input: any JSON the parser accepts clears into awards the
/// crate's own feasibility check accepts, or is refused with an error; never a panic.
pub fn fuzz_market(data: &[u8]) {
	let Ok(text) = std::str::from_utf8(data) else {
		return;
	};
	let Ok(market) = serde_json::from_str::<platone_clearing::Market>(text) else {
		return;
	};
	if let Ok(outcome) = platone_clearing::clear_with(&market, 4) {
		if let Err(e) = platone_clearing::check_feasible(&market, &outcome.awards) {
			panic!("cleared into infeasible awards: {e}");
		}
	}
}

/// Fuzzing a metering submission's records as the settlement pallet derives a slot's energy from
/// them (`pallet_settlement::metering`): any SCALE bytes `(meters, slot start ms, slot length ms,
/// records)` either give a metering of exactly those records or are refused; never a panic.
pub fn fuzz_settlement_metering(data: &[u8]) {
	use codec::Decode;
	type Input = (
		Vec<u64>,
		u64,
		u32,
		Vec<platone_primitives::MeasurementRecord>,
	);
	let Ok((meters, start_ms, slot_ms, records)) = Input::decode(&mut &data[..]) else {
		return;
	};
	let end_ms = start_ms.saturating_add(slot_ms.into());
	if let Ok(m) = pallet_settlement::metering::slot_metering(&meters, start_ms, end_ms, &records) {
		assert!(!meters.is_empty(), "metered without meters");
		assert_eq!(m.readings as usize, records.len(), "a reading left out");
		assert!(
			records.len() >= 4 * meters.len(),
			"fewer than two readings per meter and flow"
		);
	}
}
