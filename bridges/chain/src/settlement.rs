//! A session's settlement records read from a block's state under storage proofs, for
//! `platone audit settlement` (FR-MP-SET-06, FR-MP-BC-01). The market session is read first
//! (`market_session`); every settlement key follows from its awards (their PoDs, slots and
//! offers), so a node cannot hide a record: absent keys are proven absent. `platone settle`
//! reads the same records, with each PoD's declared meters and the pallet's timing, and
//! submits metering, settlements and finalizations.

use std::collections::{BTreeMap, BTreeSet};

use pallet_market::{derive::settled_awards, Phase};
use pallet_settlement::{
	audit::Records, baseline, BaselineMethod, Declared, Mechanism, Metering, Outcome, Params,
	Tally, Terms,
};
use platone_primitives::{AnchorKind, Hash, MeasurementProof, Window};

use crate::{
	market::{anchor_kind, constant, default_light, pallet_account, read, AccountId},
	runtime::{self, runtime_types},
	storage_key, Chain, Keypair, Result,
};

/// A session's settlement records with what a settlement worker needs besides.
pub struct Work {
	pub records: Records<AccountId>,
	/// The pallet's timing: metering delay and dispute window.
	pub params: Params,
	/// The market session's phase: awards are settled once it is final.
	pub phase: Phase,
}

/// Where a market session stands for the settlement worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
	/// Not on chain: pruned, or being pruned.
	Gone,
	/// Not final yet: its awards may still change.
	Trading,
	/// Final, with awards not all final yet.
	Settling,
	/// Every award final and the outcomes anchored, or no award at all.
	Settled,
}

/// The stage of a session from its market record and its settlement tally.
pub fn stage(info: Option<&pallet_market::SessionInfo>, tally: Option<&Tally>) -> Stage {
	match info {
		None => Stage::Gone,
		Some(i) if i.phase == Phase::Pruning => Stage::Gone,
		Some(i) if i.phase != Phase::Final => Stage::Trading,
		Some(i) if i.awards == 0 || tally.is_some_and(|t| t.root.is_some()) => Stage::Settled,
		Some(_) => Stage::Settling,
	}
}

/// Sessions read per storage proof by [`Chain::settlement_stages`].
const STAGES_PER_PROOF: u32 = 256;

/// The settlement pallet's account, in whose name it anchors.
pub fn settlement_account() -> Result<AccountId> {
	pallet_account("Settlement")
}

/// The terms of offers without a mechanism (`Settlement::DefaultTerms`).
pub fn default_terms() -> Result<Terms> {
	constant("Settlement", "DefaultTerms")
}

/// The most awards one `settle` or `finalize` takes (`Settlement::MaxAwardsPerCall`).
pub fn max_awards_per_call() -> Result<u32> {
	constant("Settlement", "MaxAwardsPerCall")
}

/// The most readings one `submit_metering` takes (`Settlement::MaxReadings`).
pub fn max_readings() -> Result<u32> {
	constant("Settlement", "MaxReadings")
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
		Ok(self.settlement_work(session, at).await?.map(|w| w.records))
	}

	/// The stage of every market session from `from` to the last one created, in the state of
	/// block `at`, read under storage proofs.
	pub async fn settlement_stages(&self, from: u32, at: Hash) -> Result<Vec<(u32, Stage)>> {
		let last_key = storage_key(runtime::storage().market().last_session(), ())?;
		let proof = self.read_proof(std::slice::from_ref(&last_key), at).await?;
		let last = read::<u32>(&proof, &last_key, "last session")?.unwrap_or(0);
		let mut stages = Vec::new();
		let mut first = from.max(1);
		while first <= last {
			let end = first.saturating_add(STAGES_PER_PROOF - 1).min(last);
			let mut keys = Vec::new();
			for session in first..=end {
				keys.push(storage_key(
					runtime::storage().market().sessions(),
					(session,),
				)?);
				keys.push(storage_key(
					runtime::storage().settlement().tallies(),
					(session,),
				)?);
			}
			let proof = self.read_proof(&keys, at).await?;
			for (session, pair) in (first..=end).zip(keys.chunks(2)) {
				let info = read::<pallet_market::SessionInfo>(&proof, &pair[0], "session")?;
				let tally = read::<Tally>(&proof, &pair[1], "tally")?;
				stages.push((session, stage(info.as_ref(), tally.as_ref())));
			}
			first = match end.checked_add(1) {
				Some(next) => next,
				None => break,
			};
		}
		Ok(stages)
	}

	/// [`Chain::settlement_session`] with the declared meters and the pallet's timing, read
	/// under the same proof.
	pub async fn settlement_work(&self, session: u32, at: Hash) -> Result<Option<Work>> {
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
				let settled = settled_awards(
					step,
					records,
					|id| offers.get(&id).cloned(),
					|id| requests.get(&id).cloned(),
					|a| market.answers.get(&a).copied(),
					default,
				);
				for (index, award) in settled.into_iter().enumerate() {
					if let Some(award) = award {
						let index = index as u32;
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
			storage_key(s().settlement_params(), ())?,
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
		let params = match read::<Params>(&proof, next(), "params")? {
			Some(p) => p,
			// Never set: the runtime's defaults.
			None => Params {
				metering_delay_ms: constant("Settlement", "MeteringDelayMs")?,
				dispute_ms: constant("Settlement", "DisputeMs")?,
			},
		};
		let tally = read::<Tally>(&proof, next(), "tally")?;
		let anchor =
			read::<pallet_certification::Anchor<AccountId, u32>>(&proof, next(), "anchor")?
				.map(|a| (a.digest, a.leaf_count, a.submitter));
		let mut baselines = BTreeMap::new();
		for pod in &pods {
			if let Some(d) =
				read::<Declared<Vec<(u16, i64)>, Vec<u64>>>(&proof, next(), "baseline")?
			{
				baselines.insert(*pod, d);
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
		// The history of slots with a standard baseline, on every candidate day, under a third
		// proof: an absent day is proven absent.
		let slot_ms = market.info.slot_ms;
		let delivery_start_ms = market.info.delivery_start_ms;
		let mut days = Vec::new();
		for (pod, slot) in &slots {
			if let Some(BaselineMethod::WorkingDays(n)) = baselines.get(pod).map(|d| d.method) {
				if let Some((start, _)) = baseline::slot_span(delivery_start_ms, slot_ms, *slot) {
					days.extend(baseline::candidate_days(start, n).map(|day| (*pod, *slot, day)));
				}
			}
		}
		let mut history = BTreeMap::new();
		if !days.is_empty() {
			let keys = days
				.iter()
				.map(|key| storage_key(s().history(), (session, *key)))
				.collect::<Result<Vec<_>>>()?;
			let proof = self.read_proof(&keys, at).await?;
			for (key, storage) in days.iter().zip(&keys) {
				if let Some(m) = read::<Metering>(&proof, storage, "history")? {
					history.insert(*key, m);
				}
			}
		}
		Ok(Some(Work {
			records: Records {
				slot_ms,
				delivery_start_ms,
				awards,
				baselines,
				meterings,
				history,
				mechanisms,
				outcomes,
				tally,
				anchor,
			},
			params,
			phase: market.info.phase,
		}))
	}

	/// Submits `submit_metering` for a PoD's slot, signed by `signer`, and waits until it is
	/// finalized. `readings`: (gateway, certification window, proof) per reading.
	pub async fn submit_metering(
		&self,
		signer: &Keypair,
		session: u32,
		pod: u32,
		slot: u16,
		readings: &[(AccountId, Window, MeasurementProof)],
	) -> Result<Hash> {
		let call = runtime::transactions().settlement().submit_metering(
			session,
			pod,
			slot,
			wire_readings(readings),
		);
		self.submit_finalized(&call, signer).await
	}

	/// Submits `submit_history`: the PoD's slot moved back to `day`, for its standard
	/// baseline. As [`Chain::submit_metering`].
	pub async fn submit_history(
		&self,
		signer: &Keypair,
		session: u32,
		pod: u32,
		slot: u16,
		day: baseline::Day,
		readings: &[(AccountId, Window, MeasurementProof)],
	) -> Result<Hash> {
		let call = runtime::transactions().settlement().submit_history(
			session,
			pod,
			slot,
			day,
			wire_readings(readings),
		);
		self.submit_finalized(&call, signer).await
	}

	/// Submits `settle` for `awards` (at most `MaxAwardsPerCall`) and waits for finality.
	pub async fn settle(
		&self,
		signer: &Keypair,
		session: u32,
		awards: &[pallet_market::AwardRef],
	) -> Result<Hash> {
		let call = runtime::transactions()
			.settlement()
			.settle(session, award_refs(awards));
		self.submit_finalized(&call, signer).await
	}

	/// Submits `finalize` for `awards` (at most `MaxAwardsPerCall`) and waits for finality.
	pub async fn finalize(
		&self,
		signer: &Keypair,
		session: u32,
		awards: &[pallet_market::AwardRef],
	) -> Result<Hash> {
		let call = runtime::transactions()
			.settlement()
			.finalize(session, award_refs(awards));
		self.submit_finalized(&call, signer).await
	}
}

/// Readings as the runtime's calls take them: (gateway, window, proof) each.
fn wire_readings(
	readings: &[(AccountId, Window, MeasurementProof)],
) -> runtime_types::bounded_collections::bounded_vec::BoundedVec<(
	subxt::utils::AccountId32,
	runtime_types::platone_primitives::certificate::Window,
	runtime_types::platone_primitives::certificate::MeasurementProof,
)> {
	use runtime_types::platone_primitives::{certificate as wire, merkle::MerkleProof};
	let merkle = |p: &platone_primitives::MerkleProof| MerkleProof {
		leaf_index: p.leaf_index,
		leaf_count: p.leaf_count,
		siblings: p.siblings.clone(),
	};
	runtime_types::bounded_collections::bounded_vec::BoundedVec(
		readings
			.iter()
			.map(|(gateway, window, proof)| {
				(
					subxt::utils::AccountId32(gateway.clone().into()),
					wire::Window {
						start_ms: window.start_ms,
						duration_ms: window.duration_ms,
					},
					wire::MeasurementProof {
						leaf: proof.leaf.clone(),
						leaf_proof: merkle(&proof.leaf_proof),
						dataset: wire::DatasetRoot {
							dataset: proof.dataset.dataset,
							leaf_count: proof.dataset.leaf_count,
							root: proof.dataset.root,
						},
						dataset_proof: merkle(&proof.dataset_proof),
					},
				)
			})
			.collect(),
	)
}

fn award_refs(
	awards: &[pallet_market::AwardRef],
) -> runtime_types::bounded_collections::bounded_vec::BoundedVec<
	runtime_types::pallet_market::types::AwardRef,
> {
	runtime_types::bounded_collections::bounded_vec::BoundedVec(
		awards
			.iter()
			.map(|a| runtime_types::pallet_market::types::AwardRef {
				step: a.step,
				index: a.index,
			})
			.collect(),
	)
}
