//! Weights of the settlement pallet's calls.
//!
//! The `()` implementation states each call's storage accesses with a conservative compute
//! allowance; the runtime uses it until the pallet's benchmarks (`benchmarking.rs`, which CI
//! runs against the mock) are run on the release node (docs/settlement.md, "Open").

use frame_support::weights::{constants::RocksDbWeight, Weight};

pub trait WeightInfo {
	fn create_mechanism() -> Weight;
	fn retire_mechanism() -> Weight;
	fn choose_mechanism() -> Weight;
	fn declare_baseline() -> Weight;
	fn set_pod_owner() -> Weight;
	/// `r` readings, each a certificate read and a two-level proof check.
	fn submit_metering(r: u32) -> Weight;
	/// `n` awards settled, without their contract calls (added by the pallet).
	fn settle(n: u32) -> Weight;
	fn dispute() -> Weight;
	/// A resolution, its anchor and its payment, without a contract call.
	fn resolve() -> Weight;
	/// `n` outcomes made final and paid, the last one anchoring.
	fn finalize(n: u32) -> Weight;
	fn mint() -> Weight;
	fn request_redemption() -> Weight;
	fn burn_redeemed() -> Weight;
	fn cancel_redemption() -> Weight;
	fn set_params() -> Weight;
	fn set_dispute_deposit() -> Weight;
	fn set_baseline_method() -> Weight;
	/// `r` readings of a slot on an earlier day, as `submit_metering`.
	fn submit_history(r: u32) -> Weight;
}

/// A proof of a reading: two Merkle paths of up to 32 hashes each, the record decoded.
const PER_READING: u64 = 60_000_000;
/// An award: the market's records, baseline, metering and mechanism read; the outcome
/// written.
const PER_AWARD: u64 = 50_000_000;
/// A final outcome: hashed into the tree, paid in up to three transfers.
const PER_FINAL: u64 = 80_000_000;
/// A standard baseline's history, read for an award's record: its candidate days.
const HISTORY_READS: u64 = 2 * crate::baseline::MAX_HISTORY_DAYS as u64;

impl WeightInfo for () {
	fn create_mechanism() -> Weight {
		Weight::from_parts(25_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 2))
	}
	fn retire_mechanism() -> Weight {
		Weight::from_parts(20_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
	}
	fn choose_mechanism() -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 1))
	}
	fn declare_baseline() -> Weight {
		Weight::from_parts(40_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(5, 1))
	}
	fn set_pod_owner() -> Weight {
		Weight::from_parts(20_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(2, 1))
	}
	fn submit_metering(r: u32) -> Weight {
		Weight::from_parts(40_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 1))
			.saturating_add(Weight::from_parts(PER_READING, 200).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(2).saturating_mul(r.into()))
	}
	fn settle(n: u32) -> Weight {
		Weight::from_parts(30_000_000, 8_000)
			.saturating_add(RocksDbWeight::get().reads_writes(2, 1))
			.saturating_add(Weight::from_parts(PER_AWARD, 4_000).saturating_mul(n.into()))
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(9 + HISTORY_READS, 2)
					.saturating_mul(n.into()),
			)
	}
	/// The outcome, the deposit's transfer (two accounts) and its record.
	fn dispute() -> Weight {
		Weight::from_parts(40_000_000, 3_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
	/// With the deposit paid out: its record and two accounts.
	fn resolve() -> Weight {
		Weight::from_parts(PER_AWARD + PER_FINAL + 20_000_000, 9_000)
			.saturating_add(RocksDbWeight::get().reads_writes(17 + HISTORY_READS, 11))
	}
	fn finalize(n: u32) -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(1, 1))
			.saturating_add(Weight::from_parts(PER_FINAL, 4_000).saturating_mul(n.into()))
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(6, 6)
					.saturating_mul(n.into()),
			)
	}
	fn mint() -> Weight {
		Weight::from_parts(30_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn request_redemption() -> Weight {
		Weight::from_parts(40_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn burn_redeemed() -> Weight {
		Weight::from_parts(30_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 4))
	}
	fn cancel_redemption() -> Weight {
		Weight::from_parts(30_000_000, 2_000)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn set_params() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
	fn set_dispute_deposit() -> Weight {
		Self::set_params()
	}
	fn set_baseline_method() -> Weight {
		Self::declare_baseline()
	}
	fn submit_history(r: u32) -> Weight {
		Self::submit_metering(r).saturating_add(RocksDbWeight::get().reads(1))
	}
}
