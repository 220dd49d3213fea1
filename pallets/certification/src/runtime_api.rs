//! Runtime API (called through `state_call`, no custom RPC): read certificates and anchors, and
//! verify one measurement or market record against them.

// `decl_runtime_apis!` repeats the generic bounds in its expansion.
#![allow(clippy::multiple_bound_locations)]

use alloc::vec::Vec;
use codec::Codec;
use platone_primitives::{AnchorKind, MeasurementProof, MerkleProof, VerifyError, Window};

use crate::{Anchor, Certificate, Subject};

sp_api::decl_runtime_apis! {
	pub trait CertificationApi<AccountId: Codec, BlockNumber: Codec> {
		/// The certificate of a gateway window, if in state.
		fn certificate(gateway: AccountId, window: Window) -> Option<Certificate<BlockNumber>>;
		/// Is this measurement in that certified window?
		fn verify_measurement(gateway: AccountId, window: Window, proof: MeasurementProof) -> Result<(), VerifyError>;
		/// The anchor of a kind and subject, if any.
		fn anchor(kind: AnchorKind, subject: Subject) -> Option<Anchor<AccountId, BlockNumber>>;
		/// Is this market record (canonical bytes) under that anchor?
		fn verify_anchored(kind: AnchorKind, subject: Subject, record: Vec<u8>, proof: MerkleProof) -> Result<(), VerifyError>;
	}
}
