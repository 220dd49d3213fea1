//! Settlement mechanisms as contracts (FR-MP-SET-01/02, docs/settlement.md): `pallet-contracts`
//! and the one bridge to it, [`ContractMechanisms`], through which the settlement pallet calls
//! a mechanism. Nothing else in the runtime knows which contracts pallet runs them, so a move to
//! `pallet-revive` changes this module only (docs/build.md).
//!
//! Contracts here are mechanisms, not applications: aggregators deploy them, and only the
//! settlement pallet calls them, in a storage layer that is always rolled back. A mechanism's
//! answer therefore depends on its code, what its constructor stored and the award's inputs,
//! nothing else, and anyone can re-run it.

use codec::{Decode, Encode};
use frame_support::{
	parameter_types,
	storage::{with_transaction, TransactionOutcome},
	traits::{ConstBool, ConstU32, GetStorageVersion, Nothing, OnRuntimeUpgrade, Randomness},
	weights::Weight,
};
use pallet_contracts::{CollectEvents, DebugInfo, Determinism};
use pallet_settlement::{MechanismInput, Split};
use sp_runtime::{DispatchError, Perbill};

use super::{
	configs::ParityDbWeightOf, AccountId, Balance, Balances, BlockNumber, Contracts, Hash, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeHoldReason, Settlement, Timestamp, UNIT,
};

/// Largest contract code. pallet-contracts' own limit for a call stack of five frames in
/// 128 MiB of runtime memory is 125 KiB (its `integrity_test`); a mechanism needs a few KiB.
pub const MAX_CODE_LEN: u32 = 123 * 1024;

/// Proof size one mechanism call may read: its code, code info and contract info.
pub const MECHANISM_PROOF_SIZE: u64 = MAX_CODE_LEN as u64 + 16 * 1024;

/// Largest value a contract stores and largest event it emits. A mechanism stores its
/// parameters (a few bytes) and emits nothing. The default, 16 KiB, fails pallet-contracts'
/// `integrity_test` here: with ParityDB's cheap writes, a block of 16 KiB `set_storage` calls
/// could write 218 MB, more than the 192 MB it allows above the runtime's memory. At 4 KiB the
/// bound is about 57 MB.
pub const PAYLOAD_LEN: u32 = 4 * 1024;

/// Storage deposits, in the settlement token: refunded when the code or contract goes.
/// A mechanism (a few KiB of code, no storage) ties up a few tokens.
const fn deposit(items: u32, bytes: u32) -> Balance {
	items as Balance * (UNIT / 100) + bytes as Balance * (UNIT / 1_000)
}

parameter_types! {
	/// The pallet's default costs and limits (16 pages of memory, 4 event topics), but stored
	/// values and event data of at most [`PAYLOAD_LEN`].
	pub ContractsSchedule: pallet_contracts::Schedule<Runtime> = {
		let mut schedule = pallet_contracts::Schedule::<Runtime>::default();
		schedule.limits.payload_len = PAYLOAD_LEN;
		schedule
	};
	pub const DepositPerItem: Balance = deposit(1, 0);
	pub const DepositPerByte: Balance = deposit(0, 1);
	pub const DefaultDepositLimit: Balance = deposit(1024, 1024 * 1024);
	/// Only aggregators deploy, each for its own mechanisms: no lock-up on shared code.
	pub const CodeHashLockupDepositPercent: Perbill = Perbill::zero();
}

/// No on-chain randomness: the pallet refuses, at upload, code that asks for it.
pub struct NoRandomness;

impl Randomness<Hash, BlockNumber> for NoRandomness {
	fn random(_subject: &[u8]) -> (Hash, BlockNumber) {
		(Hash::zero(), 0)
	}
}

impl pallet_contracts::Config for Runtime {
	type Time = Timestamp;
	type Randomness = NoRandomness;
	type Currency = Balances;
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// A mechanism dispatches no runtime call.
	type CallFilter = Nothing;
	/// No fees on this chain: gas is priced at zero.
	type WeightPrice = ();
	type WeightInfo = pallet_contracts::weights::SubstrateWeight<Runtime>;
	type ChainExtension = ();
	type Schedule = ContractsSchedule;
	type CallStack = [pallet_contracts::Frame<Self>; 5];
	type DepositPerByte = DepositPerByte;
	type DefaultDepositLimit = DefaultDepositLimit;
	type DepositPerItem = DepositPerItem;
	type CodeHashLockupDepositPercent = CodeHashLockupDepositPercent;
	type AddressGenerator = pallet_contracts::DefaultAddressGenerator;
	type MaxCodeLen = ConstU32<MAX_CODE_LEN>;
	type MaxStorageKeyLen = ConstU32<128>;
	type MaxTransientStorageSize = ConstU32<{ 1024 * 1024 }>;
	type MaxDelegateDependencies = ConstU32<32>;
	/// Only the stable host interface: what a validator runs must not change under it.
	type UnsafeUnstableInterface = ConstBool<false>;
	type MaxDebugBufferLen = ConstU32<{ 2 * 1024 * 1024 }>;
	/// Aggregators write settlement mechanisms (FR-MP-SET-01); nobody else deploys code.
	type UploadOrigin = pallet_registry::EnsureAggregator<Runtime>;
	type InstantiateOrigin = pallet_registry::EnsureAggregator<Runtime>;
	type Migrations = ();
	type Debug = ();
	type Environment = ();
	type ApiVersion = ();
	/// No XCM on a solochain.
	type Xcm = ();
}

/// The settlement pallet's contract executor: `pallet-contracts`, called with the mechanism's
/// gas, no value and no storage deposit, from the settlement pallet's account, and always rolled
/// back.
pub struct ContractMechanisms;

impl pallet_settlement::ContractMechanism<AccountId> for ContractMechanisms {
	fn exists(contract: &AccountId) -> bool {
		Contracts::code_hash(contract).is_some()
	}

	fn evaluate(contract: &AccountId, input: &MechanismInput, gas: u64) -> Option<Split> {
		Self::evaluate_metered(contract, input, gas).0
	}

	/// The call's answer and the gas it consumed, as pallet-contracts meters it (the call's
	/// own base weight included).
	fn evaluate_metered(
		contract: &AccountId,
		input: &MechanismInput,
		gas: u64,
	) -> (Option<Split>, Weight) {
		let (outcome, used) = with_transaction(|| {
			let result = Contracts::bare_call(
				Settlement::account(),
				contract.clone(),
				0,
				Weight::from_parts(gas, MECHANISM_PROOF_SIZE),
				Some(0),
				input.encode(),
				DebugInfo::Skip,
				CollectEvents::Skip,
				Determinism::Enforced,
			);
			TransactionOutcome::Rollback(Ok::<_, DispatchError>((
				result.result,
				result.gas_consumed,
			)))
		})
		.unwrap_or_else(|e| (Err(e), Weight::from_parts(gas, MECHANISM_PROOF_SIZE)));
		// A trap, a revert, a nested layer too deep or an answer that is not exactly one `Split`:
		// no answer, and the pallet settles with its default terms.
		let answer = outcome
			.ok()
			.filter(|value| !value.did_revert())
			.and_then(|value| {
				Split::decode(&mut &value.data[..])
					.ok()
					.filter(|_| value.data.len() == Split::default().encoded_size())
			});
		(answer, used)
	}

	fn max_proof_size() -> u64 {
		MECHANISM_PROOF_SIZE
	}
}

/// pallet-contracts arrived with spec 105. A chain that upgrades to it starts the pallet at its
/// code's storage version, as genesis does: there is nothing to migrate, and left at version 0
/// the pallet would start a multi-block migration with no steps and refuse every call.
pub struct InitContracts;

impl OnRuntimeUpgrade for InitContracts {
	fn on_runtime_upgrade() -> Weight {
		if Contracts::on_chain_storage_version() == 0 {
			Contracts::in_code_storage_version().put::<Contracts>();
			return ParityDbWeightOf::get().reads_writes(1, 1);
		}
		ParityDbWeightOf::get().reads(1)
	}
}
