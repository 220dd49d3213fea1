//! Device data into the SCD ("process 1" of D2.2 §3.1.1; FR-BAP-DM-01, P-BAP-01/02,
//! T-BAP-01/02, S-BAP-01).
//!
//! [`mqtt::run`] subscribes to `platone/v1/{gateway}/#` with QoS 1 on a persistent session and
//! acknowledges each message only after the batch holding it is committed to the SCD, so a crash
//! at any moment loses no acknowledged message: the broker redelivers the rest, and the SCD's
//! identity keeps a redelivery from being stored twice. Every message ends either stored or
//! dead-lettered with its reason ([`payload`]).

use std::{
	collections::HashMap,
	sync::atomic::{AtomicU64, Ordering},
};

use platone_primitives::DatasetId;
use platone_scd::Reason;

pub mod mqtt;
pub mod payload;
pub mod sim;

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

/// The devices a gateway accepts; anything else is refused as `unknown_device`.
#[derive(Clone, Debug, Default)]
pub struct Directory {
	devices: HashMap<String, Device>,
	default_window_ms: u32,
}

/// 180 s: the certification window of the Platone lab (180 PMU samples per hash there).
pub const DEFAULT_WINDOW_MS: u32 = 180_000;

impl Directory {
	pub fn new(devices: impl IntoIterator<Item = Device>, default_window_ms: u32) -> Self {
		Directory {
			devices: devices.into_iter().map(|d| (d.name.clone(), d)).collect(),
			default_window_ms,
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

/// Ingest counters, rendered in the Prometheus text format by [`Metrics::render`].
#[derive(Debug, Default)]
pub struct Metrics {
	pub messages: AtomicU64,
	pub stored: AtomicU64,
	pub batches: AtomicU64,
	pub commit_errors: AtomicU64,
	dead: [AtomicU64; Reason::ALL.len()],
}

impl Metrics {
	pub fn dead_lettered(&self, reason: Reason) {
		if let Some(i) = Reason::ALL.iter().position(|r| *r == reason) {
			self.dead[i].fetch_add(1, Ordering::Relaxed);
		}
	}

	pub fn dead_letters(&self, reason: Reason) -> u64 {
		Reason::ALL
			.iter()
			.position(|r| *r == reason)
			.map_or(0, |i| self.dead[i].load(Ordering::Relaxed))
	}

	pub fn render(&self) -> String {
		let mut out = String::new();
		let mut counter = |name: &str, help: &str, v: u64| {
			out.push_str(&format!(
				"# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
			));
		};
		counter(
			"platone_ingest_messages_total",
			"Messages received.",
			self.messages.load(Ordering::Relaxed),
		);
		counter(
			"platone_ingest_stored_total",
			"Measurements stored.",
			self.stored.load(Ordering::Relaxed),
		);
		counter(
			"platone_ingest_batches_total",
			"Batches committed.",
			self.batches.load(Ordering::Relaxed),
		);
		counter(
			"platone_ingest_commit_errors_total",
			"Failed commits (retried).",
			self.commit_errors.load(Ordering::Relaxed),
		);
		out.push_str("# HELP platone_ingest_dead_letters_total Input refused, by reason.\n");
		out.push_str("# TYPE platone_ingest_dead_letters_total counter\n");
		for reason in Reason::ALL {
			out.push_str(&format!(
				"platone_ingest_dead_letters_total{{reason=\"{reason}\"}} {}\n",
				self.dead_letters(reason)
			));
		}
		out
	}
}

/// Wall clock, Unix microseconds.
pub fn now_us() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
