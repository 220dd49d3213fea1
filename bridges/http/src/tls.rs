//! The server's TLS configuration: rustls with aws-lc, safe default protocol versions, and
//! optionally client certificates verified against a CA.

use std::{path::PathBuf, sync::Arc};

use tokio_rustls::{
	rustls::{
		pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
		server::WebPkiClientVerifier,
		RootCertStore, ServerConfig,
	},
	TlsAcceptor,
};

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

/// The acceptor for `files`.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
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
			let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
				.build()
				.map_err(|e| bad(&e))?;
			builder.with_client_cert_verifier(verifier)
		}
	};
	let config = builder.with_single_cert(certs, key).map_err(|e| tls(&e))?;
	Ok(TlsAcceptor::from(Arc::new(config)))
}
