//! `platone`: the off-chain roles of the Blockchain Access Layer behind one CLI.
//!
//! The library's `cli` parses the command line and `config` the config file; `serve` wires the
//! long-running roles together; `audit`, `verify` and `broker` are commands of their own.

use std::{path::PathBuf, time::Duration};

use anyhow::{bail, Context};
use clap::Parser;
use platone_ingest::sim;
use platone_scd::{wire::ProofDocument, AnyStore};
use tracing::info;

use platone::{
	cli::{Audit, Cli, Market, Role},
	config::Config,
};
use serve::{serve, shutdown_signal, Roles};

mod audit;
mod broker;
mod serve;
mod verify;

/// The proof document of one measurement, from whichever backend the config names.
async fn proof_document(
	config: &Config,
	gateway: Option<&str>,
	dataset: u64,
	timestamp_us: u64,
	sequence: u32,
) -> anyhow::Result<Option<ProofDocument>> {
	let gateway = config.gateway_account(gateway)?;
	let store = AnyStore::open_current(&config.scd.url)
		.await
		.context("opening the SCD")?;
	let proven = platone_scd::proof(&store, dataset, timestamp_us, sequence).await?;
	Ok(proven.map(|p| ProofDocument::new(&p, &gateway)))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn")),
		)
		.with_writer(std::io::stderr)
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
	// Both rustls backends are in the build (the node's libp2p brings ring): name one.
	rustls::crypto::aws_lc_rs::default_provider()
		.install_default()
		.map_err(|_| anyhow::anyhow!("a TLS crypto provider was installed twice"))?;
	let cli = Cli::parse();
	let mut config = Config::load(&cli)?;
	match cli.role {
		Role::Ingest => {
			serve(
				&config,
				Roles {
					ingest: true,
					certify: false,
					settle: false,
				},
			)
			.await
		}
		Role::Certify => {
			serve(
				&config,
				Roles {
					ingest: false,
					certify: true,
					settle: config.settle.enabled,
				},
			)
			.await
		}
		Role::Proof {
			gateway,
			dataset,
			timestamp_us,
			sequence,
		} => match proof_document(&config, gateway.as_deref(), dataset, timestamp_us, sequence)
			.await?
		{
			Some(doc) => {
				println!("{}", serde_json::to_string_pretty(&doc)?);
				Ok(())
			}
			None => bail!("no such measurement, or its window is not sealed yet"),
		},
		Role::Verify {
			proof,
			rpc,
			api,
			dataset,
			timestamp_us,
			sequence,
			ca,
			client_cert,
			client_key,
			token,
			authority_set,
		} => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let source = match (api, dataset, timestamp_us, sequence) {
				(Some(url), Some(dataset), Some(timestamp_us), Some(sequence)) => {
					verify::Source::Api(verify::FromApi {
						url,
						dataset,
						timestamp_us,
						sequence,
						ca,
						client: client_cert.zip(client_key),
						token,
					})
				}
				_ => verify::Source::File(proof.unwrap_or_else(|| PathBuf::from("-"))),
			};
			let code = verify::run(
				&source,
				&rpc,
				config.certify.insecure,
				authority_set.as_deref(),
			)
			.await;
			std::process::exit(code);
		}
		Role::Settle {
			session,
			rpc,
			follow,
			every_s,
		} => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let every =
				std::time::Duration::from_secs(every_s.unwrap_or(config.settle.every_s).max(1));
			let signer = platone_chain::keypair(&config.settle_suri()?)?;
			let gateway = platone_chain::market::AccountId::new(config.gateway_account(None)?);
			let store = platone_scd::AnyStore::open_current(&config.scd.url).await?;
			let max_awards: u32 = platone_chain::settlement::max_awards_per_call()?;
			let max_readings: u32 = platone_chain::settlement::max_readings()?;
			let Some(session) = session else {
				let (stop, stopped) = tokio::sync::watch::channel(false);
				tokio::spawn(async move {
					shutdown_signal().await;
					let _ = stop.send(true);
				});
				let metrics = platone::settle::Metrics::default();
				let worker = platone::settle::Worker {
					store: &store,
					signer: &signer,
					gateway: &gateway,
					max_awards: max_awards as usize,
					max_readings: max_readings as usize,
					metrics: &metrics,
				};
				platone::settle::follow(&rpc, config.certify.insecure, worker, every, stopped)
					.await;
				return Ok(());
			};
			let chain = match platone_chain::Chain::connect(&rpc, config.certify.insecure).await {
				Ok(chain) => chain,
				Err(e) => {
					eprintln!("chain unreachable: {e}");
					std::process::exit(5);
				}
			};
			loop {
				let report = platone::settle::run(
					&chain,
					&store,
					&signer,
					&gateway,
					session,
					max_awards as usize,
					max_readings as usize,
				)
				.await?;
				for why in &report.waiting {
					println!("waiting: {why}");
				}
				println!("{}", report.summary(session));
				if !follow || report.complete() {
					return Ok(());
				}
				tokio::select! {
					_ = tokio::time::sleep(every) => {}
					_ = tokio::signal::ctrl_c() => return Ok(()),
				}
			}
		}
		Role::Audit {
			what: Audit::Scd {
				from_ms,
				to_ms,
				pending_ms,
				rpc,
				gateway,
			},
		} => {
			let now_ms = std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.context("clock before 1970")?
				.as_millis() as u64;
			let options = platone_scd::audit::Options {
				from_ms,
				to_ms: to_ms.unwrap_or(now_ms),
				now_ms,
				pending_ms: pending_ms.unwrap_or(config.certify.grace_ms.saturating_add(60_000)),
			};
			let code = audit::scd(&config, options, rpc, gateway).await?;
			std::process::exit(code);
		}
		Role::Audit {
			what: Audit::Market {
				session,
				rpc,
				authority_set,
				export,
			},
		} => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let code = audit::market(
				&rpc,
				config.certify.insecure,
				session,
				authority_set.as_deref(),
				export.as_deref(),
			)
			.await;
			std::process::exit(code);
		}
		Role::Audit {
			what: Audit::Settlement {
				session,
				rpc,
				authority_set,
				with_scd,
			},
		} => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let code = audit::settlement(
				&rpc,
				config.certify.insecure,
				session,
				authority_set.as_deref(),
				with_scd.then_some(config.scd.url.as_str()),
			)
			.await;
			std::process::exit(code);
		}
		Role::Market {
			what: Market::Clear { file, exact_limit },
		} => std::process::exit(audit::clear(&file, exact_limit)),
		Role::AuthoritySet { rpc, from } => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let chain = platone_chain::Chain::connect(&rpc, config.certify.insecure).await?;
			let set = match from {
				Some(path) => {
					let pinned = verify::AuthoritySetFile::load(&path)
						.map_err(|(_, why)| anyhow::anyhow!(why))?;
					let (set, changes) = chain.follow_authority_set(&pinned).await?;
					info!(?changes, "followed the authority-set changes");
					set
				}
				None => {
					let (finalized, _) = chain.finalized().await?;
					chain.authority_set(finalized).await?
				}
			};
			println!(
				"{}",
				serde_json::to_string_pretty(&verify::AuthoritySetFile::from_set(&set))?
			);
			Ok(())
		}
		Role::Sim {
			pmus,
			rate,
			meters,
			seconds,
		} => {
			if let Some(p) = pmus {
				config.sim.pmus = p;
			}
			if let Some(r) = rate {
				config.sim.rate_hz = r;
			}
			if let Some(m) = meters {
				config.sim.meters = m;
			}
			let mut sim = config.sim()?;
			sim.duration = seconds.map(Duration::from_secs);
			let published = sim::run(sim, shutdown_signal()).await?;
			info!(published, "simulator stopped");
			Ok(())
		}
		Role::Broker => {
			broker::start(config.broker_addr()?)?;
			shutdown_signal().await;
			Ok(())
		}
		Role::Run { external_broker } => {
			if config.broker.embedded && !external_broker {
				broker::start(config.broker_addr()?)?;
			}
			let sim = config.sim()?;
			let simulator = tokio::spawn(sim::run(sim, shutdown_signal()));
			serve(
				&config,
				Roles {
					ingest: true,
					certify: config.certify.enabled,
					settle: config.settle.enabled,
				},
			)
			.await?;
			let published = simulator.await.context("simulator task")??;
			info!(published, "all roles stopped");
			Ok(())
		}
		Role::Config => {
			println!(
				"{}",
				toml::to_string_pretty(&config.redacted()).context("rendering the config")?
			);
			Ok(())
		}
	}
}
