//! Pallet configuration. Limits are chosen on purpose; each says why.

use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, EitherOfDiverse, VariantCountOf},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		Weight,
	},
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot,
};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::Perbill;
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Block, Consortium, Hash, Nonce, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask,
	System, DAYS, EXISTENTIAL_DEPOSIT, SLOT_DURATION, VERSION,
};

/// Share of a block that ordinary transactions may fill; the rest is kept for operational
/// (governance) extrinsics, so that the consortium can always act even when blocks are full.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// The most validators the consortium plans for: every DSO/TSO of a national system and a
/// market operator fit, and GRANDPA rounds stay fast at this size.
pub const MAX_AUTHORITIES: u32 = 32;

parameter_types! {
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of execution per six-second block: a third of the slot, so that a block
	/// authored on modest hardware is imported by every validator well within the slot.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// 5 MiB per block: far above what certification batches need (a few hundred KiB), and small
	/// enough to gossip within a slot on a utility WAN.
	pub RuntimeBlockLength: BlockLength =
		BlockLength::max_with_normal_ratio(5 * 1024 * 1024, NORMAL_DISPATCH_RATIO);
	/// Generic Substrate SS58 prefix until the consortium registers its own.
	pub const SS58Prefix: u16 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	/// About four hours of block hashes: enough for mortal transactions and auditors' lookups.
	type BlockHashCount = ConstU32<2400>;
	/// Weights measured against ParityDB, the node's default database.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	/// No nominated proof-of-stake: validators are consortium members, not stakers.
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

/// The settlement token. Consortium members never pay fees with it.
impl pallet_balances::Config for Runtime {
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type MaxLocks = ConstU32<8>;
	type MaxReserves = ConstU32<8>;
	type ReserveIdentifier = [u8; 8];
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

/// Present in every runtime, but only the development preset sets a key: in a consortium
/// preset the key is `None`, so root is reachable only through governance.
impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

/// The consortium council: one seat per member organisation.
pub type ConsortiumCollective = pallet_collective::Instance1;

/// Two thirds of the consortium council (or root, which exists only on development chains).
/// Every change to who validates, who peers and who sits on the council goes through it.
pub type EnsureConsortium = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionAtLeast<AccountId, ConsortiumCollective, 2, 3>,
>;

/// Upper bound on council seats; motions are weighed against it.
pub const MAX_CONSORTIUM_MEMBERS: u32 = 64;

parameter_types! {
	/// Half a block for a council motion: enough for any batch of governance calls, and a
	/// motion can never starve ordinary traffic.
	pub MaxProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
}

impl pallet_collective::Config<ConsortiumCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	/// Members have a week to vote: consortium decisions go through each utility's own sign-off.
	type MotionDuration = ConstU32<{ 7 * DAYS }>;
	type MaxProposals = ConstU32<100>;
	type MaxMembers = ConstU32<MAX_CONSORTIUM_MEMBERS>;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	/// Membership changes go through `ConsortiumMembership`, which calls into the collective.
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

impl pallet_membership::Config<pallet_membership::Instance1> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = EnsureConsortium;
	type RemoveOrigin = EnsureConsortium;
	type SwapOrigin = EnsureConsortium;
	type ResetOrigin = EnsureConsortium;
	type PrimeOrigin = EnsureConsortium;
	type MembershipInitialized = Consortium;
	type MembershipChanged = Consortium;
	type MaxMembers = ConstU32<MAX_CONSORTIUM_MEMBERS>;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

impl pallet_node_authorization::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Validators plus archive, RPC and bridge nodes of every member.
	type MaxWellKnownNodes = ConstU32<128>;
	/// An ed25519 libp2p PeerId is 38 bytes; leave room for other key types.
	type MaxPeerIdLength = ConstU32<128>;
	type AddOrigin = EnsureConsortium;
	type RemoveOrigin = EnsureConsortium;
	type SwapOrigin = EnsureConsortium;
	type ResetOrigin = EnsureConsortium;
	type WeightInfo = ();
}

