//! HTTP ingest (P-BAP-02): batches from an external data server, such as the DSO Data
//! Server's 15-minute IEC 61968-9 MeterReadings, through the same validation and dead letters
//! as MQTT. A `200` means the batch is committed. Also serves the ingest metrics.
//!
//! - `POST /v1/meter-readings`: a MeterReadings document (any number of meters).
//! - `POST /v1/devices/{kind}/{device}/measurements`: a PMU or sensor payload.
//! - `GET /metrics` (Prometheus text), `GET /health`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
	body::Bytes,
	extract::{DefaultBodyLimit, Path, State},
	http::StatusCode,
	response::{IntoResponse, Response},
	routing::{get, post},
	Json, Router,
};
use platone_scd::Store;
use tracing::{error, info};

use crate::{
	mqtt::process, now_us, payload::Topic, Directory, Error, Kind, Limits, Metrics, Sender,
};

pub struct Ingest<S> {
	pub store: Arc<S>,
	pub directory: Arc<Directory>,
	pub metrics: Arc<Metrics>,
	pub max_future: Duration,
}

/// 16 MiB: a day of 15-minute readings for tens of thousands of meters per request.
const MAX_BODY: usize = 16 << 20;

pub fn router<S: Store>(state: Arc<Ingest<S>>) -> Router {
	Router::new()
		.route("/v1/meter-readings", post(meter_readings::<S>))
		.route(
			"/v1/devices/{kind}/{device}/measurements",
			post(device::<S>),
		)
		.route("/metrics", get(metrics::<S>))
		.route("/health", get(|| async { "ok" }))
		.layer(DefaultBodyLimit::max(MAX_BODY))
		.with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve<S: Store>(
	addr: SocketAddr,
	state: Arc<Ingest<S>>,
	shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
	let listener = tokio::net::TcpListener::bind(addr)
		.await
		.map_err(Error::Http)?;
	info!(
		"HTTP ingest on http://{}",
		listener.local_addr().map_err(Error::Http)?
	);
	axum::serve(listener, router(state))
		.with_graceful_shutdown(shutdown)
		.await
		.map_err(Error::Http)
}

async fn meter_readings<S: Store>(State(s): State<Arc<Ingest<S>>>, body: Bytes) -> Response {
	// The gateway segment is irrelevant here: meters are found by their mRID.
	ingest(
		&s,
		Sender::Local,
		&Topic::format("http", Kind::Meter, "batch"),
		"http:/v1/meter-readings",
		&body,
	)
	.await
}

async fn device<S: Store>(
	State(s): State<Arc<Ingest<S>>>,
	Path((kind, device)): Path<(String, String)>,
	body: Bytes,
) -> Response {
	let topic = format!("platone/v1/http/{kind}/{device}");
	let source = format!("http:/v1/devices/{kind}/{device}/measurements");
	ingest(&s, Sender::Local, &topic, &source, &body).await
}

async fn metrics<S: Store>(State(s): State<Arc<Ingest<S>>>) -> String {
	s.metrics.render()
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
	process(
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
			let status = if done.stored == 0 && !refused.is_empty() {
				StatusCode::UNPROCESSABLE_ENTITY
			} else {
				StatusCode::OK
			};
			let reply = serde_json::json!({
				"stored": done.stored,
				"duplicates": done.duplicates,
				"conflicts": done.conflicts,
				"late": done.late,
				"refused": refused,
			});
			(status, Json(reply)).into_response()
		}
		Err(e) => {
			error!("SCD commit failed: {e}");
			s.metrics
				.commit_errors
				.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
			(
				StatusCode::SERVICE_UNAVAILABLE,
				"the SCD is unavailable; retry",
			)
				.into_response()
		}
	}
}
