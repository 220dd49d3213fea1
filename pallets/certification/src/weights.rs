//! Weights for `pallet_certification`.
//!
//! PROVISIONAL: derived by hand from ParityDB costs (read 8 µs, write 50 µs) until
//! `scripts/bench-pallets.sh` regenerates this file from the benchmarks in `benchmarking.rs`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

pub trait WeightInfo {
	fn certify(w: u32, d: u32) -> Weight;
	fn anchor() -> Weight;
	fn prune(n: u32) -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Reads per dataset: authority, `DatasetWindow`; writes: `DatasetWindow` (first time).
	/// Per window: one read and one write of `Certificates`, and the root over its datasets.
	fn certify(w: u32, d: u32) -> Weight {
		Weight::from_parts(20_000_000, 1_500)
			.saturating_add(Weight::from_parts(15_000_000, 2_600).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(4_000_000, 2_500).saturating_mul(d.into()))
			.saturating_add(T::DbWeight::get().reads((2 * d + w).into()))
			.saturating_add(T::DbWeight::get().writes((d + w).into()))
	}
	fn anchor() -> Weight {
		Weight::from_parts(15_000_000, 3_600)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn prune(n: u32) -> Weight {
		Weight::from_parts(10_000_000, 1_500)
			.saturating_add(Weight::from_parts(8_000_000, 2_600).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(n.into()))
			.saturating_add(T::DbWeight::get().writes(n.into()))
	}
}

impl WeightInfo for () {
	fn certify(w: u32, d: u32) -> Weight {
		Weight::from_parts(20_000_000, 0)
			.saturating_add(Weight::from_parts(15_000_000, 0).saturating_mul(w.into()))
			.saturating_add(Weight::from_parts(4_000_000, 0).saturating_mul(d.into()))
	}
	fn anchor() -> Weight {
		Weight::from_parts(15_000_000, 0)
	}
	fn prune(n: u32) -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(Weight::from_parts(8_000_000, 0).saturating_mul(n.into()))
	}
}
