//! Signed extrinsics for the real node, built from the runtime's own types (no metadata
//! client needed): the test signs exactly what the pool validates.

use codec::Encode;
use platone_runtime::{
	Address, RuntimeCall, Signature, SignedPayload, TxExtension, UncheckedExtrinsic, VERSION,
};
use serde_json::json;
use sp_core::{crypto::Ss58Codec, sr25519, Pair, H256};
use sp_runtime::generic::Era;

use crate::Node;

/// `0x`-prefixed hex.
pub fn hex(bytes: &[u8]) -> String {
	let digits: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
	format!("0x{digits}")
}

pub fn genesis_hash(node: &Node) -> H256 {
	let hash = node
		.rpc("chain_getBlockHash", json!([0]))
		.expect("chain_getBlockHash");
	let digits = hash.as_str().expect("hash string").trim_start_matches("0x");
	let bytes: Vec<u8> = (0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
		.collect();
	H256::from_slice(&bytes)
}

/// The nonce the pool expects next from `who` (counting its pending transactions).
pub fn next_nonce(node: &Node, who: &sr25519::Public) -> u32 {
	node.rpc("system_accountNextIndex", json!([who.to_ss58check()]))
		.expect("system_accountNextIndex")
		.as_u64()
		.expect("nonce") as u32
}

/// An immortal extrinsic of `call`, signed by `signer` with `nonce`, SCALE-encoded.
pub fn signed(call: RuntimeCall, signer: &sr25519::Pair, nonce: u32, genesis: H256) -> Vec<u8> {
	let extension: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		pallet_registry::CheckParticipant::new(),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		frame_system::WeightReclaim::new(),
	);
	// What the extensions add to the signed payload without putting it in the extrinsic.
	let implicit = (
		(),
		VERSION.spec_version,
		VERSION.transaction_version,
		genesis,
		genesis,
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let who = signer.public();
	UncheckedExtrinsic::new_signed(
		call,
		Address::Id(who.into()),
		Signature::Sr25519(signature),
		extension,
	)
	.encode()
}

/// Submits to the node's pool; `Err` carries the node's refusal.
pub fn submit(node: &Node, extrinsic: &[u8]) -> Result<serde_json::Value, String> {
	node.rpc("author_submitExtrinsic", json!([hex(extrinsic)]))
}

/// Calls a runtime API through `state_call` at the best block and returns the SCALE reply.
pub fn state_call(node: &Node, method: &str, args: &[u8]) -> Vec<u8> {
	let reply = node
		.rpc("state_call", json!([method, hex(args)]))
		.unwrap_or_else(|e| panic!("state_call {method}: {e}"));
	let digits = reply.as_str().expect("hex reply").trim_start_matches("0x");
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
		.collect()
}

/// `who`'s nonce in the best block's state (its included transactions only).
pub fn account_nonce(node: &Node, who: &sr25519::Public) -> u32 {
	let reply = state_call(node, "AccountNonceApi_account_nonce", &who.0);
	<u32 as codec::Decode>::decode(&mut &reply[..]).expect("u32 nonce")
}

/// `who`'s registry record, through the `RegistryApi`.
pub fn participant(node: &Node, who: &sr25519::Public) -> Option<pallet_registry::ParticipantInfo> {
	let reply = state_call(node, "RegistryApi_participant", &who.0);
	codec::Decode::decode(&mut &reply[..]).expect("Option<ParticipantInfo>")
}
