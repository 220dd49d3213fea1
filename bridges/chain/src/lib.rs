//! The bridges' view of the Platone chain (FR-BAP-DM-02/03, FR-DSO-TP-DA-04).
//!
//! Calls are built with a subxt client generated from `metadata/platone.scale`, the runtime's
//! metadata committed beside this crate (`scripts/metadata.sh` regenerates it; a test fails when
//! it drifts). Reads go through plain state RPCs and are decoded with the shared primitives, so
//! that a certificate read here and one checked by [`proof`] are the same bytes.

use std::fmt::Display;

use codec::{Decode, Encode};
use platone_primitives::{DatasetRoot, Hash, Window};
use subxt::{
	config::{RpcConfigFor, SubstrateExtrinsicParamsBuilder},
	rpcs::{LegacyRpcMethods, RpcClient},
	utils::{AccountId32, H256},
	OnlineClient, SubstrateConfig,
};
pub use subxt_signer::sr25519::Keypair;
use subxt_signer::SecretUri;

pub mod finality;
pub mod market;
pub mod proof;
pub mod settlement;

#[subxt::subxt(runtime_metadata_path = "metadata/platone.scale")]
pub mod runtime {}

use runtime::runtime_types::{
	bounded_collections::bounded_vec::BoundedVec, pallet_certification::types::WindowCommitment,
	platone_primitives::certificate as wire,
};

#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("chain RPC: {0}")]
	Rpc(String),
	#[error("transaction: {0}")]
	Transaction(String),
	#[error("unexpected chain data: {0}")]
	Decode(String),
	#[error("signing key: {0}")]
	Key(String),
	#[error("storage proof: {0}")]
	Proof(String),
	#[error("finality not proven: {0}")]
	Finality(String),
}

/// The runtime metadata the client is generated from; storage keys are encoded against it, with
/// the hashers it names, so that no key is built by hand.
const METADATA: &[u8] = include_bytes!(concat!(
	env!("CARGO_MANIFEST_DIR"),
	"/metadata/platone.scale"
));

fn metadata() -> Result<&'static subxt::Metadata> {
	static DECODED: std::sync::OnceLock<std::result::Result<subxt::Metadata, String>> =
		std::sync::OnceLock::new();
	DECODED
		.get_or_init(|| subxt::Metadata::decode_from(METADATA).map_err(|e| e.to_string()))
		.as_ref()
		.map_err(|e| Error::Decode(format!("the committed metadata: {e}")))
}

/// The storage key of a generated address with its key parts.
fn storage_key<A: subxt::storage::Address>(
	address: A,
	keys: impl subxt::ext::frame_decode::storage::IntoEncodableValues,
) -> Result<Vec<u8>> {
	let metadata = metadata()?;
	subxt::ext::frame_decode::storage::encode_storage_key(
		address.pallet_name(),
		address.entry_name(),
		keys,
		metadata,
		metadata.types(),
	)
	.map_err(|e| Error::Decode(format!("storage key of {}: {e}", address.entry_name())))
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rpc(e: impl Display) -> Error {
	Error::Rpc(e.to_string())
}

fn tx(e: &dyn Display) -> Error {
	Error::Transaction(e.to_string())
}

/// A transaction in the node's pool: resolves with the hash of the finalized block that holds
/// it, or fails with its dispatch error or with why the pool dropped it. Several sent one after
/// the other are awaited together, in one finality wait.
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Hash>> + Send>>;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A certificate as the chain keeps it (`Certification::Certificates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub struct OnChainCertificate {
	pub root: Hash,
	pub datasets: u32,
	pub leaves: u64,
	pub certified_at: u32,
}

/// What the chain said about one window of a `certify` batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
	Certified,
	AlreadyCertified,
	/// Another root is on record for this window.
	Conflict {
		certified: Hash,
	},
}

/// A finalized `certify` extrinsic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
	pub block_hash: Hash,
	pub block_number: u64,
	pub extrinsic_index: u32,
	/// The block's own timestamp (its slot), ms since the epoch: when the batch was included.
	pub block_time_ms: Option<u64>,
	pub outcomes: Vec<(Window, Outcome)>,
}

/// A gateway's signing key from a secret URI: a mnemonic or hex seed with derivation path, or
/// `//Charlie` on development chains.
pub fn keypair(suri: &str) -> Result<Keypair> {
	let uri: SecretUri = suri.parse().map_err(|e| Error::Key(format!("{e}")))?;
	Keypair::from_uri(&uri).map_err(|e| Error::Key(e.to_string()))
}

pub fn account_of(key: &Keypair) -> [u8; 32] {
	key.public_key().0
}

/// The key's account in SS58 (generic prefix 42), as polkadot-js shows it.
pub fn ss58(key: &Keypair) -> String {
	AccountId32::from(account_of(key)).to_string()
}

/// Storage key of `Certification::Certificates(gateway, window)`.
pub fn certificate_key(gateway: &[u8; 32], window: &Window) -> Result<Vec<u8>> {
	storage_key(
		runtime::storage().certification().certificates(),
		(
			AccountId32(*gateway),
			wire::Window {
				start_ms: window.start_ms,
				duration_ms: window.duration_ms,
			},
		),
	)
}

/// A connection to one node's JSON-RPC.
#[derive(Clone)]
pub struct Chain {
	api: OnlineClient<SubstrateConfig>,
	rpc: LegacyRpcMethods<RpcConfigFor<SubstrateConfig>>,
	/// For the methods `rpc` lacks (GRANDPA's).
	client: RpcClient,
}

impl Chain {
	/// Connects to `url` (`ws://` or `wss://`). Plain `ws://` is accepted for loopback only
	/// unless `insecure` is set.
	pub async fn connect(url: &str, insecure: bool) -> Result<Chain> {
		let client = if insecure {
			RpcClient::from_insecure_url(url).await
		} else {
			RpcClient::from_url(url).await
		}
		.map_err(rpc)?;
		let api = OnlineClient::<SubstrateConfig>::from_rpc_client(client.clone())
			.await
			.map_err(rpc)?;
		Ok(Chain {
			api,
			rpc: LegacyRpcMethods::new(client.clone()),
			client,
		})
	}

	/// Hash and number of the latest finalized block.
	pub async fn finalized(&self) -> Result<(Hash, u64)> {
		let hash = self.rpc.chain_get_finalized_head().await.map_err(rpc)?;
		let header = self.header(hash.0, "the finalized head").await?;
		Ok((hash.0, header.number))
	}

	pub async fn block_hash(&self, number: u64) -> Result<Option<Hash>> {
		let n = u32::try_from(number).map_err(|_| Error::Decode("block number".into()))?;
		Ok(self
			.rpc
			.chain_get_block_hash(Some(n.into()))
			.await
			.map_err(rpc)?
			.map(|h| h.0))
	}

	/// The certificate of `gateway`'s `window` in the state of block `at`.
	pub async fn certificate(
		&self,
		gateway: &[u8; 32],
		window: &Window,
		at: Hash,
	) -> Result<Option<OnChainCertificate>> {
		self.storage(&certificate_key(gateway, window)?, at, "certificate")
			.await
	}

	/// The justification of the next block GRANDPA finalizes (`grandpa_subscribeJustifications`;
	/// a few seconds on a live chain), SCALE-encoded, for [`finality::verify_justification`].
	/// Unverified: the node may lie. (`grandpa_proveFinality` serves only blocks of earlier
	/// authority sets.)
	pub async fn justification(&self) -> Result<Vec<u8>> {
		let mut subscription = self
			.client
			.subscribe::<sp_core::Bytes>(
				"grandpa_subscribeJustifications",
				subxt::rpcs::client::RpcParams::new(),
				"grandpa_unsubscribeJustifications",
			)
			.await
			.map_err(rpc)?;
		match subscription.next().await {
			Some(justification) => Ok(justification.map_err(rpc)?.0),
			None => Err(Error::Rpc("the justification subscription ended".into())),
		}
	}

	/// Follows the GRANDPA authority-set changes since `pinned` to the current set, trusting
	/// the node for nothing but hints: each change block must be finalized by a justification
	/// of the set before it, and its header must carry the new set. Returns the current set and
	/// the change blocks passed.
	pub async fn follow_authority_set(
		&self,
		pinned: &finality::AuthoritySet,
	) -> Result<(finality::AuthoritySet, Vec<u32>)> {
		let mut set = pinned.clone();
		let mut changes = Vec::new();
		loop {
			let (head, head_number) = self.finalized().await?;
			let current = self.set_id(head).await?;
			if current <= set.set_id {
				return Ok((set, changes));
			}
			// Hint: the first block whose state has moved past `set` (its change block).
			let (mut lo, mut hi) = (0u64, head_number);
			while lo < hi {
				let mid = lo + (hi - lo) / 2;
				let hash = self
					.block_hash(mid)
					.await?
					.ok_or_else(|| Error::Decode(format!("no block #{mid}")))?;
				if self.set_id(hash).await? > set.set_id {
					hi = mid;
				} else {
					lo = mid + 1;
				}
			}
			let number = u32::try_from(lo).map_err(|_| Error::Decode("block number".into()))?;
			let mut params = subxt::rpcs::client::RpcParams::new();
			params.push(number).map_err(rpc)?;
			let proof: Option<sp_core::Bytes> = self
				.client
				.request("grandpa_proveFinality", params)
				.await
				.map_err(rpc)?;
			let proof = proof.ok_or_else(|| {
				Error::Finality(format!(
					"the node has no finality proof for block #{number}"
				))
			})?;
			let proof = finality::FinalityProof::decode(&mut &proof.0[..])
				.map_err(|e| Error::Decode(format!("finality proof: {e}")))?;
			let proven = finality::verify_justification(&proof.justification, &set)?;
			if proven.block_number != number || proven.block_hash != proof.block.0 {
				return Err(Error::Finality(format!(
					"asked for the change at block #{number}, got a justification of #{}",
					proven.block_number
				)));
			}
			let mut params = subxt::rpcs::client::RpcParams::new();
			params
				.push(format!("0x{}", hex(&proven.block_hash)))
				.map_err(rpc)?;
			let header: finality::Header = self
				.client
				.request::<Option<finality::Header>>("chain_getHeader", params)
				.await
				.map_err(rpc)?
				.ok_or_else(|| Error::Decode(format!("no header for block #{number}")))?;
			if sp_runtime::traits::Header::hash(&header).0 != proven.block_hash {
				return Err(Error::Finality(format!(
					"the header of block #{number} does not hash to the finalized block"
				)));
			}
			set = finality::next_set(&set, &header)?;
			changes.push(number);
		}
	}

	/// `Grandpa::CurrentSetId` at block `at`.
	async fn set_id(&self, at: Hash) -> Result<u64> {
		Ok(self
			.storage(
				&storage_key(runtime::storage().grandpa().current_set_id(), ())?,
				at,
				"set id",
			)
			.await?
			.unwrap_or(0))
	}

	/// The header of block `at`; `what` names the block in the error.
	async fn header(
		&self,
		at: Hash,
		what: &str,
	) -> Result<<SubstrateConfig as subxt::config::Config>::Header> {
		self.rpc
			.chain_get_header(Some(H256(at)))
			.await
			.map_err(rpc)?
			.ok_or_else(|| Error::Decode(format!("no header for {what}")))
	}

	/// The GRANDPA authority set in the state of block `at`, for an auditor to pin (after
	/// comparing it across members' nodes: this read is only as honest as the node).
	pub async fn authority_set(&self, at: Hash) -> Result<finality::AuthoritySet> {
		let set_id = self.set_id(at).await?;
		let authorities = self
			.storage(
				&storage_key(runtime::storage().grandpa().authorities(), ())?,
				at,
				"authorities",
			)
			.await?
			.unwrap_or_default();
		Ok(finality::AuthoritySet {
			set_id,
			authorities,
		})
	}

	/// `Timestamp::Now` at block `at`: the time the block's author set for it.
	pub async fn block_time_ms(&self, at: Hash) -> Result<Option<u64>> {
		let key = storage_key(runtime::storage().timestamp().now(), ())?;
		self.storage(&key, at, "timestamp").await
	}

	/// The value under `key` in the state of block `at`, decoded; `what` names it in errors.
	async fn storage<T: Decode>(&self, key: &[u8], at: Hash, what: &str) -> Result<Option<T>> {
		let value = self
			.rpc
			.state_get_storage(key, Some(H256(at)))
			.await
			.map_err(rpc)?;
		value
			.map(|bytes| {
				T::decode(&mut &bytes[..]).map_err(|e| Error::Decode(format!("{what}: {e}")))
			})
			.transpose()
	}

	/// The header of block `at` (SCALE) and a read proof of `keys` in its state.
	pub async fn read_proof(&self, keys: &[Vec<u8>], at: Hash) -> Result<proof::StateProof> {
		let header = self.header(at, "the block").await?;
		let read = self
			.rpc
			.state_get_read_proof(keys.iter().map(|k| k.as_slice()), Some(H256(at)))
			.await
			.map_err(rpc)?;
		Ok(proof::StateProof {
			block_hash: at,
			header: header.encode(),
			nodes: read.proof.into_iter().map(|b| b.0).collect(),
		})
	}

	/// `signer`'s next nonce, counting its transactions already in the node's pool.
	pub async fn next_nonce(&self, signer: &Keypair) -> Result<u64> {
		self.rpc
			.system_account_next_index(&AccountId32::from(signer.public_key()))
			.await
			.map_err(rpc)
	}

	/// Signs `call` with `nonce` (or the signer's next one at the best block) and hands it to the
	/// node's pool. The transaction is mortal (32 blocks), so one stuck behind a nonce gap ends
	/// as dropped rather than pending for ever.
	pub(crate) async fn send(
		&self,
		call: &impl subxt::transactions::Payload,
		signer: &Keypair,
		nonce: Option<u64>,
	) -> Result<Pending> {
		let mut params = SubstrateExtrinsicParamsBuilder::<SubstrateConfig>::new();
		if let Some(nonce) = nonce {
			params = params.nonce(nonce);
		}
		let at = self.api.at_current_block().await.map_err(|e| tx(&e))?;
		let progress = at
			.transactions()
			.sign_and_submit_then_watch(call, signer, params.build())
			.await
			.map_err(|e| tx(&e))?;
		Ok(Box::pin(async move {
			let in_block = progress.wait_for_finalized().await.map_err(|e| tx(&e))?;
			in_block.wait_for_success().await.map_err(|e| tx(&e))?;
			Ok(in_block.block_hash().0)
		}))
	}

	/// Submits `certify` for `batch`, signed by `gateway`, and waits until it is finalized.
	pub async fn certify(
		&self,
		gateway: &Keypair,
		batch: &[(Window, Vec<DatasetRoot>)],
	) -> Result<Finalized> {
		let call = runtime::transactions().certification().certify(BoundedVec(
			batch
				.iter()
				.map(|(window, datasets)| WindowCommitment {
					window: wire::Window {
						start_ms: window.start_ms,
						duration_ms: window.duration_ms,
					},
					datasets: BoundedVec(
						datasets
							.iter()
							.map(|d| wire::DatasetRoot {
								dataset: d.dataset,
								leaf_count: d.leaf_count,
								root: d.root,
							})
							.collect(),
					),
				})
				.collect(),
		));
		let at = self.api.at_current_block().await.map_err(|e| tx(&e))?;
		let in_block = at
			.transactions()
			.sign_and_submit_then_watch_default(&call, gateway)
			.await
			.map_err(|e| tx(&e))?
			.wait_for_finalized()
			.await
			.map_err(|e| tx(&e))?;
		let events = in_block.wait_for_success().await.map_err(|e| tx(&e))?;
		let block_hash = in_block.block_hash().0;
		let header = self.header(block_hash, "the finalized block").await?;
		let mut outcomes = Vec::new();
		for event in events.iter() {
			let event = event.map_err(|e| Error::Decode(e.to_string()))?;
			if event.pallet_name() != "Certification" {
				continue;
			}
			let mut fields = event.field_bytes();
			let decode = |e: codec::Error| Error::Decode(format!("{}: {e}", event.event_name()));
			let outcome = match event.event_name() {
				"Certified" => Outcome::Certified,
				"AlreadyCertified" => Outcome::AlreadyCertified,
				"Conflict" => Outcome::Conflict {
					certified: Default::default(),
				},
				_ => continue,
			};
			let _gateway = AccountId32::decode(&mut fields).map_err(decode)?;
			let window = Window::decode(&mut fields).map_err(decode)?;
			let outcome = match outcome {
				Outcome::Conflict { .. } => Outcome::Conflict {
					certified: Hash::decode(&mut fields).map_err(decode)?,
				},
				other => other,
			};
			outcomes.push((window, outcome));
		}
		let block_time_ms = self.block_time_ms(block_hash).await?;
		Ok(Finalized {
			block_hash,
			block_number: header.number,
			block_time_ms,
			extrinsic_index: u32::try_from(events.extrinsic_index())
				.map_err(|_| Error::Decode("extrinsic index".into()))?,
			outcomes,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The keys from the generated addresses are the layout FRAME documents: twox128 of pallet
	/// and item, then each key with its hasher (`Blake2_128Concat`, `Twox64Concat`).
	#[test]
	fn generated_keys_follow_the_documented_layout() {
		use sp_crypto_hashing::{blake2_128, twox_128, twox_64};
		let gateway = [7u8; 32];
		let window = Window {
			start_ms: 1_700_000_000_000,
			duration_ms: 180_000,
		};
		let encoded = window.encode();
		let expected = [
			&twox_128(b"Certification")[..],
			&twox_128(b"Certificates"),
			&blake2_128(&gateway),
			&gateway,
			&twox_64(&encoded),
			&encoded,
		]
		.concat();
		assert_eq!(certificate_key(&gateway, &window).unwrap(), expected);
		assert_eq!(
			storage_key(runtime::storage().grandpa().current_set_id(), ()).unwrap(),
			[twox_128(b"Grandpa"), twox_128(b"CurrentSetId")].concat()
		);
		assert_eq!(
			storage_key(runtime::storage().timestamp().now(), ()).unwrap(),
			[twox_128(b"Timestamp"), twox_128(b"Now")].concat()
		);
	}
}
