//! The four-validator local consortium (issue #2): finality survives the loss of a validator,
//! the lost validator catches up and votes again, and a node outside the authorised peer set
//! cannot join. When the council changes the validator set, an auditor who pinned the genesis
//! authority set follows the change to the new set without trusting the node (issue #5). When
//! half the validators die, the council recovers finality with a forced change (issue #11).

use std::{sync::Mutex, time::Duration};

use platone_tests::{free_port, peer_id, wait_for, Node, Scratch};

/// Each test runs a whole network of four nodes. Under `cargo test` (one process per binary)
/// this keeps them apart; `scripts/test.sh` runs each test in its own process under nextest,
/// whose `network` test group lets two run at once (`.config/nextest.toml`).
static NETWORK: Mutex<()> = Mutex::new(());

const VALIDATORS: [(&str, &str); 4] = [
	("alice", "dso-north"),
	("bob", "dso-south"),
	("charlie", "tso"),
	("dave", "market-operator"),
];

/// Well-known development node key number `i` (1-based), as in the runtime's genesis preset.
fn node_key(i: usize) -> String {
	format!("{i:064x}")
}

const LONG: Duration = Duration::from_secs(240);

/// Starts the four validators of `chain` (the `local-consortium` preset, or a spec file with
/// the same validators), each booting from all others.
fn start_consortium(scratch: &Scratch, chain: &str) -> Vec<Node> {
	let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
	let bootnodes: Vec<String> = (0..4)
		.map(|i| {
			format!(
				"/ip4/127.0.0.1/tcp/{}/p2p/{}",
				ports[i],
				peer_id(&node_key(i + 1), &scratch.0)
			)
		})
		.collect();
	VALIDATORS
		.iter()
		.enumerate()
		.map(|(i, (key, name))| {
			let mut args = vec![
				"--chain".to_string(),
				chain.into(),
				"--base-path".into(),
				scratch.0.join(name).display().to_string(),
				format!("--{key}"),
				"--node-key".into(),
				node_key(i + 1),
				"--bootnodes".into(),
			];
			args.extend(
				bootnodes
					.iter()
					.enumerate()
					.filter(|(j, _)| *j != i)
					.map(|(_, b)| b.clone()),
			);
			Node::start_on(name, &scratch.0, ports[i], &args)
		})
		.collect()
}

/// A council motion through `node`: Alice proposes `call` at threshold 3 (of the four seats),
/// she, Bob and Charlie vote aye, Alice closes. Each step waits for its inclusion. Council
/// members sign with their own keys, whichever node they submit to.
fn council_motion(node: &Node, call: platone_runtime::RuntimeCall) {
	use codec::Encode;
	use platone_runtime::RuntimeCall;
	use platone_tests::tx;
	use sp_core::Pair;
	use sp_keyring::Sr25519Keyring;

	let genesis = tx::genesis_hash(node);
	// The chain's own runtime version: the upgrade test runs motions on an older release.
	let version = tx::runtime_version(node);
	let submit = |who: Sr25519Keyring, call: RuntimeCall| {
		let pair = who.pair();
		let nonce = tx::account_nonce(node, &pair.public());
		tx::submit(node, &tx::signed_for(call, &pair, nonce, genesis, version)).expect("admitted");
		wait_for("inclusion", LONG, || {
			(tx::account_nonce(node, &pair.public()) > nonce).then_some(())
		});
	};
	let length_bound = call.encoded_size() as u32;
	let proposal_hash =
		<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&call.encode());
	submit(
		Sr25519Keyring::Alice,
		RuntimeCall::Consortium(pallet_collective::Call::propose {
			threshold: 3,
			proposal: Box::new(call),
			length_bound,
		}),
	);
	for voter in [
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
	] {
		submit(
			voter,
			RuntimeCall::Consortium(pallet_collective::Call::vote {
				proposal: proposal_hash,
				index: 0,
				approve: true,
			}),
		);
	}
	submit(
		Sr25519Keyring::Alice,
		RuntimeCall::Consortium(pallet_collective::Call::close {
			proposal_hash,
			index: 0,
			proposal_weight_bound: frame_support::weights::Weight::from_parts(
				500_000_000_000,
				1_000_000,
			),
			length_bound,
		}),
	);
}

fn finalized_at_least(node: &Node, n: u64) -> Option<u64> {
	node.finalized_number().filter(|f| *f >= n)
}

#[test]
fn finality_survives_a_killed_validator_which_then_catches_up() {
	let _serial = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
	let scratch = Scratch::new("consortium-failover");
	let mut nodes = start_consortium(&scratch, "local-consortium");

	for node in &nodes {
		wait_for(&format!("{} to finalise #3", node.name), LONG, || {
			finalized_at_least(node, 3)
		});
	}
	for node in &nodes {
		assert_eq!(
			node.peer_count(),
			Some(3),
			"{} should see the other three validators",
			node.name
		);
	}

	// Three of four GRANDPA voters are a supermajority: finality must go on without the TSO.
	nodes[2].kill9();
	let before = nodes[0].finalized_number().expect("alice answers");
	let after = wait_for("finality to advance with the TSO down", LONG, || {
		finalized_at_least(&nodes[0], before + 3)
	});
	assert!(after >= before + 3, "{}", nodes[0].log_tail());

	// The TSO restarts on its database, catches up with the finalised chain…
	nodes[2].restart();
	let target = nodes[0].finalized_number().expect("alice answers");
	wait_for("the restarted TSO to catch up", LONG, || {
		finalized_at_least(&nodes[2], target)
	});

	// …and votes again: with the market operator down as well, finality now needs the TSO.
	nodes[3].kill9();
	let before = nodes[0].finalized_number().expect("alice answers");
	wait_for(
		"finality to advance with the restarted TSO voting",
		LONG,
		|| finalized_at_least(&nodes[0], before + 3),
	);
	wait_for("the TSO itself to finalise new blocks", LONG, || {
		finalized_at_least(&nodes[2], before + 3)
	});
}

#[test]
fn unauthorised_node_cannot_join() {
	let _serial = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
	let scratch = Scratch::new("consortium-intruder");
	let nodes = start_consortium(&scratch, "local-consortium");
	// Every validator has run its offchain worker, which hands the authorised set to the network.
	for node in &nodes {
		wait_for(&format!("{} to finalise #2", node.name), LONG, || {
			finalized_at_least(node, 2)
		});
	}

	// A well-formed node with the right chain spec and all bootnodes, whose key is not in
	// pallet-node-authorization's well-known set.
	let bootnodes: Vec<String> = nodes
		.iter()
		.enumerate()
		.map(|(i, n)| {
			format!(
				"/ip4/127.0.0.1/tcp/{}/p2p/{}",
				n.p2p_port,
				peer_id(&node_key(i + 1), &scratch.0)
			)
		})
		.collect();
	let mut args = vec![
		"--chain".to_string(),
		"local-consortium".into(),
		"--base-path".into(),
		scratch.0.join("intruder").display().to_string(),
		"--node-key".into(),
		node_key(5),
		"--offchain-worker".into(),
		"always".into(),
		"--bootnodes".into(),
	];
	args.extend(bootnodes);
	let intruder = Node::start("intruder", &scratch.0, &args);
	let intruder_id = wait_for("the intruder's RPC", LONG, || intruder.local_peer_id());

	// Watch for 30 s: it must never gain a peer or a block, and no validator may list it.
	for _ in 0..30 {
		std::thread::sleep(Duration::from_secs(1));
		assert_eq!(
			intruder.peer_count(),
			Some(0),
			"intruder got a peer:\n{}",
			intruder.log_tail()
		);
		assert_eq!(intruder.best_number(), Some(0), "intruder synced a block");
	}
	for node in &nodes {
		let peers = node
			.rpc("system_peers", serde_json::json!([]))
			.expect("system_peers");
		assert!(
			!peers.to_string().contains(&intruder_id),
			"{} accepted the intruder: {peers}",
			node.name
		);
		assert_eq!(
			node.peer_count(),
			Some(3),
			"{} lost its validator peers",
			node.name
		);
	}
}

/// `platone authority-set` against a node (exit status checked), its JSON.
fn authority_set(
	node: &Node,
	scratch: &Scratch,
	from: Option<&std::path::Path>,
) -> serde_json::Value {
	let rpc = format!("ws://127.0.0.1:{}", node.rpc_port());
	let mut args = vec![
		"--config".to_string(),
		scratch.0.join("none.toml").display().to_string(),
		"authority-set".into(),
		"--rpc".into(),
		rpc,
	];
	if let Some(from) = from {
		args.extend(["--from".to_string(), from.display().to_string()]);
	}
	let out = std::process::Command::new(platone_tests::bridges::platone_binary())
		.args(&args)
		.env("RUST_LOG", "warn")
		.output()
		.expect("run platone");
	assert!(
		out.status.success(),
		"{}",
		String::from_utf8_lossy(&out.stderr)
	);
	serde_json::from_slice(&out.stdout).expect("authority set JSON")
}

#[test]
fn auditors_follow_a_validator_set_change_from_the_pinned_set() {
	use platone_runtime::RuntimeCall;
	use sp_keyring::Sr25519Keyring;

	let _serial = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
	let scratch = Scratch::new("consortium-set-change");
	std::fs::write(scratch.0.join("none.toml"), "").unwrap();
	let nodes = start_consortium(&scratch, "local-consortium");
	for node in &nodes {
		wait_for(&format!("{} to finalise #2", node.name), LONG, || {
			finalized_at_least(node, 2)
		});
	}
	let alice = &nodes[0];
	let genesis_set = authority_set(alice, &scratch, None);
	assert_eq!(genesis_set["set_id"], 0);
	assert_eq!(genesis_set["authorities"].as_array().map(Vec::len), Some(4));
	let pinned = scratch.0.join("set-0.json");
	std::fs::write(&pinned, genesis_set.to_string()).unwrap();

	// The council (the four operators; two thirds needed) adds a fifth validator, Eve's (its
	// node is not started: four of five voters online is still more than two thirds). The set
	// is at its floor of four, so a removal would be refused.
	let add = RuntimeCall::ConsortiumGovernance(pallet_consortium::Call::add_validator {
		operator: Sr25519Keyring::Eve.to_account_id(),
		aura: Sr25519Keyring::Eve.public().into(),
		grandpa: sp_keyring::Ed25519Keyring::Eve.public().into(),
	});
	council_motion(alice, add);

	// The node's own word, once the change block is final: set 1 with Eve.
	let current = wait_for("the new GRANDPA set to be final", LONG, || {
		let set = authority_set(alice, &scratch, None);
		(set["set_id"] == 1).then_some(set)
	});
	assert_eq!(current["authorities"].as_array().map(Vec::len), Some(5));
	// The auditor's: from the pinned genesis set, through the change block's justification.
	let followed = authority_set(alice, &scratch, Some(&pinned));
	assert_eq!(followed, current);
	// Finality goes on with four of the five voters.
	let before = alice.finalized_number().expect("alice answers");
	wait_for("finality after the change", LONG, || {
		finalized_at_least(alice, before + 2)
	});
}

/// Issue #11, and the recovery procedure of docs/registry.md: two of four validators die, so
/// GRANDPA (which needs more than two thirds) stalls for good while Aura still builds blocks.
/// The council forces the set down to the two survivors; finality resumes.
#[test]
fn the_council_recovers_finality_after_losing_half_the_validators() {
	use platone_runtime::RuntimeCall;
	use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

	let _serial = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
	let scratch = Scratch::new("consortium-stall");
	let mut nodes = start_consortium(&scratch, "local-consortium");
	for node in &nodes {
		wait_for(&format!("{} to finalise #2", node.name), LONG, || {
			finalized_at_least(node, 2)
		});
	}
	nodes[2].kill9();
	nodes[3].kill9();
	let alice = &nodes[0];

	// Stalled: blocks go on, finality does not.
	std::thread::sleep(Duration::from_secs(12));
	let stalled = alice.finalized_number().expect("alice answers");
	let best = alice.best_number().expect("alice answers");
	wait_for("blocks to go on without finality", LONG, || {
		alice.best_number().filter(|b| *b >= best + 3)
	});
	assert_eq!(
		alice.finalized_number(),
		Some(stalled),
		"finality should have stalled"
	);

	// The council (three of four seats: the operators hold their keys, not their nodes)
	// forces the set down to Alice and Bob, resuming from the last finalised block.
	let survivors = [
		(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
		(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
	]
	.map(|(sr, ed)| {
		let aura: sp_consensus_aura::sr25519::AuthorityId = sr.public().into();
		let grandpa: sp_consensus_grandpa::AuthorityId = ed.public().into();
		(sr.to_account_id(), aura, grandpa)
	});
	let force = RuntimeCall::ConsortiumGovernance(pallet_consortium::Call::force_set_validators {
		validators: frame_support::BoundedVec::truncate_from(survivors.to_vec()),
		best_finalized: stalled as u32,
		delay: 2,
	});
	council_motion(alice, force);

	// Both survivors finalise again, past the blocks that stalled.
	for node in &nodes[..2] {
		wait_for(&format!("{} to finalise again", node.name), LONG, || {
			finalized_at_least(node, stalled + 3)
		});
	}
}

/// The last release's runtime (spec 102) and the spec it shipped with, as a spec file that
/// carries that code, so the node does not fill in its own.
fn last_release_spec(scratch: &Scratch) -> String {
	let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/release-102");
	let mut spec: serde_json::Value = serde_json::from_slice(
		&std::fs::read(dir.join("local-consortium.json")).expect("release spec"),
	)
	.expect("JSON");
	let code = std::fs::read(dir.join("runtime.wasm.zst")).expect("release runtime");
	spec["genesis"]["runtimeGenesis"]["code"] = platone_tests::tx::hex(&code).into();
	let path = scratch.0.join("release-102.json");
	std::fs::write(&path, spec.to_string()).expect("write spec");
	path.display().to_string()
}

fn storage_key(pallet: &str, item: &str) -> Vec<u8> {
	frame_support::storage::storage_prefix(pallet.as_bytes(), item.as_bytes()).to_vec()
}

fn storage_version(node: &Node, pallet: &str) -> u16 {
	use codec::Decode;
	platone_tests::tx::storage(node, &storage_key(pallet, ":__STORAGE_VERSION__:"))
		.map(|v| u16::decode(&mut &v[..]).expect("a storage version"))
		.unwrap_or(0)
}

/// The PoMs' stored values, by key.
fn pom_values(node: &Node) -> Vec<Vec<u8>> {
	use platone_tests::tx;
	let keys = tx::storage_keys(node, &storage_key("Registry", "Poms"));
	assert!(!keys.is_empty(), "the release's genesis has PoMs");
	keys.iter()
		.map(|k| tx::storage(node, k).expect("listed key has a value"))
		.collect()
}

/// Issue #11, "Upgrades", and the procedure in docs/registry.md: a network launched on the last
/// release (spec 102, with sudo and v0 storage) is upgraded by the council to this tree's
/// runtime. Three of four seats authorise the code's hash as root; anyone then applies the
/// code. Blocks and finality go on across the upgrade on every validator, and the migrations
/// ran: the registry's PoMs have their v1 layout, the operator index is filled, both pallets
/// are at storage version 1, and sudo's storage is gone.
#[test]
fn the_council_upgrades_the_last_release_and_its_storage_migrates() {
	use codec::{DecodeAll, Encode};
	use platone_runtime::{AccountId, RuntimeCall};
	use platone_tests::tx;
	use sp_core::Pair;
	use sp_keyring::Sr25519Keyring;

	let _serial = NETWORK.lock().unwrap_or_else(|e| e.into_inner());
	let scratch = Scratch::new("consortium-upgrade");
	let spec = last_release_spec(&scratch);
	let nodes = start_consortium(&scratch, &spec);
	for node in &nodes {
		wait_for(&format!("{} to finalise #2", node.name), LONG, || {
			finalized_at_least(node, 2)
		});
	}
	let alice = &nodes[0];
	assert_eq!(tx::runtime_version(alice), (102, 2), "the release runs");
	assert_eq!(storage_version(alice, "Registry"), 0);
	assert_eq!(storage_version(alice, "Certification"), 0);
	let sudo = <frame_support::Twox128 as frame_support::StorageHasher>::hash(b"Sudo");
	assert!(
		!tx::storage_keys(alice, &sudo).is_empty(),
		"the release has sudo's storage (no key on this chain, but its version)"
	);
	let before = pom_values(alice);
	for pom in &before {
		assert!(
			pallet_registry::Pom::<AccountId>::decode_all(&mut &pom[..]).is_err(),
			"v0 PoMs lack the assignment time"
		);
	}
	assert!(tx::storage_keys(alice, &storage_key("Registry", "OperatorAreas")).is_empty());

	// Applied compressed, as nodes accept `:code`: the raw wasm (6 MiB since pallet-contracts)
	// exceeds the 5 MiB block.
	let wasm = platone_runtime::WASM_BINARY.expect("the wasm runtime is built");
	let code = sp_maybe_compressed_blob::compress_weakly(
		wasm,
		sp_maybe_compressed_blob::CODE_BLOB_BOMB_LIMIT,
	)
	.expect("the runtime is under the bomb limit");
	assert!(code.len() < wasm.len() / 2, "compressed");
	let code_hash = <sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(&code);
	council_motion(
		alice,
		RuntimeCall::ConsortiumGovernance(pallet_consortium::Call::dispatch_as_root {
			call: Box::new(RuntimeCall::System(frame_system::Call::authorize_upgrade {
				code_hash,
			})),
		}),
	);
	wait_for("the council to authorise the code", LONG, || {
		tx::storage(alice, &storage_key("System", "AuthorizedUpgrade"))
	});

	// Whoever holds the code may apply it; the authorisation is what the council voted.
	let pair = Sr25519Keyring::Dave.pair();
	let nonce = tx::account_nonce(alice, &pair.public());
	let apply = RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code });
	tx::submit(
		alice,
		&tx::signed_for(
			apply,
			&pair,
			nonce,
			tx::genesis_hash(alice),
			tx::runtime_version(alice),
		),
	)
	.expect("admitted");
	let new = (
		platone_runtime::VERSION.spec_version,
		platone_runtime::VERSION.transaction_version,
	);
	for node in &nodes {
		wait_for(
			&format!("{} to run the new runtime", node.name),
			LONG,
			|| (tx::try_runtime_version(node) == Some(new)).then_some(()),
		);
	}
	let upgraded_at = alice.best_number().expect("alice answers");
	for node in &nodes {
		wait_for(
			&format!("{} to finalise past the upgrade", node.name),
			LONG,
			|| finalized_at_least(node, upgraded_at + 2),
		);
	}

	assert_eq!(storage_version(alice, "Registry"), 1);
	assert_eq!(storage_version(alice, "Certification"), 1);
	assert!(
		tx::storage_keys(alice, &sudo).is_empty(),
		"sudo's storage is removed"
	);
	let after = pom_values(alice);
	assert_eq!(after.len(), before.len(), "no PoM is lost");
	for (old, new) in before.iter().zip(&after) {
		let pom = pallet_registry::Pom::<AccountId>::decode_all(&mut &new[..]).expect("v1 layout");
		assert_eq!(pom.gateway_since_ms, 0);
		assert_eq!(pom.previous_gateway, None);
		let v0 = (&pom.pod, &pom.kind, &pom.device_key, &pom.gateway).encode();
		assert_eq!(&v0, old, "the v0 fields are kept");
	}
	let areas = tx::storage_keys(alice, &storage_key("Registry", "Areas")).len();
	assert_eq!(
		tx::storage_keys(alice, &storage_key("Registry", "OperatorAreas")).len(),
		areas,
		"every area is in its operator's index"
	);
}
