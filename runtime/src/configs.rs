//! Pallet configuration. Limits are chosen on purpose; each says why.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{
		ConstBool, ConstU128, ConstU32, ConstU64, EitherOfDiverse, EnsureOriginWithArg, Get,
		VariantCountOf,
	},
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
	AccountId, Aura, Balance, Balances, Block, BlockNumber, Certification, Consortium,
	ConsortiumMembership, Hash, Market, Nonce, PalletInfo, Registry, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Settlement,
	System, Timestamp, DAYS, EXISTENTIAL_DEPOSIT, MINUTES, SLOT_DURATION, UNIT, VERSION,
};

/// Share of a block that ordinary transactions may fill; the rest is kept for operational
/// (governance) extrinsics, so that the consortium can always act even when blocks are full.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Longest libp2p peer id (exclusive, as the pallet checks it). An ed25519 PeerId is 38 bytes;
/// this leaves room for other key types.
pub const MAX_PEER_ID_LENGTH: u32 = 128;

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
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(5 * 1024 * 1024)
		.modify_max_length_for_class(DispatchClass::Normal, |max| *max = NORMAL_DISPATCH_RATIO * *max)
		.build();
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
	/// Bounds node-authorization's self-service calls, which the pallet leaves open.
	type BaseCallFilter = crate::node_authorization::CallBounds;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
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
	/// `()` is the pallet's real weight: it derives `report_equivocation` from its benchmarked
	/// proof check and the runtime's `DbWeight` (pallet-grandpa's default_weights.rs); the
	/// crate's `weights.rs` is not even compiled in.
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

/// The consortium council: one seat per member organisation.
pub type ConsortiumCollective = pallet_collective::Instance1;

/// Two thirds of the consortium council: day-to-day governance (participants, validators,
/// peers, pruning). Root passes too, and root is itself reachable only at three quarters.
pub type EnsureConsortium = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionAtLeast<AccountId, ConsortiumCollective, 2, 3>,
>;

/// Three quarters of the council: root (runtime upgrades, through `dispatch_as_root`) and every
/// change to the council itself, so that two thirds can never reshape the council first and
/// then reach root. There is no sudo key in this runtime, not even on development chains,
/// whose council has one seat.
pub type EnsureConsortiumRoot = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionAtLeast<AccountId, ConsortiumCollective, 3, 4>,
>;

/// A member who does not vote is counted against a motion: no prime member speaks for the
/// absent, so thresholds count only the votes actually cast in favour.
pub struct AbstainIsNay;
impl pallet_collective::DefaultVote for AbstainIsNay {
	fn default_vote(_prime: Option<bool>, _yes: u32, _no: u32, _len: u32) -> bool {
		false
	}
}

impl pallet_consortium::Config for Runtime {
	type RuntimeCall = RuntimeCall;
	type ValidatorOrigin = EnsureConsortium;
	type RootOrigin = EnsureConsortiumRoot;
	/// A forced GRANDPA change overrides finality itself: as grave as root.
	type ForceOrigin = EnsureConsortiumRoot;
	type MaxValidators = ConstU32<MAX_AUTHORITIES>;
	/// GRANDPA needs more than two thirds of the voters online: with fewer than four, one
	/// failure stalls finality, so governance never shrinks the set below four. (A development
	/// chain starts with one validator; it may add, not remove. `force_set_validators` may go
	/// lower to recover from a stall.)
	type MinValidators = ConstU32<4>;
	type WeightInfo = pallet_consortium::weights::SubstrateWeight<Runtime>;
}

/// The database costs the runtime is weighed with, for migrations.
pub type ParityDbWeightOf = ParityDbWeight;

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
	type DefaultVote = AbstainIsNay;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	/// Membership changes go only through `ConsortiumMembership` (¾), which calls into the
	/// collective: a direct `set_members` would let the collective and the registry's
	/// `Protected` list drift apart.
	type SetMembersOrigin = frame_support::traits::NeverEnsureOrigin<()>;
	type MaxProposalWeight = MaxProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

impl pallet_membership::Config<pallet_membership::Instance1> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = EnsureConsortiumRoot;
	type RemoveOrigin = EnsureConsortiumRoot;
	type SwapOrigin = EnsureConsortiumRoot;
	type ResetOrigin = EnsureConsortiumRoot;
	type PrimeOrigin = EnsureConsortiumRoot;
	type MembershipInitialized = Consortium;
	type MembershipChanged = Consortium;
	type MaxMembers = ConstU32<MAX_CONSORTIUM_MEMBERS>;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

impl pallet_node_authorization::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	/// Validators plus archive, RPC and bridge nodes of every member.
	type MaxWellKnownNodes = ConstU32<128>;
	type MaxPeerIdLength = ConstU32<MAX_PEER_ID_LENGTH>;
	type AddOrigin = EnsureConsortium;
	type RemoveOrigin = EnsureConsortium;
	type SwapOrigin = EnsureConsortium;
	type ResetOrigin = EnsureConsortium;
	type WeightInfo = crate::node_authorization::NodeAuthorizationWeight;
}

parameter_types! {
	/// Four levels: control area > zone > primary substation > feeder.
	pub const MaxAreaDepth: u8 = 3;
	/// One minute of blocks per rate window.
	pub const RateWindow: BlockNumber = MINUTES;
}

/// Most PoD ids one `session_snapshot` call scans (each with up to four area reads and its
/// PoMs); clients page on.
pub const MAX_SNAPSHOT_PAGE: u32 = 1_000;
/// Most devices one `gateway_devices` call returns.
pub const MAX_DEVICE_PAGE: u32 = 1_000;

/// Genesis must register every council member and validator operator as a participant: a
/// member who is not could not transact (`CheckParticipant`), so could never vote.
pub struct GenesisParticipants;
impl Get<alloc::vec::Vec<AccountId>> for GenesisParticipants {
	fn get() -> alloc::vec::Vec<AccountId> {
		let mut who = pallet_collective::Members::<Runtime, ConsortiumCollective>::get();
		who.extend(
			pallet_consortium::Validators::<Runtime>::get()
				.into_iter()
				.map(|v| v.operator),
		);
		who
	}
}

impl pallet_registry::Config for Runtime {
	type AdminOrigin = EnsureConsortium;
	type MaxNameLen = ConstU32<64>;
	/// 34 bytes: the longest point-of-delivery identifiers in use (metering-point IDs of 33
	/// characters; EAN-18 and Italian 14/15-character POD codes fit easily).
	type MaxCodeLen = ConstU32<34>;
	type MaxAreaDepth = MaxAreaDepth;
	/// A meter, a PMU and a handful of sensors per PoD, with room for replacements.
	type MaxPomsPerPod = ConstU32<16>;
	type RateWindow = RateWindow;
	/// Two transactions per second per member on average, 120 in a burst: far above what a
	/// gateway (a batch per window) or an aggregator (offers per session) needs, while a
	/// flooding member can never take more than 120 extrinsics' worth of blocks per minute.
	type MaxTxPerWindow = ConstU32<120>;
	type UnixTime = Timestamp;
	type Datasets = Certification;
	/// Council members: the registry's 2/3 may not suspend or remove them.
	type Protected = ConsortiumMembership;
	type GenesisParticipants = GenesisParticipants;
	type WeightInfo = pallet_registry::weights::SubstrateWeight<Runtime>;
}

/// Who anchors each kind by extrinsic: nobody. Clearing inputs, outcomes, technical validations
/// and settlement belong to the market and settlement pallets, which anchor through
/// `pallet_certification::Anchoring`; a participant can neither pre-empt nor rewrite them.
pub struct AnchorOrigins;
impl EnsureOriginWithArg<RuntimeOrigin, platone_primitives::AnchorKind> for AnchorOrigins {
	type Success = AccountId;

	fn try_origin(
		o: RuntimeOrigin,
		_kind: &platone_primitives::AnchorKind,
	) -> Result<AccountId, RuntimeOrigin> {
		Err(o)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin(_: &platone_primitives::AnchorKind) -> Result<RuntimeOrigin, ()> {
		Err(())
	}
}

/// Wall clock for certification benchmarks.
pub struct CertificationClock;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_certification::BenchmarkHelper for CertificationClock {
	fn set_now_ms(ms: u64) {
		pallet_timestamp::Now::<Runtime>::put(ms);
	}
}

impl pallet_certification::Config for Runtime {
	/// Active participants with the gateway role; each certifies only the PoMs (datasets) the
	/// registry assigns it.
	type CertifyOrigin = pallet_registry::EnsureGateway<Runtime>;
	type Authority = Registry;
	type AnchorOrigin = AnchorOrigins;
	type AdminOrigin = EnsureConsortium;
	type UnixTime = Timestamp;
	/// 6 windows of 1,024 datasets (a gateway's PoMs): 6,144 dataset-windows and 295 KiB in one
	/// extrinsic, whose worst-case weight with its extensions (about 1.1 s) fits a block's
	/// normal share (1.5 s) with room for benchmark noise; see the test below and
	/// docs/benchmarks.md. A certifier catching up after an outage still clears 18 minutes of
	/// 180 s windows per block.
	type MaxWindowsPerBatch = ConstU32<6>;
	type MaxDatasetsPerWindow = ConstU32<1_024>;
	/// 10 s: sensors report every 10 s (T-BAP-01).
	type MinWindowMs = ConstU32<10_000>;
	/// One day: 15-minute meter data (T-BAP-02) may be certified daily.
	type MaxWindowMs = ConstU32<86_400_000>;
	/// Gateways keep NTP time; 30 s covers their skew plus one slot.
	type MaxClockDriftMs = ConstU64<30_000>;
	/// A week: a gateway's outage (or its certifier's) may be caught up for seven days; after
	/// that its windows are given up, and certified history is closed for good. Far shorter
	/// than the retention, so a pruned window can never be certified again.
	/// The bound off-chain tools share (`platone_primitives::MAX_LATENESS_MS`): the SCD's
	/// late-data rule and `platone audit scd` place and check data against it.
	type MaxLatenessMs = ConstU64<{ platone_primitives::MAX_LATENESS_MS }>;
	/// 400 days in state: a full settlement year plus disputes, then archive nodes keep them.
	type RetentionMs = ConstU64<{ 400 * 24 * 3_600_000 }>;
	/// Anchors stay as long as certificates.
	type AnchorRetention = ConstU32<{ 400 * DAYS }>;
	type MaxPrunePerCall = ConstU32<256>;
	type WeightInfo = pallet_certification::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = CertificationClock;
}

parameter_types! {
	pub const MarketPalletId: frame_support::PalletId = frame_support::PalletId(*b"plt/mrkt");
	/// A quarter of the block for the market's session steps: with the normal class's three
	/// quarters, a block still fits.
	pub MarketHookWeight: Weight = Perbill::from_percent(25) * RuntimeBlockWeights::get().max_block;
	/// Fail-safe: an award its DSO did not validate is not activated (docs/market.md).
	pub const MarketDefaultLight: pallet_market::Light = pallet_market::Light::Red;
}

/// Registry records and the clock for the market's benchmarks.
pub struct MarketBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_market::BenchmarkHelper<AccountId> for MarketBenchmarks {
	fn participant(seed: u32, roles: u8) -> AccountId {
		let who: AccountId = frame_benchmarking::account("market", seed, 0);
		let mut eic = *b"10XMARKETBENCH00";
		eic[14] = b'0' + (seed / 10 % 10) as u8;
		eic[15] = b'0' + (seed % 10) as u8;
		let name = alloc::vec![b'm'; 8].try_into().unwrap_or_default();
		let _ = Registry::do_register_participant(
			who.clone(),
			pallet_registry::Roles(roles),
			pallet_registry::Eic(eic),
			name,
		);
		who
	}

	fn area(owner: &AccountId, parent: Option<pallet_registry::AreaId>) -> pallet_registry::AreaId {
		let n = pallet_registry::LastAreaId::<Runtime>::get();
		let code = alloc::format!("BENCH-AREA-{n}")
			.into_bytes()
			.try_into()
			.unwrap_or_default();
		Registry::do_register_area(owner.clone(), code, pallet_registry::AreaKind::Zone, parent)
			.unwrap_or_default()
	}

	fn pod(area: pallet_registry::AreaId, aggregator: &AccountId) -> pallet_registry::PodId {
		let n = pallet_registry::LastPodId::<Runtime>::get();
		let code = alloc::format!("BENCH-POD-{n}")
			.into_bytes()
			.try_into()
			.unwrap_or_default();
		let Some(owner) = pallet_registry::Areas::<Runtime>::get(area).map(|a| a.owner) else {
			return 0;
		};
		let pod = Registry::do_register_pod(owner, code, area).unwrap_or_default();
		let _ = Registry::do_force_set_pod_aggregator(pod, Some(aggregator.clone()));
		pod
	}

	fn set_now_ms(ms: u64) {
		pallet_timestamp::Now::<Runtime>::put(ms);
	}
}

impl pallet_market::Config for Runtime {
	type Registry = Registry;
	type Anchoring = Certification;
	/// Sessions are pruned only once settled.
	type Settlement = Settlement;
	/// Active DSOs and TSOs (FR-MP-FSM-01).
	type RequestOrigin = pallet_registry::EnsureGridOperator<Runtime>;
	/// Active aggregators, for the PoDs they represent (FR-MP-FSM-03).
	type OfferOrigin = pallet_registry::EnsureAggregator<Runtime>;
	/// Active grid operators, each for the awards on its own areas (FR-MP-MOMV-03).
	type ValidateOrigin = pallet_registry::EnsureGridOperator<Runtime>;
	type AdminOrigin = EnsureConsortium;
	type UnixTime = Timestamp;
	type PalletId = MarketPalletId;
	/// A day of 15-minute market time units.
	type MaxSlots = ConstU32<96>;
	/// Per session, the scale (10,000 offers and 1,000 requests over 96 slots): gate
	/// closure seals `SealChunk` ids per step, a clearing step reads only its own items, and a
	/// step's validation closes `CloseChunk` awards per step, each within the hook's quarter
	/// block by the pallet's estimates (docs/market.md, "Scale"). The runtime's integrity test
	/// holds each step.
	type MaxRequests = ConstU32<1_000>;
	type MaxOffers = ConstU32<10_000>;
	/// A session's items and 1,000 more: an aggregator may hold every offer and still
	/// withdraw and resubmit some; churn beyond that is refused, so sealing walks at most this
	/// many ids per participant, 24 chunks (docs/market.md).
	type MaxItemsPerAccount = ConstU32<12_000>;
	type MaxAreas = ConstU32<1_024>;
	/// The registry's deepest area and its ancestors.
	type MaxAreaPath = ConstU32<{ MaxAreaDepth::get() as u32 + 1 }>;
	/// About a quarter block of registry checks per gate-closure step.
	type SealChunk = ConstU32<512>;
	/// About half the hook's quarter block of answers read per validation-closing step.
	type CloseChunk = ConstU32<4_096>;
	/// A day-ahead session lives about 26 hours, an hourly real-time one about 3.
	type MaxLive = ConstU32<16>;
	type MaxAnswers = ConstU32<256>;
	/// 16 solves' worth of clearing work per step at most; gate closure lowers it for a
	/// session whose steps would not fit the hook's budget (to 0 at the bounds).
	type ExactLimit = frame_support::traits::ConstU8<4>;
	type DefaultLight = MarketDefaultLight;
	type MinValidationMs = ConstU64<{ 5 * 60_000 }>;
	/// As long as certificates: settlement and disputes read the market's records.
	type RetentionMs = ConstU64<{ 400 * 24 * 3_600_000 }>;
	type MaxPrunePerCall = ConstU32<512>;
	type HookWeight = MarketHookWeight;
	/// Measured on the release node, never below the pallet's own bounds.
	type WeightInfo = crate::weights::MarketWeight;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MarketBenchmarks;
}

parameter_types! {
	pub const SettlementPalletId: frame_support::PalletId = frame_support::PalletId(*b"plt/sttl");
	/// Offers without a mechanism of their own, and contracts that fail: delivery within 10 %
	/// of the award is paid in full, a shortfall costs half its value, and nothing is shared
	/// (docs/settlement.md).
	pub const SettlementDefaultTerms: pallet_settlement::Terms = pallet_settlement::Terms {
		tolerance: sp_runtime::Permill::from_percent(10),
		penalty: sp_runtime::Permill::from_percent(50),
		customer_share: sp_runtime::Permill::zero(),
	};
	pub const SettlementMaxTolerance: sp_runtime::Permill = sp_runtime::Permill::from_percent(20);
}

/// Registry records, certificates and the clock for the settlement's benchmarks.
pub struct SettlementBenchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl pallet_settlement::BenchmarkHelper<AccountId> for SettlementBenchmarks {
	fn participant(seed: u32, roles: u8) -> AccountId {
		<MarketBenchmarks as pallet_market::BenchmarkHelper<AccountId>>::participant(
			100 + seed,
			roles | pallet_registry::roles::GRID_OPERATOR | pallet_registry::roles::AGGREGATOR,
		)
	}

	fn pod_with_meters(
		operator: &AccountId,
		aggregator: &AccountId,
		gateway: &AccountId,
		meters: u32,
	) -> (
		pallet_registry::PodId,
		alloc::vec::Vec<pallet_registry::PomId>,
	) {
		use pallet_market::BenchmarkHelper as _;
		let area = MarketBenchmarks::area(operator, None);
		let pod = MarketBenchmarks::pod(area, aggregator);
		let poms = (0..u64::from(meters))
			.map(|i| {
				let pom = 1_000_000 + u64::from(pod) * 1_000 + i;
				let mut device_key = [0u8; 32];
				device_key[..8].copy_from_slice(&pom.to_le_bytes());
				pallet_registry::Poms::<Runtime>::insert(
					pom,
					pallet_registry::Pom {
						pod,
						kind: pallet_registry::PomKind::Meter,
						device_key,
						gateway: gateway.clone(),
						gateway_since_ms: 0,
						previous_gateway: None,
					},
				);
				pallet_registry::PodPoms::<Runtime>::insert(pod, pom, ());
				pom
			})
			.collect();
		(pod, poms)
	}

	fn certify(
		gateway: &AccountId,
		window: platone_primitives::Window,
		root: platone_primitives::Hash,
	) {
		pallet_certification::Certificates::<Runtime>::insert(
			gateway,
			window,
			pallet_certification::Certificate {
				root,
				datasets: 1,
				leaves: 1,
				certified_at: 0,
			},
		);
	}

	fn set_now_ms(ms: u64) {
		pallet_timestamp::Now::<Runtime>::put(ms);
	}
}

impl pallet_settlement::Config for Runtime {
	type Market = Market;
	type Registry = Registry;
	type Certificates = Certification;
	type Anchoring = Certification;
	/// The native token (`pallet_balances`), which pays for nothing else on this chain.
	type Token = Balances;
	/// Mechanisms written as contracts run on `pallet-contracts` (`crate::contracts`).
	type Contracts = crate::contracts::ContractMechanisms;
	/// Active aggregators, for their own PoDs and offers (FR-MP-SET-01/04).
	type AggregatorOrigin = pallet_registry::EnsureAggregator<Runtime>;
	/// Active grid operators, for the PoDs in their areas.
	type OperatorOrigin = pallet_registry::EnsureGridOperator<Runtime>;
	/// Any active participant: the `platone settle` worker, an auditor, a party.
	type ParticipantOrigin = pallet_registry::EnsureRole<Runtime, { pallet_registry::roles::ALL }>;
	type AdminOrigin = EnsureConsortium;
	type UnixTime = Timestamp;
	type PalletId = SettlementPalletId;
	type DefaultTerms = SettlementDefaultTerms;
	/// No mechanism pays in full for less than 80 % of an award.
	type MaxTolerance = SettlementMaxTolerance;
	/// The registry's PoMs per PoD.
	type MaxMeters = ConstU32<16>;
	type MaxSlots = ConstU32<96>;
	/// Two meters with both flows as fifteen 1-minute deltas, with room to spare.
	type MaxReadings = ConstU32<128>;
	/// With a contract call and the market's worst-case award lookup each, 16 awards fit one
	/// extrinsic (the test below).
	type MaxAwardsPerCall = ConstU32<16>;
	/// A twentieth of a second of ref time per contract call.
	type MaxContractGas = ConstU64<{ WEIGHT_REF_TIME_PER_SECOND / 20 }>;
	/// Two days for late meter data to be certified and submitted after a slot.
	type MeteringDelayMs = ConstU64<{ 2 * 24 * 3_600_000 }>;
	/// A week for the parties to dispute an outcome.
	type DisputeMs = ConstU64<{ 7 * 24 * 3_600_000 }>;
	/// Ten tokens, half the value of a 1 MW quarter-hour at 80 tokens per MWh: enough to make
	/// a party weigh a dispute, little against a wrong settlement.
	type DisputeDeposit = ConstU128<{ 10 * UNIT }>;
	/// Measured on the release node, never below the pallet's own bounds.
	type WeightInfo = crate::weights::SettlementWeight;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = SettlementBenchmarks;
}

#[cfg(test)]
mod tests {
	use super::*;
	use frame_support::traits::Get;
	use pallet_certification::WeightInfo;

	/// The largest certification batch must be includable: its worst-case weight, plus the
	/// participant check every signed extrinsic pays, fits one normal extrinsic with 10 % to
	/// spare for the spread between benchmark runs.
	#[test]
	fn largest_certification_batch_fits_in_a_block() {
		use pallet_registry::WeightInfo as _;
		type MaxWindows = <Runtime as pallet_certification::Config>::MaxWindowsPerBatch;
		type PerWindow = <Runtime as pallet_certification::Config>::MaxDatasetsPerWindow;
		let worst = pallet_certification::weights::SubstrateWeight::<Runtime>::certify(
			<MaxWindows as Get<u32>>::get(),
			<MaxWindows as Get<u32>>::get() * <PerWindow as Get<u32>>::get(),
		)
		.saturating_add(pallet_registry::weights::SubstrateWeight::<Runtime>::check_participant());
		let worst = worst.saturating_add(worst / 10);
		let limit = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("normal extrinsics are limited");
		assert!(worst.all_lte(limit), "{worst:?} exceeds {limit:?}");
	}

	/// The largest `settle` (every award with a contract call and the market's worst-case
	/// lookup) and `finalize` fit one normal extrinsic, with the participant check and 10 %
	/// to spare.
	#[test]
	fn largest_settlement_calls_fit_in_a_block() {
		use pallet_registry::WeightInfo as _;
		type Max = <Runtime as pallet_settlement::Config>::MaxAwardsPerCall;
		let n = <Max as Get<u32>>::get();
		let check = pallet_registry::weights::SubstrateWeight::<Runtime>::check_participant();
		let limit = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_extrinsic
			.expect("normal extrinsics are limited");
		for worst in [
			pallet_settlement::Pallet::<Runtime>::settle_weight(n, n),
			<<Runtime as pallet_settlement::Config>::WeightInfo as pallet_settlement::WeightInfo>::finalize(n),
		] {
			let worst = worst.saturating_add(check);
			let worst = worst.saturating_add(worst / 10);
			assert!(worst.all_lte(limit), "{worst:?} exceeds {limit:?}");
		}
	}

	/// Settlements per block (docs/benchmarks.md): awards settled and made final in the normal
	/// class of one block, by the weights the runtime charges, 16 awards of one step per call
	/// with the participant check; with standard mechanisms, and with contract mechanisms at
	/// the graded contract's use (28 µs, the runtime test of `contracts`) after the refund.
	#[test]
	fn settlements_per_block() {
		use pallet_registry::WeightInfo as _;
		use pallet_settlement::WeightInfo as _;
		type Settlement = pallet_settlement::Pallet<Runtime>;
		type W = <Runtime as pallet_settlement::Config>::WeightInfo;
		let normal = RuntimeBlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.expect("the normal class is limited")
			.ref_time();
		let check = pallet_registry::weights::SubstrateWeight::<Runtime>::check_participant();
		let graded = Weight::from_parts(28_000_000, 2_861).saturating_mul(16);
		let per_block = |w: Weight| 16 * normal / w.saturating_add(check).ref_time();
		let standard = per_block(Settlement::settle_actual(16, 1, Weight::zero()));
		let contract = per_block(Settlement::settle_actual(16, 1, graded));
		let finals = per_block(W::finalize(16));
		println!("per block: {standard} awards settled by standard mechanisms, {contract} by contracts, {finals} made final");
		assert!(standard >= 1_000 && contract >= 1_000 && finals >= 1_000);
	}
}
