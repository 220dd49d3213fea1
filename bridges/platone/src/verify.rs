//! `platone verify`: one measurement against the chain, without trusting the SCD that produced
//! the proof nor the node that answers. The certificate is read through a storage proof checked
//! against the finalized block's header (its hash and state root). Which block is finalized is
//! the node's word, unless the auditor pins the GRANDPA authority set (`--authority-set`): then a
//! justification signed by two thirds of that set proves it, and no node need be trusted.

use std::path::{Path, PathBuf};

use codec::Decode;
use platone_chain::{
	certificate_key,
	finality::{verify_justification, AuthoritySet},
	Chain, OnChainCertificate,
};
use platone_primitives::{verify_measurement, Blake2_256, MeasurementRecord};
use platone_scd::wire::{to_hex, ProofDocument};

/// Exit codes.
pub(crate) const NOT_CERTIFIED: i32 = 2;
pub(crate) const MISMATCH: i32 = 3;
pub(crate) const MALFORMED: i32 = 4;
pub(crate) const CHAIN: i32 = 5;
pub(crate) const NOT_FINAL: i32 = 6;

/// A pinned GRANDPA authority set, as `platone authority-set` prints it.
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthoritySetFile {
	pub set_id: u64,
	pub authorities: Vec<AuthorityEntry>,
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorityEntry {
	/// ed25519 public key, 0x-prefixed hex.
	pub key: String,
	pub weight: u64,
}

impl AuthoritySetFile {
	pub fn from_set(set: &AuthoritySet) -> Self {
		AuthoritySetFile {
			set_id: set.set_id,
			authorities: set
				.authorities
				.iter()
				.map(|(key, weight)| AuthorityEntry {
					key: to_hex(key),
					weight: *weight,
				})
				.collect(),
		}
	}

	pub fn load(path: &Path) -> Result<AuthoritySet, (i32, String)> {
		let bad = |e: String| (MALFORMED, format!("{}: {e}", path.display()));
		let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
		let file: AuthoritySetFile = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
		let authorities = file
			.authorities
			.iter()
			.map(|a| {
				let key = platone_scd::wire::from_hex(&a.key).map_err(|e| bad(e.to_string()))?;
				let key: [u8; 32] = key
					.try_into()
					.map_err(|_| bad(format!("key {} is not 32 bytes", a.key)))?;
				Ok((key, a.weight))
			})
			.collect::<Result<_, _>>()?;
		Ok(AuthoritySet {
			set_id: file.set_id,
			authorities,
		})
	}
}

/// Where the proof document comes from.
pub enum Source {
	/// A file, or `-` for standard input.
	File(PathBuf),
	Api(FromApi),
}

/// A measurement to fetch from an SCD API.
pub struct FromApi {
	pub url: String,
	pub dataset: u64,
	pub timestamp_us: u64,
	pub sequence: u32,
	pub ca: Option<PathBuf>,
	/// Client certificate chain and key (PEM), for an API that requires mutual TLS.
	pub client: Option<(PathBuf, PathBuf)>,
	pub token: Option<String>,
}

pub async fn run(source: &Source, rpc: &str, insecure: bool, authority_set: Option<&Path>) -> i32 {
	let pinned = match authority_set.map(AuthoritySetFile::load).transpose() {
		Ok(pinned) => pinned,
		Err((code, why)) => {
			eprintln!("NOT VERIFIED: {why}");
			return code;
		}
	};
	match verify(source, rpc, insecure, pinned.as_ref()).await {
		Ok(report) => {
			println!("{report}");
			0
		}
		Err((code, why)) => {
			eprintln!("NOT VERIFIED: {why}");
			code
		}
	}
}

/// A file's text, or standard input's for `-`; unreadable input is `MALFORMED`.
pub(crate) fn read(path: &Path) -> Result<String, (i32, String)> {
	if path.as_os_str() == "-" {
		std::io::read_to_string(std::io::stdin())
			.map_err(|e| (MALFORMED, format!("standard input: {e}")))
	} else {
		std::fs::read_to_string(path).map_err(|e| (MALFORMED, format!("{}: {e}", path.display())))
	}
}

/// GET the proof document from an SCD API.
async fn fetch(api: &FromApi) -> Result<String, (i32, String)> {
	let client = platone_http::Client::new(
		&platone_http::ClientTls {
			ca: api.ca.clone(),
			identity: api.client.clone(),
		},
		std::time::Duration::from_secs(30),
	)
	.map_err(|e| (MALFORMED, e.to_string()))?;
	let url = format!(
		"{}/v1/measurements/{}/{}/{}/proof",
		api.url.trim_end_matches('/'),
		api.dataset,
		api.timestamp_us,
		api.sequence
	);
	let (status, body) = client
		.get(&url, api.token.as_deref())
		.await
		.map_err(|e| match e {
			platone_http::ClientError::Config(why) => (MALFORMED, why),
			platone_http::ClientError::Unreachable(why) => (CHAIN, format!("SCD API: {why}")),
		})?;
	let body = String::from_utf8_lossy(&body).into_owned();
	match status {
		200 => Ok(body),
		404 => Err((NOT_CERTIFIED, format!("SCD API: {body}"))),
		_ => Err((CHAIN, format!("SCD API: HTTP {status}: {body}"))),
	}
}

async fn verify(
	source: &Source,
	rpc: &str,
	insecure: bool,
	pinned: Option<&AuthoritySet>,
) -> Result<String, (i32, String)> {
	let malformed = |e: String| (MALFORMED, e);
	let text = match source {
		Source::File(path) => read(path)?,
		Source::Api(api) => fetch(api).await?,
	};
	let doc: ProofDocument =
		serde_json::from_str(&text).map_err(|e| malformed(format!("proof document: {e}")))?;
	let proof = doc.proof().map_err(|e| malformed(e.to_string()))?;
	let gateway = doc.gateway().map_err(|e| malformed(e.to_string()))?;
	let window = doc.window();

	// The leaf must be the measurement the document claims, in the dataset it claims.
	let record = MeasurementRecord::decode(&mut &proof.leaf[..])
		.map_err(|e| (MISMATCH, format!("the record does not decode: {e}")))?;
	if (record.dataset, record.timestamp_us, record.sequence)
		!= (doc.dataset, doc.timestamp_us, doc.sequence)
		|| proof.dataset.dataset != doc.dataset
	{
		return Err((
			MISMATCH,
			"the record is not the measurement the document names".into(),
		));
	}
	if !window.contains(record.timestamp_us / 1_000) && !doc.late {
		return Err((MISMATCH, "the measurement lies outside its window".into()));
	}

	let unreachable = |e: platone_chain::Error| (CHAIN, e.to_string());
	let chain = Chain::connect(rpc, insecure).await.map_err(unreachable)?;
	let (finalized, number, finality) = finalized_head(&chain, pinned).await?;
	let key = certificate_key(&gateway, &window).map_err(|e| (MALFORMED, e.to_string()))?;
	let state = chain
		.read_proof(std::slice::from_ref(&key), finalized)
		.await
		.map_err(unreachable)?;
	let (_, value) = state
		.read(&key)
		.map_err(|e| (CHAIN, format!("the node's state proof is invalid: {e}")))?;
	let Some(value) = value else {
		return Err((
			NOT_CERTIFIED,
			format!(
				"window {}+{} ms of gateway {} is not certified as of finalized block #{number}",
				window.start_ms,
				window.duration_ms,
				to_hex(&gateway)
			),
		));
	};
	let certificate = OnChainCertificate::decode(&mut &value[..])
		.map_err(|e| (CHAIN, format!("certificate in state: {e}")))?;
	verify_measurement::<Blake2_256>(&certificate.root, &proof).map_err(|e| {
		(
			MISMATCH,
			format!(
				"the measurement does not prove against the certified root {}: {e:?}",
				to_hex(&certificate.root)
			),
		)
	})?;
	Ok(format!(
		"VERIFIED: dataset {} time {} µs sequence {} is in window {}+{} ms of gateway {}, \
		 certified at block #{} with root {}; checked by storage proof against finalized block \
		 #{number} {}, finality {finality}",
		doc.dataset,
		doc.timestamp_us,
		doc.sequence,
		window.start_ms,
		window.duration_ms,
		to_hex(&gateway),
		certificate.certified_at,
		to_hex(&certificate.root),
		to_hex(&finalized),
	))
}

/// The finalized head to read from: the node's word, or with `pinned`, a block proven final by
/// a justification of the pinned GRANDPA set (followed through any validator changes). With a
/// description of how it was established, for the report.
pub async fn finalized_head(
	chain: &Chain,
	pinned: Option<&AuthoritySet>,
) -> Result<(platone_primitives::Hash, u64, String), (i32, String)> {
	let unreachable = |e: platone_chain::Error| (CHAIN, e.to_string());
	Ok(match pinned {
		None => {
			let (hash, number) = chain.finalized().await.map_err(unreachable)?;
			(hash, number, "as the node reports it".to_string())
		}
		Some(pinned) => {
			// The pinned set may be some validator changes old: follow them, each proven.
			let (set, changes) = chain
				.follow_authority_set(pinned)
				.await
				.map_err(|e| match e {
					platone_chain::Error::Finality(why) => (NOT_FINAL, why),
					other => unreachable(other),
				})?;
			let set = &set;
			// GRANDPA finalizes every few seconds on a live chain.
			let justification =
				tokio::time::timeout(std::time::Duration::from_secs(60), chain.justification())
					.await
					.map_err(|_| (NOT_FINAL, "no block finalized within 60 s".to_string()))?
					.map_err(unreachable)?;
			let f = verify_justification(&justification, set)
				.map_err(|e| (NOT_FINAL, e.to_string()))?;
			(
				f.block_hash,
				u64::from(f.block_number),
				format!(
					"proven by a GRANDPA justification (round {}) signed by {} of the {} \
					 authorities of set {}{}",
					f.round,
					f.signers,
					f.of,
					set.set_id,
					if changes.is_empty() {
						" (the pinned set)".to_string()
					} else {
						format!(
							", reached from the pinned set {} through the changes at blocks {:?}",
							pinned.set_id, changes
						)
					}
				),
			)
		}
	})
}
