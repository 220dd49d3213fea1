//! `platone audit`: re-checks what others rely on.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use pallet_settlement::{audit::Rerun, Rule};
use platone_chain::Chain;
use platone_scd::AnyStore;

use crate::verify::{self, AuthoritySetFile, CHAIN, MALFORMED, NOT_CERTIFIED};
use platone::{config::Config, market::session_market};

const DIFFERENCES: i32 = 1;

/// `platone market clear FILE`: the exit code.
pub fn clear(path: &Path, exact_limit: usize) -> i32 {
	let cleared = verify::read(path).and_then(|text| {
		platone::market::clear_json(&text, exact_limit).map_err(|why| (MALFORMED, why))
	});
	match cleared {
		Ok(outcome) => {
			println!("{outcome}");
			0
		}
		Err((code, why)) => {
			eprintln!("NOT CLEARED: {why}");
			code
		}
	}
}

/// `platone audit market --session N`: the exit code.
pub async fn market(
	rpc: &str,
	insecure: bool,
	session: u32,
	authority_set: Option<&Path>,
	export: Option<&Path>,
) -> i32 {
	match run_audit(rpc, insecure, session, authority_set, export).await {
		Ok(code) => code,
		Err((code, why)) => {
			eprintln!("NOT AUDITED: {why}");
			code
		}
	}
}

async fn run_audit(
	rpc: &str,
	insecure: bool,
	session: u32,
	authority_set: Option<&Path>,
	export: Option<&Path>,
) -> Result<i32, (i32, String)> {
	let malformed = |e: platone_chain::Error| (MALFORMED, e.to_string());
	let default = platone_chain::market::default_light().map_err(malformed)?;
	let market = platone_chain::market::market_account().map_err(malformed)?;
	let (records, at, number, finality) =
		finalized_session(rpc, insecure, session, authority_set, async |chain, at| {
			chain.market_session(session, at).await
		})
		.await?;
	if let Some(path) = export {
		let json = serde_json::to_string_pretty(&session_market(&records))
			.map_err(|e| (MALFORMED, e.to_string()))?;
		std::fs::write(path, json).map_err(|e| (MALFORMED, format!("{}: {e}", path.display())))?;
	}
	let report = pallet_market::audit::audit(&records, default, &market);
	for d in &report.differences {
		match d.step {
			Some(step) => println!("{} step {step}: {}", d.finding.as_str(), d.detail),
			None => println!("{}: {}", d.finding.as_str(), d.detail),
		}
	}
	let info = &records.info;
	println!(
		"audited session {session} ({:?}, {:?}): {} requests, {} offers, {} of {} steps \
		 recomputed, {} validated, {} awards; {} differences{}; read by storage proof at \
		 finalized block #{number} 0x{}, finality {finality}",
		info.kind,
		info.phase,
		info.requests,
		info.offers,
		report.steps_cleared,
		info.steps(),
		report.steps_validated,
		report.awards,
		report.differences.len(),
		if report.pending.is_empty() {
			String::new()
		} else {
			format!(" ({})", report.pending.join("; "))
		},
		hex::encode(at),
	);
	Ok(if report.is_clean() { 0 } else { DIFFERENCES })
}

/// A session's records read by `read` under storage proofs at the finalized head (its
/// finality proven against `authority_set` if given): the records, the block's hash and
/// number, and how finality was established.
async fn finalized_session<R>(
	rpc: &str,
	insecure: bool,
	session: u32,
	authority_set: Option<&Path>,
	read: impl AsyncFnOnce(&Chain, platone_primitives::Hash) -> platone_chain::Result<Option<R>>,
) -> Result<(R, platone_primitives::Hash, u64, String), (i32, String)> {
	let pinned = authority_set.map(AuthoritySetFile::load).transpose()?;
	let unreachable = |e: platone_chain::Error| (CHAIN, e.to_string());
	let chain = Chain::connect(rpc, insecure).await.map_err(unreachable)?;
	let (at, number, finality) = verify::finalized_head(&chain, pinned.as_ref()).await?;
	let records = read(&chain, at)
		.await
		.map_err(unreachable)?
		.ok_or_else(|| {
			(
				NOT_CERTIFIED,
				format!("no session {session} in the state of finalized block #{number}"),
			)
		})?;
	Ok((records, at, number, finality))
}

/// `platone audit settlement --session N`: the exit code.
pub async fn settlement(
	rpc: &str,
	insecure: bool,
	session: u32,
	authority_set: Option<&Path>,
	scd: Option<&str>,
) -> i32 {
	match run_settlement_audit(rpc, insecure, session, authority_set, scd).await {
		Ok(code) => code,
		Err((code, why)) => {
			eprintln!("NOT AUDITED: {why}");
			code
		}
	}
}

async fn run_settlement_audit(
	rpc: &str,
	insecure: bool,
	session: u32,
	authority_set: Option<&Path>,
	scd: Option<&str>,
) -> Result<i32, (i32, String)> {
	let malformed = |e: platone_chain::Error| (MALFORMED, e.to_string());
	// Opened first: an SCD that cannot be read is a usage error, not a finding.
	let store = match scd {
		Some(url) => Some(
			AnyStore::open_current(url)
				.await
				.map_err(|e| (MALFORMED, format!("opening the SCD: {e:#}")))?,
		),
		None => None,
	};
	let terms = platone_chain::settlement::default_terms().map_err(malformed)?;
	let tolerance = platone_chain::settlement::max_tolerance().map_err(malformed)?;
	let pallet = platone_chain::settlement::settlement_account().map_err(malformed)?;
	// With the records, the code of every contract mechanism they name, from the same block.
	let ((records, codes, per_fuel), at, number, finality) =
		finalized_session(rpc, insecure, session, authority_set, async |chain, at| {
			let Some(records) = chain.settlement_session(session, at).await? else {
				return Ok(None);
			};
			let per_fuel = chain.ref_time_per_fuel().await?;
			let mut codes = BTreeMap::new();
			for (_, rule) in records.mechanisms.values() {
				if let Some(Rule::Contract { contract, .. }) = rule {
					if !codes.contains_key(contract) {
						let code = chain.contract_code(contract, at).await?;
						codes.insert(contract.clone(), code);
					}
				}
			}
			Ok(Some((records, codes, per_fuel)))
		})
		.await?;
	// Each contract answer is run again here, with what its gas buys in fuel; a contract
	// that is gone or needs more of the host than a mechanism does is said so.
	let mut not_run = BTreeMap::new();
	let report = pallet_settlement::audit::audit(
		&records,
		terms,
		tolerance,
		&pallet,
		|contract, input, gas| {
			let code = match codes.get(contract) {
				Some(Some(code)) => code,
				_ => {
					not_run.insert(contract.clone(), "no code on chain".to_string());
					return Rerun::NotRun;
				}
			};
			match platone::mechanism::answer(code, input, gas / per_fuel) {
				Ok(answer) => Rerun::Ran(answer),
				Err(why) => {
					not_run.insert(contract.clone(), why.to_string());
					Rerun::NotRun
				}
			}
		},
	);
	for (finding, detail) in &report.findings {
		println!("{finding:?}: {detail}");
	}
	for (contract, why) in &not_run {
		println!("contract {contract} not run again: {why}");
	}
	let mut scd_differences = 0;
	if let Some(store) = &store {
		let (checked, differences) = platone::settle::scd_differences(store, &records)
			.await
			.map_err(|e| (MALFORMED, format!("reading the SCD: {e:#}")))?;
		for difference in &differences {
			println!("ScdMetering: {difference}");
		}
		scd_differences = differences.len();
		println!(
			"checked {checked} meterings against the SCD's certified readings: {scd_differences} \
			 differences"
		);
	}
	println!(
		"audited settlement of session {session}: {} awards, {} settled, {} final, {} contract \
		 answers run again, {} taken from the record within their bounds, {} settled before \
		 their metering; root {}; {} differences; read by storage proof at finalized block \
		 #{number} 0x{}, finality {finality}",
		report.awards,
		report.settled,
		report.final_outcomes,
		report.contracts_rerun,
		report.contract_answers,
		report.metered_since,
		report.root.map_or_else(|| "none".into(), hex::encode),
		report.findings.len(),
		hex::encode(at),
	);
	Ok(if report.is_clean() && scd_differences == 0 {
		0
	} else {
		DIFFERENCES
	})
}

/// `platone audit scd`: the exit code.
pub async fn scd(
	config: &Config,
	options: platone_scd::audit::Options,
	rpc: Option<String>,
	gateway: Option<String>,
) -> anyhow::Result<i32> {
	// Before any work: a missing gateway is a usage error, not a finding.
	let gateway = rpc
		.is_some()
		.then(|| config.gateway_account(gateway.as_deref()))
		.transpose()?;
	let store = AnyStore::open_current(&config.scd.url)
		.await
		.context("opening the SCD")?;
	let mut report = platone_scd::audit::audit(&store, &options).await?;
	if let (Some(rpc), Some(gateway)) = (rpc, gateway) {
		let chain = match platone_chain::Chain::connect(&rpc, config.certify.insecure).await {
			Ok(chain) => chain,
			Err(e) => {
				eprintln!("chain unreachable: {e}");
				return Ok(5);
			}
		};
		let (finalized, number) = chain.finalized().await?;
		for cert in std::mem::take(&mut report.certificates) {
			let on_chain = chain.certificate(&gateway, &cert.window, finalized).await?;
			let difference = match on_chain {
				None if cert.state == platone_scd::CertState::Certified => Some(format!(
					"certified by the SCD's record, absent at block #{number}"
				)),
				None => None,
				Some(c) if c.root != cert.root || c.leaves != cert.leaves() => Some(format!(
					"chain root {} over {} leaves, SCD root {} over {}",
					hex::encode(c.root),
					c.leaves,
					hex::encode(cert.root),
					cert.leaves()
				)),
				Some(_) => None,
			};
			if let Some(detail) = difference {
				report.differences.push(platone_scd::audit::Difference {
					finding: platone_scd::audit::Finding::Chain,
					window: cert.window,
					dataset: None,
					detail,
				});
			}
		}
	}
	for d in &report.differences {
		println!("{d}");
	}
	let counts: Vec<String> = report
		.counts()
		.into_iter()
		.map(|(f, n)| format!("{}={n}", f.as_str()))
		.collect();
	println!(
		"audited {} windows ({} certified), {} measurements proven, {} pending; {} differences{}{}",
		report.windows,
		report.certified,
		report.proven,
		report.pending,
		report.differences.len(),
		if counts.is_empty() { "" } else { ": " },
		counts.join(" ")
	);
	Ok(if report.is_clean() { 0 } else { 1 })
}
