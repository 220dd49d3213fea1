//! Runtime API (called through `state_call`): sessions, each participant's results, and the
//! proofs that an item was in a session's clearing input and an award in its outcome
//! (FR-MP-MOMV-04, FR-MP-BC-02). The input proof verifies against the `ClearingInputs` anchor
//! with `CertificationApi::verify_anchored`; an award proof has two levels: the award to its
//! step's root, and the step's leaf to the `MarketOutcome` anchor.

// `decl_runtime_apis!` repeats the generic bounds in its expansion.
#![allow(clippy::multiple_bound_locations)]

use alloc::vec::Vec;
use codec::{Codec, Decode, Encode};
use platone_primitives::{Hash, MerkleProof};
use scale_info::TypeInfo;

use crate::{AwardRef, FinalResult, ItemId, SessionId, SessionInfo};

/// A sealed request or offer (an `InputLeaf`, SCALE-encoded) and its path to the input root.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct InputProof {
	pub leaf: Vec<u8>,
	pub proof: MerkleProof,
	pub root: Hash,
}

/// An award (an `AwardRecord`, SCALE-encoded) up to the session's outcome root.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct AwardProof {
	pub leaf: Vec<u8>,
	/// The award's path to its step's root.
	pub leaf_proof: MerkleProof,
	/// The step's `StepLeaf`, SCALE-encoded: its root is the root `leaf_proof` reaches.
	pub step_leaf: Vec<u8>,
	/// The step leaf's path to the outcome root.
	pub step_proof: MerkleProof,
	pub root: Hash,
}

sp_api::decl_runtime_apis! {
	pub trait MarketApi<AccountId: Codec> {
		/// A session, if in state.
		fn session(session: SessionId) -> Option<SessionInfo>;
		/// Sessions not yet final, oldest first.
		fn live_sessions() -> Vec<SessionId>;
		/// The awards that concern `who`, as requester, aggregator or validator.
		fn results(session: SessionId, who: AccountId) -> Vec<FinalResult<AccountId>>;
		/// Proof that a request or offer was in the sealed clearing input.
		fn input_proof(session: SessionId, item: ItemId) -> Option<InputProof>;
		/// Proof that an award is in the session's outcome.
		fn award_proof(session: SessionId, award: AwardRef) -> Option<AwardProof>;
	}
}
