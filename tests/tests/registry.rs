//! The real node's transaction pool admits active registered participants only, and the
//! consortium suspends one by collective decision (issue #6; permissioned framework of D2.2).

use std::time::Duration;

use codec::Encode;
use pallet_registry::{invalid, Status};
use platone_runtime::RuntimeCall;
use platone_tests::{tx, wait_for, Node, Scratch};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring;

fn remark(tag: &[u8]) -> RuntimeCall {
	RuntimeCall::System(frame_system::Call::remark {
		remark: tag.to_vec(),
	})
}

fn refused_with(result: Result<serde_json::Value, String>, code: u8) {
	let err = result.expect_err("the pool should refuse this transaction");
	assert!(
		err.contains(&format!("Custom error: {code}")) || err.contains(&format!("Custom({code})")),
		"expected InvalidTransaction::Custom({code}), got: {err}"
	);
}

#[test]
fn pool_turns_away_strangers_and_suspended_members() {
	let scratch = Scratch::new("registry-pool");
	let node = Node::dev(&scratch.0);
	wait_for("block #1", Duration::from_secs(180), || {
		node.best_number().filter(|n| *n >= 1)
	});
	let genesis = tx::genesis_hash(&node);

	// A correctly signed extrinsic from a key nobody registered.
	let stranger = sr25519::Pair::from_string("//Stranger", None).expect("dev seed");
	refused_with(
		tx::submit(
			&node,
			&tx::signed(remark(b"let me in"), &stranger, 0, genesis),
		),
		invalid::NOT_A_PARTICIPANT,
	);

	// A member transacts without holding or paying any token.
	let bob = Sr25519Keyring::Bob.pair();
	tx::submit(&node, &tx::signed(remark(b"bob"), &bob, 0, genesis)).expect("member admitted");
	wait_for(
		"Bob's remark to be included",
		Duration::from_secs(60),
		|| (tx::account_nonce(&node, &bob.public()) == 1).then_some(()),
	);

	// The consortium (Alice is the development council's only seat) suspends Bob by a motion,
	// which executes at once because one vote is all of the council.
	let alice = Sr25519Keyring::Alice.pair();
	let suspend = RuntimeCall::Registry(pallet_registry::Call::suspend {
		who: bob.public().into(),
	});
	let length_bound = suspend.encoded_size() as u32;
	let motion = RuntimeCall::Consortium(pallet_collective::Call::propose {
		threshold: 1,
		proposal: Box::new(suspend),
		length_bound,
	});
	let nonce = tx::account_nonce(&node, &alice.public());
	tx::submit(&node, &tx::signed(motion, &alice, nonce, genesis)).expect("motion admitted");
	wait_for("Bob's suspension", Duration::from_secs(60), || {
		tx::participant(&node, &bob.public()).filter(|p| p.status == Status::Suspended)
	});
	// The pool checks against its own view of the best block, which may still be the block
	// before the one just read: wait for the next block, so that both have the suspension.
	let seen = node.best_number().expect("the node answers");
	wait_for(
		"the block after the suspension",
		Duration::from_secs(60),
		|| node.best_number().filter(|n| *n > seen),
	);
	refused_with(
		tx::submit(&node, &tx::signed(remark(b"bob again"), &bob, 1, genesis)),
		invalid::SUSPENDED,
	);
	assert_eq!(
		tx::account_nonce(&node, &bob.public()),
		1,
		"nothing of Bob's got in"
	);
}
