//! The `platone` binary's command line and config file, as a library: for its fuzz target
//! (`bridges/fuzz`, target `config`) and the corpus replay. Not meant for other crates.

pub mod cli;
pub mod config;

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
