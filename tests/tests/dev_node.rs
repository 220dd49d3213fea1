//! A `--dev` node produces and finalises blocks on its own (issue #2).

use std::time::Duration;

use platone_tests::{wait_for, Node, Scratch};

#[test]
fn dev_node_produces_and_finalises_blocks() {
	let scratch = Scratch::new("dev-node");
	let node = Node::start(
		"dev",
		&scratch.0,
		&[
			"--dev".into(),
			"--base-path".into(),
			scratch.0.join("dev").display().to_string(),
		],
	);
	let finalized = wait_for(
		"the dev node to finalise block #3",
		Duration::from_secs(180),
		|| node.finalized_number().filter(|n| *n >= 3),
	);
	assert!(finalized >= 3, "{}", node.log_tail());
	// ParityDB is the default database: its files are where the node keeps its chain.
	let db = scratch.0.join("dev/chains/platone_dev/paritydb");
	assert!(db.is_dir(), "expected ParityDB at {}", db.display());
}
