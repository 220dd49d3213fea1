//! The registry's logic, called by the dispatchables, genesis and the traits it provides.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use core::marker::PhantomData;
use frame_support::{
	ensure,
	pallet_prelude::*,
	traits::{Contains, EnsureOrigin, Get, UnixTime},
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_certification::DatasetLifecycle;
use platone_primitives::Window;
use sp_runtime::{traits::Zero, ArithmeticError};

impl<T: Config> Pallet<T> {
	/// The participant, if active and holding any role of `mask`.
	pub(crate) fn ensure_role(who: &T::AccountId, mask: u8) -> Result<ParticipantOf<T>, Error<T>> {
		let p = Participants::<T>::get(who).ok_or(Error::<T>::NotParticipant)?;
		ensure!(p.status == Status::Active, Error::<T>::Suspended);
		ensure!(p.roles.any_of(mask), Error::<T>::MissingRole);
		Ok(p)
	}

	/// Active and holding any role of `mask`.
	pub fn has_role(who: &T::AccountId, mask: u8) -> bool {
		Self::ensure_role(who, mask).is_ok()
	}

	pub(crate) fn link(who: &T::AccountId) -> DispatchResult {
		Participants::<T>::try_mutate(who, |p| {
			let p = p.as_mut().ok_or(Error::<T>::NotParticipant)?;
			p.links = p.links.checked_add(1).ok_or(ArithmeticError::Overflow)?;
			Ok(())
		})
	}

	fn unlink(who: &T::AccountId) {
		Participants::<T>::mutate(who, |p| {
			if let Some(p) = p {
				p.links = p.links.saturating_sub(1);
			}
		});
	}

	/// The area, if `who` operates it as an active grid operator.
	fn owned_area(who: &T::AccountId, area: AreaId) -> Result<AreaOf<T>, DispatchError> {
		Self::ensure_role(who, roles::GRID_OPERATOR)?;
		let a = Areas::<T>::get(area).ok_or(Error::<T>::UnknownArea)?;
		ensure!(a.owner == *who, Error::<T>::NotAreaOwner);
		Ok(a)
	}

	/// The parent a new area of `kind` may have: one `who` operates or, for a DSO's zone, a
	/// TSO's control area. The TSO's grid contains the DSO's, so its requests there reach the
	/// zone's offers, while the DSO keeps operating the zone and validating its awards.
	fn parent_for(
		who: &T::AccountId,
		parent: AreaId,
		kind: AreaKind,
	) -> Result<AreaOf<T>, DispatchError> {
		Self::ensure_role(who, roles::GRID_OPERATOR)?;
		let p = Areas::<T>::get(parent).ok_or(Error::<T>::UnknownArea)?;
		let nests = kind == AreaKind::Zone
			&& p.kind == AreaKind::ControlArea
			&& Self::has_role(who, roles::DSO)
			&& Self::has_role(&p.owner, roles::TSO);
		ensure!(p.owner == *who || nests, Error::<T>::NotAreaOwner);
		Ok(p)
	}

	/// The PoD, if `who` operates its area as an active grid operator.
	fn owned_pod(who: &T::AccountId, pod: PodId) -> Result<PodOf<T>, DispatchError> {
		Self::ensure_role(who, roles::GRID_OPERATOR)?;
		let p = Pods::<T>::get(pod).ok_or(Error::<T>::UnknownPod)?;
		let owner = Areas::<T>::get(p.area).map(|a| a.owner);
		ensure!(owner.as_ref() == Some(who), Error::<T>::NotAreaOwner);
		Ok(p)
	}

	pub fn do_register_participant(
		who: T::AccountId,
		roles: Roles,
		eic: Eic,
		name: NameOf<T>,
	) -> DispatchResult {
		ensure!(roles.is_valid(), Error::<T>::InvalidRoles);
		ensure!(eic.is_well_formed(), Error::<T>::MalformedEic);
		ensure!(
			!Participants::<T>::contains_key(&who),
			Error::<T>::AlreadyRegistered
		);
		ensure!(!EicIndex::<T>::contains_key(eic), Error::<T>::DuplicateEic);
		// Lets the account hold a nonce without tokens: members never buy one to transact. A
		// former participant still holds the reference it was given, and its nonce with it.
		if Retired::<T>::take(&who).is_none() {
			frame_system::Pallet::<T>::inc_sufficients(&who);
		}
		EicIndex::<T>::insert(eic, &who);
		Participants::<T>::insert(
			&who,
			Participant {
				roles,
				eic,
				name,
				status: Status::Active,
				since: frame_system::Pallet::<T>::block_number(),
				links: 0,
			},
		);
		Self::deposit_event(Event::ParticipantRegistered { who, roles, eic });
		Ok(())
	}

	pub fn do_set_roles(who: T::AccountId, roles: Roles) -> DispatchResult {
		ensure!(roles.is_valid(), Error::<T>::InvalidRoles);
		let operates = OperatorAreas::<T>::iter_key_prefix(&who).next().is_some();
		let certifies = GatewayPoms::<T>::iter_key_prefix(&who).next().is_some();
		ensure!(
			(!operates || roles.any_of(roles::GRID_OPERATOR))
				&& (!certifies || roles.any_of(roles::GATEWAY)),
			Error::<T>::RolesStillNeeded
		);
		Participants::<T>::try_mutate(&who, |p| -> DispatchResult {
			p.as_mut().ok_or(Error::<T>::NotParticipant)?.roles = roles;
			Ok(())
		})?;
		Self::deposit_event(Event::RolesChanged { who, roles });
		Ok(())
	}

	pub fn do_set_status(who: T::AccountId, status: Status) -> DispatchResult {
		if status == Status::Suspended {
			ensure!(!T::Protected::contains(&who), Error::<T>::CouncilMember);
		}
		Participants::<T>::try_mutate(&who, |p| -> DispatchResult {
			let p = p.as_mut().ok_or(Error::<T>::NotParticipant)?;
			match (p.status, status) {
				(Status::Suspended, Status::Suspended) => Err(Error::<T>::Suspended.into()),
				(Status::Active, Status::Active) => Err(Error::<T>::NotSuspended.into()),
				_ => {
					p.status = status;
					Ok(())
				}
			}
		})?;
		Self::deposit_event(match status {
			Status::Suspended => Event::ParticipantSuspended { who },
			Status::Active => Event::ParticipantReinstated { who },
		});
		Ok(())
	}

	pub fn do_remove_participant(who: T::AccountId) -> DispatchResult {
		let p = Participants::<T>::get(&who).ok_or(Error::<T>::NotParticipant)?;
		ensure!(!T::Protected::contains(&who), Error::<T>::CouncilMember);
		ensure!(p.links == 0, Error::<T>::StillReferenced);
		Participants::<T>::remove(&who);
		EicIndex::<T>::remove(p.eic);
		TxUsage::<T>::remove(&who);
		// The account keeps its sufficient reference, and so its nonce: were it reaped, the
		// nonce would restart at 0 and the member's old immortal transactions would replay
		// after a re-admission. One account entry per former member is the price.
		Retired::<T>::insert(&who, ());
		Self::deposit_event(Event::ParticipantRemoved { who });
		Ok(())
	}

	fn next_id<I: Copy + Default + PartialEq + sp_runtime::traits::CheckedAdd + From<u8>>(
		last: I,
	) -> Result<I, Error<T>> {
		last.checked_add(&I::from(1u8))
			.ok_or(Error::<T>::IdsExhausted)
	}

	pub fn do_register_area(
		who: T::AccountId,
		code: CodeOf<T>,
		kind: AreaKind,
		parent: Option<AreaId>,
	) -> Result<AreaId, DispatchError> {
		Self::ensure_role(&who, roles::GRID_OPERATOR)?;
		ensure!(!code.is_empty(), Error::<T>::EmptyCode);
		ensure!(
			!AreaCodes::<T>::contains_key(&code),
			Error::<T>::DuplicateCode
		);
		let depth = match parent {
			None => 0,
			Some(parent) => {
				let p = Self::parent_for(&who, parent, kind)?;
				let depth = p.depth.checked_add(1).ok_or(Error::<T>::AreaTooDeep)?;
				ensure!(depth <= T::MaxAreaDepth::get(), Error::<T>::AreaTooDeep);
				depth
			}
		};
		let id = Self::next_id(LastAreaId::<T>::get())?;
		if let Some(parent) = parent {
			Areas::<T>::try_mutate(parent, |a| -> DispatchResult {
				let a = a.as_mut().ok_or(Error::<T>::UnknownArea)?;
				a.children = a.children.checked_add(1).ok_or(ArithmeticError::Overflow)?;
				Ok(())
			})?;
		}
		Self::link(&who)?;
		LastAreaId::<T>::put(id);
		AreaCodes::<T>::insert(&code, id);
		OperatorAreas::<T>::insert(&who, id, ());
		Areas::<T>::insert(
			id,
			Area {
				code,
				kind,
				parent,
				depth,
				owner: who.clone(),
				children: 0,
				pods: 0,
			},
		);
		Self::deposit_event(Event::AreaRegistered {
			area: id,
			owner: who,
			parent,
		});
		Ok(id)
	}

	pub fn do_remove_area(who: T::AccountId, area: AreaId) -> DispatchResult {
		let a = Self::owned_area(&who, area)?;
		ensure!(a.children == 0 && a.pods == 0, Error::<T>::AreaNotEmpty);
		if let Some(parent) = a.parent {
			Areas::<T>::mutate(parent, |p| {
				if let Some(p) = p {
					p.children = p.children.saturating_sub(1);
				}
			});
		}
		Areas::<T>::remove(area);
		AreaCodes::<T>::remove(&a.code);
		OperatorAreas::<T>::remove(&who, area);
		Self::unlink(&who);
		Self::deposit_event(Event::AreaRemoved { area });
		Ok(())
	}

	pub fn do_register_pod(
		who: T::AccountId,
		code: CodeOf<T>,
		area: AreaId,
	) -> Result<PodId, DispatchError> {
		let mut a = Self::owned_area(&who, area)?;
		ensure!(!code.is_empty(), Error::<T>::EmptyCode);
		ensure!(
			!PodCodes::<T>::contains_key(&code),
			Error::<T>::DuplicateCode
		);
		let id = Self::next_id(LastPodId::<T>::get())?;
		a.pods = a.pods.checked_add(1).ok_or(ArithmeticError::Overflow)?;
		Areas::<T>::insert(area, a);
		LastPodId::<T>::put(id);
		PodCodes::<T>::insert(&code, id);
		Pods::<T>::insert(
			id,
			Pod {
				code,
				area,
				aggregator: None,
				poms: 0,
			},
		);
		Self::deposit_event(Event::PodRegistered { pod: id, area });
		Ok(id)
	}

	pub fn do_remove_pod(who: T::AccountId, pod: PodId) -> DispatchResult {
		let p = Self::owned_pod(&who, pod)?;
		ensure!(p.poms == 0, Error::<T>::PodNotEmpty);
		if let Some(aggregator) = p.aggregator {
			Self::unlink(&aggregator);
			Self::deposit_event(Event::RepresentationEnded { pod, aggregator });
		}
		Areas::<T>::mutate(p.area, |a| {
			if let Some(a) = a {
				a.pods = a.pods.saturating_sub(1);
			}
		});
		if let Some(requester) = RepresentationRequests::<T>::take(pod) {
			Self::unlink(&requester);
		}
		PodCodes::<T>::remove(&p.code);
		Pods::<T>::remove(pod);
		Self::deposit_event(Event::PodRemoved { pod });
		Ok(())
	}

	pub fn do_request_representation(who: T::AccountId, pod: PodId) -> DispatchResult {
		Self::ensure_role(&who, roles::AGGREGATOR)?;
		let p = Pods::<T>::get(pod).ok_or(Error::<T>::UnknownPod)?;
		ensure!(
			p.aggregator.as_ref() != Some(&who),
			Error::<T>::AlreadyRepresented
		);
		match RepresentationRequests::<T>::get(pod) {
			Some(pending) if pending == who => return Ok(()),
			Some(_) => return Err(Error::<T>::RequestPending.into()),
			None => {}
		}
		Self::link(&who)?;
		RepresentationRequests::<T>::insert(pod, &who);
		Self::deposit_event(Event::RepresentationRequested {
			pod,
			aggregator: who,
		});
		Ok(())
	}

	pub fn do_confirm_representation(
		who: T::AccountId,
		pod: PodId,
		aggregator: T::AccountId,
	) -> DispatchResult {
		let mut p = Self::owned_pod(&who, pod)?;
		ensure!(
			RepresentationRequests::<T>::get(pod).as_ref() == Some(&aggregator),
			Error::<T>::NoRequest
		);
		Self::ensure_role(&aggregator, roles::AGGREGATOR)?;
		// The request's link becomes the representation's.
		if let Some(previous) = p.aggregator.replace(aggregator.clone()) {
			Self::unlink(&previous);
			Self::deposit_event(Event::RepresentationEnded {
				pod,
				aggregator: previous,
			});
		}
		RepresentationRequests::<T>::remove(pod);
		Pods::<T>::insert(pod, p);
		Self::deposit_event(Event::RepresentationConfirmed { pod, aggregator });
		Ok(())
	}

	pub fn do_end_representation(who: T::AccountId, pod: PodId) -> DispatchResult {
		let mut p = Pods::<T>::get(pod).ok_or(Error::<T>::UnknownPod)?;
		let aggregator = p.aggregator.clone().ok_or(Error::<T>::NotRepresented)?;
		let owner = Areas::<T>::get(p.area).map(|a| a.owner);
		ensure!(
			who == aggregator || owner.as_ref() == Some(&who),
			Error::<T>::NotAggregatorOrOwner
		);
		p.aggregator = None;
		Pods::<T>::insert(pod, p);
		Self::unlink(&aggregator);
		Self::deposit_event(Event::RepresentationEnded { pod, aggregator });
		Ok(())
	}

	pub fn do_withdraw_request(who: T::AccountId, pod: PodId) -> DispatchResult {
		let p = Pods::<T>::get(pod).ok_or(Error::<T>::UnknownPod)?;
		let requester = RepresentationRequests::<T>::get(pod).ok_or(Error::<T>::NoRequest)?;
		let owner = Areas::<T>::get(p.area).map(|a| a.owner);
		ensure!(
			who == requester || owner.as_ref() == Some(&who),
			Error::<T>::NotAggregatorOrOwner
		);
		RepresentationRequests::<T>::remove(pod);
		Self::unlink(&requester);
		Self::deposit_event(Event::RepresentationRequestWithdrawn {
			pod,
			aggregator: requester,
		});
		Ok(())
	}

	pub fn do_transfer_area(area: AreaId, to: T::AccountId) -> DispatchResult {
		let mut a = Areas::<T>::get(area).ok_or(Error::<T>::UnknownArea)?;
		Self::ensure_role(&to, roles::GRID_OPERATOR)?;
		if a.owner == to {
			return Ok(());
		}
		Self::link(&to)?;
		Self::unlink(&a.owner);
		OperatorAreas::<T>::remove(&a.owner, area);
		OperatorAreas::<T>::insert(&to, area, ());
		let from = core::mem::replace(&mut a.owner, to.clone());
		Areas::<T>::insert(area, a);
		Self::deposit_event(Event::AreaTransferred { area, from, to });
		Ok(())
	}

	pub fn do_force_set_pod_aggregator(
		pod: PodId,
		aggregator: Option<T::AccountId>,
	) -> DispatchResult {
		let mut p = Pods::<T>::get(pod).ok_or(Error::<T>::UnknownPod)?;
		if let Some(new) = &aggregator {
			Self::ensure_role(new, roles::AGGREGATOR)?;
			Self::link(new)?;
		}
		if let Some(requester) = RepresentationRequests::<T>::take(pod) {
			Self::unlink(&requester);
		}
		if let Some(previous) = core::mem::replace(&mut p.aggregator, aggregator.clone()) {
			Self::unlink(&previous);
			Self::deposit_event(Event::RepresentationEnded {
				pod,
				aggregator: previous,
			});
		}
		Pods::<T>::insert(pod, p);
		if let Some(aggregator) = aggregator {
			Self::deposit_event(Event::RepresentationConfirmed { pod, aggregator });
		}
		Ok(())
	}

	/// Checks a device's proof of control: its key's signature over the registration.
	fn check_device_proof(
		registrant: &T::AccountId,
		pod: PodId,
		device_key: &DeviceKey,
		proof: &DeviceProof,
	) -> DispatchResult {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let releases = KeyReleases::<T>::get(device_key);
		let message = device_key_message(&genesis, registrant, pod, releases);
		let ok = sp_io::crypto::ed25519_verify(
			&sp_core::ed25519::Signature::from_raw(*proof),
			&message,
			&sp_core::ed25519::Public::from_raw(*device_key),
		);
		ensure!(ok, Error::<T>::BadDeviceProof);
		Ok(())
	}

	/// Registers a PoM; `proof` is `None` only for genesis records, which every founding
	/// member agreed.
	pub fn do_register_pom(
		who: T::AccountId,
		pod: PodId,
		kind: PomKind,
		device_key: DeviceKey,
		gateway: T::AccountId,
		proof: Option<DeviceProof>,
	) -> Result<PomId, DispatchError> {
		let mut p = Self::owned_pod(&who, pod)?;
		Self::ensure_role(&gateway, roles::GATEWAY)?;
		if let Some(proof) = proof {
			Self::check_device_proof(&who, pod, &device_key, &proof)?;
		}
		ensure!(
			!DeviceKeys::<T>::contains_key(device_key),
			Error::<T>::DuplicateDeviceKey
		);
		ensure!(p.poms < T::MaxPomsPerPod::get(), Error::<T>::TooManyPoms);
		let id = Self::next_id(LastPomId::<T>::get())?;
		Self::link(&gateway)?;
		p.poms = p.poms.saturating_add(1);
		Pods::<T>::insert(pod, p);
		LastPomId::<T>::put(id);
		Self::insert_pom(
			id,
			Pom {
				pod,
				kind,
				device_key,
				gateway: gateway.clone(),
				gateway_since_ms: 0,
				previous_gateway: None,
			},
		);
		Self::deposit_event(Event::PomRegistered {
			pom: id,
			pod,
			kind,
			gateway,
		});
		Ok(id)
	}

	pub(crate) fn insert_pom(id: PomId, pom: PomOf<T>) {
		DeviceKeys::<T>::insert(pom.device_key, id);
		PodPoms::<T>::insert(pom.pod, id, ());
		GatewayPoms::<T>::insert(&pom.gateway, id, ());
		Poms::<T>::insert(id, pom);
	}

	/// The PoM, if `who` operates its area as an active grid operator.
	pub(crate) fn owned_pom(who: &T::AccountId, pom: PomId) -> Result<PomOf<T>, DispatchError> {
		let m = Poms::<T>::get(pom).ok_or(Error::<T>::UnknownPom)?;
		Self::owned_pod(who, m.pod)?;
		Ok(m)
	}

	/// Wall-clock time of the current block, Unix ms.
	fn now_ms() -> u64 {
		u64::try_from(T::UnixTime::now().as_millis()).unwrap_or(u64::MAX)
	}

	/// When a handover made now takes effect: the next boundary of the dataset's window grid,
	/// so that every window belongs to exactly one gateway. Before the dataset's first
	/// certificate its duration is unknown, and the handover is now.
	fn handover_ms(pom: PomId) -> u64 {
		let now = Self::now_ms();
		match T::Datasets::window_ms(pom).map(u64::from) {
			Some(d) if d > 0 => now.div_ceil(d).saturating_mul(d),
			_ => now,
		}
	}

	pub fn do_set_pom_gateway(
		pom: PomId,
		mut m: PomOf<T>,
		gateway: T::AccountId,
	) -> DispatchResult {
		Self::ensure_role(&gateway, roles::GATEWAY)?;
		if m.gateway == gateway {
			return Ok(());
		}
		Self::link(&gateway)?;
		GatewayPoms::<T>::remove(&m.gateway, pom);
		GatewayPoms::<T>::insert(&gateway, pom, ());
		let old = core::mem::replace(&mut m.gateway, gateway.clone());
		let since_ms = if m.gateway_since_ms > Self::now_ms() {
			// The last handover has not taken effect yet: only the pending gateway changes,
			// and the previous gateway keeps its span. Handing back to it cancels the handover.
			Self::unlink(&old);
			match m.previous_gateway.take() {
				Some((previous, from, _)) if previous == gateway => {
					// Its link as the previous gateway becomes its link as the current one.
					Self::unlink(&gateway);
					m.gateway_since_ms = from;
				}
				kept => m.previous_gateway = kept,
			}
			m.gateway_since_ms
		} else {
			// The old gateway keeps its link while it may still certify its span.
			if let Some((previous, _, _)) = &m.previous_gateway {
				Self::unlink(previous);
			}
			let since_ms = Self::handover_ms(pom);
			m.previous_gateway = Some((old, m.gateway_since_ms, since_ms));
			m.gateway_since_ms = since_ms;
			T::Datasets::split(pom, since_ms);
			since_ms
		};
		Poms::<T>::insert(pom, m);
		Self::deposit_event(Event::PomGatewayChanged {
			pom,
			gateway,
			since_ms,
		});
		Ok(())
	}

	pub fn do_end_handover(pom: PomId) -> DispatchResult {
		let mut m = Poms::<T>::get(pom).ok_or(Error::<T>::UnknownPom)?;
		let (gateway, _, _) = m.previous_gateway.take().ok_or(Error::<T>::NoHandover)?;
		Self::unlink(&gateway);
		Poms::<T>::insert(pom, m);
		Self::deposit_event(Event::HandoverEnded { pom, gateway });
		Ok(())
	}

	pub fn do_remove_pom(pom: PomId, m: PomOf<T>) -> DispatchResult {
		T::Datasets::retire(pom);
		Pods::<T>::mutate(m.pod, |p| {
			if let Some(p) = p {
				p.poms = p.poms.saturating_sub(1);
			}
		});
		Self::unlink(&m.gateway);
		if let Some((previous, _, _)) = &m.previous_gateway {
			Self::unlink(previous);
		}
		GatewayPoms::<T>::remove(&m.gateway, pom);
		PodPoms::<T>::remove(m.pod, pom);
		DeviceKeys::<T>::remove(m.device_key);
		// A proof of control made for this binding can never bind the key again.
		KeyReleases::<T>::mutate(m.device_key, |n| *n = n.saturating_add(1));
		Poms::<T>::remove(pom);
		Self::deposit_event(Event::PomRemoved { pom });
		Ok(())
	}

	/// Index of the rate window `now` falls in.
	pub(crate) fn rate_window(now: BlockNumberFor<T>) -> BlockNumberFor<T> {
		let len = T::RateWindow::get();
		if len == 0u32.into() {
			now
		} else {
			now / len
		}
	}

	/// Transactions `who` had included in the current rate window.
	pub(crate) fn tx_used(who: &T::AccountId) -> u32 {
		let window = Self::rate_window(frame_system::Pallet::<T>::block_number());
		match TxUsage::<T>::get(who) {
			Some((w, used)) if w == window => used,
			_ => 0,
		}
	}

	pub(crate) fn note_tx(who: &T::AccountId) {
		let window = Self::rate_window(frame_system::Pallet::<T>::block_number());
		let used = Self::tx_used(who).saturating_add(1);
		TxUsage::<T>::insert(who, (window, used));
	}

	/// `area` and its ancestors, nearest first (at most `MaxAreaDepth + 1`).
	pub fn area_path(area: AreaId) -> Vec<AreaId> {
		let mut path = Vec::new();
		let mut next = Some(area);
		while let Some(id) = next {
			if path.len() > usize::from(T::MaxAreaDepth::get()) {
				break;
			}
			path.push(id);
			next = Areas::<T>::get(id).and_then(|a| a.parent);
		}
		path
	}

	pub fn participant_info(who: &T::AccountId) -> Option<ParticipantInfo> {
		Participants::<T>::get(who).map(|p| ParticipantInfo {
			roles: p.roles,
			eic: p.eic,
			name: p.name.into_inner(),
			status: p.status,
		})
	}

	/// PoDs (in `area` or below it, if given) with their PoMs, in id order after `after`.
	/// Scans at most `limit` PoD ids, whatever the filter keeps, so one call costs at most
	/// `limit` PoD reads (each with its area path and PoMs); page on from `next`.
	pub fn session_snapshot(
		area: Option<AreaId>,
		after: Option<PodId>,
		limit: u32,
	) -> SnapshotPage<T::AccountId> {
		// At least one id per page, so that paging always progresses.
		let limit = limit.max(1);
		let mut pods = Vec::new();
		let mut id = after.unwrap_or(0);
		let last = LastPodId::<T>::get();
		let mut scanned = 0u32;
		while id < last && scanned < limit {
			id = id.saturating_add(1);
			scanned = scanned.saturating_add(1);
			let Some(pod) = Pods::<T>::get(id) else {
				continue;
			};
			if let Some(area) = area {
				if !Self::area_path(pod.area).contains(&area) {
					continue;
				}
			}
			let poms = PodPoms::<T>::iter_key_prefix(id)
				.filter_map(|pom| Poms::<T>::get(pom).map(|m| (pom, m.kind)))
				.collect();
			pods.push(PodSnapshot {
				pod: id,
				code: pod.code.into_inner(),
				area: pod.area,
				aggregator: pod.aggregator,
				poms,
			});
		}
		SnapshotPage {
			pods,
			next: (id < last).then_some(id),
		}
	}

	/// The devices `gateway` certifies, for its ingest's allow-list: at most `limit` after
	/// `after`, in storage order; page on from `next`.
	pub fn gateway_devices(gateway: &T::AccountId, after: Option<PomId>, limit: u32) -> DevicePage {
		let iter = match after {
			Some(after) => GatewayPoms::<T>::iter_key_prefix_from(
				gateway,
				GatewayPoms::<T>::hashed_key_for(gateway, after),
			),
			None => GatewayPoms::<T>::iter_key_prefix(gateway),
		};
		let limit = limit.max(1);
		let mut devices = Vec::new();
		let mut next = None;
		for pom in iter {
			if devices.len() as u32 >= limit {
				next = devices.last().map(|d: &DeviceInfo| d.pom);
				break;
			}
			if let Some(m) = Poms::<T>::get(pom) {
				devices.push(DeviceInfo {
					pom,
					pod: m.pod,
					kind: m.kind,
					device_key: m.device_key,
				});
			}
		}
		DevicePage { devices, next }
	}

	pub(crate) fn build_genesis(config: &GenesisConfig<T>) {
		fn bounded<S: Get<u32>>(s: &str, what: &str) -> BoundedVec<u8, S> {
			BoundedVec::try_from(s.as_bytes().to_vec())
				.unwrap_or_else(|_| panic!("genesis: {what} {s:?} is too long"))
		}
		for (who, roles, eic, name) in &config.participants {
			let eic: [u8; 16] = eic
				.as_bytes()
				.try_into()
				.unwrap_or_else(|_| panic!("genesis: EIC {eic:?} is not 16 characters"));
			Self::do_register_participant(
				who.clone(),
				Roles(*roles),
				Eic(eic),
				bounded(name, "name"),
			)
			.unwrap_or_else(|e| panic!("genesis: participant {name:?}: {e:?}"));
		}
		for (code, kind, parent, owner) in &config.areas {
			let parent = parent.as_ref().map(|p| {
				AreaCodes::<T>::get(bounded::<T::MaxCodeLen>(p, "area")).unwrap_or_else(|| {
					panic!("genesis: parent area {p:?} comes later or not at all")
				})
			});
			Self::do_register_area(owner.clone(), bounded(code, "area code"), *kind, parent)
				.unwrap_or_else(|e| panic!("genesis: area {code:?}: {e:?}"));
		}
		for (code, area, aggregator) in &config.pods {
			let area_id = AreaCodes::<T>::get(bounded::<T::MaxCodeLen>(area, "area"))
				.unwrap_or_else(|| panic!("genesis: unknown area {area:?}"));
			let owner = Areas::<T>::get(area_id)
				.map(|a| a.owner)
				.expect("indexed area exists");
			let pod = Self::do_register_pod(owner.clone(), bounded(code, "PoD code"), area_id)
				.unwrap_or_else(|e| panic!("genesis: PoD {code:?}: {e:?}"));
			if let Some(aggregator) = aggregator {
				Self::do_request_representation(aggregator.clone(), pod)
					.and_then(|_| Self::do_confirm_representation(owner, pod, aggregator.clone()))
					.unwrap_or_else(|e| panic!("genesis: aggregator of {code:?}: {e:?}"));
			}
		}
		for (pod, kind, key, gateway) in &config.poms {
			let pod_id = PodCodes::<T>::get(bounded::<T::MaxCodeLen>(pod, "PoD"))
				.unwrap_or_else(|| panic!("genesis: unknown PoD {pod:?}"));
			let area = Pods::<T>::get(pod_id)
				.map(|p| p.area)
				.expect("indexed PoD exists");
			let owner = Areas::<T>::get(area)
				.map(|a| a.owner)
				.expect("PoD's area exists");
			Self::do_register_pom(owner, pod_id, *kind, *key, gateway.clone(), None)
				.unwrap_or_else(|e| panic!("genesis: PoM at {pod:?}: {e:?}"));
		}
		for who in T::GenesisParticipants::get() {
			assert!(
				Participants::<T>::contains_key(&who),
				"genesis: council member or validator operator {who:?} is no participant"
			);
		}
	}

	/// Every index agrees with the records it indexes, counts and links match, no record
	/// points at a missing one, and every area's operator holds a grid-operator role. Linear
	/// in the number of records (one pass per map, counts kept in maps). Also used by tests.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut links: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		let mut bump = |who: &T::AccountId| *links.entry(who.clone()).or_default() += 1;
		let mut participants = 0usize;
		for (who, p) in Participants::<T>::iter() {
			participants += 1;
			ensure!(
				EicIndex::<T>::get(p.eic) == Some(who.clone()),
				"EIC index disagrees"
			);
			ensure!(p.roles.is_valid(), "participant without valid roles");
			ensure!(
				!Retired::<T>::contains_key(&who),
				"a participant is also retired"
			);
		}
		ensure!(
			EicIndex::<T>::iter().count() == participants,
			"stale EIC index entries"
		);
		let mut children: BTreeMap<AreaId, u32> = BTreeMap::new();
		let mut area_pods: BTreeMap<AreaId, u32> = BTreeMap::new();
		let mut areas = 0usize;
		for (id, a) in Areas::<T>::iter() {
			areas += 1;
			ensure!(
				id <= LastAreaId::<T>::get(),
				"area id beyond the last handed out"
			);
			ensure!(
				AreaCodes::<T>::get(&a.code) == Some(id),
				"area code index disagrees"
			);
			let owner = Participants::<T>::get(&a.owner).ok_or("area owner is no participant")?;
			ensure!(
				owner.roles.any_of(roles::GRID_OPERATOR),
				"area owner holds no grid-operator role"
			);
			ensure!(
				OperatorAreas::<T>::contains_key(&a.owner, id),
				"operator index misses an area"
			);
			bump(&a.owner);
			match a.parent {
				None => ensure!(a.depth == 0, "top-level area with depth"),
				Some(parent) => {
					let p = Areas::<T>::get(parent).ok_or("area's parent is missing")?;
					ensure!(p.depth.saturating_add(1) == a.depth, "area depth is off");
					*children.entry(parent).or_default() += 1;
				}
			}
			ensure!(a.depth <= T::MaxAreaDepth::get(), "area too deep");
		}
		ensure!(
			AreaCodes::<T>::iter().count() == areas,
			"stale area code entries"
		);
		ensure!(
			OperatorAreas::<T>::iter().count() == areas,
			"stale operator index entries"
		);
		let mut pod_poms: BTreeMap<PodId, u32> = BTreeMap::new();
		let mut poms = 0usize;
		for (id, m) in Poms::<T>::iter() {
			poms += 1;
			ensure!(
				id <= LastPomId::<T>::get(),
				"PoM id beyond the last handed out"
			);
			ensure!(
				PodPoms::<T>::contains_key(m.pod, id),
				"PoM missing from its PoD's list"
			);
			ensure!(Pods::<T>::contains_key(m.pod), "PoM's PoD is missing");
			ensure!(
				DeviceKeys::<T>::get(m.device_key) == Some(id),
				"device key index disagrees"
			);
			ensure!(
				GatewayPoms::<T>::contains_key(&m.gateway, id),
				"gateway index disagrees"
			);
			ensure!(
				Participants::<T>::contains_key(&m.gateway),
				"gateway is no participant"
			);
			if let Some((previous, from, until)) = &m.previous_gateway {
				ensure!(
					*until == m.gateway_since_ms && from <= until,
					"handover times disagree"
				);
				ensure!(
					Participants::<T>::contains_key(previous),
					"previous gateway is no participant"
				);
				bump(previous);
			}
			*pod_poms.entry(m.pod).or_default() += 1;
			bump(&m.gateway);
		}
		let mut pods = 0usize;
		for (id, p) in Pods::<T>::iter() {
			pods += 1;
			ensure!(
				id <= LastPodId::<T>::get(),
				"PoD id beyond the last handed out"
			);
			ensure!(
				PodCodes::<T>::get(&p.code) == Some(id),
				"PoD code index disagrees"
			);
			ensure!(Areas::<T>::contains_key(p.area), "PoD's area is missing");
			*area_pods.entry(p.area).or_default() += 1;
			if let Some(agg) = &p.aggregator {
				ensure!(
					Participants::<T>::contains_key(agg),
					"aggregator is no participant"
				);
				bump(agg);
			}
			ensure!(
				pod_poms.get(&id).copied().unwrap_or(0) == p.poms,
				"PoD's PoM count is off"
			);
			ensure!(p.poms <= T::MaxPomsPerPod::get(), "too many PoMs at a PoD");
		}
		ensure!(
			PodCodes::<T>::iter().count() == pods,
			"stale PoD code entries"
		);
		for (id, a) in Areas::<T>::iter() {
			ensure!(
				children.get(&id).copied().unwrap_or(0) == a.children,
				"area child count is off"
			);
			ensure!(
				area_pods.get(&id).copied().unwrap_or(0) == a.pods,
				"area PoD count is off"
			);
		}
		for (pod, requester) in RepresentationRequests::<T>::iter() {
			ensure!(Pods::<T>::contains_key(pod), "request for a missing PoD");
			ensure!(
				Participants::<T>::contains_key(&requester),
				"request by no participant"
			);
			bump(&requester);
		}
		ensure!(DeviceKeys::<T>::iter().count() == poms, "stale device keys");
		ensure!(
			PodPoms::<T>::iter().count() == poms,
			"stale PoD-PoM entries"
		);
		ensure!(
			GatewayPoms::<T>::iter().count() == poms,
			"stale gateway-PoM entries"
		);
		for (who, p) in Participants::<T>::iter() {
			ensure!(
				links.get(&who).copied().unwrap_or(0) == p.links,
				"participant link count is off"
			);
		}
		Ok(())
	}
}

/// Origin of an active participant holding any role of `MASK` ([`roles`]); yields its account.
/// `EnsureRole<Runtime, { roles::GATEWAY }>` admits gateways, say.
pub struct EnsureRole<T, const MASK: u8>(PhantomData<T>);

pub type EnsureDso<T> = EnsureRole<T, { roles::DSO }>;
pub type EnsureTso<T> = EnsureRole<T, { roles::TSO }>;
pub type EnsureGridOperator<T> = EnsureRole<T, { roles::GRID_OPERATOR }>;
pub type EnsureAggregator<T> = EnsureRole<T, { roles::AGGREGATOR }>;
pub type EnsureBalanceServiceProvider<T> = EnsureRole<T, { roles::BALANCE_SERVICE_PROVIDER }>;
pub type EnsureMarketOperator<T> = EnsureRole<T, { roles::MARKET_OPERATOR }>;
pub type EnsureAuditor<T> = EnsureRole<T, { roles::AUDITOR }>;
pub type EnsureGateway<T> = EnsureRole<T, { roles::GATEWAY }>;

impl<T: Config, const MASK: u8> EnsureOrigin<T::RuntimeOrigin> for EnsureRole<T, MASK> {
	type Success = T::AccountId;

	fn try_origin(o: T::RuntimeOrigin) -> Result<Self::Success, T::RuntimeOrigin> {
		match o.clone().into() {
			Ok(frame_system::RawOrigin::Signed(who)) if Pallet::<T>::has_role(&who, MASK) => {
				Ok(who)
			}
			_ => Err(o),
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn try_successful_origin() -> Result<T::RuntimeOrigin, ()> {
		let who = crate::benchmarking::participant::<T>("role", MASK)?;
		Ok(frame_system::RawOrigin::Signed(who).into())
	}
}

impl<T: Config> ParticipantRegistry<T::AccountId> for Pallet<T> {
	fn has_role(who: &T::AccountId, mask: u8) -> bool {
		Pallet::<T>::has_role(who, mask)
	}

	fn pod_aggregator(pod: PodId) -> Option<T::AccountId> {
		Pods::<T>::get(pod).and_then(|p| p.aggregator)
	}

	fn pod_area(pod: PodId) -> Option<AreaId> {
		Pods::<T>::get(pod).map(|p| p.area)
	}

	fn area_owner(area: AreaId) -> Option<T::AccountId> {
		Areas::<T>::get(area).map(|a| a.owner)
	}

	fn area_within(area: AreaId, ancestor: AreaId) -> bool {
		Areas::<T>::contains_key(area) && Self::area_path(area).contains(&ancestor)
	}

	fn pom_pod(pom: PomId) -> Option<PodId> {
		Poms::<T>::get(pom).map(|m| m.pod)
	}

	fn area_path(area: AreaId) -> Vec<AreaId> {
		if Areas::<T>::contains_key(area) {
			Pallet::<T>::area_path(area)
		} else {
			Vec::new()
		}
	}

	fn pod_meters(pod: PodId) -> Vec<PomId> {
		let mut meters: Vec<PomId> = PodPoms::<T>::iter_key_prefix(pod)
			.filter(|pom| Poms::<T>::get(pom).is_some_and(|m| m.kind == PomKind::Meter))
			.collect();
		meters.sort_unstable();
		meters
	}
}

impl<T: Config> pallet_certification::CertificationAuthority<T::AccountId> for Pallet<T> {
	/// The PoM's gateway for the windows that start at or after its assignment, the previous
	/// gateway for those that start within its own assignment; either only while it is active
	/// and holds the gateway role.
	fn can_certify(gateway: &T::AccountId, dataset: DatasetId, window: &Window) -> bool {
		let Some(m) = Poms::<T>::get(dataset) else {
			return false;
		};
		let assigned = (m.gateway == *gateway && window.start_ms >= m.gateway_since_ms)
			|| m.previous_gateway
				.as_ref()
				.is_some_and(|(old, from, until)| {
					old == gateway
						&& window.start_ms >= *from
						&& window.end_ms().is_some_and(|end| end <= *until)
				});
		assigned && Self::has_role(gateway, roles::GATEWAY)
	}

	fn assigned_at(gateway: &T::AccountId, dataset: DatasetId, time_ms: u64) -> bool {
		Poms::<T>::get(dataset).is_some_and(|m| {
			(m.gateway == *gateway && time_ms >= m.gateway_since_ms)
				|| m.previous_gateway
					.as_ref()
					.is_some_and(|(old, from, until)| {
						old == gateway && (*from..*until).contains(&time_ms)
					})
		})
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn authorize(gateway: &T::AccountId, dataset: DatasetId) {
		crate::benchmarking::authorize::<T>(gateway, dataset);
	}
}
