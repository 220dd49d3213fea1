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

/// Bytes of a `0x`-prefixed hex string.
pub fn unhex(text: &str) -> Vec<u8> {
	let digits = text.trim_start_matches("0x");
	(0..digits.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex"))
		.collect()
}

pub fn genesis_hash(node: &Node) -> H256 {
	let hash = node
		.rpc("chain_getBlockHash", json!([0]))
		.expect("chain_getBlockHash");
	H256::from_slice(&unhex(hash.as_str().expect("hash string")))
}

/// The raw value at `key` in the best block's state.
pub fn storage(node: &Node, key: &[u8]) -> Option<Vec<u8>> {
	let value = node
		.rpc("state_getStorage", json!([hex(key)]))
		.expect("state_getStorage");
	value.as_str().map(unhex)
}

/// Every key under `prefix` in the best block's state, in key order (a test chain's few).
pub fn storage_keys(node: &Node, prefix: &[u8]) -> Vec<Vec<u8>> {
	let keys = node
		.rpc("state_getKeysPaged", json!([hex(prefix), 1000]))
		.expect("state_getKeysPaged");
	keys.as_array()
		.expect("a key list")
		.iter()
		.map(|k| unhex(k.as_str().expect("hex key")))
		.collect()
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
	signed_for(
		call,
		signer,
		nonce,
		genesis,
		(VERSION.spec_version, VERSION.transaction_version),
	)
}

/// As [`signed`], for a chain whose runtime is at `(spec_version, transaction_version)`: an
/// older release whose calls and extensions encode as this one's (the upgrade test).
pub fn signed_for(
	call: RuntimeCall,
	signer: &sr25519::Pair,
	nonce: u32,
	genesis: H256,
	(spec_version, transaction_version): (u32, u32),
) -> Vec<u8> {
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
		spec_version,
		transaction_version,
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

/// `(spec_version, transaction_version)` of the runtime at the node's best block.
pub fn runtime_version(node: &Node) -> (u32, u32) {
	try_runtime_version(node).expect("state_getRuntimeVersion")
}

/// As [`runtime_version`], `None` while the node cannot answer (busy compiling a new runtime).
pub fn try_runtime_version(node: &Node) -> Option<(u32, u32)> {
	let v = node.rpc("state_getRuntimeVersion", json!([])).ok()?;
	let field = |name: &str| v[name].as_u64().map(|n| n as u32);
	Some((field("specVersion")?, field("transactionVersion")?))
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
	unhex(reply.as_str().expect("hex reply"))
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
