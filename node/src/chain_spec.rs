//! Chain specifications: built in from the runtime's genesis presets, or read from a file.

use platone_runtime::{
	genesis::{BENCH_PRESET, LOCAL_CONSORTIUM_PRESET},
	WASM_BINARY,
};
use sc_service::ChainType;

pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| "this node was built without its wasm runtime".into())
}

fn properties() -> sc_service::Properties {
	let mut p = sc_service::Properties::new();
	p.insert("tokenSymbol".into(), "PLT".into());
	p.insert("tokenDecimals".into(), 12.into());
	p.insert("ss58Format".into(), 42.into());
	p
}

pub fn development() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Platone Development")
		.with_id("platone_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// The development chain with 1,000 gateway PMUs (`scripts/bench-certify.sh`).
pub fn bench() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Platone Benchmark")
		.with_id("platone_bench")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(BENCH_PRESET)
		.with_properties(properties())
		.build())
}

pub fn local_consortium() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Platone Local Consortium")
		.with_id("platone_local_consortium")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(LOCAL_CONSORTIUM_PRESET)
		.with_properties(properties())
		.build())
}

/// Reads a chain spec file. The specs committed in `chain-spec/` carry no wasm (so that they
/// stay reviewable and do not depend on byte-identical wasm builds): the node fills in the
/// runtime it embeds. A spec that carries `code`, like a raw launch spec, is used as it is.
pub fn from_file(path: &std::path::Path) -> Result<ChainSpec, String> {
	let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
	let mut json: serde_json::Value =
		serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
	if let Some(runtime_genesis) = json.pointer_mut("/genesis/runtimeGenesis") {
		if let Some(obj) = runtime_genesis.as_object_mut() {
			if !obj.contains_key("code") {
				obj.insert("code".into(), format!("0x{}", hex(wasm()?)).into());
			}
		}
	}
	let bytes = serde_json::to_vec(&json).map_err(|e| e.to_string())?;
	ChainSpec::from_json_bytes(bytes)
}

fn hex(bytes: &[u8]) -> String {
	use std::fmt::Write;
	bytes
		.iter()
		.fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
			let _ = write!(s, "{b:02x}");
			s
		})
}
