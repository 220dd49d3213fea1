//! The embedded MQTT broker (rumqttd) for the main job's defaults: nothing to install, plain TCP
//! on loopback, sessions and queues in memory. Deployments use a hardened broker with mutual TLS
//! and per-device ACLs (docs/ingest.md, "Brokers"); this one trusts every local client.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use anyhow::Context;
use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use tracing::info;

/// Starts the broker on its own threads and returns once it accepts connections.
pub fn start(listen: SocketAddr) -> anyhow::Result<()> {
	anyhow::ensure!(
		listen.ip().is_loopback(),
		"the embedded broker has no authentication: it listens on loopback only, not {listen}"
	);
	let server = ServerSettings {
		name: "platone-embedded".into(),
		listen,
		tls: None,
		next_connection_delay_ms: 1,
		connections: ConnectionSettings {
			connection_timeout_ms: 60_000,
			// A day of 15-minute CIM readings for one meter fits with room to spare.
			max_payload_size: 256 << 10,
			// Ingest acknowledges after each commit: the window must cover a whole batch.
			max_inflight_count: 10_000,
			auth: None,
			external_auth: None,
			dynamic_filters: true,
		},
	};
	let config = Config {
		id: 0,
		router: RouterConfig {
			max_connections: 10_010,
			max_outgoing_packet_count: 10_000,
			max_segment_size: 64 << 20,
			max_segment_count: 10,
			..RouterConfig::default()
		},
		v4: Some(HashMap::from([("1".to_string(), server)])),
		..Config::default()
	};
	let mut broker = Broker::new(config);
	std::thread::Builder::new()
		.name("mqtt-broker".into())
		.spawn(move || {
			if let Err(e) = broker.start() {
				tracing::error!("embedded broker stopped: {e}");
			}
		})
		.context("starting the broker thread")?;
	// Ready once it accepts TCP connections.
	for _ in 0..100 {
		if std::net::TcpStream::connect_timeout(&listen, Duration::from_millis(100)).is_ok() {
			info!("embedded MQTT broker on mqtt://{listen}");
			return Ok(());
		}
		std::thread::sleep(Duration::from_millis(50));
	}
	anyhow::bail!("the embedded broker did not start listening on {listen}")
}
