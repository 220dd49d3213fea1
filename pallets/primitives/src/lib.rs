//! Everything the runtime and the off-chain code must compute identically, in one `no_std`
//! crate (FR-BAP-DM-02, FR-MP-BC-01/02):
//!
//! - [`measurement`]: the canonical SCALE encoding of a measurement record;
//! - [`merkle`]: an RFC 6962-style binary Merkle tree over BLAKE2-256, with domain-separated
//!   leaf and node hashes, inclusion proofs and their verification;
//! - [`certificate`]: certification windows, per-dataset roots, the window root over them and
//!   the two-level proof that ties one measurement to a certified window.
//!
//! The runtime hashes through the `sp_io` host function by implementing [`merkle::Hasher`];
//! off-chain code uses [`merkle::Blake2_256`]. Both are plain BLAKE2b with a 32-byte output.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod certificate;
pub mod measurement;
pub mod merkle;

pub use certificate::{
	verify_measurement, verify_record, window_root, AnchorKind, DatasetId, DatasetRoot,
	MeasurementProof, Placement, VerifyError, Window, MAX_LATENESS_MS,
};
pub use measurement::{
	Accumulation, EnergyQuantity, MeasurementRecord, MeterInterval, MeterRead, Phasor, PmuSample,
	Quantity, Reading, ReadingQuality, SensorValue,
};
pub use merkle::{Blake2_256, Hash, Hasher, MerkleProof, MerkleTree, ProofError};
