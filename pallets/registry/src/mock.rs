//! Mock runtime with a small grid: two DSOs, a TSO, two aggregators, a gateway, an auditor and a
//! market operator; root stands in for the consortium.

use crate::{self as pallet_registry, AreaKind, PomKind};
use frame_support::{derive_impl, parameter_types, traits::ConstU32};
use frame_system::EnsureRoot;
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
}

impl pallet_registry::Config for Test {
	type AdminOrigin = EnsureRoot<u64>;
	type MaxNameLen = ConstU32<32>;
	type MaxCodeLen = ConstU32<16>;
	type MaxAreaDepth = MaxAreaDepth;
	type MaxPomsPerPod = ConstU32<3>;
	type RateWindow = RateWindow;
	type MaxTxPerWindow = ConstU32<3>;
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
/// area 2, represented by AGG_A) and 2 (POD-S1, area 3); PoMs 1 (PMU) and 2 (meter) at PoD 1.
pub struct ExtBuilder {
	grid: bool,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder { grid: true }
	}
}

pub fn eic(tail: &str) -> [u8; 16] {
	let s = format!("10X{tail:->13}");
	s.as_bytes().try_into().expect("16 characters")
}

impl ExtBuilder {
	/// Participants only: no areas, PoDs or PoMs.
	pub fn participants_only() -> Self {
		ExtBuilder { grid: false }
	}

	pub fn build(self) -> sp_io::TestExternalities {
		use crate::roles as r;
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
				(s("POD-N1"), PomKind::Pmu, [1; 32], GATEWAY),
				(s("POD-N1"), PomKind::Meter, [2; 32], GATEWAY),
			];
		}
		let storage = RuntimeGenesisConfig {
			system: Default::default(),
			registry: config,
		}
		.build_storage()
		.expect("valid genesis");
		let mut ext = sp_io::TestExternalities::new(storage);
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
