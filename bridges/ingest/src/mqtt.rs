//! The MQTT ingest loop.
//!
//! Two tasks: the event loop hands publishes to the writer through a bounded queue; the writer
//! takes batches from it, validates them, commits measurements and dead letters in one
//! transaction, and only then acknowledges every message of the batch.
//!
//! Backpressure comes from the broker's in-flight window: it sends at most that many
//! unacknowledged messages, and we acknowledge only what is committed, so a slow writer slows
//! the broker and the rest waits in the broker's session queue. The event loop must keep
//! reading while the writer is behind: it parks what the queue cannot take in a local buffer,
//! which the broker's window bounds. A broker that does not enforce one (mosquitto here did not)
//! fills it to `hold_max`; reading then pauses until the writer catches up, while acks keep
//! flowing, since the event loop writes them itself (below). Ingest memory is bounded by
//! `hold_max + queue + batch_max` messages either way.
//!
//! Acks are written by the event loop itself, in bulk with one flush per committed batch, and
//! only on the connection the messages came on (a packet id names a message only there).

use std::{
	sync::{atomic::Ordering::Relaxed, Arc},
	time::Duration,
};

use platone_scd::{DeadLetter, Measurement, Reason, Store};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, PubAck, Publish, QoS, Transport};
use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use crate::{
	now_us,
	payload::{self, Kind, Limits, Refusal, Topic},
	Directory, Error, Metrics, Sender,
};

/// Client certificate and trust anchor for mutual TLS with the broker.
#[derive(Clone, Debug)]
pub struct TlsFiles {
	pub ca: std::path::PathBuf,
	pub cert: std::path::PathBuf,
	pub key: std::path::PathBuf,
}

/// 1 MiB: the largest message ingest takes, and the `max_packet_size` of every mosquitto
/// configuration shipped (scripts/, tests/): a MeterReadings document of a few thousand
/// readings, or thousands of PMU samples.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// The largest packet read from the broker: 16 MiB, read and refused rather than looping.
const MAX_PACKET_BYTES: usize = 16 << 20;

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
	/// Publishes parked in the event loop beyond the queue, at most (see the module docs).
	pub hold_max: usize,
	/// Payload bytes held between the broker and the SCD (parked, queued and in the batch being
	/// committed), at most: reading pauses beyond it.
	pub max_held_bytes: usize,
	/// Largest message ingest takes; a larger one is dead-lettered as `too_large` (and acked,
	/// so the broker does not send it again on every reconnect).
	pub max_message_bytes: usize,
	/// How far device time may run ahead of ours.
	pub max_future: Duration,
	/// MQTT keep-alive: the broker drops the connection after 1.5 times this without a packet.
	pub keep_alive: Duration,
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
			hold_max: 65_536,
			max_held_bytes: 256 << 20,
			max_message_bytes: MAX_MESSAGE_BYTES,
			max_future: Duration::from_secs(60),
			keep_alive: Duration::from_secs(30),
		}
	}

	pub fn topic_filter(&self) -> String {
		format!("platone/v1/{}/#", self.gateway)
	}

	fn options(&self) -> Result<MqttOptions, Error> {
		let mut o = MqttOptions::new(&self.client_id, &self.host, self.port);
		o.set_keep_alive(self.keep_alive);
		// Persistent session + manual acks: unacknowledged messages are redelivered after a crash.
		o.set_clean_session(false);
		o.set_manual_acks(true);
		// Far above the largest message ingest takes, so that a larger one (from a broker
		// without a size limit) is read and dead-lettered instead of dropping the connection,
		// and being sent again on every reconnect.
		o.set_max_packet_size(MAX_PACKET_BYTES, 1 << 20);
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

/// Validates one message: its measurements, or the dead letters it becomes. For a
/// MeterReadings document, also what became of each meter and reading (the HTTP answer).
pub fn process(
	topic: &str,
	sender: Sender<'_>,
	payload: &[u8],
	directory: &Directory,
	limits: &Limits,
	received_ms: u64,
	out: &mut Vec<Measurement>,
	dead: &mut Vec<DeadLetter>,
) -> Option<crate::cim::Document> {
	let letter = |r: Refusal| DeadLetter {
		received_ms,
		source: topic.to_string(),
		reason: r.reason,
		detail: r.detail,
		payload: payload.to_vec(),
	};
	let t = match Topic::parse(topic) {
		Ok(t) => t,
		Err(r) => {
			dead.push(letter(r));
			return None;
		}
	};
	let sender = match sender {
		Sender::Topic => Sender::Identity(t.device),
		other => other,
	};
	let forbidden = |device: &str| {
		Refusal::new(
			Reason::Forbidden,
			format!(
				"{} may not send data of {} {device:?}",
				match sender {
					Sender::Identity(who) => format!("{who:?}"),
					Sender::Local => "the local operator".into(),
					Sender::Topic => format!("{:?}", t.device),
				},
				t.kind.as_str()
			),
		)
	};
	if t.kind == Kind::Meter {
		// A meter's topic carries a MeterReadings document naming its meters by mRID: each one
		// must be the sender itself, or a meter the sender is a data server for.
		let lookup = |mrid: &str| directory.lookup(Kind::Meter, mrid);
		let dataset_of = |mrid: &str| match lookup(mrid) {
			None => Err(Refusal::new(
				Reason::UnknownDevice,
				format!("meter {mrid:?} is not registered"),
			)),
			Some(_) if !directory.may_send(sender, Kind::Meter, mrid) => Err(forbidden(mrid)),
			Some((dataset, _)) => Ok(dataset),
		};
		let document = match crate::cim::parse(payload, limits, dataset_of) {
			Err(r) => {
				dead.push(letter(r));
				return None;
			}
			Ok(document) => document,
		};
		let message = document
			.message_id
			.as_deref()
			.map(|id| format!("message {id}: "))
			.unwrap_or_default();
		for meter in &document.meters {
			if let Some(r) = &meter.refused {
				dead.push(letter(Refusal::new(
					r.reason,
					format!("{message}{}", r.detail),
				)));
				continue;
			}
			let window = lookup(meter.mrid.trim()).map_or(crate::DEFAULT_WINDOW_MS, |(_, w)| w);
			for reading in &meter.readings {
				match &reading.result {
					Ok(record) => out.push(Measurement::new(record, window, received_ms)),
					Err(r) => dead.push(letter(Refusal::new(
						r.reason,
						format!(
							"{message}meter {:?}, reading {:?} at {:?}: {}",
							meter.mrid, reading.reading_type, reading.time, r.detail
						),
					))),
				}
			}
		}
		return Some(document);
	}
	let Some((dataset, window)) = directory.lookup(t.kind, t.device) else {
		dead.push(letter(Refusal::new(
			Reason::UnknownDevice,
			format!(
				"{} {:?} is not registered for gateway {:?}",
				t.kind.as_str(),
				t.device,
				t.gateway
			),
		)));
		return None;
	};
	if !directory.may_send(sender, t.kind, t.device) {
		dead.push(letter(forbidden(t.device)));
		return None;
	}
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
	None
}

/// Runs ingest until `shutdown` resolves, then commits and acknowledges what it holds.
pub async fn run<S: Store>(
	config: Config,
	directory: Arc<Directory>,
	store: Arc<S>,
	metrics: Arc<Metrics>,
	shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
	// Only subscribe and disconnect go through the client: acks take the path below.
	let (client, mut eventloop) = AsyncClient::new(config.options()?, 64);
	let (tx, mut rx) = mpsc::channel::<Delivery>(config.queue);
	// Acks of committed batches, back to the event loop, which writes them in bulk.
	let (acks_tx, mut acks_rx) = mpsc::channel::<(u64, Vec<u16>)>(16);
	let filter = config.topic_filter();
	let subscriber = client.clone();
	let hold_max = config.hold_max.max(1);
	let keep_alive = config.keep_alive;
	let max_held_bytes = config.max_held_bytes.max(MAX_PACKET_BYTES);
	// Payload bytes between the broker and the SCD; the writer gives them back once a batch is
	// committed.
	let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let held_by_writer = held.clone();
	let poller = tokio::spawn(async move {
		let mut backoff = Duration::from_millis(100);
		let mut parked = std::collections::VecDeque::<Delivery>::new();
		let mut warned = false;
		// Connections so far: a packet id means something only on the connection it came on.
		let mut epoch = 0u64;
		// The client's own keep-alive runs only while it is polled: while reads are paused,
		// ping three times per keep-alive period by hand.
		let mut ping = tokio::time::interval((keep_alive / 3).max(Duration::from_millis(100)));
		ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
		loop {
			// Reading pauses while this many, or this many bytes, wait for the writer; acks still
			// go out below, so the writer drains them and reading resumes. The broker holds the
			// rest.
			let held_bytes = held.load(Relaxed);
			let reading = parked.len() < hold_max && held_bytes < max_held_bytes;
			if !reading && !warned {
				warn!(
					parked = parked.len(),
					held_bytes,
					"the writer is behind (the SCD slow or down, or a broker without an in-flight \
					 window): pausing reads until it catches up"
				);
				warned = true;
			}
			tokio::select! {
				_ = ping.tick(), if !reading => {
					// The client pings only while it is polled: keep the session alive by hand,
					// so that a long SCD outage does not drop the connection and every ack in
					// flight. The broker's answer waits in the socket until reads resume.
					if let Some(network) = eventloop.network.as_mut() {
						let failed = network.write(Packet::PingReq).await.is_err()
							|| network.flush().await.is_err();
						if failed {
							debug!("ping not written: the connection is failing");
						}
					}
				}
				permit = tx.reserve(), if !parked.is_empty() => {
					let Ok(permit) = permit else { return Ok(()) };
					if let Some(d) = parked.pop_front() {
						permit.send(d);
					}
				}
				Some((ack_epoch, pkids)) = acks_rx.recv() => {
					// rumqttc's own ack path sends one ack per event-loop round against up to nine
					// incoming packets; at PMU rates acks then fall behind for good. Written here
					// in bulk with one flush. Acks from an earlier connection are dropped: the
					// broker redelivers those messages and they are acked again after dedup.
					if ack_epoch == epoch {
						if let Some(network) = eventloop.network.as_mut() {
							let mut failed = false;
							for pkid in pkids {
								failed |= network.write(Packet::PubAck(PubAck::new(pkid))).await.is_err();
							}
							failed |= network.flush().await.is_err();
							if failed {
								debug!("acks not written: the connection is failing");
							}
						}
					}
				}
				event = eventloop.poll(), if reading => match event {
					Ok(Event::Incoming(Packet::Publish(publish))) => {
						held.fetch_add(publish.payload.len(), Relaxed);
						let d = Delivery { epoch, publish };
						// Straight to the writer when it has room, in order behind what is parked.
						if parked.is_empty() {
							match tx.try_send(d) {
								Ok(()) => {}
								Err(mpsc::error::TrySendError::Full(d)) => parked.push_back(d),
								Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
							}
						} else {
							parked.push_back(d);
						}
					}
					Ok(Event::Incoming(Packet::ConnAck(ack))) => {
						epoch += 1;
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
					Ok(Event::Incoming(Packet::SubAck(ack))) => {
						// Refused (an ACL that does not let this client read the gateway's topics):
						// connected and subscribed to nothing would look healthy and ingest nothing.
						if ack
							.return_codes
							.iter()
							.any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
						{
							return Err(Error::Subscription(filter.clone()));
						}
						info!(%filter, "subscribed");
					}
					Ok(_) => {}
					Err(e) => {
						warn!("broker connection: {e}; retrying in {backoff:?}");
						tokio::time::sleep(backoff).await;
						backoff = (backoff * 2).min(Duration::from_secs(30));
					}
				}
			}
		}
	});

	let mut shutdown = std::pin::pin!(shutdown);
	// Set once `shutdown` has resolved; it is never polled again after that.
	let mut stopping = false;
	let mut batch: Vec<Delivery> = Vec::with_capacity(config.batch_max);
	while !stopping {
		let first = tokio::select! {
			d = rx.recv() => d,
			() = &mut shutdown => None,
		};
		let Some(first) = first else { break };
		batch.push(first);
		let deadline = tokio::time::Instant::now() + config.linger;
		while batch.len() < config.batch_max {
			match tokio::time::timeout_at(deadline, rx.recv()).await {
				Ok(Some(d)) => batch.push(d),
				_ => break,
			}
		}
		// Until the SCD takes the batch, nothing of it is acked; a shutdown meanwhile leaves it
		// to the broker to redeliver.
		let mut backoff = Duration::from_millis(100);
		while !commit(&batch, &directory, &*store, &metrics, &config).await {
			tokio::select! {
				() = tokio::time::sleep(backoff) => {},
				() = &mut shutdown => { stopping = true; batch.clear(); break; }
			}
			backoff = (backoff * 2).min(Duration::from_secs(10));
		}
		let mut acks: Vec<(u64, Vec<u16>)> = Vec::new();
		let bytes: usize = batch.iter().map(|d| d.publish.payload.len()).sum();
		held_by_writer.fetch_sub(bytes, Relaxed);
		for d in batch.drain(..) {
			if d.publish.qos != QoS::AtLeastOnce {
				continue;
			}
			match acks.last_mut() {
				Some((epoch, pkids)) if *epoch == d.epoch => pkids.push(d.publish.pkid),
				_ => acks.push((d.epoch, vec![d.publish.pkid])),
			}
		}
		for ack in acks {
			if stopping {
				let _ = acks_tx.try_send(ack);
				continue;
			}
			tokio::select! {
				r = acks_tx.send(ack) => if r.is_err() { break },
				() = &mut shutdown => stopping = true,
			}
		}
	}
	info!("ingest stopping");
	// Let the event loop write the last acks before disconnecting.
	tokio::time::sleep(Duration::from_millis(200)).await;
	let _ = client.try_disconnect();
	tokio::time::sleep(Duration::from_millis(100)).await;
	if poller.is_finished() {
		// It stops on its own only on a refused subscription (or when the writer is gone).
		return poller
			.await
			.unwrap_or_else(|e| Err(Error::Subscription(format!("event loop: {e}"))));
	}
	poller.abort();
	Ok(())
}

/// A publish as the writer gets it, with the connection it came on.
struct Delivery {
	epoch: u64,
	publish: Publish,
}

/// One attempt to commit a batch; `false` if the SCD refused it (nothing of it is stored).
async fn commit<S: Store>(
	batch: &[Delivery],
	directory: &Directory,
	store: &S,
	metrics: &Metrics,
	config: &Config,
) -> bool {
	let now = now_us();
	let limits = Limits {
		now_us: now,
		max_future_us: config.max_future.as_micros() as u64,
	};
	let received_ms = now / 1_000;
	let mut measurements = Vec::with_capacity(batch.len());
	let mut dead = Vec::new();
	for d in batch {
		let p = &d.publish;
		if p.payload.len() > config.max_message_bytes {
			dead.push(DeadLetter {
				received_ms,
				source: p.topic.clone(),
				reason: Reason::TooLarge,
				detail: format!(
					"{} bytes, over the {} byte limit",
					p.payload.len(),
					config.max_message_bytes
				),
				payload: p.payload.to_vec(),
			});
			continue;
		}
		let _ = process(
			&p.topic,
			Sender::Topic,
			&p.payload,
			directory,
			&limits,
			received_ms,
			&mut measurements,
			&mut dead,
		);
	}
	match store.commit(&measurements, &dead).await {
		Ok(done) => {
			metrics.committed(batch.len(), &done, &measurements, &dead);
			debug!(
				messages = batch.len(),
				stored = done.stored,
				dead = done.dead_letters,
				"batch committed"
			);
			true
		}
		Err(e) => {
			metrics.commit_failed(&e, batch.len());
			false
		}
	}
}
