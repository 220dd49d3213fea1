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
	storage_key, Chain, Keypair, Pending, Result,
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

/// Whether the market's `prune_session` takes a session at chain time `now_ms`, as the pallet
/// decides: final and settled (or being pruned already), its delivery over for `retention_ms`.
pub fn prunable(
	info: &pallet_market::SessionInfo,
	tally: Option<&Tally>,
	now_ms: u64,
	retention_ms: u64,
) -> bool {
	let delivery_end = info
		.delivery_start_ms
		.saturating_add(u64::from(info.slot_ms).saturating_mul(info.slots.into()));
	let settled = info.phase == Phase::Pruning
		|| (info.phase == Phase::Final
			&& (info.awards == 0 || tally.is_some_and(|t| t.root.is_some())));
	settled && now_ms >= delivery_end.saturating_add(retention_ms)
}

/// Of consecutive sessions read from the chain (`None`: gone), those to prune at `now_ms`, and
/// where the next look starts: the oldest still on chain (past the last if none is).
pub fn prune_window(
	sessions: &[(u32, Option<pallet_market::SessionInfo>, Option<Tally>)],
	now_ms: u64,
	retention_ms: u64,
) -> (Vec<u32>, Option<u32>) {
	let due = sessions
		.iter()
		.filter(|(_, info, tally)| {
			info.as_ref()
				.is_some_and(|i| prunable(i, tally.as_ref(), now_ms, retention_ms))
		})
		.map(|(id, ..)| *id)
		.collect();
	let next = sessions
		.iter()
		.find(|(_, info, _)| info.is_some())
		.or(sessions.last())
		.map(|(id, info, _)| {
			if info.is_some() {
				*id
			} else {
				id.saturating_add(1)
			}
		});
	(due, next)
}

/// The market's retention (`Market::RetentionMs`): how long after its delivery a final, settled
/// session may be pruned.
pub fn retention_ms() -> Result<u64> {
	constant("Market", "RetentionMs")
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

	/// How much gas (ref time) one unit of the contract engine's fuel costs in the runtime
	/// (`Contracts::Schedule`, its `instruction_weights.base`): a mechanism's gas limit buys
	/// `gas / this` fuel.
	pub async fn ref_time_per_fuel(&self) -> Result<u64> {
		let at = self.api.at_current_block().await.map_err(crate::rpc)?;
		let schedule = at
			.constants()
			.entry(runtime::constants().contracts().schedule())
			.map_err(|e| crate::Error::Decode(format!("Contracts::Schedule: {e}")))?;
		Ok(u64::from(schedule.instruction_weights.base).max(1))
	}

	/// The code of contract `contract` in the state of block `at`, read under storage proofs
	/// (its `ContractInfoOf` for the code hash, then `PristineCode`), and checked to hash to
	/// that code hash: what the audit runs again. `None` if no such contract.
	pub async fn contract_code(&self, contract: &AccountId, at: Hash) -> Result<Option<Vec<u8>>> {
		let c = || runtime::storage().contracts();
		let info_key = storage_key(
			c().contract_info_of(),
			(subxt::utils::AccountId32(contract.clone().into()),),
		)?;
		let proof = self.read_proof(std::slice::from_ref(&info_key), at).await?;
		// `ContractInfo` starts with the trie id and the code hash.
		let Some((_trie_id, code_hash)) =
			read::<(Vec<u8>, [u8; 32])>(&proof, &info_key, "contract info")?
		else {
			return Ok(None);
		};
		let code_key = storage_key(c().pristine_code(), (subxt::utils::H256(code_hash),))?;
		let proof = self.read_proof(std::slice::from_ref(&code_key), at).await?;
		let Some(code) = read::<Vec<u8>>(&proof, &code_key, "contract code")? else {
			return Ok(None);
		};
		if sp_crypto_hashing::blake2_256(&code) != code_hash {
			return Err(crate::Error::Decode(
				"a contract's code does not hash to its code hash".into(),
			));
		}
		Ok(Some(code))
	}

	/// Up to `max` sessions from `from` on (no further than the last created), in the state of
	/// block `at`, read under one storage proof: those to prune at the block's time, and where
	/// the next look starts ([`prune_window`]). `None` past the last session.
	pub async fn prunable_sessions(
		&self,
		from: u32,
		max: u32,
		at: Hash,
	) -> Result<(Vec<u32>, Option<u32>)> {
		let last_key = storage_key(runtime::storage().market().last_session(), ())?;
		let proof = self.read_proof(std::slice::from_ref(&last_key), at).await?;
		let last = read::<u32>(&proof, &last_key, "last session")?.unwrap_or(0);
		let first = from.max(1);
		if first > last || max == 0 {
			return Ok((Vec::new(), None));
		}
		let end = first.saturating_add(max - 1).min(last);
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
		let mut sessions = Vec::new();
		for (session, pair) in (first..=end).zip(keys.chunks(2)) {
			let info = read::<pallet_market::SessionInfo>(&proof, &pair[0], "session")?;
			let tally = read::<Tally>(&proof, &pair[1], "tally")?;
			sessions.push((session, info, tally));
		}
		let now_ms = self
			.block_time_ms(at)
			.await?
			.ok_or_else(|| crate::Error::Decode("the block has no timestamp".into()))?;
		Ok(prune_window(&sessions, now_ms, retention_ms()?))
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

	/// Sends `txs` in order, signed by `signer` with consecutive nonces from its next one, each
	/// handed to the node's pool before the next is signed (a transaction the pool refuses
	/// takes no nonce). Yields, per transaction, its [`Pending`] or why it was refused: awaited
	/// together, the lot costs one finality wait, and a later one sees the effects of earlier
	/// ones (say, a settlement the metering sent before it).
	pub async fn send_settlement(
		&self,
		signer: &Keypair,
		txs: &[SettlementTx],
	) -> Result<Vec<Result<Pending>>> {
		let mut nonce = self.next_nonce(signer).await?;
		let mut sent = Vec::with_capacity(txs.len());
		let settlement = || runtime::transactions().settlement();
		for t in txs {
			let n = Some(nonce);
			let one = match t {
				SettlementTx::Metering {
					session,
					pod,
					slot,
					readings,
				} => {
					let call = settlement().submit_metering(
						*session,
						*pod,
						*slot,
						wire_readings(readings),
					);
					self.send(&call, signer, n).await
				}
				SettlementTx::History {
					session,
					pod,
					slot,
					day,
					readings,
				} => {
					let call = settlement().submit_history(
						*session,
						*pod,
						*slot,
						*day,
						wire_readings(readings),
					);
					self.send(&call, signer, n).await
				}
				SettlementTx::Settle { session, awards } => {
					let call = settlement().settle(*session, award_refs(awards));
					self.send(&call, signer, n).await
				}
				SettlementTx::Finalize { session, awards } => {
					let call = settlement().finalize(*session, award_refs(awards));
					self.send(&call, signer, n).await
				}
				SettlementTx::Prune { session } => {
					let call = runtime::transactions().market().prune_session(*session);
					self.send(&call, signer, n).await
				}
			};
			if one.is_ok() {
				nonce = nonce.saturating_add(1);
			}
			sent.push(one);
		}
		Ok(sent)
	}
}

/// A transaction of the settlement worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettlementTx {
	/// `submit_metering` for a PoD's slot. `readings`: (gateway, certification window, proof)
	/// per reading.
	Metering {
		session: u32,
		pod: u32,
		slot: u16,
		readings: Vec<(AccountId, Window, MeasurementProof)>,
	},
	/// `submit_history`: the PoD's slot moved back to `day`, for its standard baseline.
	History {
		session: u32,
		pod: u32,
		slot: u16,
		day: baseline::Day,
		readings: Vec<(AccountId, Window, MeasurementProof)>,
	},
	/// `settle`, at most `MaxAwardsPerCall` awards.
	Settle {
		session: u32,
		awards: Vec<pallet_market::AwardRef>,
	},
	/// `finalize`, at most `MaxAwardsPerCall` awards.
	Finalize {
		session: u32,
		awards: Vec<pallet_market::AwardRef>,
	},
	/// The market's `prune_session`: one call's share of a settled session past retention.
	Prune { session: u32 },
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

#[cfg(test)]
mod tests {
	use pallet_market::{Phase, Pricing, Schedule, SessionInfo, SessionKind};
	use pallet_settlement::Tally;

	use super::{prunable, prune_window};

	const RETAIN: u64 = 1_000;

	/// A session delivering 4 × 15 s from 0, in `phase`, with `awards`.
	fn session(phase: Phase, awards: u32) -> SessionInfo {
		let schedule = Schedule {
			period_ms: 60_000,
			slot_ms: 15_000,
			open_lead_ms: 120_000,
			gate_lead_ms: 30_000,
			validation_ms: 12_000,
		};
		SessionInfo {
			phase,
			awards,
			..SessionInfo::opened(SessionKind::RealTime, 0, &schedule, 4, Pricing::PayAsBid, 1)
		}
	}

	fn tally(anchored: bool) -> Tally {
		Tally {
			awards: 1,
			settled: 1,
			fixed: u32::from(anchored),
			peaks: Default::default(),
			root: anchored.then_some([7; 32]),
		}
	}

	/// What the market's `prune_session` takes (NotPrunable, NotSettled otherwise): the
	/// worker sends no call the pallet would refuse.
	#[test]
	fn a_session_is_pruned_once_settled_and_its_retention_over() {
		let end = 60_000;
		let settled = session(Phase::Final, 1);
		assert!(!prunable(
			&settled,
			Some(&tally(true)),
			end + RETAIN - 1,
			RETAIN
		));
		assert!(prunable(&settled, Some(&tally(true)), end + RETAIN, RETAIN));
		// Not settled: an outcome not final, or no tally at all.
		assert!(!prunable(
			&settled,
			Some(&tally(false)),
			end + RETAIN,
			RETAIN
		));
		assert!(!prunable(&settled, None, end + RETAIN, RETAIN));
		// Nothing awarded: nothing to settle.
		assert!(prunable(
			&session(Phase::Final, 0),
			None,
			end + RETAIN,
			RETAIN
		));
		// Being pruned: the rest of it.
		assert!(prunable(
			&session(Phase::Pruning, 1),
			None,
			end + RETAIN,
			RETAIN
		));
		// Never before the session is final, however old.
		for phase in [Phase::Open, Phase::Validated] {
			assert!(!prunable(&session(phase, 0), None, u64::MAX, RETAIN));
		}
	}

	#[test]
	fn the_pruning_look_starts_at_the_oldest_session_left() {
		let now = 60_000 + RETAIN;
		let window = [
			(3, None, None),
			(4, Some(session(Phase::Final, 1)), Some(tally(false))),
			(5, Some(session(Phase::Final, 0)), None),
			(6, Some(session(Phase::Pruning, 2)), None),
		];
		// Session 4 awaits its settlement: the look stays there, its successors go.
		assert_eq!(prune_window(&window, now, RETAIN), (vec![5, 6], Some(4)));
		// All gone: the next look starts past them.
		assert_eq!(
			prune_window(&[(3, None, None), (4, None, None)], now, RETAIN),
			(vec![], Some(5))
		);
		assert_eq!(prune_window(&[], now, RETAIN), (vec![], None));
	}
}
