//! A market session's records read from a block's state under one storage proof, for
//! `platone audit market` (FR-MP-BC-02). Every key is derived from the session itself (its item
//! and step counts), so a node cannot hide a record by leaving it out of a key listing: absent
//! keys are proven absent.

use std::collections::BTreeMap;

use codec::Decode;
use pallet_market::{audit::Records, AwardRecord, Light, Offer, Request, SessionInfo, StepDigest};
use platone_primitives::{AnchorKind, Hash};

use crate::{
	proof::StateProof,
	runtime::{self, runtime_types},
	storage_key, Chain, Error, Result,
};

pub type AccountId = sp_runtime::AccountId32;
pub type Quantities = Vec<(u16, u32)>;
pub type SessionRecords = Records<AccountId, Quantities>;

/// A constant of a pallet as the committed metadata states it.
pub(crate) fn constant<T: Decode>(pallet: &str, name: &str) -> Result<T> {
	let metadata = crate::metadata()?;
	let constant = metadata
		.pallet_by_name(pallet)
		.and_then(|p| p.constant_by_name(name))
		.ok_or_else(|| Error::Decode(format!("no {pallet}::{name} in the metadata")))?;
	T::decode(&mut constant.value()).map_err(|e| Error::Decode(format!("{pallet}::{name}: {e}")))
}

/// A pallet's account: its `PalletId` constant as `into_account_truncating` makes an account
/// of it (`modl`, the id, zeros).
pub(crate) fn pallet_account(pallet: &str) -> Result<AccountId> {
	let id: [u8; 8] = constant(pallet, "PalletId")?;
	let mut account = [0u8; 32];
	account[..4].copy_from_slice(b"modl");
	account[4..12].copy_from_slice(&id);
	Ok(AccountId::new(account))
}

/// The market pallet's account, in whose name it anchors.
pub fn market_account() -> Result<AccountId> {
	pallet_account("Market")
}

/// The answer an unanswered award takes (`Market::DefaultLight`).
pub fn default_light() -> Result<Light> {
	constant("Market", "DefaultLight")
}

pub(crate) fn anchor_kind(
	kind: AnchorKind,
) -> runtime_types::platone_primitives::certificate::AnchorKind {
	use runtime_types::platone_primitives::certificate::AnchorKind as K;
	match kind {
		AnchorKind::ClearingInputs => K::ClearingInputs,
		AnchorKind::MarketOutcome => K::MarketOutcome,
		AnchorKind::TechnicalValidation => K::TechnicalValidation,
		AnchorKind::Settlement => K::Settlement,
	}
}

const ANCHORS: [AnchorKind; 3] = [
	AnchorKind::ClearingInputs,
	AnchorKind::MarketOutcome,
	AnchorKind::TechnicalValidation,
];

pub(crate) fn read<T: Decode>(proof: &StateProof, key: &[u8], what: &str) -> Result<Option<T>> {
	let (_, value) = proof.read(key)?;
	value
		.map(|v| T::decode(&mut &v[..]).map_err(|e| Error::Decode(format!("{what}: {e}"))))
		.transpose()
}

impl Chain {
	/// Session `session`'s records in the state of block `at`, each value checked against the
	/// block's state root (`at` itself is the caller's to trust). `None` if no such session.
	pub async fn market_session(&self, session: u32, at: Hash) -> Result<Option<SessionRecords>> {
		let m = || runtime::storage().market();
		let session_key = storage_key(m().sessions(), (session,))?;
		let proof = self
			.read_proof(std::slice::from_ref(&session_key), at)
			.await?;
		let Some(info) = read::<SessionInfo>(&proof, &session_key, "session")? else {
			return Ok(None);
		};
		let items = 1..=info.last_item;
		let steps = 0..info.steps();
		let mut keys = vec![storage_key(m().session_areas(), (session,))?];
		for id in items.clone() {
			keys.push(storage_key(m().requests(), (session, id))?);
			keys.push(storage_key(m().offers(), (session, id))?);
		}
		for step in steps.clone() {
			keys.push(storage_key(m().steps(), (session, step))?);
			keys.push(storage_key(m().step_awards(), (session, step))?);
		}
		for kind in ANCHORS {
			keys.push(storage_key(
				runtime::storage().certification().anchors(),
				(anchor_kind(kind), pallet_market::subject(session)),
			)?);
		}
		let proof = self.read_proof(&keys, at).await?;
		let mut keys = keys.iter();
		let mut next = || keys.next().map(Vec::as_slice).unwrap_or_default();
		let areas = read::<Vec<(u32, Option<u32>)>>(&proof, next(), "areas")?.unwrap_or_default();
		let (mut requests, mut offers) = (Vec::new(), Vec::new());
		for id in items {
			if let Some(r) = read::<Request<AccountId, Quantities>>(&proof, next(), "request")? {
				requests.push((id, r));
			}
			if let Some(o) = read::<Offer<AccountId, Quantities>>(&proof, next(), "offer")? {
				offers.push((id, o));
			}
		}
		let mut step_records = Vec::new();
		for _ in steps {
			let digest = read::<StepDigest>(&proof, next(), "step digest")?;
			let awards = read::<Vec<AwardRecord<AccountId>>>(&proof, next(), "step awards")?
				.unwrap_or_default();
			step_records.push((digest, awards));
		}
		let mut anchors = Vec::new();
		for kind in ANCHORS {
			if let Some(a) =
				read::<pallet_certification::Anchor<AccountId, u32>>(&proof, next(), "anchor")?
			{
				anchors.push((kind, a.digest, a.leaf_count, a.submitter));
			}
		}
		// The answers, one key per award.
		let mut award_refs = Vec::new();
		let mut keys = Vec::new();
		for (step, (_, awards)) in step_records.iter().enumerate() {
			for index in 0..awards.len() as u32 {
				let step = step as u16;
				award_refs.push(pallet_market::AwardRef { step, index });
				keys.push(storage_key(
					m().answers(),
					(
						session,
						runtime_types::pallet_market::types::AwardRef { step, index },
					),
				)?);
			}
		}
		let mut answers = BTreeMap::new();
		if !keys.is_empty() {
			let proof = self.read_proof(&keys, at).await?;
			for (award, key) in award_refs.into_iter().zip(&keys) {
				if let Some(light) = read::<Light>(&proof, key, "answer")? {
					answers.insert(award, light);
				}
			}
		}
		Ok(Some(Records {
			info,
			areas,
			requests,
			offers,
			steps: step_records,
			answers,
			anchors,
		}))
	}
}
