//! Mock runtime: gateway 1 may certify datasets 0..1000, gateway 2 datasets 1000..2000;
//! dataset 500 passes from gateway 1 to gateway 2 at `HANDOVER_MS`. Any signed account may
//! anchor `TechnicalValidation` by extrinsic; the other kinds belong to pallets.

use crate as pallet_certification;
use frame_support::{
	derive_impl, parameter_types,
	traits::{EnsureOriginWithArg, UnixTime},
};
use frame_system::{EnsureRoot, EnsureSigned};
use platone_primitives::{AnchorKind, DatasetId, Window};
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
	fn can_certify(gateway: &u64, dataset: DatasetId, window: &Window) -> bool {
		if dataset == HANDED_OVER {
			return match gateway {
				1 => window.end_ms().is_some_and(|end| end <= HANDOVER_MS),
				2 => window.start_ms >= HANDOVER_MS,
				_ => false,
			};
		}
		match gateway {
			1 => dataset < 1000,
			2 => (1000..2000).contains(&dataset),
			_ => Extra::get().contains(&(*gateway, dataset)),
		}
	}

	fn assigned_at(gateway: &u64, dataset: DatasetId, time_ms: u64) -> bool {
		let window = Window {
			start_ms: time_ms - time_ms % u64::from(WINDOW_MS),
			duration_ms: WINDOW_MS,
		};
		Self::can_certify(gateway, dataset, &window)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn authorize(gateway: &u64, dataset: DatasetId) {
		Extra::mutate(|extra| extra.push((*gateway, dataset)));
	}
}

/// The dataset that changes gateway, and when (one window before the test clock's `NOW`).
pub const HANDED_OVER: DatasetId = 500;
pub const HANDOVER_MS: u64 = 1_795_564_800_000 - WINDOW_MS as u64;

/// Signed accounts may anchor technical validations; no one may anchor the pallet-owned kinds.
pub struct MockAnchorOrigin;
impl EnsureOriginWithArg<RuntimeOrigin, AnchorKind> for MockAnchorOrigin {
	type Success = u64;

	fn try_origin(o: RuntimeOrigin, kind: &AnchorKind) -> Result<u64, RuntimeOrigin> {
		match (kind, o.clone().into()) {
			(AnchorKind::TechnicalValidation, Ok(frame_system::RawOrigin::Signed(who))) => Ok(who),
			_ => Err(o),
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin(kind: &AnchorKind) -> Result<RuntimeOrigin, ()> {
		match kind {
			AnchorKind::TechnicalValidation => Ok(RuntimeOrigin::signed(GATEWAY)),
			_ => Err(()),
		}
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
pub const LATENESS_MS: u64 = 60 * MINUTE;
pub const ANCHOR_RETENTION: u64 = 100;

impl pallet_certification::Config for Test {
	type CertifyOrigin = EnsureSigned<u64>;
	type Authority = MockAuthority;
	type AnchorOrigin = MockAnchorOrigin;
	type AdminOrigin = EnsureRoot<u64>;
	type UnixTime = MockTime;
	type MaxWindowsPerBatch = frame_support::traits::ConstU32<8>;
	type MaxDatasetsPerWindow = frame_support::traits::ConstU32<16>;
	type MinWindowMs = frame_support::traits::ConstU32<1_000>;
	type MaxWindowMs = frame_support::traits::ConstU32<3_600_000>;
	type MaxClockDriftMs = frame_support::traits::ConstU64<5_000>;
	type MaxLatenessMs = frame_support::traits::ConstU64<LATENESS_MS>;
	type RetentionMs = frame_support::traits::ConstU64<RETENTION_MS>;
	type AnchorRetention = frame_support::traits::ConstU64<ANCHOR_RETENTION>;
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
