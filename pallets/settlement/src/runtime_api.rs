//! Runtime API (through `state_call`): each party reads its own outcomes (FR-MP-SET-06).

// `decl_runtime_apis!` repeats the generic bounds in its expansion.
#![allow(clippy::multiple_bound_locations)]

use alloc::vec::Vec;
use codec::Codec;

use crate::{AwardRef, Outcome, SessionId, Tally};

sp_api::decl_runtime_apis! {
	pub trait SettlementApi<AccountId: Codec> {
		/// The session's outcomes in which `who` is requester, aggregator or validator.
		fn outcomes(session: SessionId, who: AccountId) -> Vec<(AwardRef, Outcome<AccountId>)>;
		/// The session's settlement so far.
		fn tally(session: SessionId) -> Option<Tally>;
	}
}
