//! The API's OpenAPI document, generated from the handlers and the wire types (utoipa), served
//! at `/openapi.json`: it cannot drift from what the routes serve.

use std::sync::OnceLock;

use axum::{http::header, response::IntoResponse};
use utoipa::{
	openapi::security::{ClientCredentials, Flow, OAuth2, Scopes, SecurityScheme},
	OpenApi,
};

/// An error answer (RFC 9457 problem details, the members this API sets).
#[derive(utoipa::ToSchema)]
#[expect(
	dead_code,
	reason = "only its schema is used: platone_http::problem writes it"
)]
pub struct Problem {
	/// The HTTP status code.
	status: u16,
	/// What went wrong, for a person.
	detail: String,
}

#[derive(OpenApi)]
#[openapi(
	info(
		title = "Platone SCD API",
		version = "1",
		description = "Measurements of the Shared Customer Database with their inclusion proofs \
			and certificates, for checking against the Platone chain with `platone verify` \
			(FR-BAP-DM-03, FR-DSO-TP-DA-04). Byte strings are 0x-prefixed hex."
	),
	paths(crate::proof, crate::certificate, crate::metrics, openapi_json, health),
	modifiers(&OAuth2ClientCredentials),
)]
struct Doc;

struct OAuth2ClientCredentials;

impl utoipa::Modify for OAuth2ClientCredentials {
	fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
		let flow = Flow::ClientCredentials(ClientCredentials::new(
			"/token",
			Scopes::from_iter([("scd.read", "Read measurements, proofs and certificates")]),
		));
		openapi
			.components
			.get_or_insert_with(Default::default)
			.add_security_scheme(
				"oauth2",
				SecurityScheme::OAuth2(OAuth2::with_description(
					[flow],
					"Client-credentials grant at the operator's authorisation server (its token \
					 URL, not this API's); the API checks the JWT's signature, issuer, audience, \
					 expiry and, if configured, scope.",
				)),
			);
	}
}

/// The document, rendered once.
pub fn json() -> &'static str {
	static DOCUMENT: OnceLock<String> = OnceLock::new();
	DOCUMENT.get_or_init(|| Doc::openapi().to_json().unwrap_or_default())
}

/// This document.
#[utoipa::path(
	get,
	path = "/openapi.json",
	responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json")),
	security(()),
)]
pub async fn openapi_json() -> impl IntoResponse {
	([(header::CONTENT_TYPE, "application/json")], json())
}

/// Liveness.
#[utoipa::path(
	get,
	path = "/health",
	responses((status = 200, description = "Serving", body = String, content_type = "text/plain")),
	security(()),
)]
pub async fn health() -> &'static str {
	"ok"
}

#[cfg(test)]
mod tests {
	use serde_json::Value;

	/// Every route is described, with the schemas of what it serves.
	#[test]
	fn the_document_describes_every_route_and_body() {
		let doc: Value = serde_json::from_str(super::json()).expect("valid JSON");
		assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
		for path in [
			"/v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof",
			"/v1/certificates/{window_start_ms}/{window_ms}",
			"/metrics",
			"/openapi.json",
			"/health",
		] {
			assert!(doc["paths"][path]["get"].is_object(), "{path} undocumented");
		}
		let schemas = &doc["components"]["schemas"];
		let proof = &schemas["ProofDocument"]["properties"];
		for field in [
			"gateway",
			"record",
			"leaf_proof",
			"dataset_proof",
			"window_root",
		] {
			assert!(proof[field].is_object(), "ProofDocument.{field}: {proof}");
		}
		assert!(schemas["CertificateDoc"]["properties"]["state"].is_object());
		assert!(doc["components"]["securitySchemes"]["oauth2"].is_object());
	}
}
