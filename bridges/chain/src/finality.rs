//! GRANDPA finality checked on the client: a justification whose precommits carry more than two
//! thirds of the weight of an authority set the auditor pinned. With it, `platone verify` needs
//! no RPC node to be honest about which block is final.
//!
//! The weight and ancestry rules are `finality-grandpa`'s own (`validate_commit`), signatures
//! are checked with `sp-consensus-grandpa`; this module only feeds them the decoded
//! justification.

use std::collections::HashMap;

use codec::{Decode, Encode};
use finality_grandpa::{voter_set::VoterSet, BlockNumberOps, Message};
use sp_consensus_grandpa::{AuthorityId, GrandpaJustification, SignatureResult};
use sp_core::H256;
use sp_runtime::traits::Header as _;

use crate::{Error, Hash, Result};

/// The runtime's header: u32 block numbers, BLAKE2-256.
pub type Header = sp_runtime::generic::Header<u32, sp_runtime::traits::BlakeTwo256>;

/// An authority set as pinned by an auditor: ed25519 keys with their weights, and the set id
/// (it increases at each change of validators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthoritySet {
	pub set_id: u64,
	pub authorities: Vec<([u8; 32], u64)>,
}

/// What a verified justification proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finality {
	pub block_hash: Hash,
	pub block_number: u32,
	pub round: u64,
	/// Distinct pinned authorities whose valid precommits count, of `of`.
	pub signers: usize,
	pub of: usize,
}

/// `grandpa_proveFinality`'s answer: a justification of block `block` and the headers from the
/// block asked about up to it.
#[derive(Decode, Encode)]
pub(crate) struct FinalityProof {
	pub block: H256,
	pub justification: Vec<u8>,
	pub unknown_headers: Vec<Header>,
}

/// The set that follows `set` at a change block: its header must carry a GRANDPA
/// `ScheduledChange` with no delay (how the consortium pallet changes validators).
pub fn next_set(set: &AuthoritySet, change_header: &Header) -> Result<AuthoritySet> {
	use sp_consensus_grandpa::{ConsensusLog, GRANDPA_ENGINE_ID};
	use sp_core::crypto::ByteArray;
	let bad = |why: String| Error::Finality(why);
	let mut change = None;
	for item in &change_header.digest.logs {
		if let Some(log) = item.consensus_try_to::<ConsensusLog<u32>>(&GRANDPA_ENGINE_ID) {
			match log {
				ConsensusLog::ScheduledChange(c) if change.is_none() => change = Some(c),
				ConsensusLog::ForcedChange(..) => {
					return Err(bad(format!(
						"block #{} forces an authority-set change: re-pin from the members' nodes",
						change_header.number
					)))
				}
				_ => {}
			}
		}
	}
	let change = change.ok_or_else(|| {
		bad(format!(
			"block #{} carries no authority-set change",
			change_header.number
		))
	})?;
	if change.delay != 0 {
		return Err(bad(format!(
			"the change at block #{} is delayed by {} blocks, which this client does not follow",
			change_header.number, change.delay
		)));
	}
	let authorities = change
		.next_authorities
		.iter()
		.map(|(id, weight)| {
			let key: [u8; 32] = id
				.as_slice()
				.try_into()
				.map_err(|_| bad("authority key length".into()))?;
			Ok((key, *weight))
		})
		.collect::<Result<_>>()?;
	Ok(AuthoritySet {
		set_id: set.set_id.saturating_add(1),
		authorities,
	})
}

/// Checks a SCALE-encoded GRANDPA justification against `set`.
pub fn verify_justification(encoded: &[u8], set: &AuthoritySet) -> Result<Finality> {
	let bad = |why: String| Error::Finality(why);
	let justification = GrandpaJustification::<Header>::decode(&mut &encoded[..])
		.map_err(|e| bad(format!("justification does not decode: {e}")))?;
	let voters = VoterSet::new(set.authorities.iter().map(|(key, weight)| {
		(
			AuthorityId::from(sp_core::ed25519::Public::from_raw(*key)),
			*weight,
		)
	}))
	.ok_or_else(|| bad("the pinned authority set is empty or weightless".into()))?;
	let commit = &justification.commit;

	// Every precommit must be signed for this round and set, by whoever it names.
	for signed in &commit.precommits {
		let message = Message::Precommit(signed.precommit.clone());
		match sp_consensus_grandpa::check_message_signature(
			&message,
			&signed.id,
			&signed.signature,
			justification.round,
			set.set_id,
		) {
			SignatureResult::Valid => {}
			SignatureResult::OutdatedSet => {
				return Err(bad(format!(
					"precommits are signed for set {} before the pinned set {}",
					set.set_id.saturating_sub(1),
					set.set_id
				)))
			}
			SignatureResult::Invalid => {
				return Err(bad(format!(
					"a precommit of {} is not validly signed for set {} (has the authority set \
					 changed since it was pinned?)",
					signed.id, set.set_id
				)))
			}
		}
	}

	let ancestry = Ancestry(
		justification
			.votes_ancestries
			.iter()
			.map(|h| (h.hash(), h.clone()))
			.collect(),
	);
	let result = finality_grandpa::validate_commit(commit, &voters, &ancestry)
		.map_err(|e| bad(format!("commit: {e}")))?;
	if !result.is_valid() {
		return Err(bad(format!(
			"the precommits do not carry two thirds of the pinned set's weight \
			 ({} precommits, {} from outside the set, {} equivocations)",
			result.num_precommits(),
			result.num_invalid_voters(),
			result.num_equivocations()
		)));
	}
	let signers = commit
		.precommits
		.iter()
		.filter(|p| voters.contains(&p.id))
		.map(|p| &p.id)
		.collect::<std::collections::BTreeSet<_>>()
		.len();
	Ok(Finality {
		block_hash: commit.target_hash.0,
		block_number: commit.target_number,
		round: justification.round,
		signers,
		of: voters.len().get(),
	})
}

/// The headers a justification carries, to link precommits for descendants to its target.
struct Ancestry(HashMap<H256, Header>);

impl<N: BlockNumberOps> finality_grandpa::Chain<H256, N> for Ancestry {
	fn ancestry(&self, base: H256, block: H256) -> Result<Vec<H256>, finality_grandpa::Error> {
		let mut route = Vec::new();
		let mut current = block;
		while current != base {
			let header = self
				.0
				.get(&current)
				.ok_or(finality_grandpa::Error::NotDescendent)?;
			current = *header.parent_hash();
			route.push(current);
		}
		// The walk ends on `base`, which the route excludes.
		route.pop();
		Ok(route)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use finality_grandpa::{Commit, Precommit, SignedPrecommit};
	use sp_core::{ed25519, Pair};

	fn pair(seed: u8) -> ed25519::Pair {
		ed25519::Pair::from_seed(&[seed; 32])
	}

	fn set(pairs: &[ed25519::Pair], set_id: u64) -> AuthoritySet {
		AuthoritySet {
			set_id,
			authorities: pairs.iter().map(|p| (p.public().0, 1)).collect(),
		}
	}

	fn header(number: u32, parent: H256) -> Header {
		Header::new(
			number,
			Default::default(),
			Default::default(),
			parent,
			Default::default(),
		)
	}

	/// A justification for `target` by `signers`, all voting for `target`.
	fn justification(
		target: &Header,
		signers: &[ed25519::Pair],
		round: u64,
		set_id: u64,
	) -> Vec<u8> {
		let votes: Vec<_> = signers.iter().map(|p| (p, target)).collect();
		justification_with(target, &votes, vec![], round, set_id)
	}

	/// A justification for `target` with each signer's own vote, and the headers linking them.
	fn justification_with(
		target: &Header,
		votes: &[(&ed25519::Pair, &Header)],
		ancestries: Vec<Header>,
		round: u64,
		set_id: u64,
	) -> Vec<u8> {
		let precommits = votes
			.iter()
			.map(|(p, votes_for)| {
				let precommit = Precommit {
					target_hash: votes_for.hash(),
					target_number: *votes_for.number(),
				};
				let payload = sp_consensus_grandpa::localized_payload(
					round,
					set_id,
					&Message::<H256, u32>::Precommit(precommit.clone()),
				);
				SignedPrecommit {
					precommit,
					signature: p.sign(&payload).into(),
					id: p.public().into(),
				}
			})
			.collect();
		GrandpaJustification::<Header> {
			round,
			commit: Commit {
				target_hash: target.hash(),
				target_number: *target.number(),
				precommits,
			},
			votes_ancestries: ancestries,
		}
		.encode()
	}

	#[test]
	fn accepts_a_supermajority_of_the_pinned_set_only() {
		let pairs: Vec<_> = (1..=4).map(pair).collect();
		let target = header(7, H256::repeat_byte(1));
		// Three of four: exactly the threshold (4 - (4 - 1) / 3 = 3).
		let j = justification(&target, &pairs[..3], 9, 2);
		let finality = verify_justification(&j, &set(&pairs, 2)).expect("valid");
		assert_eq!(
			(
				finality.block_hash,
				finality.block_number,
				finality.signers,
				finality.of
			),
			(target.hash().0, 7, 3, 4)
		);
		// Two of four is not enough.
		let j = justification(&target, &pairs[..2], 9, 2);
		assert!(verify_justification(&j, &set(&pairs, 2)).is_err());
		// Signed under another set id (e.g. before a change of validators).
		let j = justification(&target, &pairs[..3], 9, 1);
		assert!(verify_justification(&j, &set(&pairs, 2)).is_err());
		// Signed by keys that are not the pinned ones.
		let others: Vec<_> = (11..=14).map(pair).collect();
		let j = justification(&target, &others[..3], 9, 2);
		assert!(verify_justification(&j, &set(&pairs, 2)).is_err());
	}

	#[test]
	fn precommits_for_descendants_need_their_headers() {
		let pairs: Vec<_> = (1..=3).map(pair).collect();
		let target = header(7, H256::repeat_byte(1));
		let child = header(8, target.hash());
		let grandchild = header(9, child.hash());
		// One vote for the target, two for its grandchild: the target has all three.
		let votes = [
			(&pairs[0], &target),
			(&pairs[1], &grandchild),
			(&pairs[2], &grandchild),
		];
		let j = justification_with(
			&target,
			&votes,
			vec![grandchild.clone(), child.clone()],
			1,
			0,
		);
		verify_justification(&j, &set(&pairs, 0)).expect("linked by the ancestry");
		// Without the child's header the grandchild votes cannot be linked to the target.
		let j = justification_with(&target, &votes, vec![grandchild.clone()], 1, 0);
		assert!(verify_justification(&j, &set(&pairs, 0)).is_err());
	}

	#[test]
	fn tampered_target_or_garbage_fails() {
		let pairs: Vec<_> = (1..=3).map(pair).collect();
		let target = header(7, H256::repeat_byte(1));
		let mut j = justification(&target, &pairs, 1, 0);
		// The commit's target hash follows the 8-byte round.
		j[8] ^= 1;
		assert!(verify_justification(&j, &set(&pairs, 0)).is_err());
		assert!(verify_justification(&[1, 2, 3], &set(&pairs, 0)).is_err());
	}
}
