//! The committed `chain-spec/local-consortium.json` matches what the runtime's preset builds
//! today (issue #2). Regenerate with `scripts/chain-spec.sh` after changing genesis.

use std::{path::Path, process::Command};

use platone_tests::node_binary;
use serde_json::Value;

fn without_code(mut spec: Value) -> Value {
	if let Some(rg) = spec
		.pointer_mut("/genesis/runtimeGenesis")
		.and_then(Value::as_object_mut)
	{
		rg.remove("code");
	}
	spec
}

#[test]
fn committed_local_consortium_spec_matches_runtime() {
	let out = Command::new(node_binary())
		.args([
			"build-spec",
			"--disable-default-bootnode",
			"--chain",
			"local-consortium",
		])
		.output()
		.expect("run build-spec");
	assert!(
		out.status.success(),
		"{}",
		String::from_utf8_lossy(&out.stderr)
	);
	let built: Value = serde_json::from_slice(&out.stdout).expect("build-spec prints JSON");

	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chain-spec/local-consortium.json");
	let committed: Value =
		serde_json::from_slice(&std::fs::read(&path).expect("read committed spec")).expect("JSON");

	assert_eq!(
		without_code(built),
		committed,
		"chain-spec/local-consortium.json has drifted from the runtime preset: run scripts/chain-spec.sh"
	);
}

#[test]
fn committed_spec_loads_with_the_embedded_runtime() {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chain-spec/local-consortium.json");
	let raw = Command::new(node_binary())
		.args(["build-spec", "--raw", "--chain"])
		.arg(&path)
		.output()
		.expect("run build-spec --raw");
	assert!(
		raw.status.success(),
		"{}",
		String::from_utf8_lossy(&raw.stderr)
	);
	let spec: Value = serde_json::from_slice(&raw.stdout).expect("raw spec is JSON");
	let top = spec
		.pointer("/genesis/raw/top")
		.and_then(Value::as_object)
		.expect("raw storage");
	// `:code` is the well-known storage key of the runtime blob.
	assert!(
		top.contains_key("0x3a636f6465"),
		"raw genesis carries the runtime"
	);
}
