//! Runtime API: what off-chain services read from the registry.

// `decl_runtime_apis!` repeats the generic bounds in its expansion.
#![allow(clippy::multiple_bound_locations)]

use crate::types::{AreaId, DeviceInfo, ParticipantInfo, PodId, PodSnapshot};
use alloc::vec::Vec;
use codec::Codec;

sp_api::decl_runtime_apis! {
	pub trait RegistryApi<AccountId: Codec> {
		/// A participant's roles, EIC code, name and status.
		fn participant(who: AccountId) -> Option<ParticipantInfo>;

		/// The PoDs a market session starts from (FR_MP_I_1), with their aggregator and PoMs:
		/// those in `area` or below it (all if `None`), in id order after `after`, at most
		/// `limit`. Page on with the last PoD id returned.
		fn session_snapshot(area: Option<AreaId>, after: Option<PodId>, limit: u32) -> Vec<PodSnapshot<AccountId>>;

		/// The devices a gateway certifies: its ingest accepts these and refuses the rest.
		fn gateway_devices(gateway: AccountId) -> Vec<DeviceInfo>;
	}
}
