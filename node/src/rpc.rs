//! JSON-RPC methods beyond sc-service's defaults.
//!
//! Exposure is sc-cli's: RPC listens on localhost unless `--rpc-external`, and unsafe methods
//! (author_insertKey, system_addReservedPeer, …) are refused on any non-local interface unless
//! the operator passes `--rpc-methods unsafe` on purpose.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use platone_runtime::{opaque::Block, AccountId, Nonce};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

pub struct FullDeps<C, P> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
}

pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	// `system_accountNextIndex`, which polkadot-js and subxt use to pick nonces.
	module.merge(System::new(deps.client, deps.pool).into_rpc())?;
	Ok(module)
}
