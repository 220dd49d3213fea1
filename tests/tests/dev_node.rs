//! A `--dev` node produces and finalises blocks on its own (issue #2).

use std::time::Duration;

use platone_tests::{wait_for, Node, Scratch};

#[test]
fn dev_node_produces_and_finalises_blocks() {
	let scratch = Scratch::new("dev-node");
	let node = Node::dev(&scratch.0);
	let finalized = wait_for(
		"the dev node to finalise block #3",
		Duration::from_secs(180),
		|| node.finalized_number().filter(|n| *n >= 3),
	);
	assert!(finalized >= 3, "{}", node.log_tail());
	// The certification runtime API answers through `state_call` (issue #3): no certificate yet
	// for Alice's first 180 s window, SCALE `None` = 0x00.
	let mut args = Vec::new();
	args.extend_from_slice(&[
		0xd4u8, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f,
		0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85, 0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d,
		0xa2, 0x7d,
	]);
	args.extend_from_slice(&0u64.to_le_bytes());
	args.extend_from_slice(&180_000u32.to_le_bytes());
	let hex: String = args.iter().map(|b| format!("{b:02x}")).collect();
	let reply = node
		.rpc(
			"state_call",
			serde_json::json!(["CertificationApi_certificate", format!("0x{hex}")]),
		)
		.expect("state_call CertificationApi_certificate");
	assert_eq!(reply, serde_json::json!("0x00"));

	// ParityDB is the default database: its files are where the node keeps its chain.
	let db = scratch.0.join("dev/chains/platone_dev/paritydb");
	assert!(db.is_dir(), "expected ParityDB at {}", db.display());
}

/// The harness's own promises, which CI's failures rely on. A node whose RPC port was taken as
/// it started serves RPC on another port (the node's own fallback): the test reaches that node,
/// not whatever holds the port it asked for (here, another node), nor nothing until a time-out.
#[test]
fn a_node_whose_rpc_port_was_taken_is_reached_on_the_port_it_serves() {
	let scratch = Scratch::new("harness-port");
	let first = Node::dev(&scratch.0);
	let first_id = wait_for("the first node's RPC", Duration::from_secs(120), || {
		first.local_peer_id()
	});
	let args = [
		"--dev".to_string(),
		"--base-path".into(),
		scratch.0.join("second").display().to_string(),
	];
	let second = Node::start_with_rpc_port("second", &scratch.0, first.rpc_port(), &args);
	let second_id = wait_for("the second node's RPC", Duration::from_secs(120), || {
		second.local_peer_id()
	});
	assert_ne!(second.rpc_port(), first.rpc_port());
	assert_ne!(
		second_id, first_id,
		"the second node answers, not the first"
	);
}

/// A node that exits by itself fails the test's wait at once, with the node's log, rather than
/// as a time-out minutes later without a reason.
#[test]
fn a_wait_fails_at_once_with_the_log_of_a_node_that_exited() {
	let scratch = Scratch::new("harness-exit");
	let missing = scratch.0.join("no-such-spec.json").display().to_string();
	let _node = Node::start_plain("broken", &scratch.0, &["--chain".into(), missing]);
	let failure = std::panic::catch_unwind(|| {
		wait_for(
			"something that never comes",
			Duration::from_secs(600),
			|| None::<()>,
		)
	})
	.expect_err("the wait fails");
	let message = failure
		.downcast_ref::<String>()
		.cloned()
		.unwrap_or_default();
	assert!(
		message.contains("node broken exited while waiting for something that never comes"),
		"the failure names the node, not a time-out: {message}"
	);
	assert!(
		message.contains("no-such-spec.json"),
		"and carries its log, which says why: {message}"
	);
}
