//! Ingest counters and the device-to-commit latency histogram, in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use platone_scd::{Committed, DeadLetter, Measurement, Reason};

/// Counters of one ingest process (MQTT and HTTP together).
#[derive(Debug, Default)]
pub struct Metrics {
	pub messages: AtomicU64,
	pub stored: AtomicU64,
	pub batches: AtomicU64,
	pub commit_errors: AtomicU64,
	/// 1 while the SCD's disk is full (its last commit failed for want of space), else 0.
	pub scd_disk_full: AtomicU64,
	/// Stored after their window was sealed: certified in a later window.
	pub late: AtomicU64,
	dead: [AtomicU64; Reason::ALL.len()],
	/// Commit time minus device time of every stored measurement: what the PMU's clock says it
	/// waited for durability (network, broker, batching and the SCD's fsync).
	pub latency: Histogram,
}

impl Metrics {
	pub fn dead_lettered(&self, reason: Reason) {
		if let Some(i) = Reason::ALL.iter().position(|r| *r == reason) {
			self.dead[i].fetch_add(1, Relaxed);
		}
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
		self.messages.fetch_add(messages as u64, Relaxed);
		self.stored.fetch_add(done.stored as u64, Relaxed);
		self.late.fetch_add(done.late as u64, Relaxed);
		self.batches.fetch_add(1, Relaxed);
		self.scd_disk_full.store(0, Relaxed);
		for letter in refused {
			self.dead_lettered(letter.reason);
		}
		for _ in 0..done.duplicates {
			self.dead_lettered(Reason::Duplicate);
		}
		for _ in 0..done.conflicts {
			self.dead_lettered(Reason::Conflict);
		}
		let now_ms = crate::now_us() / 1_000;
		for m in measurements {
			self.latency
				.observe_ms(now_ms.saturating_sub(m.timestamp_us / 1_000));
		}
	}

	/// Accounts for a failed commit; logs it, loudly when the disk is full.
	pub fn commit_failed(&self, e: &platone_scd::Error, held: usize) {
		self.commit_errors.fetch_add(1, Relaxed);
		if e.is_disk_full() {
			self.scd_disk_full.store(1, Relaxed);
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
		Reason::ALL
			.iter()
			.position(|r| *r == reason)
			.map_or(0, |i| self.dead[i].load(Relaxed))
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
			self.messages.load(Relaxed),
		);
		counter(
			"platone_ingest_stored_total",
			"Measurements stored.",
			self.stored.load(Relaxed),
		);
		counter(
			"platone_ingest_batches_total",
			"Batches committed.",
			self.batches.load(Relaxed),
		);
		counter(
			"platone_ingest_commit_errors_total",
			"Failed commits (retried).",
			self.commit_errors.load(Relaxed),
		);
		counter(
			"platone_ingest_late_total",
			"Measurements stored after their window was sealed (certified in a later window).",
			self.late.load(Relaxed),
		);
		out.push_str(&format!(
			"# HELP platone_ingest_scd_disk_full 1 while the SCD's disk is full: nothing is stored \
			 or acknowledged until space is freed.\n# TYPE platone_ingest_scd_disk_full gauge\n\
			 platone_ingest_scd_disk_full {}\n",
			self.scd_disk_full.load(Relaxed)
		));
		out.push_str("# HELP platone_ingest_dead_letters_total Input refused, by reason.\n");
		out.push_str("# TYPE platone_ingest_dead_letters_total counter\n");
		for reason in Reason::ALL {
			out.push_str(&format!(
				"platone_ingest_dead_letters_total{{reason=\"{reason}\"}} {}\n",
				self.dead_letters(reason)
			));
		}
		self.latency.render(
			&mut out,
			"platone_ingest_latency_seconds",
			"Device time to durable commit of stored measurements.",
		);
		out
	}
}

/// Upper bounds of the latency buckets, ms. Fine below a second, where the goal lies (p99 under
/// 1 s), coarse above it, where only the order of magnitude matters.
pub const BUCKETS_MS: [u64; 22] = [
	1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1_000, 1_500, 2_000, 5_000,
	10_000, 30_000, 60_000,
];

/// A fixed-bucket histogram of milliseconds, lock-free.
#[derive(Debug, Default)]
pub struct Histogram {
	/// `counts[i]` counts values in `(BUCKETS_MS[i-1], BUCKETS_MS[i]]`; the last slot overflows.
	counts: [AtomicU64; BUCKETS_MS.len() + 1],
	sum_ms: AtomicU64,
}

impl Histogram {
	pub fn observe_ms(&self, ms: u64) {
		let i = BUCKETS_MS.partition_point(|&b| b < ms);
		self.counts[i].fetch_add(1, Relaxed);
		self.sum_ms.fetch_add(ms, Relaxed);
	}

	pub fn count(&self) -> u64 {
		self.counts.iter().map(|c| c.load(Relaxed)).sum()
	}

	/// The smallest bucket bound that at least `q` of the values lie under (`None` if there are
	/// no values, `u64::MAX` if the quantile overflows the last bucket).
	pub fn quantile_ms(&self, q: f64) -> Option<u64> {
		let total = self.count();
		if total == 0 {
			return None;
		}
		let target = ((total as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
		let mut seen = 0;
		for (i, c) in self.counts.iter().enumerate() {
			seen += c.load(Relaxed);
			if seen >= target {
				return Some(BUCKETS_MS.get(i).copied().unwrap_or(u64::MAX));
			}
		}
		Some(u64::MAX)
	}

	fn render(&self, out: &mut String, name: &str, help: &str) {
		out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
		let mut cumulative = 0;
		for (i, c) in self.counts.iter().enumerate() {
			cumulative += c.load(Relaxed);
			let le = BUCKETS_MS
				.get(i)
				.map_or_else(|| "+Inf".to_string(), |ms| format!("{}", *ms as f64 / 1e3));
			out.push_str(&format!("{name}_bucket{{le=\"{le}\"}} {cumulative}\n"));
		}
		out.push_str(&format!(
			"{name}_sum {}\n{name}_count {cumulative}\n",
			self.sum_ms.load(Relaxed) as f64 / 1e3
		));
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn quantiles_are_bucket_bounds() {
		let h = Histogram::default();
		assert_eq!(h.quantile_ms(0.5), None);
		for ms in 1..=100 {
			h.observe_ms(ms);
		}
		// 50 values ≤ 50 ms, and 99 values ≤ 100 ms.
		assert_eq!(h.quantile_ms(0.5), Some(50));
		assert_eq!(h.quantile_ms(0.99), Some(100));
		h.observe_ms(1_000_000);
		assert_eq!(h.quantile_ms(1.0), Some(u64::MAX));
		assert_eq!(h.count(), 101);
		let text = {
			let mut s = String::new();
			h.render(&mut s, "x", "y");
			s
		};
		assert!(text.contains("x_bucket{le=\"0.05\"} 50\n"), "{text}");
		assert!(text.contains("x_bucket{le=\"+Inf\"} 101\n"), "{text}");
	}
}
