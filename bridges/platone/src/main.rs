//! `platone`: the off-chain roles of the Blockchain Access Layer behind one CLI.

use std::{
	net::{SocketAddr, ToSocketAddrs},
	path::PathBuf,
	sync::Arc,
	time::Duration,
};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use platone_ingest::{http, mqtt, sim, DataServer, Device, Directory, Metrics};
use platone_scd::{wire::ProofDocument, PostgresStore, SqliteStore, Store};
use serde::Deserialize;
use tracing::info;

mod broker;
mod verify;

#[derive(Parser)]
#[command(
	name = "platone",
	version,
	about = "Platone Blockchain Access Layer: ingest, simulator, …"
)]
struct Cli {
	/// Config file (TOML); built-in development defaults if absent.
	#[arg(long, short, global = true)]
	config: Option<PathBuf>,
	/// Broker host, overriding the config.
	#[arg(long, global = true)]
	broker_host: Option<String>,
	/// Broker port, overriding the config.
	#[arg(long, global = true)]
	broker_port: Option<u16>,
	/// SCD URL (`sqlite://path` or `postgres://…`), overriding the config.
	#[arg(long, global = true)]
	scd: Option<String>,
	/// Address of the HTTP ingest and metrics server, overriding the config.
	#[arg(long, global = true)]
	http_listen: Option<SocketAddr>,
	/// No HTTP server.
	#[arg(long, global = true, conflicts_with = "http_listen")]
	no_http: bool,
	/// Address of the SCD API (proofs, certificates), overriding the config.
	#[arg(long, global = true)]
	api_listen: Option<SocketAddr>,
	/// No SCD API.
	#[arg(long, global = true, conflicts_with = "api_listen")]
	no_api: bool,
	#[command(subcommand)]
	role: Role,
}

#[derive(Subcommand)]
enum Audit {
	/// Check the SCD's certification invariant over a range of windows: every stored
	/// measurement lies in exactly one certified window and its proof verifies; nothing
	/// certified is missing from the SCD; with `--rpc`, every certificate matches the chain's
	/// at its finalized head. Prints one line per difference. Exit codes: 0 no difference,
	/// 1 differences, 5 chain unreachable.
	Scd {
		/// First certification window start to check, Unix ms.
		#[arg(long)]
		from_ms: u64,
		/// Last certification window start to check, Unix ms; now if absent.
		#[arg(long)]
		to_ms: Option<u64>,
		/// How long after a window ends it may be unsealed or not yet certified (ms); the
		/// certifier's grace plus a minute if absent.
		#[arg(long)]
		pending_ms: Option<u64>,
		/// Compare with the chain at this node's finalized head.
		#[arg(long)]
		rpc: Option<String>,
		/// The gateway account (hex) whose certificates the SCD holds; the certifier key's
		/// account if absent.
		#[arg(long)]
		gateway: Option<String>,
	},
}

#[derive(Subcommand)]
enum Role {
	/// Ingest device data from MQTT into the SCD.
	Ingest,
	/// Simulate PMUs and meters publishing to the broker.
	Sim {
		/// Number of PMUs.
		#[arg(long)]
		pmus: Option<u32>,
		/// Samples per second per PMU.
		#[arg(long)]
		rate: Option<u32>,
		/// Number of meters.
		#[arg(long)]
		meters: Option<u32>,
		/// Stop after this many seconds.
		#[arg(long)]
		seconds: Option<u64>,
	},
	/// Run the embedded broker, ingest and the simulator together in one process.
	Run {
		/// Use the broker of `[broker]` instead of starting the embedded one.
		#[arg(long)]
		external_broker: bool,
	},
	/// Run only the embedded MQTT broker (loopback, no authentication: development).
	Broker,
	/// Close windows in the SCD and certify them on chain.
	Certify,
	/// Print a measurement's proof document (JSON) from the SCD.
	Proof {
		#[arg(long)]
		dataset: u64,
		#[arg(long)]
		timestamp_us: u64,
		#[arg(long)]
		sequence: u32,
	},
	/// Check a proof document against finalized chain state, trusting neither the SCD nor the
	/// RPC node's answers (with `--authority-set`, not even which block is finalized). Exit
	/// codes: 0 verified, 2 not certified on chain, 3 the proof does not match the certified
	/// root, 4 malformed input, 5 chain unreachable or its state proof invalid, 6 finality not
	/// proven against the pinned authority set.
	Verify {
		/// The proof document (JSON, as `platone proof` prints it); `-` for standard input.
		#[arg(required_unless_present = "api")]
		proof: Option<PathBuf>,
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// Fetch the proof from this SCD API (`https://host:port`) instead of a file.
		#[arg(long, requires_all = ["dataset", "timestamp_us", "sequence"], conflicts_with = "proof")]
		api: Option<String>,
		#[arg(long)]
		dataset: Option<u64>,
		#[arg(long)]
		timestamp_us: Option<u64>,
		#[arg(long)]
		sequence: Option<u32>,
		/// CA certificate (PEM) the API's TLS certificate must chain to; the system's roots if
		/// absent.
		#[arg(long)]
		ca: Option<PathBuf>,
		/// Client certificate chain (PEM) for an API that requires mutual TLS.
		#[arg(long, requires = "client_key")]
		client_cert: Option<PathBuf>,
		/// The client certificate's private key (PEM).
		#[arg(long, requires = "client_cert")]
		client_key: Option<PathBuf>,
		/// OAuth2 bearer token for the API.
		#[arg(long, env = "PLATONE_API_TOKEN", hide_env_values = true)]
		token: Option<String>,
		/// The GRANDPA authority set to trust (JSON, as `platone authority-set` prints it):
		/// finality is then checked from a justification, not taken from the node.
		#[arg(long)]
		authority_set: Option<PathBuf>,
	},
	/// Audit what others rely on: `platone audit scd`.
	Audit {
		#[command(subcommand)]
		what: Audit,
	},
	/// Print the chain's current GRANDPA authority set (JSON) at the node's finalized head, for
	/// auditors to compare across members' nodes and pin for `verify --authority-set`. With
	/// `--from`, the set is not taken from the node but reached from a pinned one through each
	/// validator change, every step proven by a justification of the set before it.
	AuthoritySet {
		/// Node JSON-RPC; `[certify] rpc` if absent.
		#[arg(long)]
		rpc: Option<String>,
		/// A pinned set (JSON) to follow forward from.
		#[arg(long)]
		from: Option<PathBuf>,
	},
	/// Print the effective configuration.
	Config,
}

/// What `platone config` prints in place of a secret.
const REDACTED: &str = "<redacted>";

/// The config file. Every field has a development default.
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct Config {
	scd: ScdConfig,
	broker: BrokerConfig,
	ingest: IngestConfig,
	http: HttpConfig,
	certify: CertifyConfig,
	api: ApiConfig,
	sim: SimConfig,
	/// Devices the gateway accepts. Absent: the development chain's `pmu-001`…`010` and
	/// `meter-001`…`004` (PoMs 1–14).
	devices: Option<Vec<Device>>,
	/// Identities that may send other meters' readings (`[[data_servers]]`: a head-end system
	/// or the DSO Data Server); every other sender speaks only for itself.
	#[serde(skip_serializing_if = "Vec::is_empty")]
	data_servers: Vec<DataServer>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct ScdConfig {
	url: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct BrokerConfig {
	host: String,
	port: u16,
	/// `platone run` starts an embedded broker (rumqttd) on `host:port`, which must be loopback.
	/// Off: connect to an existing broker, such as mosquitto with mutual TLS.
	embedded: bool,
	/// Mutual TLS: CA certificate, client certificate and key (PEM).
	ca: Option<PathBuf>,
	cert: Option<PathBuf>,
	key: Option<PathBuf>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct IngestConfig {
	gateway: String,
	client_id: Option<String>,
	batch_max: usize,
	linger_ms: u64,
	window_ms: u32,
	/// Messages queued for the writer, and parked beyond that, before reads pause.
	queue: usize,
	hold_max: usize,
	/// Payload bytes held between the broker and the SCD before reads pause (MiB).
	max_held_mib: usize,
	/// MQTT keep-alive (s).
	keep_alive_s: u64,
	/// How long dead letters are kept (days), and how many at most.
	dead_letter_retention_days: u64,
	dead_letter_max: u64,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct HttpConfig {
	/// HTTP batch ingest and metrics; off if absent. Off loopback it needs TLS and `auth`.
	listen: Option<SocketAddr>,
	/// Server certificate chain and key (PEM); plain HTTP without them, loopback only.
	tls_cert: Option<PathBuf>,
	tls_key: Option<PathBuf>,
	/// CA (PEM) that clients' certificates must chain to: mutual TLS besides the token.
	tls_client_ca: Option<PathBuf>,
	/// OAuth2 bearer-token checks; the token's subject is the sender (a device, or one of
	/// `[[data_servers]]`). Without them every request is the local operator's: loopback only.
	auth: Option<AuthConfig>,
}

impl Default for HttpConfig {
	fn default() -> Self {
		HttpConfig {
			listen: Some(SocketAddr::from(([127, 0, 0, 1], 8081))),
			tls_cert: None,
			tls_key: None,
			tls_client_ca: None,
			auth: None,
		}
	}
}

impl AuthConfig {
	fn load(&self) -> anyhow::Result<Arc<platone_http::Auth>> {
		Ok(Arc::new(platone_http::Auth::load(
			&platone_http::AuthConfig {
				issuer: self.issuer.clone(),
				audience: self.audience.clone(),
				public_keys: self.public_keys.clone(),
				jwks_url: self.jwks_url.clone(),
				jwks_tls: platone_http::ClientTls {
					ca: self.jwks_ca.clone(),
					identity: None,
				},
				jwks_refresh: Duration::from_secs(self.jwks_refresh_s.max(10)),
				algorithm: self.algorithm.clone(),
				scope: self.scope.clone(),
			},
		)?))
	}
}

/// A server's TLS files from its config section (`what`), if it has them.
fn tls_files(
	what: &str,
	cert: &Option<PathBuf>,
	key: &Option<PathBuf>,
	client_ca: &Option<PathBuf>,
) -> anyhow::Result<Option<platone_http::TlsFiles>> {
	match (cert, key) {
		(Some(cert), Some(key)) => Ok(Some(platone_http::TlsFiles {
			cert: cert.clone(),
			key: key.clone(),
			client_ca: client_ca.clone(),
		})),
		(None, None) if client_ca.is_none() => Ok(None),
		(None, None) => bail!("{what}.tls_client_ca needs {what}.tls_cert and {what}.tls_key"),
		_ => bail!("{what}.tls_cert and {what}.tls_key go together"),
	}
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct CertifyConfig {
	/// Node JSON-RPC.
	rpc: String,
	/// Allow plain `ws://` to a non-loopback node.
	insecure: bool,
	/// The gateway's key as a secret URI; development default `//Charlie`, the dev chain's
	/// gateway. Prefer `suri_file` anywhere else.
	suri: String,
	/// File holding the secret URI (overrides `suri`).
	suri_file: Option<PathBuf>,
	/// Wait after a window's end before sealing it.
	grace_ms: u64,
	/// Longest one round against the chain may take before it is retried (s).
	round_timeout_s: u64,
	/// `platone run` certifies too.
	enabled: bool,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct ApiConfig {
	/// The SCD API, served by the certifier (`certify`, `run`); off if absent.
	listen: Option<SocketAddr>,
	/// Server certificate chain and key (PEM); plain HTTP without them, loopback only.
	tls_cert: Option<PathBuf>,
	tls_key: Option<PathBuf>,
	/// CA (PEM) that clients' certificates must chain to: mutual TLS besides the token.
	tls_client_ca: Option<PathBuf>,
	/// OAuth2 bearer-token checks; without them, loopback only.
	auth: Option<AuthConfig>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct AuthConfig {
	issuer: String,
	audience: String,
	/// The authorisation server's public keys (PEM).
	#[serde(default)]
	public_keys: Vec<PathBuf>,
	/// Its JWKS (`jwks_uri`), fetched and refreshed; beside or instead of `public_keys`.
	jwks_url: Option<String>,
	/// CA (PEM) of the JWKS server; the system's roots if absent.
	jwks_ca: Option<PathBuf>,
	#[serde(default = "jwks_refresh_s")]
	jwks_refresh_s: u64,
	#[serde(default = "es256")]
	algorithm: String,
	scope: Option<String>,
}

fn es256() -> String {
	"ES256".into()
}

fn jwks_refresh_s() -> u64 {
	300
}

impl Default for ApiConfig {
	fn default() -> Self {
		ApiConfig {
			listen: Some(SocketAddr::from(([127, 0, 0, 1], 8082))),
			tls_cert: None,
			tls_key: None,
			tls_client_ca: None,
			auth: None,
		}
	}
}

impl Default for CertifyConfig {
	fn default() -> Self {
		CertifyConfig {
			rpc: "ws://127.0.0.1:9944".into(),
			insecure: false,
			suri: "//Charlie".into(),
			suri_file: None,
			grace_ms: 10_000,
			round_timeout_s: 120,
			enabled: true,
		}
	}
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
struct SimConfig {
	client_id: Option<String>,
	pmus: u32,
	rate_hz: u32,
	meters: u32,
	/// Simulator TLS identity (the broker's CA from `[broker]`).
	cert: Option<PathBuf>,
	key: Option<PathBuf>,
}

impl Default for ScdConfig {
	fn default() -> Self {
		ScdConfig {
			url: "sqlite://.tmp/scd.sqlite".into(),
		}
	}
}

impl Default for BrokerConfig {
	fn default() -> Self {
		BrokerConfig {
			host: "127.0.0.1".into(),
			port: 1883,
			embedded: true,
			ca: None,
			cert: None,
			key: None,
		}
	}
}

impl Default for IngestConfig {
	fn default() -> Self {
		IngestConfig {
			gateway: "charlie".into(),
			client_id: None,
			batch_max: 4_096,
			linger_ms: 20,
			window_ms: platone_ingest::DEFAULT_WINDOW_MS,
			queue: 16_384,
			hold_max: 65_536,
			max_held_mib: 256,
			keep_alive_s: 30,
			dead_letter_retention_days: 30,
			dead_letter_max: 1_000_000,
		}
	}
}

impl Default for SimConfig {
	fn default() -> Self {
		SimConfig {
			client_id: None,
			pmus: 10,
			rate_hz: 50,
			meters: 4,
			cert: None,
			key: None,
		}
	}
}

impl Config {
	fn load(cli: &Cli) -> anyhow::Result<Config> {
		let mut config: Config = match &cli.config {
			Some(path) => {
				let text = std::fs::read_to_string(path)
					.with_context(|| format!("reading {}", path.display()))?;
				toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
			}
			None => Config::default(),
		};
		if let Some(host) = &cli.broker_host {
			config.broker.host = host.clone();
		}
		if let Some(port) = cli.broker_port {
			config.broker.port = port;
		}
		if let Some(url) = &cli.scd {
			config.scd.url = url.clone();
		}
		if let Some(addr) = cli.http_listen {
			config.http.listen = Some(addr);
		}
		if cli.no_http {
			config.http.listen = None;
		}
		if let Some(addr) = cli.api_listen {
			config.api.listen = Some(addr);
		}
		if cli.no_api {
			config.api.listen = None;
		}
		Ok(config)
	}

	fn broker_addr(&self) -> anyhow::Result<SocketAddr> {
		(self.broker.host.as_str(), self.broker.port)
			.to_socket_addrs()
			.with_context(|| format!("resolving broker host {}", self.broker.host))?
			.next()
			.with_context(|| format!("no address for broker host {}", self.broker.host))
	}

	fn tls(
		&self,
		cert: &Option<PathBuf>,
		key: &Option<PathBuf>,
	) -> anyhow::Result<Option<mqtt::TlsFiles>> {
		match (&self.broker.ca, cert, key) {
			(None, None, None) => Ok(None),
			(Some(ca), Some(cert), Some(key)) => Ok(Some(mqtt::TlsFiles {
				ca: ca.clone(),
				cert: cert.clone(),
				key: key.clone(),
			})),
			_ => bail!("TLS needs broker.ca and a certificate and key"),
		}
	}

	fn directory(&self) -> Directory {
		match &self.devices {
			Some(devices) => Directory::new(devices.iter().cloned(), self.ingest.window_ms),
			None => Directory::new(
				Directory::development(10, 4).devices().cloned(),
				self.ingest.window_ms,
			),
		}
		.with_data_servers(self.data_servers.iter().cloned())
	}

	fn ingest(&self) -> anyhow::Result<mqtt::Config> {
		let mut c = mqtt::Config::new(&self.broker.host, self.broker.port, &self.ingest.gateway);
		if let Some(id) = &self.ingest.client_id {
			c.client_id = id.clone();
		}
		c.batch_max = self.ingest.batch_max.max(1);
		c.linger = Duration::from_millis(self.ingest.linger_ms);
		c.queue = self.ingest.queue.max(1);
		c.hold_max = self.ingest.hold_max.max(1);
		c.max_held_bytes = self.ingest.max_held_mib.saturating_mul(1 << 20);
		c.keep_alive = Duration::from_secs(self.ingest.keep_alive_s.max(1));
		c.tls = self.tls(&self.broker.cert, &self.broker.key)?;
		Ok(c)
	}

	fn certifier(&self) -> anyhow::Result<platone_certifier::Config> {
		let suri = match &self.certify.suri_file {
			Some(path) => std::fs::read_to_string(path)
				.with_context(|| format!("reading {}", path.display()))?
				.trim()
				.to_string(),
			None => self.certify.suri.clone(),
		};
		let mut c = platone_certifier::Config::new(&self.certify.rpc, suri);
		c.insecure = self.certify.insecure;
		c.grace = Duration::from_millis(self.certify.grace_ms);
		c.round_timeout = Duration::from_secs(self.certify.round_timeout_s.max(1));
		Ok(c)
	}

	fn sim(&self) -> anyhow::Result<sim::Config> {
		let mut c = sim::Config::new(&self.broker.host, self.broker.port, &self.ingest.gateway);
		if let Some(id) = &self.sim.client_id {
			c.client_id = id.clone();
		}
		c.pmus = self.sim.pmus;
		c.rate_hz = self.sim.rate_hz;
		c.meters = self.sim.meters;
		c.tls = self.tls(&self.sim.cert, &self.sim.key)?;
		Ok(c)
	}
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
	let ctrl_c = tokio::signal::ctrl_c();
	#[cfg(unix)]
	{
		let mut term =
			match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
				Ok(term) => term,
				Err(e) => {
					// Ctrl-C still stops it.
					tracing::warn!("no SIGTERM handler ({e}): stop with Ctrl-C (SIGINT)");
					let _ = ctrl_c.await;
					info!("shutdown requested");
					return;
				}
			};
		tokio::select! {
			_ = ctrl_c => {},
			_ = term.recv() => {},
		}
	}
	#[cfg(not(unix))]
	let _ = ctrl_c.await;
	info!("shutdown requested");
}

/// Which store-backed roles run in this process.
#[derive(Clone, Copy)]
struct Roles {
	ingest: bool,
	certify: bool,
}

async fn serve_with<S: Store>(config: &Config, store: S, roles: Roles) -> anyhow::Result<()> {
	let directory = Arc::new(config.directory());
	let metrics = Arc::new(Metrics::default());
	let store = Arc::new(store);
	// One shutdown for every role: MQTT commits and acks what it holds, HTTP finishes requests.
	let (stop, stopped) = tokio::sync::watch::channel(false);
	tokio::spawn(async move {
		shutdown_signal().await;
		let _ = stop.send(true);
	});
	let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
		let _ = rx.wait_for(|stop| *stop).await;
	};
	// Read once: it may come from a key file.
	let certifier_config = roles.certify.then(|| config.certifier()).transpose()?;
	// Served by the SCD API at /metrics.
	let certifier_metrics = Arc::new(platone_certifier::Metrics::default());
	let api = match (&certifier_config, config.api.listen) {
		(Some(c), Some(addr)) => {
			let gateway = platone_chain::account_of(&platone_chain::keypair(&c.suri)?);
			let auth = config.api.auth.as_ref().map(AuthConfig::load).transpose()?;
			let tls = tls_files(
				"api",
				&config.api.tls_cert,
				&config.api.tls_key,
				&config.api.tls_client_ca,
			)?;
			let metrics: Option<platone_api::MetricsSource> = certifier_config.as_ref().map(|_| {
				let m = certifier_metrics.clone();
				Arc::new(move || m.render()) as platone_api::MetricsSource
			});
			let state = Arc::new(platone_api::Api {
				store: store.clone(),
				gateway,
				auth,
				metrics,
			});
			// Bound here, so that a taken port or an exposed bind fails the process at start.
			let server = platone_api::bind(addr, tls.as_ref(), &state).await?;
			Some(tokio::spawn(platone_api::serve(
				server,
				state,
				until_stopped(stopped.clone()),
			)))
		}
		_ => None,
	};
	let certifier = certifier_config.map(|c| {
		tokio::spawn(platone_certifier::run(
			c,
			store.clone(),
			certifier_metrics.clone(),
			until_stopped(stopped.clone()),
		))
	});
	if roles.ingest {
		info!(devices = directory.len(), gateway = %config.ingest.gateway, "ingest starting");
		let http = match config.http.listen {
			Some(addr) => {
				let state = Arc::new(http::Ingest {
					store: store.clone(),
					directory: directory.clone(),
					metrics: metrics.clone(),
					max_future: Duration::from_secs(60),
					auth: config
						.http
						.auth
						.as_ref()
						.map(AuthConfig::load)
						.transpose()?,
				});
				let tls = tls_files(
					"http",
					&config.http.tls_cert,
					&config.http.tls_key,
					&config.http.tls_client_ca,
				)?;
				let server = http::bind(addr, tls.as_ref(), &state).await?;
				Some(tokio::spawn(http::serve(
					server,
					state,
					until_stopped(stopped.clone()),
				)))
			}
			None => None,
		};
		let pruner = tokio::spawn(platone_ingest::prune_dead_letters(
			store.clone(),
			Duration::from_secs(
				config
					.ingest
					.dead_letter_retention_days
					.saturating_mul(86_400),
			),
			config.ingest.dead_letter_max,
			Duration::from_secs(3_600),
			until_stopped(stopped.clone()),
		));
		mqtt::run(
			config.ingest()?,
			directory,
			store,
			metrics.clone(),
			until_stopped(stopped.clone()),
		)
		.await?;
		pruner.abort();
		if let Some(http) = http {
			http.await.context("HTTP task")??;
		}
		info!("ingest stopped:\n{}", metrics.render());
	}
	if let Some(certifier) = certifier {
		certifier.await.context("certifier task")??;
	}
	if let Some(api) = api {
		api.await.context("API task")??;
	}
	Ok(())
}

async fn serve(config: &Config, roles: Roles) -> anyhow::Result<()> {
	let url = &config.scd.url;
	if is_postgres(url) {
		serve_with(
			config,
			PostgresStore::open(url).await.context("opening the SCD")?,
			roles,
		)
		.await
	} else {
		serve_with(config, open_sqlite(url).await?, roles).await
	}
}

fn is_postgres(url: &str) -> bool {
	url.starts_with("postgres://") || url.starts_with("postgresql://")
}

async fn open_sqlite(url: &str) -> anyhow::Result<SqliteStore> {
	let path = url.strip_prefix("sqlite://").unwrap_or(url);
	if let Some(dir) = std::path::Path::new(path).parent() {
		std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
	}
	SqliteStore::open_url(url).await.context("opening the SCD")
}

/// The proof document of one measurement, from whichever backend the config names.
async fn proof_document(
	config: &Config,
	dataset: u64,
	timestamp_us: u64,
	sequence: u32,
) -> anyhow::Result<Option<ProofDocument>> {
	let gateway = platone_chain::account_of(&platone_chain::keypair(&config.certifier()?.suri)?);
	let url = &config.scd.url;
	let proven = if is_postgres(url) {
		let store = PostgresStore::open(url).await.context("opening the SCD")?;
		platone_scd::proof(&store, dataset, timestamp_us, sequence).await?
	} else {
		let store = open_sqlite(url).await?;
		platone_scd::proof(&store, dataset, timestamp_us, sequence).await?
	};
	Ok(proven.map(|p| ProofDocument::new(&p, &gateway)))
}

/// `platone audit scd`: the exit code.
async fn audit_scd(
	config: &Config,
	options: platone_scd::audit::Options,
	rpc: Option<String>,
	gateway: Option<String>,
) -> anyhow::Result<i32> {
	let url = &config.scd.url;
	let mut report = if is_postgres(url) {
		let store = PostgresStore::open(url).await.context("opening the SCD")?;
		platone_scd::audit::audit(&store, &options).await?
	} else {
		let store = open_sqlite(url).await?;
		platone_scd::audit::audit(&store, &options).await?
	};
	if let Some(rpc) = rpc {
		let gateway: [u8; 32] = match gateway {
			Some(hex) => hex::decode(hex.trim_start_matches("0x"))
				.ok()
				.and_then(|b| b.try_into().ok())
				.context("--gateway must be 32 bytes of hex")?,
			None => platone_chain::account_of(&platone_chain::keypair(&config.certifier()?.suri)?),
		};
		let chain = match platone_chain::Chain::connect(&rpc, config.certify.insecure).await {
			Ok(chain) => chain,
			Err(e) => {
				eprintln!("chain unreachable: {e}");
				return Ok(5);
			}
		};
		let (finalized, number) = chain.finalized().await?;
		for cert in std::mem::take(&mut report.certificates) {
			let on_chain = chain.certificate(&gateway, &cert.window, finalized).await?;
			let difference = match on_chain {
				None if cert.state == platone_scd::CertState::Certified => Some(format!(
					"certified by the SCD's record, absent at block #{number}"
				)),
				None => None,
				Some(c) if c.root != cert.root || c.leaves != cert.leaves() => Some(format!(
					"chain root {} over {} leaves, SCD root {} over {}",
					hex::encode(c.root),
					c.leaves,
					hex::encode(cert.root),
					cert.leaves()
				)),
				Some(_) => None,
			};
			if let Some(detail) = difference {
				report.differences.push(platone_scd::audit::Difference {
					finding: platone_scd::audit::Finding::Chain,
					window: cert.window,
					dataset: None,
					detail,
				});
			}
		}
	}
	for d in &report.differences {
		println!("{d}");
	}
	let counts: Vec<String> = report
		.counts()
		.into_iter()
		.map(|(f, n)| format!("{}={n}", f.as_str()))
		.collect();
	println!(
		"audited {} windows ({} certified), {} measurements proven, {} pending; {} differences{}{}",
		report.windows,
		report.certified,
		report.proven,
		report.pending,
		report.differences.len(),
		if counts.is_empty() { "" } else { ": " },
		counts.join(" ")
	);
	Ok(if report.is_clean() { 0 } else { 1 })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
	tracing_subscriber::fmt()
		.with_env_filter(
			tracing_subscriber::EnvFilter::try_from_default_env()
				.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn")),
		)
		.with_writer(std::io::stderr)
		.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
		.init();
	// Both rustls backends are in the build (the node's libp2p brings ring): name one.
	rustls::crypto::aws_lc_rs::default_provider()
		.install_default()
		.map_err(|_| anyhow::anyhow!("a TLS crypto provider was installed twice"))?;
	let cli = Cli::parse();
	let mut config = Config::load(&cli)?;
	match cli.role {
		Role::Ingest => {
			serve(
				&config,
				Roles {
					ingest: true,
					certify: false,
				},
			)
			.await
		}
		Role::Certify => {
			serve(
				&config,
				Roles {
					ingest: false,
					certify: true,
				},
			)
			.await
		}
		Role::Proof {
			dataset,
			timestamp_us,
			sequence,
		} => match proof_document(&config, dataset, timestamp_us, sequence).await? {
			Some(doc) => {
				println!("{}", serde_json::to_string_pretty(&doc)?);
				Ok(())
			}
			None => bail!("no such measurement, or its window is not sealed yet"),
		},
		Role::Verify {
			proof,
			rpc,
			api,
			dataset,
			timestamp_us,
			sequence,
			ca,
			client_cert,
			client_key,
			token,
			authority_set,
		} => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let source = match (api, dataset, timestamp_us, sequence) {
				(Some(url), Some(dataset), Some(timestamp_us), Some(sequence)) => {
					verify::Source::Api(verify::FromApi {
						url,
						dataset,
						timestamp_us,
						sequence,
						ca,
						client: client_cert.zip(client_key),
						token,
					})
				}
				_ => verify::Source::File(proof.unwrap_or_else(|| PathBuf::from("-"))),
			};
			let code = verify::run(
				&source,
				&rpc,
				config.certify.insecure,
				authority_set.as_deref(),
			)
			.await;
			std::process::exit(code);
		}
		Role::Audit {
			what: Audit::Scd {
				from_ms,
				to_ms,
				pending_ms,
				rpc,
				gateway,
			},
		} => {
			let now_ms = std::time::SystemTime::now()
				.duration_since(std::time::UNIX_EPOCH)
				.context("clock before 1970")?
				.as_millis() as u64;
			let options = platone_scd::audit::Options {
				from_ms,
				to_ms: to_ms.unwrap_or(now_ms),
				now_ms,
				pending_ms: pending_ms.unwrap_or(config.certify.grace_ms.saturating_add(60_000)),
			};
			let code = audit_scd(&config, options, rpc, gateway).await?;
			std::process::exit(code);
		}
		Role::AuthoritySet { rpc, from } => {
			let rpc = rpc.unwrap_or_else(|| config.certify.rpc.clone());
			let chain = platone_chain::Chain::connect(&rpc, config.certify.insecure).await?;
			let set = match from {
				Some(path) => {
					let pinned = verify::AuthoritySetFile::load(&path)
						.map_err(|(_, why)| anyhow::anyhow!(why))?;
					let (set, changes) = chain.follow_authority_set(&pinned).await?;
					info!(?changes, "followed the authority-set changes");
					set
				}
				None => {
					let (finalized, _) = chain.finalized().await?;
					chain.authority_set(finalized).await?
				}
			};
			println!(
				"{}",
				serde_json::to_string_pretty(&verify::AuthoritySetFile::from_set(&set))?
			);
			Ok(())
		}
		Role::Sim {
			pmus,
			rate,
			meters,
			seconds,
		} => {
			if let Some(p) = pmus {
				config.sim.pmus = p;
			}
			if let Some(r) = rate {
				config.sim.rate_hz = r;
			}
			if let Some(m) = meters {
				config.sim.meters = m;
			}
			let mut sim = config.sim()?;
			sim.duration = seconds.map(Duration::from_secs);
			let published = sim::run(sim, shutdown_signal()).await?;
			info!(published, "simulator stopped");
			Ok(())
		}
		Role::Broker => {
			broker::start(config.broker_addr()?)?;
			shutdown_signal().await;
			Ok(())
		}
		Role::Run { external_broker } => {
			if config.broker.embedded && !external_broker {
				broker::start(config.broker_addr()?)?;
			}
			let sim = config.sim()?;
			let simulator = tokio::spawn(sim::run(sim, shutdown_signal()));
			serve(
				&config,
				Roles {
					ingest: true,
					certify: config.certify.enabled,
				},
			)
			.await?;
			let published = simulator.await.context("simulator task")??;
			info!(published, "all roles stopped");
			Ok(())
		}
		Role::Config => {
			// The effective configuration, without its secret: a printed config ends up in
			// tickets and logs.
			if !config.certify.suri.is_empty() {
				config.certify.suri = REDACTED.into();
			}
			println!(
				"{}",
				toml::to_string_pretty(&config).context("rendering the config")?
			);
			Ok(())
		}
	}
}
