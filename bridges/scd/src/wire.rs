//! The proof document: what the SCD's API serves for one measurement and what `platone verify`
//! checks against the chain. JSON; byte strings are `0x`-prefixed hex.

use platone_primitives::{DatasetRoot, Hash, MeasurementProof, MerkleProof, Window};
use serde::{Deserialize, Serialize};

use crate::{Error, Proven, Result};

/// Version of the document format.
pub const PROOF_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProofDocument {
	pub version: u32,
	/// The gateway account that certified the window (32 bytes).
	pub gateway: String,
	pub dataset: u64,
	pub timestamp_us: u64,
	pub sequence: u32,
	/// Certified in a later window than its own (the late-data rule).
	pub late: bool,
	/// The measurement's canonical bytes (`MeasurementRecord`, SCALE).
	pub record: String,
	pub window: WindowDoc,
	pub leaf_proof: PathDoc,
	pub dataset_root: DatasetRootDoc,
	pub dataset_proof: PathDoc,
	/// The window root the SCD says the chain holds.
	pub window_root: String,
	/// Where the SCD recorded the certificate on chain, if it has.
	pub certified_in: Option<ChainRefDoc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WindowDoc {
	pub start_ms: u64,
	pub duration_ms: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PathDoc {
	pub leaf_index: u64,
	pub leaf_count: u64,
	pub siblings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DatasetRootDoc {
	pub dataset: u64,
	pub leaf_count: u64,
	pub root: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChainRefDoc {
	pub block_number: u64,
	pub block_hash: String,
	pub extrinsic_index: Option<u32>,
	pub event: String,
}

pub fn to_hex(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

pub fn from_hex(s: &str) -> Result<Vec<u8>> {
	hex::decode(s.strip_prefix("0x").unwrap_or(s))
		.map_err(|e| Error::Corrupt(format!("hex {s:?}: {e}")))
}

pub fn hash_from_hex(s: &str) -> Result<Hash> {
	from_hex(s)?
		.try_into()
		.map_err(|_| Error::Corrupt(format!("{s:?} is not 32 bytes")))
}

fn path_doc(p: &MerkleProof) -> PathDoc {
	PathDoc {
		leaf_index: p.leaf_index,
		leaf_count: p.leaf_count,
		siblings: p.siblings.iter().map(|h| to_hex(h)).collect(),
	}
}

fn path(p: &PathDoc) -> Result<MerkleProof> {
	Ok(MerkleProof {
		leaf_index: p.leaf_index,
		leaf_count: p.leaf_count,
		siblings: p
			.siblings
			.iter()
			.map(|h| hash_from_hex(h))
			.collect::<Result<_>>()?,
	})
}

impl ProofDocument {
	pub fn new(proven: &Proven, gateway: &[u8; 32]) -> Self {
		let m = &proven.measurement;
		let c = &proven.certificate;
		ProofDocument {
			version: PROOF_VERSION,
			gateway: to_hex(gateway),
			dataset: m.dataset,
			timestamp_us: m.timestamp_us,
			sequence: m.sequence,
			late: m.is_late(),
			record: to_hex(&proven.proof.leaf),
			window: WindowDoc {
				start_ms: c.window.start_ms,
				duration_ms: c.window.duration_ms,
			},
			leaf_proof: path_doc(&proven.proof.leaf_proof),
			dataset_root: DatasetRootDoc {
				dataset: proven.proof.dataset.dataset,
				leaf_count: proven.proof.dataset.leaf_count,
				root: to_hex(&proven.proof.dataset.root),
			},
			dataset_proof: path_doc(&proven.proof.dataset_proof),
			window_root: to_hex(&c.root),
			certified_in: c.chain.as_ref().map(|r| ChainRefDoc {
				block_number: r.block_number,
				block_hash: to_hex(&r.block_hash),
				extrinsic_index: r.extrinsic_index,
				event: r.event.clone(),
			}),
		}
	}

	pub fn window(&self) -> Window {
		Window {
			start_ms: self.window.start_ms,
			duration_ms: self.window.duration_ms,
		}
	}

	pub fn gateway(&self) -> Result<[u8; 32]> {
		hash_from_hex(&self.gateway)
	}

	/// The inclusion proof it carries.
	pub fn proof(&self) -> Result<MeasurementProof> {
		if self.version != PROOF_VERSION {
			return Err(Error::Corrupt(format!(
				"proof document version {}",
				self.version
			)));
		}
		Ok(MeasurementProof {
			leaf: from_hex(&self.record)?,
			leaf_proof: path(&self.leaf_proof)?,
			dataset: DatasetRoot {
				dataset: self.dataset_root.dataset,
				leaf_count: self.dataset_root.leaf_count,
				root: hash_from_hex(&self.dataset_root.root)?,
			},
			dataset_proof: path(&self.dataset_proof)?,
		})
	}
}
