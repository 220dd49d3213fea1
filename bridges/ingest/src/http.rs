//! HTTP ingest (P-BAP-02): batches from an external data server, such as the DSO Data
//! Server's 15-minute IEC 61968-9 MeterReadings, through the same validation and dead letters
//! as MQTT. A `200` means the batch is committed. Also serves the ingest metrics.
//!
//! - `POST /v1/meter-readings`: a MeterReadings document (any number of meters).
//! - `POST /v1/devices/{kind}/{device}/measurements`: a PMU or sensor payload.
//! - `GET /metrics` (OpenMetrics text), `GET /health`: open.
//!
//! With token checks configured, `/v1` needs an OAuth2 bearer token, and its subject is the
//! sender: a device sends only its own data, a configured data server its meters'
//! ([`Directory::may_send`]); anything else is dead-lettered as `forbidden` and answered `403`.
//! Off loopback the server requires TLS and token checks (S-BAP-01, [`platone_http::Server`]).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
	body::Bytes,
	extract::{Path, State},
	http::StatusCode,
	middleware,
	response::{IntoResponse, Response},
	routing::{get, post},
	Extension, Json, Router,
};
use platone_http::{Auth, Identity, Server, TlsFiles};
use platone_scd::{Reason, Store};

use crate::{
	mqtt::process, now_us, payload::Topic, Directory, Error, Kind, Limits, Metrics, Sender,
};

pub struct Ingest<S> {
	pub store: Arc<S>,
	pub directory: Arc<Directory>,
	pub metrics: Arc<Metrics>,
	pub max_future: Duration,
	/// `None`: no token checks, every request is the local operator's (loopback only).
	pub auth: Option<Arc<Auth>>,
}

/// 16 MiB: a day of 15-minute readings for tens of thousands of meters per request.
const MAX_BODY: usize = 16 << 20;

/// Request bytes held at once: four of the largest documents. Parsing holds each document as a
/// JSON tree too, several times its size, so this bounds ingest's HTTP memory to a few hundred
/// MiB whatever the number of clients; more are answered `503` with `Retry-After`.
const MAX_IN_FLIGHT_BYTES: usize = 4 * MAX_BODY;

pub fn router<S: Store>(state: Arc<Ingest<S>>) -> Router {
	let mut v1 = Router::new()
		.route("/v1/meter-readings", post(meter_readings::<S>))
		.route(
			"/v1/devices/{kind}/{device}/measurements",
			post(device::<S>),
		);
	if let Some(auth) = &state.auth {
		v1 = v1.route_layer(middleware::from_fn_with_state(
			auth.clone(),
			platone_http::authorize,
		));
	}
	Router::new()
		.route("/metrics", get(metrics::<S>))
		.route("/health", get(|| async { "ok" }))
		.merge(v1)
		.with_state(state)
}

/// Binds the HTTP ingest (failing now if it cannot): over TLS with `tls`; off loopback only
/// with TLS and token checks.
pub async fn bind<S: Store>(
	addr: SocketAddr,
	tls: Option<&TlsFiles>,
	state: &Ingest<S>,
) -> Result<Server, Error> {
	let limits = platone_http::Limits {
		max_body: MAX_BODY,
		max_in_flight_bytes: MAX_IN_FLIGHT_BYTES,
		..platone_http::Limits::default()
	};
	Server::bind("HTTP ingest", addr, tls, state.auth.is_some(), limits)
		.await
		.map_err(Error::Serve)
}

/// Serves on a bound server until `shutdown` resolves.
pub async fn serve<S: Store>(
	server: Server,
	state: Arc<Ingest<S>>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
	let auth = state.auth.clone();
	server
		.serve(router(state), auth, shutdown)
		.await
		.map_err(Error::Serve)
}

/// The request's sender: the token's subject, or the local operator without token checks.
fn sender(identity: &Option<Extension<Identity>>) -> Sender<'_> {
	match identity {
		Some(Extension(Identity(who))) => Sender::Identity(who),
		None => Sender::Local,
	}
}

async fn meter_readings<S: Store>(
	State(s): State<Arc<Ingest<S>>>,
	identity: Option<Extension<Identity>>,
	body: Bytes,
) -> Response {
	// The gateway segment is irrelevant here: meters are found by their mRID.
	ingest(
		&s,
		sender(&identity),
		&Topic::format("http", Kind::Meter, "batch"),
		"http:/v1/meter-readings",
		&body,
	)
	.await
}

async fn device<S: Store>(
	State(s): State<Arc<Ingest<S>>>,
	Path((kind, device)): Path<(String, String)>,
	identity: Option<Extension<Identity>>,
	body: Bytes,
) -> Response {
	let topic = format!("platone/v1/http/{kind}/{device}");
	let source = format!("http:/v1/devices/{kind}/{device}/measurements");
	ingest(&s, sender(&identity), &topic, &source, &body).await
}

async fn metrics<S: Store>(State(s): State<Arc<Ingest<S>>>) -> Response {
	(
		[(
			axum::http::header::CONTENT_TYPE,
			crate::metrics::CONTENT_TYPE,
		)],
		s.metrics.render(),
	)
		.into_response()
}

async fn ingest<S: Store>(
	s: &Ingest<S>,
	sender: Sender<'_>,
	topic: &str,
	source: &str,
	body: &[u8],
) -> Response {
	let now = now_us();
	let limits = Limits {
		now_us: now,
		max_future_us: s.max_future.as_micros() as u64,
	};
	let (mut measurements, mut dead) = (Vec::new(), Vec::new());
	let document = process(
		topic,
		sender,
		body,
		&s.directory,
		&limits,
		now / 1000,
		&mut measurements,
		&mut dead,
	);
	for d in &mut dead {
		d.source = source.to_string();
	}
	match s.store.commit(&measurements, &dead).await {
		Ok(done) => {
			s.metrics.committed(1, &done, &measurements, &dead);
			let refused: Vec<_> = dead
				.iter()
				.map(|d| serde_json::json!({"reason": d.reason.as_str(), "detail": d.detail}))
				.collect();
			let status = if done.stored > 0 || refused.is_empty() {
				StatusCode::OK
			} else if dead.iter().all(|d| d.reason == Reason::Forbidden) {
				StatusCode::FORBIDDEN
			} else {
				StatusCode::UNPROCESSABLE_ENTITY
			};
			let mut reply = serde_json::json!({
				"stored": done.stored,
				"duplicates": done.duplicates,
				"conflicts": done.conflicts,
				"late": done.late,
				"refused": refused,
			});
			if let Some(document) = &document {
				reply["message_id"] = serde_json::json!(document.message_id);
				reply["meters"] = meters(document);
			}
			(status, Json(reply)).into_response()
		}
		Err(e) => {
			s.metrics.commit_failed(&e, 1);
			let (status, detail) = if e.is_disk_full() {
				(
					StatusCode::INSUFFICIENT_STORAGE,
					"the SCD's disk is full: nothing was stored; retry later",
				)
			} else {
				(
					StatusCode::SERVICE_UNAVAILABLE,
					"the SCD is unavailable: nothing was stored; retry",
				)
			};
			let mut response = platone_http::problem(status, detail);
			response.headers_mut().insert(
				axum::http::header::RETRY_AFTER,
				axum::http::HeaderValue::from_static("10"),
			);
			response
		}
	}
}

/// Per meter and reading, what was taken (stored now, or held already: the totals say which)
/// and what was refused, and why.
fn meters(document: &crate::cim::Document) -> serde_json::Value {
	let meters: Vec<_> = document
		.meters
		.iter()
		.map(|m| {
			let refusal =
				|r: &crate::Refusal| serde_json::json!({"reason": r.reason.as_str(), "detail": r.detail});
			match &m.refused {
				Some(r) => serde_json::json!({"mrid": m.mrid, "refused": refusal(r)}),
				None => serde_json::json!({
					"mrid": m.mrid,
					"readings": m.readings.iter().map(|r| {
						let mut one = serde_json::json!({
							"reading_type": r.reading_type,
							"time": r.time,
						});
						match &r.result {
							Ok(record) => {
								one["taken"] = serde_json::json!({
									"timestamp_us": record.timestamp_us,
									"sequence": record.sequence,
								});
							}
							Err(e) => one["refused"] = refusal(e),
						}
						one
					}).collect::<Vec<_>>(),
				}),
			}
		})
		.collect();
	serde_json::Value::Array(meters)
}
