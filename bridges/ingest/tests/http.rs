//! HTTP batch ingest (P-BAP-02) over a real socket into a real SQLite SCD: a DSO Data Server's
//! MeterReadings batch is stored, bad meters are refused with reasons, metrics count them.

use std::{
	io::{Read, Write},
	sync::Arc,
	time::Duration,
};

use platone_ingest::{http, sim, DataServer, Directory, Metrics};
use platone_scd::{Reason, SqliteStore, Store};

fn post(port: u16, path: &str, body: &str) -> (u16, String) {
	post_as(port, path, body, None)
}

/// A POST with a bearer token if given: (status, body).
fn post_as(port: u16, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
	let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
	let auth = token
		.map(|t| format!("Authorization: Bearer {t}\r\n"))
		.unwrap_or_default();
	write!(
		s,
		"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

/// Serves `state` on a free loopback port: (port, stop, the server's task).
async fn start(
	state: Arc<http::Ingest<SqliteStore>>,
) -> (
	u16,
	tokio::sync::oneshot::Sender<()>,
	tokio::task::JoinHandle<Result<(), platone_ingest::Error>>,
) {
	let server = http::bind(([127, 0, 0, 1], 0).into(), None, &state)
		.await
		.expect("bind");
	let port = server.local_addr().unwrap().port();
	let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
	let server = tokio::spawn(http::serve(server, state, async {
		let _ = stopped.await;
	}));
	(port, stop, server)
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
		auth: None,
	});
	let (port, stop, server) = start(state).await;

	// Two meters of the batch are known, one is not: the known ones are stored.
	let end = platone_ingest::now_us() / 900_000_000 * 900_000_000;
	let interval = [(end, 1.5, 0.0)];
	let batch = sim::meter_document(
		"dso-batch-1",
		&[
			("meter-001", &interval),
			("meter-002", &interval),
			("meter-404", &interval),
		],
	);
	let (status, body) =
		tokio::task::spawn_blocking(move || post(port, "/v1/meter-readings", &batch))
			.await
			.unwrap();
	assert_eq!(status, 200, "{body}");
	let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
	// Imported and exported energy of two meters; the answer names the message and says, per
	// meter and reading, what became of it.
	assert_eq!(reply["stored"], 4);
	assert_eq!(reply["refused"][0]["reason"], "unknown_device");
	assert_eq!(reply["message_id"], "dso-batch-1");
	assert_eq!(reply["meters"][0]["mrid"], "meter-001");
	assert_eq!(
		reply["meters"][0]["readings"].as_array().map(Vec::len),
		Some(2)
	);
	assert!(
		reply["meters"][0]["readings"][0]["taken"]["sequence"].is_u64(),
		"{reply}"
	);
	assert_eq!(reply["meters"][2]["refused"]["reason"], "unknown_device");

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

	assert_eq!(store.measurement_count().await.unwrap(), 5);
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
	assert!(text.contains("platone_ingest_stored_total 5"), "{text}");

	stop.send(()).unwrap();
	server.await.unwrap().unwrap();
	std::fs::remove_dir_all(dir).ok();
}

/// Issue #12 (S-BAP-01): with token checks, `/v1` needs a bearer token and its subject is the
/// sender. A meter sends its own readings, a configured data server its meters', a PMU only its
/// own samples, whatever the path or the payload names; the rest is `forbidden` (403) and kept
/// as a dead letter.
#[tokio::test(flavor = "multi_thread")]
async fn the_token_says_who_sends_and_for_whom() {
	let dir = std::env::temp_dir().join(format!("platone-http-auth-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	let openssl = |args: &[&str]| {
		let ok = std::process::Command::new("openssl")
			.args(args)
			.current_dir(&dir)
			.status()
			.expect("openssl")
			.success();
		assert!(ok, "openssl {args:?}");
	};
	openssl(&[
		"genpkey",
		"-algorithm",
		"EC",
		"-pkeyopt",
		"ec_paramgen_curve:P-256",
		"-out",
		"issuer.key",
	]);
	openssl(&["pkey", "-in", "issuer.key", "-pubout", "-out", "issuer.pub"]);
	let key =
		jsonwebtoken::EncodingKey::from_ec_pem(&std::fs::read(dir.join("issuer.key")).unwrap())
			.unwrap();
	let token = |sub: &str| {
		let now = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.unwrap()
			.as_secs();
		jsonwebtoken::encode(
			&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
			&serde_json::json!({
				"iss": "https://auth.dso.example", "aud": "platone-ingest", "sub": sub,
				"exp": now + 300, "scope": "ingest.write",
			}),
			&key,
		)
		.unwrap()
	};
	let auth = platone_http::Auth::load(&platone_http::AuthConfig {
		issuer: "https://auth.dso.example".into(),
		audience: "platone-ingest".into(),
		public_keys: vec![dir.join("issuer.pub")],
		jwks_url: None,
		jwks_tls: Default::default(),
		jwks_refresh: Duration::from_secs(3_600),
		algorithm: "ES256".into(),
		scope: Some("ingest.write".into()),
	})
	.unwrap();
	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());
	let directory = Directory::development(10, 4).with_data_servers([DataServer {
		name: "dso-data-server".into(),
		meters: vec!["*".into()],
	}]);
	let state = Arc::new(http::Ingest {
		store: store.clone(),
		directory: Arc::new(directory),
		metrics: Arc::new(Metrics::default()),
		max_future: Duration::from_secs(60),
		auth: Some(Arc::new(auth)),
	});
	let (port, stop, server) = start(state).await;
	let end = platone_ingest::now_us() / 900_000_000 * 900_000_000;
	let interval = [(end, 1.5, 0.0)];
	let readings = |meters: &[&str]| {
		let all: Vec<(&str, &[(u64, f64, f64)])> =
			meters.iter().map(|m| (*m, &interval[..])).collect();
		sim::meter_document("dso-batch", &all)
	};
	let mut zero = || 0.0;
	let sample = sim::pmu_sample(platone_ingest::now_us() / 20_000 * 20_000, 0, 3, &mut zero);
	let cases = [
		// (path, body, token subject, status)
		("/v1/meter-readings", readings(&["meter-001"]), None, 401),
		(
			"/v1/meter-readings",
			readings(&["meter-001"]),
			Some("meter-003"),
			403,
		),
		(
			"/v1/meter-readings",
			readings(&["meter-003"]),
			Some("meter-003"),
			200,
		),
		(
			"/v1/meter-readings",
			readings(&["meter-001", "meter-002"]),
			Some("dso-data-server"),
			200,
		),
		(
			"/v1/devices/pmu/pmu-003/measurements",
			sample.clone(),
			Some("pmu-002"),
			403,
		),
		(
			"/v1/devices/pmu/pmu-003/measurements",
			sample.clone(),
			Some("dso-data-server"),
			403,
		),
		(
			"/v1/devices/pmu/pmu-003/measurements",
			sample,
			Some("pmu-003"),
			200,
		),
	];
	for (path, body, sub, expected) in cases {
		let bearer = sub.map(token);
		let (status, reply) =
			tokio::task::spawn_blocking(move || post_as(port, path, &body, bearer.as_deref()))
				.await
				.unwrap();
		assert_eq!(status, expected, "{sub:?} on {path}: {reply}");
		if expected == 403 {
			assert!(reply.contains("forbidden"), "{reply}");
		}
	}
	// meter-003's two readings, the data server's four, pmu-003's sample.
	assert_eq!(store.measurement_count().await.unwrap(), 7);
	assert_eq!(
		store.dead_letter_counts().await.unwrap(),
		vec![(Reason::Forbidden, 3)]
	);
	// Health and metrics stay open.
	let health = tokio::task::spawn_blocking(move || get(port, "/health"))
		.await
		.unwrap();
	assert!(health.starts_with("HTTP/1.1 200"), "{health}");

	stop.send(()).unwrap();
	server.await.unwrap().unwrap();
	std::fs::remove_dir_all(dir).ok();
}
