//! Benchmarks (v2) for every call and the `CheckParticipant` extension, each on its longest
//! path (nested areas, represented PoDs, codes and names at their maximum length).

use super::*;
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::{
	dispatch::{DispatchInfo, PostDispatchInfo},
	traits::{EnsureOrigin, Get},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::{
	AsSystemOriginSigner, AsTransactionAuthorizedOrigin, DispatchTransaction, Dispatchable, Hash,
};
use sp_runtime::DispatchError;

/// A unique, well-formed EIC code per account.
fn eic_of<T: Config>(who: &T::AccountId) -> Eic {
	let hash = T::Hashing::hash_of(who);
	let mut eic = [b'A'; 16];
	for (c, b) in eic.iter_mut().zip(hash.as_ref()) {
		*c = b'A' + b % 26;
	}
	Eic(eic)
}

/// A participant with the roles of `mask`, admitted if it is not yet.
pub(crate) fn participant<T: Config>(name: &'static str, mask: u8) -> Result<T::AccountId, ()> {
	let who: T::AccountId = account(name, u32::from(mask), 0);
	if !Participants::<T>::contains_key(&who) {
		let roles = Roles(mask & roles::ALL);
		Pallet::<T>::do_register_participant(
			who.clone(),
			roles,
			eic_of::<T>(&who),
			long::<T::MaxNameLen>(b"N"),
		)
		.map_err(|_| ())?;
	}
	Ok(who)
}

/// `prefix` padded to the bound, so that codes and names cost their most.
fn long<S: Get<u32>>(prefix: &[u8]) -> BoundedVec<u8, S> {
	let mut v = prefix.to_vec();
	v.resize(S::get() as usize, b'0');
	BoundedVec::truncate_from(v)
}

fn code<T: Config>(prefix: &[u8], n: u64) -> CodeOf<T> {
	let mut v = prefix.to_vec();
	v.extend_from_slice(&n.to_le_bytes());
	long::<T::MaxCodeLen>(&v)
}

fn stop<E>(_: E) -> BenchmarkError {
	BenchmarkError::Stop("benchmark setup failed")
}

/// A DSO with a zone, a feeder inside it and a PoD on the feeder.
fn grid<T: Config>() -> Result<(T::AccountId, AreaId, PodId), BenchmarkError> {
	let dso = participant::<T>("dso", roles::DSO).map_err(stop)?;
	let zone =
		Pallet::<T>::do_register_area(dso.clone(), code::<T>(b"Z", 0), AreaKind::Zone, None)?;
	let feeder = Pallet::<T>::do_register_area(
		dso.clone(),
		code::<T>(b"F", 0),
		AreaKind::Feeder,
		Some(zone),
	)?;
	let pod = Pallet::<T>::do_register_pod(dso.clone(), code::<T>(b"P", 0), feeder)?;
	Ok((dso, feeder, pod))
}

/// A PoD whose aggregator is `agg`.
fn represented<T: Config>(
	dso: &T::AccountId,
	pod: PodId,
	agg: &T::AccountId,
) -> Result<(), BenchmarkError> {
	Pallet::<T>::do_request_representation(agg.clone(), pod)?;
	Pallet::<T>::do_confirm_representation(dso.clone(), pod, agg.clone())?;
	Ok(())
}

/// Lets `gateway` certify dataset `dataset`, with a PoD of its own; for other pallets'
/// benchmarks (`CertificationAuthority::authorize`).
pub(crate) fn authorize<T: Config>(gateway: &T::AccountId, dataset: PomId) {
	let setup = || -> Result<(), DispatchError> {
		if !Participants::<T>::contains_key(gateway) {
			Pallet::<T>::do_register_participant(
				gateway.clone(),
				Roles(roles::GATEWAY),
				eic_of::<T>(gateway),
				BoundedVec::default(),
			)?;
		}
		let dso = participant::<T>("authorize-dso", roles::DSO)
			.map_err(|_| DispatchError::Other("participant"))?;
		let area_code = code::<T>(b"AUTH", 0);
		let area = match AreaCodes::<T>::get(&area_code) {
			Some(area) => area,
			None => Pallet::<T>::do_register_area(dso.clone(), area_code, AreaKind::Zone, None)?,
		};
		let pod = Pallet::<T>::do_register_pod(dso, code::<T>(b"AUTHPOD", dataset), area)?;
		Pallet::<T>::link(gateway)?;
		Pods::<T>::mutate(pod, |p| {
			if let Some(p) = p {
				p.poms = 1;
			}
		});
		let mut device_key = [0xbe; 32];
		device_key[..8].copy_from_slice(&dataset.to_le_bytes());
		Pallet::<T>::insert_pom(
			dataset,
			Pom {
				pod,
				kind: PomKind::Pmu,
				device_key,
				gateway: gateway.clone(),
				gateway_since_ms: 0,
				previous_gateway: None,
			},
		);
		LastPomId::<T>::mutate(|last| *last = (*last).max(dataset));
		Ok(())
	};
	if let Err(e) = setup() {
		frame_support::defensive!("benchmark authorisation failed", e);
	}
}

/// A fresh device key in the keystore and its proof of control for `registrant` at `pod`.
fn device<T: Config>(
	registrant: &T::AccountId,
	pod: PodId,
) -> Result<(DeviceKey, DeviceProof), BenchmarkError> {
	const KEY_TYPE: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"pomk");
	let public = sp_io::crypto::ed25519_generate(KEY_TYPE, None);
	let genesis = frame_system::Pallet::<T>::block_hash(
		<frame_system::pallet_prelude::BlockNumberFor<T> as sp_runtime::traits::Zero>::zero(),
	);
	let message = device_key_message(&genesis, registrant, pod, KeyReleases::<T>::get(public.0));
	let signature = sp_io::crypto::ed25519_sign(KEY_TYPE, &public, &message)
		.ok_or(BenchmarkError::Stop("no keystore to sign with"))?;
	Ok((public.0, signature.0))
}

#[benchmarks(where
	T: Send + Sync,
	T::RuntimeCall: Dispatchable<Info = DispatchInfo, PostInfo = PostDispatchInfo>,
	<T::RuntimeCall as Dispatchable>::RuntimeOrigin:
		AsSystemOriginSigner<T::AccountId> + AsTransactionAuthorizedOrigin + Clone,
)]
mod benchmarks {
	use super::*;

	fn admin<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
		T::AdminOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
	}

	#[benchmark]
	fn register_participant() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let who: T::AccountId = account("new", 0, 0);
		let eic = eic_of::<T>(&who);

		#[extrinsic_call]
		_(
			origin as T::RuntimeOrigin,
			who.clone(),
			Roles(roles::ALL),
			eic,
			long(b"Name"),
		);

		assert!(Participants::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn set_roles() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let who = participant::<T>("p", roles::AUDITOR).map_err(stop)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone(), Roles(roles::ALL));

		assert!(Pallet::<T>::has_role(&who, roles::GATEWAY));
		Ok(())
	}

	#[benchmark]
	fn suspend() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let who = participant::<T>("p", roles::AUDITOR).map_err(stop)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Pallet::<T>::has_role(&who, roles::AUDITOR));
		Ok(())
	}

	#[benchmark]
	fn reinstate() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let who = participant::<T>("p", roles::AUDITOR).map_err(stop)?;
		Pallet::<T>::do_set_status(who.clone(), Status::Suspended)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(Pallet::<T>::has_role(&who, roles::AUDITOR));
		Ok(())
	}

	#[benchmark]
	fn remove_participant() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let who = participant::<T>("p", roles::AUDITOR).map_err(stop)?;
		Pallet::<T>::note_tx(&who);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());

		assert!(!Participants::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn register_area() -> Result<(), BenchmarkError> {
		// The costlier path: a DSO's zone under a TSO's control area also checks the TSO.
		let dso = participant::<T>("dso", roles::DSO).map_err(stop)?;
		let tso = participant::<T>("tso", roles::TSO).map_err(stop)?;
		let control =
			Pallet::<T>::do_register_area(tso, code::<T>(b"CA", 0), AreaKind::ControlArea, None)?;
		let c = code::<T>(b"SUB", 0);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(dso),
			c.clone(),
			AreaKind::Zone,
			Some(control),
		);

		assert!(AreaCodes::<T>::contains_key(&c));
		Ok(())
	}

	#[benchmark]
	fn remove_area() -> Result<(), BenchmarkError> {
		let (dso, feeder, _) = grid::<T>()?;
		let sub = Pallet::<T>::do_register_area(
			dso.clone(),
			code::<T>(b"SUB", 0),
			AreaKind::Feeder,
			Some(feeder),
		)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), sub);

		assert!(!Areas::<T>::contains_key(sub));
		Ok(())
	}

	#[benchmark]
	fn register_pod() -> Result<(), BenchmarkError> {
		let (dso, feeder, _) = grid::<T>()?;
		let c = code::<T>(b"P", 1);

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), c.clone(), feeder);

		assert!(PodCodes::<T>::contains_key(&c));
		Ok(())
	}

	#[benchmark]
	fn remove_pod() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let agg = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;
		represented::<T>(&dso, pod, &agg)?;
		let other = participant::<T>("agg2", roles::AGGREGATOR | roles::AUDITOR).map_err(stop)?;
		Pallet::<T>::do_request_representation(other, pod)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pod);

		assert!(!Pods::<T>::contains_key(pod));
		Ok(())
	}

	#[benchmark]
	fn request_representation() -> Result<(), BenchmarkError> {
		let (_, _, pod) = grid::<T>()?;
		let agg = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(agg.clone()), pod);

		assert_eq!(RepresentationRequests::<T>::get(pod), Some(agg));
		Ok(())
	}

	#[benchmark]
	fn confirm_representation() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let old = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;
		represented::<T>(&dso, pod, &old)?;
		let new = participant::<T>("agg2", roles::AGGREGATOR | roles::AUDITOR).map_err(stop)?;
		Pallet::<T>::do_request_representation(new.clone(), pod)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pod, new.clone());

		assert_eq!(Pods::<T>::get(pod).and_then(|p| p.aggregator), Some(new));
		Ok(())
	}

	#[benchmark]
	fn end_representation() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let agg = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;
		represented::<T>(&dso, pod, &agg)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pod);

		assert_eq!(Pods::<T>::get(pod).and_then(|p| p.aggregator), None);
		Ok(())
	}

	#[benchmark]
	fn register_pom() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let gateway = participant::<T>("gw", roles::GATEWAY).map_err(stop)?;
		let (key, proof) = device::<T>(&dso, pod)?;

		#[extrinsic_call]
		_(
			RawOrigin::Signed(dso),
			pod,
			PomKind::Pmu,
			key,
			gateway,
			proof,
		);

		assert!(DeviceKeys::<T>::contains_key(key));
		Ok(())
	}

	#[benchmark]
	fn set_pom_gateway() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let gateway = participant::<T>("gw", roles::GATEWAY).map_err(stop)?;
		let pom =
			Pallet::<T>::do_register_pom(dso.clone(), pod, PomKind::Pmu, [7; 32], gateway, None)?;
		let new = participant::<T>("gw2", roles::GATEWAY | roles::AUDITOR).map_err(stop)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pom, new.clone());

		assert_eq!(Poms::<T>::get(pom).map(|m| m.gateway), Some(new));
		Ok(())
	}

	#[benchmark]
	fn remove_pom() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let gateway = participant::<T>("gw", roles::GATEWAY).map_err(stop)?;
		let pom =
			Pallet::<T>::do_register_pom(dso.clone(), pod, PomKind::Pmu, [7; 32], gateway, None)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pom);

		assert!(!Poms::<T>::contains_key(pom));
		Ok(())
	}

	#[benchmark]
	fn withdraw_representation_request() -> Result<(), BenchmarkError> {
		let (dso, _, pod) = grid::<T>()?;
		let agg = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;
		Pallet::<T>::do_request_representation(agg, pod)?;

		#[extrinsic_call]
		_(RawOrigin::Signed(dso), pod);

		assert!(!RepresentationRequests::<T>::contains_key(pod));
		Ok(())
	}

	#[benchmark]
	fn force_transfer_area() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let (_, feeder, _) = grid::<T>()?;
		let to = participant::<T>("dso2", roles::DSO | roles::AUDITOR).map_err(stop)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, feeder, to.clone());

		assert_eq!(Areas::<T>::get(feeder).map(|a| a.owner), Some(to));
		Ok(())
	}

	#[benchmark]
	fn force_set_pod_aggregator() -> Result<(), BenchmarkError> {
		let origin = admin::<T>()?;
		let (dso, _, pod) = grid::<T>()?;
		let old = participant::<T>("agg", roles::AGGREGATOR).map_err(stop)?;
		represented::<T>(&dso, pod, &old)?;
		let requester = participant::<T>("agg3", roles::AGGREGATOR | roles::DSO).map_err(stop)?;
		Pallet::<T>::do_request_representation(requester, pod)?;
		let new = participant::<T>("agg2", roles::AGGREGATOR | roles::AUDITOR).map_err(stop)?;

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, pod, Some(new.clone()));

		assert_eq!(Pods::<T>::get(pod).and_then(|p| p.aggregator), Some(new));
		Ok(())
	}

	#[benchmark]
	fn check_participant() -> Result<(), BenchmarkError> {
		let who = participant::<T>("caller", roles::AGGREGATOR).map_err(stop)?;
		Pallet::<T>::note_tx(&who);
		let call: T::RuntimeCall = frame_system::Call::<T>::remark { remark: vec![] }.into();
		let info = DispatchInfo::default();
		let ext = CheckParticipant::<T>::new();

		#[block]
		{
			ext.test_run(
				RawOrigin::Signed(who.clone()).into(),
				&call,
				&info,
				0,
				0,
				|_| Ok(PostDispatchInfo::default()),
			)
			.map_err(|_| BenchmarkError::Stop("refused"))?
			.map_err(|_| BenchmarkError::Stop("dispatch failed"))?;
		}

		assert_eq!(Pallet::<T>::tx_used(&who), 2);
		Ok(())
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::ExtBuilder::participants_only().build(),
		crate::mock::Test
	);
}
