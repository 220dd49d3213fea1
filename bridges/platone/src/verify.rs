//! `platone verify`: one measurement against the chain, without trusting the SCD that produced
//! the proof nor the node that answers. The certificate is read through a storage proof checked
//! against the finalized block's header (its hash and state root); what is trusted is only that
//! this block hash is finalized, which any node of the consortium can confirm.

use std::{io::Read, path::Path};

use codec::Decode;
use platone_chain::{certificate_key, Chain, OnChainCertificate};
use platone_primitives::{verify_measurement, Blake2_256, MeasurementRecord};
use platone_scd::wire::{to_hex, ProofDocument};

/// Exit codes.
const NOT_CERTIFIED: i32 = 2;
const MISMATCH: i32 = 3;
const MALFORMED: i32 = 4;
const CHAIN: i32 = 5;

pub async fn run(path: &Path, rpc: &str, insecure: bool) -> i32 {
	match verify(path, rpc, insecure).await {
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

async fn verify(path: &Path, rpc: &str, insecure: bool) -> Result<String, (i32, String)> {
	let malformed = |e: String| (MALFORMED, e);
	let text = if path.as_os_str() == "-" {
		let mut s = String::new();
		std::io::stdin()
			.read_to_string(&mut s)
			.map_err(|e| malformed(format!("standard input: {e}")))?;
		s
	} else {
		std::fs::read_to_string(path).map_err(|e| malformed(format!("{}: {e}", path.display())))?
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
	let (finalized, number) = chain.finalized().await.map_err(unreachable)?;
	let key = certificate_key(&gateway, &window);
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
		 #{number} {}",
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
