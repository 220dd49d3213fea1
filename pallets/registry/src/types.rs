//! Registry records. Every record is bounded (`MaxEncodedLen`), so state per entry is known.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

pub use platone_primitives::DatasetId;

/// A grid area (control area, zone or feeder).
pub type AreaId = u32;
/// A point of delivery (where energy is delivered to or taken from the grid).
pub type PodId = u32;
/// A point of measurement. Its id is also its certification dataset id: one device, one
/// dataset, so the certifier needs no mapping table.
pub type PomId = DatasetId;

/// Role bits of [`Roles`]. Public so that runtimes can name role sets in const generics,
/// e.g. `EnsureRole<Runtime, { roles::DSO | roles::TSO }>`.
pub mod roles {
	pub const DSO: u8 = 1 << 0;
	pub const TSO: u8 = 1 << 1;
	pub const AGGREGATOR: u8 = 1 << 2;
	pub const BALANCE_SERVICE_PROVIDER: u8 = 1 << 3;
	pub const MARKET_OPERATOR: u8 = 1 << 4;
	pub const AUDITOR: u8 = 1 << 5;
	/// The BAL operator whose bridge certifies measurement data.
	pub const GATEWAY: u8 = 1 << 6;
	/// Grid operators: own areas, PoDs and PoMs.
	pub const GRID_OPERATOR: u8 = DSO | TSO;
	pub const ALL: u8 = 0x7f;
}

/// A participant's set of roles, as a bit set of [`roles`]. One participant may hold several
/// (a DSO that also runs its own gateway, say).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub struct Roles(pub u8);

impl Roles {
	/// At least one role, and only known ones.
	pub fn is_valid(self) -> bool {
		self.0 != 0 && self.0 & !roles::ALL == 0
	}

	/// Holds at least one role of `mask`.
	pub fn any_of(self, mask: u8) -> bool {
		self.0 & mask != 0
	}
}

/// Energy Identification Code (ENTSO-E): 16 characters of `A-Z`, `0-9` and `-`. Unique per
/// participant.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub struct Eic(pub [u8; 16]);

impl Eic {
	/// Character set check. The check character is not verified: several national issuers
	/// predate it, and a typo is caught by the duplicate index and the admitting vote.
	pub fn is_well_formed(&self) -> bool {
		self.0
			.iter()
			.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'-')
	}
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
)]
pub enum Status {
	Active,
	/// Keeps its records, but may not transact, certify or act in any role.
	Suspended,
}

/// A market participant.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub struct Participant<Name, BlockNumber> {
	pub roles: Roles,
	pub eic: Eic,
	pub name: Name,
	pub status: Status,
	pub since: BlockNumber,
	/// Records that name this participant (areas owned, PoDs represented, PoMs certified).
	/// A participant can only be removed at zero, so no record ever points at nobody.
	pub links: u32,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum AreaKind {
	/// A TSO's control or bidding area.
	ControlArea,
	/// A DSO zone (primary substation, market zone).
	Zone,
	/// A feeder (MV/LV line), where local congestion is managed.
	Feeder,
}

/// A grid area, owned by the DSO or TSO that operates it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub struct Area<AccountId, Code> {
	pub code: Code,
	pub kind: AreaKind,
	pub parent: Option<AreaId>,
	/// 0 for a top-level area; bounded by `MaxAreaDepth` so ancestry walks are bounded.
	pub depth: u8,
	pub owner: AccountId,
	pub children: u32,
	pub pods: u32,
}

/// A point of delivery in an area, optionally represented by an aggregator.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub struct Pod<AccountId, Code> {
	pub code: Code,
	pub area: AreaId,
	pub aggregator: Option<AccountId>,
	pub poms: u32,
}

#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
	MaxEncodedLen,
	Debug,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum PomKind {
	/// Smart meter (15-minute interval readings).
	Meter,
	/// Phasor measurement unit.
	Pmu,
	/// Any other grid sensor.
	Sensor,
}

/// A device key: the device's ed25519 public key, its identity (the key of its TLS client
/// certificate, or a light node's signing key). The broker and ingest map a connecting device
/// to its PoM with it. A key is bound to a PoM only with the device's signature over
/// [`device_key_message`], so nobody can register a device it does not control.
pub type DeviceKey = [u8; 32];

/// An ed25519 signature by a device key over [`device_key_message`].
pub type DeviceProof = [u8; 64];

/// Domain tag of the message a device signs to consent to its registration.
pub const DEVICE_KEY_CONTEXT: &[u8] = b"platone:pom-device-key:v1";

/// What a device signs to be registered at `pod` by `registrant` on the chain whose genesis
/// hash is `genesis`: `SCALE(DEVICE_KEY_CONTEXT, genesis, registrant, pod, releases)`, where
/// `releases` counts how often the key was unbound before (`KeyReleases`). The genesis hash
/// keeps a proof from being replayed on another chain, the registrant and PoD from being
/// replayed by another operator or at another PoD, the count from binding the key again with
/// an old proof once governance took it back.
pub fn device_key_message<H: Encode, A: Encode>(
	genesis: &H,
	registrant: &A,
	pod: PodId,
	releases: u32,
) -> alloc::vec::Vec<u8> {
	(DEVICE_KEY_CONTEXT, genesis, registrant, pod, releases).encode()
}

/// A point of measurement: one device at one PoD, certified by one gateway.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen, Debug)]
pub struct Pom<AccountId> {
	pub pod: PodId,
	pub kind: PomKind,
	pub device_key: DeviceKey,
	pub gateway: AccountId,
	/// Unix ms from which `gateway` certifies the PoM: windows that start at or after it.
	pub gateway_since_ms: u64,
	/// The gateway before the last handover, with the Unix ms its assignment began and ended:
	/// it may still certify the windows that start in that span, and no others.
	pub previous_gateway: Option<(AccountId, u64, u64)>,
}

/// One PoD as a market session sees it (FR_MP_I_1).
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct PodSnapshot<AccountId> {
	pub pod: PodId,
	pub code: alloc::vec::Vec<u8>,
	pub area: AreaId,
	pub aggregator: Option<AccountId>,
	pub poms: alloc::vec::Vec<(PomId, PomKind)>,
}

/// One device as a gateway's ingest sees it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct DeviceInfo {
	pub pom: PomId,
	pub pod: PodId,
	pub kind: PomKind,
	pub device_key: DeviceKey,
}

/// A participant's public record, for the runtime API.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct ParticipantInfo {
	pub roles: Roles,
	pub eic: Eic,
	pub name: alloc::vec::Vec<u8>,
	pub status: Status,
}

/// What the market and settlement pallets ask the registry.
pub trait ParticipantRegistry<AccountId> {
	/// Active and holding any role of `mask` ([`roles`]).
	fn has_role(who: &AccountId, mask: u8) -> bool;
	/// The aggregator representing `pod`, if any.
	fn pod_aggregator(pod: PodId) -> Option<AccountId>;
	/// The area `pod` lies in.
	fn pod_area(pod: PodId) -> Option<AreaId>;
	/// The DSO or TSO operating `area`.
	fn area_owner(area: AreaId) -> Option<AccountId>;
	/// `area` is `ancestor` or lies (transitively) inside it.
	fn area_within(area: AreaId, ancestor: AreaId) -> bool;
	/// The PoD a PoM measures.
	fn pom_pod(pom: PomId) -> Option<PodId>;
	/// `area`, its parent, and so on up to its top-level area; empty for an unknown area.
	fn area_path(area: AreaId) -> alloc::vec::Vec<AreaId>;
	/// The meter PoMs of `pod`, ascending (at most `MaxPomsPerPod`): what settles its delivery.
	fn pod_meters(pod: PodId) -> alloc::vec::Vec<PomId>;
}

/// Reasons the `CheckParticipant` extension turns a transaction away, as
/// `InvalidTransaction::Custom` codes (shown by RPC as "Custom error: N").
pub mod invalid {
	/// The signer is not a registered participant.
	pub const NOT_A_PARTICIPANT: u8 = 10;
	/// The signer is suspended.
	pub const SUSPENDED: u8 = 11;
	/// The signer used up its transactions for the current rate window.
	pub const RATE_LIMITED: u8 = 12;
}

/// One page of [`PodSnapshot`]s. `next` is where the following page starts (pass it as
/// `after`); `None` once every PoD id was scanned.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct SnapshotPage<AccountId> {
	pub pods: alloc::vec::Vec<PodSnapshot<AccountId>>,
	pub next: Option<PodId>,
}

/// One page of a gateway's [`DeviceInfo`]s; `next` as for [`SnapshotPage`].
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, Debug)]
pub struct DevicePage {
	pub devices: alloc::vec::Vec<DeviceInfo>,
	pub next: Option<PomId>,
}
