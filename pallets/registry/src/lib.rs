//! # Registry pallet
//!
//! Everything on the Platone chain is attributable to a known market participant or device.
//! This pallet keeps who is who (D2.2 §3; FR_MP_I_1):
//!
//! - **Participants** with role sets ([`roles`]): DSO, TSO, aggregator, balance service
//!   provider, market operator, auditor, gateway. Each has an EIC code, a name and a status.
//!   The consortium (`AdminOrigin`) admits, re-roles, suspends, reinstates and removes them.
//! - **Grid areas** (control areas, zones, feeders; each with an optional parent) owned by the
//!   DSO or TSO that registers them.
//! - **PoDs** in an area, registered by the area's operator, each optionally represented by an
//!   aggregator.
//! - **PoMs** (meters, PMUs, sensors) at a PoD, each with its device key and the gateway that
//!   certifies it. A PoM's id is its certification dataset id.
//!
//! Rules: a grid operator registers areas, PoDs and PoMs only in its own areas. An aggregator
//! takes over a PoD when it asks and the PoD's DSO confirms (the DSO holds the customer's
//! contract data and is the party the seed makes responsible for the PoD register; customers
//! hold no chain accounts). A suspended participant can do nothing: the [`CheckParticipant`]
//! extension refuses its transactions and every role check fails.
//!
//! Promises (docs/registry.md states each with the test that holds it):
//! - A device key is bound only with the device's own signature (proof of control): nobody can
//!   lock a competitor out of its device or have its data certified under another PoD.
//!   Governance can take a squatted key back (`force_remove_pom`).
//! - A PoM's gateway certifies from the window after its assignment; the previous gateway keeps
//!   the windows that ended by then, and no later ones.
//! - `AdminOrigin` cannot suspend or remove a council member (`Protected`): the council changes
//!   its own membership only at its own, higher threshold.
//! - A removed participant keeps its account, so its nonce never returns to 0 and its old
//!   transactions can never be replayed after a re-admission.
//! - Every record names a live participant; governance hands records over (`force_*`).
//!
//! Other pallets use [`EnsureRole`] as their origins, `Pallet<T>` as
//! `pallet_certification::CertificationAuthority` ("who may certify dataset X") and as
//! [`ParticipantRegistry`]. The [`runtime_api::RegistryApi`] serves the PoD/PoM snapshot a
//! market session starts from and the device list a gateway's ingest accepts.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod extension;
mod functions;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod runtime_api;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use extension::CheckParticipant;
pub use functions::{
	EnsureAggregator, EnsureAuditor, EnsureBalanceServiceProvider, EnsureDso, EnsureGateway,
	EnsureGridOperator, EnsureMarketOperator, EnsureRole, EnsureTso,
};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{string::String, vec::Vec};
	use frame_support::{
		pallet_prelude::*,
		traits::{Contains, UnixTime},
	};
	use frame_system::pallet_prelude::*;

	/// v1: PoMs carry their gateway's assignment time and previous gateway; `OperatorAreas`
	/// indexes areas by owner; pending representation requests hold a link on their aggregator.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The consortium: admits, re-roles, suspends and removes participants.
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;
		/// Longest participant name, bytes.
		#[pallet::constant]
		type MaxNameLen: Get<u32>;
		/// Longest area or PoD code, bytes.
		#[pallet::constant]
		type MaxCodeLen: Get<u32>;
		/// Deepest area nesting (0 = top level).
		#[pallet::constant]
		type MaxAreaDepth: Get<u8>;
		/// Most PoMs at one PoD.
		#[pallet::constant]
		type MaxPomsPerPod: Get<u32>;
		/// Blocks per rate window of the [`CheckParticipant`] extension.
		#[pallet::constant]
		type RateWindow: Get<BlockNumberFor<Self>>;
		/// Transactions one participant may have included per rate window.
		#[pallet::constant]
		type MaxTxPerWindow: Get<u32>;
		/// Wall-clock time, for gateway handovers.
		type UnixTime: UnixTime;
		/// The certification pallet: datasets' window durations, and their retirement.
		type Datasets: pallet_certification::DatasetLifecycle;
		/// Participants that `AdminOrigin` may neither suspend nor remove: the council's
		/// members, whom only the council's own, higher threshold may change.
		type Protected: Contains<Self::AccountId>;
		/// Accounts that genesis requires to be participants (council members, validator
		/// operators); a genesis without them fails to build.
		type GenesisParticipants: Get<Vec<Self::AccountId>>;
		type WeightInfo: WeightInfo;
	}

	pub type NameOf<T> = BoundedVec<u8, <T as Config>::MaxNameLen>;
	pub type CodeOf<T> = BoundedVec<u8, <T as Config>::MaxCodeLen>;
	pub type ParticipantOf<T> = Participant<NameOf<T>, BlockNumberFor<T>>;
	pub type AreaOf<T> = Area<<T as frame_system::Config>::AccountId, CodeOf<T>>;
	pub type PodOf<T> = Pod<<T as frame_system::Config>::AccountId, CodeOf<T>>;
	pub type PomOf<T> = Pom<<T as frame_system::Config>::AccountId>;

	#[pallet::storage]
	pub type Participants<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, ParticipantOf<T>>;

	/// EIC code → participant; keeps codes unique.
	#[pallet::storage]
	pub type EicIndex<T: Config> = StorageMap<_, Blake2_128Concat, Eic, T::AccountId>;

	#[pallet::storage]
	pub type Areas<T: Config> = StorageMap<_, Twox64Concat, AreaId, AreaOf<T>>;

	/// Area code → area; keeps codes unique.
	#[pallet::storage]
	pub type AreaCodes<T: Config> = StorageMap<_, Blake2_128Concat, CodeOf<T>, AreaId>;

	#[pallet::storage]
	pub type Pods<T: Config> = StorageMap<_, Twox64Concat, PodId, PodOf<T>>;

	/// PoD code → PoD; keeps codes unique.
	#[pallet::storage]
	pub type PodCodes<T: Config> = StorageMap<_, Blake2_128Concat, CodeOf<T>, PodId>;

	/// An aggregator's standing request to represent a PoD, awaiting the DSO. One at a time per
	/// PoD; it links the aggregator, which therefore cannot be removed while it waits.
	#[pallet::storage]
	pub type RepresentationRequests<T: Config> = StorageMap<_, Twox64Concat, PodId, T::AccountId>;

	/// Areas by operator, so that what an operator still owns is known without a scan.
	#[pallet::storage]
	pub type OperatorAreas<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, AreaId, (), OptionQuery>;

	/// How often each device key was unbound (its PoM removed); part of the message its proof
	/// of control signs, so that an old proof never binds the key again.
	#[pallet::storage]
	pub type KeyReleases<T: Config> = StorageMap<_, Blake2_128Concat, DeviceKey, u32, ValueQuery>;

	/// Former participants whose account the registry keeps alive (one sufficient reference),
	/// so that their nonce is never reset and old transactions never replay.
	#[pallet::storage]
	pub type Retired<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, ()>;

	#[pallet::storage]
	pub type Poms<T: Config> = StorageMap<_, Twox64Concat, PomId, PomOf<T>>;

	/// PoMs of each PoD, for session snapshots.
	#[pallet::storage]
	pub type PodPoms<T: Config> =
		StorageDoubleMap<_, Twox64Concat, PodId, Twox64Concat, PomId, (), OptionQuery>;

	/// PoMs each gateway certifies, for its ingest's device list.
	#[pallet::storage]
	pub type GatewayPoms<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Twox64Concat, PomId, (), OptionQuery>;

	/// Device key → PoM; one device, one PoM.
	#[pallet::storage]
	pub type DeviceKeys<T: Config> = StorageMap<_, Blake2_128Concat, DeviceKey, PomId>;

	/// Last id handed out; ids start at 1 and are never reused.
	#[pallet::storage]
	pub type LastAreaId<T: Config> = StorageValue<_, AreaId, ValueQuery>;
	#[pallet::storage]
	pub type LastPodId<T: Config> = StorageValue<_, PodId, ValueQuery>;
	#[pallet::storage]
	pub type LastPomId<T: Config> = StorageValue<_, PomId, ValueQuery>;

	/// Transactions included per participant in its latest rate window: (window index, count).
	#[pallet::storage]
	pub type TxUsage<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, (BlockNumberFor<T>, u32)>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		ParticipantRegistered {
			who: T::AccountId,
			roles: Roles,
			eic: Eic,
		},
		RolesChanged {
			who: T::AccountId,
			roles: Roles,
		},
		ParticipantSuspended {
			who: T::AccountId,
		},
		ParticipantReinstated {
			who: T::AccountId,
		},
		ParticipantRemoved {
			who: T::AccountId,
		},
		AreaRegistered {
			area: AreaId,
			owner: T::AccountId,
			parent: Option<AreaId>,
		},
		AreaRemoved {
			area: AreaId,
		},
		PodRegistered {
			pod: PodId,
			area: AreaId,
		},
		PodRemoved {
			pod: PodId,
		},
		RepresentationRequested {
			pod: PodId,
			aggregator: T::AccountId,
		},
		RepresentationConfirmed {
			pod: PodId,
			aggregator: T::AccountId,
		},
		RepresentationEnded {
			pod: PodId,
			aggregator: T::AccountId,
		},
		/// A pending request was withdrawn by its aggregator or declined by the PoD's DSO.
		RepresentationRequestWithdrawn {
			pod: PodId,
			aggregator: T::AccountId,
		},
		/// The previous gateway of a PoM may no longer certify it.
		HandoverEnded {
			pom: PomId,
			gateway: T::AccountId,
		},
		/// Governance handed an area to another operator.
		AreaTransferred {
			area: AreaId,
			from: T::AccountId,
			to: T::AccountId,
		},
		PomRegistered {
			pom: PomId,
			pod: PodId,
			kind: PomKind,
			gateway: T::AccountId,
		},
		/// The PoM passes to `gateway` for windows from `since_ms` on.
		PomGatewayChanged {
			pom: PomId,
			gateway: T::AccountId,
			since_ms: u64,
		},
		PomRemoved {
			pom: PomId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The account is not a registered participant.
		NotParticipant,
		/// The account is already a participant.
		AlreadyRegistered,
		/// The participant is suspended.
		Suspended,
		/// The participant is not suspended.
		NotSuspended,
		/// The participant lacks the role this needs.
		MissingRole,
		/// No role, or an unknown role bit.
		InvalidRoles,
		/// The EIC code has characters outside `A-Z0-9-`.
		MalformedEic,
		/// Another participant has this EIC code.
		DuplicateEic,
		/// Records still name the participant (areas, PoDs, PoMs, a pending request); hand them
		/// over first (`force_transfer_area`, `force_set_pod_aggregator`,
		/// `force_set_pom_gateway`).
		StillReferenced,
		/// The participant sits on the council: only the council's own threshold changes that.
		CouncilMember,
		/// The new roles would leave areas without a grid operator, or PoMs without a gateway.
		RolesStillNeeded,
		/// Another aggregator's request for this PoD is pending.
		RequestPending,
		/// The device key's signature over the registration does not verify.
		BadDeviceProof,
		/// The PoM has no previous gateway.
		NoHandover,
		/// Empty area or PoD code.
		EmptyCode,
		/// Another area or PoD has this code.
		DuplicateCode,
		UnknownArea,
		/// The caller does not operate this area.
		NotAreaOwner,
		/// Nesting deeper than `MaxAreaDepth`.
		AreaTooDeep,
		/// The area still has sub-areas or PoDs.
		AreaNotEmpty,
		UnknownPod,
		/// The PoD still has PoMs.
		PodNotEmpty,
		/// The aggregator already represents this PoD.
		AlreadyRepresented,
		/// No such pending request from that aggregator.
		NoRequest,
		/// Nobody represents this PoD.
		NotRepresented,
		/// Only the representing aggregator or the PoD's DSO may end the representation.
		NotAggregatorOrOwner,
		UnknownPom,
		/// The device key belongs to another PoM.
		DuplicateDeviceKey,
		/// The PoD has `MaxPomsPerPod` PoMs.
		TooManyPoms,
		/// All ids of this kind are used.
		IdsExhausted,
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Admit a participant.
		///
		/// - Origin: `AdminOrigin` (the consortium).
		/// - Errors: `InvalidRoles`, `MalformedEic`, `AlreadyRegistered`, `DuplicateEic`.
		/// - Events: `ParticipantRegistered`.
		/// - The account becomes able to transact without holding tokens (a sufficient reference).
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register_participant())]
		pub fn register_participant(
			origin: OriginFor<T>,
			who: T::AccountId,
			roles: Roles,
			eic: Eic,
			name: NameOf<T>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_register_participant(who, roles, eic, name)
		}

		/// Replace a participant's roles. Records it already holds stay; new actions need the
		/// new roles. An area's operator keeps a grid-operator role and a PoM's gateway the
		/// gateway role until their records are handed over.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `InvalidRoles`, `NotParticipant`, `RolesStillNeeded`.
		/// - Events: `RolesChanged`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_roles())]
		pub fn set_roles(origin: OriginFor<T>, who: T::AccountId, roles: Roles) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_roles(who, roles)
		}

		/// Suspend a participant: it can no longer transact, certify or act in any role.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `NotParticipant`, `Suspended` (already), `CouncilMember`.
		/// - Events: `ParticipantSuspended`.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::suspend())]
		pub fn suspend(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_status(who, Status::Suspended)
		}

		/// Lift a suspension.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `NotParticipant`, `NotSuspended`.
		/// - Events: `ParticipantReinstated`.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::reinstate())]
		pub fn reinstate(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_status(who, Status::Active)
		}

		/// Remove a participant that no record names any more. Its account stays (with its
		/// nonce), so that its old transactions never replay if it is admitted again.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `NotParticipant`, `StillReferenced`, `CouncilMember`.
		/// - Events: `ParticipantRemoved`.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::remove_participant())]
		pub fn remove_participant(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_remove_participant(who)
		}

		/// Register a grid area the caller operates, optionally inside one of its own areas or,
		/// for a DSO's zone, inside a TSO's control area (the TSO's grid contains it).
		///
		/// - Origin: signed by an active DSO or TSO.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `EmptyCode`, `DuplicateCode`,
		///   `UnknownArea` (parent), `NotAreaOwner` (parent), `AreaTooDeep`, `IdsExhausted`.
		/// - Events: `AreaRegistered`.
		#[pallet::call_index(5)]
		// One read more than the committed weights (2026-12-01): a zone under a TSO's control
		// area checks the TSO's role; the benchmark covers that path from its next run.
		#[pallet::weight(T::WeightInfo::register_area().saturating_add(T::DbWeight::get().reads(1)))]
		pub fn register_area(
			origin: OriginFor<T>,
			code: CodeOf<T>,
			kind: AreaKind,
			parent: Option<AreaId>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_area(who, code, kind, parent).map(|_| ())
		}

		/// Remove an empty area.
		///
		/// - Origin: signed by the area's operator, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownArea`,
		///   `NotAreaOwner`, `AreaNotEmpty`.
		/// - Events: `AreaRemoved`.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::remove_area())]
		pub fn remove_area(origin: OriginFor<T>, area: AreaId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_area(who, area)
		}

		/// Register a PoD in one of the caller's areas.
		///
		/// - Origin: signed by the area's operator (DSO or TSO), active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownArea`,
		///   `NotAreaOwner`, `EmptyCode`, `DuplicateCode`, `IdsExhausted`.
		/// - Events: `PodRegistered`.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::register_pod())]
		pub fn register_pod(origin: OriginFor<T>, code: CodeOf<T>, area: AreaId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_pod(who, code, area).map(|_| ())
		}

		/// Remove a PoD without PoMs; ends its representation.
		///
		/// - Origin: signed by the operator of the PoD's area, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownPod`,
		///   `NotAreaOwner`, `PodNotEmpty`.
		/// - Events: `RepresentationEnded` (if represented), `PodRemoved`.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::remove_pod())]
		pub fn remove_pod(origin: OriginFor<T>, pod: PodId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_remove_pod(who, pod)
		}

		/// Ask to represent a PoD. Takes effect when the PoD's DSO confirms. One request per
		/// PoD at a time: another aggregator's pending request is never overwritten.
		///
		/// - Origin: signed by an active aggregator.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownPod`,
		///   `AlreadyRepresented`, `RequestPending`.
		/// - Events: `RepresentationRequested`.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::request_representation())]
		pub fn request_representation(origin: OriginFor<T>, pod: PodId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_representation(who, pod)
		}

		/// Confirm an aggregator's request: it now represents the PoD, replacing any previous
		/// aggregator.
		///
		/// - Origin: signed by the operator of the PoD's area, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownPod`,
		///   `NotAreaOwner`, `NoRequest`, and the aggregator's own `Suspended`/`MissingRole`
		///   if it lost its standing since asking.
		/// - Events: `RepresentationEnded` (previous aggregator), `RepresentationConfirmed`.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::confirm_representation())]
		pub fn confirm_representation(
			origin: OriginFor<T>,
			pod: PodId,
			aggregator: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_confirm_representation(who, pod, aggregator)
		}

		/// End a PoD's representation.
		///
		/// - Origin: signed by the representing aggregator or the PoD's DSO. A suspended
		///   participant's transactions never reach the chain (`CheckParticipant`), so a
		///   suspended aggregator's PoDs are freed by their DSO or by `force_set_pod_aggregator`.
		/// - Errors: `UnknownPod`, `NotRepresented`, `NotAggregatorOrOwner`.
		/// - Events: `RepresentationEnded`.
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::end_representation())]
		pub fn end_representation(origin: OriginFor<T>, pod: PodId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_end_representation(who, pod)
		}

		/// Register a PoM (device) at a PoD and the gateway that certifies it. Its id, handed
		/// out in `PomRegistered`, is its certification dataset id. `proof` is the device key's
		/// ed25519 signature over [`device_key_message`]`(genesis hash, caller, pod,
		/// KeyReleases[key])`.
		///
		/// - Origin: signed by the operator of the PoD's area, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole` (caller, or gateway without
		///   the gateway role or not active), `UnknownPod`, `NotAreaOwner`, `BadDeviceProof`,
		///   `DuplicateDeviceKey`, `TooManyPoms`, `IdsExhausted`.
		/// - Events: `PomRegistered`.
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::register_pom())]
		pub fn register_pom(
			origin: OriginFor<T>,
			pod: PodId,
			kind: PomKind,
			device_key: DeviceKey,
			gateway: T::AccountId,
			proof: DeviceProof,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register_pom(who, pod, kind, device_key, gateway, Some(proof)).map(|_| ())
		}

		/// Hand a PoM to another gateway. The new gateway certifies the windows that start at
		/// or after the handover, the handover being the next boundary of the dataset's window
		/// grid; the old one only those that end by then, for as long as the lateness bound
		/// lets it catch up. While a handover has not taken effect, another one replaces only
		/// the pending gateway, and handing back to the old gateway cancels it.
		///
		/// - Origin: signed by the operator of the PoM's area, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownPom`,
		///   `NotAreaOwner`.
		/// - Events: `PomGatewayChanged`.
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::set_pom_gateway())]
		pub fn set_pom_gateway(
			origin: OriginFor<T>,
			pom: PomId,
			gateway: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let m = Self::owned_pom(&who, pom)?;
			Self::do_set_pom_gateway(pom, m, gateway)
		}

		/// Decommission a PoM. Its certified windows stay on chain; its id is never reused,
		/// and its dataset can never be certified again (certify its last window first).
		///
		/// - Origin: signed by the operator of the PoM's area, active.
		/// - Errors: `NotParticipant`, `Suspended`, `MissingRole`, `UnknownPom`,
		///   `NotAreaOwner`.
		/// - Events: `PomRemoved`.
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::remove_pom())]
		pub fn remove_pom(origin: OriginFor<T>, pom: PomId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let m = Self::owned_pom(&who, pom)?;
			Self::do_remove_pom(pom, m)
		}

		/// Withdraw a pending representation request (its aggregator) or decline it (the
		/// PoD's DSO).
		///
		/// - Origin: signed by the requesting aggregator or the operator of the PoD's area.
		/// - Errors: `UnknownPod`, `NoRequest`, `NotAggregatorOrOwner`.
		/// - Events: `RepresentationRequestWithdrawn`.
		#[pallet::call_index(15)]
		#[pallet::weight(T::WeightInfo::withdraw_representation_request())]
		pub fn withdraw_representation_request(origin: OriginFor<T>, pod: PodId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_request(who, pod)
		}

		/// Hand an area to another grid operator, e.g. when its operator leaves the
		/// consortium. Its sub-areas, PoDs and PoMs stay where they are.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownArea`, and the new operator's `NotParticipant`, `Suspended`,
		///   `MissingRole`.
		/// - Events: `AreaTransferred`.
		#[pallet::call_index(16)]
		#[pallet::weight(T::WeightInfo::force_transfer_area())]
		pub fn force_transfer_area(
			origin: OriginFor<T>,
			area: AreaId,
			to: T::AccountId,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_transfer_area(area, to)
		}

		/// Set or clear a PoD's aggregator without its DSO, e.g. to free the PoDs of an
		/// aggregator that is suspended or leaving. Clears a pending request.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownPod`, and the aggregator's `NotParticipant`, `Suspended`,
		///   `MissingRole`.
		/// - Events: `RepresentationEnded` (previous aggregator), `RepresentationConfirmed`.
		#[pallet::call_index(17)]
		#[pallet::weight(T::WeightInfo::force_set_pod_aggregator())]
		pub fn force_set_pod_aggregator(
			origin: OriginFor<T>,
			pod: PodId,
			aggregator: Option<T::AccountId>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_force_set_pod_aggregator(pod, aggregator)
		}

		/// Hand a PoM to another gateway without its DSO, with the same handover rule as
		/// `set_pom_gateway`.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownPom`, and the gateway's `NotParticipant`, `Suspended`,
		///   `MissingRole`.
		/// - Events: `PomGatewayChanged`.
		#[pallet::call_index(18)]
		#[pallet::weight(T::WeightInfo::set_pom_gateway())]
		pub fn force_set_pom_gateway(
			origin: OriginFor<T>,
			pom: PomId,
			gateway: T::AccountId,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let m = Poms::<T>::get(pom).ok_or(Error::<T>::UnknownPom)?;
			Self::do_set_pom_gateway(pom, m, gateway)
		}

		/// End the previous gateway's span of a PoM before its lateness bound does: it can no
		/// longer certify the PoM's windows, and no longer holds a link (so it may be removed).
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownPom`, `NoHandover`.
		/// - Events: `HandoverEnded`.
		#[pallet::call_index(20)]
		#[pallet::weight(T::WeightInfo::set_pom_gateway())]
		pub fn force_end_handover(origin: OriginFor<T>, pom: PomId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_end_handover(pom)
		}

		/// Remove a PoM and free its device key, e.g. a key bound before proofs of control
		/// were required, or one in dispute.
		///
		/// - Origin: `AdminOrigin`.
		/// - Errors: `UnknownPom`.
		/// - Events: `PomRemoved`.
		#[pallet::call_index(19)]
		#[pallet::weight(T::WeightInfo::remove_pom())]
		pub fn force_remove_pom(origin: OriginFor<T>, pom: PomId) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let m = Poms::<T>::get(pom).ok_or(Error::<T>::UnknownPom)?;
			Self::do_remove_pom(pom, m)
		}
	}

	/// Genesis records. Strings keep chain specs readable; records refer to each other by code.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `(account, role bits, EIC, name)`.
		pub participants: Vec<(T::AccountId, u8, String, String)>,
		/// `(code, kind, parent code, operator)`; a parent comes before its children.
		pub areas: Vec<(String, AreaKind, Option<String>, T::AccountId)>,
		/// `(code, area code, aggregator)`.
		pub pods: Vec<(String, String, Option<T::AccountId>)>,
		/// `(PoD code, kind, device key, gateway)`; PoM ids are handed out in this order from 1.
		/// Genesis is agreed by every founding member, so its device keys need no proof.
		pub poms: Vec<(String, PomKind, DeviceKey, T::AccountId)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			Pallet::<T>::build_genesis(self);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(
				T::MaxAreaDepth::get() < u8::MAX,
				"MaxAreaDepth must leave room for the area path bound"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}
}
