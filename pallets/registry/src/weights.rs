//! Weights for `pallet_registry`. Placeholder until `scripts/bench-pallets.sh` generates them:
//! 100 µs of execution plus the database accesses of each call's longest path.

#![allow(unused_parens, unused_imports, missing_docs)]
#![allow(clippy::unnecessary_cast)]

use core::marker::PhantomData;
use frame_support::{
	traits::Get,
	weights::{constants::ParityDbWeight, Weight},
};

pub trait WeightInfo {
	fn register_participant() -> Weight;
	fn set_roles() -> Weight;
	fn suspend() -> Weight;
	fn reinstate() -> Weight;
	fn remove_participant() -> Weight;
	fn register_area() -> Weight;
	fn remove_area() -> Weight;
	fn register_pod() -> Weight;
	fn remove_pod() -> Weight;
	fn request_representation() -> Weight;
	fn confirm_representation() -> Weight;
	fn end_representation() -> Weight;
	fn register_pom() -> Weight;
	fn set_pom_gateway() -> Weight;
	fn remove_pom() -> Weight;
	fn check_participant() -> Weight;
}

/// Weights measured for this runtime, with its database costs.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn register_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn set_roles() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn suspend() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn reinstate() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn remove_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn register_area() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(5))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn remove_area() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn register_pod() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(5))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn remove_pod() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(4))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn request_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(1))
	}
	fn confirm_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(6))
			.saturating_add(T::DbWeight::get().writes(4))
	}
	fn end_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(3))
			.saturating_add(T::DbWeight::get().writes(2))
	}
	fn register_pom() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(8))
			.saturating_add(T::DbWeight::get().writes(8))
	}
	fn set_pom_gateway() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(7))
			.saturating_add(T::DbWeight::get().writes(5))
	}
	fn remove_pom() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(7))
			.saturating_add(T::DbWeight::get().writes(7))
	}
	fn check_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(2))
			.saturating_add(T::DbWeight::get().writes(1))
	}
}

/// The same figures against ParityDB costs, for tests and mocks.
impl WeightInfo for () {
	fn register_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().writes(4))
	}
	fn set_roles() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(1))
			.saturating_add(ParityDbWeight::get().writes(1))
	}
	fn suspend() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(1))
			.saturating_add(ParityDbWeight::get().writes(1))
	}
	fn reinstate() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(1))
			.saturating_add(ParityDbWeight::get().writes(1))
	}
	fn remove_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(2))
			.saturating_add(ParityDbWeight::get().writes(5))
	}
	fn register_area() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(5))
			.saturating_add(ParityDbWeight::get().writes(5))
	}
	fn remove_area() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().writes(4))
	}
	fn register_pod() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(5))
			.saturating_add(ParityDbWeight::get().writes(4))
	}
	fn remove_pod() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(4))
			.saturating_add(ParityDbWeight::get().writes(5))
	}
	fn request_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(2))
			.saturating_add(ParityDbWeight::get().writes(1))
	}
	fn confirm_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(6))
			.saturating_add(ParityDbWeight::get().writes(4))
	}
	fn end_representation() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(3))
			.saturating_add(ParityDbWeight::get().writes(2))
	}
	fn register_pom() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(8))
			.saturating_add(ParityDbWeight::get().writes(8))
	}
	fn set_pom_gateway() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(7))
			.saturating_add(ParityDbWeight::get().writes(5))
	}
	fn remove_pom() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(7))
			.saturating_add(ParityDbWeight::get().writes(7))
	}
	fn check_participant() -> Weight {
		Weight::from_parts(100_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(2))
			.saturating_add(ParityDbWeight::get().writes(1))
	}
}
