//! A session's settlement records read from a block's state under storage proofs, for
//! `platone audit settlement` (FR-MP-SET-06, FR-MP-BC-01). The market session is read first
//! (`market_session`); every settlement key follows from its awards (their PoDs, slots and
//! offers), so a node cannot hide a record: absent keys are proven absent.

use std::collections::{BTreeMap, BTreeSet};

use pallet_market::{derive::settled_award, Phase};
use pallet_settlement::{audit::Records, Mechanism, Metering, Outcome, Tally, Terms};
use platone_primitives::{AnchorKind, Hash};

use crate::{
	market::{anchor_kind, constant, default_light, pallet_account, read, AccountId},
	runtime::{self, runtime_types},
	storage_key, Chain, Result,
};

/// The settlement pallet's account, in whose name it anchors.
pub fn settlement_account() -> Result<AccountId> {
	pallet_account("Settlement")
}

/// The terms of offers without a mechanism (`Settlement::DefaultTerms`).
pub fn default_terms() -> Result<Terms> {
	constant("Settlement", "DefaultTerms")
}

/// The most tolerance a mechanism may grant (`Settlement::MaxTolerance`).
pub fn max_tolerance() -> Result<sp_runtime::Permill> {
	constant("Settlement", "MaxTolerance")
}

impl Chain {
	/// Session `session`'s settlement records in the state of block `at`, each value checked
	/// against the block's state root. `None` if no such market session.
	pub async fn settlement_session(
		&self,
		session: u32,
		at: Hash,
	) -> Result<Option<Records<AccountId>>> {
		let Some(market) = self.market_session(session, at).await? else {
			return Ok(None);
		};
		let mut awards = Vec::new();
		if market.info.phase == Phase::Final {
			let default = default_light()?;
			let offers: BTreeMap<u32, (AccountId, u32)> = market
				.offers
				.iter()
				.map(|(id, o)| (*id, (o.owner.clone(), o.input.pod)))
				.collect();
			let requests: BTreeMap<u32, AccountId> = market
				.requests
				.iter()
				.map(|(id, r)| (*id, r.owner.clone()))
				.collect();
			for (step, (_, records)) in market.steps.iter().enumerate() {
				let step = step as u16;
				for index in 0..records.len() as u32 {
					let award = settled_award(
						step,
						records,
						index,
						|id| offers.get(&id).cloned(),
						|id| requests.get(&id).cloned(),
						|a| market.answers.get(&a).copied(),
						default,
					);
					if let Some(award) = award {
						awards.push((pallet_market::AwardRef { step, index }, award));
					}
				}
			}
		}
		let s = || runtime::storage().settlement();
		let pods: BTreeSet<u32> = awards.iter().map(|(_, a)| a.pod).collect();
		let slots: BTreeSet<(u32, u16)> = awards.iter().map(|(_, a)| (a.pod, a.slot)).collect();
		let offers: BTreeSet<u32> = awards.iter().map(|(_, a)| a.offer).collect();
		let mut keys = vec![
			storage_key(s().tallies(), (session,))?,
			storage_key(
				runtime::storage().certification().anchors(),
				(
					anchor_kind(AnchorKind::Settlement),
					pallet_settlement::subject(session),
				),
			)?,
		];
		for pod in &pods {
			keys.push(storage_key(s().baselines(), (session, *pod))?);
		}
		for (pod, slot) in &slots {
			keys.push(storage_key(s().meterings(), (session, (*pod, *slot)))?);
		}
		for offer in &offers {
			keys.push(storage_key(s().offer_mechanisms(), (session, *offer))?);
		}
		for (award, _) in &awards {
			let key = runtime_types::pallet_market::types::AwardRef {
				step: award.step,
				index: award.index,
			};
			keys.push(storage_key(s().outcomes(), (session, key))?);
		}
		let proof = self.read_proof(&keys, at).await?;
		let mut keys = keys.iter();
		let mut next = || keys.next().map(Vec::as_slice).unwrap_or_default();
		let tally = read::<Tally>(&proof, next(), "tally")?;
		let anchor =
			read::<pallet_certification::Anchor<AccountId, u32>>(&proof, next(), "anchor")?
				.map(|a| (a.digest, a.leaf_count, a.submitter));
		let mut baselines = BTreeMap::new();
		for pod in &pods {
			type Declared = pallet_settlement::Declared<Vec<(u16, i64)>, Vec<u64>>;
			if let Some(d) = read::<Declared>(&proof, next(), "baseline")? {
				baselines.insert(*pod, d.baseline);
			}
		}
		let mut meterings = BTreeMap::new();
		for slot in &slots {
			if let Some(m) = read::<Metering>(&proof, next(), "metering")? {
				meterings.insert(*slot, m);
			}
		}
		let mut chosen = BTreeMap::new();
		for offer in &offers {
			if let Some(m) = read::<u32>(&proof, next(), "offer mechanism")? {
				chosen.insert(*offer, m);
			}
		}
		let mut outcomes = BTreeMap::new();
		for (award, _) in &awards {
			if let Some(o) = read::<Outcome<AccountId>>(&proof, next(), "outcome")? {
				outcomes.insert(*award, o);
			}
		}
		// The chosen mechanisms' rules, under a second proof of the same block.
		let ids: BTreeSet<u32> = chosen.values().copied().collect();
		let mut rules = BTreeMap::new();
		if !ids.is_empty() {
			let keys = ids
				.iter()
				.map(|id| storage_key(s().mechanisms(), (*id,)))
				.collect::<Result<Vec<_>>>()?;
			let proof = self.read_proof(&keys, at).await?;
			for (id, key) in ids.iter().zip(&keys) {
				let m = read::<Mechanism<AccountId>>(&proof, key, "mechanism")?;
				rules.insert(*id, m.map(|m| m.rule));
			}
		}
		let mechanisms = chosen
			.into_iter()
			.map(|(offer, id)| (offer, (id, rules.get(&id).cloned().flatten())))
			.collect();
		Ok(Some(Records {
			slot_ms: market.info.slot_ms,
			awards,
			baselines,
			meterings,
			mechanisms,
			outcomes,
			tally,
			anchor,
		}))
	}
}
