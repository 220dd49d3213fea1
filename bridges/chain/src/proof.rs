//! Storage proofs: a value read from a block's state without trusting the node that served it.
//!
//! The header is checked against the block hash (BLAKE2-256 of its SCALE encoding), and the trie
//! nodes against the header's state root (trie layout V1, as the runtime's `system_version` 1
//! requires). What remains to trust is that the block hash is finalized, which the caller takes
//! from a node or source of its choice.

use codec::{Compact, Decode};
use platone_primitives::Hash;
use sp_core::Blake2Hasher;

use crate::{Error, Result};

/// A block header and the trie nodes that prove some keys of its state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateProof {
	pub block_hash: Hash,
	/// The SCALE-encoded header.
	pub header: Vec<u8>,
	pub nodes: Vec<Vec<u8>>,
}

/// The block number and state root of a SCALE-encoded header whose hash must be `block_hash`.
pub fn header_state_root(header: &[u8], block_hash: &Hash) -> Result<(u64, Hash)> {
	if sp_crypto_hashing::blake2_256(header) != *block_hash {
		return Err(Error::Proof(
			"the header does not hash to the block hash".into(),
		));
	}
	let (_parent, number, state_root) = <(Hash, Compact<u32>, Hash)>::decode(&mut &header[..])
		.map_err(|e| Error::Proof(format!("header: {e}")))?;
	Ok((u64::from(number.0), state_root))
}

impl StateProof {
	/// The value at `key` in the proven state (`None`: provably absent), and the block number.
	pub fn read(&self, key: &[u8]) -> Result<(u64, Option<Vec<u8>>)> {
		let (number, root) = header_state_root(&self.header, &self.block_hash)?;
		let db =
			sp_trie::StorageProof::new(self.nodes.iter().cloned()).into_memory_db::<Blake2Hasher>();
		let value = sp_trie::read_trie_value::<sp_trie::LayoutV1<Blake2Hasher>, _>(
			&db,
			&root.into(),
			key,
			None,
			None,
		)
		.map_err(|e| Error::Proof(format!("not provable from the state root: {e}")))?;
		Ok((number, value))
	}
}
