//! SQLite backend: the embedded default. WAL journal with `synchronous = FULL`, so a committed
//! batch survives a crash of the process or the machine; one transaction per batch amortises the
//! fsync. Writers take the database lock at `BEGIN` (`IMMEDIATE`), so sealing a window and
//! committing a batch never interleave.

use std::{
	collections::{HashMap, HashSet},
	path::Path,
	str::FromStr,
	time::{Duration, Instant},
};

use sqlx::{
	sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
	Row, SqlitePool,
};

use crate::{
	cert_window_start, dataset_root, duplicate_letter, encode_datasets, sealed_range, to_i64,
	to_u64, window_from, window_key, CertState, Certificate, CertificateRow, ChainRef, Committed,
	DeadLetter, Measurement, Placed, Reason, Result, Sealed, SealedWindow, Store,
};
use platone_primitives::{window_root, Blake2_256, DatasetId, Window};

/// Rows per `INSERT`: 8 parameters each stays far below SQLite's 32,766.
const ROWS_PER_INSERT: usize = 512;

pub struct SqliteStore {
	pool: SqlitePool,
	/// Dataset windows this handle already listed in `open_windows`: one insert per dataset and
	/// window instead of one per batch.
	opened: std::sync::Mutex<HashSet<(DatasetId, u64)>>,
}

impl SqliteStore {
	/// Opens (creating if needed) the database file at `path`.
	pub async fn open(path: &Path) -> Result<Self> {
		Self::open_with(path, true).await
	}

	/// Opens an existing SCD whose schema is this build's, and changes nothing: for commands
	/// that only read (`proof`, `audit`), so that running a newer build of them never migrates
	/// a database that other processes are writing.
	pub async fn open_current(path: &Path) -> Result<Self> {
		let store = Self::open_with(path, false).await?;
		crate::migrate::check(store.schema_version().await, crate::migrate::SQLITE)?;
		Ok(store)
	}

	async fn open_with(path: &Path, migrate_schema: bool) -> Result<Self> {
		let options = SqliteConnectOptions::new()
			.filename(path)
			.create_if_missing(migrate_schema)
			.journal_mode(SqliteJournalMode::Wal)
			.synchronous(SqliteSynchronous::Full)
			.busy_timeout(Duration::from_secs(10))
			// 64 MiB of page cache per connection: a thousand devices append at a thousand
			// places in the table and its index, which thrashes SQLite's default 2 MiB.
			.pragma("cache_size", "-65536")
			// Checkpoint every 64 MiB of WAL rather than 4 MiB: fewer, larger copies into the
			// database file at PMU rates.
			.pragma("wal_autocheckpoint", "16384");
		// Processes opening a fresh file together (ingest, certifier, API) race to switch it to
		// WAL and to create the migrations table. SQLite answers the loser "database is locked"
		// at once, without waiting out the busy timeout; it tries again until the deadline.
		let deadline = Instant::now() + OPEN_PATIENCE;
		let mut pause = Duration::from_millis(20);
		// Readers (proof API, certifier) beside the one ingest writer; WAL lets them run together.
		let pool = loop {
			match SqlitePoolOptions::new()
				.max_connections(4)
				.connect_with(options.clone())
				.await
			{
				Ok(pool) => break pool,
				Err(e) if is_busy(&e) && Instant::now() < deadline => {
					tokio::time::sleep(pause).await;
					pause = (pause * 2).min(Duration::from_millis(500));
				}
				Err(e) => return Err(e.into()),
			}
		};
		if migrate_schema {
			migrate(&pool, deadline).await?;
		}
		Ok(SqliteStore {
			pool,
			opened: Default::default(),
		})
	}
}

/// How long opening an SQLite SCD waits out other processes opening it at the same moment.
const OPEN_PATIENCE: Duration = Duration::from_secs(10);

/// SQLite's "busy" or "locked" (primary codes 5 and 6, whatever the extended code).
fn is_busy(e: &sqlx::Error) -> bool {
	e.as_database_error()
		.and_then(|d| d.code())
		.and_then(|code| code.parse::<i32>().ok())
		.is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Brings the schema to this build's version. SQLite's migrator takes no lock: a second process
/// opening a fresh file at the same moment loses the race to record the version (or finds the
/// file locked); it retries until `deadline`, and then finds it applied.
async fn migrate(pool: &SqlitePool, deadline: Instant) -> Result<()> {
	let migrator = crate::migrate::migrator(crate::migrate::SQLITE).await?;
	let mut tries: u32 = 0;
	loop {
		match migrator.run(pool).await {
			Ok(()) => return Ok(()),
			Err(
				sqlx::migrate::MigrateError::Execute(_)
				| sqlx::migrate::MigrateError::ExecuteMigration(..),
			) if tries < 3 || Instant::now() < deadline => {
				tries += 1;
				tokio::time::sleep(Duration::from_millis(50 * u64::from(tries.min(10)))).await;
			}
			Err(e) => return Err(e.into()),
		}
	}
}

impl SqliteStore {
	/// The schema version the database is at (the newest applied migration).
	pub async fn schema_version(&self) -> Result<i64> {
		Ok(sqlx::query_scalar(
			"SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success",
		)
		.fetch_one(&self.pool)
		.await?)
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
		cert_window_start_ms: to_u64(row.try_get("cert_window_start_ms")?, "window start")?,
		received_ms: to_u64(row.try_get("received_ms")?, "received time")?,
		record: row.try_get("record")?,
	})
}

async fn insert_letter(
	tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
	letter: &DeadLetter,
) -> Result<()> {
	let (detail, payload) = letter.stored();
	sqlx::query(
		"INSERT INTO dead_letters (received_ms, source, reason, detail, payload) VALUES (?, ?, ?, ?, ?)",
	)
	.bind(to_i64(letter.received_ms, "received time")?)
	.bind(&letter.source)
	.bind(letter.reason.as_str())
	.bind(detail.as_ref())
	.bind(payload)
	.execute(&mut **tx)
	.await?;
	Ok(())
}

/// Which of the batch's natural dataset windows are sealed, in one query.
/// The sealed windows that can matter to the batch's placement, in one query.
async fn sealed_among(
	tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
	measurements: &[Measurement],
) -> Result<Sealed> {
	let Some((from, to)) = sealed_range(measurements) else {
		return Ok(Sealed::default());
	};
	let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
		"SELECT dataset, window_start_ms, window_ms FROM sealed_windows \
		 WHERE window_start_ms BETWEEN ? AND ?",
	)
	.bind(to_i64(from, "window start")?)
	.bind(to_i64(to, "time")?)
	.fetch_all(&mut **tx)
	.await?;
	Sealed::from_rows(rows)
}

fn certificate(row: &sqlx::sqlite::SqliteRow) -> Result<Certificate> {
	CertificateRow {
		window_start_ms: row.try_get("window_start_ms")?,
		window_ms: row.try_get::<i64, _>("window_ms")?,
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

fn window_of(row: &sqlx::sqlite::SqliteRow) -> Result<Window> {
	window_from(
		row.try_get("window_start_ms")?,
		row.try_get::<i64, _>("window_ms")?,
	)
}

async fn seal_on(conn: &mut sqlx::SqliteConnection, window: Window) -> Result<usize> {
	let (start, ms) = window_key(&window)?;
	let mut tx = sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?;
	crate::strays::rehome::<sqlx::Sqlite>(&mut tx, start, ms).await?;
	let moved = sqlx::query(
		"INSERT INTO sealed_windows (dataset, window_start_ms, window_ms) \
		 SELECT dataset, window_start_ms, window_ms FROM open_windows \
		 WHERE window_start_ms = ? AND window_ms = ? ON CONFLICT DO NOTHING",
	)
	.bind(start)
	.bind(ms)
	.execute(&mut *tx)
	.await?
	.rows_affected();
	sqlx::query("DELETE FROM open_windows WHERE window_start_ms = ? AND window_ms = ?")
		.bind(start)
		.bind(ms)
		.execute(&mut *tx)
		.await?;
	if moved > 0 {
		sqlx::query(
			"INSERT INTO certificates (window_start_ms, window_ms, state, sealed_ms) \
			 VALUES (?, ?, 'sealing', CAST(strftime('%s', 'now') AS INTEGER) * 1000) ON CONFLICT DO NOTHING",
		)
		.bind(start)
		.bind(ms)
		.execute(&mut *tx)
		.await?;
	}
	tx.commit().await?;
	usize::try_from(moved).map_err(|_| crate::Error::Range("count"))
}

impl SqliteStore {
	async fn commit_on(
		&self,
		conn: &mut sqlx::SqliteConnection,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		let mut done = Committed::default();
		let mut tx = sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?;
		let sealed = sealed_among(&mut tx, measurements).await?;
		let certs: Vec<u64> = measurements
			.iter()
			.map(|m| cert_window_start(m, &sealed))
			.collect();
		// Many rows per statement: one round trip to SQLite's thread per chunk, not per row.
		let mut inserted: HashSet<(DatasetId, u64, u32)> = HashSet::new();
		for (chunk, chunk_certs) in measurements
			.chunks(ROWS_PER_INSERT)
			.zip(certs.chunks(ROWS_PER_INSERT))
		{
			let mut rows = Vec::with_capacity(chunk.len());
			for (m, cert) in chunk.iter().zip(chunk_certs) {
				rows.push((
					to_i64(m.dataset, "dataset")?,
					to_i64(m.timestamp_us, "timestamp")?,
					i64::from(m.sequence),
					to_i64(m.window_start_ms, "window start")?,
					i64::from(m.window_ms),
					to_i64(*cert, "window start")?,
					to_i64(m.received_ms, "received time")?,
					&m.record,
				));
			}
			let mut insert = sqlx::QueryBuilder::new(
				"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, \
				 cert_window_start_ms, received_ms, record) ",
			);
			insert.push_values(rows, |mut b, r| {
				b.push_bind(r.0)
					.push_bind(r.1)
					.push_bind(r.2)
					.push_bind(r.3)
					.push_bind(r.4)
					.push_bind(r.5)
					.push_bind(r.6)
					.push_bind(r.7);
			});
			insert.push(" ON CONFLICT DO NOTHING RETURNING dataset, timestamp_us, sequence");
			for row in insert.build().fetch_all(&mut *tx).await? {
				inserted.insert((
					to_u64(row.try_get(0)?, "dataset")?,
					to_u64(row.try_get(1)?, "timestamp")?,
					u32::try_from(row.try_get::<i64, _>(2)?)
						.map_err(|_| crate::Error::Corrupt("sequence".into()))?,
				));
			}
		}
		let mut opened = HashSet::new();
		// The first occurrence of an inserted identity was stored; anything else was there.
		for (m, cert) in measurements.iter().zip(&certs) {
			if inserted.remove(&m.identity()) {
				done.stored += 1;
				if *cert != m.window_start_ms {
					done.late += 1;
				}
				opened.insert((m.dataset, *cert, m.window_ms));
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
		let new: Vec<_> = {
			let known = self.opened.lock().unwrap_or_else(|e| e.into_inner());
			opened
				.into_iter()
				.filter(|(d, w, _)| !known.contains(&(*d, *w)))
				.collect()
		};
		for (dataset, start, window_ms) in &new {
			sqlx::query(
				"INSERT INTO open_windows (dataset, window_start_ms, window_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			)
			.bind(to_i64(*dataset, "dataset")?)
			.bind(to_i64(*start, "window start")?)
			.bind(i64::from(*window_ms))
			.execute(&mut *tx)
			.await?;
		}
		tx.commit().await?;
		if !new.is_empty() {
			let mut known = self.opened.lock().unwrap_or_else(|e| e.into_inner());
			// Forget windows long closed; a late row re-lists its window anyway (idempotent).
			if known.len() > 100_000 {
				known.clear();
			}
			known.extend(new.iter().map(|(d, w, _)| (*d, *w)));
		}
		Ok(done)
	}
}

impl Store for SqliteStore {
	async fn commit(
		&self,
		measurements: &[Measurement],
		dead_letters: &[DeadLetter],
	) -> Result<Committed> {
		let mut conn = self.pool.acquire().await?;
		let result = self.commit_on(&mut conn, measurements, dead_letters).await;
		if result.is_err() {
			// After a failed write (a full disk, an I/O error) SQLite may have rolled the
			// transaction back itself while sqlx believes it still open; such a connection
			// refuses every later transaction ("non-zero transaction depth"), so ingest would
			// retry for ever and store nothing once space is back (issue #12). Close it instead
			// of returning it to the pool.
			conn.close_on_drop();
		}
		result
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
			"SELECT * FROM measurements WHERE dataset = ? AND timestamp_us >= ? AND timestamp_us <= ? \
			 ORDER BY timestamp_us, sequence",
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
		sqlx::query(
			"SELECT * FROM measurements WHERE dataset = ? AND cert_window_start_ms = ? ORDER BY timestamp_us, sequence",
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
			"SELECT * FROM measurements WHERE dataset = ? AND timestamp_us = ? AND sequence = ?",
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
		let rows = sqlx::query(
			"SELECT DISTINCT window_start_ms, window_ms FROM open_windows \
			 WHERE window_start_ms + window_ms <= ? ORDER BY window_start_ms, window_ms",
		)
		.bind(to_i64(closed_before_ms, "time")?)
		.fetch_all(&self.pool)
		.await?;
		rows.iter().map(window_of).collect()
	}

	async fn seal(&self, window: Window) -> Result<usize> {
		let mut conn = self.pool.acquire().await?;
		let result = seal_on(&mut conn, window).await;
		if result.is_err() {
			// As in `commit`.
			conn.close_on_drop();
		}
		result
	}

	async fn unbuilt(&self) -> Result<Vec<Window>> {
		let rows = sqlx::query(
			"SELECT * FROM certificates WHERE state = 'sealing' ORDER BY window_start_ms, window_ms",
		)
		.fetch_all(&self.pool)
		.await?;
		rows.iter().map(window_of).collect()
	}

	async fn build(&self, window: Window, now_ms: u64) -> Result<Option<Certificate>> {
		let (start, ms) = window_key(&window)?;
		let state: Option<String> = sqlx::query_scalar(
			"SELECT state FROM certificates WHERE window_start_ms = ? AND window_ms = ?",
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
		// The window's rows are fixed now: reading them needs no lock.
		let datasets: Vec<i64> = sqlx::query_scalar(
			"SELECT dataset FROM sealed_windows WHERE window_start_ms = ? AND window_ms = ? ORDER BY dataset",
		)
		.bind(start)
		.bind(ms)
		.fetch_all(&self.pool)
		.await?;
		let mut roots = Vec::with_capacity(datasets.len());
		for dataset in datasets {
			let leaves: Vec<Vec<u8>> = sqlx::query_scalar(
				"SELECT record FROM measurements WHERE dataset = ? AND cert_window_start_ms = ? \
				 ORDER BY timestamp_us, sequence",
			)
			.bind(dataset)
			.bind(start)
			.fetch_all(&self.pool)
			.await?;
			roots.push(dataset_root(to_u64(dataset, "dataset")?, &leaves));
		}
		let root = window_root::<Blake2_256>(&roots);
		sqlx::query(
			"UPDATE certificates SET state = 'sealed', root = ?, datasets = ?, sealed_ms = ? \
			 WHERE window_start_ms = ? AND window_ms = ? AND state = 'sealing'",
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
			"SELECT * FROM certificates WHERE state = ? ORDER BY window_start_ms, window_ms LIMIT ?",
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
			"SELECT * FROM certificates WHERE window_start_ms = ? AND window_ms = ? AND state != 'sealing'",
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
			"UPDATE certificates SET state = ?, block_number = ?, block_hash = ?, extrinsic_index = ?, event = ? \
			 WHERE window_start_ms = ? AND window_ms = ? AND state != 'sealing'",
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
		let old = sqlx::query("DELETE FROM dead_letters WHERE received_ms < ?")
			.bind(to_i64(received_before_ms, "time")?)
			.execute(&self.pool)
			.await?
			.rows_affected();
		let excess = sqlx::query(
			"DELETE FROM dead_letters WHERE id <= \
			 (SELECT id FROM dead_letters ORDER BY id DESC LIMIT 1 OFFSET ?)",
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
		let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
			"SELECT dataset, window_start_ms, window_ms FROM sealed_windows \
			 WHERE window_start_ms BETWEEN ? AND ? ORDER BY dataset",
		)
		.bind(from)
		.bind(to)
		.fetch_all(&self.pool)
		.await?;
		for (dataset, start, ms) in rows {
			datasets
				.entry((start, ms))
				.or_default()
				.push(to_u64(dataset, "dataset")?);
		}
		let rows = sqlx::query(
			"SELECT * FROM certificates WHERE window_start_ms BETWEEN ? AND ? \
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
		let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
			"SELECT dataset, cert_window_start_ms, window_ms, COUNT(*) FROM measurements \
			 WHERE cert_window_start_ms BETWEEN ? AND ? \
			 GROUP BY dataset, cert_window_start_ms, window_ms \
			 ORDER BY cert_window_start_ms, window_ms, dataset",
		)
		.bind(to_i64(from_ms, "time")?)
		.bind(to_i64(to_ms, "time")?)
		.fetch_all(&self.pool)
		.await?;
		rows.into_iter()
			.map(|(dataset, start, ms, n)| {
				Ok(Placed {
					dataset: to_u64(dataset, "dataset")?,
					window: window_from(start, ms)?,
					measurements: to_u64(n, "count")?,
				})
			})
			.collect()
	}
}
