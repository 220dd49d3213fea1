//! Runtime of the Platone consortium chain.
//!
//! Consensus is Aura (block production) and GRANDPA (finality) among validators run by consortium
//! members (DSOs, TSOs, the market operator). The peer set is permissioned through
//! `pallet-node-authorization`; the consortium council, not a single key, changes it.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to code that the workspace lints dislike.
#![allow(unused_qualifications)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod contracts;
pub mod genesis;
pub mod node_authorization;
#[cfg(test)]
mod tests;
pub mod weights;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use configs::{ConsortiumCollective, EnsureConsortium};

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
}

impl_opaque_keys! {
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("platone"),
	impl_name: alloc::borrow::Cow::Borrowed("platone"),
	authoring_version: 1,
	spec_version: 111,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 3,
	system_version: 1,
};

/// Target block time. Six seconds leaves a consortium spread over several utilities' data
/// centres ample time to propagate and import a block, while a 180 s certification window
/// still spans 30 blocks. The slot duration can never change once the chain has started.
pub const MILLISECS_PER_BLOCK: u64 = 6_000;
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// Smallest unit of the settlement token; 12 decimals.
pub const UNIT: Balance = 1_000_000_000_000;
/// One smallest unit: the token pays for flexibility, never for fees or deposits, and a
/// customer's share of a small award must reach an account that held nothing before.
pub const EXISTENTIAL_DEPOSIT: Balance = 1;

pub type Signature = MultiSignature;
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
pub type Balance = u128;
pub type Nonce = u32;
pub type Hash = sp_core::H256;
pub type BlockNumber = u32;
pub type Address = MultiAddress<AccountId, ()>;
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// Checks every signed extrinsic passes. There is deliberately no fee payment: consortium members
/// do not buy a token to transact. `CheckParticipant` admits active registered participants only,
/// each within its per-window quota (spam protection); it runs before `CheckNonce`, so a
/// stranger gets its specific refusal rather than a nonce error.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	pallet_registry::CheckParticipant<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run at the next runtime upgrade; each runs once, at the storage version
/// it migrates from (`VersionedMigration`), so keeping one here after it ran is harmless.
/// spec 103: certification v0 → v1 (dataset watermarks), registry v0 → v1 (handovers,
/// operator index, request links). spec 105: pallet-contracts starts at its storage version.
/// spec 108: market v0 → v1 (the PoD shares of closed steps). spec 109: market v1 → v2 (sealed
/// chunks for sessions sealed but not yet cleared).
pub type Migrations = (
	pallet_certification::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_registry::migrations::v1::MigrateV0ToV1<Runtime>,
	frame_support::migrations::RemovePallet<SudoPalletName, configs::ParityDbWeightOf>,
	contracts::InitContracts,
	pallet_market::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_market::migrations::v2::MigrateV1ToV2<Runtime>,
);

frame_support::parameter_types! {
	/// The storage prefix of the removed `pallet_sudo` (its key), cleared by `Migrations`.
	pub const SudoPalletName: &'static str = "Sudo";
}

pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

// Pallet indices are part of the transaction format: never reuse or renumber one.
#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	// Index 5 was pallet_sudo: removed (spec 103), never to be reused.
	#[runtime::pallet_index(6)]
	pub type Consortium = pallet_collective<Instance1>;
	#[runtime::pallet_index(7)]
	pub type ConsortiumMembership = pallet_membership<Instance1>;
	#[runtime::pallet_index(8)]
	pub type NodeAuthorization = pallet_node_authorization;

	#[runtime::pallet_index(9)]
	pub type ConsortiumGovernance = pallet_consortium;

	#[runtime::pallet_index(10)]
	pub type Registry = pallet_registry;
	#[runtime::pallet_index(11)]
	pub type Certification = pallet_certification;
	#[runtime::pallet_index(12)]
	pub type Market = pallet_market;
	#[runtime::pallet_index(13)]
	pub type Settlement = pallet_settlement;
	/// Executes settlement mechanisms written as contracts (FR-MP-SET-01).
	#[runtime::pallet_index(14)]
	pub type Contracts = pallet_contracts;
}
