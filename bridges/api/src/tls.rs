//! TLS for the API: rustls behind axum's `Listener`, handshakes bounded in time so that a
//! stalled client cannot hold the accept loop.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
	rustls::{
		pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
		server::WebPkiClientVerifier,
		RootCertStore, ServerConfig,
	},
	server::TlsStream,
	TlsAcceptor,
};
use tracing::debug;

use crate::{Error, Result};

/// The server's certificate chain and private key (PEM), and optionally the CA (PEM) that
/// clients' certificates must chain to: mutual TLS, on top of the bearer token, for machine
/// clients such as the DSO Technical Platform.
#[derive(Clone, Debug)]
pub struct TlsFiles {
	pub cert: PathBuf,
	pub key: PathBuf,
	pub client_ca: Option<PathBuf>,
}

pub struct TlsListener {
	tcp: TcpListener,
	acceptor: TlsAcceptor,
	handshake_timeout: Duration,
}

impl TlsListener {
	pub fn new(tcp: TcpListener, files: &TlsFiles, handshake_timeout: Duration) -> Result<Self> {
		let tls = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
		let certs = CertificateDer::pem_file_iter(&files.cert)
			.map_err(|e| tls(&format!("{}: {e}", files.cert.display())))?
			.collect::<std::result::Result<Vec<_>, _>>()
			.map_err(|e| tls(&format!("{}: {e}", files.cert.display())))?;
		let key = PrivateKeyDer::from_pem_file(&files.key)
			.map_err(|e| tls(&format!("{}: {e}", files.key.display())))?;
		let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
		let builder = ServerConfig::builder_with_provider(provider.clone())
			.with_safe_default_protocol_versions()
			.map_err(|e| tls(&e))?;
		let builder = match &files.client_ca {
			None => builder.with_no_client_auth(),
			Some(ca) => {
				let bad = |e: &dyn std::fmt::Display| tls(&format!("{}: {e}", ca.display()));
				let mut roots = RootCertStore::empty();
				for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
					roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
				}
				let verifier =
					WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
						.build()
						.map_err(|e| bad(&e))?;
				builder.with_client_cert_verifier(verifier)
			}
		};
		let config = builder.with_single_cert(certs, key).map_err(|e| tls(&e))?;
		Ok(TlsListener {
			tcp,
			acceptor: TlsAcceptor::from(Arc::new(config)),
			handshake_timeout,
		})
	}
}

impl axum::serve::Listener for TlsListener {
	type Io = TlsStream<TcpStream>;
	type Addr = SocketAddr;

	async fn accept(&mut self) -> (Self::Io, Self::Addr) {
		loop {
			let (tcp, peer) = match self.tcp.accept().await {
				Ok(c) => c,
				Err(e) => {
					debug!("accept: {e}");
					tokio::time::sleep(Duration::from_millis(50)).await;
					continue;
				}
			};
			match tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(tcp)).await {
				Ok(Ok(stream)) => return (stream, peer),
				Ok(Err(e)) => debug!(%peer, "TLS handshake: {e}"),
				Err(_) => debug!(%peer, "TLS handshake timed out"),
			}
		}
	}

	fn local_addr(&self) -> std::io::Result<Self::Addr> {
		self.tcp.local_addr()
	}
}
