//! The certifier: SCD windows onto the chain, exactly once (FR-BAP-DM-02/03).
//!
//! Every tick it
//! 1. seals the windows that ended more than `grace` ago (late data then goes elsewhere, see
//!    `platone-scd`),
//! 2. builds the Merkle roots of sealed windows and keeps them in the SCD (the outbox),
//! 3. asks the chain, at its finalized head, whether each pending window is already on record
//!    (a submission that landed before a crash), and records those,
//! 4. submits the rest in one `certify` batch, waits for finality and records block, extrinsic
//!    and event per window.
//!
//! Roots are written before anything is submitted and never rebuilt, so a resubmission carries
//! the same root; the chain answers an identical retry with `AlreadyCertified` and keeps the
//! first certificate. A kill at any moment therefore loses no window and certifies none twice or
//! with another root.

use std::{sync::Arc, time::Duration};

use platone_chain::{Chain, Outcome};
use platone_scd::{CertState, Certificate, ChainRef, Store};
use prometheus_client::{
	metrics::{counter::Counter, gauge::Gauge},
	registry::Registry,
};
use tracing::{error, info, warn};

#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("SCD: {0}")]
	Store(#[from] platone_scd::Error),
	#[error("chain: {0}")]
	Chain(#[from] platone_chain::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone, Debug)]
pub struct Config {
	/// Node JSON-RPC (`ws://…`); plain `ws://` only to loopback unless `insecure`.
	pub rpc_url: String,
	pub insecure: bool,
	/// The gateway's signing key (secret URI).
	pub suri: String,
	/// How long after a window's end to wait for stragglers before sealing it.
	pub grace: Duration,
	pub tick: Duration,
	/// Most windows per `certify` (the runtime's `MaxWindowsPerBatch`).
	pub max_batch: u32,
	/// Longest a round against the chain may take (submission to finality included) before it
	/// is given up and retried on a new connection: a stalled node must not freeze the
	/// certifier.
	pub round_timeout: Duration,
}

impl Config {
	pub fn new(rpc_url: impl Into<String>, suri: impl Into<String>) -> Self {
		Config {
			rpc_url: rpc_url.into(),
			insecure: false,
			suri: suri.into(),
			grace: Duration::from_secs(10),
			tick: Duration::from_secs(1),
			max_batch: 6,
			round_timeout: Duration::from_secs(120),
		}
	}
}

/// Certifier counters and gauges, exposed with prometheus-client (OpenMetrics text) by the SCD
/// API at `GET /metrics`.
#[derive(Debug)]
pub struct Metrics {
	registry: Registry,
	pub sealed: Counter,
	pub certified: Counter,
	pub conflicts: Counter,
	pub submissions: Counter,
	pub failures: Counter,
	/// Window end to finalized certificate of the last certified window, ms.
	pub last_latency_ms: Gauge,
	/// Time to build the last sealed window's roots, ms: alert as it nears the window length.
	pub last_build_ms: Gauge,
	/// Measurements in the last sealed window.
	pub last_leaves: Gauge,
	/// Age of the oldest sealed window not yet certified on chain (now minus its end), ms; 0
	/// when none waits. Alert when it passes a few windows: the chain or the certifier is stuck.
	pub oldest_pending_ms: Gauge,
}

impl Default for Metrics {
	fn default() -> Self {
		let m = Metrics {
			registry: Registry::default(),
			sealed: Counter::default(),
			certified: Counter::default(),
			conflicts: Counter::default(),
			submissions: Counter::default(),
			failures: Counter::default(),
			last_latency_ms: Gauge::default(),
			last_build_ms: Gauge::default(),
			last_leaves: Gauge::default(),
			oldest_pending_ms: Gauge::default(),
		};
		let mut r = Registry::with_prefix("platone_certifier");
		for (name, help, counter) in [
			("windows_sealed", "Windows sealed", &m.sealed),
			(
				"windows_certified",
				"Windows certified on chain (finalized)",
				&m.certified,
			),
			(
				"conflicts",
				"Windows the chain holds with another root",
				&m.conflicts,
			),
			(
				"submissions",
				"certify extrinsics finalized",
				&m.submissions,
			),
			(
				"failures",
				"Failed submissions or chain reads (retried)",
				&m.failures,
			),
		] {
			r.register(name, help, counter.clone());
		}
		for (name, help, gauge) in [
			(
				"last_latency_ms",
				"Window end to finalized certificate, last window",
				&m.last_latency_ms,
			),
			(
				"last_build_ms",
				"Time to build the last sealed window's Merkle roots from the SCD",
				&m.last_build_ms,
			),
			(
				"last_window_leaves",
				"Measurements in the last sealed window",
				&m.last_leaves,
			),
			(
				"oldest_pending_ms",
				"Age of the oldest sealed window not yet certified on chain (0: none)",
				&m.oldest_pending_ms,
			),
		] {
			r.register(name, help, gauge.clone());
		}
		Metrics { registry: r, ..m }
	}
}

impl Metrics {
	/// The OpenMetrics text exposition.
	pub fn render(&self) -> String {
		let mut out = String::new();
		// Writing into a String cannot fail.
		let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
		out
	}
}

/// A gauge value from a count or duration.
fn gauge(v: u64) -> i64 {
	i64::try_from(v).unwrap_or(i64::MAX)
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Seals and builds what is due. Returns the number of windows sealed.
pub async fn close_windows<S: Store>(
	store: &S,
	grace: Duration,
	now_ms: u64,
	metrics: &Metrics,
) -> Result<usize> {
	let grace = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
	let mut sealed = 0;
	for window in store.closable_windows(now_ms.saturating_sub(grace)).await? {
		if store.seal(window).await? > 0 {
			sealed += 1;
		}
	}
	for window in store.unbuilt().await? {
		let started = std::time::Instant::now();
		if let Some(c) = store.build(window, now_ms).await? {
			let build_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
			metrics.last_build_ms.set(gauge(build_ms));
			metrics.last_leaves.set(gauge(c.leaves()));
			info!(
				window = c.window.start_ms,
				duration_ms = c.window.duration_ms,
				datasets = c.datasets.len(),
				leaves = c.leaves(),
				build_ms,
				"window sealed"
			);
		}
	}
	Ok(sealed)
}

/// One round against the chain: reconcile pending windows with finalized state, submit the rest.
/// Returns the number of windows newly recorded as certified.
pub async fn certify_pending<S: Store>(
	store: &S,
	chain: &Chain,
	key: &platone_chain::Keypair,
	max_batch: u32,
	metrics: &Metrics,
) -> Result<usize> {
	let pending = store.certificates(CertState::Sealed, max_batch).await?;
	if pending.is_empty() {
		return Ok(0);
	}
	let gateway = platone_chain::account_of(key);
	let (finalized, _) = chain.finalized().await?;
	let mut recorded = 0;
	let mut to_submit: Vec<&Certificate> = Vec::new();
	for c in &pending {
		match chain.certificate(&gateway, &c.window, finalized).await? {
			None => to_submit.push(c),
			Some(on_chain) => {
				// Landed earlier (e.g. before a crash): record where, without resubmitting.
				let block_number = u64::from(on_chain.certified_at);
				let reference = ChainRef {
					block_number,
					// A certificate in finalized state names a block the node must know; never
					// record a zero hash for it (the round fails and is retried).
					block_hash: chain.block_hash(block_number).await?.ok_or_else(|| {
						platone_chain::Error::Decode(format!(
							"no hash for block #{block_number}, where a finalized certificate was recorded"
						))
					})?,
					extrinsic_index: None,
					event: "state".into(),
				};
				recorded += record(store, c, on_chain.root, &reference, metrics).await?;
			}
		}
	}
	if to_submit.is_empty() {
		return Ok(recorded);
	}
	let batch: Vec<_> = to_submit
		.iter()
		.map(|c| (c.window, c.datasets.clone()))
		.collect();
	let submitted = now_ms();
	let done = chain.certify(key, &batch).await?;
	metrics.submissions.inc();
	for (window, outcome) in &done.outcomes {
		let Some(c) = to_submit.iter().find(|c| c.window == *window) else {
			continue;
		};
		let (event, on_chain_root) = match outcome {
			Outcome::Certified => ("Certified", c.root),
			Outcome::AlreadyCertified => ("AlreadyCertified", c.root),
			Outcome::Conflict { certified } => ("Conflict", *certified),
		};
		let reference = ChainRef {
			block_number: done.block_number,
			block_hash: done.block_hash,
			extrinsic_index: Some(done.extrinsic_index),
			event: event.into(),
		};
		if let Some(at) = done.block_time_ms {
			let end = c
				.window
				.start_ms
				.saturating_add(u64::from(c.window.duration_ms));
			// Parts of the latency (docs/benchmarks.md): window end to inclusion, then finality.
			info!(
				window = c.window.start_ms,
				submitted_ms = submitted.saturating_sub(end),
				included_ms = at.saturating_sub(end),
				"window included"
			);
		}
		recorded += record(store, c, on_chain_root, &reference, metrics).await?;
	}
	Ok(recorded)
}

async fn record<S: Store>(
	store: &S,
	c: &Certificate,
	on_chain_root: platone_primitives::Hash,
	reference: &ChainRef,
	metrics: &Metrics,
) -> Result<usize> {
	if on_chain_root != c.root {
		error!(
			window = c.window.start_ms,
			duration_ms = c.window.duration_ms,
			"CONFLICT: the chain holds another root for this window; the SCD or the gateway \
			 key is compromised, or another certifier runs with this key"
		);
		metrics.conflicts.inc();
		store
			.record_outcome(c.window, CertState::Conflict, reference)
			.await?;
		return Ok(0);
	}
	store
		.record_outcome(c.window, CertState::Certified, reference)
		.await?;
	let end = c
		.window
		.start_ms
		.saturating_add(u64::from(c.window.duration_ms));
	let latency = now_ms().saturating_sub(end);
	metrics.certified.inc();
	metrics.last_latency_ms.set(gauge(latency));
	info!(
		window = c.window.start_ms,
		duration_ms = c.window.duration_ms,
		leaves = c.leaves(),
		block = reference.block_number,
		event = %reference.event,
		latency_ms = latency,
		"window certified"
	);
	Ok(1)
}

/// Runs until `shutdown` resolves. Chain and SCD failures are logged and retried with backoff;
/// the node may restart underneath. Sealing runs on its own, so windows keep closing on time
/// while the chain is slow, stalled or away; each round against the chain is bounded by
/// `round_timeout`.
pub async fn run<S: Store>(
	config: Config,
	store: Arc<S>,
	metrics: Arc<Metrics>,
	shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
	let key = platone_chain::keypair(&config.suri)?;
	info!(
		gateway = %platone_chain::ss58(&key),
		rpc = %config.rpc_url,
		"certifier starting"
	);
	let sealing = async {
		let mut backoff = config.tick;
		loop {
			tokio::time::sleep(backoff).await;
			match close_windows(&*store, config.grace, now_ms(), &metrics).await {
				Ok(sealed) => {
					metrics.sealed.inc_by(sealed as u64);
					backoff = config.tick;
				}
				Err(e) => {
					metrics.failures.inc();
					backoff = (backoff * 2).clamp(config.tick, Duration::from_secs(60));
					warn!("sealing: {e}; retrying in {backoff:?}");
				}
			}
		}
	};
	let submitting = async {
		let mut chain: Option<Chain> = None;
		let mut backoff = config.tick;
		loop {
			tokio::time::sleep(backoff).await;
			if let Err(e) = oldest_pending(&*store, &metrics).await {
				warn!("reading the outbox: {e}");
			}
			let round = async {
				if chain.is_none() {
					chain = Some(Chain::connect(&config.rpc_url, config.insecure).await?);
					info!("connected to the chain");
				}
				if let Some(c) = &chain {
					certify_pending(&*store, c, &key, config.max_batch, &metrics).await?;
				}
				Ok::<_, Error>(())
			};
			let result = match tokio::time::timeout(config.round_timeout, round).await {
				Ok(result) => result,
				Err(_) => Err(Error::Chain(platone_chain::Error::Rpc(format!(
					"no answer within {:?}: the node is stalled or unreachable",
					config.round_timeout
				)))),
			};
			match result {
				Ok(()) => backoff = config.tick,
				Err(e) => {
					metrics.failures.inc();
					if matches!(e, Error::Chain(_)) {
						chain = None;
					}
					backoff = (backoff * 2).clamp(config.tick, Duration::from_secs(60));
					warn!("certifier: {e}; retrying in {backoff:?}");
				}
			}
		}
	};
	// A submission in flight when shutdown comes is left to land or not: the next start finds it
	// on chain or submits it again. A seal in flight rolls back whole.
	tokio::select! {
		() = shutdown => {}
		() = sealing => {}
		() = submitting => {}
	}
	info!("certifier stopped");
	Ok(())
}

/// Updates the age of the oldest window waiting for the chain.
async fn oldest_pending<S: Store>(store: &S, metrics: &Metrics) -> Result<()> {
	let oldest = store.certificates(CertState::Sealed, 1).await?;
	let age = oldest.first().map_or(0, |c| {
		let end = c
			.window
			.start_ms
			.saturating_add(u64::from(c.window.duration_ms));
		now_ms().saturating_sub(end)
	});
	metrics.oldest_pending_ms.set(gauge(age));
	Ok(())
}
