//! Runtime API: what off-chain services read from the registry.

// `decl_runtime_apis!` repeats the generic bounds in its expansion.
#![allow(clippy::multiple_bound_locations)]

use crate::types::{AreaId, DevicePage, ParticipantInfo, PodId, PomId, SnapshotPage};
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// v2: both lists are pages bounded in what they scan, with a cursor to page on.
	#[api_version(2)]
	pub trait RegistryApi<AccountId: Codec> {
		/// A participant's roles, EIC code, name and status.
		fn participant(who: AccountId) -> Option<ParticipantInfo>;

		/// The PoDs a market session starts from (FR_MP_I_1), with their aggregator and PoMs:
		/// those in `area` or below it (all if `None`), in id order after `after`. Scans at
		/// most `limit` PoD ids (the runtime caps it); page on from `next`.
		fn session_snapshot(area: Option<AreaId>, after: Option<PodId>, limit: u32) -> SnapshotPage<AccountId>;

		/// The devices a gateway certifies, at most `limit` after `after`: its ingest accepts
		/// these and refuses the rest. Page on from `next`.
		fn gateway_devices(gateway: AccountId, after: Option<PomId>, limit: u32) -> DevicePage;
	}
}
