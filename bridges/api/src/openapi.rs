//! The API's OpenAPI 3.0 description, served at `/openapi.json`.

use axum::{http::header, response::IntoResponse};

pub async fn document() -> impl IntoResponse {
	([(header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

const DOCUMENT: &str = r##"{
  "openapi": "3.0.3",
  "info": {
    "title": "Platone SCD API",
    "version": "1",
    "description": "Measurements of the Shared Customer Database with their inclusion proofs and certificates, for checking against the Platone chain with `platone verify` (FR-BAP-DM-03, FR-DSO-TP-DA-04). Byte strings are 0x-prefixed hex."
  },
  "components": {
    "securitySchemes": {
      "oauth2": {
        "type": "oauth2",
        "description": "Client-credentials grant at the operator's authorisation server; the API checks the JWT's signature, issuer, audience, expiry and, if configured, scope.",
        "flows": { "clientCredentials": { "tokenUrl": "/token (the operator's authorisation server)", "scopes": { "scd.read": "Read measurements, proofs and certificates" } } }
      }
    },
    "schemas": {
      "Window": {
        "type": "object", "required": ["start_ms", "duration_ms"],
        "properties": { "start_ms": { "type": "integer", "format": "int64" }, "duration_ms": { "type": "integer", "format": "int32" } }
      },
      "Path": {
        "type": "object", "required": ["leaf_index", "leaf_count", "siblings"],
        "properties": {
          "leaf_index": { "type": "integer", "format": "int64" },
          "leaf_count": { "type": "integer", "format": "int64" },
          "siblings": { "type": "array", "items": { "type": "string", "pattern": "^0x[0-9a-f]{64}$" } }
        }
      },
      "ChainRef": {
        "type": "object", "required": ["block_number", "block_hash", "event"],
        "properties": {
          "block_number": { "type": "integer", "format": "int64" },
          "block_hash": { "type": "string" },
          "extrinsic_index": { "type": "integer", "nullable": true },
          "event": { "type": "string", "enum": ["Certified", "AlreadyCertified", "Conflict", "state"] }
        }
      },
      "ProofDocument": {
        "type": "object",
        "required": ["version", "gateway", "dataset", "timestamp_us", "sequence", "late", "record", "window", "leaf_proof", "dataset_root", "dataset_proof", "window_root"],
        "properties": {
          "version": { "type": "integer", "enum": [1] },
          "gateway": { "type": "string", "description": "Account of the certifying gateway (32 bytes)." },
          "dataset": { "type": "integer", "format": "int64" },
          "timestamp_us": { "type": "integer", "format": "int64" },
          "sequence": { "type": "integer", "format": "int32" },
          "late": { "type": "boolean", "description": "Certified in a later window than its own (late-data rule)." },
          "record": { "type": "string", "description": "Canonical MeasurementRecord, SCALE." },
          "window": { "$ref": "#/components/schemas/Window" },
          "leaf_proof": { "$ref": "#/components/schemas/Path" },
          "dataset_root": {
            "type": "object", "required": ["dataset", "leaf_count", "root"],
            "properties": { "dataset": { "type": "integer" }, "leaf_count": { "type": "integer" }, "root": { "type": "string" } }
          },
          "dataset_proof": { "$ref": "#/components/schemas/Path" },
          "window_root": { "type": "string" },
          "certified_in": { "allOf": [{ "$ref": "#/components/schemas/ChainRef" }], "nullable": true }
        }
      },
      "Certificate": {
        "type": "object",
        "properties": {
          "gateway": { "type": "string" },
          "window": { "$ref": "#/components/schemas/Window" },
          "root": { "type": "string" },
          "state": { "type": "string", "enum": ["sealed", "certified", "conflict"] },
          "datasets": { "type": "array", "items": { "type": "object" } },
          "leaves": { "type": "integer" },
          "certified_in": { "allOf": [{ "$ref": "#/components/schemas/ChainRef" }], "nullable": true }
        }
      },
      "Problem": {
        "type": "object", "properties": { "status": { "type": "integer" }, "detail": { "type": "string" } }
      }
    }
  },
  "security": [{ "oauth2": ["scd.read"] }],
  "paths": {
    "/v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof": {
      "get": {
        "summary": "A measurement with its inclusion proof",
        "parameters": [
          { "name": "dataset", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } },
          { "name": "timestamp_us", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } },
          { "name": "sequence", "in": "path", "required": true, "schema": { "type": "integer", "format": "int32" } }
        ],
        "responses": {
          "200": { "description": "The proof document", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ProofDocument" } } } },
          "401": { "description": "No valid bearer token", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "404": { "description": "Unknown measurement, or its window is not sealed yet", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
          "503": { "description": "The SCD is unavailable", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
        }
      }
    },
    "/v1/certificates/{window_start_ms}/{window_ms}": {
      "get": {
        "summary": "A window's certificate as the SCD holds it",
        "parameters": [
          { "name": "window_start_ms", "in": "path", "required": true, "schema": { "type": "integer", "format": "int64" } },
          { "name": "window_ms", "in": "path", "required": true, "schema": { "type": "integer", "format": "int32" } }
        ],
        "responses": {
          "200": { "description": "The certificate", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Certificate" } } } },
          "401": { "description": "No valid bearer token" },
          "404": { "description": "No sealed window there" }
        }
      }
    },
    "/openapi.json": { "get": { "summary": "This document", "security": [], "responses": { "200": { "description": "OpenAPI 3.0" } } } },
    "/health": { "get": { "summary": "Liveness", "security": [], "responses": { "200": { "description": "ok" } } } }
  }
}"##;

#[cfg(test)]
mod tests {
	#[test]
	fn the_document_is_json() {
		let doc: serde_json::Value = serde_json::from_str(super::DOCUMENT).expect("valid JSON");
		assert_eq!(doc["openapi"], "3.0.3");
		assert!(
			doc["paths"]["/v1/measurements/{dataset}/{timestamp_us}/{sequence}/proof"].is_object()
		);
	}
}
