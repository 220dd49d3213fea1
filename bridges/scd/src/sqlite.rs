//! SQLite backend: the embedded default. WAL journal with `synchronous = FULL`, so a committed
//! batch survives a crash of the process or the machine; one transaction per batch amortises the
//! fsync.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
	sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
	Row, SqlitePool,
};

use crate::{
	duplicate_letter, to_i64, to_u64, Committed, DeadLetter, Measurement, Reason, Result, Store,
};
use platone_primitives::DatasetId;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS measurements (
	dataset INTEGER NOT NULL,
	timestamp_us INTEGER NOT NULL,
	sequence INTEGER NOT NULL,
	window_start_ms INTEGER NOT NULL,
	window_ms INTEGER NOT NULL,
	received_ms INTEGER NOT NULL,
	record BLOB NOT NULL,
	PRIMARY KEY (dataset, timestamp_us, sequence)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS measurements_by_window ON measurements (window_start_ms, dataset);
CREATE TABLE IF NOT EXISTS dead_letters (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	received_ms INTEGER NOT NULL,
	source TEXT NOT NULL,
	reason TEXT NOT NULL,
	detail TEXT NOT NULL,
	payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason);
";

pub struct SqliteStore {
	pool: SqlitePool,
}

impl SqliteStore {
	/// Opens (creating if needed) the database file at `path`.
	pub async fn open(path: &Path) -> Result<Self> {
		let options = SqliteConnectOptions::new()
			.filename(path)
			.create_if_missing(true)
			.journal_mode(SqliteJournalMode::Wal)
			.synchronous(SqliteSynchronous::Full)
			.busy_timeout(Duration::from_secs(10));
		// Readers (proof API, certifier) beside the one ingest writer; WAL lets them run together.
		let pool = SqlitePoolOptions::new()
			.max_connections(4)
			.connect_with(options)
			.await?;
		sqlx::raw_sql(SCHEMA).execute(&pool).await?;
		Ok(SqliteStore { pool })
	}

	/// Opens the database named by a `sqlite://` URL or a plain path.
	pub async fn open_url(url: &str) -> Result<Self> {
		let path = url.strip_prefix("sqlite://").unwrap_or(url);
		Self::open(Path::new(path)).await
	}
}

fn measurement(row: &sqlx::sqlite::SqliteRow) -> Result<Measurement> {
	Ok(Measurement {
		dataset: to_u64(row.try_get("dataset")?, "dataset")?,
		timestamp_us: to_u64(row.try_get("timestamp_us")?, "timestamp")?,
		sequence: u32::try_from(row.try_get::<i64, _>("sequence")?)
			.map_err(|_| crate::Error::Corrupt("sequence".into()))?,
		window_start_ms: to_u64(row.try_get("window_start_ms")?, "window start")?,
		window_ms: u32::try_from(row.try_get::<i64, _>("window_ms")?)
			.map_err(|_| crate::Error::Corrupt("window".into()))?,
		received_ms: to_u64(row.try_get("received_ms")?, "received time")?,
		record: row.try_get("record")?,
	})
}

async fn insert_letter(
	tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
	letter: &DeadLetter,
) -> Result<()> {
	sqlx::query(
		"INSERT INTO dead_letters (received_ms, source, reason, detail, payload) VALUES (?, ?, ?, ?, ?)",
	)
	.bind(to_i64(letter.received_ms, "received time")?)
	.bind(&letter.source)
	.bind(letter.reason.as_str())
	.bind(&letter.detail)
	.bind(&letter.payload)
	.execute(&mut **tx)
	.await?;
	Ok(())
}

impl Store for SqliteStore {
	async fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		let mut done = Committed::default();
		let mut tx = self.pool.begin().await?;
		for m in measurements {
			let inserted = sqlx::query(
				"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, received_ms, record) \
				 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
			)
			.bind(to_i64(m.dataset, "dataset")?)
			.bind(to_i64(m.timestamp_us, "timestamp")?)
			.bind(i64::from(m.sequence))
			.bind(to_i64(m.window_start_ms, "window start")?)
			.bind(i64::from(m.window_ms))
			.bind(to_i64(m.received_ms, "received time")?)
			.bind(&m.record)
			.execute(&mut *tx)
			.await?
			.rows_affected();
			if inserted == 1 {
				done.stored += 1;
				continue;
			}
			let (dataset, timestamp, sequence) = m.identity();
			let stored: Vec<u8> = sqlx::query_scalar(
				"SELECT record FROM measurements WHERE dataset = ? AND timestamp_us = ? AND sequence = ?",
			)
			.bind(to_i64(dataset, "dataset")?)
			.bind(to_i64(timestamp, "timestamp")?)
			.bind(i64::from(sequence))
			.fetch_one(&mut *tx)
			.await?;
			let letter = duplicate_letter(m, &stored);
			match letter.reason {
				Reason::Duplicate => done.duplicates += 1,
				_ => done.conflicts += 1,
			}
			insert_letter(&mut tx, &letter).await?;
			done.dead_letters += 1;
		}
		for letter in dead_letters {
			insert_letter(&mut tx, letter).await?;
			done.dead_letters += 1;
		}
		tx.commit().await?;
		Ok(done)
	}

	async fn window(&self, dataset: DatasetId, window_start_ms: u64) -> Result<Vec<Measurement>> {
		sqlx::query(
			"SELECT * FROM measurements WHERE dataset = ? AND window_start_ms = ? ORDER BY timestamp_us, sequence",
		)
		.bind(to_i64(dataset, "dataset")?)
		.bind(to_i64(window_start_ms, "window start")?)
		.fetch_all(&self.pool)
		.await?
		.iter()
		.map(measurement)
		.collect()
	}

	async fn measurement_count(&self) -> Result<u64> {
		let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM measurements")
			.fetch_one(&self.pool)
			.await?;
		to_u64(n, "count")
	}

	async fn dead_letter_counts(&self) -> Result<Vec<(Reason, u64)>> {
		let rows = sqlx::query(
			"SELECT reason, COUNT(*) AS n FROM dead_letters GROUP BY reason ORDER BY reason",
		)
		.fetch_all(&self.pool)
		.await?;
		rows.iter()
			.map(|row| {
				let reason: String = row.try_get("reason")?;
				Ok((
					Reason::from_str(&reason)?,
					to_u64(row.try_get("n")?, "count")?,
				))
			})
			.collect()
	}

	async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>> {
		let rows = sqlx::query("SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?")
			.bind(i64::from(limit))
			.fetch_all(&self.pool)
			.await?;
		rows.iter()
			.map(|row| {
				let reason: String = row.try_get("reason")?;
				Ok(DeadLetter {
					received_ms: to_u64(row.try_get("received_ms")?, "received time")?,
					source: row.try_get("source")?,
					reason: Reason::from_str(&reason)?,
					detail: row.try_get("detail")?,
					payload: row.try_get("payload")?,
				})
			})
			.collect()
	}
}
