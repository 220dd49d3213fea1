//! HTTPS serving for the bridges' network interfaces (S-BAP-01): the SCD API and the HTTP
//! ingest bind through [`Server`], which
//!
//! - refuses a non-loopback address unless it has both TLS and authentication (plain text and
//!   anonymous access only on loopback);
//! - binds before it returns, so a taken port fails the process at start, not a task later;
//! - runs each TLS handshake in its own task, bounded in time, so that clients that connect and
//!   send nothing cannot stall anyone else;
//! - bounds open connections (handshakes included), closes connections idle too long, bounds
//!   each request's time, and bounds the request bytes held in flight (a request that would
//!   exceed the budget is answered `503` with `Retry-After`, before its body is read).
//!
//! [`authorize`] checks OAuth2 bearer tokens ([`Auth`]) and hands the token's subject to the
//! handlers as an [`Identity`].

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
	extract::{Request, State},
	http::{header, HeaderValue, StatusCode},
	middleware::{self, Next},
	response::{IntoResponse, Response},
	Router,
};
use tokio::sync::Semaphore;
use tracing::info;

mod auth;
pub mod client;
mod conn;
mod tls;

pub use auth::{Auth, AuthConfig};
pub use client::{Client, ClientError, ClientTls};
pub use tls::TlsFiles;

#[derive(Debug, thiserror::Error)]
pub enum Error {
	#[error("listener: {0}")]
	Io(#[from] std::io::Error),
	#[error("TLS setup: {0}")]
	Tls(String),
	#[error("token keys: {0}")]
	Keys(String),
	#[error(
		"refusing to serve {what} on {addr} without {missing}: configure it, or bind to loopback"
	)]
	Exposed {
		what: &'static str,
		addr: SocketAddr,
		missing: &'static str,
	},
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bounds on what clients may hold.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Open connections, TLS handshakes included; further clients wait in the kernel's backlog.
	pub max_connections: usize,
	pub handshake_timeout: Duration,
	/// A connection that sends nothing for this long is closed (keep-alive included).
	pub idle_timeout: Duration,
	/// Whole request, body included, to response.
	pub request_timeout: Duration,
	/// Largest request body.
	pub max_body: usize,
	/// Request bytes in flight over all connections: each request reserves its declared length
	/// (or `max_body` when it declares none) for as long as it runs.
	pub max_in_flight_bytes: usize,
}

impl Default for Limits {
	fn default() -> Self {
		Limits {
			max_connections: 1_024,
			handshake_timeout: Duration::from_secs(10),
			idle_timeout: Duration::from_secs(60),
			request_timeout: Duration::from_secs(60),
			max_body: 1 << 20,
			max_in_flight_bytes: 64 << 20,
		}
	}
}

/// The authenticated client of a request: the bearer token's subject (its OAuth2 client).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity(pub String);

/// A bound listener, not yet serving.
pub struct Server {
	what: &'static str,
	tcp: tokio::net::TcpListener,
	tls: Option<tokio_rustls::TlsAcceptor>,
	limits: Limits,
}

impl Server {
	/// Binds `addr` for the interface named `what`. Off loopback, both `tls` and
	/// authentication (`authenticated`: the caller checks tokens) are required.
	pub async fn bind(
		what: &'static str,
		addr: SocketAddr,
		tls: Option<&TlsFiles>,
		authenticated: bool,
		limits: Limits,
	) -> Result<Server> {
		if !addr.ip().is_loopback() {
			let missing = match (tls.is_some(), authenticated) {
				(true, true) => None,
				(false, true) => Some("TLS"),
				(true, false) => Some("authentication"),
				(false, false) => Some("TLS and authentication"),
			};
			if let Some(missing) = missing {
				return Err(Error::Exposed {
					what,
					addr,
					missing,
				});
			}
		}
		let tls = tls.map(tls::acceptor).transpose()?;
		let tcp = tokio::net::TcpListener::bind(addr).await?;
		Ok(Server {
			what,
			tcp,
			tls,
			limits,
		})
	}

	pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
		self.tcp.local_addr()
	}

	/// Serves `app` until `shutdown` resolves, then finishes the requests in progress. With
	/// `auth`, keeps its token keys fresh meanwhile.
	pub async fn serve(
		self,
		app: Router,
		auth: Option<Arc<Auth>>,
		shutdown: impl std::future::Future<Output = ()> + Send + 'static,
	) -> Result<()> {
		let local = self.tcp.local_addr()?;
		info!(
			"{} on {}://{local}",
			self.what,
			if self.tls.is_some() { "https" } else { "http" }
		);
		let budget = Arc::new(Budget {
			bytes: Semaphore::new(self.limits.max_in_flight_bytes.min(Semaphore::MAX_PERMITS)),
			limits: self.limits,
		});
		let app = app
			.layer(axum::extract::DefaultBodyLimit::max(self.limits.max_body))
			.layer(middleware::from_fn_with_state(budget, bounded));
		let (incoming, acceptor) = conn::Incoming::start(self.tcp, self.tls, self.limits, local);
		let serving = axum::serve(incoming, app).with_graceful_shutdown(shutdown);
		let refreshing = async {
			match &auth {
				Some(auth) => auth.keep_fresh().await,
				None => std::future::pending().await,
			}
		};
		let result = tokio::select! {
			result = async { serving.await } => result.map_err(Error::Io),
			() = refreshing => Ok(()),
		};
		acceptor.abort();
		result
	}
}

struct Budget {
	bytes: Semaphore,
	limits: Limits,
}

/// Time and in-flight bytes for each request.
async fn bounded(State(budget): State<Arc<Budget>>, request: Request, next: Next) -> Response {
	let declared = request
		.headers()
		.get(header::CONTENT_LENGTH)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.parse::<usize>().ok());
	let limits = budget.limits;
	let reserve = declared.unwrap_or(limits.max_body).min(limits.max_body);
	// At least one permit: a request without a body still counts against the budget.
	let Ok(permits) = u32::try_from(reserve.max(1)) else {
		return busy();
	};
	let Ok(_held) = budget.bytes.try_acquire_many(permits) else {
		return busy();
	};
	match tokio::time::timeout(limits.request_timeout, next.run(request)).await {
		Ok(response) => response,
		Err(_) => problem(StatusCode::REQUEST_TIMEOUT, "the request took too long"),
	}
}

fn busy() -> Response {
	let mut response = problem(
		StatusCode::SERVICE_UNAVAILABLE,
		"too many request bytes in flight; retry",
	);
	response
		.headers_mut()
		.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
	response
}

/// An RFC 9457 problem document.
pub fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
	(
		status,
		[(header::CONTENT_TYPE, "application/problem+json")],
		serde_json::json!({ "status": status.as_u16(), "detail": detail.into() }).to_string(),
	)
		.into_response()
}

/// Middleware: refuses requests without a valid bearer token (`401`), and hands the token's
/// subject to the handlers as an [`Identity`] extension.
pub async fn authorize(
	State(auth): State<Arc<Auth>>,
	mut request: Request,
	next: Next,
) -> Response {
	let header = request
		.headers()
		.get(header::AUTHORIZATION)
		.and_then(|v| v.to_str().ok());
	match auth.check(header).await {
		Ok(subject) => {
			tracing::debug!(%subject, path = %request.uri().path(), "authorised");
			request.extensions_mut().insert(Identity(subject));
			next.run(request).await
		}
		Err(why) => {
			let mut response = problem(StatusCode::UNAUTHORIZED, why);
			response
				.headers_mut()
				.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
			response
		}
	}
}
