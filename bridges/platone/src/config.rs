//! The config file (`platone.example.toml` documents it) and what each role makes of it.

use std::{
	net::{SocketAddr, ToSocketAddrs},
	path::PathBuf,
	sync::Arc,
	time::Duration,
};

use anyhow::{bail, Context};
use platone_ingest::{mqtt, sim, DataServer, Device, Directory};
use serde::Deserialize;

use crate::cli::Cli;

/// What `platone config` prints in place of a secret.
const REDACTED: &str = "<redacted>";

/// The development chain's gateway key and topic name (`--dev` only).
const DEV_SURI: &str = "//Charlie";
const DEV_GATEWAY: &str = "charlie";
/// The development chain's market operator, the settlement worker's key (`--dev` only).
const DEV_SETTLE_SURI: &str = "//Alice";

/// A key's secret URI from its file (preferred) or the config itself; `None` if neither.
fn read_suri(file: &Option<PathBuf>, suri: &Option<String>) -> anyhow::Result<Option<String>> {
	match (file, suri) {
		(Some(path), _) => Ok(Some(
			std::fs::read_to_string(path)
				.with_context(|| format!("reading {}", path.display()))?
				.trim()
				.to_string(),
		)),
		(None, suri) => Ok(suri.clone()),
	}
}

fn parse_account(hex: &str) -> anyhow::Result<[u8; 32]> {
	hex::decode(hex.trim_start_matches("0x"))
		.ok()
		.and_then(|b| b.try_into().ok())
		.with_context(|| format!("gateway account {hex:?} is not 32 bytes of hex"))
}

/// The config file. Every field has a default; the development chain's key and devices are
/// used only in development mode (`--dev`).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
	/// `--dev`: the development defaults stand in for a missing key and device list.
	#[serde(skip)]
	pub dev: bool,
	pub scd: ScdConfig,
	pub broker: BrokerConfig,
	pub ingest: IngestConfig,
	pub http: HttpConfig,
	pub certify: CertifyConfig,
	pub api: ApiConfig,
	pub settle: SettleConfig,
	pub sim: SimConfig,
	/// Devices the gateway accepts. Required, except in development mode, where absent means
	/// the development chain's `pmu-001`…`010` and `meter-001`…`004` (PoMs 1–14).
	pub devices: Option<Vec<Device>>,
	/// Identities that may send other meters' readings (`[[data_servers]]`: a head-end system
	/// or the DSO Data Server); every other sender speaks only for itself.
	#[serde(skip_serializing_if = "Vec::is_empty")]
	pub data_servers: Vec<DataServer>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScdConfig {
	pub url: String,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerConfig {
	pub host: String,
	pub port: u16,
	/// `platone run` starts an embedded broker (rumqttd) on `host:port`, which must be loopback.
	/// Off: connect to an existing broker, such as mosquitto with mutual TLS.
	pub embedded: bool,
	/// Mutual TLS: CA certificate, client certificate and key (PEM).
	pub ca: Option<PathBuf>,
	pub cert: Option<PathBuf>,
	pub key: Option<PathBuf>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
	/// The gateway's name in topics (`platone/v1/<gateway>/…`). Required, except in
	/// development mode, where absent means `charlie`, the development chain's gateway.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub gateway: Option<String>,
	pub client_id: Option<String>,
	pub batch_max: usize,
	pub linger_ms: u64,
	pub window_ms: u32,
	/// Messages queued for the writer, and parked beyond that, before reads pause.
	pub queue: usize,
	pub hold_max: usize,
	/// Payload bytes held between the broker and the SCD before reads pause (MiB).
	pub max_held_mib: usize,
	/// MQTT keep-alive (s).
	pub keep_alive_s: u64,
	/// How long dead letters are kept (days), and how many at most.
	pub dead_letter_retention_days: u64,
	pub dead_letter_max: u64,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
	/// HTTP batch ingest and metrics; off if absent. Off loopback it needs TLS and `auth`.
	pub listen: Option<SocketAddr>,
	/// Server certificate chain and key (PEM); plain HTTP without them, loopback only.
	pub tls_cert: Option<PathBuf>,
	pub tls_key: Option<PathBuf>,
	/// CA (PEM) that clients' certificates must chain to: mutual TLS besides the token.
	pub tls_client_ca: Option<PathBuf>,
	/// OAuth2 bearer-token checks; the token's subject is the sender (a device, or one of
	/// `[[data_servers]]`). Without them every request is the local operator's: loopback only.
	pub auth: Option<AuthConfig>,
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
	pub fn load(&self) -> anyhow::Result<Arc<platone_http::Auth>> {
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
pub fn tls_files(
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
pub struct CertifyConfig {
	/// Node JSON-RPC.
	pub rpc: String,
	/// Allow plain `ws://` to a non-loopback node.
	pub insecure: bool,
	/// The gateway's key as a secret URI; prefer `suri_file`. In development mode, absent
	/// means `//Charlie`, the development chain's gateway.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub suri: Option<String>,
	/// File holding the secret URI (overrides `suri`).
	pub suri_file: Option<PathBuf>,
	/// The gateway's public account (32 bytes, hex): what `proof` and `audit` find its
	/// certificates by, without reading the key. The certifier checks its key against it.
	pub account: Option<String>,
	/// Wait after a window's end before sealing it.
	pub grace_ms: u64,
	/// Longest one round against the chain may take before it is retried (s).
	pub round_timeout_s: u64,
	/// `platone run` certifies too.
	pub enabled: bool,
}

/// The settlement worker (`platone settle`, and `platone run` with `enabled`).
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SettleConfig {
	/// The worker's key as a secret URI; prefer `suri_file`. Any active participant's (the
	/// market operator's, a DSO's, an aggregator's): the calls it makes prove everything they
	/// carry. Its own key, not the gateway's, so that its transactions and the certifier's
	/// never take the same nonce. In development mode, absent means `//Alice`, the development
	/// chain's market operator.
	#[serde(skip_serializing_if = "Option::is_none")]
	pub suri: Option<String>,
	/// File holding the secret URI (overrides `suri`).
	pub suri_file: Option<PathBuf>,
	/// Seconds between rounds over the sessions to settle.
	pub every_s: u64,
	/// `platone run` and `platone certify` settle every final session too.
	pub enabled: bool,
}

impl Default for SettleConfig {
	fn default() -> Self {
		SettleConfig {
			suri: None,
			suri_file: None,
			every_s: 30,
			enabled: false,
		}
	}
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
	/// The SCD API, served by the certifier (`certify`, `run`); off if absent.
	pub listen: Option<SocketAddr>,
	/// Server certificate chain and key (PEM); plain HTTP without them, loopback only.
	pub tls_cert: Option<PathBuf>,
	pub tls_key: Option<PathBuf>,
	/// CA (PEM) that clients' certificates must chain to: mutual TLS besides the token.
	pub tls_client_ca: Option<PathBuf>,
	/// OAuth2 bearer-token checks; without them, loopback only.
	pub auth: Option<AuthConfig>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
	pub issuer: String,
	pub audience: String,
	/// The authorisation server's public keys (PEM).
	#[serde(default)]
	pub public_keys: Vec<PathBuf>,
	/// Its JWKS (`jwks_uri`), fetched and refreshed; beside or instead of `public_keys`.
	pub jwks_url: Option<String>,
	/// CA (PEM) of the JWKS server; the system's roots if absent.
	pub jwks_ca: Option<PathBuf>,
	#[serde(default = "jwks_refresh_s")]
	pub jwks_refresh_s: u64,
	#[serde(default = "es256")]
	pub algorithm: String,
	pub scope: Option<String>,
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
			suri: None,
			suri_file: None,
			account: None,
			grace_ms: 10_000,
			round_timeout_s: 120,
			enabled: true,
		}
	}
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
	pub client_id: Option<String>,
	pub pmus: u32,
	pub rate_hz: u32,
	pub meters: u32,
	/// Simulator TLS identity (the broker's CA from `[broker]`).
	pub cert: Option<PathBuf>,
	pub key: Option<PathBuf>,
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
			gateway: None,
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
	pub fn load(cli: &Cli) -> anyhow::Result<Config> {
		let mut config: Config = match &cli.config {
			Some(path) => {
				let text = std::fs::read_to_string(path)
					.with_context(|| format!("reading {}", path.display()))?;
				toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
			}
			None => Config::default(),
		};
		config.dev = cli.dev;
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

	pub fn broker_addr(&self) -> anyhow::Result<SocketAddr> {
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

	pub fn directory(&self) -> anyhow::Result<Directory> {
		let directory = match &self.devices {
			Some(devices) => Directory::new(devices.iter().cloned(), self.ingest.window_ms),
			None if self.dev => Directory::new(
				Directory::development(10, 4).devices().cloned(),
				self.ingest.window_ms,
			),
			None => bail!(
				"no devices configured: list them as [[devices]] (or run with --dev for the \
				 development chain's)"
			),
		};
		Ok(directory.with_data_servers(self.data_servers.iter().cloned()))
	}

	/// The gateway's name in topics.
	pub fn gateway_name(&self) -> anyhow::Result<&str> {
		match &self.ingest.gateway {
			Some(name) => Ok(name),
			None if self.dev => Ok(DEV_GATEWAY),
			None => bail!(
				"no gateway name: set [ingest] gateway (or run with --dev for the development \
				 chain's)"
			),
		}
	}

	/// The gateway's public account: `explicit` (hex), else `[certify] account`, else in
	/// development mode, with no key configured, the development gateway's. Never reads the key.
	pub fn gateway_account(&self, explicit: Option<&str>) -> anyhow::Result<[u8; 32]> {
		match explicit.or(self.certify.account.as_deref()) {
			Some(hex) => parse_account(hex),
			// The development gateway's only where no other key is configured either.
			None if self.dev && self.certify.suri.is_none() && self.certify.suri_file.is_none() => {
				Ok(platone_chain::account_of(&platone_chain::keypair(
					DEV_SURI,
				)?))
			}
			None => bail!(
				"which gateway? set [certify] account (its public account, hex) or pass --gateway"
			),
		}
	}

	pub fn ingest(&self) -> anyhow::Result<mqtt::Config> {
		let mut c = mqtt::Config::new(&self.broker.host, self.broker.port, self.gateway_name()?);
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

	/// The gateway's signing key (`[certify] suri_file` or `suri`; the development gateway's
	/// under `--dev`), checked against `[certify] account`: the certifier's, and the settlement
	/// worker's, which works from the gateway's SCD.
	pub fn gateway_suri(&self) -> anyhow::Result<String> {
		let suri = match read_suri(&self.certify.suri_file, &self.certify.suri)? {
			Some(suri) => suri,
			None if self.dev => DEV_SURI.into(),
			None => bail!(
				"no gateway key: set [certify] suri_file (or run with --dev for the development \
				 chain's)"
			),
		};
		if let Some(account) = &self.certify.account {
			let key = platone_chain::account_of(&platone_chain::keypair(&suri)?);
			if key != parse_account(account)? {
				bail!(
					"[certify] account is {account}, but the key's account is 0x{}",
					hex::encode(key)
				);
			}
		}
		Ok(suri)
	}

	/// The settlement worker's signing key (`[settle] suri_file` or `suri`; the development
	/// market operator's under `--dev`). Refused if it is the gateway's: the two would race
	/// for nonces.
	pub fn settle_suri(&self) -> anyhow::Result<String> {
		let suri = match read_suri(&self.settle.suri_file, &self.settle.suri)? {
			Some(suri) => suri,
			None if self.dev => DEV_SETTLE_SURI.into(),
			None => bail!(
				"no settlement key: set [settle] suri_file to a participant's key (or run with \
				 --dev for the development chain's market operator)"
			),
		};
		let key = platone_chain::account_of(&platone_chain::keypair(&suri)?);
		let gateway = match self.gateway_suri() {
			Ok(gateway) => Some(platone_chain::account_of(&platone_chain::keypair(
				&gateway,
			)?)),
			Err(_) => self.gateway_account(None).ok(),
		};
		if gateway == Some(key) {
			bail!("[settle] names the gateway's key: give the settlement worker its own");
		}
		Ok(suri)
	}

	/// The certifier's settings, with its key.
	pub fn certifier(&self) -> anyhow::Result<platone_certifier::Config> {
		let suri = self.gateway_suri()?;
		let mut c = platone_certifier::Config::new(&self.certify.rpc, suri);
		c.insecure = self.certify.insecure;
		c.grace = Duration::from_millis(self.certify.grace_ms);
		c.round_timeout = Duration::from_secs(self.certify.round_timeout_s.max(1));
		Ok(c)
	}

	pub fn sim(&self) -> anyhow::Result<sim::Config> {
		let mut c = sim::Config::new(&self.broker.host, self.broker.port, self.gateway_name()?);
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

impl Config {
	/// The effective configuration without its secret, for `platone config`: a printed config
	/// ends up in tickets and logs.
	pub fn redacted(mut self) -> Self {
		if self.certify.suri.is_some() {
			self.certify.suri = Some(REDACTED.into());
		}
		if self.settle.suri.is_some() {
			self.settle.suri = Some(REDACTED.into());
		}
		self
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_settlement_worker_never_signs_as_the_gateway() {
		let mut c = Config {
			dev: true,
			..Config::default()
		};
		assert_eq!(c.settle_suri().expect("dev key"), DEV_SETTLE_SURI);
		c.settle.suri = Some(DEV_SURI.into());
		let refused = c.settle_suri().expect_err("the dev gateway's key");
		assert!(refused.to_string().contains("gateway"), "{refused}");
		c.certify.suri = Some("//Dave".into());
		c.settle.suri = Some("//Dave".into());
		assert!(c.settle_suri().is_err(), "the configured gateway's key");
		c.settle.suri = Some("//Eve".into());
		assert_eq!(c.settle_suri().expect("its own key"), "//Eve");
		c.dev = false;
		c.settle.suri = None;
		let none = c.settle_suri().expect_err("no key outside dev mode");
		assert!(none.to_string().contains("[settle] suri_file"), "{none}");
		assert_eq!(
			Config {
				settle: SettleConfig {
					suri: Some("//Eve".into()),
					..SettleConfig::default()
				},
				..Config::default()
			}
			.redacted()
			.settle
			.suri
			.as_deref(),
			Some(REDACTED)
		);
	}
}
