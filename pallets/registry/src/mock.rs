//! Mock runtime with a small grid: two DSOs, a TSO, two aggregators, a gateway, an auditor and a
//! market operator; root stands in for the consortium.

use crate::{self as pallet_registry, AreaKind, PomKind};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, Contains, UnixTime},
};
use frame_system::EnsureRoot;
use platone_primitives::DatasetId;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Registry: pallet_registry,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

parameter_types! {
	pub const MaxAreaDepth: u8 = 2;
	pub const RateWindow: u64 = 10;
	/// Wall-clock time, Unix ms.
	pub static NowMs: u64 = 1_795_564_800_000;
	/// Window durations the certification pallet would know, per dataset.
	pub static Durations: Vec<(DatasetId, u32)> = Vec::new();
	/// Handovers reported through `DatasetLifecycle::split`.
	pub static Splits: Vec<(DatasetId, u64)> = Vec::new();
	/// Datasets retired through `DatasetLifecycle`.
	pub static RetiredDatasets: Vec<DatasetId> = Vec::new();
	/// Council members.
	pub static Council: Vec<u64> = Vec::new();
	pub GenesisCouncil: Vec<u64> = Council::get();
}

pub struct MockTime;
impl UnixTime for MockTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_millis(NowMs::get())
	}
}

pub struct MockDatasets;
impl pallet_certification::DatasetLifecycle for MockDatasets {
	fn window_ms(dataset: DatasetId) -> Option<u32> {
		Durations::get()
			.iter()
			.find(|(d, _)| *d == dataset)
			.map(|(_, ms)| *ms)
	}
	fn retire(dataset: DatasetId) {
		RetiredDatasets::mutate(|r| r.push(dataset));
	}
	fn split(dataset: DatasetId, at_ms: u64) {
		Splits::mutate(|s| s.push((dataset, at_ms)));
	}
}

pub struct IsCouncil;
impl Contains<u64> for IsCouncil {
	fn contains(who: &u64) -> bool {
		Council::get().contains(who)
	}
}

impl pallet_registry::Config for Test {
	type AdminOrigin = EnsureRoot<u64>;
	type MaxNameLen = ConstU32<32>;
	type MaxCodeLen = ConstU32<16>;
	type MaxAreaDepth = MaxAreaDepth;
	type MaxPomsPerPod = ConstU32<3>;
	type RateWindow = RateWindow;
	type MaxTxPerWindow = ConstU32<3>;
	type UnixTime = MockTime;
	type Datasets = MockDatasets;
	type Protected = IsCouncil;
	type GenesisParticipants = GenesisCouncil;
	type WeightInfo = ();
}

pub const DSO_NORTH: u64 = 1;
pub const DSO_SOUTH: u64 = 2;
pub const TSO: u64 = 3;
pub const AGG_A: u64 = 4;
pub const AGG_B: u64 = 5;
pub const GATEWAY: u64 = 6;
pub const AUDITOR: u64 = 7;
pub const MARKET_OPERATOR: u64 = 8;
pub const STRANGER: u64 = 99;

/// Genesis ids: areas 1 (N-ZONE), 2 (N-F1 under 1), 3 (S-ZONE), 4 (TSO-CA); PoDs 1 (POD-N1, in
/// area 2, represented by AGG_A) and 2 (POD-S1, area 3); PoMs 1 (PMU, device 1) and 2 (meter,
/// device 2) at PoD 1.
pub struct ExtBuilder {
	grid: bool,
	council: Vec<u64>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder {
			grid: true,
			council: vec![],
		}
	}
}

fn device_pair(seed: u8) -> sp_core::ed25519::Pair {
	use sp_core::Pair;
	sp_core::ed25519::Pair::from_seed(&[seed; 32])
}

/// The public key of device `seed`.
pub fn device_key(seed: u8) -> crate::DeviceKey {
	use sp_core::Pair;
	device_pair(seed).public().0
}

/// Device `seed`'s proof of control for a registration by `registrant` at `pod`.
pub fn device_proof(seed: u8, registrant: u64, pod: crate::PodId) -> crate::DeviceProof {
	use sp_core::Pair;
	let genesis = System::block_hash(0);
	let message = crate::device_key_message(
		&genesis,
		&registrant,
		pod,
		crate::KeyReleases::<Test>::get(device_key(seed)),
	);
	device_pair(seed).sign(&message).0
}

pub fn eic(tail: &str) -> [u8; 16] {
	let s = format!("10X{tail:->13}");
	s.as_bytes().try_into().expect("16 characters")
}

impl ExtBuilder {
	/// Participants only: no areas, PoDs or PoMs.
	pub fn participants_only() -> Self {
		ExtBuilder {
			grid: false,
			council: vec![],
		}
	}

	/// These participants sit on the council (`Protected`, and required at genesis).
	pub fn council(mut self, members: &[u64]) -> Self {
		self.council = members.to_vec();
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		use crate::roles as r;
		Council::set(self.council.clone());
		NowMs::set(1_795_564_800_000);
		Durations::set(vec![]);
		RetiredDatasets::set(vec![]);
		Splits::set(vec![]);
		let p = |who: u64, roles: u8, tail: &str, name: &str| {
			(
				who,
				roles,
				String::from_utf8(eic(tail).to_vec()).unwrap(),
				name.to_string(),
			)
		};
		let s = |x: &str| x.to_string();
		let mut config = pallet_registry::GenesisConfig::<Test> {
			participants: vec![
				p(DSO_NORTH, r::DSO, "NORTH", "DSO North"),
				p(DSO_SOUTH, r::DSO, "SOUTH", "DSO South"),
				p(TSO, r::TSO, "TSO", "TSO"),
				p(AGG_A, r::AGGREGATOR, "AGGA", "Aggregator A"),
				p(
					AGG_B,
					r::AGGREGATOR | r::BALANCE_SERVICE_PROVIDER,
					"AGGB",
					"Aggregator B",
				),
				p(GATEWAY, r::GATEWAY, "GATEWAY", "BAL gateway"),
				p(AUDITOR, r::AUDITOR, "AUDITOR", "Auditor"),
				p(MARKET_OPERATOR, r::MARKET_OPERATOR, "MO", "Market operator"),
			],
			..Default::default()
		};
		if self.grid {
			config.areas = vec![
				(s("N-ZONE"), AreaKind::Zone, None, DSO_NORTH),
				(s("N-F1"), AreaKind::Feeder, Some(s("N-ZONE")), DSO_NORTH),
				(s("S-ZONE"), AreaKind::Zone, None, DSO_SOUTH),
				(s("TSO-CA"), AreaKind::ControlArea, None, TSO),
			];
			config.pods = vec![
				(s("POD-N1"), s("N-F1"), Some(AGG_A)),
				(s("POD-S1"), s("S-ZONE"), None),
			];
			config.poms = vec![
				(s("POD-N1"), PomKind::Pmu, device_key(1), GATEWAY),
				(s("POD-N1"), PomKind::Meter, device_key(2), GATEWAY),
			];
		}
		let storage = RuntimeGenesisConfig {
			system: Default::default(),
			registry: config,
		}
		.build_storage()
		.expect("valid genesis");
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.register_extension(sp_keystore::KeystoreExt::new(
			sp_keystore::testing::MemoryKeystore::new(),
		));
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Builds, runs `test`, then checks every `try_state` invariant.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Registry::do_try_state().expect("invariants hold");
		});
	}
}

pub fn events() -> Vec<pallet_registry::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|r| match r.event {
			RuntimeEvent::Registry(e) => Some(e),
			_ => None,
		})
		.collect()
}
