//! Mock runtime: gateway 1 may certify datasets 0..1000, gateway 2 datasets 1000..2000.

use crate as pallet_certification;
use frame_support::{derive_impl, parameter_types, traits::UnixTime};
use frame_system::{EnsureRoot, EnsureSigned};
use platone_primitives::DatasetId;
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Certification: pallet_certification,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type DbWeight = frame_support::weights::constants::ParityDbWeight;
}

pub const GATEWAY: u64 = 1;
pub const OTHER_GATEWAY: u64 = 2;
pub const OUTSIDER: u64 = 9;

pub struct MockAuthority;
impl crate::CertificationAuthority<u64> for MockAuthority {
	fn can_certify(gateway: &u64, dataset: DatasetId) -> bool {
		match gateway {
			1 => dataset < 1000,
			2 => (1000..2000).contains(&dataset),
			_ => Extra::get().contains(&(*gateway, dataset)),
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn authorize(gateway: &u64, dataset: DatasetId) {
		Extra::mutate(|extra| extra.push((*gateway, dataset)));
	}
}

parameter_types! {
	/// Wall-clock time seen by the pallet, Unix ms.
	pub static NowMs: u64 = 0;
	/// Authorisations granted by benchmarks.
	pub static Extra: Vec<(u64, DatasetId)> = Vec::new();
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MockTime {
	fn set_now_ms(ms: u64) {
		NowMs::set(ms);
	}
}

pub struct MockTime;
impl UnixTime for MockTime {
	fn now() -> core::time::Duration {
		core::time::Duration::from_millis(NowMs::get())
	}
}

pub const MINUTE: u64 = 60_000;
pub const WINDOW_MS: u32 = 180_000;
pub const RETENTION_MS: u64 = 24 * 60 * MINUTE;

impl pallet_certification::Config for Test {
	type CertifyOrigin = EnsureSigned<u64>;
	type Authority = MockAuthority;
	type AnchorOrigin = EnsureSigned<u64>;
	type AdminOrigin = EnsureRoot<u64>;
	type UnixTime = MockTime;
	type MaxWindowsPerBatch = frame_support::traits::ConstU32<8>;
	type MaxDatasetsPerWindow = frame_support::traits::ConstU32<16>;
	type MinWindowMs = frame_support::traits::ConstU32<1_000>;
	type MaxWindowMs = frame_support::traits::ConstU32<3_600_000>;
	type MaxClockDriftMs = frame_support::traits::ConstU64<5_000>;
	type RetentionMs = frame_support::traits::ConstU64<RETENTION_MS>;
	type MaxPrunePerCall = frame_support::traits::ConstU32<8>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockTime;
}

/// Builds test externalities; `now_ms` sets the wall clock.
pub struct ExtBuilder {
	now_ms: u64,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		// 2026-11-25T00:00:00Z, a multiple of the 180 s window.
		ExtBuilder {
			now_ms: 1_795_564_800_000,
		}
	}
}

impl ExtBuilder {
	pub fn now_ms(mut self, now_ms: u64) -> Self {
		self.now_ms = now_ms;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let storage = frame_system::GenesisConfig::<Test>::default()
			.build_storage()
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let now = self.now_ms;
		ext.execute_with(|| {
			NowMs::set(now);
			System::set_block_number(1);
		});
		ext
	}

	/// Runs `test`, then checks the pallet's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Certification::do_try_state().expect("try_state invariants hold");
		});
	}
}

#[cfg(feature = "runtime-benchmarks")]
pub fn new_test_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}
