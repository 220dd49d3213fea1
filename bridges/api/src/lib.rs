//! The SCD's HTTP API (FR-BAP-DM-03, FR-DSO-TP-DA-04): what an auditor or the DSOTP needs to
//! check a measurement against the chain with `platone verify`, without access to the database.
//!
//! - `GET /v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof`: the proof document.
//! - `GET /v1/certificates/{window_start_ms}/{window_ms}`: a window's certificate.
//! - `GET /openapi.json`, `GET /health`, `GET /metrics` (OpenMetrics; the certifier's): open.
//!
//! Every `/v1` request needs an OAuth2 bearer token (client-credentials grant at the utility's
//! authorisation server): a JWT signed with one of the configured public keys (PEM files, or the
//! server's JWKS fetched and refreshed from its URL; ES256 or RS256), from the configured issuer,
//! for the configured audience, unexpired, and with the required scope if one is set. Off
//! loopback the API serves only over TLS and with token checks (`platone_http::Server`).

use std::sync::Arc;

use axum::{
	extract::{rejection::PathRejection, Path, State},
	http::{header, StatusCode},
	middleware,
	response::{IntoResponse, Response},
	routing::get,
	Json, Router,
};
use platone_http::problem;
pub use platone_http::{
	Auth, AuthConfig, Client, ClientError, ClientTls, Error, Limits, Result, Server, TlsFiles,
};
use platone_scd::{
	wire::{ChainRefDoc, DatasetRootDoc, ProofDocument, WindowDoc},
	Store,
};
use tracing::warn;

mod openapi;

/// What the handlers share.
pub struct Api<S> {
	pub store: Arc<S>,
	/// The gateway account whose certificates this SCD holds.
	pub gateway: [u8; 32],
	/// `None`: no authentication (loopback development only).
	pub auth: Option<Arc<Auth>>,
	/// OpenMetrics text served at `GET /metrics` (the certifier's, where it runs beside).
	pub metrics: Option<MetricsSource>,
}

/// Renders metrics in the OpenMetrics text format.
pub type MetricsSource = Arc<dyn Fn() -> String + Send + Sync>;

pub fn router<S: Store>(api: Arc<Api<S>>) -> Router {
	let mut protected = Router::new()
		.route(
			"/v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof",
			get(proof::<S>),
		)
		.route(
			"/v1/certificates/{window_start_ms}/{window_ms}",
			get(certificate::<S>),
		);
	if let Some(auth) = &api.auth {
		protected = protected.route_layer(middleware::from_fn_with_state(
			auth.clone(),
			platone_http::authorize,
		));
	}
	Router::new()
		.route("/openapi.json", get(openapi::openapi_json))
		.route("/health", get(openapi::health))
		.route("/metrics", get(metrics::<S>))
		.merge(protected)
		.with_state(api)
}

/// The certifier's metrics (OpenMetrics text), where it runs beside the API.
#[utoipa::path(
	get,
	path = "/metrics",
	responses(
		(status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text"),
		(status = 404, description = "No certifier runs beside this API", body = openapi::Problem, content_type = "application/problem+json"),
	),
	security(()),
)]
async fn metrics<S: Store>(State(api): State<Arc<Api<S>>>) -> Response {
	match &api.metrics {
		Some(render) => (
			[(
				header::CONTENT_TYPE,
				"application/openmetrics-text; version=1.0.0; charset=utf-8",
			)],
			render(),
		)
			.into_response(),
		None => problem(StatusCode::NOT_FOUND, "no metrics here"),
	}
}

/// A measurement with its inclusion proof (FR-BAP-DM-03): the proof document `platone
/// verify` checks against finalized chain state.
#[utoipa::path(
	get,
	path = "/v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof",
	params(
		("dataset" = u64, Path, description = "The measurement's dataset (PoM)", example = 5),
		("timestamp_us" = u64, Path, description = "Device time, µs since the Unix epoch", example = 360_002_000),
		("sequence" = u32, Path, description = "Its sequence number at that time", example = 1),
	),
	responses(
		(status = 200, description = "The proof document", body = ProofDocument),
		(status = 400, description = "A path parameter is not a number in range", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 401, description = "No valid bearer token", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 404, description = "No such measurement, or its window is not sealed yet", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 503, description = "The SCD is unavailable", body = openapi::Problem, content_type = "application/problem+json"),
	),
	security(("oauth2" = ["scd.read"])),
)]
async fn proof<S: Store>(
	State(api): State<Arc<Api<S>>>,
	path: Result<Path<(u64, u64, u32)>, PathRejection>,
) -> Response {
	let (dataset, timestamp_us, sequence) = match path {
		Ok(Path(parts)) => parts,
		Err(e) => return problem(StatusCode::BAD_REQUEST, e.body_text()),
	};
	match platone_scd::proof(&*api.store, dataset, timestamp_us, sequence).await {
		Ok(Some(proven)) => Json(ProofDocument::new(&proven, &api.gateway)).into_response(),
		Ok(None) => problem(
			StatusCode::NOT_FOUND,
			"no such measurement, or its window is not sealed yet",
		),
		Err(e) => {
			warn!("proof: {e}");
			problem(StatusCode::SERVICE_UNAVAILABLE, "the SCD is unavailable")
		}
	}
}

/// A window's certificate as the SCD holds it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CertificateDoc {
	/// The gateway account that certifies the window (32 bytes, hex).
	pub gateway: String,
	pub window: WindowDoc,
	/// The window root (32 bytes, hex).
	pub root: String,
	pub state: CertificateState,
	/// Each dataset's root, ascending by dataset.
	pub datasets: Vec<DatasetRootDoc>,
	/// Measurements under the root.
	pub leaves: u64,
	/// Where the SCD recorded it on chain, once it has.
	pub certified_in: Option<ChainRefDoc>,
}

/// `sealed`: built, not yet on chain; `certified`: final on chain; `conflict`: the chain holds
/// another root for the window.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
	Sealed,
	Certified,
	Conflict,
}

impl CertificateDoc {
	fn new(c: &platone_scd::Certificate, gateway: &[u8; 32]) -> Self {
		use platone_scd::{wire::to_hex, CertState};
		CertificateDoc {
			gateway: to_hex(gateway),
			window: WindowDoc {
				start_ms: c.window.start_ms,
				duration_ms: c.window.duration_ms,
			},
			root: to_hex(&c.root),
			state: match c.state {
				CertState::Sealed => CertificateState::Sealed,
				CertState::Certified => CertificateState::Certified,
				CertState::Conflict => CertificateState::Conflict,
			},
			datasets: c
				.datasets
				.iter()
				.map(|d| DatasetRootDoc {
					dataset: d.dataset,
					leaf_count: d.leaf_count,
					root: to_hex(&d.root),
				})
				.collect(),
			leaves: c.leaves(),
			certified_in: c.chain.as_ref().map(|r| ChainRefDoc {
				block_number: r.block_number,
				block_hash: to_hex(&r.block_hash),
				extrinsic_index: r.extrinsic_index,
				event: r.event.clone(),
			}),
		}
	}
}

/// A window's certificate as the SCD holds it, to compare with the chain's.
#[utoipa::path(
	get,
	path = "/v1/certificates/{window_start_ms}/{window_ms}",
	params(
		("window_start_ms" = u64, Path, description = "Window start, ms since the Unix epoch", example = 360_000),
		("window_ms" = u32, Path, description = "Window length, ms", example = 180_000),
	),
	responses(
		(status = 200, description = "The certificate", body = CertificateDoc),
		(status = 400, description = "A path parameter is not a number in range", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 401, description = "No valid bearer token", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 404, description = "No sealed window there", body = openapi::Problem, content_type = "application/problem+json"),
		(status = 503, description = "The SCD is unavailable", body = openapi::Problem, content_type = "application/problem+json"),
	),
	security(("oauth2" = ["scd.read"])),
)]
async fn certificate<S: Store>(
	State(api): State<Arc<Api<S>>>,
	path: Result<Path<(u64, u32)>, PathRejection>,
) -> Response {
	let (start_ms, duration_ms) = match path {
		Ok(Path(parts)) => parts,
		Err(e) => return problem(StatusCode::BAD_REQUEST, e.body_text()),
	};
	let window = platone_primitives::Window {
		start_ms,
		duration_ms,
	};
	match api.store.certificate(window).await {
		Ok(Some(c)) => Json(CertificateDoc::new(&c, &api.gateway)).into_response(),
		Ok(None) => problem(StatusCode::NOT_FOUND, "no sealed window there"),
		Err(e) => {
			warn!("certificate: {e}");
			problem(StatusCode::SERVICE_UNAVAILABLE, "the SCD is unavailable")
		}
	}
}

/// Binds the API (failing now, not later, if it cannot) and returns the server to run: over TLS
/// with `tls`; off loopback only with TLS and token checks.
pub async fn bind<S: Store>(
	addr: std::net::SocketAddr,
	tls: Option<&TlsFiles>,
	api: &Api<S>,
) -> Result<Server> {
	// Proof documents are small: no request carries a body worth more than a few KiB.
	let limits = Limits {
		max_body: 64 << 10,
		..Limits::default()
	};
	Server::bind("SCD API", addr, tls, api.auth.is_some(), limits).await
}

/// Serves the API on a bound server until `shutdown` resolves.
pub async fn serve<S: Store>(
	server: Server,
	api: Arc<Api<S>>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
	let auth = api.auth.clone();
	server.serve(router(api), auth, shutdown).await
}
