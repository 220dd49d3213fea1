//! The committed `chain-spec/local-consortium.json` matches what the runtime's preset builds
//! today (issue #2), and pins the genesis hash this node builds from it, so that a node of
//! another release refuses it rather than found another chain (issue #11). Regenerate with
//! `scripts/chain-spec.sh` after changing genesis or the runtime.

use std::{path::Path, process::Command};

use platone_tests::{node_binary, wait_for, Node, Scratch};
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

	let mut committed = committed;
	if let Some(p) = committed
		.pointer_mut("/properties")
		.and_then(Value::as_object_mut)
	{
		p.remove("genesisHash");
	}
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

fn committed_spec() -> (std::path::PathBuf, Value) {
	let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../chain-spec/local-consortium.json");
	let spec =
		serde_json::from_slice(&std::fs::read(&path).expect("read committed spec")).expect("JSON");
	(path, spec)
}

#[test]
fn committed_spec_pins_the_genesis_this_node_builds() {
	let (path, spec) = committed_spec();
	let pinned = spec["properties"]["genesisHash"]
		.as_str()
		.expect("the committed spec pins its genesis hash")
		.to_owned();
	let scratch = Scratch::new("chain-spec-pin");
	let mut node = Node::start_plain(
		"pinned",
		&scratch.0,
		&[
			"--chain".into(),
			path.display().to_string(),
			"--base-path".into(),
			scratch.0.join("db").display().to_string(),
		],
	);
	let genesis = wait_for(
		"the node's genesis hash",
		std::time::Duration::from_secs(60),
		|| {
			node.assert_running();
			node.rpc("chain_getBlockHash", serde_json::json!([0]))
				.ok()
				.and_then(|v| v.as_str().map(str::to_owned))
		},
	);
	assert_eq!(
		genesis, pinned,
		"this node builds another genesis from the committed spec: run scripts/chain-spec.sh"
	);
}

#[test]
fn a_node_refuses_a_spec_whose_genesis_it_does_not_build() {
	let (_, mut spec) = committed_spec();
	spec["properties"]["genesisHash"] = Value::from(format!("0x{}", "ab".repeat(32)));
	let scratch = Scratch::new("chain-spec-wrong-pin");
	let path = scratch.0.join("drifted.json");
	std::fs::write(&path, spec.to_string()).unwrap();
	let mut child = Command::new(node_binary())
		.arg("--chain")
		.arg(&path)
		.arg("--base-path")
		.arg(scratch.0.join("db"))
		.args([
			"--rpc-port",
			"0",
			"--port",
			"0",
			"--no-prometheus",
			"--no-telemetry",
		])
		.stdout(std::process::Stdio::null())
		.stderr(std::process::Stdio::piped())
		.spawn()
		.expect("spawn platone-node");
	let status = wait_for(
		"the node to refuse the spec",
		std::time::Duration::from_secs(60),
		|| child.try_wait().expect("wait"),
	);
	let mut stderr = String::new();
	std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
	assert!(!status.success());
	assert!(stderr.contains("pins genesis"), "{stderr}");
}
