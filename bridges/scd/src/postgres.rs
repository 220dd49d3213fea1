//! PostgreSQL backend, for scale. Measurements are range-partitioned by window start, one
//! partition per UTC day, created on first use: old days can be archived or dropped whole, and
//! a window's rows always sit in one partition. A batch goes in with one `UNNEST` insert.

use std::{collections::HashSet, str::FromStr};

use sqlx::{postgres::PgPoolOptions, PgPool, Row};
use tokio::sync::Mutex;

use crate::{
	duplicate_letter, to_i64, to_u64, Committed, DeadLetter, Error, Measurement, Reason, Result,
	Store,
};
use platone_primitives::DatasetId;

const DAY_MS: u64 = 86_400_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS measurements (
	dataset BIGINT NOT NULL,
	timestamp_us BIGINT NOT NULL,
	sequence BIGINT NOT NULL,
	window_start_ms BIGINT NOT NULL,
	window_ms INTEGER NOT NULL,
	received_ms BIGINT NOT NULL,
	record BYTEA NOT NULL,
	PRIMARY KEY (dataset, timestamp_us, sequence, window_start_ms)
) PARTITION BY RANGE (window_start_ms);
CREATE INDEX IF NOT EXISTS measurements_by_window ON measurements (window_start_ms, dataset);
CREATE TABLE IF NOT EXISTS dead_letters (
	id BIGSERIAL PRIMARY KEY,
	received_ms BIGINT NOT NULL,
	source TEXT NOT NULL,
	reason TEXT NOT NULL,
	detail TEXT NOT NULL,
	payload BYTEA NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_reason ON dead_letters (reason);
";

pub struct PostgresStore {
	pool: PgPool,
	/// Days whose partition exists; saves a catalogue round trip per batch.
	partitions: Mutex<HashSet<u64>>,
}

impl PostgresStore {
	/// Connects to `url` (`postgres://…`) and creates the schema if needed.
	pub async fn open(url: &str) -> Result<Self> {
		let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
		sqlx::raw_sql(SCHEMA).execute(&pool).await?;
		Ok(PostgresStore {
			pool,
			partitions: Mutex::new(HashSet::new()),
		})
	}

	async fn ensure_partitions(&self, measurements: &[Measurement]) -> Result<()> {
		let mut known = self.partitions.lock().await;
		let days: HashSet<u64> = measurements
			.iter()
			.map(|m| m.window_start_ms / DAY_MS)
			.collect();
		for day in days.difference(&known.clone()) {
			let from = to_i64(day * DAY_MS, "window start")?;
			let to = to_i64((day + 1) * DAY_MS, "window start")?;
			// Identifiers cannot be bound; the day number is ours, not input.
			let ddl = format!(
				"CREATE TABLE IF NOT EXISTS measurements_d{day} PARTITION OF measurements \
				 FOR VALUES FROM ({from}) TO ({to})"
			);
			sqlx::raw_sql(&ddl).execute(&self.pool).await?;
			known.insert(*day);
		}
		Ok(())
	}
}

fn measurement(row: &sqlx::postgres::PgRow) -> Result<Measurement> {
	Ok(Measurement {
		dataset: to_u64(row.try_get("dataset")?, "dataset")?,
		timestamp_us: to_u64(row.try_get("timestamp_us")?, "timestamp")?,
		sequence: u32::try_from(row.try_get::<i64, _>("sequence")?)
			.map_err(|_| Error::Corrupt("sequence".into()))?,
		window_start_ms: to_u64(row.try_get("window_start_ms")?, "window start")?,
		window_ms: u32::try_from(row.try_get::<i32, _>("window_ms")?)
			.map_err(|_| Error::Corrupt("window".into()))?,
		received_ms: to_u64(row.try_get("received_ms")?, "received time")?,
		record: row.try_get("record")?,
	})
}

impl Store for PostgresStore {
	async fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		self.ensure_partitions(measurements).await?;
		let mut columns = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
		for m in measurements {
			columns.0.push(to_i64(m.dataset, "dataset")?);
			columns.1.push(to_i64(m.timestamp_us, "timestamp")?);
			columns.2.push(i64::from(m.sequence));
			columns.3.push(to_i64(m.window_start_ms, "window start")?);
			columns
				.4
				.push(i32::try_from(m.window_ms).map_err(|_| Error::Range("window"))?);
			columns.5.push(to_i64(m.received_ms, "received time")?);
			columns.6.push(m.record.clone());
		}
		let mut tx = self.pool.begin().await?;
		let inserted: HashSet<(i64, i64, i64)> = sqlx::query(
			"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, received_ms, record) \
			 SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int8[], $7::bytea[]) \
			 ON CONFLICT DO NOTHING RETURNING dataset, timestamp_us, sequence",
		)
		.bind(&columns.0)
		.bind(&columns.1)
		.bind(&columns.2)
		.bind(&columns.3)
		.bind(&columns.4)
		.bind(&columns.5)
		.bind(&columns.6)
		.fetch_all(&mut *tx)
		.await?
		.iter()
		.map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
		.collect::<Result<_>>()?;

		let mut done = Committed {
			stored: inserted.len(),
			..Committed::default()
		};
		// Rows not inserted, and repeats within the batch after the first, were already there.
		let mut first_seen = HashSet::new();
		let mut letters = Vec::new();
		for (i, m) in measurements.iter().enumerate() {
			let key = (columns.0[i], columns.1[i], columns.2[i]);
			if inserted.contains(&key) && first_seen.insert(key) {
				continue;
			}
			let stored: Vec<u8> = sqlx::query_scalar(
				"SELECT record FROM measurements WHERE dataset = $1 AND timestamp_us = $2 AND sequence = $3",
			)
			.bind(key.0)
			.bind(key.1)
			.bind(key.2)
			.fetch_one(&mut *tx)
			.await?;
			let letter = duplicate_letter(m, &stored);
			match letter.reason {
				Reason::Duplicate => done.duplicates += 1,
				_ => done.conflicts += 1,
			}
			letters.push(letter);
		}
		letters.extend_from_slice(dead_letters);
		if !letters.is_empty() {
			let mut c = (vec![], vec![], vec![], vec![], vec![]);
			for l in &letters {
				c.0.push(to_i64(l.received_ms, "received time")?);
				c.1.push(l.source.clone());
				c.2.push(l.reason.as_str().to_string());
				c.3.push(l.detail.clone());
				c.4.push(l.payload.clone());
			}
			sqlx::query(
				"INSERT INTO dead_letters (received_ms, source, reason, detail, payload) \
				 SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::bytea[])",
			)
			.bind(&c.0)
			.bind(&c.1)
			.bind(&c.2)
			.bind(&c.3)
			.bind(&c.4)
			.execute(&mut *tx)
			.await?;
		}
		done.dead_letters = letters.len();
		tx.commit().await?;
		Ok(done)
	}

	async fn window(&self, dataset: DatasetId, window_start_ms: u64) -> Result<Vec<Measurement>> {
		sqlx::query(
			"SELECT * FROM measurements WHERE dataset = $1 AND window_start_ms = $2 ORDER BY timestamp_us, sequence",
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
		let rows = sqlx::query("SELECT * FROM dead_letters ORDER BY id DESC LIMIT $1")
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
