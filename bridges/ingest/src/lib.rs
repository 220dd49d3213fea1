//! Device data into the SCD ("process 1" of D2.2 §3.1.1; FR-BAP-DM-01, P-BAP-01/02,
//! T-BAP-01/02, S-BAP-01).
//!
//! [`mqtt::run`] subscribes to `platone/v1/{gateway}/#` with QoS 1 on a persistent session and
//! acknowledges each message only after the batch holding it is committed to the SCD, so a crash
//! at any moment loses no acknowledged message: the broker redelivers the rest, and the SCD's
//! identity keeps a redelivery from being stored twice. Every message ends either stored or
//! dead-lettered with its reason ([`payload`]).

use std::collections::HashMap;

use platone_primitives::DatasetId;

pub mod cim;
pub mod fuzz;
pub mod http;
mod metrics;
pub mod mqtt;
pub mod payload;
pub mod sim;

pub use metrics::Metrics;
pub use payload::{Kind, Limits, Refusal, Topic};

#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// Boxed: the client's error carries the whole request.
	#[error("MQTT client: {0}")]
	Client(Box<rumqttc::ClientError>),
	#[error("SCD: {0}")]
	Store(#[from] platone_scd::Error),
	#[error("TLS setup: {0}")]
	Tls(String),
	#[error("HTTP server: {0}")]
	Serve(platone_http::Error),
	#[error("the broker refused the subscription to {0}: does its ACL let this client read it?")]
	Subscription(String),
}

impl From<rumqttc::ClientError> for Error {
	fn from(e: rumqttc::ClientError) -> Self {
		Error::Client(Box::new(e))
	}
}

/// A registered device: its PoM (dataset) and certification window.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Device {
	/// The device's name: its MQTT topic segment and certificate common name.
	pub name: String,
	pub kind: Kind,
	pub dataset: DatasetId,
	/// Certification window; the directory's default if absent.
	#[serde(default)]
	pub window_ms: Option<u32>,
}

/// An identity that may send other devices' data: a head-end or data server sending many
/// meters' batches (P-BAP-02). Any other identity speaks only for itself.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct DataServer {
	/// Its MQTT client certificate's common name (the broker's ACL makes it the topic's device
	/// segment), or its OAuth2 client (the token's `sub`) over HTTP.
	pub name: String,
	/// Meters (`mRID`s) it may send readings for; `"*"` for every meter of the gateway.
	pub meters: Vec<String>,
}

/// Who sent a message, as far as ingest can tell (issue #12: no device speaks for another).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender<'a> {
	/// An authenticated identity: an MQTT client's certificate CN, which the broker's ACL
	/// (`pattern write platone/v1/+/+/%u`) makes the topic's device segment; or the OAuth2
	/// client of an HTTP request.
	Identity(&'a str),
	/// The operator's own host: HTTP on loopback without authentication (development only;
	/// any other bind requires authentication).
	Local,
	/// An MQTT client: the broker's ACL (`pattern write platone/v1/+/+/%u`) lets it publish only
	/// under its own name, so the sender is the topic's device segment.
	Topic,
}

/// The devices a gateway accepts; anything else is refused as `unknown_device`, and data a
/// sender may not send as `forbidden`.
#[derive(Clone, Debug, Default)]
pub struct Directory {
	devices: HashMap<String, Device>,
	data_servers: HashMap<String, DataServer>,
	default_window_ms: u32,
}

/// 180 s: the certification window of the Platone lab (180 PMU samples per hash there).
pub const DEFAULT_WINDOW_MS: u32 = 180_000;

impl Directory {
	pub fn new(devices: impl IntoIterator<Item = Device>, default_window_ms: u32) -> Self {
		Directory {
			devices: devices.into_iter().map(|d| (d.name.clone(), d)).collect(),
			data_servers: HashMap::new(),
			default_window_ms,
		}
	}

	/// The identities that may send other devices' data.
	pub fn with_data_servers(mut self, servers: impl IntoIterator<Item = DataServer>) -> Self {
		self.data_servers = servers.into_iter().map(|s| (s.name.clone(), s)).collect();
		self
	}

	/// May `sender` send data for the device of `kind` named `device`? A device speaks for
	/// itself; a data server for the meters it is configured with; the local operator for all.
	pub fn may_send(&self, sender: Sender<'_>, kind: Kind, device: &str) -> bool {
		match sender {
			Sender::Local => true,
			// Resolved to the topic's device by `mqtt::process`; alone it names no one.
			Sender::Topic => false,
			Sender::Identity(who) if who == device => true,
			Sender::Identity(who) => {
				kind == Kind::Meter
					&& self
						.data_servers
						.get(who)
						.is_some_and(|s| s.meters.iter().any(|m| m == "*" || m == device))
			}
		}
	}

	/// The development chain's devices (runtime preset `development`): `pmu-001`… as PoMs
	/// 1…`pmus`, then `meter-001`… as the next `meters` PoMs.
	pub fn development(pmus: u32, meters: u32) -> Self {
		let pmu = (1..=pmus).map(|i| Device {
			name: format!("pmu-{i:03}"),
			kind: Kind::Pmu,
			dataset: u64::from(i),
			window_ms: None,
		});
		let meter = (1..=meters).map(|i| Device {
			name: format!("meter-{i:03}"),
			kind: Kind::Meter,
			dataset: u64::from(pmus + i),
			window_ms: None,
		});
		Directory::new(pmu.chain(meter), DEFAULT_WINDOW_MS)
	}

	/// Dataset and window of a device of `kind` named `name`.
	pub fn lookup(&self, kind: Kind, name: &str) -> Option<(DatasetId, u32)> {
		self.devices
			.get(name)
			.filter(|d| d.kind == kind)
			.map(|d| (d.dataset, d.window_ms.unwrap_or(self.default_window_ms)))
	}

	pub fn len(&self) -> usize {
		self.devices.len()
	}

	pub fn is_empty(&self) -> bool {
		self.devices.is_empty()
	}

	pub fn devices(&self) -> impl Iterator<Item = &Device> {
		self.devices.values()
	}
}

/// Dead letters are the operator's evidence of bad input, not data: each is kept `retention`,
/// and at most `keep_at_most` of them (the newest), pruned every `every` until `shutdown`.
pub async fn prune_dead_letters<S: platone_scd::Store>(
	store: std::sync::Arc<S>,
	retention: std::time::Duration,
	keep_at_most: u64,
	every: std::time::Duration,
	shutdown: impl std::future::Future<Output = ()>,
) {
	let mut shutdown = std::pin::pin!(shutdown);
	let mut tick = tokio::time::interval(every);
	loop {
		tokio::select! {
			_ = tick.tick() => {}
			() = &mut shutdown => return,
		}
		let before = (now_us() / 1_000).saturating_sub(retention.as_millis() as u64);
		match store.prune_dead_letters(before, keep_at_most).await {
			Ok(0) => {}
			Ok(n) => tracing::info!(pruned = n, "dead letters pruned"),
			Err(e) => tracing::warn!("pruning dead letters: {e}"),
		}
	}
}

/// Wall clock, Unix microseconds.
pub fn now_us() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
