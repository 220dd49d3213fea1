//! The Shared Customer Database (SCD) of the Blockchain Access Layer (FR-BAP-DM-01, P-BAP-01/02).
//!
//! Every stored measurement has an identity, `(dataset, timestamp_us, sequence)`: a message
//! delivered twice (MQTT QoS 1 is at-least-once) is stored once. It keeps its received time, its
//! canonical bytes (`MeasurementRecord` SCALE, what the certification Merkle tree commits to) and
//! the certification window it falls in.
//!
//! Bad input never disappears: it goes to the dead-letter table with a [`Reason`].
//! [`Store::commit`] writes measurements and dead letters in one transaction, so the caller may
//! acknowledge a batch's messages as soon as it returns.

use std::{fmt, str::FromStr};

use platone_primitives::{DatasetId, MeasurementRecord};

pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("database: {0}")]
	Database(#[from] sqlx::Error),
	#[error("value out of the database's range: {0}")]
	Range(&'static str),
	#[error("stored row is corrupt: {0}")]
	Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A measurement as the SCD keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measurement {
	pub dataset: DatasetId,
	pub timestamp_us: u64,
	pub sequence: u32,
	/// Start of its certification window, Unix ms (aligned to `window_ms`).
	pub window_start_ms: u64,
	pub window_ms: u32,
	/// When ingest received it, Unix ms.
	pub received_ms: u64,
	/// `MeasurementRecord` in canonical SCALE encoding.
	pub record: Vec<u8>,
}

impl Measurement {
	/// `record` in the window of `window_ms` that contains its device time.
	pub fn new(record: &MeasurementRecord, window_ms: u32, received_ms: u64) -> Self {
		let window_ms = window_ms.max(1);
		let ms = record.timestamp_us / 1_000;
		Measurement {
			dataset: record.dataset,
			timestamp_us: record.timestamp_us,
			sequence: record.sequence,
			window_start_ms: ms - ms % u64::from(window_ms),
			window_ms,
			received_ms,
			record: record.canonical_bytes(),
		}
	}

	/// The record, decoded from its canonical bytes.
	pub fn decode(&self) -> Result<MeasurementRecord> {
		<MeasurementRecord as codec::Decode>::decode(&mut &self.record[..])
			.map_err(|e| Error::Corrupt(e.to_string()))
	}

	fn identity(&self) -> (DatasetId, u64, u32) {
		(self.dataset, self.timestamp_us, self.sequence)
	}
}

/// Why input was dead-lettered. Stored as its `as_str` code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
	/// Not valid JSON, or not the expected shape.
	Malformed,
	/// The device (or topic) is not registered for this gateway.
	UnknownDevice,
	/// A value outside its physical or encodable range.
	OutOfRange,
	/// NaN or infinity.
	NotANumber,
	/// Device time too far ahead of the receiver's clock.
	FarFuture,
	/// Same identity and same bytes as a stored measurement (a redelivery).
	Duplicate,
	/// Same identity as a stored measurement, different bytes; the first one stays.
	Conflict,
	/// Arrived after its window was certified (see the certifier's late-data rule).
	Late,
}

impl Reason {
	pub const ALL: [Reason; 8] = [
		Reason::Malformed,
		Reason::UnknownDevice,
		Reason::OutOfRange,
		Reason::NotANumber,
		Reason::FarFuture,
		Reason::Duplicate,
		Reason::Conflict,
		Reason::Late,
	];

	pub fn as_str(self) -> &'static str {
		match self {
			Reason::Malformed => "malformed",
			Reason::UnknownDevice => "unknown_device",
			Reason::OutOfRange => "out_of_range",
			Reason::NotANumber => "not_a_number",
			Reason::FarFuture => "far_future",
			Reason::Duplicate => "duplicate",
			Reason::Conflict => "conflict",
			Reason::Late => "late",
		}
	}
}

impl fmt::Display for Reason {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(self.as_str())
	}
}

impl FromStr for Reason {
	type Err = Error;

	fn from_str(s: &str) -> Result<Self> {
		Reason::ALL
			.into_iter()
			.find(|r| r.as_str() == s)
			.ok_or_else(|| Error::Corrupt(format!("unknown dead-letter reason {s:?}")))
	}
}

/// Input that was refused, kept with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
	pub received_ms: u64,
	/// MQTT topic, `http:<path>`, or `store` for duplicates found at commit.
	pub source: String,
	pub reason: Reason,
	pub detail: String,
	pub payload: Vec<u8>,
}

/// What one [`Store::commit`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Committed {
	/// New measurements stored.
	pub stored: usize,
	/// Measurements already stored with the same bytes (dead-lettered as `duplicate`).
	pub duplicates: usize,
	/// Measurements already stored with other bytes (dead-lettered as `conflict`).
	pub conflicts: usize,
	/// Dead letters written, including the duplicates and conflicts.
	pub dead_letters: usize,
}

/// The SCD's storage. Implementations must make [`commit`](Store::commit) durable and atomic:
/// when it returns `Ok`, everything in it survives a crash; when it fails, nothing of it was
/// stored.
pub trait Store: Send + Sync + 'static {
	/// Stores new measurements and dead letters in one transaction. A measurement whose identity
	/// is already stored (before or earlier in the same batch) is dead-lettered instead.
	fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> impl std::future::Future<Output = Result<Committed>> + Send;

	/// One dataset's measurements in one window, in canonical order `(timestamp_us, sequence)`.
	fn window(
		&self,
		dataset: DatasetId,
		window_start_ms: u64,
	) -> impl std::future::Future<Output = Result<Vec<Measurement>>> + Send;

	/// Number of stored measurements.
	fn measurement_count(&self) -> impl std::future::Future<Output = Result<u64>> + Send;

	/// Dead letters per reason (reasons with none are left out).
	fn dead_letter_counts(
		&self,
	) -> impl std::future::Future<Output = Result<Vec<(Reason, u64)>>> + Send;

	/// The most recent dead letters, newest first.
	fn dead_letters(
		&self,
		limit: u32,
	) -> impl std::future::Future<Output = Result<Vec<DeadLetter>>> + Send;
}

fn to_i64(v: u64, what: &'static str) -> Result<i64> {
	i64::try_from(v).map_err(|_| Error::Range(what))
}

fn to_u64(v: i64, what: &str) -> Result<u64> {
	u64::try_from(v).map_err(|_| Error::Corrupt(format!("negative {what}")))
}

/// The dead letter for a measurement found already stored.
fn duplicate_letter(m: &Measurement, stored: &[u8]) -> DeadLetter {
	let (reason, detail) = if stored == m.record.as_slice() {
		(Reason::Duplicate, "identical measurement already stored")
	} else {
		(
			Reason::Conflict,
			"another measurement with this identity is stored",
		)
	};
	DeadLetter {
		received_ms: m.received_ms,
		source: "store".into(),
		reason,
		detail: format!(
			"{detail}: dataset {} time {} µs sequence {}",
			m.dataset, m.timestamp_us, m.sequence
		),
		payload: m.record.clone(),
	}
}
