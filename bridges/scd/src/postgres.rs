//! PostgreSQL backend, for scale. Measurements are range-partitioned by device time, one
//! partition per UTC day, created on first use: old days can be archived or dropped whole, and
//! the key is the measurement's identity, as on SQLite. A batch goes in with one `UNNEST` insert.
//! Committing a batch holds a shared advisory lock and sealing a window an exclusive one, so the
//! two never interleave (the late-data rule depends on it).

use std::{
	collections::{HashMap, HashSet},
	str::FromStr,
};

use sqlx::{postgres::PgPoolOptions, PgPool, Row};
use tokio::sync::Mutex;

use crate::{
	cert_window_start, dataset_root, duplicate_letter, encode_datasets, sealed_range, to_i64,
	to_u64, window_from, window_key, CertState, Certificate, CertificateRow, ChainRef, Committed,
	DeadLetter, Error, Measurement, Placed, Reason, Result, Sealed, SealedWindow, Store,
};
use platone_primitives::{window_root, Blake2_256, DatasetId, Window};

/// Advisory lock between batch commits (shared) and window sealing (exclusive).
const SEAL_LOCK: i64 = 0x0070_6c61_746f_6e65;
/// Advisory lock around partition DDL: `CREATE … IF NOT EXISTS` from two sessions at once can
/// still fail on the catalog's unique indexes (ingest, certifier and API start together).
const DDL_LOCK: i64 = 0x0070_6c61_7464_646c;

const DAY_US: u64 = 86_400_000_000;

/// What a window's leaves are read from: its measurements, and the copies of identities an
/// older schema stored twice, which migration 2 kept as leaves of the windows that hold them.
const LEAVES: &str =
	"(SELECT * FROM measurements UNION ALL SELECT * FROM measurements_superseded) AS leaves";

pub struct PostgresStore {
	pool: PgPool,
	/// Days whose partition exists; saves a catalogue round trip per batch.
	partitions: Mutex<HashSet<u64>>,
	/// Dataset windows this handle already listed in `open_windows`.
	opened: std::sync::Mutex<HashSet<(DatasetId, u64)>>,
}

impl PostgresStore {
	/// Connects to `url` (`postgres://…`) and brings the schema to this build's version (the
	/// migrator holds an advisory lock: processes opening together migrate once).
	pub async fn open(url: &str) -> Result<Self> {
		let store = Self::connect(url).await?;
		crate::migrate::migrator(crate::migrate::POSTGRES)
			.await?
			.run(&store.pool)
			.await?;
		Ok(store)
	}

	/// Opens an SCD whose schema is this build's, and changes nothing (see
	/// [`SqliteStore::open_current`](crate::SqliteStore::open_current)).
	pub async fn open_current(url: &str) -> Result<Self> {
		let store = Self::connect(url).await?;
		crate::migrate::check(store.schema_version().await, crate::migrate::POSTGRES)?;
		Ok(store)
	}

	async fn connect(url: &str) -> Result<Self> {
		let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
		Ok(PostgresStore {
			pool,
			partitions: Mutex::new(HashSet::new()),
			opened: Default::default(),
		})
	}

	async fn ensure_partitions(&self, measurements: &[Measurement]) -> Result<()> {
		let mut known = self.partitions.lock().await;
		let days: HashSet<u64> = measurements
			.iter()
			.map(|m| m.timestamp_us / DAY_US)
			.collect();
		for day in days.difference(&known.clone()) {
			let bound = |day: u64| {
				day.checked_mul(DAY_US)
					.ok_or(Error::Range("timestamp"))
					.and_then(|t| to_i64(t, "timestamp"))
			};
			let (from, to) = (bound(*day)?, bound(day + 1)?);
			// Identifiers cannot be bound; the day number is ours, not input.
			let ddl = format!(
				"CREATE TABLE IF NOT EXISTS measurements_t{day} PARTITION OF measurements \
				 FOR VALUES FROM ({from}) TO ({to})"
			);
			self::ddl(&self.pool, &ddl).await?;
			known.insert(*day);
		}
		Ok(())
	}
}

/// Runs schema statements serialised against other processes on the same database.
async fn ddl(pool: &sqlx::PgPool, statements: &str) -> Result<()> {
	let mut tx = pool.begin().await?;
	sqlx::query("SELECT pg_advisory_xact_lock($1)")
		.bind(DDL_LOCK)
		.execute(&mut *tx)
		.await?;
	// A plain &str runs as a simple query: several statements, no parameters.
	sqlx::Executor::execute(&mut *tx, statements).await?;
	tx.commit().await?;
	Ok(())
}

impl PostgresStore {
	/// The schema version the database is at (the newest applied migration).
	pub async fn schema_version(&self) -> Result<i64> {
		Ok(sqlx::query_scalar(
			"SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
		)
		.fetch_one(&self.pool)
		.await?)
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
		cert_window_start_ms: to_u64(row.try_get("cert_window_start_ms")?, "window start")?,
		received_ms: to_u64(row.try_get("received_ms")?, "received time")?,
		record: row.try_get("record")?,
	})
}

/// The sealed windows that can matter to the batch's placement, in one query.
async fn sealed_among(
	tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
	measurements: &[Measurement],
) -> Result<Sealed> {
	let Some((from, to)) = sealed_range(measurements) else {
		return Ok(Sealed::default());
	};
	let rows: Vec<(i64, i64, i32)> = sqlx::query_as(
		"SELECT dataset, window_start_ms, window_ms FROM sealed_windows \
		 WHERE window_start_ms BETWEEN $1 AND $2",
	)
	.bind(to_i64(from, "window start")?)
	.bind(to_i64(to, "time")?)
	.fetch_all(&mut **tx)
	.await?;
	Sealed::from_rows(rows.into_iter().map(|(d, s, ms)| (d, s, i64::from(ms))))
}

fn certificate(row: &sqlx::postgres::PgRow) -> Result<Certificate> {
	CertificateRow {
		window_start_ms: row.try_get("window_start_ms")?,
		window_ms: i64::from(row.try_get::<i32, _>("window_ms")?),
		state: row.try_get("state")?,
		sealed_ms: row.try_get("sealed_ms")?,
		root: row.try_get("root")?,
		datasets: row.try_get("datasets")?,
		block_number: row.try_get("block_number")?,
		block_hash: row.try_get("block_hash")?,
		extrinsic_index: row.try_get("extrinsic_index")?,
		event: row.try_get("event")?,
	}
	.into_certificate()
}

fn window_of(row: &sqlx::postgres::PgRow) -> Result<Window> {
	window_from(
		row.try_get("window_start_ms")?,
		i64::from(row.try_get::<i32, _>("window_ms")?),
	)
}

impl Store for PostgresStore {
	async fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		self.ensure_partitions(measurements).await?;
		let mut tx = self.pool.begin().await?;
		sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
			.bind(SEAL_LOCK)
			.execute(&mut *tx)
			.await?;
		let sealed = sealed_among(&mut tx, measurements).await?;
		let mut columns = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
		let mut certs = Vec::with_capacity(measurements.len());
		for m in measurements {
			certs.push(cert_window_start(m, &sealed));
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
		let cert_column = certs
			.iter()
			.map(|c| to_i64(*c, "window start"))
			.collect::<Result<Vec<_>>>()?;
		let inserted: HashSet<(i64, i64, i64)> = sqlx::query(
			"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, received_ms, record, cert_window_start_ms) \
			 SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int8[], $7::bytea[], $8::int8[]) \
			 ON CONFLICT DO NOTHING RETURNING dataset, timestamp_us, sequence",
		)
		.bind(&columns.0)
		.bind(&columns.1)
		.bind(&columns.2)
		.bind(&columns.3)
		.bind(&columns.4)
		.bind(&columns.5)
		.bind(&columns.6)
		.bind(&cert_column)
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
		let mut opened = HashSet::new();
		for (i, m) in measurements.iter().enumerate() {
			let key = (columns.0[i], columns.1[i], columns.2[i]);
			if inserted.contains(&key) && first_seen.insert(key) {
				if certs[i] != m.window_start_ms {
					done.late += 1;
				}
				opened.insert((m.dataset, certs[i], m.window_ms));
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
				let (detail, payload) = l.stored();
				c.3.push(detail.into_owned());
				c.4.push(payload.to_vec());
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
		let new: Vec<_> = {
			let known = self.opened.lock().unwrap_or_else(|e| e.into_inner());
			opened
				.into_iter()
				.filter(|(d, w, _)| !known.contains(&(*d, *w)))
				.collect()
		};
		if !new.is_empty() {
			let mut c = (vec![], vec![], vec![]);
			for (dataset, start, window_ms) in &new {
				c.0.push(to_i64(*dataset, "dataset")?);
				c.1.push(to_i64(*start, "window start")?);
				c.2.push(i32::try_from(*window_ms).map_err(|_| Error::Range("window"))?);
			}
			sqlx::query(
				"INSERT INTO open_windows (dataset, window_start_ms, window_ms) \
				 SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int4[]) ON CONFLICT DO NOTHING",
			)
			.bind(&c.0)
			.bind(&c.1)
			.bind(&c.2)
			.execute(&mut *tx)
			.await?;
		}
		tx.commit().await?;
		if !new.is_empty() {
			let mut known = self.opened.lock().unwrap_or_else(|e| e.into_inner());
			if known.len() > 100_000 {
				known.clear();
			}
			known.extend(new.iter().map(|(d, w, _)| (*d, *w)));
		}
		Ok(done)
	}

	async fn between(
		&self,
		dataset: DatasetId,
		from_us: u64,
		to_us: u64,
	) -> Result<Vec<Measurement>> {
		// Identities beyond i64 are never stored: clamp the range to what can be.
		let clamp = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
		sqlx::query(
			"SELECT * FROM measurements WHERE dataset = $1 AND timestamp_us >= $2 \
			 AND timestamp_us <= $3 ORDER BY timestamp_us, sequence",
		)
		.bind(to_i64(dataset, "dataset")?)
		.bind(clamp(from_us))
		.bind(clamp(to_us))
		.fetch_all(&self.pool)
		.await?
		.iter()
		.map(measurement)
		.collect()
	}

	async fn window(&self, dataset: DatasetId, window_start_ms: u64) -> Result<Vec<Measurement>> {
		sqlx::query(&format!(
			"SELECT * FROM {LEAVES} WHERE dataset = $1 AND cert_window_start_ms = $2 \
			 AND window_start_ms <= $2 ORDER BY timestamp_us, sequence"
		))
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

	async fn measurement(
		&self,
		dataset: DatasetId,
		timestamp_us: u64,
		sequence: u32,
	) -> Result<Option<Measurement>> {
		// Nothing is stored under an identity the database cannot hold.
		let (Ok(dataset), Ok(timestamp_us)) = (
			to_i64(dataset, "dataset"),
			to_i64(timestamp_us, "timestamp"),
		) else {
			return Ok(None);
		};
		sqlx::query(
			"SELECT * FROM measurements WHERE dataset = $1 AND timestamp_us = $2 AND sequence = $3",
		)
		.bind(dataset)
		.bind(timestamp_us)
		.bind(i64::from(sequence))
		.fetch_optional(&self.pool)
		.await?
		.as_ref()
		.map(measurement)
		.transpose()
	}

	async fn closable_windows(&self, closed_before_ms: u64) -> Result<Vec<Window>> {
		sqlx::query(
			"SELECT DISTINCT window_start_ms, window_ms FROM open_windows \
			 WHERE window_start_ms + window_ms <= $1 ORDER BY window_start_ms, window_ms",
		)
		.bind(to_i64(closed_before_ms, "time")?)
		.fetch_all(&self.pool)
		.await?
		.iter()
		.map(window_of)
		.collect()
	}

	async fn seal(&self, window: Window) -> Result<usize> {
		let (start, ms) = window_key(&window)?;
		let mut tx = self.pool.begin().await?;
		sqlx::query("SELECT pg_advisory_xact_lock($1)")
			.bind(SEAL_LOCK)
			.execute(&mut *tx)
			.await?;
		crate::strays::rehome::<sqlx::Postgres>(&mut tx, start, ms).await?;
		let moved = sqlx::query(
			"INSERT INTO sealed_windows (dataset, window_start_ms, window_ms) \
			 SELECT dataset, window_start_ms, window_ms FROM open_windows \
			 WHERE window_start_ms = $1 AND window_ms = $2 ON CONFLICT DO NOTHING",
		)
		.bind(start)
		.bind(ms)
		.execute(&mut *tx)
		.await?
		.rows_affected();
		sqlx::query("DELETE FROM open_windows WHERE window_start_ms = $1 AND window_ms = $2")
			.bind(start)
			.bind(ms)
			.execute(&mut *tx)
			.await?;
		if moved > 0 {
			sqlx::query(
				"INSERT INTO certificates (window_start_ms, window_ms, state, sealed_ms) \
				 VALUES ($1, $2, 'sealing', (extract(epoch from now()) * 1000)::int8) ON CONFLICT DO NOTHING",
			)
			.bind(start)
			.bind(ms)
			.execute(&mut *tx)
			.await?;
		}
		tx.commit().await?;
		usize::try_from(moved).map_err(|_| Error::Range("count"))
	}

	async fn unbuilt(&self) -> Result<Vec<Window>> {
		sqlx::query(
			"SELECT window_start_ms, window_ms FROM certificates WHERE state = 'sealing' \
			 ORDER BY window_start_ms, window_ms",
		)
		.fetch_all(&self.pool)
		.await?
		.iter()
		.map(window_of)
		.collect()
	}

	async fn build(&self, window: Window, now_ms: u64) -> Result<Option<Certificate>> {
		let (start, ms) = window_key(&window)?;
		let state: Option<String> = sqlx::query_scalar(
			"SELECT state FROM certificates WHERE window_start_ms = $1 AND window_ms = $2",
		)
		.bind(start)
		.bind(ms)
		.fetch_optional(&self.pool)
		.await?;
		match state.as_deref() {
			None => return Ok(None),
			Some("sealing") => {}
			Some(_) => return self.certificate(window).await,
		}
		let datasets: Vec<i64> = sqlx::query_scalar(
			"SELECT dataset FROM sealed_windows WHERE window_start_ms = $1 AND window_ms = $2 ORDER BY dataset",
		)
		.bind(start)
		.bind(ms)
		.fetch_all(&self.pool)
		.await?;
		let mut roots = Vec::with_capacity(datasets.len());
		for dataset in datasets {
			let leaves: Vec<Vec<u8>> = sqlx::query_scalar(&format!(
				"SELECT record FROM {LEAVES} WHERE dataset = $1 AND cert_window_start_ms = $2 \
				 AND window_start_ms <= $2 ORDER BY timestamp_us, sequence"
			))
			.bind(dataset)
			.bind(start)
			.fetch_all(&self.pool)
			.await?;
			roots.push(dataset_root(to_u64(dataset, "dataset")?, &leaves));
		}
		let root = window_root::<Blake2_256>(&roots);
		sqlx::query(
			"UPDATE certificates SET state = 'sealed', root = $1, datasets = $2, sealed_ms = $3 \
			 WHERE window_start_ms = $4 AND window_ms = $5 AND state = 'sealing'",
		)
		.bind(root.as_slice())
		.bind(encode_datasets(&roots))
		.bind(to_i64(now_ms, "time")?)
		.bind(start)
		.bind(ms)
		.execute(&self.pool)
		.await?;
		self.certificate(window).await
	}

	async fn certificates(&self, state: CertState, limit: u32) -> Result<Vec<Certificate>> {
		sqlx::query(
			"SELECT * FROM certificates WHERE state = $1 ORDER BY window_start_ms, window_ms LIMIT $2",
		)
		.bind(state.as_str())
		.bind(i64::from(limit))
		.fetch_all(&self.pool)
		.await?
		.iter()
		.map(certificate)
		.collect()
	}

	async fn certificate(&self, window: Window) -> Result<Option<Certificate>> {
		// Nor a certificate of a window it cannot hold.
		let Ok((start, ms)) = window_key(&window) else {
			return Ok(None);
		};
		sqlx::query(
			"SELECT * FROM certificates WHERE window_start_ms = $1 AND window_ms = $2 AND state != 'sealing'",
		)
		.bind(start)
		.bind(ms)
		.fetch_optional(&self.pool)
		.await?
		.as_ref()
		.map(certificate)
		.transpose()
	}

	async fn record_outcome(
		&self,
		window: Window,
		state: CertState,
		chain: &ChainRef,
	) -> Result<()> {
		let (start, ms) = window_key(&window)?;
		sqlx::query(
			"UPDATE certificates SET state = $1, block_number = $2, block_hash = $3, extrinsic_index = $4, event = $5 \
			 WHERE window_start_ms = $6 AND window_ms = $7 AND state != 'sealing'",
		)
		.bind(state.as_str())
		.bind(to_i64(chain.block_number, "block number")?)
		.bind(chain.block_hash.as_slice())
		.bind(chain.extrinsic_index.map(i64::from))
		.bind(&chain.event)
		.bind(start)
		.bind(ms)
		.execute(&self.pool)
		.await?;
		Ok(())
	}
	async fn prune_dead_letters(&self, received_before_ms: u64, keep_at_most: u64) -> Result<u64> {
		let old = sqlx::query("DELETE FROM dead_letters WHERE received_ms < $1")
			.bind(to_i64(received_before_ms, "time")?)
			.execute(&self.pool)
			.await?
			.rows_affected();
		let excess = sqlx::query(
			"DELETE FROM dead_letters WHERE id <= \
			 (SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET $1)",
		)
		.bind(to_i64(keep_at_most, "count")?)
		.execute(&self.pool)
		.await?
		.rows_affected();
		Ok(old + excess)
	}

	async fn sealed_between(&self, from_ms: u64, to_ms: u64) -> Result<Vec<SealedWindow>> {
		let (from, to) = (to_i64(from_ms, "time")?, to_i64(to_ms, "time")?);
		let mut datasets: HashMap<(i64, i64), Vec<DatasetId>> = HashMap::new();
		let rows: Vec<(i64, i64, i32)> = sqlx::query_as(
			"SELECT dataset, window_start_ms, window_ms FROM sealed_windows \
			 WHERE window_start_ms BETWEEN $1 AND $2 ORDER BY dataset",
		)
		.bind(from)
		.bind(to)
		.fetch_all(&self.pool)
		.await?;
		for (dataset, start, ms) in rows {
			datasets
				.entry((start, i64::from(ms)))
				.or_default()
				.push(to_u64(dataset, "dataset")?);
		}
		let rows = sqlx::query(
			"SELECT * FROM certificates WHERE window_start_ms BETWEEN $1 AND $2 \
			 ORDER BY window_start_ms, window_ms",
		)
		.bind(from)
		.bind(to)
		.fetch_all(&self.pool)
		.await?;
		let mut sealed = Vec::with_capacity(rows.len());
		for row in &rows {
			let window = window_of(row)?;
			let state: String = row.try_get("state")?;
			let key = (
				to_i64(window.start_ms, "window start")?,
				i64::from(window.duration_ms),
			);
			sealed.push(SealedWindow {
				window,
				datasets: datasets.remove(&key).unwrap_or_default(),
				certificate: if state == "sealing" {
					None
				} else {
					Some(certificate(row)?)
				},
			});
		}
		Ok(sealed)
	}

	async fn placed_between(&self, from_ms: u64, to_ms: u64) -> Result<Vec<Placed>> {
		let rows: Vec<(i64, i64, i32, i64)> = sqlx::query_as(&format!(
			"SELECT dataset, cert_window_start_ms, window_ms, COUNT(*) FROM {LEAVES} \
			 WHERE cert_window_start_ms BETWEEN $1 AND $2 \
			 GROUP BY dataset, cert_window_start_ms, window_ms \
			 ORDER BY cert_window_start_ms, window_ms, dataset"
		))
		.bind(to_i64(from_ms, "time")?)
		.bind(to_i64(to_ms, "time")?)
		.fetch_all(&self.pool)
		.await?;
		rows.into_iter()
			.map(|(dataset, start, ms, n)| {
				Ok(Placed {
					dataset: to_u64(dataset, "dataset")?,
					window: window_from(start, i64::from(ms))?,
					measurements: to_u64(n, "count")?,
				})
			})
			.collect()
	}
}
