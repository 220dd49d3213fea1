//! JSON-RPC methods beyond sc-service's defaults.
//!
//! Exposure is sc-cli's: RPC listens on localhost unless `--rpc-external`, and unsafe methods
//! (author_insertKey, system_addReservedPeer, …) are refused on any non-local interface unless
//! the operator passes `--rpc-methods unsafe` on purpose.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use platone_runtime::{opaque::Block, AccountId, BlockNumber, Hash, Nonce};
use sc_consensus_grandpa::{
	FinalityProofProvider, GrandpaJustificationStream, SharedAuthoritySet, SharedVoterState,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

pub struct FullDeps<C, P, B> {
	pub client: Arc<C>,
	pub pool: Arc<P>,
	pub grandpa: GrandpaDeps<B>,
}

/// What `grandpa_roundState`, `grandpa_subscribeJustifications` and `grandpa_proveFinality`
/// read from the voter.
pub struct GrandpaDeps<B> {
	pub voter_state: SharedVoterState,
	pub authority_set: SharedAuthoritySet<Hash, BlockNumber>,
	pub justification_stream: GrandpaJustificationStream<Block>,
	pub subscription_executor: sc_rpc::SubscriptionTaskExecutor,
	pub finality_provider: Arc<FinalityProofProvider<B, Block>>,
}

pub fn create_full<C, P, B>(
	deps: FullDeps<C, P, B>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	B: sc_client_api::Backend<Block> + Send + Sync + 'static,
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
	use sc_consensus_grandpa_rpc::{Grandpa, GrandpaApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	// `system_accountNextIndex`, which polkadot-js and subxt use to pick nonces.
	module.merge(System::new(deps.client, deps.pool).into_rpc())?;
	let g = deps.grandpa;
	module.merge(
		Grandpa::new(
			g.subscription_executor,
			g.authority_set,
			g.voter_state,
			g.justification_stream,
			g.finality_provider,
		)
		.into_rpc(),
	)?;
	Ok(module)
}
