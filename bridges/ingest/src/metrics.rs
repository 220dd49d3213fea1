//! Ingest counters and the device-to-commit latency histogram, exposed with prometheus-client
//! (OpenMetrics text).

use prometheus_client::{
	encoding::EncodeLabelSet,
	metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
	registry::Registry,
};

use platone_scd::{Committed, DeadLetter, Measurement, Reason};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
	reason: &'static str,
}

/// Counters of one ingest process (MQTT and HTTP together).
#[derive(Debug)]
pub struct Metrics {
	registry: Registry,
	messages: Counter,
	stored: Counter,
	batches: Counter,
	commit_errors: Counter,
	/// 1 while the SCD's disk is full (its last commit failed for want of space), else 0.
	scd_disk_full: Gauge,
	/// Stored after their window was sealed: certified in a later window.
	late: Counter,
	dead: Family<ReasonLabel, Counter>,
	/// Commit time minus device time of every stored measurement: what the PMU's clock says it
	/// waited for durability (network, broker, batching and the SCD's fsync).
	latency: Histogram,
}

impl Default for Metrics {
	fn default() -> Self {
		let m = Metrics {
			registry: Registry::default(),
			messages: Counter::default(),
			stored: Counter::default(),
			batches: Counter::default(),
			commit_errors: Counter::default(),
			scd_disk_full: Gauge::default(),
			late: Counter::default(),
			dead: Family::default(),
			latency: Histogram::new(BUCKETS_MS.iter().map(|ms| *ms as f64 / 1e3)),
		};
		// Every reason is exposed from the start, at 0: an alert can then compare with it.
		for reason in Reason::ALL {
			drop(m.dead.get_or_create(&ReasonLabel {
				reason: reason.as_str(),
			}));
		}
		let mut registry = Registry::with_prefix("platone_ingest");
		for (name, help, counter) in [
			("messages", "Messages received", &m.messages),
			("stored", "Measurements stored", &m.stored),
			("batches", "Batches committed", &m.batches),
			(
				"commit_errors",
				"Failed commits (retried)",
				&m.commit_errors,
			),
			(
				"late",
				"Measurements stored after their window was sealed (certified in a later window)",
				&m.late,
			),
		] {
			registry.register(name, help, counter.clone());
		}
		registry.register(
			"scd_disk_full",
			"1 while the SCD's disk is full: nothing is stored or acknowledged until space is freed",
			m.scd_disk_full.clone(),
		);
		registry.register("dead_letters", "Input refused, by reason", m.dead.clone());
		registry.register(
			"latency_seconds",
			"Device time to durable commit of stored measurements",
			m.latency.clone(),
		);
		Metrics { registry, ..m }
	}
}

impl Metrics {
	pub fn dead_lettered(&self, reason: Reason) {
		self.dead
			.get_or_create(&ReasonLabel {
				reason: reason.as_str(),
			})
			.inc();
	}

	/// Accounts for one commit of `messages` messages (MQTT batch or HTTP request): what was
	/// stored, what it refused (including the store's duplicates and conflicts), and the latency
	/// of what it committed.
	pub fn committed(
		&self,
		messages: usize,
		done: &Committed,
		measurements: &[Measurement],
		refused: &[DeadLetter],
	) {
		self.messages.inc_by(messages as u64);
		self.stored.inc_by(done.stored as u64);
		self.late.inc_by(done.late as u64);
		self.batches.inc();
		self.scd_disk_full.set(0);
		for letter in refused {
			self.dead_lettered(letter.reason);
		}
		for (reason, n) in [
			(Reason::Duplicate, done.duplicates),
			(Reason::Conflict, done.conflicts),
		] {
			self.dead
				.get_or_create(&ReasonLabel {
					reason: reason.as_str(),
				})
				.inc_by(n as u64);
		}
		let now_ms = crate::now_us() / 1_000;
		for m in measurements {
			let waited_ms = now_ms.saturating_sub(m.timestamp_us / 1_000);
			self.latency.observe(waited_ms as f64 / 1e3);
		}
	}

	/// Accounts for a failed commit; logs it, loudly when the disk is full.
	pub fn commit_failed(&self, e: &platone_scd::Error, held: usize) {
		self.commit_errors.inc();
		if e.is_disk_full() {
			self.scd_disk_full.set(1);
			tracing::error!(
				held,
				"the SCD's disk is full: nothing is stored or acknowledged until space is freed \
				 (the broker and HTTP clients keep their data); retrying: {e}"
			);
		} else {
			tracing::error!(held, "SCD commit failed, retrying: {e}");
		}
	}

	pub fn dead_letters(&self, reason: Reason) -> u64 {
		self.dead
			.get_or_create(&ReasonLabel {
				reason: reason.as_str(),
			})
			.get()
	}

	/// The OpenMetrics text exposition (`GET /metrics`).
	pub fn render(&self) -> String {
		let mut out = String::new();
		// Writing into a String cannot fail.
		let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
		out
	}
}

/// Content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the latency buckets, ms. Fine below a second, where the goal lies (p99 under
/// 1 s), coarse above it, where only the order of magnitude matters.
pub const BUCKETS_MS: [u64; 22] = [
	1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 5_000,
	10_000, 30_000, 60_000,
];

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_exposition_keeps_its_names() {
		let m = Metrics::default();
		m.dead_lettered(Reason::Malformed);
		m.latency.observe(0.04);
		m.scd_disk_full.set(1);
		let text = m.render();
		for line in [
			"platone_ingest_stored_total 0\n",
			"platone_ingest_dead_letters_total{reason=\"malformed\"} 1\n",
			"platone_ingest_dead_letters_total{reason=\"duplicate\"} 0\n",
			"platone_ingest_scd_disk_full 1\n",
			"platone_ingest_latency_seconds_bucket{le=\"0.05\"} 1\n",
			"platone_ingest_latency_seconds_count 1\n",
			"# EOF\n",
		] {
			assert!(text.contains(line), "{line:?} missing from\n{text}");
		}
	}
}
