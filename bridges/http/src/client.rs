//! A small HTTPS client for what the bridges fetch: token keys (JWKS) from the authorisation
//! server, and proof documents for `platone verify --api`. hyper with rustls, trusting either a
//! given CA or the system's roots, optionally presenting a client certificate. Plain `http://`
//! only to loopback.

use std::{path::PathBuf, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client as HyperClient},
	rt::TokioExecutor,
};
use tokio_rustls::rustls::{
	self,
	pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
};

/// Largest body accepted: proof documents and key sets are a few KiB.
const MAX_BODY: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	/// Our own configuration: CA, client certificate, URL.
	#[error("{0}")]
	Config(String),
	/// The server could not be reached or did not answer with HTTP.
	#[error("{0}")]
	Unreachable(String),
}

/// How to reach a server.
#[derive(Clone, Debug, Default)]
pub struct ClientTls {
	/// CA certificates (PEM) the server's certificate must chain to; the system's roots if absent.
	pub ca: Option<PathBuf>,
	/// Client certificate chain and key (PEM), for servers that require mutual TLS.
	pub identity: Option<(PathBuf, PathBuf)>,
}

pub struct Client {
	inner: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
	timeout: Duration,
}

impl Client {
	pub fn new(tls: &ClientTls, timeout: Duration) -> Result<Client, ClientError> {
		let config = |e: &dyn std::fmt::Display, p: &std::path::Path| {
			ClientError::Config(format!("{}: {e}", p.display()))
		};
		let mut roots = rustls::RootCertStore::empty();
		match &tls.ca {
			Some(ca) => {
				for cert in CertificateDer::pem_file_iter(ca).map_err(|e| config(&e, ca))? {
					roots
						.add(cert.map_err(|e| config(&e, ca))?)
						.map_err(|e| config(&e, ca))?;
				}
			}
			None => {
				let native = rustls_native_certs::load_native_certs();
				roots.add_parsable_certificates(native.certs);
			}
		}
		let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
			rustls::crypto::aws_lc_rs::default_provider(),
		))
		.with_safe_default_protocol_versions()
		.map_err(|e| ClientError::Config(e.to_string()))?
		.with_root_certificates(roots);
		let rustls_config = match &tls.identity {
			None => builder.with_no_client_auth(),
			Some((cert, key)) => {
				let chain = CertificateDer::pem_file_iter(cert)
					.map_err(|e| config(&e, cert))?
					.collect::<Result<Vec<_>, _>>()
					.map_err(|e| config(&e, cert))?;
				let key = PrivateKeyDer::from_pem_file(key).map_err(|e| config(&e, key))?;
				builder
					.with_client_auth_cert(chain, key)
					.map_err(|e| config(&e, cert))?
			}
		};
		let connector = hyper_rustls::HttpsConnectorBuilder::new()
			.with_tls_config(rustls_config)
			.https_or_http()
			.enable_http1()
			.build();
		Ok(Client {
			inner: HyperClient::builder(TokioExecutor::new()).build(connector),
			timeout,
		})
	}

	/// GET `url` with an optional bearer token: (status, body).
	pub async fn get(
		&self,
		url: &str,
		bearer: Option<&str>,
	) -> Result<(u16, Vec<u8>), ClientError> {
		let uri: hyper::Uri = url
			.parse()
			.map_err(|e| ClientError::Config(format!("URL {url}: {e}")))?;
		match uri.scheme_str() {
			Some("https") => {}
			Some("http") if is_loopback(uri.host().unwrap_or_default()) => {}
			_ => {
				return Err(ClientError::Config(format!(
					"URL {url}: https:// (plain http:// to loopback only)"
				)))
			}
		}
		let mut request = hyper::Request::get(uri);
		if let Some(token) = bearer {
			request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
		}
		let request = request
			.body(Empty::new())
			.map_err(|e| ClientError::Config(e.to_string()))?;
		let unreachable =
			|e: &dyn std::fmt::Display| ClientError::Unreachable(format!("{url}: {e}"));
		let exchange = async {
			let response = self.inner.request(request).await.map_err(|e| {
				// The connector's error is the useful one (refused, handshake failure).
				let mut why = e.to_string();
				let mut source = std::error::Error::source(&e);
				while let Some(s) = source {
					why = format!("{why}: {s}");
					source = s.source();
				}
				unreachable(&why)
			})?;
			let status = response.status().as_u16();
			let body = Limited::new(response.into_body(), MAX_BODY)
				.collect()
				.await
				.map_err(|e| unreachable(&e))?
				.to_bytes();
			Ok((status, body.to_vec()))
		};
		tokio::time::timeout(self.timeout, exchange)
			.await
			.map_err(|_| unreachable(&"timed out"))?
	}
}

fn is_loopback(host: &str) -> bool {
	host == "localhost"
		|| host
			.trim_start_matches('[')
			.trim_end_matches(']')
			.parse::<std::net::IpAddr>()
			.is_ok_and(|ip| ip.is_loopback())
}
