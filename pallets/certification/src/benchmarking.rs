//! Benchmarks (v2) for every call over its full parameter range.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, EnsureOriginWithArg, Get},
	BoundedVec,
};
use platone_primitives::{AnchorKind, DatasetRoot, Window};
use sp_runtime::Saturating;

/// A fixed "now" far from the epoch, aligned to any window duration we use.
const NOW_MS: u64 = 1_795_564_800_000;

fn gateway<T: Config>() -> Result<(T::RuntimeOrigin, T::AccountId), BenchmarkError> {
	let origin =
		T::CertifyOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
	let who =
		T::CertifyOrigin::try_origin(origin.clone()).map_err(|_| BenchmarkError::Weightless)?;
	Ok((origin, who))
}

/// `w` closed windows holding `d` datasets in all, spread evenly (at least one each), every
/// dataset new and authorised: the worst case, where each dataset's window duration is written.
fn batch<T: Config>(gateway: &T::AccountId, w: u32, d: u32) -> BatchOf<T> {
	let duration = T::MinWindowMs::get().max(1);
	let mut next_dataset = 0u64;
	let mut windows = alloc::vec::Vec::new();
	for i in 0..w {
		let here = (d / w + u32::from(i < d % w)).max(1);
		let start =
			(NOW_MS / u64::from(duration)).saturating_sub(u64::from(i) + 2) * u64::from(duration);
		let mut datasets = alloc::vec::Vec::new();
		for _ in 0..here {
			T::Authority::authorize(gateway, next_dataset);
			datasets.push(DatasetRoot {
				dataset: next_dataset,
				leaf_count: 180,
				root: [next_dataset as u8; 32],
			});
			next_dataset += 1;
		}
		windows.push(WindowCommitment {
			window: Window {
				start_ms: start,
				duration_ms: duration,
			},
			datasets: BoundedVec::truncate_from(datasets),
		});
	}
	BoundedVec::truncate_from(windows)
}

/// An origin that may anchor some kind by extrinsic, and that kind, if the runtime opens any.
fn anchor_origin<T: Config>() -> Option<(T::RuntimeOrigin, AnchorKind)> {
	[
		AnchorKind::TechnicalValidation,
		AnchorKind::ClearingInputs,
		AnchorKind::MarketOutcome,
		AnchorKind::Settlement,
	]
	.into_iter()
	.find_map(|kind| {
		T::AnchorOrigin::try_successful_origin(&kind)
			.ok()
			.map(|o| (o, kind))
	})
}

/// A market-outcome anchor for subject `i`, anchored at block 0.
fn put_anchor<T: Config>(who: &T::AccountId, i: u32) -> Subject {
	let mut subject = [0u8; 32];
	subject[..4].copy_from_slice(&i.to_le_bytes());
	Anchors::<T>::insert(
		AnchorKind::MarketOutcome,
		subject,
		Anchor {
			digest: [7; 32],
			leaf_count: 1,
			submitter: who.clone(),
			anchored_at: 0u32.into(),
		},
	);
	subject
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// `w` windows, `d` datasets in all. `d` is measured up to one full window, so that every
	/// `(w, d)` pair is a valid batch; the cost per dataset is constant, so the linear weight
	/// holds for the largest batch too.
	#[benchmark]
	fn certify(
		w: Linear<1, { T::MaxWindowsPerBatch::get() }>,
		d: Linear<1, { T::MaxDatasetsPerWindow::get() }>,
	) -> Result<(), BenchmarkError> {
		T::BenchmarkHelper::set_now_ms(NOW_MS);
		let (origin, who) = gateway::<T>()?;
		let batch = batch::<T>(&who, w, d);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, batch);

		assert_eq!(Certificates::<T>::iter_prefix(&who).count() as u32, w);
		Ok(())
	}

	/// A new anchor. A runtime that opens no kind to an extrinsic (ours: only the market and
	/// settlement pallets anchor) still gets a real weight: the same write through
	/// `Anchoring`, which is what those pallets pay for; the origin check it skips is a
	/// constant that reads no storage.
	/// A new anchor. A runtime that opens no kind to an extrinsic (ours: only the market and
	/// settlement pallets anchor) still gets a real weight: the same write through
	/// `Anchoring`, which is what those pallets pay for; the origin check it skips reads no
	/// storage.
	#[benchmark]
	fn anchor() -> Result<(), BenchmarkError> {
		let (subject, digest) = ([1u8; 32], [2u8; 32]);
		let (origin, kind) = match anchor_origin::<T>() {
			Some((origin, kind)) => (Some(origin), kind),
			None => (None, AnchorKind::MarketOutcome),
		};
		let caller: T::AccountId = whitelisted_caller();

		#[block]
		{
			let who = match origin {
				Some(origin) => T::AnchorOrigin::ensure_origin(origin, &kind)
					.map_err(|_| BenchmarkError::Weightless)?,
				None => caller,
			};
			<Pallet<T> as Anchoring<T::AccountId>>::anchor(who, kind, subject, digest, 1000)?;
		}

		assert!(Anchors::<T>::contains_key(kind, subject));
		Ok(())
	}

	#[benchmark]
	fn void_anchor() -> Result<(), BenchmarkError> {
		let admin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (_, who) = gateway::<T>()?;
		put_anchor::<T>(&who, 0);

		#[extrinsic_call]
		_(
			admin as T::RuntimeOrigin,
			AnchorKind::MarketOutcome,
			[0u8; 32],
		);

		assert!(!Anchors::<T>::contains_key(
			AnchorKind::MarketOutcome,
			[0u8; 32]
		));
		Ok(())
	}

	#[benchmark]
	fn prune_anchors(n: Linear<1, { T::MaxPrunePerCall::get() }>) -> Result<(), BenchmarkError> {
		let admin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (_, who) = gateway::<T>()?;
		let list: AnchorPruneList<T> = BoundedVec::truncate_from(
			(0..n)
				.map(|i| (put_anchor::<T>(&who, i), AnchorKind::MarketOutcome))
				.map(|(subject, kind)| (kind, subject))
				.collect::<alloc::vec::Vec<_>>(),
		);
		frame_system::Pallet::<T>::set_block_number(
			T::AnchorRetention::get().saturating_add(1u32.into()),
		);

		#[extrinsic_call]
		_(admin as T::RuntimeOrigin, list);

		assert_eq!(Anchors::<T>::iter().count(), 0);
		Ok(())
	}

	#[benchmark]
	fn prune(n: Linear<1, { T::MaxPrunePerCall::get() }>) -> Result<(), BenchmarkError> {
		let admin =
			T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let (_, who) = gateway::<T>()?;
		let duration = T::MinWindowMs::get().max(1);
		let mut windows = alloc::vec::Vec::new();
		for i in 0..u64::from(n) {
			let window = Window {
				start_ms: i * u64::from(duration),
				duration_ms: duration,
			};
			Certificates::<T>::insert(
				&who,
				window,
				Certificate {
					root: [1; 32],
					datasets: 1,
					leaves: 1,
					certified_at: 1u32.into(),
				},
			);
			windows.push(window);
		}
		T::BenchmarkHelper::set_now_ms(NOW_MS.saturating_add(T::RetentionMs::get()));
		let list: PruneList<T> = BoundedVec::truncate_from(windows);

		#[extrinsic_call]
		_(admin as T::RuntimeOrigin, who.clone(), list);

		assert_eq!(Certificates::<T>::iter_prefix(&who).count(), 0);
		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
