//! Benchmarks (v2) for every call, over the size of the validator set.

use super::*;
use alloc::{boxed::Box, vec};
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};

fn key<K: codec::Decode>(seed: u32) -> K {
	let mut bytes = [0u8; 64];
	bytes[..4].copy_from_slice(&seed.to_le_bytes());
	K::decode(&mut &bytes[..]).expect("64 bytes decode into any key type of ours")
}

/// A set of `v` validators, consistent with Aura.
fn fill<T: Config>(v: u32) {
	let set: alloc::vec::Vec<ValidatorOf<T>> = (0..v)
		.map(|i| Validator {
			operator: account("validator", i, 0),
			aura: key(i),
			grandpa: key(i),
		})
		.collect();
	let aura = set
		.iter()
		.map(|v| v.aura.clone())
		.collect::<alloc::vec::Vec<_>>();
	pallet_aura::Pallet::<T>::change_authorities(BoundedVec::truncate_from(aura));
	Validators::<T>::put(BoundedVec::truncate_from(set));
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator(
		v: Linear<1, { <T as Config>::MaxValidators::get() - 1 }>,
	) -> Result<(), BenchmarkError> {
		let origin =
			T::ValidatorOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill::<T>(v);
		let operator: T::AccountId = account("new", 0, 0);

		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			operator.clone(),
			key(10_000),
			key(10_000),
		);

		assert!(Validators::<T>::get()
			.iter()
			.any(|x| x.operator == operator));
		Ok(())
	}

	#[benchmark]
	fn remove_validator(
		v: Linear<2, { <T as Config>::MaxValidators::get() }>,
	) -> Result<(), BenchmarkError> {
		let origin =
			T::ValidatorOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill::<T>(v.max(T::MinValidators::get() + 1));
		let operator: T::AccountId = account("validator", 0, 0);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, operator.clone());

		assert!(!Validators::<T>::get()
			.iter()
			.any(|x| x.operator == operator));
		Ok(())
	}

	#[benchmark]
	fn dispatch_as_root() -> Result<(), BenchmarkError> {
		let origin =
			T::RootOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let call: <T as Config>::RuntimeCall =
			frame_system::Call::<T>::remark { remark: vec![] }.into();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Box::new(call));

		Ok(())
	}

	#[benchmark]
	fn force_set_validators(
		v: Linear<1, { <T as Config>::MaxValidators::get() }>,
	) -> Result<(), BenchmarkError> {
		let origin =
			T::ForceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		fill::<T>(<T as Config>::MaxValidators::get());
		let set: alloc::vec::Vec<_> = (0..v)
			.map(|i| (account("forced", i, 0), key(20_000 + i), key(20_000 + i)))
			.collect();

		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			BoundedVec::truncate_from(set),
			0u32.into(),
			1u32.into(),
		);

		assert_eq!(Validators::<T>::get().len() as u32, v);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
