//! End to end (issue #5; FR-BAP-DM-01/02/03): the real node, a real mosquitto, the SCD on
//! SQLite, `platone ingest`, `platone certify` and the simulator. Ten PMUs at 10 Hz over at least
//! two 10 s windows: every stored measurement ends certified on chain, a sample verifies through
//! `platone verify` against finalized state, a row altered in the SCD fails verification, and a
//! certifier killed with kill -9 in mid-submission certifies each window exactly once.

use std::{process::Command, time::Duration};

use platone_scd::{CertState, SqliteStore, Store};
use platone_tests::{
	bridges::{platone_binary, Mosquitto, Service},
	wait_for, Node, Scratch,
};

const WINDOW_MS: u64 = 10_000;

fn platone(config: &std::path::Path, args: &[&str]) -> std::process::Output {
	Command::new(platone_binary())
		.arg("--dev")
		.arg("--config")
		.arg(config)
		.args(args)
		.env("RUST_LOG", "warn")
		.output()
		.expect("run platone")
}

/// What each test here starts from: a development node past its first block, a mosquitto, and
/// a config naming them, an SQLite SCD and a loopback SCD API, with `certify` added to
/// `[certify]` and `rest` (more sections) at the end.
struct Stack {
	node: Node,
	broker: Mosquitto,
	scd: std::path::PathBuf,
	config: std::path::PathBuf,
	api_port: u16,
	/// Last: fields drop in order, so the processes have stopped when a failure prints the
	/// logs.
	scratch: Scratch,
}

impl Stack {
	fn start(name: &str, certify: &str, rest: &str) -> Stack {
		let scratch = Scratch::new(name);
		let node = Node::dev(&scratch.0);
		wait_for("block #1", Duration::from_secs(180), || {
			node.best_number().filter(|n| *n >= 1)
		});
		let broker = Mosquitto::start(&scratch.0);
		let scd = scratch.0.join("scd.sqlite");
		let config = scratch.0.join("platone.toml");
		let api_port = platone_tests::free_port();
		std::fs::write(
			&config,
			format!(
				"[scd]\nurl = \"sqlite://{}\"\n[broker]\nport = {}\nembedded = false\n\
				 [ingest]\nwindow_ms = {WINDOW_MS}\n[certify]\nrpc = \"ws://127.0.0.1:{}\"\n\
				 {certify}[api]\nlisten = \"127.0.0.1:{api_port}\"\n{rest}",
				scd.display(),
				broker.port,
				node.rpc_port()
			),
		)
		.expect("write config");
		Stack {
			scratch,
			node,
			broker,
			scd,
			config,
			api_port,
		}
	}
}

/// A `platone` role on `config`, in development mode (the dev chain's gateway and devices).
fn role_args(config: &str, role: &str) -> Vec<String> {
	["--dev", "--config", config, role]
		.map(String::from)
		.to_vec()
}

/// Asserts `platone`'s exit code, showing what it printed otherwise.
fn expect_exit(out: &std::process::Output, code: i32) {
	assert_eq!(
		out.status.code(),
		Some(code),
		"{}{}",
		String::from_utf8_lossy(&out.stdout),
		String::from_utf8_lossy(&out.stderr)
	);
}

/// A plain GET on loopback; the body.
fn http_get(port: u16, path: &str) -> String {
	use std::io::{Read, Write};
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to the API");
	write!(
		s,
		"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	)
	.unwrap();
	let mut reply = String::new();
	s.read_to_string(&mut reply).unwrap();
	assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
	reply
		.split_once("\r\n\r\n")
		.map(|(_, b)| b.to_string())
		.unwrap_or_default()
}

/// A plain POST on loopback; status code and body.
fn http_post(port: u16, path: &str, body: &str) -> (u16, String) {
	use std::io::{Read, Write};
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect to ingest");
	write!(
		s,
		"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut reply = String::new();
	s.read_to_string(&mut reply).unwrap();
	let status = reply
		.get(9..12)
		.and_then(|c| c.parse().ok())
		.unwrap_or_default();
	let body = reply
		.split_once("\r\n\r\n")
		.map(|(_, b)| b.to_string())
		.unwrap_or_default();
	(status, body)
}

/// One MeterReadings document holding `meter`'s intervals ending at `ends_us`, in that order.
fn meter_document(meter: &str, ends_us: &[u64]) -> String {
	platone_ingest::sim::meter_document(
		&format!("backfill-{meter}-{}", ends_us.len()),
		&[(meter, &meter_intervals(ends_us))],
	)
}

/// A meter's 15-minute intervals ending at `ends_us`: (end, imported kWh, exported kWh).
fn meter_intervals(ends_us: &[u64]) -> Vec<(u64, f64, f64)> {
	ends_us
		.iter()
		.map(|end| (*end, 0.25 + (*end % 7) as f64 / 10.0, 0.125))
		.collect()
}

/// The `sequence` of a 15-minute imported-energy reading (one per reading type).
const IMPORT_15_MIN: u32 = 900 * 8;

#[test]
fn measurements_are_certified_and_verify_against_finalized_state() {
	// The broker must live as long as the test: bound, not `_`.
	let Stack {
		scratch,
		node,
		broker: _broker,
		scd,
		config,
		api_port,
	} = Stack::start(
		"certify-e2e",
		"grace_ms = 2000\n",
		// The settlement worker runs in the certifier's process, its metrics beside the
		// certifier's.
		"[sim]\npmus = 10\nrate_hz = 10\nmeters = 0\n[settle]\nenabled = true\nevery_s = 1\n",
	);
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
	ingest.wait_for_log("connected to the broker", Duration::from_secs(30));
	let mut certifier = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"--config".into(),
			cfg.clone(),
			"certify".into(),
		],
		scratch.0.join("certify.log"),
	);
	let mut sim = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"--config".into(),
			cfg.clone(),
			"sim".into(),
			"--seconds".into(),
			"25".into(),
		],
		scratch.0.join("sim.log"),
	);

	// kill -9 the certifier while it submits its first window, then start it again.
	wait_for(
		"the certifier to seal a window",
		Duration::from_secs(60),
		|| certifier.log_text().contains("window sealed").then_some(()),
	);
	std::thread::sleep(Duration::from_millis(300));
	certifier.kill9();
	certifier.restart();

	assert!(
		sim.wait(Duration::from_secs(60)).success(),
		"{}",
		sim.log_text()
	);
	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let stored = runtime.block_on(store.measurement_count()).unwrap();
	assert!(stored >= 10 * 10 * 20, "only {stored} measurements stored");

	// Every stored measurement is in a certified window.
	let certified = wait_for(
		"every measurement certified",
		Duration::from_secs(120),
		|| {
			let certs = runtime
				.block_on(store.certificates(CertState::Certified, 1_000))
				.ok()?;
			let leaves: u64 = certs.iter().map(|c| c.leaves()).sum();
			(leaves == stored).then_some(certs)
		},
	);
	assert!(certified.len() >= 2, "{certified:?}");
	assert!(runtime
		.block_on(store.certificates(CertState::Conflict, 10))
		.unwrap()
		.is_empty());
	// Exactly once, with the SCD's root: the chain holds one certificate per window, equal to
	// the SCD's; resubmissions after the kill were no-ops or found it in state.
	let chain = runtime
		.block_on(platone_chain::Chain::connect(
			&format!("ws://127.0.0.1:{}", node.rpc_port()),
			false,
		))
		.expect("connect");
	let (finalized, _) = runtime.block_on(chain.finalized()).unwrap();
	let gateway = platone_chain::account_of(&platone_chain::keypair("//Charlie").unwrap());
	for c in &certified {
		let on_chain = runtime
			.block_on(chain.certificate(&gateway, &c.window, finalized))
			.unwrap()
			.expect("certificate on chain");
		assert_eq!(on_chain.root, c.root);
		assert_eq!(on_chain.leaves, c.leaves());
		assert!(
			matches!(
				c.chain.as_ref().map(|r| r.event.as_str()),
				Some("Certified" | "AlreadyCertified" | "state")
			),
			"{c:?}"
		);
	}
	let log = certifier.log_text();
	assert!(!log.contains("CONFLICT"), "{log}");

	// A sample verifies against finalized state: from the fullest window, since the first may
	// hold only the last few samples before its end (the simulator starts at any moment).
	let first = certified
		.iter()
		.max_by_key(|c| c.leaves())
		.expect("a certified window");
	let sample = runtime
		.block_on(store.window(1, first.window.start_ms))
		.unwrap()
		.into_iter()
		.nth(3)
		.expect("a sample of PMU 1");
	let proof_args = [
		"proof".to_string(),
		"--dataset".into(),
		"1".into(),
		"--timestamp-us".into(),
		sample.timestamp_us.to_string(),
		"--sequence".into(),
		sample.sequence.to_string(),
	];
	let proof_args: Vec<&str> = proof_args.iter().map(String::as_str).collect();
	// `platone proof` for the sample, kept in the scratch dir as `name`.
	let proof_to = |name: &str| {
		let out = platone(&config, &proof_args);
		expect_exit(&out, 0);
		let file = scratch.0.join(name);
		std::fs::write(&file, &out.stdout).unwrap();
		(file, out.stdout)
	};
	let (proof_file, printed) = proof_to("proof.json");
	// The certifier's SCD API serves the same document (loopback, development: no token).
	let served = http_get(
		api_port,
		&format!(
			"/v1/measurements/1/{}/{}/proof",
			sample.timestamp_us, sample.sequence
		),
	);
	let served: serde_json::Value = serde_json::from_str(&served).expect("API JSON");
	// The certifier's own figures, beside the API, for the operator's monitoring.
	let metrics = http_get(api_port, "/metrics");
	let certified = metrics
		.lines()
		.find_map(|l| l.strip_prefix("platone_certifier_windows_certified_total "))
		.and_then(|v| v.trim().parse::<u64>().ok());
	assert!(certified.is_some_and(|n| n >= 1), "{metrics}");
	let rounds = metrics
		.lines()
		.find_map(|l| l.strip_prefix("platone_settle_rounds_total "))
		.and_then(|v| v.trim().parse::<u64>().ok());
	assert!(rounds.is_some_and(|n| n >= 1), "{metrics}");
	assert_eq!(metrics.matches("# EOF").count(), 1, "{metrics}");
	let printed: serde_json::Value = serde_json::from_slice(&printed).expect("proof JSON");
	assert_eq!(served, printed);
	let verify =
		|file: &std::path::Path| platone(&config, &["verify", &file.display().to_string()]);
	let out = verify(&proof_file);
	expect_exit(&out, 0);
	assert!(String::from_utf8_lossy(&out.stdout).contains("VERIFIED"));
	// The same, fetched by `platone verify` itself from the SCD API.
	let api_url = format!("http://127.0.0.1:{api_port}");
	let (t, q) = (sample.timestamp_us.to_string(), sample.sequence.to_string());
	let out = platone(
		&config,
		&[
			"verify",
			"--api",
			&api_url,
			"--dataset",
			"1",
			"--timestamp-us",
			&t,
			"--sequence",
			&q,
		],
	);
	expect_exit(&out, 0);

	// Finality proven by a GRANDPA justification against a pinned authority set (the dev
	// chain's: Alice alone) instead of taken from the node.
	let out = platone(&config, &["authority-set"]);
	expect_exit(&out, 0);
	let pinned: serde_json::Value = serde_json::from_slice(&out.stdout).expect("set JSON");
	assert_eq!(pinned["set_id"], 0);
	assert_eq!(
		pinned["authorities"][0]["key"],
		"0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
	);
	let set_file = scratch.0.join("authority-set.json");
	std::fs::write(&set_file, &out.stdout).unwrap();
	let proof_arg = proof_file.display().to_string();
	let set_arg = set_file.display().to_string();
	let out = platone(
		&config,
		&["verify", &proof_arg, "--authority-set", &set_arg],
	);
	expect_exit(&out, 0);
	assert!(
		String::from_utf8_lossy(&out.stdout).contains("GRANDPA justification"),
		"{}",
		String::from_utf8_lossy(&out.stdout)
	);
	// Another set than the one that signs: finality not proven (exit 6).
	let mut other = pinned.clone();
	other["authorities"][0]["key"] = serde_json::json!(format!("0x{}", "11".repeat(32)));
	let other_file = scratch.0.join("other-set.json");
	std::fs::write(&other_file, other.to_string()).unwrap();
	let other_arg = other_file.display().to_string();
	expect_exit(
		&platone(
			&config,
			&["verify", &proof_arg, "--authority-set", &other_arg],
		),
		6,
	);

	// An edited proof document fails: its record is no longer the one certified.
	let mut doc: serde_json::Value =
		serde_json::from_slice(&std::fs::read(&proof_file).unwrap()).expect("proof JSON");
	let record = doc["record"].as_str().unwrap().to_string();
	let flipped = format!(
		"{}{}",
		&record[..record.len() - 1],
		if record.ends_with('0') { "1" } else { "0" }
	);
	doc["record"] = serde_json::Value::String(flipped);
	let edited = scratch.0.join("edited.json");
	std::fs::write(&edited, doc.to_string()).unwrap();
	expect_exit(&verify(&edited), 3);

	// A row tampered with in the SCD: the SCD still serves a proof, and it fails verification.
	runtime.block_on(async {
		let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", scd.display()))
			.await
			.unwrap();
		sqlx::query(
			"UPDATE measurements SET record = CAST(? AS BLOB) WHERE dataset = 1 AND timestamp_us = ? AND sequence = ?",
		)
		.bind({
			let mut r = sample.record.clone();
			let last = r.len() - 1;
			r[last] ^= 1;
			r
		})
		.bind(i64::try_from(sample.timestamp_us).unwrap())
		.bind(i64::from(sample.sequence))
		.execute(&pool)
		.await
		.unwrap();
	});
	let (tampered, _) = proof_to("tampered.json");
	let out = verify(&tampered);
	expect_exit(&out, 3);

	// A window the chain never saw: not certified (exit 2). Marked late so that the record's
	// own time need not lie in it.
	let mut doc: serde_json::Value =
		serde_json::from_slice(&std::fs::read(&proof_file).unwrap()).expect("proof JSON");
	doc["late"] = serde_json::Value::Bool(true);
	doc["window"]["start_ms"] = serde_json::json!(first.window.start_ms + 1_000 * WINDOW_MS);
	let unknown = scratch.0.join("unknown.json");
	std::fs::write(&unknown, doc.to_string()).unwrap();
	expect_exit(&verify(&unknown), 2);
}

/// The development chain's PoMs: three PMUs and two meters on the gateway's 10 s windows, two
/// meters certified hourly (a device's own window).
const DEVICES: &str = "\
	[[devices]]\nname = \"pmu-001\"\nkind = \"pmu\"\ndataset = 1\n\
	[[devices]]\nname = \"pmu-002\"\nkind = \"pmu\"\ndataset = 2\n\
	[[devices]]\nname = \"pmu-003\"\nkind = \"pmu\"\ndataset = 3\n\
	[[devices]]\nname = \"meter-001\"\nkind = \"meter\"\ndataset = 11\n\
	[[devices]]\nname = \"meter-002\"\nkind = \"meter\"\ndataset = 12\n\
	[[devices]]\nname = \"meter-003\"\nkind = \"meter\"\ndataset = 13\nwindow_ms = 3600000\n\
	[[devices]]\nname = \"meter-004\"\nkind = \"meter\"\ndataset = 14\nwindow_ms = 3600000\n";

/// Issue #12: late data in every form the HTTP backfill brings, under kill -9 of the certifier:
/// a meter whose first data lands in a window PMUs already had certified, a meter whose older day
/// arrives after its latest half hour was certified (behind its dataset's frontier), a day sent
/// in reverse order and a day sent at once. Every stored measurement ends certified exactly once,
/// `platone audit scd` finds the SCD and the chain in agreement, and a late reading's proof is
/// served (FR-BAP-DM-02/03, P-BAP-02).
#[test]
fn a_backfilled_day_and_late_datasets_are_certified_exactly_once() {
	let http_port = platone_tests::free_port();
	// The broker must live as long as the test: bound, not `_`.
	let Stack {
		scratch,
		node,
		broker: _broker,
		scd,
		config,
		api_port,
	} = Stack::start(
		"backfill-e2e",
		"grace_ms = 2000\n",
		&format!(
			"[http]\nlisten = \"127.0.0.1:{http_port}\"\n\
			 [sim]\npmus = 3\nrate_hz = 2\nmeters = 0\n{DEVICES}"
		),
	);
	let cfg = config.display().to_string();
	let args = |role: &str| role_args(&cfg, role);
	let ingest = Service::start(
		platone_binary(),
		&args("ingest"),
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("connected to the broker", Duration::from_secs(30));
	let mut certifier = Service::start(
		platone_binary(),
		&args("certify"),
		scratch.0.join("certify.log"),
	);
	let mut sim_args = args("sim");
	sim_args.extend(["--seconds".into(), "60".into()]);
	let mut sim = Service::start(platone_binary(), &sim_args, scratch.0.join("sim.log"));

	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let certified = |store: &SqliteStore| {
		runtime
			.block_on(store.certificates(CertState::Certified, 10_000))
			.unwrap()
	};
	let first = wait_for("a PMU window certified", Duration::from_secs(90), || {
		certified(&store).into_iter().next()
	});
	let post = |doc: String| {
		let (status, body) = http_post(http_port, "/v1/meter-readings", &doc);
		assert_eq!(status, 200, "{body}");
		body
	};
	let now_us = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_micros() as u64;
	const QUARTER_US: u64 = 900_000_000;
	// A quarter hour before the last full hour: before the simulator started, so no PMU
	// sealed it, and the hourly windows of its day have all ended.
	let last_quarter = now_us - now_us % (4 * QUARTER_US) - QUARTER_US;
	// The day up to it, oldest first.
	let day: Vec<u64> = (0..96)
		.rev()
		.map(|i| last_quarter - i * QUARTER_US)
		.collect();

	// meter-001 (dataset 11): its reading lies in a window the PMUs had certified.
	let sealed_us = (first.window.start_ms + 1_000) * 1_000;
	post(meter_document("meter-001", &[sealed_us]));
	// meter-002 (12): the last half hour, certified; then the 23.5 hours before it.
	post(meter_document("meter-002", &day[94..]));
	let half_hour_window = (day[95] / 1_000) - (day[95] / 1_000) % WINDOW_MS;
	wait_for(
		"meter-002's half hour certified",
		Duration::from_secs(120),
		|| {
			certified(&store)
				.iter()
				.any(|c| {
					c.window.start_ms == half_hour_window
						&& c.datasets.iter().any(|d| d.dataset == 12)
				})
				.then_some(())
		},
	);
	post(meter_document("meter-002", &day[..94]));
	// meter-003 (13): the day in reverse; meter-004 (14): the day at once. The certifier is
	// killed while it works through them. Both in one document, so one commit: posted apart,
	// the certifier may seal a past hour with meter-003's rows alone, and meter-004's rows of
	// that hour are then late, certified in the dataset's current hour (ingest.md), which can
	// end long after this test's patience.
	let reversed: Vec<u64> = day.iter().rev().copied().collect();
	post(platone_ingest::sim::meter_document(
		"backfill-meter-003-meter-004",
		&[
			("meter-003", &meter_intervals(&reversed)),
			("meter-004", &meter_intervals(&day)),
		],
	));
	wait_for(
		"a backfilled window sealed",
		Duration::from_secs(60),
		|| {
			certifier
				.log_text()
				.matches("window sealed")
				.count()
				.checked_sub(5)
				.map(|_| ())
		},
	);
	certifier.kill9();
	certifier.restart();

	assert!(
		sim.wait(Duration::from_secs(120)).success(),
		"{}",
		sim.log_text()
	);
	let stored = runtime.block_on(store.measurement_count()).unwrap();
	// A day from each of three meters and meter-001's one interval, imported and exported
	// energy each, and the PMUs' samples for 30 s or more.
	assert!(
		stored > 2 * (96 * 3 + 1) + 3 * 2 * 30,
		"only {stored} measurements stored"
	);
	// Counted again each time: ingest may still commit its last batch after the simulator
	// exits, and a count taken once before it would never match (seen in CI: 941 certified,
	// the test waiting for 940).
	let stored = wait_for(
		"every measurement certified",
		Duration::from_secs(400),
		|| {
			let stored = runtime.block_on(store.measurement_count()).ok()?;
			let leaves: u64 = certified(&store).iter().map(|c| c.leaves()).sum();
			(leaves == stored).then_some(stored)
		},
	);
	let log = certifier.log_text();
	assert!(!log.contains("CONFLICT"), "{log}");
	let late = |dataset: u64, t_us: u64| {
		runtime
			.block_on(store.measurement(dataset, t_us, IMPORT_15_MIN))
			.unwrap()
			.expect("stored")
	};
	assert!(late(11, sealed_us).is_late());
	assert!(late(12, day[0]).is_late());
	assert!(!late(12, day[95]).is_late());

	// The audit: the SCD's invariant, and its certificates against the chain's finalized state.
	let from = (day[0] / 1_000 - 86_400_000).to_string();
	let rpc = format!("ws://127.0.0.1:{}", node.rpc_port());
	let out = platone(
		&config,
		&["audit", "scd", "--from-ms", &from, "--rpc", &rpc],
	);
	expect_exit(&out, 0);
	let summary = String::from_utf8_lossy(&out.stdout);
	assert!(
		summary.contains(&format!("{stored} measurements proven")),
		"{summary}"
	);
	// A late reading's proof is served, and verifies against the chain.
	let m = late(11, sealed_us);
	http_get(
		api_port,
		&format!(
			"/v1/measurements/11/{}/{}/proof",
			m.timestamp_us, m.sequence
		),
	);
	let api_url = format!("http://127.0.0.1:{api_port}");
	let (t, q) = (m.timestamp_us.to_string(), m.sequence.to_string());
	expect_exit(
		&platone(
			&config,
			&[
				"verify",
				"--api",
				&api_url,
				"--dataset",
				"11",
				"--timestamp-us",
				&t,
				"--sequence",
				&q,
			],
		),
		0,
	);

	// A row removed from the SCD after certification: the audit names it (exit 1).
	runtime.block_on(async {
		let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", scd.display()))
			.await
			.unwrap();
		sqlx::query("DELETE FROM measurements WHERE dataset = 14 AND timestamp_us = ?")
			.bind(i64::try_from(day[10]).unwrap())
			.execute(&pool)
			.await
			.unwrap();
	});
	let out = platone(&config, &["audit", "scd", "--from-ms", &from]);
	expect_exit(&out, 1);
	assert!(
		String::from_utf8_lossy(&out.stdout).contains("root_mismatch"),
		"{}",
		String::from_utf8_lossy(&out.stdout)
	);
}

/// Issue #12: the certifier froze in silence when the node stalled (no timeout on finality, and
/// sealing waited behind submission). With the node frozen (SIGSTOP) windows keep being sealed
/// on time, the age of the oldest window waiting for the chain is exported, and once the node
/// thaws everything is certified once (FR-BAP-DM-02).
#[test]
fn sealing_goes_on_while_the_chain_stalls() {
	// The broker must live as long as the test: bound, not `_`.
	let Stack {
		scratch,
		node,
		broker: _broker,
		scd,
		config,
		api_port,
	} = Stack::start(
		"stall-e2e",
		"grace_ms = 1000\nround_timeout_s = 5\n",
		"[sim]\npmus = 2\nrate_hz = 5\nmeters = 0\n",
	);
	let cfg = config.display().to_string();
	let args = |role: &str| role_args(&cfg, role);
	let mut ingest_args = args("ingest");
	ingest_args.insert(0, "--no-http".into());
	let ingest = Service::start(platone_binary(), &ingest_args, scratch.0.join("ingest.log"));
	ingest.wait_for_log("subscribed", Duration::from_secs(30));
	let certifier = Service::start(
		platone_binary(),
		&args("certify"),
		scratch.0.join("certify.log"),
	);
	let mut sim_args = args("sim");
	sim_args.extend(["--seconds".into(), "60".into()]);
	let mut sim = Service::start(platone_binary(), &sim_args, scratch.0.join("sim.log"));
	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	let certified = || {
		runtime
			.block_on(store.certificates(CertState::Certified, 10_000))
			.unwrap()
	};
	wait_for("a window certified", Duration::from_secs(90), || {
		certified().into_iter().next()
	});

	node.pause();
	let sealed = |log: &str| log.matches("window sealed").count();
	let before = sealed(&certifier.log_text());
	std::thread::sleep(Duration::from_secs(4 * WINDOW_MS / 1_000));
	let log = certifier.log_text();
	assert!(
		sealed(&log) >= before + 2,
		"sealing stopped with the chain: {before} sealed before, {} after\n{log}",
		sealed(&log)
	);
	let waiting = http_get(api_port, "/metrics")
		.lines()
		.find_map(|l| l.strip_prefix("platone_certifier_oldest_pending_ms "))
		.and_then(|v| v.trim().parse::<u64>().ok())
		.expect("the oldest pending window's age");
	assert!(waiting >= WINDOW_MS, "oldest pending only {waiting} ms");
	node.resume();

	assert!(
		sim.wait(Duration::from_secs(90)).success(),
		"{}",
		sim.log_text()
	);
	let stored = runtime.block_on(store.measurement_count()).unwrap();
	wait_for(
		"every measurement certified after the stall",
		Duration::from_secs(180),
		|| {
			let leaves: u64 = certified().iter().map(|c| c.leaves()).sum();
			(leaves == stored).then_some(())
		},
	);
	let log = certifier.log_text();
	assert!(!log.contains("CONFLICT"), "{log}");
}
