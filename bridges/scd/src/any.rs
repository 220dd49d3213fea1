//! One store type for whichever backend a URL names, so that callers (the `platone` roles, the
//! API, audits) are written once rather than once per backend.

use platone_primitives::{DatasetId, Window};

use crate::{
	CertState, Certificate, ChainRef, Committed, DeadLetter, Error, Measurement, Placed,
	PostgresStore, Reason, Result, SealedWindow, SqliteStore, Store,
};

pub enum AnyStore {
	Sqlite(SqliteStore),
	Postgres(PostgresStore),
}

/// `postgres://…` or `postgresql://…` names PostgreSQL; anything else is a SQLite file.
pub fn is_postgres(url: &str) -> bool {
	url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file a `sqlite://path` URL (or a plain path) names.
fn sqlite_path(url: &str) -> &std::path::Path {
	std::path::Path::new(url.strip_prefix("sqlite://").unwrap_or(url))
}

impl AnyStore {
	/// Opens the SCD at `url` (`sqlite://path`, a plain path, or `postgres://…`) and migrates
	/// its schema. A SQLite file's directory is created if missing.
	pub async fn open(url: &str) -> Result<Self> {
		if is_postgres(url) {
			return Ok(AnyStore::Postgres(PostgresStore::open(url).await?));
		}
		let path = sqlite_path(url);
		if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
			std::fs::create_dir_all(dir).map_err(|source| Error::Directory {
				path: dir.display().to_string(),
				source,
			})?;
		}
		Ok(AnyStore::Sqlite(SqliteStore::open(path).await?))
	}

	/// Opens an existing SCD at `url` whose schema is this build's, changing nothing: for
	/// commands that only read.
	pub async fn open_current(url: &str) -> Result<Self> {
		if is_postgres(url) {
			return Ok(AnyStore::Postgres(PostgresStore::open_current(url).await?));
		}
		let path = sqlite_path(url);
		Ok(AnyStore::Sqlite(SqliteStore::open_current(path).await?))
	}

	/// `"sqlite"` or `"postgres"`.
	pub fn backend(&self) -> &'static str {
		match self {
			AnyStore::Sqlite(_) => "sqlite",
			AnyStore::Postgres(_) => "postgres",
		}
	}

	/// The schema version the database is at.
	pub async fn schema_version(&self) -> Result<i64> {
		match self {
			AnyStore::Sqlite(s) => s.schema_version().await,
			AnyStore::Postgres(s) => s.schema_version().await,
		}
	}
}

/// Forwards a call to the backend.
macro_rules! forward {
	($self:ident . $method:ident ( $($arg:expr),* )) => {
		match $self {
			AnyStore::Sqlite(s) => s.$method($($arg),*).await,
			AnyStore::Postgres(s) => s.$method($($arg),*).await,
		}
	};
}

impl Store for AnyStore {
	async fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		forward!(self.commit(measurements, dead_letters))
	}

	async fn window(&self, dataset: DatasetId, window_start_ms: u64) -> Result<Vec<Measurement>> {
		forward!(self.window(dataset, window_start_ms))
	}

	async fn between(
		&self,
		dataset: DatasetId,
		from_us: u64,
		to_us: u64,
	) -> Result<Vec<Measurement>> {
		forward!(self.between(dataset, from_us, to_us))
	}

	async fn measurement_count(&self) -> Result<u64> {
		forward!(self.measurement_count())
	}

	async fn dead_letter_counts(&self) -> Result<Vec<(Reason, u64)>> {
		forward!(self.dead_letter_counts())
	}

	async fn prune_dead_letters(&self, received_before_ms: u64, keep_at_most: u64) -> Result<u64> {
		forward!(self.prune_dead_letters(received_before_ms, keep_at_most))
	}

	async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>> {
		forward!(self.dead_letters(limit))
	}

	async fn measurement(
		&self,
		dataset: DatasetId,
		timestamp_us: u64,
		sequence: u32,
	) -> Result<Option<Measurement>> {
		forward!(self.measurement(dataset, timestamp_us, sequence))
	}

	async fn closable_windows(&self, closed_before_ms: u64) -> Result<Vec<Window>> {
		forward!(self.closable_windows(closed_before_ms))
	}

	async fn seal(&self, window: Window) -> Result<usize> {
		forward!(self.seal(window))
	}

	async fn unbuilt(&self) -> Result<Vec<Window>> {
		forward!(self.unbuilt())
	}

	async fn build(&self, window: Window, now_ms: u64) -> Result<Option<Certificate>> {
		forward!(self.build(window, now_ms))
	}

	async fn certificates(&self, state: CertState, limit: u32) -> Result<Vec<Certificate>> {
		forward!(self.certificates(state, limit))
	}

	async fn certificate(&self, window: Window) -> Result<Option<Certificate>> {
		forward!(self.certificate(window))
	}

	async fn record_outcome(
		&self,
		window: Window,
		state: CertState,
		chain: &ChainRef,
	) -> Result<()> {
		forward!(self.record_outcome(window, state, chain))
	}

	async fn sealed_between(&self, from_ms: u64, to_ms: u64) -> Result<Vec<SealedWindow>> {
		forward!(self.sealed_between(from_ms, to_ms))
	}

	async fn placed_between(&self, from_ms: u64, to_ms: u64) -> Result<Vec<Placed>> {
		forward!(self.placed_between(from_ms, to_ms))
	}
}
