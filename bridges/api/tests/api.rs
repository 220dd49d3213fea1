//! The SCD API over real TLS with real JWTs (issue #5): no token, a wrong issuer, an expired
//! token, a token without the scope and one signed by a stranger are refused with 401; a valid
//! token gets the proof document, which proves against the certificate's root. With mutual TLS
//! a client without a certificate from the configured CA is refused, and the token is still
//! required of one with it.

use std::{path::Path, process::Command, sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use platone_api::{Api, Auth, AuthConfig, TlsFiles};
use platone_primitives::{
	verify_measurement, Blake2_256, MeasurementRecord, Quantity, Reading, SensorValue, Window,
};
use platone_scd::{wire::ProofDocument, Measurement, SqliteStore, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls::{
	self,
	pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName},
};

fn openssl(dir: &Path, args: &[&str]) {
	let status = Command::new("openssl")
		.args(args)
		.current_dir(dir)
		.status()
		.expect("openssl");
	assert!(status.success(), "openssl {args:?}");
}

/// An ES256 key pair of an authorisation server: (private PKCS#8 PEM, public key file).
fn signing_key(dir: &Path, name: &str) -> (Vec<u8>, std::path::PathBuf) {
	let key = format!("{name}.key");
	let public = format!("{name}.pub");
	openssl(
		dir,
		&[
			"genpkey",
			"-algorithm",
			"EC",
			"-pkeyopt",
			"ec_paramgen_curve:P-256",
			"-out",
			&key,
		],
	);
	openssl(dir, &["pkey", "-in", &key, "-pubout", "-out", &public]);
	(std::fs::read(dir.join(key)).unwrap(), dir.join(public))
}

fn token(key: &[u8], iss: &str, exp_in: i64, scope: &str) -> String {
	let now = std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_secs() as i64;
	jsonwebtoken::encode(
		&Header::new(Algorithm::ES256),
		&serde_json::json!({
			"iss": iss, "aud": "platone-scd", "sub": "auditor-1",
			"exp": now + exp_in, "iat": now, "scope": scope,
		}),
		&EncodingKey::from_ec_pem(key).expect("signing key"),
	)
	.expect("sign")
}

/// One HTTPS GET; (status, body).
async fn get(ca: &Path, port: u16, path: &str, bearer: Option<&str>) -> (u16, String) {
	request(ca, port, path, bearer, None)
		.await
		.expect("an HTTP response over TLS")
}

/// One HTTPS GET, with a client certificate (chain, key) if given; None if the server refused
/// the connection or sent no HTTP response.
async fn request(
	ca: &Path,
	port: u16,
	path: &str,
	bearer: Option<&str>,
	client: Option<(&Path, &Path)>,
) -> Option<(u16, String)> {
	let mut roots = rustls::RootCertStore::empty();
	for cert in CertificateDer::pem_file_iter(ca).unwrap() {
		roots.add(cert.unwrap()).unwrap();
	}
	let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
		rustls::crypto::aws_lc_rs::default_provider(),
	))
	.with_safe_default_protocol_versions()
	.unwrap()
	.with_root_certificates(roots);
	let config = match client {
		None => builder.with_no_client_auth(),
		Some((cert, key)) => builder
			.with_client_auth_cert(
				CertificateDer::pem_file_iter(cert)
					.unwrap()
					.map(Result::unwrap)
					.collect(),
				PrivateKeyDer::from_pem_file(key).unwrap(),
			)
			.unwrap(),
	};
	let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
	let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
		.await
		.unwrap();
	let mut tls = connector
		.connect(ServerName::try_from("localhost").unwrap(), tcp)
		.await
		.ok()?;
	let auth = bearer
		.map(|t| format!("Authorization: Bearer {t}\r\n"))
		.unwrap_or_default();
	tls.write_all(
		format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n")
			.as_bytes(),
	)
	.await
	.ok()?;
	let mut reply = Vec::new();
	let _ = tls.read_to_end(&mut reply).await;
	let reply = String::from_utf8_lossy(&reply).to_string();
	let status = reply.get(9..12)?.parse().ok()?;
	let body = reply
		.split_once("\r\n\r\n")
		.map(|(_, b)| b.to_string())
		.unwrap_or_default();
	Some((status, body))
}

/// Serves `api` on a free loopback port: (port, stop, the server's task).
async fn start(
	api: Arc<Api<SqliteStore>>,
	tls: Option<TlsFiles>,
) -> (
	u16,
	tokio::sync::oneshot::Sender<()>,
	tokio::task::JoinHandle<platone_api::Result<()>>,
) {
	let server = platone_api::bind(([127, 0, 0, 1], 0).into(), tls.as_ref(), &api)
		.await
		.expect("bind");
	let port = server.local_addr().unwrap().port();
	let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
	let server = tokio::spawn(platone_api::serve(server, api, async {
		let _ = stopped.await;
	}));
	(port, stop, server)
}

/// The test authorisation server's settings, with keys from PEM files or a JWKS URL.
fn auth(public_keys: Vec<std::path::PathBuf>, jwks_url: Option<String>) -> Arc<Auth> {
	Arc::new(
		Auth::load(&AuthConfig {
			issuer: "https://auth.dso.example".into(),
			audience: "platone-scd".into(),
			public_keys,
			jwks_url,
			jwks_tls: Default::default(),
			jwks_refresh: Duration::from_secs(3_600),
			algorithm: "ES256".into(),
			scope: Some("scd.read".into()),
		})
		.expect("auth config"),
	)
}

/// An empty scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
	let dir = std::env::temp_dir().join(format!("platone-api-{name}-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	dir
}

/// The development PKI (`scripts/pki.sh`) under `dir/pki`, with certificates for `clients`.
fn dev_pki(dir: &Path, clients: &[&str]) -> std::path::PathBuf {
	let pki = dir.join("pki");
	let status = Command::new("bash")
		.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/pki.sh"))
		.arg(&pki)
		.args(clients)
		.status()
		.expect("scripts/pki.sh");
	assert!(status.success());
	pki
}

/// An SCD with one sealed window of three measurements of dataset 5 (360 000 ms, 180 s).
async fn one_sealed_window(dir: &Path) -> (Arc<SqliteStore>, platone_scd::Certificate) {
	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());
	let records: Vec<_> = (0..3u32)
		.map(|seq| {
			let record = MeasurementRecord {
				dataset: 5,
				timestamp_us: 360_001_000 + u64::from(seq) * 1_000,
				sequence: seq,
				reading: Reading::Sensor(SensorValue {
					quantity: Quantity::VoltageMv,
					value: 230_000 + i64::from(seq),
				}),
			};
			Measurement::new(&record, 180_000, 1)
		})
		.collect();
	store.commit(&records, &[]).await.unwrap();
	let window = Window {
		start_ms: 360_000,
		duration_ms: 180_000,
	};
	store.seal(window).await.unwrap();
	let certificate = store.build(window, 1).await.unwrap().expect("built");
	(store, certificate)
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_over_tls_for_valid_tokens_only() {
	let dir = scratch("tokens");
	let pki = dev_pki(&dir, &["dsotp"]);
	let (issuer_key, issuer_public) = signing_key(&dir, "issuer");
	let (stranger_key, _) = signing_key(&dir, "stranger");

	let (store, certificate) = one_sealed_window(&dir).await;

	let api = Arc::new(Api {
		store: store.clone(),
		gateway: [9; 32],
		auth: Some(auth(vec![issuer_public], None)),
		metrics: Some(Arc::new(|| {
			"platone_certifier_windows_sealed_total 1\n".into()
		})),
	});
	let (port, stop, server) = start(
		api.clone(),
		Some(TlsFiles {
			cert: pki.join("broker.pem"),
			key: pki.join("broker.key"),
			client_ca: None,
		}),
	)
	.await;
	let ca = pki.join("ca.pem");
	let path = "/v1/measurements/5/360002000/1/proof";

	// Open: the OpenAPI document and the metrics.
	let (status, body) = get(&ca, port, "/openapi.json", None).await;
	assert_eq!(status, 200);
	assert!(body.contains("\"openapi\":\"3.1"), "{body}");
	let (status, body) = get(&ca, port, "/metrics", None).await;
	assert_eq!(
		(status, body.as_str()),
		(200, "platone_certifier_windows_sealed_total 1\n")
	);

	// Refused.
	let valid = token(&issuer_key, "https://auth.dso.example", 300, "scd.read");
	for (bearer, why) in [
		(None, "no token"),
		(
			Some(token(&issuer_key, "https://evil.example", 300, "scd.read")),
			"wrong issuer",
		),
		(
			Some(token(
				&issuer_key,
				"https://auth.dso.example",
				-3_600,
				"scd.read",
			)),
			"expired",
		),
		(
			Some(token(&issuer_key, "https://auth.dso.example", 300, "other")),
			"no scope",
		),
		(
			Some(token(
				&stranger_key,
				"https://auth.dso.example",
				300,
				"scd.read",
			)),
			"stranger's key",
		),
		(Some(format!("{valid}x")), "bad signature"),
	] {
		let (status, _) = get(&ca, port, path, bearer.as_deref()).await;
		assert_eq!(status, 401, "{why}");
	}

	// Served, and it proves against the certificate's root.
	let (status, body) = get(&ca, port, path, Some(&valid)).await;
	assert_eq!(status, 200, "{body}");
	let doc: ProofDocument = serde_json::from_str(&body).expect("proof document");
	assert_eq!(
		(doc.dataset, doc.timestamp_us, doc.sequence),
		(5, 360_002_000, 1)
	);
	assert_eq!(doc.window(), certificate.window);
	verify_measurement::<Blake2_256>(&certificate.root, &doc.proof().unwrap()).expect("proves");

	let (status, body) = get(&ca, port, "/v1/certificates/360000/180000", Some(&valid)).await;
	assert_eq!(status, 200, "{body}");
	assert!(body.contains("\"state\":\"sealed\""), "{body}");
	let (status, _) = get(&ca, port, "/v1/measurements/5/1/1/proof", Some(&valid)).await;
	assert_eq!(status, 404);

	// Mutual TLS: the same API requiring client certificates from the development CA.
	let (mtls_port, mtls_stop, mtls_server) = start(
		api,
		Some(TlsFiles {
			cert: pki.join("broker.pem"),
			key: pki.join("broker.key"),
			client_ca: Some(ca.clone()),
		}),
	)
	.await;
	assert_eq!(
		request(&ca, mtls_port, path, Some(&valid), None).await,
		None,
		"no client certificate: refused"
	);
	let dsotp = (pki.join("dsotp.pem"), pki.join("dsotp.key"));
	let (status, body) = request(
		&ca,
		mtls_port,
		path,
		Some(&valid),
		Some((&dsotp.0, &dsotp.1)),
	)
	.await
	.expect("a client certificate from the CA is accepted");
	assert_eq!(status, 200, "{body}");
	// The token is still required with a client certificate.
	let (status, _) = request(&ca, mtls_port, path, None, Some((&dsotp.0, &dsotp.1)))
		.await
		.expect("an HTTP response");
	assert_eq!(status, 401);

	let _ = stop.send(());
	let _ = mtls_stop.send(());
	server.await.unwrap().unwrap();
	mtls_server.await.unwrap().unwrap();
	let _ = std::fs::remove_dir_all(&dir);
}

/// Token keys from the authorisation server's JWKS: fetched when the API starts, matched by key
/// id, and a key rotated in is accepted once the set is fetched again.
#[tokio::test(flavor = "multi_thread")]
async fn tokens_checked_against_the_jwks() {
	use jsonwebtoken::jwk::{Jwk, JwkSet};
	let dir = std::env::temp_dir().join(format!("platone-api-jwks-{}", std::process::id()));
	let _ = std::fs::remove_dir_all(&dir);
	std::fs::create_dir_all(&dir).unwrap();
	let (old_key, _) = signing_key(&dir, "old");
	let (new_key, _) = signing_key(&dir, "new");
	let jwk = |pem: &[u8], kid: &str| {
		let mut jwk =
			Jwk::from_encoding_key(&EncodingKey::from_ec_pem(pem).unwrap(), Algorithm::ES256)
				.unwrap();
		jwk.common.key_id = Some(kid.into());
		jwk
	};
	let signed = |pem: &[u8], kid: &str| {
		let mut header = Header::new(Algorithm::ES256);
		header.kid = Some(kid.into());
		let now = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.unwrap()
			.as_secs();
		jsonwebtoken::encode(
			&header,
			&serde_json::json!({
				"iss": "https://auth.dso.example", "aud": "platone-scd", "sub": "dsotp",
				"exp": now + 300, "scope": "scd.read",
			}),
			&EncodingKey::from_ec_pem(pem).unwrap(),
		)
		.unwrap()
	};

	// The authorisation server's JWKS endpoint, its key set changeable by the test.
	let served = Arc::new(std::sync::Mutex::new(JwkSet {
		keys: vec![jwk(&old_key, "2026-1")],
	}));
	let jwks_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let jwks_url = format!("http://{}/certs", jwks_listener.local_addr().unwrap());
	let set = served.clone();
	tokio::spawn(async move {
		let app = axum::Router::new().route(
			"/certs",
			axum::routing::get(move || {
				let set = set.lock().unwrap().clone();
				async move { axum::Json(set) }
			}),
		);
		axum::serve(jwks_listener, app).await.unwrap();
	});

	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());
	let api = Arc::new(Api {
		store,
		gateway: [9; 32],
		auth: Some(auth(vec![], Some(jwks_url))),
		metrics: None,
	});
	let (port, stop, server) = start(api.clone(), None).await;
	let client = platone_api::Client::new(&Default::default(), Duration::from_secs(5)).unwrap();
	let url = format!("http://127.0.0.1:{port}/v1/certificates/360000/180000");
	let status = |token: String| {
		let (client, url) = (&client, &url);
		async move { client.get(url, Some(&token)).await.unwrap().0 }
	};

	// A token from the current key passes (no such certificate: 404, past authorisation).
	assert_eq!(status(signed(&old_key, "2026-1")).await, 404);
	// A key the set does not hold, under a known or an unknown id, is refused.
	assert_eq!(status(signed(&new_key, "2026-1")).await, 401);
	assert_eq!(status(signed(&new_key, "2026-2")).await, 401);
	// The server rotates a new key in; once the set is fetched again, its tokens pass.
	served.lock().unwrap().keys.push(jwk(&new_key, "2026-2"));
	let auth = api.auth.as_ref().unwrap();
	assert_eq!(auth.refresh().await.expect("JWKS fetched"), 2);
	assert_eq!(status(signed(&new_key, "2026-2")).await, 404);
	// ... and the old key, once withdrawn, no longer does.
	served.lock().unwrap().keys.remove(0);
	auth.refresh().await.unwrap();
	assert_eq!(status(signed(&old_key, "2026-1")).await, 401);

	let _ = stop.send(());
	server.await.unwrap().unwrap();
	let _ = std::fs::remove_dir_all(&dir);
}

/// Issue #12 (S-BAP-01): handshakes run concurrently and time out, so clients that connect and
/// send nothing do not hold up a real client (one at a time, 100 of them held the accept loop
/// for 10 s each); off loopback the API needs both TLS and token checks.
#[tokio::test]
async fn idle_connections_do_not_delay_a_real_client() {
	let dir = scratch("idle");
	let pki = dev_pki(&dir, &[]);
	let store = Arc::new(SqliteStore::open(&dir.join("scd.sqlite")).await.unwrap());
	let api = Arc::new(Api {
		store,
		gateway: [9; 32],
		auth: None,
		metrics: None,
	});
	let tls = TlsFiles {
		cert: pki.join("broker.pem"),
		key: pki.join("broker.key"),
		client_ca: None,
	};
	for (with_tls, with_auth) in [(None, false), (Some(&tls), false), (None, true)] {
		let exposed = Api {
			store: api.store.clone(),
			gateway: [9; 32],
			auth: with_auth.then(|| auth_for_guard(&dir)),
			metrics: None,
		};
		let refused = platone_api::bind(([0, 0, 0, 0], 0).into(), with_tls, &exposed).await;
		assert!(
			matches!(refused, Err(platone_api::Error::Exposed { .. })),
			"TLS {} auth {with_auth}: served exposed",
			with_tls.is_some()
		);
	}

	let (port, stop, server) = start(api, Some(tls)).await;
	let mut idle = Vec::new();
	for _ in 0..100 {
		idle.push(
			tokio::net::TcpStream::connect(("127.0.0.1", port))
				.await
				.unwrap(),
		);
	}
	let ca = pki.join("ca.pem");
	// Well under one handshake timeout (10 s): the idle clients are not in the way.
	let (code, body) =
		tokio::time::timeout(Duration::from_secs(5), get(&ca, port, "/health", None))
			.await
			.expect("a real client is served while 100 idle ones wait");
	assert_eq!((code, body.as_str()), (200, "ok"));
	drop(idle);
	let _ = stop.send(());
	server.await.unwrap().unwrap();
	std::fs::remove_dir_all(dir).ok();
}

/// Token checks for the bind guard (never asked to check a token).
fn auth_for_guard(dir: &Path) -> Arc<Auth> {
	let (_, public) = signing_key(dir, "guard");
	auth(vec![public], None)
}

/// The running API answers as its generated OpenAPI document says (issue #12). Schemathesis
/// (PyPI, pinned; scripts/setup.sh installs it, `PLATONE_SCHEMATHESIS` names it) derives requests
/// from the document, valid and invalid, with the token and without, and checks every answer:
/// no server error, a documented status, content type and headers, a body of the documented
/// schema, invalid input refused, valid input accepted, and authentication not ignored.
#[tokio::test(flavor = "multi_thread")]
async fn the_running_api_conforms_to_its_openapi_document() {
	let Some(schemathesis) = std::env::var_os("PLATONE_SCHEMATHESIS") else {
		eprintln!("skipped: PLATONE_SCHEMATHESIS unset (scripts/test.sh sets it)");
		return;
	};
	assert!(
		Path::new(&schemathesis).exists(),
		"{schemathesis:?} is missing: run scripts/setup.sh"
	);
	let dir = scratch("schemathesis");
	let (issuer_key, issuer_public) = signing_key(&dir, "issuer");
	let (store, _) = one_sealed_window(&dir).await;
	let api = Arc::new(Api {
		store,
		gateway: [9; 32],
		auth: Some(auth(vec![issuer_public], None)),
		metrics: Some(Arc::new(|| "# EOF\n".into())),
	});
	let (port, stop, server) = start(api, None).await;
	let valid = token(&issuer_key, "https://auth.dso.example", 900, "scd.read");
	let report = dir.join("report");
	let out = tokio::task::spawn_blocking(move || {
		Command::new(schemathesis)
			.args([
				"run",
				&format!("http://127.0.0.1:{port}/openapi.json"),
				"--checks",
				"all",
				"--header",
				&format!("Authorization: Bearer {valid}"),
				"--max-examples",
				"50",
				"--seed",
				"12",
				"--workers",
				"2",
				"--no-color",
				"--report-dir",
			])
			.arg(&report)
			.current_dir(&dir)
			.output()
			.expect("run schemathesis")
	})
	.await
	.unwrap();
	let _ = stop.send(());
	server.await.unwrap().unwrap();
	assert!(
		out.status.success(),
		"{}{}",
		String::from_utf8_lossy(&out.stdout),
		String::from_utf8_lossy(&out.stderr)
	);
}
