//! Runtime-level checks: both presets build a consistent registry, and the state one PoD and
//! one PoM cost (figures in docs/benchmarks.md).

use crate::{genesis, AccountId, Registry, RuntimeGenesisConfig, System};
use pallet_registry::{roles, PomKind};
use serde_json::Value;
use sp_keyring::Sr25519Keyring;
use sp_runtime::BuildStorage;

/// Applies a preset patch to the default config, as the node's chain-spec builder does.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (k, v) in patch {
				merge(base.entry(k).or_insert(Value::Null), v);
			}
		}
		(base, patch) => *base = patch,
	}
}

fn ext(preset: Value) -> sp_io::TestExternalities {
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).expect("serialisable");
	merge(&mut config, preset);
	let config: RuntimeGenesisConfig =
		serde_json::from_value(config).expect("preset fits the config");
	let mut ext = sp_io::TestExternalities::new(config.build_storage().expect("genesis builds"));
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Bytes (keys plus values) under the registry's storage prefix.
fn registry_state_bytes() -> usize {
	let prefix = sp_io::hashing::twox_128(b"Registry");
	let mut key = prefix.to_vec();
	let mut total = 0;
	while let Some(next) = sp_io::storage::next_key(&key) {
		if !next.starts_with(&prefix) {
			break;
		}
		total += next.len() + sp_io::storage::get(&next).map_or(0, |v| v.len());
		key = next;
	}
	total
}

#[test]
fn presets_register_a_consistent_grid() {
	ext(genesis::development()).execute_with(|| {
		Registry::do_try_state().expect("development registry is consistent");
		assert_eq!(
			pallet_registry::Participants::<crate::Runtime>::iter().count(),
			6
		);
		let charlie: AccountId = Sr25519Keyring::Charlie.to_account_id();
		assert_eq!(Registry::gateway_devices(&charlie).len(), 14);
		assert_eq!(Registry::session_snapshot(None, None, 100).len(), 4);
		// Members hold no tokens of necessity: a participant's account exists by itself.
		assert_eq!(System::sufficients(&charlie), 1);
	});
	ext(genesis::bench()).execute_with(|| {
		Registry::do_try_state().expect("bench registry is consistent");
		let charlie: AccountId = Sr25519Keyring::Charlie.to_account_id();
		let devices = Registry::gateway_devices(&charlie);
		assert_eq!(devices.len(), genesis::BENCH_PMUS as usize + 4);
		// Datasets follow `Directory::development(1000, 4)` on the bridge side.
		let key_of = |pom: u64| devices.iter().find(|d| d.pom == pom).map(|d| d.device_key);
		assert_eq!(key_of(1000), Some(genesis::dev_device_key("pmu-1000")));
		assert_eq!(key_of(1004), Some(genesis::dev_device_key("meter-004")));
	});
	ext(genesis::local_consortium()).execute_with(|| {
		Registry::do_try_state().expect("local-consortium registry is consistent");
		let count = |mask| {
			pallet_registry::Participants::<crate::Runtime>::iter()
				.filter(|(_, p)| p.roles.any_of(mask))
				.count()
		};
		assert_eq!(count(roles::DSO), 2);
		assert_eq!(count(roles::TSO), 1);
		assert_eq!(count(roles::AGGREGATOR), 2);
		assert_eq!(count(roles::GATEWAY), 1);
		assert_eq!(count(roles::AUDITOR), 1);
		assert_eq!(count(roles::MARKET_OPERATOR), 1);
	});
}

#[test]
fn state_bytes_per_pod_and_pom() {
	ext(genesis::development()).execute_with(|| {
		let dso: AccountId = Sr25519Keyring::Alice.to_account_id();
		let gateway: AccountId = Sr25519Keyring::Charlie.to_account_id();
		let area =
			pallet_registry::AreaCodes::<crate::Runtime>::get(bounded(b"DEV-F1")).expect("area");
		// Codes at their longest (34 bytes), as a worst case.
		let before = registry_state_bytes();
		let pod = Registry::do_register_pod(dso.clone(), bounded(&[b'P'; 34]), area).expect("pod");
		let per_pod = registry_state_bytes() - before;
		let before = registry_state_bytes();
		Registry::do_register_pom(dso, pod, PomKind::Pmu, [0xaa; 32], gateway).expect("pom");
		let per_pom = registry_state_bytes() - before;
		println!("registry state: {per_pod} bytes per PoD, {per_pom} bytes per PoM");
		// Keys and values are bounded; these guard against an index creeping in unnoticed.
		assert!(per_pod <= 260, "{per_pod} bytes per PoD");
		assert!(per_pom <= 400, "{per_pom} bytes per PoM");
	});
}

fn bounded(code: &[u8]) -> frame_support::BoundedVec<u8, frame_support::traits::ConstU32<34>> {
	frame_support::BoundedVec::truncate_from(code.to_vec())
}
