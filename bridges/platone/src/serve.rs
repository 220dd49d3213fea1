//! Wiring: the long-running roles in one process, one shutdown for all.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use platone_ingest::{http, mqtt, Metrics};
use platone_scd::AnyStore;
use tracing::info;

use platone::config::{tls_files, AuthConfig, Config};

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
	let ctrl_c = tokio::signal::ctrl_c();
	#[cfg(unix)]
	{
		let mut term =
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(term) => term,
				Err(e) => {
					// Ctrl-C still stops it.
					tracing::warn!("no SIGTERM handler ({e}): stop with Ctrl-C (SIGINT)");
					let _ = ctrl_c.await;
					info!("shutdown requested");
					return;
				}
			};
		tokio::select! {
			_ = ctrl_c => {},
			_ = term.recv() => {},
		}
	}
	#[cfg(not(unix))]
	let _ = ctrl_c.await;
	info!("shutdown requested");
}

/// Which store-backed roles run in this process.
#[derive(Clone, Copy)]
pub struct Roles {
	pub ingest: bool,
	pub certify: bool,
	/// The settlement worker, following every session.
	pub settle: bool,
}

/// Runs the store-backed roles (ingest with its HTTP server, certifier with the SCD API, the
/// settlement worker) until shutdown, on the SCD the config names.
pub async fn serve(config: &Config, roles: Roles) -> anyhow::Result<()> {
	// Read once, before anything starts: the keys may come from files.
	let certifier_config = roles.certify.then(|| config.certifier()).transpose()?;
	let settle_config = roles
		.settle
		.then(|| {
			Ok::<_, anyhow::Error>((
				platone_chain::keypair(&config.settle_suri()?)?,
				platone_chain::market::AccountId::new(config.gateway_account(None)?),
				platone_chain::settlement::max_awards_per_call()?,
				platone_chain::settlement::max_readings()?,
			))
		})
		.transpose()?;
	// Only ingest needs the devices (and their gateway's name); a certifier runs without them.
	let ingest_config = roles
		.ingest
		.then(|| Ok::<_, anyhow::Error>((Arc::new(config.directory()?), config.ingest()?)))
		.transpose()?;
	let store = Arc::new(
		AnyStore::open(&config.scd.url)
			.await
			.context("opening the SCD")?,
	);
	let metrics = Arc::new(Metrics::default());
	// One shutdown for every role: MQTT commits and acks what it holds, HTTP finishes requests.
	let (stop, stopped) = tokio::sync::watch::channel(false);
	tokio::spawn(async move {
		shutdown_signal().await;
		let _ = stop.send(true);
	});
	let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
		let _ = rx.wait_for(|stop| *stop).await;
	};
	// Served by the SCD API at /metrics.
	let certifier_metrics = Arc::new(platone_certifier::Metrics::default());
	let settle_metrics = Arc::new(platone::settle::Metrics::default());
	let api = match (&certifier_config, config.api.listen) {
		(Some(c), Some(addr)) => {
			let gateway = platone_chain::account_of(&platone_chain::keypair(&c.suri)?);
			let auth = config.api.auth.as_ref().map(AuthConfig::load).transpose()?;
			let tls = tls_files(
				"api",
				&config.api.tls_cert,
				&config.api.tls_key,
				&config.api.tls_client_ca,
			)?;
			let settling = settle_config.is_some();
			let metrics: Option<platone_api::MetricsSource> = certifier_config.as_ref().map(|_| {
				let m = certifier_metrics.clone();
				let s = settle_metrics.clone();
				Arc::new(move || {
					if !settling {
						return m.render();
					}
					// One exposition: the certifier's without its closing line, then the
					// worker's.
					let mut out = m.render();
					platone::settle::strip_eof(&mut out);
					out.push_str(&s.render(true));
					out
				}) as platone_api::MetricsSource
			});
			let state = Arc::new(platone_api::Api {
				store: store.clone(),
				gateway,
				auth,
				metrics,
			});
			// Bound here, so that a taken port or an exposed bind fails the process at start.
			let server = platone_api::bind(addr, tls.as_ref(), &state).await?;
			Some(tokio::spawn(platone_api::serve(
				server,
				state,
				until_stopped(stopped.clone()),
			)))
		}
		_ => None,
	};
	let settler = settle_config.map(|(signer, gateway, max_awards, max_readings)| {
		let store = store.clone();
		let rpc = config.certify.rpc.clone();
		let insecure = config.certify.insecure;
		let every = Duration::from_secs(config.settle.every_s.max(1));
		let stopped = stopped.clone();
		let metrics = settle_metrics.clone();
		tokio::spawn(async move {
			let worker = platone::settle::Worker {
				store: &*store,
				signer: &signer,
				gateway: &gateway,
				max_awards: max_awards as usize,
				max_readings: max_readings as usize,
				metrics: &metrics,
			};
			platone::settle::follow(&rpc, insecure, worker, every, stopped).await;
		})
	});
	let certifier = certifier_config.map(|c| {
		tokio::spawn(platone_certifier::run(
			c,
			store.clone(),
			certifier_metrics.clone(),
			until_stopped(stopped.clone()),
		))
	});
	if let Some((directory, mqtt_config)) = ingest_config {
		info!(devices = directory.len(), gateway = %mqtt_config.gateway, "ingest starting");
		let http = match config.http.listen {
			Some(addr) => {
				let state = Arc::new(http::Ingest {
					store: store.clone(),
					directory: directory.clone(),
					metrics: metrics.clone(),
					max_future: Duration::from_secs(60),
					auth: config
						.http
						.auth
						.as_ref()
						.map(AuthConfig::load)
						.transpose()?,
				});
				let tls = tls_files(
					"http",
					&config.http.tls_cert,
					&config.http.tls_key,
					&config.http.tls_client_ca,
				)?;
				let server = http::bind(addr, tls.as_ref(), &state).await?;
				Some(tokio::spawn(http::serve(
					server,
					state,
					until_stopped(stopped.clone()),
				)))
			}
			None => None,
		};
		let pruner = tokio::spawn(platone_ingest::prune_dead_letters(
			store.clone(),
			Duration::from_secs(
				config
					.ingest
					.dead_letter_retention_days
					.saturating_mul(86_400),
			),
			config.ingest.dead_letter_max,
			Duration::from_secs(3_600),
			until_stopped(stopped.clone()),
		));
		mqtt::run(
			mqtt_config,
			directory,
			store,
			metrics.clone(),
			until_stopped(stopped.clone()),
		)
		.await?;
		pruner.abort();
		if let Some(http) = http {
			http.await.context("HTTP task")??;
		}
		info!("ingest stopped:\n{}", metrics.render());
	}
	if let Some(certifier) = certifier {
		certifier.await.context("certifier task")??;
	}
	if let Some(settler) = settler {
		settler.await.context("settlement task")?;
	}
	if let Some(api) = api {
		api.await.context("API task")??;
	}
	Ok(())
}
