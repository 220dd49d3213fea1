//! One suite, both backends, real databases: SQLite in a temporary file, PostgreSQL at
//! `PLATONE_PG_URL` (`scripts/test.sh` starts a private server and sets it; requirement
//! FR-BAP-DM-01: data is stored in the SCD, once, durably).

use std::time::{SystemTime, UNIX_EPOCH};

use platone_primitives::{
	verify_measurement, verify_record, window_root, Blake2_256, MeasurementRecord, Placement,
	Quantity, Reading, SensorValue, Window, MAX_LATENESS_MS,
};
use platone_scd::{
	audit, dataset_root, proof, CertState, ChainRef, DeadLetter, Measurement, PostgresStore,
	Reason, SqliteStore, Store,
};

fn record(dataset: u64, t_ms: u64, sequence: u32, value: i64) -> MeasurementRecord {
	MeasurementRecord {
		dataset,
		timestamp_us: t_ms * 1_000,
		sequence,
		reading: Reading::Sensor(SensorValue {
			quantity: Quantity::VoltageMv,
			value,
		}),
	}
}

fn m(dataset: u64, t_ms: u64, sequence: u32, value: i64) -> Measurement {
	Measurement::new(&record(dataset, t_ms, sequence, value), 180_000, 1)
}

fn letter(reason: Reason) -> DeadLetter {
	DeadLetter {
		received_ms: 2,
		source: "platone/v1/gw/pmu/x".into(),
		reason,
		detail: "test".into(),
		payload: b"{bad".to_vec(),
	}
}

/// The behaviour every backend must have. `reopen` gives a fresh handle on the same database.
async fn suite<S: Store, F: std::future::Future<Output = S>>(store: S, reopen: impl Fn() -> F) {
	// Window assignment: 180 s windows aligned to the epoch.
	let first = m(7, 360_000 + 5, 0, 1);
	assert_eq!(first.window_start_ms, 360_000);
	assert_eq!(m(7, 539_999, 0, 1).window_start_ms, 360_000);
	assert_eq!(m(7, 540_000, 0, 1).window_start_ms, 540_000);

	// Stored out of order, read back in canonical order.
	let batch = vec![
		m(7, 360_300, 1, 3),
		m(7, 360_300, 0, 2),
		first.clone(),
		m(8, 360_000, 0, 9),
	];
	let done = store
		.commit(&batch, &[letter(Reason::Malformed)])
		.await
		.expect("commit");
	assert_eq!((done.stored, done.duplicates, done.dead_letters), (4, 0, 1));
	let window = store.window(7, 360_000).await.expect("window");
	let order: Vec<_> = window
		.iter()
		.map(|m| (m.timestamp_us, m.sequence))
		.collect();
	assert_eq!(
		order,
		vec![(360_005_000, 0), (360_300_000, 0), (360_300_000, 1)]
	);
	assert_eq!(window[0], first);
	assert_eq!(
		window[0].decode().expect("canonical bytes decode"),
		record(7, 360_005, 0, 1)
	);

	// By device time, bounds included, whatever the window: a settlement slot's readings.
	let slot: Vec<_> = store
		.between(7, 360_005_000, 360_300_000)
		.await
		.expect("between")
		.iter()
		.map(|m| (m.timestamp_us, m.sequence))
		.collect();
	assert_eq!(
		slot,
		vec![(360_005_000, 0), (360_300_000, 0), (360_300_000, 1)]
	);
	assert_eq!(
		store.between(7, 360_005_001, 360_299_999).await.unwrap(),
		vec![]
	);
	assert_eq!(store.between(8, 0, u64::MAX).await.unwrap().len(), 1);

	// A redelivered batch is stored once; each copy is dead-lettered as a duplicate.
	let done = store.commit(&batch, &[]).await.expect("redelivery");
	assert_eq!((done.stored, done.duplicates, done.conflicts), (0, 4, 0));
	assert_eq!(store.measurement_count().await.unwrap(), 4);

	// Same identity, other bytes: refused as a conflict, the first stays.
	let forged = m(7, 360_005, 0, 666);
	let done = store.commit(&[forged], &[]).await.expect("conflict");
	assert_eq!((done.stored, done.conflicts), (0, 1));
	assert_eq!(store.window(7, 360_000).await.unwrap()[0], first);

	// A device whose window length changed (issue #12): the key is the identity on every
	// backend, so the same reading under the new length is a duplicate, not a second row.
	let rewindowed = Measurement::new(&record(7, 360_300, 1, 3), 7_000, 1);
	assert_ne!(rewindowed.window_start_ms, batch[0].window_start_ms);
	let done = store
		.commit(&[rewindowed], &[])
		.await
		.expect("new window length");
	assert_eq!((done.stored, done.duplicates), (0, 1));
	assert_eq!(store.measurement_count().await.unwrap(), 4);

	// Lookups beyond what the database can hold find nothing, not an error (the API answered
	// 503 to them; found by Schemathesis, issue #12).
	assert_eq!(
		store.measurement(u64::MAX, u64::MAX, 0).await.unwrap(),
		None
	);
	let huge = Window {
		start_ms: u64::MAX,
		duration_ms: u32::MAX,
	};
	assert_eq!(store.certificate(huge).await.unwrap(), None);

	// Repeats inside one batch: the first is stored, the rest dead-lettered.
	let twice = m(9, 720_000, 0, 1);
	let done = store
		.commit(&[twice.clone(), twice.clone()], &[])
		.await
		.expect("repeat");
	assert_eq!((done.stored, done.duplicates), (1, 1));

	// Everything survives a new connection (and, for SQLite, a new process opening the file).
	drop(store);
	let store = reopen().await;
	assert_eq!(store.measurement_count().await.unwrap(), 5);
	let counts = store.dead_letter_counts().await.unwrap();
	assert_eq!(
		counts,
		vec![
			(Reason::Conflict, 1),
			(Reason::Duplicate, 6),
			(Reason::Malformed, 1)
		]
	);
	let newest = store.dead_letters(1).await.unwrap();
	assert_eq!(newest[0].reason, Reason::Duplicate);
	assert_eq!(newest[0].payload, twice.record);

	// Windows on another day land in another partition (PostgreSQL) and read back alike.
	let next_day = m(7, 86_400_000 * 3 + 1, 0, 5);
	store
		.commit(std::slice::from_ref(&next_day), &[])
		.await
		.expect("next day");
	assert_eq!(
		store.window(7, next_day.window_start_ms).await.unwrap(),
		vec![next_day]
	);

	certification(&store).await;
	late_datasets(&store).await;

	// Dead letters have a retention and a cap (issue #12): the newest stay.
	let newest = store.dead_letters(2).await.unwrap();
	assert!(store.prune_dead_letters(0, 2).await.unwrap() > 0);
	assert_eq!(store.dead_letters(100).await.unwrap(), newest);
	assert_eq!(
		store
			.prune_dead_letters(i64::MAX as u64, 100)
			.await
			.unwrap(),
		2
	);
	assert_eq!(store.dead_letters(100).await.unwrap(), vec![]);
}

/// Sealing, roots, the late-data rule, proofs and outcomes (issue #5; FR-BAP-DM-02/03).
async fn certification<S: Store>(store: &S) {
	let w = Window {
		start_ms: 360_000,
		duration_ms: 180_000,
	};
	// Only windows that have ended can close.
	assert_eq!(store.closable_windows(539_999).await.unwrap(), vec![]);
	assert_eq!(store.closable_windows(540_000).await.unwrap(), vec![w]);
	assert_eq!(store.seal(w).await.unwrap(), 2, "datasets 7 and 8");
	assert_eq!(store.closable_windows(540_000).await.unwrap(), vec![]);
	assert_eq!(store.seal(w).await.unwrap(), 0, "sealing twice is a no-op");
	// Sealed, not built: a crash here leaves it for the certifier to build on restart.
	assert_eq!(store.unbuilt().await.unwrap(), vec![w]);
	assert_eq!(store.certificate(w).await.unwrap(), None);

	let cert = store.build(w, 42).await.unwrap().expect("sealed window");
	let leaves = |rows: Vec<Measurement>| rows.into_iter().map(|m| m.record).collect::<Vec<_>>();
	let expected = vec![
		dataset_root(7, &leaves(store.window(7, 360_000).await.unwrap())),
		dataset_root(8, &leaves(store.window(8, 360_000).await.unwrap())),
	];
	assert_eq!(cert.datasets, expected);
	assert_eq!(cert.datasets[0].leaf_count, 3);
	assert_eq!(cert.root, window_root::<Blake2_256>(&expected));
	assert_eq!(
		(cert.state, cert.sealed_ms, cert.leaves()),
		(CertState::Sealed, 42, 4)
	);
	assert_eq!(store.unbuilt().await.unwrap(), vec![]);
	assert_eq!(
		store.build(w, 99).await.unwrap(),
		Some(cert.clone()),
		"idempotent"
	);
	assert_eq!(
		store.certificates(CertState::Sealed, 10).await.unwrap(),
		vec![cert.clone()]
	);

	// Late data: its window is sealed, so it is certified in the window open when it arrived.
	let mut late = m(7, 360_400, 0, 5);
	late.received_ms = 700_000;
	let done = store
		.commit(std::slice::from_ref(&late), &[])
		.await
		.unwrap();
	assert_eq!((done.stored, done.late), (1, 1));
	let stored = store
		.measurement(7, 360_400_000, 0)
		.await
		.unwrap()
		.expect("stored");
	assert!(stored.is_late());
	assert_eq!(stored.cert_window_start_ms, 540_000);
	assert_eq!(
		store.window(7, 360_000).await.unwrap().len(),
		3,
		"sealed set unchanged"
	);
	assert_eq!(
		store.window(7, 540_000).await.unwrap(),
		vec![stored.clone()]
	);
	assert_eq!(
		store.closable_windows(720_000).await.unwrap(),
		vec![Window {
			start_ms: 540_000,
			duration_ms: 180_000
		}]
	);
	// Its redelivery is a duplicate, wherever it would go.
	let done = store.commit(&[late], &[]).await.unwrap();
	assert_eq!((done.stored, done.duplicates), (0, 1));

	// Every measurement of the sealed window proves against the certificate's root.
	for (t, seq) in [(360_005_000, 0), (360_300_000, 0), (360_300_000, 1)] {
		let proven = proof(store, 7, t, seq).await.unwrap().expect("provable");
		assert_eq!(proven.certificate.root, cert.root);
		verify_measurement::<Blake2_256>(&cert.root, &proven.proof).expect("verifies");
	}
	let proven = proof(store, 8, 360_000_000, 0)
		.await
		.unwrap()
		.expect("provable");
	verify_measurement::<Blake2_256>(&cert.root, &proven.proof).expect("verifies");
	// Not sealed yet: no proof.
	assert_eq!(proof(store, 7, 360_400_000, 0).await.unwrap(), None);
	assert_eq!(proof(store, 1, 1, 1).await.unwrap(), None);

	// The chain's answer is kept with the certificate.
	let chain = ChainRef {
		block_number: 17,
		block_hash: [7; 32],
		extrinsic_index: Some(1),
		event: "Certified".into(),
	};
	store
		.record_outcome(w, CertState::Certified, &chain)
		.await
		.unwrap();
	let certified = store.certificates(CertState::Certified, 10).await.unwrap();
	assert_eq!(certified.len(), 1);
	assert_eq!(certified[0].chain.as_ref(), Some(&chain));
	assert_eq!(certified[0].root, cert.root);
	assert_eq!(
		store.certificates(CertState::Sealed, 10).await.unwrap(),
		vec![]
	);
}

/// Issue #12: no measurement is stored that no certificate will hold. The late-data rule is per
/// gateway window: data of a dataset new to a sealed window (an HTTP backfill), data behind its
/// dataset's certified frontier (out of order), and data whose window can no longer reach the
/// chain are all certified later, as late data; `audit` finds every row certified exactly once
/// (FR-BAP-DM-02/03).
async fn late_datasets<S: Store>(store: &S) {
	const STEP: u64 = 180_000;
	// Far from the rest of the suite, so its windows are this test's alone.
	let w0 = 40 * 86_400_000;
	let w = |i: u64| Window {
		start_ms: w0 + i * STEP,
		duration_ms: STEP as u32,
	};
	let at = |dataset: u64, t_ms: u64, received_ms: u64| {
		let mut m = Measurement::new(&record(dataset, t_ms, 0, 1), STEP as u32, received_ms);
		m.received_ms = received_ms;
		m
	};
	let chain = ChainRef {
		block_number: 1,
		block_hash: [1; 32],
		extrinsic_index: Some(1),
		event: "Certified".into(),
	};
	let chain = &chain;
	let close = |until: u64| async move {
		for window in store.closable_windows(until).await.unwrap() {
			if window.start_ms < w0 {
				continue;
			}
			store.seal(window).await.unwrap();
			store.build(window, until).await.unwrap().expect("sealed");
			store
				.record_outcome(window, CertState::Certified, chain)
				.await
				.unwrap();
		}
	};
	let placed = |dataset: u64, t_ms: u64| async move {
		store
			.measurement(dataset, t_ms * 1_000, 0)
			.await
			.unwrap()
			.expect("stored")
			.cert_window_start_ms
	};

	// W0 holds datasets 17 and 18, and is certified.
	store
		.commit(&[at(17, w0 + 1, w0 + 2), at(18, w0 + 5, w0 + 6)], &[])
		.await
		.unwrap();
	close(w0 + STEP).await;
	let w0_cert = store.certificate(w(0)).await.unwrap().expect("built");

	// Dataset 19's data for W0 arrives in W2: W0 is sealed for the gateway, though never for
	// dataset 19. It is late, certified in W2; W0's certificate does not change.
	let done = store
		.commit(&[at(19, w0 + 10, w0 + 2 * STEP + 7)], &[])
		.await
		.unwrap();
	assert_eq!((done.stored, done.late), (1, 1));
	assert_eq!(placed(19, w0 + 10).await, w(2).start_ms);
	assert_eq!(store.window(19, w0).await.unwrap(), vec![]);
	// Dataset 20 reports W3 first; W2 and W3 are certified. Then its W1 reading arrives: W1 was
	// never sealed, but the chain has dataset 20 certified to the end of W3 and would refuse W1
	// (`BehindWatermark`). It goes to W4, the first window past its frontier.
	store
		.commit(&[at(20, w0 + 3 * STEP + 1, w0 + 3 * STEP + 2)], &[])
		.await
		.unwrap();
	close(w0 + 4 * STEP).await;
	store
		.commit(&[at(20, w0 + STEP + 1, w0 + 4 * STEP + 3)], &[])
		.await
		.unwrap();
	assert_eq!(placed(20, w0 + STEP + 1).await, w(4).start_ms);
	// Dataset 21's W2 reading arrives after W2 and W3 (its received window) were sealed, as
	// when the certifier's clock runs ahead: the next open window, W4. Its W1 reading is in
	// time: W1 was never sealed, and dataset 21 has no frontier.
	store
		.commit(
			&[
				at(21, w0 + 2 * STEP + 2, w0 + 3 * STEP + 5),
				at(21, w0 + STEP + 2, w0 + 3 * STEP + 5),
			],
			&[],
		)
		.await
		.unwrap();
	assert_eq!(placed(21, w0 + 2 * STEP + 2).await, w(4).start_ms);
	assert_eq!(placed(21, w0 + STEP + 2).await, w(1).start_ms);
	// Dataset 22's W5 reading arrives six days after W5: the chain would take W5 only for one
	// more day, too short to be sure of. Late, in the window it was received in.
	let received = w0 + 6 * STEP + 6 * 86_400_000 + 9;
	store
		.commit(&[at(22, w0 + 5 * STEP + 1, received)], &[])
		.await
		.unwrap();
	let target = received - received % STEP;
	assert_eq!(placed(22, w0 + 5 * STEP + 1).await, target);
	assert!(platone_scd::too_old(
		(w0 + 5 * STEP) * 1_000,
		received + MAX_LATENESS_MS
	));
	// A redelivery of the backfill is still a duplicate, wherever the rule would put it now.
	let done = store
		.commit(&[at(19, w0 + 10, target + 9)], &[])
		.await
		.unwrap();
	assert_eq!((done.stored, done.duplicates), (0, 1));

	close(target + STEP).await;
	assert_eq!(store.certificate(w(0)).await.unwrap(), Some(w0_cert));
	// Every row proves, in the window and with the placement the SCD gives it.
	for (dataset, t_ms, late) in [
		(17, w0 + 1, false),
		(19, w0 + 10, true),
		(20, w0 + 3 * STEP + 1, false),
		(20, w0 + STEP + 1, true),
		(21, w0 + 2 * STEP + 2, true),
		(21, w0 + STEP + 2, false),
		(22, w0 + 5 * STEP + 1, true),
	] {
		let proven = proof(store, dataset, t_ms * 1_000, 0)
			.await
			.unwrap()
			.expect("certified");
		let (_, placement) = verify_record::<Blake2_256>(
			&proven.certificate.root,
			&proven.certificate.window,
			MAX_LATENESS_MS,
			&proven.proof,
		)
		.expect("verifies");
		assert_eq!(
			placement == Placement::Late,
			late,
			"dataset {dataset} at {t_ms}"
		);
		assert_eq!(proven.measurement.is_late(), late);
	}
	let options = audit::Options {
		from_ms: w0,
		to_ms: target + STEP,
		now_ms: target + 2 * STEP,
		pending_ms: STEP,
	};
	let report = audit::audit(store, &options).await.unwrap();
	assert!(report.is_clean(), "{:#?}", report.differences);
	assert_eq!(report.proven, 8);
	assert_eq!(
		(report.windows, report.certified, report.pending),
		(6, 6, 0)
	);
}

fn scratch(name: &str) -> std::path::PathBuf {
	let nanos = SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.unwrap()
		.as_nanos();
	let dir =
		std::env::temp_dir().join(format!("platone-scd-{name}-{}-{nanos}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

#[tokio::test]
async fn sqlite_backend() {
	let dir = scratch("sqlite");
	let path = dir.join("scd.sqlite");
	let store = SqliteStore::open(&path).await.expect("open");
	suite(store, || async {
		SqliteStore::open(&path).await.expect("reopen")
	})
	.await;
	std::fs::remove_dir_all(dir).ok();
}

/// A fresh database on the server at `PLATONE_PG_URL`; `None` (the test is skipped) if unset.
async fn fresh_postgres(name: &str) -> Option<String> {
	let Ok(admin) = std::env::var("PLATONE_PG_URL") else {
		eprintln!("PLATONE_PG_URL unset: start one with scripts/pg.sh (scripts/test.sh does)");
		return None;
	};
	let db = format!("scd_{name}_{}", std::process::id());
	let pool = sqlx::PgPool::connect(&admin)
		.await
		.expect("connect to PostgreSQL");
	sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {db}"))
		.execute(&pool)
		.await
		.unwrap();
	sqlx::raw_sql(&format!("CREATE DATABASE {db}"))
		.execute(&pool)
		.await
		.unwrap();
	pool.close().await;
	match admin.rsplit_once('/') {
		Some((server, _)) => Some(format!("{server}/{db}")),
		None => panic!("PLATONE_PG_URL must name a database"),
	}
}

#[tokio::test]
async fn postgres_backend() {
	let Some(url) = fresh_postgres("test").await else {
		return;
	};
	// Ingest, certifier and API start together on a fresh database: their schema set-ups
	// must not collide.
	let (store, b, c) = tokio::join!(
		PostgresStore::open(&url),
		PostgresStore::open(&url),
		PostgresStore::open(&url)
	);
	let store = store.expect("open");
	b.expect("concurrent open");
	c.expect("concurrent open");
	suite(store, || async {
		PostgresStore::open(&url).await.expect("reopen")
	})
	.await;
}

/// SCDs written before issue #12's fix hold rows in sealed windows that their certificate does
/// not hold. The audit finds them, and sealing moves them to a window that certifies them.
#[tokio::test]
async fn rows_stranded_in_a_sealed_window_are_found_and_certified_later() {
	const STEP: u64 = 180_000;
	let dir = scratch("stranded");
	let path = dir.join("scd.sqlite");
	let store = SqliteStore::open(&path).await.expect("open");
	let now = SystemTime::now()
		.duration_since(UNIX_EPOCH)
		.unwrap()
		.as_millis() as u64;
	let w0 = now - now % STEP - 10 * STEP;
	let window = Window {
		start_ms: w0,
		duration_ms: STEP as u32,
	};
	let m = |dataset| Measurement::new(&record(dataset, w0 + 1, 0, 1), STEP as u32, w0 + 2);
	store.commit(&[m(1)], &[]).await.unwrap();
	assert_eq!(store.seal(window).await.unwrap(), 1);
	store
		.build(window, w0 + STEP)
		.await
		.unwrap()
		.expect("built");
	// What the old rule did: dataset 2's row joins the sealed window.
	let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
		.await
		.unwrap();
	let stray = m(2);
	sqlx::query(
		"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, \
		 cert_window_start_ms, received_ms, record) VALUES (2, ?, 0, ?, ?, ?, ?, ?)",
	)
	.bind(stray.timestamp_us as i64)
	.bind(w0 as i64)
	.bind(STEP as i64)
	.bind(w0 as i64)
	.bind(stray.received_ms as i64)
	.bind(&stray.record)
	.execute(&raw)
	.await
	.unwrap();
	sqlx::query("INSERT INTO open_windows VALUES (2, ?, ?)")
		.bind(w0 as i64)
		.bind(STEP as i64)
		.execute(&raw)
		.await
		.unwrap();
	let options = audit::Options {
		from_ms: w0,
		to_ms: now + STEP,
		now_ms: now + 3 * STEP,
		pending_ms: STEP,
	};
	let report = audit::audit(&store, &options).await.unwrap();
	let findings: Vec<_> = report.differences.iter().map(|d| d.finding).collect();
	assert!(
		findings.contains(&audit::Finding::NotInCertificate),
		"{findings:?}"
	);

	// The certifier's next pass: W0 is listed as closable again; sealing it moves the row on.
	assert_eq!(store.closable_windows(now).await.unwrap(), vec![window]);
	assert_eq!(store.seal(window).await.unwrap(), 0);
	let moved = store
		.measurement(2, stray.timestamp_us, 0)
		.await
		.unwrap()
		.unwrap();
	assert!(moved.is_late());
	assert!(moved.cert_window_start_ms >= now - now % STEP);
	for window in store.closable_windows(now + 2 * STEP).await.unwrap() {
		store.seal(window).await.unwrap();
		store.build(window, now).await.unwrap().expect("built");
		store
			.record_outcome(
				window,
				CertState::Certified,
				&ChainRef {
					block_number: 2,
					block_hash: [2; 32],
					extrinsic_index: None,
					event: "state".into(),
				},
			)
			.await
			.unwrap();
	}
	store
		.record_outcome(
			window,
			CertState::Certified,
			&ChainRef {
				block_number: 1,
				block_hash: [1; 32],
				extrinsic_index: None,
				event: "state".into(),
			},
		)
		.await
		.unwrap();
	let report = audit::audit(&store, &options).await.unwrap();
	assert!(report.is_clean(), "{:#?}", report.differences);
	assert_eq!(report.proven, 2);
	raw.close().await;
	std::fs::remove_dir_all(dir).ok();
}

/// What builds before versioned migrations ran on open (issue #12): migration 1 is that schema.
const PREVIOUS_SQLITE: &str = include_str!("../migrations/sqlite/0001_baseline.sql");
const PREVIOUS_POSTGRES: &str = include_str!("../migrations/postgres/0001_baseline.sql");

/// A row as the previous schema held it.
async fn insert_previous<'e, E>(db: E, m: &Measurement)
where
	E: sqlx::Executor<'e>,
	for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
	i64: sqlx::Type<E::Database> + for<'q> sqlx::Encode<'q, E::Database>,
	i32: sqlx::Type<E::Database> + for<'q> sqlx::Encode<'q, E::Database>,
	Vec<u8>: sqlx::Type<E::Database> + for<'q> sqlx::Encode<'q, E::Database>,
{
	sqlx::query(
		"INSERT INTO measurements (dataset, timestamp_us, sequence, window_start_ms, window_ms, \
		 cert_window_start_ms, received_ms, record) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	)
	.bind(m.dataset as i64)
	.bind(m.timestamp_us as i64)
	.bind(i64::from(m.sequence))
	.bind(m.window_start_ms as i64)
	.bind(m.window_ms as i32)
	.bind(m.cert_window_start_ms as i64)
	.bind(m.received_ms as i64)
	.bind(m.record.clone())
	.execute(db)
	.await
	.expect("insert as the previous schema did");
}

/// Ingest, certifier, API and settlement worker open a new SQLite SCD at the same moment: each
/// ends migrated. SQLite answers a loser of the race to switch a fresh file to WAL "database is
/// locked" at once, whatever the busy timeout (seen in CI once in many runs with three
/// openers); eight at a time on fifty fresh files failed every run before the retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fresh_sqlite_scd_opened_by_many_at_once_is_migrated_once() {
	let dir = scratch("sqlite-concurrent");
	for round in 0..50 {
		let path = dir.join(format!("scd-{round}.sqlite"));
		let mut opening = tokio::task::JoinSet::new();
		for _ in 0..8 {
			let path = path.clone();
			opening.spawn(async move { SqliteStore::open(&path).await });
		}
		while let Some(store) = opening.join_next().await {
			let store = store.expect("task").expect("open");
			assert_eq!(store.schema_version().await.unwrap(), 1);
		}
	}
	std::fs::remove_dir_all(dir).ok();
}

/// An SCD made by the previous, unversioned schema is adopted with everything in it, and its
/// data certifies and proves as before. A database that a newer build migrated is refused.
#[tokio::test]
async fn a_sqlite_scd_of_the_previous_schema_is_upgraded() {
	let dir = scratch("sqlite-upgrade");
	let path = dir.join("scd.sqlite");
	let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", path.display()))
		.await
		.unwrap();
	sqlx::raw_sql(PREVIOUS_SQLITE).execute(&raw).await.unwrap();
	let old = [
		m(3, 360_001, 0, 1),
		m(3, 360_002, 0, 2),
		m(4, 360_003, 0, 3),
	];
	for row in &old {
		insert_previous(&raw, row).await;
	}
	sqlx::query("INSERT INTO open_windows VALUES (3, 360000, 180000), (4, 360000, 180000)")
		.execute(&raw)
		.await
		.unwrap();

	// A command that only reads changes nothing, and says why it will not read.
	match SqliteStore::open_current(&path).await {
		Err(platone_scd::Error::Schema {
			found: 0,
			wanted: 1,
		}) => {}
		Err(e) => panic!("wrong refusal: {e}"),
		Ok(_) => panic!("a read-only open accepted an unmigrated SCD"),
	}
	let store = SqliteStore::open(&path).await.expect("upgrade");
	assert_eq!(store.schema_version().await.unwrap(), 1);
	SqliteStore::open_current(&path)
		.await
		.expect("read-only open once migrated");
	assert_eq!(store.measurement_count().await.unwrap(), 3);
	assert_eq!(store.window(3, 360_000).await.unwrap(), old[..2].to_vec());
	let window = Window {
		start_ms: 360_000,
		duration_ms: 180_000,
	};
	assert_eq!(store.seal(window).await.unwrap(), 2);
	let cert = store.build(window, 1).await.unwrap().expect("built");
	let proven = proof(&store, 4, 360_003_000, 0)
		.await
		.unwrap()
		.expect("proof");
	assert_eq!(proven.certificate.root, cert.root);
	drop(store);
	SqliteStore::open(&path).await.expect("reopen");

	// Migrated by a build that knows more: this one changes nothing and says why.
	sqlx::query(
		"INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
		 VALUES (99, 'future', TRUE, x'00', 0)",
	)
	.execute(&raw)
	.await
	.unwrap();
	match SqliteStore::open(&path).await {
		Err(platone_scd::Error::Migrate(sqlx::migrate::MigrateError::VersionMissing(99))) => {}
		Err(e) => panic!("wrong refusal: {e}"),
		Ok(_) => panic!("a newer database was opened"),
	}
	raw.close().await;
	std::fs::remove_dir_all(dir).ok();
}

/// The previous PostgreSQL schema keyed a measurement with its window: a device whose
/// window length changed had one identity stored twice. Migration 2 repartitions by device
/// time and keeps one copy as the measurement (the one received first); the other stays a leaf
/// of its window, so that every certificate still rebuilds.
#[tokio::test]
async fn a_postgres_scd_of_the_previous_schema_is_upgraded() {
	const DAY_MS: u64 = 86_400_000;
	let Some(url) = fresh_postgres("upgrade").await else {
		return;
	};
	let raw = sqlx::PgPool::connect(&url).await.unwrap();
	sqlx::raw_sql(PREVIOUS_POSTGRES)
		.execute(&raw)
		.await
		.unwrap();
	for day in [0, 3] {
		sqlx::raw_sql(&format!(
			"CREATE TABLE measurements_d{day} PARTITION OF measurements FOR VALUES FROM ({}) TO ({})",
			day * DAY_MS,
			(day + 1) * DAY_MS
		))
		.execute(&raw)
		.await
		.unwrap();
	}
	let first = m(3, 360_001, 0, 1);
	let again = Measurement::new(&record(3, 360_001, 0, 1), 7_000, 5);
	assert_ne!(first.window_start_ms, again.window_start_ms);
	let other_day = m(4, 3 * DAY_MS + 5, 0, 2);
	for row in [&first, &again, &other_day] {
		insert_previous(&raw, row).await;
	}

	let store = PostgresStore::open(&url).await.expect("upgrade");
	assert_eq!(store.schema_version().await.unwrap(), 2);
	assert_eq!(store.measurement_count().await.unwrap(), 2);
	assert_eq!(store.window(3, 360_000).await.unwrap(), vec![first.clone()]);
	assert_eq!(
		store.window(4, other_day.window_start_ms).await.unwrap(),
		vec![other_day]
	);
	// The other copy stays a leaf of the window it was placed in: that window's certificate
	// counted it.
	assert_eq!(
		store.window(3, again.window_start_ms).await.unwrap(),
		vec![again.clone()]
	);
	assert_eq!(store.dead_letters(10).await.unwrap(), vec![]);
	let partitions: Vec<String> = sqlx::query_scalar(
		"SELECT tablename::text FROM pg_tables WHERE tablename LIKE 'measurements%' ORDER BY 1",
	)
	.fetch_all(&raw)
	.await
	.unwrap();
	assert_eq!(
		partitions,
		[
			"measurements",
			"measurements_superseded",
			"measurements_t0",
			"measurements_t3"
		]
	);

	// The identity is the key now: the same reading under the other length is a duplicate.
	let done = store.commit(&[again], &[]).await.unwrap();
	assert_eq!((done.stored, done.duplicates), (0, 1));
	drop(store);
	PostgresStore::open(&url).await.expect("reopen");
	raw.close().await;
}
