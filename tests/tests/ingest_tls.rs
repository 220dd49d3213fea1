//! Devices and bridges authenticate to a real mosquitto with client certificates (mutual TLS),
//! and a device may publish only to its own topic (issue #4; S-BAP-01, process 1 of D2.2).

use std::{process::Command, time::Duration};

use platone_scd::{SqliteStore, Store};
use platone_tests::{
	bridges::{platone_binary, Mosquitto, Service},
	wait_for, Scratch,
};

/// `mosquitto_pub` as `identity` (its certificate, or none); its exit status.
fn publish(
	pki: &std::path::Path,
	port: u16,
	identity: Option<&str>,
	topic: &str,
	body: &str,
) -> bool {
	let mut cmd = Command::new("mosquitto_pub");
	cmd.args([
		"-h",
		"localhost",
		"-p",
		&port.to_string(),
		"-q",
		"1",
		"-t",
		topic,
		"-m",
		body,
	])
	.arg("--cafile")
	.arg(pki.join("ca.pem"));
	if let Some(id) = identity {
		cmd.arg("--cert").arg(pki.join(format!("{id}.pem")));
		cmd.arg("--key").arg(pki.join(format!("{id}.key")));
		cmd.args(["-i", &format!("{id}-test")]);
	}
	cmd.output()
		.expect("mosquitto_pub installed (scripts/setup.sh)")
		.status
		.success()
}

fn sample(seq: u32) -> String {
	let ts = platone_ingest::now_us() / 20_000 * 20_000;
	let mut zero = || 0.0;
	platone_ingest::sim::pmu_sample(ts, seq, 1, &mut zero)
}

#[test]
fn mutual_tls_and_per_device_topics() {
	let scratch = Scratch::new("ingest-tls");
	let pki = scratch.0.join("pki");
	let status = Command::new("bash")
		.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/pki.sh"))
		.arg(&pki)
		.args(["platone-ingest-charlie", "dsotp", "pmu-001", "pmu-002"])
		.status()
		.expect("run scripts/pki.sh");
	assert!(status.success(), "PKI generation failed");
	let broker = Mosquitto::start_tls(&scratch.0, &pki);
	let scd = scratch.0.join("scd.sqlite");
	let config = scratch.0.join("platone.toml");
	let p = |f: &str| pki.join(f).display().to_string();
	std::fs::write(
		&config,
		format!(
			"[scd]\nurl = \"sqlite://{}\"\n[broker]\nhost = \"localhost\"\nport = {}\n\
			 ca = \"{}\"\ncert = \"{}\"\nkey = \"{}\"\n",
			scd.display(),
			broker.port,
			p("ca.pem"),
			p("platone-ingest-charlie.pem"),
			p("platone-ingest-charlie.key"),
		),
	)
	.expect("write config");
	let ingest = Service::start(
		platone_binary(),
		&[
			"--dev".into(),
			"--config".into(),
			config.display().to_string(),
			"--no-http".into(),
			"ingest".into(),
		],
		scratch.0.join("ingest.log"),
	);
	ingest.wait_for_log("connected to the broker", Duration::from_secs(30));
	std::thread::sleep(Duration::from_millis(500));

	// No client certificate: the broker refuses the connection.
	assert!(
		!publish(
			&pki,
			broker.port,
			None,
			"platone/v1/charlie/pmu/pmu-001",
			&sample(0)
		),
		"a client without a certificate got in"
	);
	// pmu-001 forging pmu-002's data, and the DSOTP (read-only) writing: both dropped.
	assert!(publish(
		&pki,
		broker.port,
		Some("pmu-001"),
		"platone/v1/charlie/pmu/pmu-002",
		&sample(1)
	));
	assert!(publish(
		&pki,
		broker.port,
		Some("dsotp"),
		"platone/v1/charlie/pmu/pmu-001",
		&sample(2)
	));
	// pmu-001 on its own topic: stored.
	assert!(publish(
		&pki,
		broker.port,
		Some("pmu-001"),
		"platone/v1/charlie/pmu/pmu-001",
		&sample(3)
	));

	let runtime = tokio::runtime::Runtime::new().expect("tokio");
	let store = runtime
		.block_on(SqliteStore::open(&scd))
		.expect("open the SCD");
	wait_for(
		"pmu-001's own sample in the SCD",
		Duration::from_secs(30),
		|| (runtime.block_on(store.measurement_count()).ok()? >= 1).then_some(()),
	);
	std::thread::sleep(Duration::from_secs(1));
	assert_eq!(
		runtime.block_on(store.measurement_count()).unwrap(),
		1,
		"{}",
		ingest.log_text()
	);
	let window_ms = platone_ingest::DEFAULT_WINDOW_MS as u64;
	let now_ms = platone_ingest::now_us() / 1000;
	let mut seqs = Vec::new();
	for dataset in [1, 2] {
		for w in [
			now_ms / window_ms * window_ms,
			(now_ms / window_ms - 1) * window_ms,
		] {
			seqs.extend(
				runtime
					.block_on(store.window(dataset, w))
					.unwrap()
					.iter()
					.map(|m| (dataset, m.sequence)),
			);
		}
	}
	assert_eq!(seqs, vec![(1, 3)], "only pmu-001's own sample is stored");
}
