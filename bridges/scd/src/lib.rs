//! The Shared Customer Database (SCD) of the Blockchain Access Layer (FR-BAP-DM-01, P-BAP-01/02).
//!
//! Every stored measurement has an identity, `(dataset, timestamp_us, sequence)`: a message
//! delivered twice (MQTT QoS 1 is at-least-once) is stored once. It keeps its received time, its
//! canonical bytes (`MeasurementRecord` SCALE, what the certification Merkle tree commits to) and
//! the certification window it falls in.
//!
//! Bad input never disappears: it goes to the dead-letter table with a [`Reason`].
//!
//! The SCD is also the certifier's outbox (FR-BAP-DM-02/03): windows are sealed, their Merkle
//! roots built and kept with the chain's answer, and every measurement can be served with its
//! inclusion proof ([`proof`]). Late-data rule: a measurement whose window is already sealed is
//! still stored, in the dataset's window that contains its *received* time, flagged `late`; it
//! is certified there, and its proof says so.
//! [`Store::commit`] writes measurements and dead letters in one transaction, so the caller may
//! acknowledge a batch's messages as soon as it returns.

use std::{fmt, str::FromStr};

use platone_primitives::{
	merkle, Blake2_256, DatasetId, DatasetRoot, Hash, MeasurementProof, MeasurementRecord, Window,
	MAX_LATENESS_MS,
};

mod any;
pub mod audit;
mod migrate;
pub mod postgres;
pub mod sqlite;
mod strays;
pub mod wire;

pub use any::{is_postgres, AnyStore};
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
	#[error("creating the SCD's directory {path}: {source}")]
	Directory {
		path: String,
		source: std::io::Error,
	},
	/// The schema could not be brought to this build's version, or the database was migrated
	/// by a newer build (`VersionMissing`): nothing was changed then.
	#[error("SCD schema migration: {0}")]
	Migrate(#[from] sqlx::migrate::MigrateError),
	/// A command that only reads found the schema at another version than this build's.
	#[error(
		"the SCD's schema is at version {found}, this build's at {wanted}: open it with this \
		 build's ingest or certifier first (they migrate), or use the build that wrote it"
	)]
	Schema { found: i64, wanted: i64 },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
	/// The database's disk is full (SQLite `SQLITE_FULL`, PostgreSQL `53100 disk_full`, or
	/// `ENOSPC` from the file system): nothing of the transaction was stored, and nothing will
	/// be until space is freed.
	pub fn is_disk_full(&self) -> bool {
		const ENOSPC: i32 = 28;
		match self {
			Error::Database(sqlx::Error::Database(e)) => {
				matches!(e.code().as_deref(), Some("13" | "53100"))
					|| e.message().contains("disk is full")
					|| e.message().contains("No space left")
			}
			Error::Database(sqlx::Error::Io(e)) => e.raw_os_error() == Some(ENOSPC),
			_ => false,
		}
	}
}

/// A measurement as the SCD keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measurement {
	pub dataset: DatasetId,
	pub timestamp_us: u64,
	pub sequence: u32,
	/// Start of the window its device time falls in, Unix ms (aligned to `window_ms`).
	pub window_start_ms: u64,
	pub window_ms: u32,
	/// Start of the window that certifies it: `window_start_ms`, or for late data the window
	/// that was open when it arrived (see the crate docs). Set by the store.
	pub cert_window_start_ms: u64,
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
			cert_window_start_ms: ms - ms % u64::from(window_ms),
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

	/// Certified outside its natural window (the late-data rule).
	pub fn is_late(&self) -> bool {
		self.cert_window_start_ms != self.window_start_ms
	}

	/// The certification window it belongs to.
	pub fn cert_window(&self) -> Window {
		Window {
			start_ms: self.cert_window_start_ms,
			duration_ms: self.window_ms,
		}
	}

	/// The window of `window_ms` that holds `received_ms`: where late data goes.
	fn late_window_start(&self) -> u64 {
		let w = u64::from(self.window_ms.max(1));
		self.received_ms - self.received_ms % w
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
	/// A message over the size ingest takes (kept truncated, see [`MAX_DEAD_LETTER_PAYLOAD`]).
	TooLarge,
	/// The sender's identity may not send data of this device (issue #12: no device speaks for
	/// another).
	Forbidden,
	/// Device time too far in the past to be certified (a clock reset, or data older than the
	/// chain's lateness bound, see [`too_old`]).
	TooOld,
}

impl Reason {
	pub const ALL: [Reason; 10] = [
		Reason::Malformed,
		Reason::UnknownDevice,
		Reason::OutOfRange,
		Reason::NotANumber,
		Reason::FarFuture,
		Reason::Duplicate,
		Reason::Conflict,
		Reason::TooOld,
		Reason::Forbidden,
		Reason::TooLarge,
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
			Reason::TooOld => "too_old",
			Reason::Forbidden => "forbidden",
			Reason::TooLarge => "too_large",
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

/// Largest payload a dead letter keeps: the first 64 KiB, enough to see what was sent; the
/// detail says how long it was.
pub const MAX_DEAD_LETTER_PAYLOAD: usize = 64 << 10;

impl DeadLetter {
	/// Detail and payload as stored: the payload cut to [`MAX_DEAD_LETTER_PAYLOAD`].
	pub(crate) fn stored(&self) -> (std::borrow::Cow<'_, str>, &[u8]) {
		if self.payload.len() <= MAX_DEAD_LETTER_PAYLOAD {
			return (self.detail.as_str().into(), &self.payload);
		}
		(
			format!(
				"{} (payload of {} bytes, first {MAX_DEAD_LETTER_PAYLOAD} kept)",
				self.detail,
				self.payload.len()
			)
			.into(),
			&self.payload[..MAX_DEAD_LETTER_PAYLOAD],
		)
	}
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
	/// Of `stored`, measurements whose window was sealed: certified in a later window.
	pub late: usize,
}

/// Where a window's certificate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertState {
	/// Roots built and kept; not yet on chain (the outbox).
	Sealed,
	/// On chain, finalized, with this root.
	Certified,
	/// The chain holds another root for this window: an alarm for the operator and auditors.
	Conflict,
}

impl CertState {
	pub fn as_str(self) -> &'static str {
		match self {
			CertState::Sealed => "sealed",
			CertState::Certified => "certified",
			CertState::Conflict => "conflict",
		}
	}
}

impl FromStr for CertState {
	type Err = Error;
	fn from_str(s: &str) -> Result<Self> {
		Ok(match s {
			"sealed" => CertState::Sealed,
			"certified" => CertState::Certified,
			"conflict" => CertState::Conflict,
			other => return Err(Error::Corrupt(format!("certificate state {other:?}"))),
		})
	}
}

/// Where the chain recorded a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRef {
	pub block_number: u64,
	pub block_hash: Hash,
	/// Index of the `certify` extrinsic in its block; `None` when the certificate was found in
	/// state (e.g. submitted before a crash) rather than by watching the extrinsic.
	pub extrinsic_index: Option<u32>,
	/// `Certified`, `AlreadyCertified`, `Conflict`, or `state` when read from storage.
	pub event: String,
}

/// A gateway window's certificate as the SCD keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
	pub window: Window,
	/// Root over `datasets` (the window root the chain stores).
	pub root: Hash,
	/// Dataset roots in ascending dataset order.
	pub datasets: Vec<DatasetRoot>,
	pub sealed_ms: u64,
	pub state: CertState,
	pub chain: Option<ChainRef>,
}

impl Certificate {
	pub fn leaves(&self) -> u64 {
		self.datasets.iter().map(|d| d.leaf_count).sum()
	}
}

/// A measurement with everything needed to check it against the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
	pub measurement: Measurement,
	pub certificate: Certificate,
	pub proof: MeasurementProof,
}

/// Builds a window's certificate from its datasets' leaves (canonical order).
pub fn dataset_root(dataset: DatasetId, leaves: &[Vec<u8>]) -> DatasetRoot {
	let tree = merkle::fast::tree(leaves);
	DatasetRoot {
		dataset,
		leaf_count: tree.leaf_count(),
		root: tree.root::<Blake2_256>(),
	}
}

/// `measurement`'s inclusion proof, if its window is sealed. Rebuilds the dataset's tree from the
/// stored leaves, so a row altered after sealing yields a proof that fails verification.
pub async fn proof<S: Store>(
	store: &S,
	dataset: DatasetId,
	timestamp_us: u64,
	sequence: u32,
) -> Result<Option<Proven>> {
	let Some(measurement) = store.measurement(dataset, timestamp_us, sequence).await? else {
		return Ok(None);
	};
	let Some(certificate) = store.certificate(measurement.cert_window()).await? else {
		return Ok(None);
	};
	let rows = store
		.window(dataset, measurement.cert_window_start_ms)
		.await?;
	let leaves: Vec<Vec<u8>> = rows.iter().map(|m| m.record.clone()).collect();
	let index = rows
		.iter()
		.position(|m| m.identity() == measurement.identity())
		.ok_or_else(|| Error::Corrupt("measurement missing from its window".into()))?;
	let tree = merkle::fast::tree(&leaves);
	let dataset_index = certificate
		.datasets
		.iter()
		.position(|d| d.dataset == dataset)
		.ok_or_else(|| Error::Corrupt("dataset missing from its certificate".into()))?;
	let dataset_leaves: Vec<Hash> = certificate
		.datasets
		.iter()
		.map(DatasetRoot::leaf_hash::<Blake2_256>)
		.collect();
	let dataset_tree = merkle::MerkleTree::from_leaf_hashes::<Blake2_256>(dataset_leaves);
	let corrupt = || Error::Corrupt("proof index out of range".into());
	let proof = MeasurementProof {
		leaf: measurement.record.clone(),
		leaf_proof: tree.proof(index as u64).ok_or_else(corrupt)?,
		dataset: certificate.datasets[dataset_index],
		dataset_proof: dataset_tree
			.proof(dataset_index as u64)
			.ok_or_else(corrupt)?,
	};
	Ok(Some(Proven {
		measurement,
		certificate,
		proof,
	}))
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

	/// A dataset's measurements with device time in `[from_us, to_us]`, in canonical order
	/// (timestamp, sequence), whatever window certifies them: a settlement slot's meter data
	/// (`platone settle`, FR-MP-SET-03).
	fn between(
		&self,
		dataset: DatasetId,
		from_us: u64,
		to_us: u64,
	) -> impl std::future::Future<Output = Result<Vec<Measurement>>> + Send;

	/// Number of stored measurements.
	fn measurement_count(&self) -> impl std::future::Future<Output = Result<u64>> + Send;

	/// Dead letters per reason (reasons with none are left out).
	fn dead_letter_counts(
		&self,
	) -> impl std::future::Future<Output = Result<Vec<(Reason, u64)>>> + Send;

	/// Deletes dead letters received before `received_before_ms`, then the oldest beyond
	/// `keep_at_most`. Returns how many went.
	fn prune_dead_letters(
		&self,
		received_before_ms: u64,
		keep_at_most: u64,
	) -> impl std::future::Future<Output = Result<u64>> + Send;

	/// The most recent dead letters, newest first.
	fn dead_letters(
		&self,
		limit: u32,
	) -> impl std::future::Future<Output = Result<Vec<DeadLetter>>> + Send;

	/// One measurement by identity.
	fn measurement(
		&self,
		dataset: DatasetId,
		timestamp_us: u64,
		sequence: u32,
	) -> impl std::future::Future<Output = Result<Option<Measurement>>> + Send;

	/// Windows with data that end at or before `closed_before_ms` and are not sealed yet,
	/// oldest first.
	fn closable_windows(
		&self,
		closed_before_ms: u64,
	) -> impl std::future::Future<Output = Result<Vec<Window>>> + Send;

	/// Seals `window`: from now on its set of measurements is fixed, and data for it is stored
	/// as late. Atomic with respect to [`commit`](Store::commit). Returns the datasets sealed.
	fn seal(&self, window: Window) -> impl std::future::Future<Output = Result<usize>> + Send;

	/// Sealed windows whose certificate is not built yet (a crash between the two steps).
	fn unbuilt(&self) -> impl std::future::Future<Output = Result<Vec<Window>>> + Send;

	/// Builds and keeps the certificate of a sealed window from its stored leaves; returns the
	/// one already kept if there is one. `None` if the window was never sealed.
	fn build(
		&self,
		window: Window,
		now_ms: u64,
	) -> impl std::future::Future<Output = Result<Option<Certificate>>> + Send;

	/// Certificates in `state`, oldest window first.
	fn certificates(
		&self,
		state: CertState,
		limit: u32,
	) -> impl std::future::Future<Output = Result<Vec<Certificate>>> + Send;

	fn certificate(
		&self,
		window: Window,
	) -> impl std::future::Future<Output = Result<Option<Certificate>>> + Send;

	/// Records what the chain said about a certificate.
	fn record_outcome(
		&self,
		window: Window,
		state: CertState,
		chain: &ChainRef,
	) -> impl std::future::Future<Output = Result<()>> + Send;

	/// Sealed gateway windows starting in `from_ms..=to_ms`, with the datasets sealed in each
	/// and the certificate if it is built (for audits).
	fn sealed_between(
		&self,
		from_ms: u64,
		to_ms: u64,
	) -> impl std::future::Future<Output = Result<Vec<SealedWindow>>> + Send;

	/// How many measurements each `(dataset, certification window)` holds, for certification
	/// windows starting in `from_ms..=to_ms` (for audits).
	fn placed_between(
		&self,
		from_ms: u64,
		to_ms: u64,
	) -> impl std::future::Future<Output = Result<Vec<Placed>>> + Send;
}

/// A sealed gateway window as the SCD keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedWindow {
	pub window: Window,
	/// Datasets sealed into it, ascending.
	pub datasets: Vec<DatasetId>,
	/// `None` while sealed but not built yet.
	pub certificate: Option<Certificate>,
}

/// A dataset's measurements in one certification window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
	pub dataset: DatasetId,
	pub window: Window,
	pub measurements: u64,
}

/// How long before the chain's lateness bound ([`MAX_LATENESS_MS`]) the SCD stops placing data in
/// its natural window: the certifier then has a day to seal and submit it. Data older than
/// `MAX_LATENESS_MS - LATENESS_MARGIN_MS` at receipt can no longer be certified anywhere
/// ([`too_old`]).
pub const LATENESS_MARGIN_MS: u64 = 86_400_000;

/// The oldest device time, Unix ms, that data received at `received_ms` may carry and still be
/// certified: the chain refuses a late record more than [`MAX_LATENESS_MS`] before its window.
pub fn oldest_certifiable_ms(received_ms: u64) -> u64 {
	received_ms.saturating_sub(MAX_LATENESS_MS - LATENESS_MARGIN_MS)
}

/// Device time (µs) too old, at `received_ms`, to be certified: ingest dead-letters it as
/// [`Reason::TooOld`] rather than store data no certificate can hold.
pub fn too_old(timestamp_us: u64, received_ms: u64) -> bool {
	timestamp_us / 1_000 < oldest_certifiable_ms(received_ms)
}

/// What a commit must know of sealed windows to place its rows, read in the commit's
/// transaction (under the seal lock).
#[derive(Debug, Default)]
pub(crate) struct Sealed {
	/// Gateway windows `(start, duration)` that are sealed: their set of data is fixed.
	windows: std::collections::HashSet<(u64, u32)>,
	/// Per dataset, the end of its latest sealed window: the chain's watermark for it once that
	/// window is certified; nothing of the dataset may be certified before it again.
	frontier: std::collections::HashMap<DatasetId, u64>,
}

impl Sealed {
	/// From `(dataset, window start, window duration)` rows of `sealed_windows`.
	pub(crate) fn from_rows(rows: impl IntoIterator<Item = (i64, i64, i64)>) -> Result<Self> {
		let mut sealed = Sealed::default();
		for (dataset, start, ms) in rows {
			let (dataset, start) = (to_u64(dataset, "dataset")?, to_u64(start, "window start")?);
			let ms = u32::try_from(ms).map_err(|_| Error::Corrupt("window".into()))?;
			sealed.windows.insert((start, ms));
			let end = start.saturating_add(u64::from(ms));
			let frontier = sealed.frontier.entry(dataset).or_default();
			*frontier = (*frontier).max(end);
		}
		Ok(sealed)
	}
}

/// The late-data rule. A measurement goes to its natural window while that window is open (not
/// sealed for the gateway), not behind its dataset's sealed frontier, and young enough to reach
/// the chain. Otherwise it is late: certified in the first open window from the one holding its
/// received time, and never behind its dataset's frontier. So no row ever joins a sealed window
/// (whose certificate would then miss it), and every window a dataset is placed in is one the
/// chain accepts for it (no `BehindWatermark`, no `WindowTooOld`).
fn cert_window_start(m: &Measurement, sealed: &Sealed) -> u64 {
	let step = u64::from(m.window_ms.max(1));
	let natural = m.window_start_ms;
	let frontier = sealed.frontier.get(&m.dataset).copied().unwrap_or(0);
	let open = |start: u64| !sealed.windows.contains(&(start, m.window_ms));
	let reachable = natural
		.saturating_add(step)
		.saturating_add(MAX_LATENESS_MS - LATENESS_MARGIN_MS)
		> m.received_ms;
	if open(natural) && natural >= frontier && reachable {
		return natural;
	}
	let earliest = m
		.late_window_start()
		.max(natural.saturating_add(step))
		.max(frontier);
	// Aligned up: a frontier left by another window duration need not be a multiple of this one.
	let mut start = earliest.div_ceil(step).saturating_mul(step);
	while !open(start) {
		start = start.saturating_add(step);
	}
	start
}

/// A `certificates` row as both backends read it, before checks.
pub(crate) struct CertificateRow {
	pub window_start_ms: i64,
	pub window_ms: i64,
	pub state: String,
	pub sealed_ms: i64,
	pub root: Option<Vec<u8>>,
	pub datasets: Option<Vec<u8>>,
	pub block_number: Option<i64>,
	pub block_hash: Option<Vec<u8>>,
	pub extrinsic_index: Option<i64>,
	pub event: Option<String>,
}

impl CertificateRow {
	pub fn into_certificate(self) -> Result<Certificate> {
		let chain = match self.block_number {
			Some(n) => Some(ChainRef {
				block_number: to_u64(n, "block number")?,
				block_hash: to_hash(self.block_hash.unwrap_or_default(), "block hash")?,
				extrinsic_index: self
					.extrinsic_index
					.map(|i| u32::try_from(i).map_err(|_| Error::Corrupt("extrinsic".into())))
					.transpose()?,
				event: self.event.unwrap_or_default(),
			}),
			None => None,
		};
		Ok(Certificate {
			window: window_from(self.window_start_ms, self.window_ms)?,
			root: to_hash(self.root.unwrap_or_default(), "root")?,
			datasets: decode_datasets(&self.datasets.unwrap_or_default())?,
			sealed_ms: to_u64(self.sealed_ms, "sealed time")?,
			state: CertState::from_str(&self.state)?,
			chain,
		})
	}
}

pub(crate) fn window_from(start_ms: i64, duration_ms: i64) -> Result<Window> {
	Ok(Window {
		start_ms: to_u64(start_ms, "window start")?,
		duration_ms: u32::try_from(duration_ms).map_err(|_| Error::Corrupt("window".into()))?,
	})
}

/// The range of `sealed_windows` starts that can matter to a batch: from its earliest natural
/// window (no earlier than the lateness bound before its receipt: an older natural window is
/// never used) to a day past its latest receipt (a certifier whose clock runs ahead may have
/// sealed more than the received time suggests).
pub(crate) fn sealed_range(measurements: &[Measurement]) -> Option<(u64, u64)> {
	Some((
		measurements
			.iter()
			.map(|m| {
				m.window_start_ms.max(
					m.received_ms
						.saturating_sub(MAX_LATENESS_MS + u64::from(m.window_ms)),
				)
			})
			.min()?,
		measurements
			.iter()
			.map(|m| m.received_ms)
			.max()?
			.saturating_add(86_400_000),
	))
}

/// Encodes a certificate's dataset roots for storage (SCALE).
fn encode_datasets(datasets: &[DatasetRoot]) -> Vec<u8> {
	codec::Encode::encode(datasets)
}

fn decode_datasets(bytes: &[u8]) -> Result<Vec<DatasetRoot>> {
	<Vec<DatasetRoot> as codec::Decode>::decode(&mut &bytes[..])
		.map_err(|e| Error::Corrupt(format!("dataset roots: {e}")))
}

fn to_hash(bytes: Vec<u8>, what: &str) -> Result<Hash> {
	bytes
		.try_into()
		.map_err(|_| Error::Corrupt(format!("{what} is not 32 bytes")))
}

/// A window as the backends store it: start (ms) and length (ms, an SQL `INTEGER`).
fn window_key(window: &Window) -> Result<(i64, i32)> {
	Ok((
		to_i64(window.start_ms, "window start")?,
		i32::try_from(window.duration_ms).map_err(|_| Error::Range("window"))?,
	))
}

/// The system clock, Unix ms.
pub(crate) fn now_ms() -> i64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.ok()
		.and_then(|d| i64::try_from(d.as_millis()).ok())
		.unwrap_or(0)
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
