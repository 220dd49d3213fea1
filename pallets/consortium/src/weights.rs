//! Weights for `pallet_consortium`.
//!
//! PROVISIONAL: by hand from ParityDB costs until `scripts/bench-pallets.sh` regenerates this
//! file from `benchmarking.rs`.

#![allow(unused_parens, unused_imports, missing_docs)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::Weight};

pub trait WeightInfo {
	fn add_validator(v: u32) -> Weight;
	fn remove_validator(v: u32) -> Weight;
	fn dispatch_as_root() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);

impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_validator(v: u32) -> Weight {
		Weight::from_parts(30_000_000, 4_000)
			.saturating_add(Weight::from_parts(300_000, 150).saturating_mul(v.into()))
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn remove_validator(v: u32) -> Weight {
		Self::add_validator(v)
	}
	fn dispatch_as_root() -> Weight {
		Weight::from_parts(10_000_000, 0)
	}
}

impl WeightInfo for () {
	fn add_validator(v: u32) -> Weight {
		Weight::from_parts(30_000_000, 0)
			.saturating_add(Weight::from_parts(300_000, 0).saturating_mul(v.into()))
	}
	fn remove_validator(v: u32) -> Weight {
		Self::add_validator(v)
	}
	fn dispatch_as_root() -> Weight {
		Weight::from_parts(10_000_000, 0)
	}
}
