//! Mock runtime with Aura, GRANDPA and timestamp; root stands in for the consortium council.

use crate as pallet_consortium;
use frame_support::{derive_impl, traits::ConstU32};
use frame_system::EnsureRoot;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::{crypto::UncheckedFrom, ed25519, sr25519};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Timestamp: pallet_timestamp,
		Aura: pallet_aura,
		Grandpa: pallet_grandpa,
		Consortium: pallet_consortium,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_timestamp::Config for Test {
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = frame_support::traits::ConstU64<3000>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Test {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<8>;
	type AllowMultipleBlocksPerSlot = frame_support::traits::ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Test>;
}

impl pallet_grandpa::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<8>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = frame_support::traits::ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_consortium::Config for Test {
	type RuntimeCall = RuntimeCall;
	type ValidatorOrigin = EnsureRoot<u64>;
	type RootOrigin = EnsureRoot<u64>;
	type ForceOrigin = EnsureRoot<u64>;
	type MaxValidators = ConstU32<8>;
	type MinValidators = ConstU32<2>;
	type WeightInfo = ();
}

pub fn aura(i: u8) -> AuraId {
	sr25519::Public::unchecked_from([i; 32]).into()
}

pub fn grandpa(i: u8) -> GrandpaId {
	ed25519::Public::unchecked_from([i; 32]).into()
}

/// Genesis with validators run by operators `1..=n`, keyed `[i; 32]`.
pub struct ExtBuilder {
	validators: u8,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		ExtBuilder { validators: 3 }
	}
}

impl ExtBuilder {
	pub fn validators(mut self, n: u8) -> Self {
		self.validators = n;
		self
	}

	pub fn build(self) -> sp_io::TestExternalities {
		let ids: Vec<u8> = (1..=self.validators).collect();
		let storage = RuntimeGenesisConfig {
			aura: pallet_aura::GenesisConfig {
				authorities: ids.iter().map(|i| aura(*i)).collect(),
			},
			grandpa: pallet_grandpa::GenesisConfig {
				authorities: ids.iter().map(|i| (grandpa(*i), 1)).collect(),
				..Default::default()
			},
			consortium: pallet_consortium::GenesisConfig {
				validators: ids
					.iter()
					.map(|i| (u64::from(*i), aura(*i), grandpa(*i)))
					.collect(),
			},
			..Default::default()
		}
		.build_storage()
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			Consortium::do_try_state().expect("try_state invariants hold");
		});
	}
}

/// Finishes the current block, letting GRANDPA enact its pending change, and starts the next.
pub fn next_block() {
	use frame_support::traits::{OnFinalize, OnInitialize};
	let n = System::block_number();
	Grandpa::on_finalize(n);
	System::set_block_number(n + 1);
	Grandpa::on_initialize(n + 1);
}

#[cfg(feature = "runtime-benchmarks")]
pub fn new_test_ext() -> sp_io::TestExternalities {
	ExtBuilder::default().build()
}
