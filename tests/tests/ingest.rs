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
			"--dev".into(),
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
			"--dev".into(),
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
	assert!(text.contains("dso-data-server"), "{text}");

	// No secret in what it prints (issue #12): a signing key given inline is redacted.
	let scratch = Scratch::new("config-redacted");
	let inline = scratch.0.join("inline.toml");
	std::fs::write(&inline, "[certify]\nsuri = \"//Alice\"\n").unwrap();
	let out = std::process::Command::new(platone_binary())
		.args(["--config", &inline.display().to_string(), "config"])
		.env("RUST_LOG", "warn")
		.output()
		.expect("run platone config");
	let text = String::from_utf8_lossy(&out.stdout);
	assert!(out.status.success());
	assert!(!text.contains("//Alice"), "{text}");
	assert!(text.contains("suri = \"<redacted>\""), "{text}");
}

/// Development defaults only in development mode (issue #12): without `--dev`, no role signs
/// as `//Charlie` or accepts the development devices; commands that need only the gateway's
/// public account never read its key.
#[test]
fn development_defaults_need_dev_mode_and_public_commands_never_read_the_key() {
	let scratch = Scratch::new("no-dev-defaults");
	let scd = format!("sqlite://{}", scratch.0.join("scd.sqlite").display());
	let run = |args: &[&str]| {
		std::process::Command::new(platone_binary())
			.args(args)
			.env("RUST_LOG", "warn")
			.output()
			.expect("run platone")
	};
	const PROOF: &[&str] = &[
		"proof",
		"--dataset",
		"1",
		"--timestamp-us",
		"1",
		"--sequence",
		"0",
	];
	let fails_with = |out: std::process::Output, why: &str| {
		let err = String::from_utf8_lossy(&out.stderr);
		assert!(!out.status.success(), "{err}");
		assert!(err.contains(why), "{err}");
	};
	fails_with(
		run(&["--scd", &scd, "--no-http", "ingest"]),
		"no devices configured",
	);
	fails_with(
		run(&["--scd", &scd, "--no-api", "certify"]),
		"no gateway key",
	);
	fails_with(run(&[&["--scd", &scd], PROOF].concat()), "which gateway?");

	// The key's file cannot be read; the public account is enough to look proofs up (in an
	// SCD that exists: commands that only read never create or migrate one).
	tokio::runtime::Runtime::new()
		.unwrap()
		.block_on(SqliteStore::open(&scratch.0.join("scd.sqlite")))
		.expect("create the SCD");
	let config = scratch.0.join("public.toml");
	std::fs::write(
		&config,
		format!(
			"[scd]\nurl = \"{scd}\"\n[certify]\nsuri_file = \"{}\"\naccount = \"0x{}\"\n",
			scratch.0.join("unreadable.suri").display(),
			"90b5ab205c6974c9ea841be688864633dc9ca8a357843eeacf2314649965fe22"
		),
	)
	.unwrap();
	let config = config.display().to_string();
	fails_with(
		run(&[&["--config", &config], PROOF].concat()),
		"no such measurement",
	);
	let out = run(&["--config", &config, "audit", "scd", "--from-ms", "0"]);
	assert_eq!(
		out.status.code(),
		Some(0),
		"{}",
		String::from_utf8_lossy(&out.stderr)
	);
	// The certifier does read it, and says so.
	fails_with(
		run(&["--config", &config, "--no-api", "certify"]),
		"unreadable.suri",
	);
}

/// `mosquitto_pub` of `payload` (a file) to `topic`, QoS 1; whether the broker took it.
fn publish_file(port: u16, topic: &str, payload: &std::path::Path) -> bool {
	std::process::Command::new("mosquitto_pub")
		.args(["-p", &port.to_string(), "-q", "1", "-t", topic, "-f"])
		.arg(payload)
		.status()
		.expect("mosquitto_pub")
		.success()
}

fn connections(log: &str) -> usize {
	log.matches("connected to the broker").count()
}

/// Issue #12: one message over the size ingest takes no longer drops the connection (the
/// broker sent it again on every reconnect, and each reconnect lost the acks in flight). The
/// shipped broker configuration refuses it at the broker; a broker without a limit delivers it,
/// and ingest dead-letters it as `too_large` (its first 64 KiB kept) and carries on.
#[test]
fn oversized_messages_are_refused_once_without_a_reconnect_loop() {
	let scratch = Scratch::new("ingest-oversized");
	let big = scratch.0.join("big.json");
	std::fs::write(&big, vec![b'x'; 2 << 20]).unwrap();
	let sample = scratch.0.join("sample.json");
	let mut zero = || 0.0;
	let now = platone_ingest::now_us() / 20_000 * 20_000;
	std::fs::write(
		&sample,
		platone_ingest::sim::pmu_sample(now, 0, 1, &mut zero),
	)
	.unwrap();
	const TOPIC: &str = "platone/v1/charlie/pmu/pmu-001";

	// The shipped configuration: the broker drops the publisher, not the subscriber.
	let shipped_dir = scratch.0.join("shipped");
	std::fs::create_dir_all(&shipped_dir).unwrap();
	let shipped = Mosquitto::start(&shipped_dir);
	assert!(
		!publish_file(shipped.port, TOPIC, &big),
		"the broker took a 2 MiB message"
	);
	assert!(publish_file(shipped.port, TOPIC, &sample));

	// A broker without a limit delivers it: ingest refuses it once.
	let broker = Mosquitto::start_unlimited(&scratch.0);
	let scd = scratch.0.join("scd.sqlite");
	let ingest = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"ingest".into(),
			"--broker-port".into(),
			broker.port.to_string(),
			"--scd".into(),
			format!("sqlite://{}", scd.display()),
			"--no-http".into(),
		],
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("subscribed", Duration::from_secs(30));
	assert!(publish_file(broker.port, TOPIC, &big));
	assert!(publish_file(broker.port, TOPIC, &sample));
	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	wait_for(
		"the sample stored after the refused message",
		Duration::from_secs(30),
		|| (runtime.block_on(store.measurement_count()).ok()? == 1).then_some(()),
	);
	let letters = runtime.block_on(store.dead_letters(10)).unwrap();
	assert_eq!(letters.len(), 1, "{letters:?}");
	assert_eq!(letters[0].reason, platone_scd::Reason::TooLarge);
	assert_eq!(
		letters[0].payload.len(),
		platone_scd::MAX_DEAD_LETTER_PAYLOAD
	);
	// Acked: not sent again, on this connection or a new one.
	std::thread::sleep(Duration::from_secs(2));
	let log = ingest.log_text();
	assert_eq!(connections(&log), 1, "{log}");
	assert_eq!(runtime.block_on(store.dead_letters(10)).unwrap().len(), 1);
}

/// Issue #12: while the SCD is down, the writer stops taking messages and reads pause; the MQTT
/// client then sent no PINGREQ, so after 1.5 keep-alive periods the broker dropped the
/// connection and every ack in flight. Ingest now pings by hand while paused: one connection
/// throughout, and everything stored once the SCD is back. (A 2 s keep-alive and an 8 s outage
/// here stand for 30 s and a minute.)
#[test]
fn a_scd_outage_keeps_the_broker_connection() {
	let scratch = Scratch::new("ingest-outage");
	let broker = Mosquitto::start(&scratch.0);
	let scd = scratch.0.join("scd.sqlite");
	let config = scratch.0.join("platone.toml");
	std::fs::write(
		&config,
		format!(
			"[scd]\nurl = \"sqlite://{}\"\n[broker]\nport = {}\nembedded = false\n\
			 [ingest]\nqueue = 4\nhold_max = 4\nkeep_alive_s = 2\n",
			scd.display(),
			broker.port
		),
	)
	.unwrap();
	let cfg = config.display().to_string();
	let ingest = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"--config".into(),
			cfg.clone(),
			"--no-http".into(),
			"ingest".into(),
		],
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("subscribed", Duration::from_secs(30));

	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	// The outage: another connection holds the SCD's write lock.
	let lock = runtime.block_on(async {
		let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
			"sqlite://{}",
			scd.display()
		))
		.await
		.unwrap();
		sqlx::query("BEGIN EXCLUSIVE")
			.execute(&mut c)
			.await
			.unwrap();
		c
	});
	let mut sim = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"--config".into(),
			cfg,
			"sim".into(),
			"--pmus".into(),
			"2".into(),
			"--rate".into(),
			"20".into(),
			"--meters".into(),
			"0".into(),
			"--seconds".into(),
			"3".into(),
		],
		scratch.0.join("sim.log"),
	);
	assert!(
		sim.wait(Duration::from_secs(30)).success(),
		"{}",
		sim.log_text()
	);
	let sent = published(&sim.log_text()).expect("the simulator reports what it published");
	ingest.wait_for_log("pausing reads", Duration::from_secs(10));
	std::thread::sleep(Duration::from_secs(8));
	runtime.block_on(async {
		let mut c = lock;
		sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
	});

	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let stored = wait_for(
		"every sample stored after the outage",
		Duration::from_secs(60),
		|| {
			let n = runtime.block_on(store.measurement_count()).ok()?;
			(n >= sent).then_some(n)
		},
	);
	assert_eq!(stored, sent);
	let log = ingest.log_text();
	assert_eq!(connections(&log), 1, "the broker dropped ingest: {log}");
}

/// A tmpfs of `size` mounted at `dir` for as long as it lives (needs root, as in CI here).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
	fn mount(dir: &std::path::Path, size: &str) -> Option<SmallDisk> {
		std::fs::create_dir_all(dir).unwrap();
		let ok = std::process::Command::new("mount")
			.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
			.arg(dir)
			.status()
			.is_ok_and(|s| s.success());
		ok.then(|| SmallDisk(dir.to_path_buf()))
	}

	fn grow(&self, size: &str) {
		let ok = std::process::Command::new("mount")
			.args(["-o", &format!("remount,size={size}")])
			.arg(&self.0)
			.status()
			.is_ok_and(|s| s.success());
		assert!(ok, "remount {}", self.0.display());
	}
}

impl Drop for SmallDisk {
	fn drop(&mut self) {
		let _ = std::process::Command::new("umount")
			.arg("-l")
			.arg(&self.0)
			.status();
	}
}

/// Issue #12: the SCD's disk fills up. Ingest says so (a clear error, and a gauge), stores and
/// acknowledges nothing meanwhile, so the broker keeps every message; once space is freed it
/// stores all of them, once each.
#[test]
fn a_full_disk_is_reported_and_loses_nothing() {
	let scratch = Scratch::new("ingest-disk-full");
	let Some(disk) = SmallDisk::mount(&scratch.0.join("disk"), "1m") else {
		eprintln!("skipped: cannot mount a tmpfs here (needs root)");
		return;
	};
	let broker = Mosquitto::start(&scratch.0);
	let scd = disk.0.join("scd.sqlite");
	let http_port = platone_tests::free_port();
	let common = |role: &str| -> Vec<String> {
		vec![
			"--dev".into(),
			role.into(),
			"--broker-port".into(),
			broker.port.to_string(),
			"--scd".into(),
			format!("sqlite://{}", scd.display()),
			"--http-listen".into(),
			format!("127.0.0.1:{http_port}"),
		]
	};
	let ingest = Service::start(
		platone_binary(),
		&common("ingest"),
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("subscribed", Duration::from_secs(30));
	let mut sim_args = common("sim");
	sim_args.extend(
		[
			"--pmus",
			"10",
			"--rate",
			"50",
			"--meters",
			"0",
			"--seconds",
			"6",
		]
		.map(String::from),
	);
	let mut sim = Service::start(platone_binary(), &sim_args, scratch.0.join("sim.log"));
	assert!(
		sim.wait(Duration::from_secs(60)).success(),
		"{}",
		sim.log_text()
	);
	let sent = published(&sim.log_text()).expect("the simulator reports what it published");
	ingest.wait_for_log("the SCD's disk is full", Duration::from_secs(30));
	let metrics = || {
		use std::io::{Read, Write};
		let mut s = std::net::TcpStream::connect(("127.0.0.1", http_port)).ok()?;
		write!(
			s,
			"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
		)
		.ok()?;
		let mut reply = String::new();
		s.read_to_string(&mut reply).ok()?;
		Some(reply)
	};
	let full = metrics().expect("metrics");
	assert!(full.contains("platone_ingest_scd_disk_full 1"), "{full}");

	disk.grow("256m");
	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let stored = wait_for(
		"every sample stored once space is back",
		Duration::from_secs(90),
		|| {
			let n = runtime.block_on(store.measurement_count()).ok()?;
			(n >= sent).then_some(n)
		},
	);
	assert_eq!(stored, sent, "stored exactly what was published, once each");
	let after = metrics().expect("metrics");
	assert!(after.contains("platone_ingest_scd_disk_full 0"), "{after}");
	drop(store);
	drop(ingest);
}
