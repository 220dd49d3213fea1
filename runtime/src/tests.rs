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
		assert_eq!(
			Registry::gateway_devices(&charlie, None, 100).devices.len(),
			14
		);
		assert_eq!(Registry::session_snapshot(None, None, 100).pods.len(), 4);
		// Members hold no tokens of necessity: a participant's account exists by itself.
		assert_eq!(System::sufficients(&charlie), 1);
	});
	ext(genesis::bench()).execute_with(|| {
		Registry::do_try_state().expect("bench registry is consistent");
		let charlie: AccountId = Sr25519Keyring::Charlie.to_account_id();
		let devices = Registry::gateway_devices(&charlie, None, 2_000).devices;
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
		Registry::do_register_pom(dso, pod, PomKind::Pmu, [0xaa; 32], gateway, None).expect("pom");
		let per_pom = registry_state_bytes() - before;
		println!("registry state: {per_pod} bytes per PoD, {per_pom} bytes per PoM");
		// Keys and values are bounded; these guard against an index creeping in unnoticed.
		assert!(per_pod <= 260, "{per_pod} bytes per PoD");
		assert!(per_pom <= 460, "{per_pom} bytes per PoM");
	});
}

fn bounded(code: &[u8]) -> frame_support::BoundedVec<u8, frame_support::traits::ConstU32<34>> {
	frame_support::BoundedVec::truncate_from(code.to_vec())
}

// ---- issue #11: governance at its stated thresholds, no replay after re-admission ----

mod governance {
	use super::*;
	use crate::{
		configs::{AbstainIsNay, ConsortiumCollective, EnsureConsortium, EnsureConsortiumRoot},
		Runtime, RuntimeCall, RuntimeOrigin,
	};
	use codec::Encode;
	use frame_support::{
		assert_noop, assert_ok,
		dispatch::GetDispatchInfo,
		traits::{EnsureOrigin, StorageVersion},
	};
	use sp_runtime::{traits::Hash as _, DispatchError};

	type Membership = crate::ConsortiumMembership;
	type Council = crate::Consortium;

	fn share(yes: u32, of: u32) -> RuntimeOrigin {
		pallet_collective::RawOrigin::<AccountId, ConsortiumCollective>::Members(yes, of).into()
	}

	fn acc(k: Sr25519Keyring) -> AccountId {
		k.to_account_id()
	}

	/// Every path to changing the council needs three quarters: two thirds can neither add,
	/// remove, swap, reset nor appoint a prime member.
	#[test]
	fn the_council_changes_only_at_three_quarters() {
		ext(genesis::local_consortium()).execute_with(|| {
			use Sr25519Keyring::*;
			let two_thirds = || share(2, 3);
			let three_quarters = || share(3, 4);
			assert!(EnsureConsortium::try_origin(two_thirds()).is_ok());
			assert!(EnsureConsortiumRoot::try_origin(two_thirds()).is_err());
			assert!(EnsureConsortiumRoot::try_origin(three_quarters()).is_ok());
			let bad = DispatchError::BadOrigin;
			assert_noop!(Membership::add_member(two_thirds(), acc(Eve).into()), bad);
			assert_noop!(
				Membership::remove_member(two_thirds(), acc(Alice).into()),
				bad
			);
			assert_noop!(
				Membership::swap_member(two_thirds(), acc(Alice).into(), acc(Eve).into()),
				bad
			);
			assert_noop!(
				Membership::reset_members(two_thirds(), vec![acc(Alice), acc(Bob)]),
				bad
			);
			assert_noop!(Membership::set_prime(two_thirds(), acc(Alice).into()), bad);
			// Root is reached only through `dispatch_as_root`, at three quarters.
			let call = Box::new(RuntimeCall::System(frame_system::Call::remark {
				remark: vec![],
			}));
			assert_noop!(
				crate::ConsortiumGovernance::dispatch_as_root(two_thirds(), call.clone()),
				bad
			);
			assert_ok!(crate::ConsortiumGovernance::dispatch_as_root(
				three_quarters(),
				call
			));
			assert_ok!(Membership::remove_member(
				three_quarters(),
				acc(Dave).into()
			));
		});
	}

	/// The registry's two thirds cannot suspend a council member, whose votes
	/// `CheckParticipant` would then refuse: a lower threshold locking members out.
	#[test]
	fn two_thirds_cannot_lock_a_council_member_out() {
		ext(genesis::local_consortium()).execute_with(|| {
			let alice = acc(Sr25519Keyring::Alice);
			assert_noop!(
				Registry::suspend(share(2, 3), alice.clone()),
				pallet_registry::Error::<Runtime>::CouncilMember
			);
			assert_noop!(
				Registry::remove_participant(share(2, 3), alice),
				pallet_registry::Error::<Runtime>::CouncilMember
			);
		});
	}

	/// With the prime member's default vote, two ayes (the prime's among them) on a council of
	/// four would count the two who did not vote as ayes and pass a 3/4 motion. Here the
	/// absent count against it.
	#[test]
	fn members_who_do_not_vote_count_against_a_motion() {
		use pallet_collective::DefaultVote;
		assert!(!AbstainIsNay::default_vote(Some(true), 2, 0, 4));
		ext(genesis::local_consortium()).execute_with(|| {
			use Sr25519Keyring::*;
			// Root (three quarters) appoints a prime; two thirds could not.
			assert_ok!(Membership::set_prime(share(3, 4), acc(Alice).into()));
			let proposal =
				RuntimeCall::ConsortiumMembership(pallet_membership::Call::remove_member {
					who: acc(Dave).into(),
				});
			let len = proposal.encoded_size() as u32;
			let weight = proposal.get_dispatch_info().call_weight;
			let hash = <Runtime as frame_system::Config>::Hashing::hash_of(&proposal);
			assert_ok!(Council::propose(
				RuntimeOrigin::signed(acc(Alice)),
				3,
				Box::new(proposal),
				len
			));
			assert_ok!(Council::vote(
				RuntimeOrigin::signed(acc(Bob)),
				hash,
				0,
				true
			));
			System::set_block_number(1 + 7 * crate::DAYS);
			assert_ok!(Council::close(
				RuntimeOrigin::signed(acc(Bob)),
				hash,
				0,
				weight,
				len
			));
			assert!(
				pallet_membership::Members::<Runtime, pallet_membership::Instance1>::get()
					.contains(&acc(Dave))
			);
		});
	}

	#[test]
	fn no_preset_has_a_sudo_key() {
		for preset in [
			genesis::development(),
			genesis::bench(),
			genesis::local_consortium(),
		] {
			ext(preset).execute_with(|| {
				let prefix = sp_io::hashing::twox_128(b"Sudo");
				let next = sp_io::storage::next_key(&prefix);
				assert!(!next.is_some_and(|k| k.starts_with(&prefix)));
			});
		}
	}

	#[test]
	#[should_panic(expected = "is no participant")]
	fn genesis_refuses_a_council_member_who_is_no_participant() {
		let mut preset = genesis::local_consortium();
		let outsider: AccountId = sp_core::crypto::AccountId32::new([9; 32]);
		preset["consortiumMembership"]["members"]
			.as_array_mut()
			.expect("members")
			.push(serde_json::to_value(&outsider).unwrap());
		ext(preset);
	}

	/// An immortal transaction of a removed participant must not replay once it is admitted
	/// again: its account, and with it its nonce, survive the removal.
	#[test]
	fn an_old_transaction_never_replays_after_re_admission() {
		use crate::{Executive, Runtime, SignedPayload, TxExtension, UncheckedExtrinsic};
		use sp_runtime::{
			generic::Era,
			traits::Header as _,
			transaction_validity::{InvalidTransaction, TransactionValidityError},
		};
		// Two is the local consortium's auditor: a participant with no tokens and no records,
		// whose account exists only through the registry's reference.
		ext(genesis::local_consortium()).execute_with(|| {
			let eve = Sr25519Keyring::Two;
			assert_eq!(System::providers(&eve.to_account_id()), 0);
			let call = RuntimeCall::System(frame_system::Call::remark {
				remark: b"once".to_vec(),
			});
			let tx_ext: TxExtension = (
				frame_system::CheckNonZeroSender::<Runtime>::new(),
				frame_system::CheckSpecVersion::<Runtime>::new(),
				frame_system::CheckTxVersion::<Runtime>::new(),
				frame_system::CheckGenesis::<Runtime>::new(),
				frame_system::CheckEra::<Runtime>::from(Era::Immortal),
				pallet_registry::CheckParticipant::<Runtime>::new(),
				frame_system::CheckNonce::<Runtime>::from(0),
				frame_system::CheckWeight::<Runtime>::new(),
				frame_system::WeightReclaim::<Runtime>::new(),
			);
			let payload = SignedPayload::new(call.clone(), tx_ext.clone()).expect("payload");
			let signature = payload.using_encoded(|bytes| eve.sign(bytes));
			let uxt = UncheckedExtrinsic::new_signed(
				call,
				eve.to_account_id().into(),
				signature.into(),
				tx_ext,
			);
			let header = crate::Header::new(
				System::block_number() + 1,
				Default::default(),
				Default::default(),
				System::parent_hash(),
				Default::default(),
			);
			Executive::initialize_block(&header);
			assert_eq!(Executive::apply_extrinsic(uxt.clone()), Ok(Ok(())));
			let who = eve.to_account_id();
			Registry::do_remove_participant(who.clone()).expect("removed");
			Registry::do_register_participant(
				who.clone(),
				pallet_registry::Roles(roles::AUDITOR),
				pallet_registry::Eic(*b"10X-READMITTED-1"),
				Default::default(),
			)
			.expect("re-admitted");
			assert_eq!(System::account_nonce(&who), 1);
			assert_eq!(
				Executive::apply_extrinsic(uxt),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
			);
		});
	}

	/// The runtime's migrations take a chain at the previous storage versions to the current
	/// ones, and leave every invariant holding.
	#[test]
	fn migrations_bring_old_storage_to_the_current_versions() {
		use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade};
		ext(genesis::development()).execute_with(|| {
			StorageVersion::new(0).put::<crate::Certification>();
			StorageVersion::new(0).put::<Registry>();
			// A chain from before spec 105 has no pallet-contracts at all.
			StorageVersion::new(0).put::<crate::Contracts>();
			crate::Migrations::on_runtime_upgrade();
			assert_eq!(crate::Certification::on_chain_storage_version(), 1);
			assert_eq!(Registry::on_chain_storage_version(), 1);
			assert_eq!(
				crate::Contracts::on_chain_storage_version(),
				crate::Contracts::in_code_storage_version()
			);
			// The pallet's own upgrade hook then finds nothing to migrate, and takes code.
			<crate::Contracts as OnRuntimeUpgrade>::on_runtime_upgrade();
			frame_support::assert_ok!(crate::Contracts::upload_code(
				crate::RuntimeOrigin::signed(Sr25519Keyring::Bob.to_account_id()),
				platone_contracts::GRADED.to_vec(),
				None,
				pallet_contracts::Determinism::Enforced,
			));
			Registry::do_try_state().expect("registry invariants hold");
		});
	}
}

/// The wasm names no path of the machine or clone that built it, so its hash, and the pinned
/// genesis hash, are the same for every clone (issue #11; the pinned spec test in
/// tests/tests/chain_spec.rs checks the whole build from CI's own clone).
mod reproducible_build {
	fn contains(haystack: &[u8], needle: &str) -> bool {
		haystack
			.windows(needle.len())
			.any(|w| w == needle.as_bytes())
	}

	#[test]
	fn the_wasm_carries_no_machine_paths() {
		// `None` under SKIP_WASM_BUILD: nothing was built, so nothing to check.
		let Some(wasm) = crate::WASM_BINARY_BLOATY else {
			return;
		};
		let clone = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
			.parent()
			.expect("runtime/ sits in the workspace")
			.canonicalize()
			.expect("workspace path");
		let mut machine = vec![clone.display().to_string()];
		machine.extend(std::env::var("HOME").ok().filter(|h| h.len() > 1));
		for path in machine {
			assert!(
				!contains(wasm, &format!("{path}/")),
				"the wasm names {path}"
			);
		}
		assert!(
			contains(wasm, "/platone/pallets/"),
			"panic locations name the workspace by its fixed prefix"
		);
	}
}

// ---- issue #11: node-authorization calls within bounds ----

mod peer_bounds {
	use super::*;
	use crate::{
		configs::MAX_PEER_ID_LENGTH, node_authorization::MAX_CONNECTIONS, RuntimeCall,
		RuntimeOrigin,
	};
	use frame_support::{assert_ok, dispatch::PostDispatchInfo};
	use pallet_node_authorization::{AdditionalConnections, Call as Peers, Owners};
	use sp_core::OpaquePeerId as PeerId;
	use sp_runtime::traits::Dispatchable;

	fn peer(i: u32, len: usize) -> PeerId {
		let mut bytes = vec![0x5a; len];
		bytes[..4].copy_from_slice(&i.to_le_bytes());
		PeerId(bytes)
	}

	fn as_alice(
		call: Peers<crate::Runtime>,
	) -> Result<PostDispatchInfo, sp_runtime::DispatchError> {
		RuntimeCall::NodeAuthorization(call)
			.dispatch(RuntimeOrigin::signed(Sr25519Keyring::Alice.to_account_id()))
			.map_err(|e| e.error)
	}

	fn filtered() -> sp_runtime::DispatchError {
		frame_system::Error::<crate::Runtime>::CallFiltered.into()
	}

	/// The pallet checks no length in `claim_node`: without the filter a participant could
	/// store a peer id of any size.
	#[test]
	fn a_peer_id_of_the_maximum_length_or_more_is_refused() {
		ext(genesis::local_consortium()).execute_with(|| {
			let long = peer(1, MAX_PEER_ID_LENGTH as usize);
			assert_eq!(
				as_alice(Peers::claim_node { node: long.clone() }).unwrap_err(),
				filtered()
			);
			assert!(!Owners::<crate::Runtime>::contains_key(&long));
			let fits = peer(1, MAX_PEER_ID_LENGTH as usize - 1);
			assert_ok!(as_alice(Peers::claim_node { node: fits.clone() }));
			assert!(Owners::<crate::Runtime>::contains_key(&fits));
		});
	}

	/// A node allows at most `MAX_CONNECTIONS` additional peers, in one call or over many.
	#[test]
	fn a_node_allows_a_bounded_number_of_connections() {
		ext(genesis::local_consortium()).execute_with(|| {
			let node = peer(7, 38);
			assert_ok!(as_alice(Peers::claim_node { node: node.clone() }));
			let many = |from: u32, n: usize| (from..from + n as u32).map(|i| peer(i, 38)).collect();

			assert_eq!(
				as_alice(Peers::add_connections {
					node: node.clone(),
					connections: many(100, MAX_CONNECTIONS + 1),
				})
				.unwrap_err(),
				filtered()
			);
			assert_ok!(as_alice(Peers::add_connections {
				node: node.clone(),
				connections: many(100, MAX_CONNECTIONS),
			}));
			assert_eq!(
				as_alice(Peers::add_connections {
					node: node.clone(),
					connections: many(1_000, 1),
				})
				.unwrap_err(),
				filtered(),
				"the bound holds over several calls"
			);
			assert_eq!(
				AdditionalConnections::<crate::Runtime>::get(&node).len(),
				MAX_CONNECTIONS
			);
			// Removing makes room again.
			assert_ok!(as_alice(Peers::remove_connections {
				node: node.clone(),
				connections: many(100, 1),
			}));
			assert_ok!(as_alice(Peers::add_connections {
				node,
				connections: many(1_000, 1),
			}));
		});
	}
}

/// FR-MP-SET-05: settlement tokens are created and destroyed only by the settlement pallet's
/// mint and burned redemptions. The balance calls that would do it otherwise are filtered;
/// transfers between holders are not.
#[test]
fn only_the_settlement_pallet_creates_or_destroys_tokens() {
	use frame_support::traits::Contains;
	use pallet_balances::Call as Tokens;
	type Call = crate::RuntimeCall;
	let who: AccountId = Sr25519Keyring::Alice.to_account_id();
	let dest = sp_runtime::MultiAddress::Id(Sr25519Keyring::Bob.to_account_id());
	let filtered = [
		Call::Balances(Tokens::burn {
			value: 1,
			keep_alive: false,
		}),
		Call::Balances(Tokens::force_set_balance {
			who: sp_runtime::MultiAddress::Id(who.clone()),
			new_free: 1,
		}),
		Call::Balances(Tokens::force_adjust_total_issuance {
			direction: pallet_balances::AdjustmentDirection::Increase,
			delta: 1,
		}),
	];
	for call in &filtered {
		assert!(
			!crate::node_authorization::CallBounds::contains(call),
			"{call:?} passes"
		);
	}
	let transfer = Call::Balances(Tokens::transfer_keep_alive { dest, value: 1 });
	assert!(crate::node_authorization::CallBounds::contains(&transfer));
	let mint = Call::Settlement(pallet_settlement::Call::mint { to: who, amount: 1 });
	assert!(crate::node_authorization::CallBounds::contains(&mint));
}

/// Settlement mechanisms as contracts on the runtime's own pallet-contracts (FR-MP-SET-01/02):
/// the graded contract, built from source (`platone-contracts`), is deployed by an aggregator,
/// listed, and answers every award as its rule says; a call that fails gives no answer; and
/// nothing a call does is kept.
mod contract_mechanisms {
	use super::*;
	use crate::{
		contracts::ContractMechanisms, Contracts, Runtime, RuntimeCall, RuntimeEvent,
		RuntimeOrigin, Settlement,
	};
	use frame_support::{
		assert_noop, assert_ok,
		traits::{Contains, Get},
		weights::Weight,
	};
	use pallet_settlement::{
		credited, value_of, ContractMechanism, MechanismInput, Rule, Split, WMS_PER_MWH,
	};
	use sp_runtime::{DispatchError, StateVersion};

	fn gas() -> u64 {
		<<Runtime as pallet_settlement::Config>::MaxContractGas as Get<u64>>::get()
	}

	fn bob() -> AccountId {
		Sr25519Keyring::Bob.to_account_id()
	}

	/// Deploys `code` as Bob (an aggregator of the development grid); the contract's address.
	fn deploy(code: &[u8]) -> AccountId {
		assert_ok!(Contracts::instantiate_with_code(
			RuntimeOrigin::signed(bob()),
			0,
			Weight::from_parts(10_000_000_000, 1 << 20),
			None,
			code.to_vec(),
			Vec::new(),
			Vec::new(),
		));
		System::events()
			.into_iter()
			.rev()
			.find_map(|r| match r.event {
				RuntimeEvent::Contracts(pallet_contracts::Event::Instantiated {
					contract, ..
				}) => Some(contract),
				_ => None,
			})
			.expect("an Instantiated event")
	}

	/// The input the settlement pallet builds for an award (`derive::record`).
	fn input(awarded_wms: u128, delivered_wms: i128, price: u64) -> MechanismInput {
		let tolerance = <<Runtime as pallet_settlement::Config>::MaxTolerance as Get<
			sp_runtime::Permill,
		>>::get();
		MechanismInput {
			awarded_wms,
			delivered_wms,
			price,
			award_value: value_of(price, awarded_wms),
			max_payment: value_of(price, credited(awarded_wms, delivered_wms, tolerance)),
		}
	}

	/// The graded rule, written again from its documentation (docs/settlement.md): the oracle
	/// the contract's answers are checked against.
	fn graded(i: &MechanismInput) -> Split {
		let delivered = u128::try_from(i.delivered_wms.max(0)).unwrap_or(0);
		let shortfall = i.awarded_wms - delivered.min(i.awarded_wms);
		let free = i.awarded_wms / 10;
		let beyond = shortfall.saturating_sub(free);
		let penalty = (u128::from(i.price) * beyond * 2 / WMS_PER_MWH).min(i.award_value);
		let net = i.max_payment.saturating_sub(penalty);
		let customer_share = if shortfall == 0 { net / 4 } else { net / 10 };
		Split {
			payment: i.max_payment,
			penalty,
			customer_share,
		}
	}

	#[test]
	fn the_graded_contract_settles_as_its_rule_says_and_keeps_nothing() {
		ext(genesis::development()).execute_with(|| {
			let at = deploy(platone_contracts::GRADED);
			assert!(ContractMechanisms::exists(&at));
			assert!(!ContractMechanisms::exists(&bob()));
			assert_ok!(Settlement::create_mechanism(
				RuntimeOrigin::signed(bob()),
				Rule::Contract {
					contract: at.clone(),
					gas: gas()
				}
			));
			// 3 kW for 15 minutes at 80,000 units per MWh, delivered in full, above, within the
			// free tenth, beyond it, not at all and the wrong way; and an extreme award.
			let awarded: u128 = 3_000 * 900_000;
			let cases = [
				input(awarded, awarded as i128, 80_000),
				input(awarded, 2 * awarded as i128, 80_000),
				input(awarded, (awarded * 95 / 100) as i128, 80_000),
				input(awarded, (awarded * 70 / 100) as i128, 80_000),
				input(awarded, 0, 80_000),
				input(awarded, -(awarded as i128), 80_000),
				input(u128::from(u32::MAX) * 3_600_000, i128::MAX, u64::MAX),
			];
			for case in &cases {
				let root = sp_io::storage::root(StateVersion::V1);
				let events = System::event_count();
				let answer = ContractMechanisms::evaluate(&at, case, gas());
				assert_eq!(answer, Some(graded(case)), "{case:?}");
				assert!(answer.expect("answered").check(case), "{case:?}");
				assert_eq!(
					sp_io::storage::root(StateVersion::V1),
					root,
					"the call left state"
				);
				assert_eq!(System::event_count(), events);
			}
			// Worked by hand: 70 % delivered is 20 % of the award beyond the free tenth, at
			// twice its price; the runtime credits the 70 % (below its 80 % floor).
			let split = graded(&cases[3]);
			assert_eq!(split.payment, value_of(80_000, awarded * 70 / 100));
			assert_eq!(split.penalty, 2 * value_of(80_000, awarded * 20 / 100));
		});
	}

	/// What one call of the graded contract costs by pallet-contracts' own weights (its
	/// schedule and `SubstrateWeight`): what `settle` is charged per contract award is
	/// `MaxContractGas`, far above it (figures in docs/benchmarks.md).
	#[test]
	fn a_graded_call_costs_a_fraction_of_its_gas_limit() {
		ext(genesis::development()).execute_with(|| {
			let at = deploy(platone_contracts::GRADED);
			let case = input(2_700_000_000, 2_000_000_000, 80_000);
			let result = Contracts::bare_call(
				Settlement::account(),
				at.clone(),
				0,
				Weight::from_parts(gas(), crate::contracts::MECHANISM_PROOF_SIZE),
				Some(0),
				codec::Encode::encode(&case),
				pallet_contracts::DebugInfo::Skip,
				pallet_contracts::CollectEvents::Skip,
				pallet_contracts::Determinism::Enforced,
			);
			assert!(result.result.is_ok());
			let used = result.gas_consumed;
			println!(
				"graded call: {} ps ref time, {} B proof; limit {} ps",
				used.ref_time(),
				used.proof_size(),
				gas()
			);
			assert!(used.ref_time() < gas() / 10, "{used:?}");
			assert!(
				used.proof_size() < crate::contracts::MECHANISM_PROOF_SIZE / 10,
				"{used:?}"
			);
			// What settlement is charged for the call: what it used, not its limit.
			let (answer, charged) = ContractMechanisms::evaluate_metered(&at, &case, gas());
			assert!(answer.is_some());
			assert_eq!(charged, used);
		});
	}

	#[test]
	fn a_failing_call_answers_nothing() {
		ext(genesis::development()).execute_with(|| {
			let at = deploy(platone_contracts::GRADED);
			let case = input(2_700_000_000, 0, 80_000);
			// Out of gas, and an account that holds no contract.
			assert_eq!(ContractMechanisms::evaluate(&at, &case, 1), None);
			assert_eq!(ContractMechanisms::evaluate(&bob(), &case, gas()), None);
		});
	}

	/// Only aggregators deploy mechanisms, and nobody calls a contract directly: the
	/// settlement pallet alone runs them (crate::contracts).
	#[test]
	fn only_aggregators_deploy_and_nobody_calls_a_contract() {
		ext(genesis::development()).execute_with(|| {
			let alice = Sr25519Keyring::Alice.to_account_id(); // the development DSO
			assert_noop!(
				Contracts::instantiate_with_code(
					RuntimeOrigin::signed(alice.clone()),
					0,
					Weight::from_parts(10_000_000_000, 1 << 20),
					None,
					platone_contracts::GRADED.to_vec(),
					Vec::new(),
					Vec::new(),
				),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Contracts::upload_code(
					RuntimeOrigin::signed(alice),
					platone_contracts::GRADED.to_vec(),
					None,
					pallet_contracts::Determinism::Enforced,
				),
				DispatchError::BadOrigin
			);
			let at = deploy(platone_contracts::GRADED);
			let call = RuntimeCall::Contracts(pallet_contracts::Call::call {
				dest: sp_runtime::MultiAddress::Id(at),
				value: 0,
				gas_limit: Weight::from_parts(1_000_000_000, 1 << 20),
				storage_deposit_limit: None,
				data: Vec::new(),
			});
			assert!(!crate::node_authorization::CallBounds::contains(&call));
		});
	}
}

/// The market scale (#13): 10,000 offers and 1,000 requests over 96 slots. Each hook
/// step of such a session fits the market's quarter-block budget, so the session advances at
/// least one step per block: gate closure, clearing and validation closing each take a bounded
/// number of blocks (figures in docs/market.md, "Scale").
mod market_scale {
	use crate::{configs::MarketHookWeight, Market, Runtime};
	use frame_support::traits::Get;
	use pallet_market::WeightInfo;

	type W = <Runtime as pallet_market::Config>::WeightInfo;

	#[test]
	fn a_session_of_ten_thousand_offers_and_a_thousand_requests_fits_the_hook_step_by_step() {
		let (r, o, slots) = (1_000u32, 10_000u32, 96u32);
		let steps = slots * 2;
		let seal = <Runtime as pallet_market::Config>::SealChunk::get();
		let close = <Runtime as pallet_market::Config>::CloseChunk::get();
		let awards = pallet_market::StepAwardBound::<Runtime>::get();
		assert_eq!(awards, 41_000);
		let limit = Market::exact_limit_for(r, o, 4);
		let chunks = Market::chunks(r + o);
		let budget = MarketHookWeight::get();
		let share =
			|w: frame_support::weights::Weight| w.ref_time() as f64 / budget.ref_time() as f64;
		let figures = [
			("seal", W::seal_chunk(seal, steps), (r + o).div_ceil(seal)),
			(
				"seal-finish",
				W::seal_finish(r + o + 1_024).saturating_add(
					<Runtime as frame_system::Config>::DbWeight::get()
						.reads_writes(chunks.into(), chunks.into()),
				),
				1,
			),
			("clear", Market::clear_weight(r, o, limit), steps),
			("finish", W::finish_clearing(steps, chunks), 1),
			(
				"close",
				W::close_step(close, awards),
				awards.div_ceil(close) * steps,
			),
		];
		for (what, w, n) in figures {
			assert!(w.all_lte(budget), "{what} fits the hook's budget");
			println!(
				"{what}: {:.0}% of the hook's budget, {n} steps",
				100.0 * share(w)
			);
		}
		println!("exact limit at this size: {limit}");
		assert_eq!(
			limit, 1,
			"one minimum per step searched exhaustively at this size"
		);
		assert_eq!(Market::exact_limit_for(64, 960, 4), 4, "small ones exactly");
	}
}
