//! The MQTT ingest loop.
//!
//! Two tasks: the event loop reads publishes into a bounded queue; the writer takes batches
//! from it, validates them, commits measurements and dead letters in one transaction, and only
//! then acknowledges every message of the batch. Backpressure: when the writer falls behind,
//! the queue fills, the event loop stops reading, and the broker holds further messages (its
//! in-flight window and queue); nothing is buffered without bound here.

use std::{sync::Arc, time::Duration};

use platone_scd::{DeadLetter, Measurement, Reason, Store};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, Publish, QoS, Transport};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::{
	now_us,
	payload::{self, Kind, Limits, Refusal, Topic},
	Directory, Error, Metrics,
};

/// Client certificate and trust anchor for mutual TLS with the broker.
#[derive(Clone, Debug)]
pub struct TlsFiles {
	pub ca: std::path::PathBuf,
	pub cert: std::path::PathBuf,
	pub key: std::path::PathBuf,
}

#[derive(Clone, Debug)]
pub struct Config {
	pub host: String,
	pub port: u16,
	/// Also the broker's session key: keep it stable across restarts.
	pub client_id: String,
	/// Topic segment of the gateway whose devices this ingest serves.
	pub gateway: String,
	pub tls: Option<TlsFiles>,
	pub username: Option<(String, String)>,
	/// Most messages per commit.
	pub batch_max: usize,
	/// Longest wait for a batch to fill before committing what there is.
	pub linger: Duration,
	/// Publishes held between the event loop and the writer.
	pub queue: usize,
	/// How far device time may run ahead of ours.
	pub max_future: Duration,
}

impl Config {
	pub fn new(host: impl Into<String>, port: u16, gateway: impl Into<String>) -> Self {
		let gateway = gateway.into();
		Config {
			host: host.into(),
			port,
			client_id: format!("platone-ingest-{gateway}"),
			gateway,
			tls: None,
			username: None,
			batch_max: 4_096,
			linger: Duration::from_millis(20),
			queue: 16_384,
			max_future: Duration::from_secs(60),
		}
	}

	pub fn topic_filter(&self) -> String {
		format!("platone/v1/{}/#", self.gateway)
	}

	fn options(&self) -> Result<MqttOptions, Error> {
		let mut o = MqttOptions::new(&self.client_id, &self.host, self.port);
		o.set_keep_alive(Duration::from_secs(30));
		// Persistent session + manual acks: unacknowledged messages are redelivered after a crash.
		o.set_clean_session(false);
		o.set_manual_acks(true);
		o.set_max_packet_size(1 << 20, 1 << 20);
		if let Some((user, password)) = &self.username {
			o.set_credentials(user, password);
		}
		if let Some(tls) = &self.tls {
			let read = |p: &std::path::Path| {
				std::fs::read(p).map_err(|e| Error::Tls(format!("{}: {e}", p.display())))
			};
			o.set_transport(Transport::tls(
				read(&tls.ca)?,
				Some((read(&tls.cert)?, read(&tls.key)?)),
				None,
			));
		}
		Ok(o)
	}
}

/// Validates one message: its measurements, or the dead letters it becomes.
pub fn process(
	topic: &str,
	payload: &[u8],
	directory: &Directory,
	limits: &Limits,
	received_ms: u64,
	out: &mut Vec<Measurement>,
	dead: &mut Vec<DeadLetter>,
) {
	let letter = |r: Refusal| DeadLetter {
		received_ms,
		source: topic.to_string(),
		reason: r.reason,
		detail: r.detail,
		payload: payload.to_vec(),
	};
	let t = match Topic::parse(topic) {
		Ok(t) => t,
		Err(r) => return dead.push(letter(r)),
	};
	if t.kind == Kind::Meter {
		// A meter's topic carries a MeterReadings document naming its meters by mRID.
		let lookup = |mrid: &str| directory.lookup(Kind::Meter, mrid);
		match payload::meter_readings(payload, limits, |mrid| lookup(mrid).map(|(d, _)| d)) {
			Err(r) => dead.push(letter(r)),
			Ok(meters) => {
				for (mrid, records) in meters {
					match records {
						Err(r) => dead.push(letter(r)),
						Ok(records) => {
							let window = lookup(&mrid).map_or(crate::DEFAULT_WINDOW_MS, |(_, w)| w);
							out.extend(
								records
									.iter()
									.map(|r| Measurement::new(r, window, received_ms)),
							);
						}
					}
				}
			}
		}
		return;
	}
	let Some((dataset, window)) = directory.lookup(t.kind, t.device) else {
		return dead.push(letter(Refusal::new(
			Reason::UnknownDevice,
			format!(
				"{} {:?} is not registered for gateway {:?}",
				t.kind.as_str(),
				t.device,
				t.gateway
			),
		)));
	};
	let parsed = match t.kind {
		Kind::Pmu => payload::pmu(payload, dataset, limits),
		_ => payload::sensor(payload, dataset, limits),
	};
	match parsed {
		Ok(records) => out.extend(
			records
				.iter()
				.map(|r| Measurement::new(r, window, received_ms)),
		),
		Err(r) => dead.push(letter(r)),
	}
}

/// Runs ingest until `shutdown` resolves, then commits and acknowledges what it holds.
pub async fn run<S: Store>(
	config: Config,
	directory: Arc<Directory>,
	store: Arc<S>,
	metrics: Arc<Metrics>,
	shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
	// Room for every ack of two batches, so that acking never waits on the event loop.
	let (client, mut eventloop) = AsyncClient::new(config.options()?, 2 * config.batch_max + 64);
	let (tx, mut rx) = mpsc::channel::<Publish>(config.queue);
	let filter = config.topic_filter();
	let subscriber = client.clone();
	let poller = tokio::spawn(async move {
		let mut backoff = Duration::from_millis(100);
		loop {
			match eventloop.poll().await {
				Ok(Event::Incoming(Packet::Publish(p))) => {
					if tx.send(p).await.is_err() {
						return;
					}
				}
				Ok(Event::Incoming(Packet::ConnAck(ack))) => {
					backoff = Duration::from_millis(100);
					info!(
						session_present = ack.session_present,
						"connected to the broker"
					);
					// A new session (first start, or a broker that lost it) has no subscription.
					if !ack.session_present {
						if let Err(e) = subscriber.try_subscribe(filter.clone(), QoS::AtLeastOnce) {
							error!("subscribe: {e}");
						}
					}
				}
				Ok(_) => {}
				Err(e) => {
					warn!("broker connection: {e}; retrying in {backoff:?}");
					tokio::time::sleep(backoff).await;
					backoff = (backoff * 2).min(Duration::from_secs(30));
				}
			}
		}
	});

	let mut shutdown = std::pin::pin!(shutdown);
	let mut batch: Vec<Publish> = Vec::with_capacity(config.batch_max);
	loop {
		let first = tokio::select! {
			p = rx.recv() => p,
			() = &mut shutdown => None,
		};
		let Some(first) = first else { break };
		batch.push(first);
		let deadline = tokio::time::Instant::now() + config.linger;
		while batch.len() < config.batch_max {
			match tokio::time::timeout_at(deadline, rx.recv()).await {
				Ok(Some(p)) => batch.push(p),
				_ => break,
			}
		}
		commit(&batch, &directory, &*store, &metrics, &config).await;
		for p in batch.drain(..) {
			client.ack(&p).await?;
		}
	}
	info!("ingest stopping");
	// Let the event loop send the last acks before disconnecting.
	let _ = client.disconnect().await;
	tokio::time::sleep(Duration::from_millis(200)).await;
	poller.abort();
	Ok(())
}

/// Commits one batch, retrying until the SCD takes it: its messages are not acked before.
async fn commit<S: Store>(
	batch: &[Publish],
	directory: &Directory,
	store: &S,
	metrics: &Metrics,
	config: &Config,
) {
	let now = now_us();
	let limits = Limits {
		now_us: now,
		max_future_us: config.max_future.as_micros() as u64,
	};
	let received_ms = now / 1_000;
	let mut measurements = Vec::with_capacity(batch.len());
	let mut dead = Vec::new();
	for p in batch {
		let topic = &p.topic;
		process(
			topic,
			&p.payload,
			directory,
			&limits,
			received_ms,
			&mut measurements,
			&mut dead,
		);
	}
	let mut backoff = Duration::from_millis(100);
	loop {
		match store.commit(&measurements, &dead).await {
			Ok(done) => {
				use std::sync::atomic::Ordering::Relaxed;
				metrics.messages.fetch_add(batch.len() as u64, Relaxed);
				metrics.stored.fetch_add(done.stored as u64, Relaxed);
				metrics.batches.fetch_add(1, Relaxed);
				observe_latency(metrics, &measurements);
				for letter in &dead {
					metrics.dead_lettered(letter.reason);
				}
				for _ in 0..done.duplicates {
					metrics.dead_lettered(Reason::Duplicate);
				}
				for _ in 0..done.conflicts {
					metrics.dead_lettered(Reason::Conflict);
				}
				debug!(
					messages = batch.len(),
					stored = done.stored,
					dead = done.dead_letters,
					"batch committed"
				);
				return;
			}
			Err(e) => {
				metrics
					.commit_errors
					.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
				error!("SCD commit failed, retrying in {backoff:?}: {e}");
				tokio::time::sleep(backoff).await;
				backoff = (backoff * 2).min(Duration::from_secs(10));
			}
		}
	}
}

/// Device time to now, for measurements just committed.
pub(crate) fn observe_latency(metrics: &Metrics, committed: &[Measurement]) {
	let now_ms = now_us() / 1_000;
	for m in committed {
		metrics
			.latency
			.observe_ms(now_ms.saturating_sub(m.timestamp_us / 1_000));
	}
}
