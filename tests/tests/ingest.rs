//! MQTT ingest against a real mosquitto and a real SCD (issue #4; FR-BAP-DM-01): kill -9 in
//! mid-stream loses no acknowledged message and stores none twice.

use std::time::Duration;

use platone_scd::{SqliteStore, Store};
use platone_tests::{
	bridges::{platone_binary, Mosquitto, Service},
	wait_for, Scratch,
};

const PMUS: u64 = 10;
const RATE: u64 = 50;
const SECONDS: u64 = 8;

fn published(log: &str) -> Option<u64> {
	log.lines()
		.filter(|l| l.contains("simulator stopped"))
		.find_map(|l| {
			l.split("published=")
				.nth(1)?
				.split_whitespace()
				.next()?
				.parse()
				.ok()
		})
}

#[test]
fn kill_9_in_mid_stream_loses_nothing_and_stores_nothing_twice() {
	let scratch = Scratch::new("ingest-kill9");
	let broker = Mosquitto::start(&scratch.0);
	let scd = scratch.0.join("scd.sqlite");
	let common = |role: &str| -> Vec<String> {
		vec![
			role.into(),
			"--broker-port".into(),
			broker.port.to_string(),
			"--scd".into(),
			format!("sqlite://{}", scd.display()),
			"--no-http".into(),
		]
	};
	let mut ingest = Service::start(
		platone_binary(),
		&common("ingest"),
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("connected to the broker", Duration::from_secs(30));
	std::thread::sleep(Duration::from_millis(500));

	let mut sim_args = common("sim");
	sim_args.extend(
		[
			"--pmus",
			&PMUS.to_string(),
			"--rate",
			&RATE.to_string(),
			"--meters",
			"0",
			"--seconds",
			&SECONDS.to_string(),
		]
		.map(String::from),
	);
	let mut sim = Service::start(platone_binary(), &sim_args, scratch.0.join("sim.log"));

	// Twice: kill ingest while data flows, leave it down a moment, start it again.
	for _ in 0..2 {
		std::thread::sleep(Duration::from_millis(2_500));
		ingest.kill9();
		std::thread::sleep(Duration::from_millis(1_000));
		ingest.restart();
	}
	assert!(
		sim.wait(Duration::from_secs(60)).success(),
		"{}",
		sim.log_text()
	);
	let sent = published(&sim.log_text()).expect("the simulator reports what it published");
	assert!(
		sent >= PMUS * RATE * (SECONDS - 1),
		"simulator published only {sent}"
	);

	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let stored = wait_for(
		"every published sample in the SCD",
		Duration::from_secs(60),
		|| {
			let n = runtime.block_on(store.measurement_count()).ok()?;
			(n >= sent).then_some(n)
		},
	);
	assert_eq!(stored, sent, "stored exactly what was published, once each");

	// Per PMU: sequence numbers 0..n without a gap (canonical order across all windows).
	let rows = runtime
		.block_on(async {
			let mut all = Vec::new();
			for dataset in 1..=PMUS {
				let mut seqs = Vec::new();
				let now_ms = platone_ingest::now_us() / 1000;
				let mut w = (now_ms - 600_000) / 180_000 * 180_000;
				while w <= now_ms {
					seqs.extend(store.window(dataset, w).await?.iter().map(|m| m.sequence));
					w += 180_000;
				}
				all.push(seqs);
			}
			Ok::<_, platone_scd::Error>(all)
		})
		.expect("read windows");
	for (i, seqs) in rows.iter().enumerate() {
		let expected: Vec<u32> = (0..seqs.len() as u32).collect();
		assert_eq!(seqs, &expected, "PMU {} has a gap or a repeat", i + 1);
	}
	let counts = runtime
		.block_on(store.dead_letter_counts())
		.expect("dead letters");
	assert!(
		counts
			.iter()
			.all(|(r, _)| *r == platone_scd::Reason::Duplicate),
		"only redeliveries may be dead-lettered here: {counts:?}"
	);
}

/// `platone run` on its defaults: the embedded broker (rumqttd), ingest and the simulator in one
/// process store data with nothing installed, and SIGTERM stops it cleanly.
#[test]
fn platone_run_with_the_embedded_broker() {
	let scratch = Scratch::new("ingest-embedded");
	let scd = scratch.0.join("scd.sqlite");
	let http = platone_tests::free_port();
	let mut run = Service::start(
		platone_binary(),
		&[
			"run".into(),
			"--broker-port".into(),
			platone_tests::free_port().to_string(),
			"--scd".into(),
			format!("sqlite://{}", scd.display()),
			"--http-listen".into(),
			format!("127.0.0.1:{http}"),
			"--no-api".into(),
		],
		scratch.0.join("run.log"),
	);
	wait_for("the SCD file", Duration::from_secs(30), || {
		scd.exists().then_some(())
	});
	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	// 10 PMUs at 50 Hz: a second's worth.
	wait_for(
		"500 measurements via the embedded broker",
		Duration::from_secs(30),
		|| (runtime.block_on(store.measurement_count()).ok()? >= 500).then_some(()),
	);
	run.terminate();
	assert!(
		run.wait(Duration::from_secs(30)).success(),
		"{}",
		run.log_text()
	);
	let log = run.log_text();
	assert!(log.contains("embedded MQTT broker on"), "{log}");
	assert!(log.contains("ingest stopped"), "{log}");
	let counts = runtime
		.block_on(store.dead_letter_counts())
		.expect("dead letters");
	assert!(counts.is_empty(), "nothing refused: {counts:?}");
}

/// The documented example configuration is one the binary accepts.
#[test]
fn example_config_is_valid() {
	let out = std::process::Command::new(platone_binary())
		.args([
			"--config",
			concat!(
				env!("CARGO_MANIFEST_DIR"),
				"/../bridges/platone.example.toml"
			),
			"config",
		])
		.output()
		.expect("run platone config");
	let text = String::from_utf8_lossy(&out.stdout);
	assert!(
		out.status.success(),
		"{}",
		String::from_utf8_lossy(&out.stderr)
	);
	assert!(text.contains("broker.gateway.example"), "{text}");
	assert!(text.contains("meter-001"), "{text}");
}
