//! Weights of the market pallet's calls and hook steps.
//!
//! The `()` implementation serves the mock runtime and states each step's storage accesses
//! with a conservative compute allowance. The runtime takes its weights from this pallet's
//! benchmarks once the pallet joins it (docs/market.md, "Next").

use frame_support::weights::{constants::RocksDbWeight, Weight};

pub trait WeightInfo {
	fn submit_request() -> Weight;
	fn amend_request() -> Weight;
	fn withdraw_request() -> Weight;
	fn submit_offer() -> Weight;
	fn amend_offer() -> Weight;
	fn withdraw_offer() -> Weight;
	/// `n` answers, with `a` award records decoded (each step's, once per run of answers in
	/// it).
	fn validate(n: u32, a: u32) -> Weight;
	fn set_schedule() -> Weight;
	fn set_pricing() -> Weight;
	/// `n` entries removed.
	fn prune_session(n: u32) -> Weight;
	/// The hook with nothing to do: schedules, next periods and the live list read.
	fn hook_base() -> Weight;
	/// One live session looked at, whether or not it has a step due.
	fn hook_per_session() -> Weight;
	fn open_session() -> Weight;
	/// One gate-closure step over `n` item ids in a session of `s` steps: registry checks,
	/// snapshot, and the items' terms, power per step and leaf hashes sealed.
	fn seal_chunk(n: u32, s: u32) -> Weight;
	/// Gate closure's input root over `n` leaves (areas and items). The pallet adds the reads
	/// and removals of the chunks of leaf hashes, one per `SealChunk` items.
	fn seal_finish(n: u32) -> Weight;
	/// One slot and direction over `r` requests and `o` offers, with `s` flow solves' worth
	/// of work (2^m for up to m minima searched exhaustively; the rule and every solve stop at
	/// that budget). The pallet adds each sealed chunk's reads and its power's removal.
	fn clear_step(r: u32, o: u32, s: u32) -> Weight;
	/// The outcome root over `s` steps, and its anchor; `c` sealed chunks removed.
	fn finish_clearing(s: u32, c: u32) -> Weight;
	/// `n` of a step's `a` awards closed: answers read, defaults applied, their leaves added to
	/// the step's validation tree and their PoD shares kept (the step's records decoded).
	fn close_step(n: u32, a: u32) -> Weight;
	/// The validation root over `s` steps and its anchor, or the final step.
	fn finalize(s: u32) -> Weight;
}

/// Per item and step: one storage read plus decoding and hashing.
const PER_ITEM: u64 = 40_000_000;
/// Per sealed item in a clearing step: its terms and power decoded, its clearing input built.
const PER_SEALED: u64 = 2_000_000;
/// Per award a clearing step records: its event and its record encoded.
const PER_AWARD: u64 = 5_000_000;
/// Per award record decoded: 109 ns measured on the release node (`validate`'s slope per
/// record, docs/benchmarks.md), with a margin.
const PER_RECORD: u64 = 120_000;

impl WeightInfo for () {
	fn submit_request() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(5, 3))
	}
	fn amend_request() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(4, 1))
	}
	fn withdraw_request() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2))
	}
	fn submit_offer() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(7, 3))
	}
	fn amend_offer() -> Weight {
		Weight::from_parts(60_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(6, 1))
	}
	fn withdraw_offer() -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(RocksDbWeight::get().reads_writes(2, 2))
	}
	fn validate(n: u32, a: u32) -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(Weight::from_parts(PER_ITEM, 0).saturating_mul(n.into()))
			.saturating_add(Weight::from_parts(PER_RECORD, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(2, 1))
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(2, 1)
					.saturating_mul(n.into()),
			)
	}
	fn set_schedule() -> Weight {
		Weight::from_parts(20_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(1, 2))
	}
	fn set_pricing() -> Weight {
		Weight::from_parts(10_000_000, 0).saturating_add(RocksDbWeight::get().writes(1))
	}
	/// `n` entries, the settlement's included; with the settlement's tally and the first key
	/// of each of its maps read (8) besides the market's own.
	fn prune_session(n: u32) -> Weight {
		Weight::from_parts(30_000_000, 0)
			.saturating_add(RocksDbWeight::get().reads_writes(10, 3))
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(1, 1)
					.saturating_mul(n.into()),
			)
	}
	fn hook_base() -> Weight {
		Weight::from_parts(20_000_000, 0).saturating_add(RocksDbWeight::get().reads(5))
	}
	fn hook_per_session() -> Weight {
		// The session, and a step's digest and close progress when it is closing.
		Weight::from_parts(5_000_000, 0).saturating_add(RocksDbWeight::get().reads(3))
	}
	fn open_session() -> Weight {
		Weight::from_parts(30_000_000, 0).saturating_add(RocksDbWeight::get().reads_writes(4, 5))
	}
	fn seal_chunk(n: u32, s: u32) -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(Weight::from_parts(PER_ITEM, 0).saturating_mul(n.into()))
			// Per id: the request and offer maps; registry: the requester or aggregator, the
			// area path (up to 6 levels), the PoD; a dropped item's two removals.
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(11, 2)
					.saturating_mul(n.into()),
			)
			// The items fill at most two chunks: their terms, leaves and power in each step.
			.saturating_add(
				RocksDbWeight::get()
					.reads_writes(2, 2)
					.saturating_mul(u64::from(s).saturating_add(2)),
			)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 2))
	}
	fn seal_finish(n: u32) -> Weight {
		// A leaf hash and its share of the tree's inner hashes.
		Weight::from_parts(50_000_000, 0)
			.saturating_add(Weight::from_parts(4_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
	fn clear_step(r: u32, o: u32, s: u32) -> Weight {
		let items = u64::from(r).saturating_add(o.into());
		// The crate stops every step at its work budget, `WORK_PER_ITEM` units per item and
		// solve; 20 ns per unit: about 10 ns natively (docs/benchmarks.md), doubled for wasm.
		let work = platone_clearing::WORK_PER_ITEM
			.saturating_mul(items.max(1))
			.saturating_mul(s.max(1).into());
		let solve = Weight::from_parts(20_000, 0).saturating_mul(work);
		// An offer feeds at most one ladder per area on its path (up to 4: the runtime's
		// `MaxAreaPath`), and each ladder's split adds at most one award per request.
		let awards = u64::from(o).saturating_mul(4).saturating_add(r.into());
		Weight::from_parts(50_000_000, 0)
			.saturating_add(Weight::from_parts(PER_SEALED, 0).saturating_mul(items))
			.saturating_add(Weight::from_parts(PER_AWARD, 0).saturating_mul(awards))
			.saturating_add(solve)
			.saturating_add(RocksDbWeight::get().reads_writes(3, 3))
	}
	fn finish_clearing(s: u32, c: u32) -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(s.into()))
			.saturating_add(RocksDbWeight::get().writes(c.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
	fn close_step(n: u32, a: u32) -> Weight {
		// Per award closed: its answer and its offer's PoD read (below), one leaf hashed and
		// its PoD share kept. Per award of the step: its record and share decoded and encoded.
		Weight::from_parts(30_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(2u64.saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(PER_RECORD, 0).saturating_mul(a.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(5, 4))
	}
	fn finalize(s: u32) -> Weight {
		Weight::from_parts(50_000_000, 0)
			.saturating_add(Weight::from_parts(5_000_000, 0).saturating_mul(s.into()))
			.saturating_add(RocksDbWeight::get().reads(s.into()))
			.saturating_add(RocksDbWeight::get().reads_writes(3, 4))
	}
}
