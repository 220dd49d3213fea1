//! `platone audit`: re-checks what others rely on.

use anyhow::Context;
use platone_scd::AnyStore;

use platone::config::Config;

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
