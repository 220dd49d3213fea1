//! HTTP batch ingest (P-BAP-02) over a real socket into a real SQLite SCD: a DSO Data Server's
//! MeterReadings batch is stored, bad meters are refused with reasons, metrics count them.

use std::{
	io::{Read, Write},
	sync::Arc,
	time::Duration,
};

use platone_ingest::{http, sim, Directory, Metrics};
use platone_scd::{Reason, SqliteStore, Store};

fn post(port: u16, path: &str, body: &str) -> (u16, String) {
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
	write!(
		s,
		"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut reply = String::new();
	s.read_to_string(&mut reply).unwrap();
	let status = reply[9..12].parse().expect("status code");
	let body = reply
		.split_once("\r\n\r\n")
		.map(|(_, b)| b.to_string())
		.unwrap_or_default();
	(status, body)
}

fn get(port: u16, path: &str) -> String {
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
	write!(
		s,
		"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	)
	.unwrap();
	let mut reply = String::new();
	s.read_to_string(&mut reply).unwrap();
	reply
}

#[tokio::test(flavor = "multi_thread")]
async fn meter_batches_and_device_payloads_over_http() {
	let dir = std::env::temp_dir().join(format!("platone-http-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());
	let metrics = Arc::new(Metrics::default());
	let state = Arc::new(http::Ingest {
		store: store.clone(),
		directory: Arc::new(Directory::development(10, 4)),
		metrics: metrics.clone(),
		max_future: Duration::from_secs(60),
	});
	let port = std::net::TcpListener::bind("127.0.0.1:0")
		.unwrap()
		.local_addr()
		.unwrap()
		.port();
	let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
	let server = tokio::spawn(http::serve(([127, 0, 0, 1], port).into(), state, async {
		let _ = stopped.await;
	}));
	tokio::time::sleep(Duration::from_millis(200)).await;

	// Two meters of the batch are known, one is not: the known ones are stored.
	let end = platone_ingest::now_us() / 900_000_000 * 900_000_000;
	let reading = |m: &str| {
		let doc: serde_json::Value =
			serde_json::from_str(&sim::meter_readings(m, end, 1.5, 0.0)).unwrap();
		doc["MeterReadings"][0].clone()
	};
	let batch = serde_json::json!({
		"MeterReadings": [reading("meter-001"), reading("meter-002"), reading("meter-404")]
	})
	.to_string();
	let (status, body) =
		tokio::task::spawn_blocking(move || post(port, "/v1/meter-readings", &batch))
			.await
			.unwrap();
	assert_eq!(status, 200, "{body}");
	let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
	assert_eq!(reply["stored"], 2);
	assert_eq!(reply["refused"][0]["reason"], "unknown_device");

	// A PMU payload for a registered PMU, then garbage: 200, then 422 with the reason.
	let mut zero = || 0.0;
	let sample = sim::pmu_sample(platone_ingest::now_us() / 20_000 * 20_000, 0, 3, &mut zero);
	let (status, _) = tokio::task::spawn_blocking(move || {
		post(port, "/v1/devices/pmu/pmu-003/measurements", &sample)
	})
	.await
	.unwrap();
	assert_eq!(status, 200);
	let (status, body) = tokio::task::spawn_blocking(move || {
		post(port, "/v1/devices/pmu/pmu-003/measurements", "{oops")
	})
	.await
	.unwrap();
	assert_eq!(status, 422, "{body}");
	assert!(body.contains("malformed"), "{body}");

	assert_eq!(store.measurement_count().await.unwrap(), 3);
	let counts = store.dead_letter_counts().await.unwrap();
	assert_eq!(
		counts,
		vec![(Reason::Malformed, 1), (Reason::UnknownDevice, 1)]
	);
	let text = tokio::task::spawn_blocking(move || get(port, "/metrics"))
		.await
		.unwrap();
	assert!(
		text.contains("platone_ingest_dead_letters_total{reason=\"unknown_device\"} 1"),
		"{text}"
	);
	assert!(text.contains("platone_ingest_stored_total 3"), "{text}");

	stop.send(()).unwrap();
	server.await.unwrap().unwrap();
	std::fs::remove_dir_all(dir).ok();
}
