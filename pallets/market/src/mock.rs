//! Mock runtime with a small grid, its registry and the certification pallet's anchors stood in
//! by statics that tests can change:
//!
//! - DSO_A operates zone 1 and its feeder 2; DSO_B zone 3; the TSO control area 4.
//! - PoDs: 10 in feeder 2 and 11 in zone 1 (AGG_A), 12 in zone 3 (AGG_B), 13 in area 4
//!   (AGG_B), 14 in feeder 2 with no aggregator.
//!
//! The mock runs its `DayAhead` sessions hourly, to keep tests short: 4 slots of 15 minutes,
//! opening 2 h 30 min and closing 1 h before delivery, with 30 minutes to validate.

use crate::{self as pallet_market, Light, Schedule, SessionKind};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, ConstU8, EnsureOrigin, Hooks, UnixTime},
	weights::Weight,
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use pallet_registry::{roles, AreaId, ParticipantRegistry, PodId, PomId};
use platone_primitives::{AnchorKind, Hash};
use sp_runtime::{BuildStorage, DispatchError};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Market: pallet_market,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type DbWeight = frame_support::weights::constants::RocksDbWeight;
}

pub const DSO_A: u64 = 1;
pub const DSO_B: u64 = 2;
pub const TSO: u64 = 3;
pub const AGG_A: u64 = 4;
pub const AGG_B: u64 = 5;
pub const STRANGER: u64 = 9;

pub const MINUTE: u64 = 60_000;
pub const HOUR: u64 = 60 * MINUTE;
pub const DAY: u64 = 24 * HOUR;
/// 2026-12-02 00:00 UTC.
pub const DAY_D: u64 = 1_796_169_600_000;

parameter_types! {
	pub static NowMs: u64 = DAY_D - 3 * HOUR;
	/// (account, roles); suspended accounts are simply left out.
	pub static Roles: Vec<(u64, u8)> = vec![
		(DSO_A, roles::DSO),
		(DSO_B, roles::DSO),
		(TSO, roles::TSO),
		(AGG_A, roles::AGGREGATOR),
		(AGG_B, roles::AGGREGATOR),
	];
	/// (area, parent, owner).
	pub static AreaTable: Vec<(AreaId, Option<AreaId>, u64)> = vec![
		(1, None, DSO_A),
		(2, Some(1), DSO_A),
		(3, None, DSO_B),
		(4, None, TSO),
	];
	/// (PoD, area, aggregator).
	pub static PodTable: Vec<(PodId, AreaId, Option<u64>)> = vec![
		(10, 2, Some(AGG_A)),
		(11, 1, Some(AGG_A)),
		(12, 3, Some(AGG_B)),
		(13, 4, Some(AGG_B)),
		(14, 2, None),
	];
	/// Anchors written through `Anchoring`: (by, kind, subject, digest, leaves).
	pub static AnchorLog: Vec<(u64, AnchorKind, [u8; 32], Hash, u64)> = Vec::new();
	pub const MarketPalletId: PalletId = PalletId(*b"plt/mrkt");
	pub static HookBudget: Weight = Weight::from_parts(2_000_000_000_000, u64::MAX);
	pub static DefaultAnswer: Light = Light::Red;
	/// Sessions whose settlement is not done.
	pub static Unsettled: Vec<u32> = Vec::new();
	/// Records the mock settlement holds for any session, removed by `prune`.
	pub static SettlementRecords: u32 = 0;
}

pub struct MockTime;
impl UnixTime for MockTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_millis(NowMs::get())
	}
}

pub struct MockRegistry;
impl ParticipantRegistry<u64> for MockRegistry {
	fn has_role(who: &u64, mask: u8) -> bool {
		Roles::get().iter().any(|(a, r)| a == who && r & mask != 0)
	}
	fn pod_aggregator(pod: PodId) -> Option<u64> {
		PodTable::get()
			.iter()
			.find(|p| p.0 == pod)
			.and_then(|p| p.2)
	}
	fn pod_area(pod: PodId) -> Option<AreaId> {
		PodTable::get().iter().find(|p| p.0 == pod).map(|p| p.1)
	}
	fn area_owner(area: AreaId) -> Option<u64> {
		AreaTable::get().iter().find(|a| a.0 == area).map(|a| a.2)
	}
	fn area_within(area: AreaId, ancestor: AreaId) -> bool {
		Self::area_path(area).contains(&ancestor)
	}
	fn pom_pod(_: PomId) -> Option<PodId> {
		None
	}
	fn area_path(area: AreaId) -> Vec<AreaId> {
		let table = AreaTable::get();
		let mut path = Vec::new();
		let mut next = table.iter().find(|a| a.0 == area);
		while let Some(a) = next {
			path.push(a.0);
			next = a.1.and_then(|p| table.iter().find(|b| b.0 == p));
		}
		path
	}
	fn pod_meters(_: PodId) -> Vec<PomId> {
		Vec::new()
	}
}

pub struct MockSettlement;
impl crate::SessionSettled for MockSettlement {
	fn is_settled(session: crate::SessionId) -> bool {
		!Unsettled::get().contains(&session)
	}
	fn prune(_: crate::SessionId, budget: u32) -> (u32, bool) {
		let n = SettlementRecords::get().min(budget);
		SettlementRecords::mutate(|r| *r -= n);
		(n, SettlementRecords::get() == 0)
	}
}

pub struct MockAnchoring;
impl pallet_certification::Anchoring<u64> for MockAnchoring {
	fn anchor(
		by: u64,
		kind: AnchorKind,
		subject: [u8; 32],
		digest: Hash,
		leaf_count: u64,
	) -> Result<(), DispatchError> {
		AnchorLog::mutate(|l| l.push((by, kind, subject, digest, leaf_count)));
		Ok(())
	}
}

/// Signed accounts holding any role of `MASK`, as the registry's `EnsureRole` admits them.
pub struct EnsureMockRole<const MASK: u8>;
impl<const MASK: u8> EnsureOrigin<RuntimeOrigin> for EnsureMockRole<MASK> {
	type Success = u64;
	fn try_origin(o: RuntimeOrigin) -> Result<u64, RuntimeOrigin> {
		match EnsureSigned::<u64>::try_origin(o.clone()) {
			Ok(who) if MockRegistry::has_role(&who, MASK) => Ok(who),
			_ => Err(o),
		}
	}
	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<RuntimeOrigin, ()> {
		Err(())
	}
}

impl pallet_market::Config for Test {
	type Registry = MockRegistry;
	type Anchoring = MockAnchoring;
	type Settlement = MockSettlement;
	type RequestOrigin = EnsureMockRole<{ roles::GRID_OPERATOR }>;
	type OfferOrigin = EnsureMockRole<{ roles::AGGREGATOR }>;
	type ValidateOrigin = EnsureMockRole<{ roles::GRID_OPERATOR }>;
	type AdminOrigin = EnsureRoot<u64>;
	type UnixTime = MockTime;
	type PalletId = MarketPalletId;
	type MaxSlots = ConstU32<96>;
	type MaxRequests = ConstU32<8>;
	type MaxOffers = ConstU32<16>;
	type MaxItemsPerAccount = ConstU32<40>;
	type MaxAreas = ConstU32<8>;
	type MaxAreaPath = ConstU32<2>;
	/// Small, so that tests seal over several steps.
	type SealChunk = ConstU32<3>;
	/// Small, so that tests close a step's validation over several steps.
	type CloseChunk = ConstU32<2>;
	type MaxLive = ConstU32<3>;
	type MaxAnswers = ConstU32<16>;
	type ExactLimit = ConstU8<4>;
	type DefaultLight = DefaultAnswer;
	type MinValidationMs = ConstU64<{ 10 * MINUTE }>;
	type RetentionMs = ConstU64<{ DAY }>;
	type MaxPrunePerCall = ConstU32<5>;
	type HookWeight = HookBudget;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockRegistry;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for MockRegistry {
	fn participant(seed: u32, roles: u8) -> u64 {
		let who = 1_000 + u64::from(seed);
		Roles::mutate(|r| r.push((who, roles)));
		who
	}
	fn area(owner: &u64, parent: Option<AreaId>) -> AreaId {
		let id = AreaTable::get().iter().map(|a| a.0).max().unwrap_or(0) + 1;
		AreaTable::mutate(|t| t.push((id, parent, *owner)));
		id
	}
	fn pod(area: AreaId, aggregator: &u64) -> PodId {
		let id = PodTable::get().iter().map(|p| p.0).max().unwrap_or(0) + 1;
		PodTable::mutate(|t| t.push((id, area, Some(*aggregator))));
		id
	}
	fn set_now_ms(ms: u64) {
		NowMs::set(ms);
	}
}

/// The mock's schedule for `DayAhead`: hourly periods (see the module docs).
pub fn hourly() -> Schedule {
	Schedule {
		period_ms: HOUR,
		slot_ms: (15 * MINUTE) as u32,
		open_lead_ms: 2 * HOUR + 30 * MINUTE,
		gate_lead_ms: HOUR,
		validation_ms: 30 * MINUTE,
	}
}

#[derive(Default)]
pub struct ExtBuilder {
	no_schedule: bool,
}

impl ExtBuilder {
	/// No session schedule at genesis.
	pub fn without_schedule(mut self) -> Self {
		self.no_schedule = true;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		// The statics are per thread: a test that builds twice starts afresh each time.
		NowMs::set(DAY_D - 3 * HOUR);
		AnchorLog::set(Vec::new());
		Unsettled::set(Vec::new());
		SettlementRecords::set(0);
		HookBudget::set(Weight::from_parts(2_000_000_000_000, u64::MAX));
		let storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.expect("mock genesis builds");
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| {
			System::set_block_number(1);
			if !self.no_schedule {
				crate::Pallet::<Test>::do_set_schedule(SessionKind::DayAhead, Some(hourly()))
					.expect("the mock schedule is valid");
			}
		});
		ext
	}
}

/// Runs the next block's hook at `now_ms`.
pub fn run_block_at(now_ms: u64) {
	NowMs::set(now_ms);
	let n = System::block_number() + 1;
	System::set_block_number(n);
	Market::on_initialize(n);
}
