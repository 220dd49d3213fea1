//! Runtime APIs the node and clients call into.

use alloc::vec::Vec;
use frame_support::genesis_builder_helper::{build_state, get_preset};
use frame_support::weights::Weight;
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use super::{
	configs, AccountId, Aura, Balance, Block, BlockNumber, Certification, Contracts, Executive,
	Grandpa, Hash, InherentDataExt, Market, Nonce, Registry, Runtime, RuntimeEvent,
	RuntimeGenesisConfig, SessionKeys, Settlement, System, VERSION,
};

/// What a contract's dry run reports of its events.
type EventRecord = frame_system::EventRecord<RuntimeEvent, Hash>;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: <Block as BlockT>::LazyBlock) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl frame_support::view_functions::runtime_api::RuntimeViewFunction<Block> for Runtime {
		fn execute_view_function(
			id: frame_support::view_functions::ViewFunctionId,
			input: Vec<u8>,
		) -> Result<Vec<u8>, frame_support::view_functions::ViewFunctionDispatchError> {
			Runtime::execute_view_function(id, input)
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: <Block as BlockT>::LazyBlock,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		// Drives pallet-node-authorization: hands the authorised peer set to the network.
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(owner: Vec<u8>, seed: Option<Vec<u8>>) -> sp_session::OpaqueGeneratedSessionKeys {
			SessionKeys::generate(&owner, seed).into()
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		// Equivocations are handled by consortium governance, not by slashing: there is no
		// stake to slash, so no key-ownership proofs exist.
		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_registry::runtime_api::RegistryApi<Block, AccountId> for Runtime {
		fn participant(who: AccountId) -> Option<pallet_registry::ParticipantInfo> {
			Registry::participant_info(&who)
		}

		fn session_snapshot(
			area: Option<pallet_registry::AreaId>,
			after: Option<pallet_registry::PodId>,
			limit: u32,
		) -> pallet_registry::SnapshotPage<AccountId> {
			Registry::session_snapshot(area, after, limit.min(configs::MAX_SNAPSHOT_PAGE))
		}

		fn gateway_devices(
			gateway: AccountId,
			after: Option<pallet_registry::PomId>,
			limit: u32,
		) -> pallet_registry::DevicePage {
			Registry::gateway_devices(&gateway, after, limit.min(configs::MAX_DEVICE_PAGE))
		}
	}

	impl pallet_market::runtime_api::MarketApi<Block, AccountId> for Runtime {
		fn session(session: pallet_market::SessionId) -> Option<pallet_market::SessionInfo> {
			pallet_market::Sessions::<Runtime>::get(session)
		}

		fn live_sessions() -> Vec<pallet_market::SessionId> {
			pallet_market::Live::<Runtime>::get().into_inner()
		}

		fn results(
			session: pallet_market::SessionId,
			who: AccountId,
		) -> Vec<pallet_market::FinalResult<AccountId>> {
			Market::results_of(session, &who)
		}

		fn input_proof(
			session: pallet_market::SessionId,
			item: pallet_market::ItemId,
		) -> Option<pallet_market::runtime_api::InputProof> {
			Market::input_proof(session, item)
		}

		fn award_proof(
			session: pallet_market::SessionId,
			award: pallet_market::AwardRef,
		) -> Option<pallet_market::runtime_api::AwardProof> {
			Market::award_proof(session, award)
		}
	}

	impl pallet_settlement::runtime_api::SettlementApi<Block, AccountId> for Runtime {
		fn outcomes(
			session: pallet_settlement::SessionId,
			who: AccountId,
		) -> Vec<(pallet_settlement::AwardRef, pallet_settlement::Outcome<AccountId>)> {
			Settlement::outcomes_of(session, &who)
		}

		fn tally(session: pallet_settlement::SessionId) -> Option<pallet_settlement::Tally> {
			pallet_settlement::Tallies::<Runtime>::get(session)
		}
	}

	// Dry runs for aggregators' tools (polkadot-js contracts): nothing they do is kept, and a
	// mechanism's answer to any input can be checked before it is listed.
	impl pallet_contracts::ContractsApi<Block, AccountId, Balance, BlockNumber, Hash, EventRecord>
		for Runtime
	{
		fn call(
			origin: AccountId,
			dest: AccountId,
			value: Balance,
			gas_limit: Option<Weight>,
			storage_deposit_limit: Option<Balance>,
			input_data: Vec<u8>,
		) -> pallet_contracts::ContractExecResult<Balance, EventRecord> {
			let gas_limit = gas_limit.unwrap_or(configs::RuntimeBlockWeights::get().max_block);
			Contracts::bare_call(
				origin,
				dest,
				value,
				gas_limit,
				storage_deposit_limit,
				input_data,
				pallet_contracts::DebugInfo::UnsafeDebug,
				pallet_contracts::CollectEvents::UnsafeCollect,
				pallet_contracts::Determinism::Enforced,
			)
		}

		fn instantiate(
			origin: AccountId,
			value: Balance,
			gas_limit: Option<Weight>,
			storage_deposit_limit: Option<Balance>,
			code: pallet_contracts::Code<Hash>,
			data: Vec<u8>,
			salt: Vec<u8>,
		) -> pallet_contracts::ContractInstantiateResult<AccountId, Balance, EventRecord> {
			let gas_limit = gas_limit.unwrap_or(configs::RuntimeBlockWeights::get().max_block);
			Contracts::bare_instantiate(
				origin,
				value,
				gas_limit,
				storage_deposit_limit,
				code,
				data,
				salt,
				pallet_contracts::DebugInfo::UnsafeDebug,
				pallet_contracts::CollectEvents::UnsafeCollect,
			)
		}

		fn upload_code(
			origin: AccountId,
			code: Vec<u8>,
			storage_deposit_limit: Option<Balance>,
			determinism: pallet_contracts::Determinism,
		) -> pallet_contracts::CodeUploadResult<Hash, Balance> {
			Contracts::bare_upload_code(origin, code, storage_deposit_limit, determinism)
		}

		fn get_storage(address: AccountId, key: Vec<u8>) -> pallet_contracts::GetStorageResult {
			Contracts::get_storage(address, key)
		}
	}

	impl pallet_certification::runtime_api::CertificationApi<Block, AccountId, BlockNumber> for Runtime {
		fn certificate(
			gateway: AccountId,
			window: platone_primitives::Window,
		) -> Option<pallet_certification::Certificate<BlockNumber>> {
			Certification::certificate(&gateway, window)
		}

		fn verify_measurement(
			gateway: AccountId,
			window: platone_primitives::Window,
			proof: platone_primitives::MeasurementProof,
		) -> Result<(), platone_primitives::VerifyError> {
			Certification::verify(&gateway, window, &proof)
		}

		fn anchor(
			kind: platone_primitives::AnchorKind,
			subject: pallet_certification::Subject,
		) -> Option<pallet_certification::Anchor<AccountId, BlockNumber>> {
			pallet_certification::Anchors::<Runtime>::get(kind, subject)
		}

		fn verify_anchored(
			kind: platone_primitives::AnchorKind,
			subject: pallet_certification::Subject,
			record: Vec<u8>,
			proof: platone_primitives::MerkleProof,
		) -> Result<(), platone_primitives::VerifyError> {
			Certification::verify_anchored(kind, subject, &record, &proof)
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis::preset_names()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::BenchmarkList;
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::node_authorization::benchmarking::Pallet as NodeAuthorizationBench;
			use super::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);
			(list, AllPalletsWithSystem::storage_info())
		}

		#[allow(non_local_definitions)]
		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig,
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::BenchmarkBatch;
			use frame_support::traits::WhitelistedStorageKeys;
			use frame_system_benchmarking::Pallet as SystemBench;
			use crate::node_authorization::benchmarking::Pallet as NodeAuthorizationBench;
			use super::*;

			impl frame_system_benchmarking::Config for Runtime {}

			let whitelist = AllPalletsWithSystem::whitelisted_storage_keys();
			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);
			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// try-runtime is an operator tool: a failed check must stop it loudly.
			let weight = Executive::try_runtime_upgrade(checks).unwrap();
			(weight, super::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: <Block as BlockT>::LazyBlock,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect,
		) -> Weight {
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("try_execute_block failed")
		}
	}
}
