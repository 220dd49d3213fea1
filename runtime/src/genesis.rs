//! Genesis presets. The node's chain specs and `chain-spec/*.json` are generated from these.
//!
//! - `development`: one validator (Alice), a one-seat council (Alice), and a small registered
//!   grid: Alice (DSO, market operator), Bob and Ferdie (aggregators), Charlie (gateway), Dave
//!   (TSO), Eve (auditor); one zone with a feeder, four PoDs, ten PMUs and four meters.
//! - `bench`: `development` with 1,000 PMUs on Charlie's gateway, for the certification
//!   benchmark (`scripts/bench-certify.sh`).
//! - `local-consortium`: four validators on one machine (two DSOs, one TSO, one market
//!   operator), a four-seat council, no sudo key, the four nodes' peer IDs authorised, and two
//!   aggregators, a gateway and an auditor registered beside them.
//!
//! There is no sudo key in any preset: root is reached only through the council.
//!
//! Development device keys are `blake2_256` of the device name (`pmu-001`, `meter-001`, …), and
//! genesis records need no proof of control (every founding member agrees the genesis); a PoM
//! registered later is bound only with its device's ed25519 signature.

use crate::{
	AccountId, BalancesConfig, ConsortiumGovernanceConfig, ConsortiumMembershipConfig,
	MarketConfig, NodeAuthorizationConfig, RegistryConfig, RuntimeGenesisConfig, UNIT,
};
use alloc::{
	format,
	string::{String, ToString},
	vec,
	vec::Vec,
};
use frame_support::{build_struct_json_patch, BoundedVec};
use pallet_registry::{roles, AreaKind, PomKind};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::OpaquePeerId;
use sp_genesis_builder::PresetId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Preset of the four-validator network that `scripts/local-consortium.sh` starts.
pub const LOCAL_CONSORTIUM_PRESET: &str = "local-consortium";

/// The development chain at the scale of issue #5's goal: Charlie certifies 1,000 PMUs.
/// `scripts/bench-certify.sh` runs on it.
pub const BENCH_PRESET: &str = "bench";

/// PMUs of the `bench` preset: datasets 1…1000, its four meters 1001…1004.
pub const BENCH_PMUS: u32 = 1_000;

/// One consortium validator: its operator account (also its Aura and GRANDPA dev keys) and the
/// ed25519 public key of its libp2p identity (`--node-key`).
struct Validator {
	operator: Sr25519Keyring,
	grandpa: Ed25519Keyring,
	node_public: [u8; 32],
}

/// libp2p encodes an ed25519 PeerId as an identity multihash (0x00, len 36) of the protobuf
/// public key (type Ed25519 = 0x08 0x01, bytes 0x12 0x20).
pub fn ed25519_peer_id(public: &[u8; 32]) -> OpaquePeerId {
	let mut bytes = Vec::with_capacity(38);
	bytes.extend_from_slice(&[0x00, 0x24, 0x08, 0x01, 0x12, 0x20]);
	bytes.extend_from_slice(public);
	OpaquePeerId(bytes)
}

// Public halves of the well-known development node keys 0x00…01 to 0x00…04 that
// `scripts/local-consortium.sh` passes as `--node-key`. Never use them outside a laptop.
const NODE_KEY_1: [u8; 32] =
	hex32("4cb5abf6ad79fbf5abbccafcc269d85cd2651ed4b885b5869f241aedf0a5ba29");
const NODE_KEY_2: [u8; 32] =
	hex32("7422b9887598068e32c4448a949adb290d0f4e35b9e01b0ee5f1a1e600fe2674");
const NODE_KEY_3: [u8; 32] =
	hex32("f381626e41e7027ea431bfe3009e94bdd25a746beec468948d6c3c7c5dc9a54b");
const NODE_KEY_4: [u8; 32] =
	hex32("fd50b8e3b144ea244fbf7737f550bc8dd0c2650bbc1aada833ca17ff8dbf329b");

fn local_consortium_validators() -> [Validator; 4] {
	use {Ed25519Keyring as Ed, Sr25519Keyring as Sr};
	[
		// DSO "north"
		Validator {
			operator: Sr::Alice,
			grandpa: Ed::Alice,
			node_public: NODE_KEY_1,
		},
		// DSO "south"
		Validator {
			operator: Sr::Bob,
			grandpa: Ed::Bob,
			node_public: NODE_KEY_2,
		},
		// TSO
		Validator {
			operator: Sr::Charlie,
			grandpa: Ed::Charlie,
			node_public: NODE_KEY_3,
		},
		// Market operator
		Validator {
			operator: Sr::Dave,
			grandpa: Ed::Dave,
			node_public: NODE_KEY_4,
		},
	]
}

/// Decodes 64 lowercase hex digits at compile time (a bad literal fails the build, not the chain).
const fn hex32(s: &str) -> [u8; 32] {
	const fn nibble(c: u8) -> u8 {
		match c {
			b'0'..=b'9' => c - b'0',
			b'a'..=b'f' => c - b'a' + 10,
			_ => panic!("not lowercase hex"),
		}
	}
	let b = s.as_bytes();
	assert!(b.len() == 64, "expected 32 bytes of hex");
	let mut out = [0u8; 32];
	let mut i = 0;
	while i < 32 {
		out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
		i += 1;
	}
	out
}

impl Validator {
	fn keys(&self) -> (AccountId, AuraId, GrandpaId) {
		(
			self.operator.to_account_id(),
			self.operator.public().into(),
			self.grandpa.public().into(),
		)
	}
}

/// The registry's genesis records, in `pallet_registry::GenesisConfig` order.
#[derive(Default)]
struct Grid {
	participants: Vec<(AccountId, u8, String, String)>,
	areas: Vec<(String, AreaKind, Option<String>, AccountId)>,
	pods: Vec<(String, String, Option<AccountId>)>,
	poms: Vec<(String, PomKind, [u8; 32], AccountId)>,
}

impl Grid {
	fn participant(&mut self, who: Sr25519Keyring, roles: u8, tag: &str, name: &str) -> &mut Self {
		// A fictitious EIC in the "10X" (ENTSO-E) space, padded to 16 characters.
		let eic = format!("10X{tag:->13}");
		self.participants
			.push((who.to_account_id(), roles, eic, name.to_string()));
		self
	}

	fn area(
		&mut self,
		code: &str,
		kind: AreaKind,
		parent: Option<&str>,
		owner: Sr25519Keyring,
	) -> &mut Self {
		self.areas.push((
			code.to_string(),
			kind,
			parent.map(ToString::to_string),
			owner.to_account_id(),
		));
		self
	}

	fn pod(&mut self, code: &str, area: &str, aggregator: Option<Sr25519Keyring>) -> &mut Self {
		self.pods.push((
			code.to_string(),
			area.to_string(),
			aggregator.map(|a| a.to_account_id()),
		));
		self
	}

	fn pom(
		&mut self,
		pod: &str,
		kind: PomKind,
		device: &str,
		gateway: Sr25519Keyring,
	) -> &mut Self {
		self.poms.push((
			pod.to_string(),
			kind,
			dev_device_key(device),
			gateway.to_account_id(),
		));
		self
	}
}

/// Development stand-in for a device certificate fingerprint.
pub fn dev_device_key(device: &str) -> [u8; 32] {
	<sp_runtime::traits::BlakeTwo256 as sp_runtime::traits::Hash>::hash(device.as_bytes()).0
}

fn genesis(
	authorities: Vec<(AccountId, AuraId, GrandpaId)>,
	council: Vec<AccountId>,
	nodes: Vec<(OpaquePeerId, AccountId)>,
	endowed: Vec<AccountId>,
	grid: Grid,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed
				.into_iter()
				.map(|who| (who, 1_000_000 * UNIT))
				.collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|k| k.1.clone()).collect::<Vec<_>>(),
		},
		grandpa: pallet_grandpa::GenesisConfig {
			authorities: authorities
				.iter()
				.map(|k| (k.2.clone(), 1))
				.collect::<Vec<_>>(),
		},
		consortium_governance: ConsortiumGovernanceConfig {
			validators: authorities
		},
		consortium_membership: ConsortiumMembershipConfig {
			members: BoundedVec::try_from(council).expect("council within MaxMembers"),
		},
		node_authorization: NodeAuthorizationConfig { nodes },
		registry: RegistryConfig {
			participants: grid.participants,
			areas: grid.areas,
			pods: grid.pods,
			poms: grid.poms,
		},
		market: MarketConfig {
			schedules: market_schedules(),
		},
	})
}

/// The market from the first block (T-MP-02): day-ahead sessions for each UTC day, opening
/// D-2 12:00 and closing D-1 12:00, with two hours to validate; hourly real-time sessions of
/// four slots, opening two hours and closing 30 minutes ahead, with ten minutes to validate.
fn market_schedules() -> Vec<(pallet_market::SessionKind, pallet_market::Schedule)> {
	const MINUTE: u64 = 60_000;
	const HOUR: u64 = 60 * MINUTE;
	vec![
		(
			pallet_market::SessionKind::DayAhead,
			pallet_market::Schedule {
				period_ms: 24 * HOUR,
				slot_ms: (15 * MINUTE) as u32,
				open_lead_ms: 36 * HOUR,
				gate_lead_ms: 12 * HOUR,
				validation_ms: 2 * HOUR,
			},
		),
		(
			pallet_market::SessionKind::RealTime,
			pallet_market::Schedule {
				period_ms: HOUR,
				slot_ms: (15 * MINUTE) as u32,
				open_lead_ms: 2 * HOUR,
				gate_lead_ms: 30 * MINUTE,
				validation_ms: 10 * MINUTE,
			},
		),
	]
}

pub fn development() -> Value {
	development_with(10)
}

/// The development chain with `BENCH_PMUS` PMUs.
pub fn bench() -> Value {
	development_with(BENCH_PMUS)
}

fn development_with(pmus: u32) -> Value {
	let alice = Sr25519Keyring::Alice.to_account_id();
	let validator = Validator {
		operator: Sr25519Keyring::Alice,
		grandpa: Ed25519Keyring::Alice,
		node_public: NODE_KEY_1,
	};
	genesis(
		vec![validator.keys()],
		vec![alice],
		vec![],
		Sr25519Keyring::iter().map(|k| k.to_account_id()).collect(),
		development_grid(pmus),
	)
}

/// PoDs `IT001E0000000{1..}` on feeder `DEV-F1` (four, or one per ten PMUs when there are more);
/// `pmus` PMUs (`pmu-001`…, datasets 1…) spread over them and a meter (`meter-001`…, the
/// datasets after the PMUs) at each of the first four, all certified by Charlie.
fn development_grid(pmus: u32) -> Grid {
	use Sr25519Keyring::*;
	let mut g = Grid::default();
	g.participant(
		Alice,
		roles::DSO | roles::MARKET_OPERATOR,
		"DEV-DSO",
		"Development DSO",
	)
	.participant(Bob, roles::AGGREGATOR, "DEV-AGG-1", "Aggregator One")
	.participant(Charlie, roles::GATEWAY, "DEV-GATEWAY", "BAL gateway")
	.participant(Dave, roles::TSO, "DEV-TSO", "Development TSO")
	.participant(Eve, roles::AUDITOR, "DEV-AUDITOR", "Auditor")
	.participant(
		Ferdie,
		roles::AGGREGATOR | roles::BALANCE_SERVICE_PROVIDER,
		"DEV-AGG-2",
		"Aggregator Two",
	)
	.area("DEV-ZONE", AreaKind::Zone, None, Alice)
	.area("DEV-F1", AreaKind::Feeder, Some("DEV-ZONE"), Alice)
	.area("DEV-TSO-CA", AreaKind::ControlArea, None, Dave);
	// Ten PMUs and a meter per PoD at most: well inside `MaxPomsPerPod`.
	let pods = pmus.div_ceil(10).max(4);
	let pod = |i: u32| format!("IT001E{i:08}");
	for i in 1..=pods {
		let aggregator = if i % 2 == 1 { Bob } else { Ferdie };
		g.pod(&pod(i), "DEV-F1", Some(aggregator));
	}
	for i in 1..=pmus {
		g.pom(
			&pod((i - 1) % pods + 1),
			PomKind::Pmu,
			&format!("pmu-{i:03}"),
			Charlie,
		);
	}
	for i in 1..=4 {
		g.pom(&pod(i), PomKind::Meter, &format!("meter-{i:03}"), Charlie);
	}
	g
}

/// Two DSOs' zones and feeders, the TSO's control area, PoDs represented by two aggregators,
/// and a PMU and a meter per PoD certified by the gateway (keyring `One`).
fn local_consortium_grid() -> Grid {
	use Sr25519Keyring::*;
	let mut g = Grid::default();
	g.participant(Alice, roles::DSO, "DSO-NORTH", "DSO North")
		.participant(Bob, roles::DSO, "DSO-SOUTH", "DSO South")
		.participant(Charlie, roles::TSO, "TSO", "Transmission System Operator")
		.participant(Dave, roles::MARKET_OPERATOR, "MARKET-OP", "Market Operator")
		.participant(Eve, roles::AGGREGATOR, "AGG-EAST", "Aggregator East")
		.participant(
			Ferdie,
			roles::AGGREGATOR | roles::BALANCE_SERVICE_PROVIDER,
			"AGG-WEST",
			"Aggregator West",
		)
		.participant(One, roles::GATEWAY, "GATEWAY", "BAL gateway")
		.participant(Two, roles::AUDITOR, "AUDITOR", "Auditor")
		.area("TSO-CA", AreaKind::ControlArea, None, Charlie)
		.area("NORTH", AreaKind::Zone, None, Alice)
		.area("NORTH-F1", AreaKind::Feeder, Some("NORTH"), Alice)
		.area("SOUTH", AreaKind::Zone, None, Bob)
		.area("SOUTH-F1", AreaKind::Feeder, Some("SOUTH"), Bob);
	for (dso_feeder, prefix) in [("NORTH-F1", "IT001E1"), ("SOUTH-F1", "IT002E2")] {
		for i in 1..=3 {
			let pod = format!("{prefix}000000{i}");
			g.pod(&pod, dso_feeder, Some(if i == 3 { Ferdie } else { Eve }))
				.pom(&pod, PomKind::Pmu, &format!("pmu-{pod}"), One)
				.pom(&pod, PomKind::Meter, &format!("meter-{pod}"), One);
		}
	}
	g
}

pub fn local_consortium() -> Value {
	let validators = local_consortium_validators();
	let operators: Vec<AccountId> = validators
		.iter()
		.map(|v| v.operator.to_account_id())
		.collect();
	genesis(
		validators.iter().map(Validator::keys).collect(),
		operators.clone(),
		validators
			.iter()
			.map(|v| (ed25519_peer_id(&v.node_public), v.operator.to_account_id()))
			.collect(),
		operators,
		local_consortium_grid(),
	)
}

pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development(),
		LOCAL_CONSORTIUM_PRESET => local_consortium(),
		BENCH_PRESET => bench(),
		_ => return None,
	};
	serde_json::to_vec(&patch).ok()
}

pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(LOCAL_CONSORTIUM_PRESET),
		PresetId::from(BENCH_PRESET),
	]
}
