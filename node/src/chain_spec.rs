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

/// A spec built in from one of the runtime's genesis presets.
fn from_preset(name: &str, id: &str, kind: ChainType, preset: &str) -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name(name)
		.with_id(id)
		.with_chain_type(kind)
		.with_genesis_config_preset_name(preset)
		.with_properties(properties())
		.build())
}

pub fn development() -> Result<ChainSpec, String> {
	from_preset(
		"Platone Development",
		"platone_dev",
		ChainType::Development,
		sp_genesis_builder::DEV_RUNTIME_PRESET,
	)
}

/// The development chain with 1,000 gateway PMUs (`scripts/bench-certify.sh`).
pub fn bench() -> Result<ChainSpec, String> {
	from_preset(
		"Platone Benchmark",
		"platone_bench",
		ChainType::Development,
		BENCH_PRESET,
	)
}

pub fn local_consortium() -> Result<ChainSpec, String> {
	from_preset(
		"Platone Local Consortium",
		"platone_local_consortium",
		ChainType::Local,
		LOCAL_CONSORTIUM_PRESET,
	)
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
